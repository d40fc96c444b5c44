"""A recipe applied: an old CRM's export cleaned, previewed, and written as the file the new
CRM imports (the recipe itself: :mod:`planner.migration.recipe`).

:func:`check_columns` checks that a file has the columns the recipe reads. :func:`clean`
applies the recipe to the rows of :func:`planner.migration.reading.read_table`;
:func:`preview` shows a few rows before and after; :func:`apply_file` writes the new CRM's file
(CSV or XLSX) and the problems found.

How, at any size: each rule's transformation runs in Python (:func:`transforms.clean_value`,
the one implementation of it) on the DISTINCT values of its source columns, never on every
row; a column with many of them is cleaned by worker processes too (:data:`PROCESSES`). A
lookup keeps only the values the rules change or find a problem in, so that a column of clean
text costs next to no memory. Each row's place in the lookup is found once, by one join on a
64-bit hash of the values (or on the values themselves should two distinct values share a
hash); the rows are then annotated, counted and written a slice of :data:`SLICE_ROWS` at a
time, each taking its outcomes from the lookups by that place. Python's cost follows the
distinct values, memory the distinct values changed and four bytes a row and column read.

Rows: a row whose required field ends up empty or with a problem is rejected (listed, with
its row number, field and reason); a problem in an optional field empties that field and is
listed as a warning. Then, if the recipe says so, rows that share the normalised value of any
``merge.by`` field are merged into one (see :class:`planner.migration.recipe.Merge`).
Messages never quote a value.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from planner.core.errors import ValidationError
from planner.core.i18n import counted, quoted
from planner.core.sheets import EXCEL_MAX_ROWS
from planner.migration import transforms
from planner.migration.fields import Field
from planner.migration.reading import ROW, read_table
from planner.migration.transforms import REQUIRED_EMPTY, clean_value
from planner.migration.workers import Workers
from planner.migration.writing import safe_column, write

if TYPE_CHECKING:
    from planner.migration.recipe import Merge, Recipe, Rule

REJECT, WARNING = "reject", "warning"
KINDS = ("csv", "xlsx")
SLICE = 100_000  # distinct values cleaned at a time
# A column with PROCESSES_FROM distinct values or more is cleaned by PROCESSES worker
# processes (1: in this process, always).
PROCESSES = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
PROCESSES_FROM = 200_000


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
    :func:`apply_file` writes: memory follows a slice). ``changes``: see :func:`clean`."""

    fields: tuple[str, ...]
    rows: pl.LazyFrame
    problems: pl.DataFrame
    merges: tuple[MergedGroup, ...]
    counts: dict[str, Any]
    parts: Callable[[], Iterator[pl.DataFrame]]
    changes: pl.DataFrame | None = None


def _v(i: int) -> str:
    return f"__v{i}"


def _k(i: int) -> str:
    return f"__k{i}"


def _m(i: int) -> str:
    return f"__m{i}"


def _c(i: int) -> str:
    return f"__c{i}"


def _p(i: int) -> str:
    return f"__p{i}"


def _pos(g: int) -> str:
    return f"__pos{g}"


REJECTED = "__rejected"


@dataclass(frozen=True)
class _Lookup:
    """The outcomes of the rules that read the same ``sources``, on the distinct values of
    those columns: per field i, ``table`` holds the value (``__v{i}``), the problem as a code
    into ``kinds[i]`` and ``messages[i]`` (``__p{i}``) and whether the value changed
    (``__c{i}``), one row per value; ``positions`` gives, for each row of the frame (in the
    order of :data:`ROW`), its value's row in ``table``. With one source column (``sparse``),
    values every rule leaves as they are, without a problem, are not in ``table``: their
    position is null and the row keeps its cell."""

    sources: tuple[str, ...]
    table: pl.DataFrame
    kinds: dict[int, list[str]]
    messages: dict[int, list[str]]
    sparse: bool


def _annotate(recipe: Recipe, frame: pl.LazyFrame) -> pl.LazyFrame:
    """Every row of ``frame`` with, per field i, its value, problem kind, message and
    whether it changed (``__v{i}``, ``__k{i}``, ``__m{i}``, ``__c{i}``), and
    :data:`REJECTED` (see the module)."""
    return _annotator(recipe, frame)(frame, None)


