"""The profile of an old CRM's export: what its columns hold, how consistently, and its
duplicates, before anything of it is moved (seed 001: audit the data, then clean it).

Per column: the inferred type, empty cells, distinct values, the most frequent values and a
few examples, the least and greatest number or date, cells that would start a formula, and the
formats seen with their counts (dates "dd.mm.yyyy" or "excel serial", phones "E.164" or
"national 8…", numbers "decimal comma"…), with impossible and ambiguous dates and invalid
phone numbers and e-mail addresses counted apart. Per file: rows, blank and ragged rows, the
required columns' empty cells, the duplicate groups (:mod:`planner.migration.duplicates`).

How, at any size: each column is read alone from the columnar file (:mod:`reading`); a first
streaming pass counts its empty cells and estimates its distinct values (HyperLogLog). A column
of at most :data:`HELD_BYTES` of text is then read into memory once, and the queries below run
on it together, polars sharing their work; a larger one is streamed again by each query. One of
few distinct values (:data:`FEW_DISTINCT`) is counted value by value, so the cost follows its
distinct values, not its rows; one of many is counted cell by cell (by polars' streaming engine
unless held), its distinct values and most frequent ones through 64-bit hashes, so memory stays
bounded. The type is inferred in Python from the distinct values, or from a systematic sample
of :data:`SAMPLE` cells; formats are then counted exactly (:mod:`counting`). Only the validity
of phone numbers of a column of many is checked on the sample; aggregates from a sample are
named in ``estimated``. Then the duplicates are looked for. (Columns profiled two at a time
took as long, polars using both cores already, and more memory; the first pass of all columns
at once, 60 MB more at a million rows.)

Values from the file (top values, examples, least and greatest, invalid examples, what a
duplicate group shares) are kept under ``values`` keys, and nowhere else, so that the web layer
can hide them from people who may not see customer data: ``Profile.as_dict(values=False)``.

The cleaning (a recipe applied to the rows) is :mod:`planner.migration.cleaning`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from planner.core.errors import ValidationError
from planner.core.sheets import FORMULA_START, MB
from planner.migration import formats
from planner.migration.counting import COUNT, COUNTERS, Cells
from planner.migration.duplicates import Duplicates, find_duplicates, guess_roles, header_role
from planner.migration.reading import Table, read_table

SAMPLE = 500  # cells a column's type is inferred from when it has more distinct values
FEW_DISTINCT = 50_000  # a column with about as few distinct values is counted value by value
EXAMPLE_ROWS = 1000  # rows of the file's start examples are taken from
HELD_BYTES = 32 * MB  # a column of at most as much text is read into memory once
# A cell that starts a formula (= + - @ tab CR), unless it is a number or a phone number: "-5"
# and "+7 912…" are no formula, whatever Excel makes of them.
_FORMULA_FIRST = "^[" + "".join(c for c in FORMULA_START if c != "-") + "-]"
_NUMBER_LIKE = r"^[+-]?[0-9][0-9\s().,\-]*$"
_BLANK = r"^\s+$"  # empty cells are null already; these hold only spaces


@dataclass(frozen=True)
class ColumnProfile:
    """One column: its ``name`` (the header), ``aggregates`` (counts, type, formats) and
    ``values`` (what it quotes of the file)."""

    name: str
    aggregates: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)

    def as_dict(self, *, values: bool = True) -> dict[str, Any]:
        """JSON-able, with ``values`` unless told otherwise."""
        found = {"name": self.name, "aggregates": self.aggregates}
        return found | ({"values": self.values} if values else {})


@dataclass(frozen=True)
class Profile:
    """A file's profile (see the module). ``as_dict`` is its JSON form."""

    filename: str
    kind: str
    encoding: str | None
    delimiter: str | None
    header_row: int
    notes: tuple[str, ...]
    rows: int
    blank_rows: int
    ragged: dict[str, Any]
    missing: dict[str, int]
    absent: tuple[str, ...]
    columns: tuple[ColumnProfile, ...]
    duplicates: Duplicates

    def as_dict(self, *, values: bool = True) -> dict[str, Any]:
        """JSON-able; with ``values=False`` without any value of the file (every ``values``
        key of the columns and of the duplicate groups is left out)."""
        return {
            "filename": self.filename,
            "kind": self.kind,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "header_row": self.header_row,
            "notes": list(self.notes),
            "rows": self.rows,
            "blank_rows": self.blank_rows,
            "ragged": self.ragged,
            "missing": self.missing,
            "absent": list(self.absent),
            "columns": [column.as_dict(values=values) for column in self.columns],
            "duplicates": self.duplicates.as_dict(values=values),
        }


