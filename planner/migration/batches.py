"""A pilot batch drawn from an export cleaned by a recipe: the records the new CRM imports
first, chosen so that every kind of problem the cleaning found appears in it.

The kinds a kept row shows: each warning the cleaning gave it ("phone: not a phone number"),
each field whose value the recipe changed ("phone changed": reformatted, converted, trimmed;
what the cleaning counts as changed: a value without a problem written otherwise than its
cell, never a part of a split name), a value
neutralised because it would start a formula, and a row that absorbed duplicates ("merged
duplicate"). :func:`planner.migration.pilot.choose` then takes the rarest kinds first and
spreads the rest across the file. An export of more than :data:`SAMPLE_ROWS` rows is cleaned
on a systematic sample of that many rows spread over the whole file (every k-th row), so that
making a pilot takes seconds whatever the export's length; ``planner migrate apply`` cleans
every row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from planner.migration import pilot as sampling
from planner.migration import recipe as engine
from planner.migration.reading import ROW, read_table

SAMPLE_ROWS = 100_000  # rows of a larger export the pilot is chosen from: a systematic sample
MERGED = "merged duplicate"
FORMULA = "formula neutralised"


@dataclass(frozen=True)
class Batch:
    """The chosen ``rows`` (numbers in the export), their cleaned ``records`` (field name →
    value), the ``kinds`` they show with how many records show each, and the cleaning's
    ``summary`` over the whole export (its counts)."""

    rows: tuple[int, ...]
    records: list[dict[str, Any]]
    kinds: dict[str, int]
    summary: dict[str, Any]


def row_kinds(cleaned: engine.Cleaned) -> dict[int, set[str]]:
    """The kinds each kept row shows (see the module); rows showing none are left out.
    ``cleaned`` is made :func:`engine.clean` ``with_changes``: a value changed is what the
    cleaning counts as changed (and the preview shows), before a merge fills the row."""
    kinds: dict[int, set[str]] = {}
    warnings = cleaned.problems.filter(pl.col("severity") == "warning")
    for row, field, kind in warnings.select("row", "field", "kind").iter_rows():
        kinds.setdefault(int(row), set()).add(f"{field}: {kind}")
    for group in cleaned.merges:
        kinds.setdefault(group.into, set()).add(MERGED)
    if cleaned.changes is not None:
        for values in cleaned.changes.iter_rows():
            for field, flag in zip(cleaned.fields, values[1:], strict=True):
                if flag:
                    kinds.setdefault(int(values[0]), set()).add(f"{field} changed")
    risky = [sampling.formula_cell(field) for field in cleaned.fields]
    if risky:
        formulas = cleaned.rows.filter(pl.any_horizontal(risky)).select(ROW).collect()
        for row in formulas[ROW]:
            kinds.setdefault(int(row), set()).add(FORMULA)
    return kinds


def pilot_batch(
    recipe: engine.Recipe,
    path: Path,
    filename: str,
    *,
    size: int,
    seed: int = 0,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
) -> Batch:
    """``size`` records of the export at ``path`` cleaned by ``recipe`` (see the module).
    Raises ValidationError for a file that cannot be read or lacks a column the recipe reads,
    ValueError for a size out of range."""
    with read_table(
        path, filename, encoding=encoding, delimiter=delimiter, header_row=header_row
    ) as table:
        engine.check_columns(recipe, table.columns)
        frame = table.frame
        step = -(-table.rows // SAMPLE_ROWS)  # ceiling
        if step > 1:
            frame = frame.filter((pl.col(ROW) - 1) % step == 0)
        cleaned = engine.clean(recipe, frame, with_changes=True)
        kept = cleaned.rows.select(ROW).collect()[ROW].to_list()
        kinds = row_kinds(cleaned)
        chosen = sampling.choose(kept, kinds, size=size, seed=seed)
        picked = cleaned.rows.filter(pl.col(ROW).is_in(chosen)).sort(ROW).collect()
    records = [{f: row.get(f) for f in cleaned.fields} for row in picked.iter_rows(named=True)]
    shown = Counter(kind for row in chosen for kind in kinds.get(row, ()))
    return Batch(
        rows=tuple(chosen),
        records=records,
        kinds=dict(sorted(shown.items())),
        summary=_plain(cleaned.counts) | ({"sampled_every": step} if step > 1 else {}),
    )


def _plain(counts: dict[str, Any]) -> dict[str, Any]:
    """The counts as JSON keeps them (nested counters as plain dicts)."""
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in counts.items()}