# Rows of a frame annotated: all of them, or those a filter on ROW keeps (a slice).
Annotate = Callable[[pl.LazyFrame, pl.Expr | None], pl.LazyFrame]


def _annotator(recipe: Recipe, frame: pl.LazyFrame) -> Annotate:
    """:func:`_annotate` for any rows of ``frame`` (``within``: the filter on :data:`ROW` that
    chose them, None for all), the lookups made once from all of it. A row finds its outcomes
    by position (a gather), not by a join on its values."""
    fields = recipe.fields
    rules = {rule.field: rule for rule in recipe.rules}
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, field in enumerate(fields):
        rule = rules.get(field.name)
        if rule and rule.sources:
            groups.setdefault(rule.sources, []).append(i)
    positions = frame.select(ROW).collect(engine="streaming")
    lookups: dict[int, tuple[int, _Lookup]] = {}
    workers = Workers(PROCESSES, PROCESSES_FROM)
    try:
        for g, (sources, members) in enumerate(groups.items()):
            chosen = tuple((i, rules[fields[i].name], fields[i]) for i in members)
            lookup, position = _lookup(
                frame, sources, chosen, recipe.region, positions[ROW], workers
            )
            if not lookup.table.is_empty():
                positions = positions.with_columns(position.alias(_pos(g)))
            for i in members:
                lookups[i] = (g, lookup)
    finally:
        workers.close()
    columns: list[pl.Expr] = []
    required: list[pl.Expr] = []
    for i, field in enumerate(fields):
        rule = rules.get(field.name)
        if rule is None or not rule.sources:
            fixed = clean_value(rule, field, (), recipe.region) if rule else transforms.EMPTY
            value = pl.lit(fixed.value, pl.String)
            kind, text, changed = pl.lit(None, pl.String), pl.lit(None, pl.String), pl.lit(False)
        else:
            value, kind, text, changed = _outcome(i, *lookups[i])
        if field.required:
            empty = kind.is_null() & value.is_null()
            kind = pl.when(empty).then(pl.lit(REQUIRED_EMPTY)).otherwise(kind)
            text = pl.when(empty).then(pl.lit(transforms.message(REQUIRED_EMPTY))).otherwise(text)
            required.append(pl.col(_k(i)).is_not_null())
        columns += [value.alias(_v(i)), kind.alias(_k(i)), text.alias(_m(i)), changed.alias(_c(i))]
    rejected = pl.any_horizontal(required) if required else pl.lit(False)

    def annotate(source: pl.LazyFrame, within: pl.Expr | None) -> pl.LazyFrame:
        query = source.select(ROW, *recipe.columns)
        if positions.width > 1:
            found = positions.lazy() if within is None else positions.lazy().filter(within)
            query = query.join(found, on=ROW, how="left", maintain_order="left")
        return query.select(ROW, *columns).with_columns(rejected.alias(REJECTED))

    return annotate


def _outcome(i: int, g: int, lookup: _Lookup) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """Field i's value, problem kind, message and whether it changed, from ``lookup`` by the
    row's position (column ``__pos{g}``)."""
    table = lookup.table
    if table.is_empty():  # every value is left as it is
        cell = pl.col(lookup.sources[0]) if lookup.sparse else pl.lit(None, pl.String)
        return cell, pl.lit(None, pl.String), pl.lit(None, pl.String), pl.lit(False)
    position = pl.col(_pos(g))
    value = pl.lit(table[_v(i)]).gather(position)
    if lookup.sparse:
        value = pl.when(position.is_not_null()).then(value).otherwise(pl.col(lookup.sources[0]))
    if lookup.kinds[i]:
        code = pl.lit(table[_p(i)]).gather(position)
        kind = pl.lit(pl.Series(lookup.kinds[i], dtype=pl.String)).gather(code)
        text = pl.lit(pl.Series(lookup.messages[i], dtype=pl.String)).gather(code)
    else:
        kind, text = pl.lit(None, pl.String), pl.lit(None, pl.String)
    changed = pl.lit(table[_c(i)]).gather(position).fill_null(False)
    return value, kind, text, changed