def profile(
    path: Path,
    filename: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
    default_region: str = "RU",
    required: Sequence[str] = (),
    sample_values: int = 5,
) -> Profile:
    """The profile of the export at ``path`` (``filename`` names it in messages), read with
    the given encoding, delimiter and header row (None: detected). Phone numbers without a
    country code are read for ``default_region``; ``required`` names the columns whose empty
    cells are counted in ``missing`` (matched without regard to case); ``sample_values`` is
    how many top values and examples a column quotes.

    Raises ValidationError for every file :func:`planner.migration.reading.read_table`
    refuses, for a file with a header but no rows, and for an unknown region."""
    region = default_region.upper()
    formats.phone_shapes(region)  # refuses an unknown region before the file is read
    with read_table(
        path, filename, encoding=encoding, delimiter=delimiter, header_row=header_row
    ) as table:
        if not table.rows:
            raise ValidationError(
                f"{table.name} has a header but no rows below it: there is nothing to profile."
            )
        roles = guess_roles(table.columns)
        starts = table.frame.head(EXAMPLE_ROWS).collect()
        columns = tuple(
            _column(table, name, starts[name], region, sample_values) for name in table.columns
        )
        duplicates = find_duplicates(table.frame, table.columns, roles=roles, region=region)
    by_name = {_folded(column.name): column for column in columns}
    missing, absent = {}, []
    for wanted in required:
        column = by_name.get(_folded(wanted))
        if column is None:
            absent.append(wanted)
        missing[wanted] = column.aggregates["empty"] if column else table.rows
    detected = table.detected
    return Profile(
        filename=filename,
        kind=detected.kind,
        encoding=detected.encoding,
        delimiter=detected.delimiter,
        header_row=detected.header_row,
        notes=detected.notes,
        rows=table.rows,
        blank_rows=table.blank_rows,
        ragged={
            "rows": table.short_rows,
            "first": [{"row": row, "line": line} for row, line in table.first_short],
        },
        missing=missing,
        absent=tuple(absent),
        columns=columns,
        duplicates=duplicates,
    )


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()


def _blank(name: str) -> pl.Expr:
    cell = pl.col(name)
    return cell.is_null() | cell.str.contains(_BLANK)


