"""A recipe applied: an old CRM's export cleaned, previewed, and written as the file the new
CRM imports (the recipe itself: :mod:`planner.migration.recipe`).

:func:`check_columns` checks that a file has the columns the recipe reads. :func:`clean`
applies the recipe to the rows of :func:`planner.migration.reading.read_table`;
:func:`preview` shows a few rows before and after; :func:`apply_file` writes the new CRM's file
(CSV or XLSX) and the problems found.

How, at any size: each rule's transformation runs in Python (:func:`transforms.clean_value`,
the one implementation of it) on the DISTINCT values of its source columns, never on every
row; polars joins the results back to the rows by a 64-bit hash of the values (or by the
values themselves should two distinct values share a hash) and streams them to the file. A
lookup keeps only the values the rule changes or finds a problem in, so that a column of
clean text costs next to no memory. Python's cost follows the distinct values, memory the
distinct values changed; the rows are streamed.

Rows: a row whose required field ends up empty or with a problem is rejected (listed, with
its row number, field and reason); a problem in an optional field empties that field and is
listed as a warning. Then, if the recipe says so, rows that share the normalised value of any
``merge.by`` field are merged into one (see :class:`planner.migration.recipe.Merge`).
Messages never quote a value.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from planner.core.errors import ValidationError
from planner.core.i18n import counted, quoted
from planner.core.sheets import EXCEL_MAX_ROWS, FORMULA_START, neutralise
from planner.migration import transforms
from planner.migration.reading import ROW, read_table
from planner.migration.transforms import REQUIRED_EMPTY, clean_value

if TYPE_CHECKING:
    from planner.migration.recipe import Merge, Recipe

REJECT, WARNING = "reject", "warning"
KINDS = ("csv", "xlsx")
SLICE = 100_000  # distinct values cleaned at a time
# The text a spreadsheet takes for a formula (sheets.FORMULA_START), as a regular expression
# both Python and polars read; and the cells spared: a number, an E.164 phone number ("+7912…",
# "-5"), which a spreadsheet reads as the number it is and a CRM's import must get unchanged.
FORMULA_FIRST = "^[" + "".join(c for c in FORMULA_START if c != "-") + "-]"
PLAIN_NUMBER = r"^[+-]?[0-9]+(?:\.[0-9]+)?$"


def check_columns(recipe: Recipe, columns: Sequence[str]) -> None:
    """Raise ValidationError naming every column a rule reads that ``columns`` lacks, under
    "rules[i].from"; a column that differs only in case or spaces is suggested."""
    present = set(columns)
    loose = {transforms.folded(column): column for column in columns}
    errors: dict[str, list[str]] = {}
    missing: list[str] = []
    for i, rule in enumerate(recipe.rules):
        for source in rule.sources:
            if source not in present:
                near = loose.get(transforms.folded(source))
                hint = f"; did you mean {quoted(near)}?" if near else "."
                errors.setdefault(f"rules[{i}].from", []).append(
                    f"The file has no column {quoted(source)}{hint}"
                )
                missing.append(source)
    if missing:
        listed = ", ".join(quoted(column) for column in dict.fromkeys(missing))
        raise ValidationError(
            f"The file lacks {counted(len(set(missing)), 'column')} the recipe reads: {listed}.",
            errors,
        )


# --- cleaning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergedGroup:
    """Rows merged into one: ``into`` the row that stays, ``rows`` all of them (file order),
    ``by`` the fields they share."""

    into: int
    rows: tuple[int, ...]
    by: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {"into": self.into, "rows": list(self.rows), "by": list(self.by)}


@dataclass(frozen=True)
class Cleaned:
    """A file cleaned by a recipe. ``rows`` scans the rows kept (lazily, as long as the frame
    cleaned can be read): :data:`ROW`, then one text column per field in the recipe's order.
    ``problems`` lists every problem: row, field, kind, severity (reject, warning), message.
    ``merges`` lists the merged groups; ``counts`` holds rows (read), kept, rejected, merged
    (rows merged into another), groups, warnings and rejects by kind, changed by field.
    ``parts()`` gives the kept rows as ``rows`` does, a slice of the file at a time (what
    :func:`apply_file` writes: memory follows a slice)."""

    fields: tuple[str, ...]
    rows: pl.LazyFrame
    problems: pl.DataFrame
    merges: tuple[MergedGroup, ...]
    counts: dict[str, Any]
    parts: Callable[[], Iterator[pl.DataFrame]]


def _v(i: int) -> str:
    return f"__v{i}"


def _k(i: int) -> str:
    return f"__k{i}"


def _m(i: int) -> str:
    return f"__m{i}"


def _c(i: int) -> str:
    return f"__c{i}"


REJECTED = "__rejected"


def _annotate(recipe: Recipe, frame: pl.LazyFrame) -> pl.LazyFrame:
    """Every row of ``frame`` with, per field i, its value, problem kind, message and
    whether it changed (``__v{i}``, ``__k{i}``, ``__m{i}``, ``__c{i}``), and
    :data:`REJECTED` (see the module)."""
    return _annotator(recipe, frame)(frame)


Annotate = Callable[[pl.LazyFrame], pl.LazyFrame]


def _annotator(recipe: Recipe, frame: pl.LazyFrame) -> Annotate:
    """:func:`_annotate` for any part of ``frame``, the lookups made once from all of it."""
    fields = recipe.fields
    rules = {rule.field: rule for rule in recipe.rules}
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, field in enumerate(fields):
        rule = rules.get(field.name)
        if rule and rule.sources:
            groups.setdefault(rule.sources, []).append(i)
    hits: dict[int, str] = {}
    lookups = []
    for g, (sources, members) in enumerate(groups.items()):
        cleaners = [
            (i, transforms.cleaner(rules[fields[i].name], fields[i], recipe.region))
            for i in members
        ]
        lookups.append(_lookup(frame, sources, cleaners, g))
        for i in members:
            hits[i] = f"__hit{g}" if len(sources) == 1 else ""
    columns: list[pl.Expr] = []
    required: list[pl.Expr] = []
    for i, field in enumerate(fields):
        rule = rules.get(field.name)
        if rule is None or not rule.sources:
            fixed = clean_value(rule, field, (), recipe.region) if rule else transforms.EMPTY
            value = pl.lit(fixed.value, pl.String)
            kind, text, changed = pl.lit(None, pl.String), pl.lit(None, pl.String), pl.lit(False)
        else:
            value, kind, text = pl.col(_v(i)), pl.col(_k(i)), pl.col(_m(i))
            changed = pl.col(_c(i)).fill_null(False)
            if hits[i]:  # values the rule leaves as they are are not in the lookup
                value = pl.when(pl.col(hits[i])).then(value).otherwise(pl.col(rule.sources[0]))
        if field.required:
            empty = kind.is_null() & value.is_null()
            kind = pl.when(empty).then(pl.lit(REQUIRED_EMPTY)).otherwise(kind)
            text = pl.when(empty).then(pl.lit(transforms.message(REQUIRED_EMPTY))).otherwise(text)
            required.append(pl.col(_k(i)).is_not_null())
        columns += [value.alias(_v(i)), kind.alias(_k(i)), text.alias(_m(i)), changed.alias(_c(i))]
    rejected = pl.any_horizontal(required) if required else pl.lit(False)

    def annotate(source: pl.LazyFrame) -> pl.LazyFrame:
        query = source.select(ROW, *recipe.columns)
        for lookup, key, on in lookups:
            if key is not None:
                query = query.with_columns(key)
            query = query.join(
                lookup.lazy(), on=on, how="left", maintain_order="left", nulls_equal=True
            )
        return query.select(ROW, *columns).with_columns(rejected.alias(REJECTED))

    return annotate


def _hashes_unique(keys: pl.Series) -> bool:
    """Whether the hashes of distinct values are distinct too (else the values are joined)."""
    return keys.n_unique() == keys.len()


def _lookup(
    frame: pl.LazyFrame,
    sources: tuple[str, ...],
    cleaners: list[tuple[int, transforms.Cleaner]],
    g: int,
) -> tuple[pl.DataFrame, pl.Expr | None, str | list[str]]:
    """The outcomes of ``cleaners`` on every distinct value (tuple) of ``sources``, keyed by
    the values' hash (or the values, should two share one): the lookup, the key expression to
    add to the rows (None: none) and the columns to join on. With one source column, values
    every cleaner leaves as they are, without a problem, are left out (the row keeps its
    cell)."""
    single = len(sources) == 1
    key_name = f"__key{g}"
    hashed = pl.col(sources[0]) if single else pl.struct(list(sources))
    key = hashed.hash(seed=0).alias(key_name)
    distinct = frame.select(sources).unique().collect(engine="streaming")
    keys = distinct.select(key)
    by_hash = _hashes_unique(keys[key_name])
    names = [name for i, _ in cleaners for name in (_v(i), _k(i), _m(i), _c(i))]
    schema = {name: pl.Boolean if name.startswith("__c") else pl.String for name in names}
    parts = [(keys if by_hash else distinct).clear().hstack(pl.DataFrame(schema=schema))]
    for start in range(0, distinct.height, SLICE):
        chunk = distinct.slice(start, SLICE)
        found: dict[str, list[Any]] = {name: [] for name in names}
        kept: list[int] = []
        cells = [chunk[source].to_list() for source in sources]
        for n, values in enumerate(zip(*cells, strict=True)):
            outcomes = [(i, run(values)) for i, run in cleaners]
            if single and all(o.kind is None and o.value == values[0] for _, o in outcomes):
                continue
            kept.append(n)
            for i, o in outcomes:
                found[_v(i)].append(o.value)
                found[_k(i)].append(o.kind)
                found[_m(i)].append(o.problem)
                found[_c(i)].append(o.changed)
        picked = (keys.slice(start, SLICE) if by_hash else chunk)[kept]
        parts.append(picked.hstack(pl.DataFrame(found, schema=schema)))
    lookup = pl.concat(parts).with_columns(pl.lit(True).alias(f"__hit{g}"))
    if by_hash:
        return lookup, key, key_name
    return lookup, None, list(sources)


def clean(recipe: Recipe, frame: pl.LazyFrame) -> Cleaned:
    """``recipe`` applied to ``frame`` (text columns by header, empty cells null, and
    :data:`ROW`, as :func:`planner.migration.reading.read_table` gives it): see the module.
    The columns must be there (:func:`check_columns`). Reads the frame a few times, streaming;
    the result's ``rows`` read it again."""
    annotate = _annotator(recipe, frame)
    n = len(recipe.fields)
    listed: list[pl.DataFrame] = []
    totals = pl.DataFrame()
    for within in _slices(frame):
        part = annotate(frame.filter(within)).collect()
        listed.append(_problems(recipe, part))
        sums = part.select(
            pl.len().alias("rows"),
            pl.col(REJECTED).sum().alias("rejected"),
            *[pl.col(_c(i)).sum().alias(str(i)) for i in range(n)],
        )
        totals = sums if totals.is_empty() else pl.concat([totals, sums])
    problems = pl.concat(listed) if listed else pl.DataFrame(schema=PROBLEM_SCHEMA)
    totals = totals.sum() if not totals.is_empty() else None
    merges: tuple[MergedGroup, ...] = ()
    away = 0
    finish: Annotate = lambda kept: kept  # noqa: E731
    if recipe.merge:
        finish, merges, away = _merged(recipe, recipe.merge, annotate, frame)
    names = tuple(field.name for field in recipe.fields)

    def kept(source: pl.LazyFrame) -> pl.LazyFrame:
        rows = finish(annotate(source).filter(~pl.col(REJECTED)))
        return rows.select(ROW, *[pl.col(_v(i)).alias(name) for i, name in enumerate(names)])

    def parts() -> Iterator[pl.DataFrame]:
        for within in _slices(frame):
            yield kept(frame.filter(within)).collect()

    rows = int(totals["rows"][0]) if totals is not None else 0
    rejected = int(totals["rejected"][0] or 0) if totals is not None else 0
    by_kind: dict[str, dict[str, int]] = {WARNING: {}, REJECT: {}}
    for severity, kind, count in (
        problems.group_by("severity", "kind").len().sort("severity", "kind").iter_rows()
    ):
        by_kind[severity][kind] = count
    counts = {
        "rows": rows,
        "kept": rows - rejected - away,
        "rejected": rejected,
        "merged": away,
        "groups": len(merges),
        "warnings": by_kind[WARNING],
        "rejects": by_kind[REJECT],
        "changed": {
            f.name: int(totals[str(i)][0] or 0) if totals is not None else 0
            for i, f in enumerate(recipe.fields)
        },
    }
    return Cleaned(names, kept(frame), problems, merges, counts, parts)