def _hashes_unique(keys: pl.Series) -> bool:
    """Whether the hashes of distinct values are distinct too (else the values are joined)."""
    return keys.n_unique() == keys.len()


def _lookup(
    frame: pl.LazyFrame,
    sources: tuple[str, ...],
    rules: tuple[tuple[int, Rule, Field], ...],
    region: str,
    rows: pl.Series,
    workers: Workers,
) -> tuple[_Lookup, pl.Series]:
    """The outcomes of ``rules`` (field i's rule and field) on every distinct value (tuple)
    of ``sources`` (see :class:`_Lookup`), and each of ``frame``'s ``rows``' position in
    them: found by the values' hash, or by the values should two distinct ones share a hash.
    The values are cleaned :data:`SLICE` at a time, by ``workers`` when there are many."""
    single = len(sources) == 1
    hashed = pl.col(sources[0]) if single else pl.struct(list(sources))
    key = hashed.hash(seed=0).alias("__key")
    distinct = frame.select(sources).unique().collect(engine="streaming")
    keys = distinct.select(key)
    by_hash = _hashes_unique(keys["__key"])
    members = [i for i, _, _ in rules]
    codes: dict[int, dict[tuple[str, str], int]] = {i: {} for i in members}
    schema = {name: _LOOKUP_TYPES[name[:3]] for i in members for name in (_v(i), _p(i), _c(i))}
    tasks = (
        (rules, region, single, [distinct[s].slice(start, SLICE).to_list() for s in sources])
        for start in range(0, distinct.height, SLICE)
    )
    parts, kept = [pl.DataFrame(schema=schema)], [pl.Series(dtype=pl.UInt32)]
    for start, (picked, found) in zip(
        range(0, distinct.height, SLICE), workers.map(tasks, distinct.height), strict=True
    ):
        columns: dict[str, list[Any]] = {}
        for i, (values, kinds, texts, changed) in found.items():
            known = codes[i]
            columns[_v(i)] = values
            columns[_p(i)] = [
                None if kind is None else known.setdefault((kind, text), len(known))
                for kind, text in zip(kinds, texts, strict=True)
            ]
            columns[_c(i)] = changed
        parts.append(pl.DataFrame(columns, schema=schema))
        kept.append(pl.Series(picked, dtype=pl.UInt32) + start)
    table = pl.concat(parts, rechunk=True)
    lookup = _Lookup(
        sources,
        table,
        {i: [kind for kind, _ in codes[i]] for i in members},
        {i: [text for _, text in codes[i]] for i in members},
        single,
    )
    if table.is_empty():
        return lookup, pl.Series(dtype=pl.UInt32)
    on: str | list[str] = "__key" if by_hash else list(sources)
    index = (keys if by_hash else distinct)[pl.concat(kept)].with_row_index("__position")
    del distinct, keys
    read = frame.select(ROW, key if by_hash else pl.col(list(sources)))
    position = (
        read.collect(engine="streaming")
        .join(index, on=on, how="left", maintain_order="left", nulls_equal=True)
        .select(ROW, "__position")
    )
    if not position[ROW].equals(rows):
        raise RuntimeError("the rows were read in another order")
    return lookup, position["__position"]


_LOOKUP_TYPES = {"__v": pl.String, "__p": pl.UInt32, "__c": pl.Boolean}