def _column(table: Table, name: str, start: pl.Series, region: str, n: int) -> ColumnProfile:
    """Infer one column's type and count its values and formats (see the module)."""
    cell = pl.col(name)
    empty, estimate, size = (  # a column at a time: see the module
        table.frame.select(
            _blank(name).sum(),
            cell.approx_n_unique().alias("distinct"),
            cell.str.len_bytes().sum().alias("bytes"),
        )
        .collect(engine="streaming")
        .row(0)
    )
    column = table.frame.select(name)
    held = (size or 0) <= HELD_BYTES
    if held:  # read once: every query below shares it
        column = column.collect().lazy()
    filled_cells = column.filter(~_blank(name))
    filled = table.rows - empty
    if estimate > FEW_DISTINCT:  # unless held, each query streams the column
        cells = filled_cells.with_columns(pl.lit(1, pl.UInt32).alias(COUNT))
        queries = [
            filled_cells.select(cell.hash(seed=0).alias("hash")),
            filled_cells.select(cell.gather_every(max(1, filled // SAMPLE))),
            _formulas(cells, name),
        ]
        if held:
            hashed, picked, formulas = pl.collect_all(queries)
        else:
            hashed, picked, formulas = (query.collect(engine="streaming") for query in queries)
        runs = hashed["hash"].sort().rle().struct.unnest()  # sorted: 8 bytes a cell, no table
        del hashed
        distinct = runs.height
        often = runs.filter(pl.col("len") > 1).top_k(n, by="len")["value"]
        top = filled_cells.filter(cell.hash(seed=0).is_in(often.implode()))
        counts = top.group_by(name).agg(pl.len().alias(COUNT)).collect(engine="streaming")
        sample = list(Counter(picked[name].to_list()).items())
    else:
        counts = filled_cells.group_by(name).agg(pl.len().alias(COUNT)).collect(engine="streaming")
        distinct = counts.height
        sample = _sample(counts, name) if distinct > SAMPLE else list(counts.iter_rows())
        cells = counts.lazy()
        formulas = _formulas(cells, name).collect()
    kind = formats.infer_type(
        sample,
        filled=filled,
        distinct=distinct,
        region=region,
        phone_column=header_role(name) == "phone",
    )
    aggregates: dict[str, Any] = {
        "type": kind,
        "filled": filled,
        "empty": empty,
        "empty_share": round(empty / table.rows, 4),
        "distinct": distinct,
        "formula_cells": int(formulas[COUNT].sum()),
        "formats": {},
        "estimated": ["type"] if distinct > SAMPLE else [],
        "header_among_values": _header_among(counts, name),
    }
    shown = counts.filter(pl.col(COUNT) > (0 if kind == "picklist" else 1))
    top_values = shown.sort([COUNT, name], descending=[True, False]).head(
        formats.PICKLIST_MAX if kind == "picklist" else n
    )
    values: dict[str, Any] = {
        "top": [{"value": v, "count": c} for v, c in top_values.iter_rows()],
        "examples": _examples(start, counts, name, n),
        "formula_examples": formulas[name].head(n).to_list(),
    }
    counter = COUNTERS.get(kind)
    if counter:
        few = estimate <= FEW_DISTINCT
        more, quoted = counter(Cells(cells, name, few, sample, region, n, held=held or few))
        aggregates["formats"] = _ordered(more.pop("formats"))
        aggregates["estimated"] += more.pop("estimated", [])
        aggregates |= more
        values |= quoted
    if kind == "phone":
        values["normalised"] = [
            {"value": v, "e164": formats.normalise_phone(v, region)} for v in values["examples"]
        ]
    return ColumnProfile(name, aggregates, values)


def _header_among(counts: pl.DataFrame, name: str) -> bool:
    """Whether the column's name is one of its values (every distinct value of a column of
    few, the most frequent of one of many), spaces aside: "Москва" heading a column of
    cities says that the file's first line is a customer's record, not a header."""
    text = pl.col(name).str.replace_all(r"\s+", " ").str.strip_chars()
    return not counts.filter(text == " ".join(name.split())).is_empty()


def _formulas(cells: pl.LazyFrame, name: str) -> pl.LazyFrame:
    """The cells that start a formula (see :data:`_FORMULA_FIRST`), with how many of each."""
    cell = pl.col(name)
    return (
        cells.filter(cell.str.contains(_FORMULA_FIRST))
        .filter(~cell.str.contains(_NUMBER_LIKE) & (cell.str.len_chars() > 1))
        .group_by(name, maintain_order=True)
        .agg(pl.col(COUNT).sum())
    )


def _ordered(found: dict[str, int]) -> dict[str, int]:
    """Formats by count, most frequent first ("other" last)."""
    ranked = sorted(found.items(), key=lambda item: (item[0] == formats.OTHER, -item[1], item[0]))
    return {label: count for label, count in ranked if count}


def _sample(counts: pl.DataFrame, name: str) -> list[tuple[str, int]]:
    """:data:`SAMPLE` cells, every k-th of the column in a fixed order of its values (by hash),
    as (value, how many of the sample)."""
    ordered = counts.sort(pl.col(name).hash(seed=0))
    total = int(ordered[COUNT].sum())
    step = total / SAMPLE
    targets = pl.Series([int(step * (i + 0.5)) for i in range(SAMPLE)], dtype=pl.Int64)
    where = ordered[COUNT].cast(pl.Int64).cum_sum().search_sorted(targets, side="right")
    return list(Counter(ordered[name].gather(where).to_list()).items())


def _examples(start: pl.Series, counts: pl.DataFrame, name: str, n: int) -> list[str]:
    """The first ``n`` distinct values of the file's start, then the column's most frequent."""
    found: dict[str, None] = {}
    ordered = counts.sort([COUNT, name], descending=[True, False])[name].head(n).to_list()
    for value in [*start.drop_nulls().to_list(), *ordered]:
        if value.strip() and len(found) < n:
            found.setdefault(value)
    return list(found)