PROBLEM_SCHEMA = {
    "row": pl.Int64,
    "field": pl.String,
    "kind": pl.String,
    "severity": pl.String,
    "message": pl.String,
}


def _problems(recipe: Recipe, found: pl.DataFrame) -> pl.DataFrame:
    """Every problem of the annotated rows ``found``: row, field, kind, severity, message; by
    row, then in the order of the fields."""
    if not recipe.fields:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    listed = [
        found.filter(pl.col(_k(i)).is_not_null()).select(
            pl.col(ROW).cast(pl.Int64).alias("row"),
            pl.lit(field.name, pl.String).alias("field"),
            pl.col(_k(i)).alias("kind"),
            pl.lit(REJECT if field.required else WARNING, pl.String).alias("severity"),
            pl.col(_m(i)).alias("message"),
            pl.lit(i, pl.Int32).alias("order"),
        )
        for i, field in enumerate(recipe.fields)
    ]
    return pl.concat(listed).sort("row", "order").drop("order")


SLICE_ROWS = 100_000  # rows cleaned, counted or written at a time


def _slices(frame: pl.LazyFrame) -> Iterator[pl.Expr]:
    """Filters of :data:`SLICE_ROWS` rows of ``frame`` each, in file order: on the columnar
    file's :data:`ROW`, so that a slice is read alone and memory follows a slice and the
    lookups, never the file."""
    last = frame.select(pl.col(ROW).max()).collect()[ROW][0]
    for start in range(0, int(last or 0), SLICE_ROWS):
        yield (pl.col(ROW) > start) & (pl.col(ROW) <= start + SLICE_ROWS)