def clean(recipe: Recipe, frame: pl.LazyFrame, *, with_changes: bool = False) -> Cleaned:
    """``recipe`` applied to ``frame`` (text columns by header, empty cells null, and
    :data:`ROW`, as :func:`planner.migration.reading.read_table` gives it): see the module.
    The columns must be there (:func:`check_columns`). Reads the frame a few times, streaming;
    the result's ``rows`` read it again. ``with_changes`` keeps ``changes``: the rows not
    rejected with a value the recipe changed, by field (what ``counts["changed"]`` counts)."""
    annotate = _annotator(recipe, frame)

    def part(within: pl.Expr) -> pl.LazyFrame:
        return annotate(frame.filter(within), within)

    n = len(recipe.fields)
    listed: list[pl.DataFrame] = []
    changes: list[pl.DataFrame] = []
    totals = pl.DataFrame()
    for within in _slices(frame):
        annotated = part(within).collect()
        listed.append(_problems(recipe, annotated))
        if with_changes and n:
            flags = [pl.col(_c(i)).alias(f.name) for i, f in enumerate(recipe.fields)]
            changes.append(
                annotated.filter(
                    ~pl.col(REJECTED) & pl.any_horizontal(_c(i) for i in range(n))
                ).select(ROW, *flags)
            )
        sums = annotated.select(
            pl.len().alias("rows"),
            pl.col(REJECTED).sum().alias("rejected"),
            *[pl.col(_c(i)).sum().alias(str(i)) for i in range(n)],
        )
        totals = sums if totals.is_empty() else pl.concat([totals, sums])
    problems = pl.concat(listed) if listed else pl.DataFrame(schema=PROBLEM_SCHEMA)
    totals = totals.sum() if not totals.is_empty() else None
    merges: tuple[MergedGroup, ...] = ()
    away = 0
    finish: Callable[[pl.LazyFrame], pl.LazyFrame] = lambda kept: kept  # noqa: E731
    if recipe.merge:
        finish, merges, away = _merged(recipe, recipe.merge, part, frame)
    names = tuple(field.name for field in recipe.fields)

    def kept(annotated: pl.LazyFrame) -> pl.LazyFrame:
        rows = finish(annotated.filter(~pl.col(REJECTED)))
        return rows.select(ROW, *[pl.col(_v(i)).alias(name) for i, name in enumerate(names)])

    def parts() -> Iterator[pl.DataFrame]:
        for within in _slices(frame):
            yield kept(part(within)).collect()

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
    changed = pl.concat(changes) if changes else None
    return Cleaned(names, kept(annotate(frame, None)), problems, merges, counts, parts, changed)


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
    recipe: Recipe, merge: Merge, part: Callable[[pl.Expr], pl.LazyFrame], frame: pl.LazyFrame
) -> tuple[Callable[[pl.LazyFrame], pl.LazyFrame], tuple[MergedGroup, ...], int]:
    """The kept rows with every group of rows that share a normalised ``by`` value merged
    into its winner's row; the groups; how many rows were merged away. Only values that occur
    twice (by their hash) are looked at in Python."""
    index = {field.name: i for i, field in enumerate(recipe.fields)}
    by = [index[name] for name in merge.by]
    norm = {i: pl.col(_v(i)).str.strip_chars().str.to_lowercase() for i in by}
    filled = {i: norm[i].is_not_null() & (norm[i] != "") for i in by}
    hashed = [pl.when(filled[i]).then(norm[i].hash(seed=0)).alias(str(i)) for i in by]
    hashes = pl.concat(
        part(within).filter(~pl.col(REJECTED)).select(hashed).collect() for within in _slices(frame)
    )
    twice: list[pl.Expr] = []
    for i in by:
        repeated = hashes[str(i)].drop_nulls().value_counts().filter(pl.col("count") > 1)
        twice.append(filled[i] & norm[i].hash(seed=0).is_in(repeated[str(i)].implode()))
    n = len(recipe.fields)
    wanted = [ROW, *[pl.col(_v(j)) for j in range(n)], *[norm[i].alias(f"__n{i}") for i in by]]
    candidates = pl.concat(
        part(within).filter(~pl.col(REJECTED) & pl.any_horizontal(twice)).select(wanted).collect()
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
        parts = (part.select(safe_column(name) for name in names) for part in cleaned.parts())
        write(parts, names, target, kind)
        if rejects is not None:
            listed = cleaned.problems.select(
                pl.col("row").cast(pl.String),
                "field",
                "severity",
                "kind",
                pl.col("message").alias("reason"),
            )
            safe = listed.select(safe_column(c) for c in listed.columns)
            write(iter([safe]), safe.columns, rejects, "csv")
    return Summary(target.name, kind, cleaned.counts, cleaned.merges)