def _merged(
    recipe: Recipe, merge: Merge, annotate: Annotate, frame: pl.LazyFrame
) -> tuple[Annotate, tuple[MergedGroup, ...], int]:
    """The kept rows with every group of rows that share a normalised ``by`` value merged
    into its winner's row; the groups; how many rows were merged away. Only values that occur
    twice (by their hash) are looked at in Python."""
    index = {field.name: i for i, field in enumerate(recipe.fields)}
    by = [index[name] for name in merge.by]
    norm = {i: pl.col(_v(i)).str.strip_chars().str.to_lowercase() for i in by}
    filled = {i: norm[i].is_not_null() & (norm[i] != "") for i in by}
    hashed = [pl.when(filled[i]).then(norm[i].hash(seed=0)).alias(str(i)) for i in by]
    hashes = pl.concat(
        annotate(frame.filter(within)).filter(~pl.col(REJECTED)).select(hashed).collect()
        for within in _slices(frame)
    )
    twice: list[pl.Expr] = []
    for i in by:
        repeated = hashes[str(i)].drop_nulls().value_counts().filter(pl.col("count") > 1)
        twice.append(filled[i] & norm[i].hash(seed=0).is_in(repeated[str(i)].implode()))
    n = len(recipe.fields)
    wanted = [ROW, *[pl.col(_v(j)) for j in range(n)], *[norm[i].alias(f"__n{i}") for i in by]]
    candidates = pl.concat(
        annotate(frame.filter(within))
        .filter(~pl.col(REJECTED) & pl.any_horizontal(twice))
        .select(wanted)
        .collect()
        for within in _slices(frame)
    )
    parent: dict[int, int] = {}

    def root(row: int) -> int:
        while parent.setdefault(row, row) != row:
            parent[row] = parent[parent[row]]
            row = parent[row]
        return row

    rows = candidates[ROW].to_list()
    for i in by:
        first: dict[str, int] = {}
        for row, value in zip(rows, candidates[f"__n{i}"].to_list(), strict=True):
            if value:
                other = first.setdefault(value, row)
                parent[root(row)] = root(other)
    members: dict[int, list[int]] = {}
    for row in rows:
        members.setdefault(root(row), []).append(row)
    records = {row: candidates.row(n_, named=False)[1 : n + 1] for n_, row in enumerate(rows)}
    normalised = {i: dict(zip(rows, candidates[f"__n{i}"].to_list(), strict=True)) for i in by}
    groups: list[MergedGroup] = []
    survivors: list[list[Any]] = []
    for group in sorted(sorted(g) for g in members.values() if len(g) > 1):
        winner = _winner(group, records, merge.winner)
        survivors.append([winner, *_merged_values(group, winner, records, recipe, merge)])
        shared = tuple(
            recipe.fields[i].name
            for i in by
            if len({normalised[i][r] for r in group if normalised[i][r]})
            < len([r for r in group if normalised[i][r]])
        )
        groups.append(MergedGroup(winner, tuple(group), shared))
    away = [row for group in groups for row in group.rows if row != group.into]
    if not groups:
        return lambda kept: kept, (), 0
    table = pl.DataFrame(
        survivors,
        schema={ROW: candidates.schema[ROW], **{f"__s{j}": pl.String for j in range(n)}},
        orient="row",
    ).with_columns(pl.lit(True).alias("__merged"))
    gone = pl.Series(away, dtype=candidates.schema[ROW])

    def finish(kept: pl.LazyFrame) -> pl.LazyFrame:
        return (
            kept.filter(~pl.col(ROW).is_in(gone.implode()))
            .join(table.lazy(), on=ROW, how="left", maintain_order="left")
            .with_columns(
                pl.when(pl.col("__merged"))
                .then(pl.col(f"__s{j}"))
                .otherwise(pl.col(_v(j)))
                .alias(_v(j))
                for j in range(n)
            )
        )

    return finish, tuple(groups), len(away)


def _winner(group: list[int], records: dict[int, tuple[Any, ...]], how: str) -> int:
    if how == "first":
        return group[0]
    if how == "last":
        return group[-1]
    filled = {row: sum(v is not None for v in records[row]) for row in group}
    return max(group, key=lambda row: (filled[row], -row))


def _merged_values(
    group: list[int],
    winner: int,
    records: dict[int, tuple[Any, ...]],
    recipe: Recipe,
    merge: Merge,
) -> list[str | None]:
    values: list[str | None] = []
    for j, field in enumerate(recipe.fields):
        policy = merge.fields.get(field.name, "winner")
        column = [records[row][j] for row in group]
        filled = [v for v in column if v is not None]
        if policy == "first_non_empty":
            values.append(filled[0] if filled else None)
        elif policy == "last_non_empty":
            values.append(filled[-1] if filled else None)
        elif policy == "longest":
            values.append(max(filled, key=len) if filled else None)
        else:
            values.append(records[winner][j])
    return values


# --- preview and the written file ------------------------------------------------------------


def preview(
    recipe: Recipe, frame: pl.LazyFrame, *, limit: int = 50, rows: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """The first ``limit`` rows of ``frame`` in file order (or the ``rows`` chosen, at most
    ``limit`` of them), each with its source cells (the columns the recipe reads), its
    cleaned fields, whether it is rejected and its problems. Rows are cleaned one by one as
    :func:`clean` cleans them (merging is for the whole file and is not previewed)."""
    picked = frame.filter(pl.col(ROW).is_in(list(rows))) if rows is not None else frame
    small = picked.sort(ROW).head(limit).collect()
    annotated = _annotate(replace(recipe, merge=None), small.lazy()).collect()
    read = [column for column in recipe.columns if column in small.columns]
    found: list[dict[str, Any]] = []
    for n, row in enumerate(annotated.iter_rows(named=True)):
        problems = [
            {
                "field": field.name,
                "kind": row[_k(i)],
                "severity": REJECT if field.required else WARNING,
                "message": row[_m(i)],
            }
            for i, field in enumerate(recipe.fields)
            if row[_k(i)] is not None
        ]
        found.append(
            {
                "row": row[ROW],
                "source": {column: small[column][n] for column in read},
                "fields": {field.name: row[_v(i)] for i, field in enumerate(recipe.fields)},
                "rejected": row[REJECTED],
                "problems": problems,
            }
        )
    return found


@dataclass(frozen=True)
class Summary:
    """What :func:`apply_file` wrote: the ``target``'s name, its ``kind`` and the counts of
    :class:`Cleaned`, and the merged groups."""

    target: str
    kind: str
    counts: dict[str, Any]
    merges: tuple[MergedGroup, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {
            "target": self.target,
            "kind": self.kind,
            **copy.deepcopy(self.counts),
            "merges": [group.as_dict() for group in self.merges],
        }


_PLAIN = re.compile(PLAIN_NUMBER)


def spreadsheet_safe(value: Any) -> Any:
    """A cell as written: :func:`planner.core.sheets.neutralise`, except for a plain number
    or an E.164 phone number ("+79123456789", "-5"), which no spreadsheet runs and which the
    new CRM must get as it is."""
    if isinstance(value, str) and _PLAIN.match(value):
        return value
    return neutralise(value)


def _safe(column: str) -> pl.Expr:
    """:func:`spreadsheet_safe` as a polars expression."""
    cell = pl.col(column)
    risky = cell.str.contains(FORMULA_FIRST) & ~cell.str.contains(PLAIN_NUMBER)
    return pl.when(risky).then(pl.lit("'") + cell).otherwise(cell).alias(column)


def apply_file(
    recipe: Recipe,
    source: Path,
    target: Path,
    *,
    filename: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
    rejects: Path | None = None,
    kind: str = "csv",
) -> Summary:
    """Clean the export at ``source`` (read as :func:`reading.read_table` reads it, named
    ``filename`` in messages) and write ``target``: the kept rows, one column per field
    (header: the fields' names), every cell made spreadsheet-safe (:func:`spreadsheet_safe`);
    as CSV (UTF-8 with a byte order mark, ",", CRLF; streamed) or XLSX (``kind``). With
    ``rejects``, every problem is written there as CSV: row, field, severity, kind, reason.
    The same input gives the same CSV, byte for byte.

    Raises ValidationError as ``read_table`` does, for columns the file lacks
    (:func:`check_columns`), an unknown ``kind``, and more rows than a worksheet holds."""
    if kind not in KINDS:
        raise ValidationError(f"Unknown kind {quoted(kind)}: one of {', '.join(KINDS)}.")
    with read_table(
        source,
        filename or source.name,
        encoding=encoding,
        delimiter=delimiter,
        header_row=header_row,
    ) as table:
        check_columns(recipe, table.columns)
        cleaned = clean(recipe, table.frame)
        if kind == "xlsx" and cleaned.counts["kept"] >= EXCEL_MAX_ROWS:
            raise ValidationError(
                f"{counted(cleaned.counts['kept'], 'row')} are more than a worksheet holds: "
                "write CSV."
            )
        names = list(cleaned.fields)
        parts = (part.select(_safe(name) for name in names) for part in cleaned.parts())
        _write(parts, names, target, kind)
        if rejects is not None:
            listed = cleaned.problems.select(
                pl.col("row").cast(pl.String),
                "field",
                "severity",
                "kind",
                pl.col("message").alias("reason"),
            )
            safe = listed.select(_safe(c) for c in listed.columns)
            _write(iter([safe]), safe.columns, rejects, "csv")
    return Summary(target.name, kind, cleaned.counts, cleaned.merges)


def _write(parts: Iterator[pl.DataFrame], header: list[str], target: Path, kind: str) -> None:
    """Write the rows of ``parts`` under ``header`` to ``target`` through a partial file, so
    that a failure leaves no half-written file behind."""
    partial = target.with_name(f".{target.name}.part")
    try:
        if kind == "csv":
            _write_csv(parts, header, partial)
        else:
            _write_xlsx(parts, header, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _write_csv(parts: Iterator[pl.DataFrame], header: list[str], target: Path) -> None:
    with target.open("wb") as out:
        out.write("\ufeff".encode())
        pl.DataFrame(schema=dict.fromkeys(header, pl.String)).write_csv(out, line_terminator="\r\n")
        for part in parts:
            part.write_csv(out, include_header=False, line_terminator="\r\n")


def _write_xlsx(parts: Iterator[pl.DataFrame], header: list[str], target: Path) -> None:
    from openpyxl import Workbook  # imported when a workbook is written (30 MB a process)
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Import")
    sheet.append(header)
    for part in parts:
        for row in part.iter_rows():
            sheet.append(
                [ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v for v in row]
            )
    book.save(target)
