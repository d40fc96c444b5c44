"""A scoring board read into arrays: reviewers' scores of options (vendors, a design version)
on weighted criteria. The layer under :mod:`planner.core.scoring` and
:mod:`planner.vendors.robustness` (pure functions on plain values, no Flask, no database).

The board's dataclasses are public (the services build them); the array helpers are shared by
the modules above and are not meant for other callers. The rules the arrays follow (which
scores count, price by formula, ties) are in the docstring of :mod:`planner.core.scoring`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

SCORE_MIN = 0
SCORE_MAX = 5
TIE = 1e-9  # totals (0..100) and scores closer than this are equal

# --- the board --------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionSpec:
    """A criterion of the board; ``weight`` is relative (only w / Σw matters)."""

    id: int
    name: str
    weight: float
    group: str = ""
    must_have: bool = False
    min_score: float = 3.0
    is_price: bool = False


@dataclass(frozen=True)
class VendorSpec:
    """A candidate vendor; ``cost`` is the quoted 3-year cost (None: no quote yet)."""

    id: int
    name: str
    cost: float | None = None


@dataclass(frozen=True)
class ScoreEntry:
    """One reviewer's score (an integer 0..5) of one vendor on one criterion."""

    reviewer_id: int
    vendor_id: int
    criterion_id: int
    score: int
    department: str | None = None
    comment: str = ""


@dataclass(frozen=True)
class Board:
    """Everything one evaluation needs.

    ``consensus`` maps (vendor_id, criterion_id) to the lead's consensus score (0..5), which
    replaces the mean (price criteria keep their formula); ``recusals`` holds (reviewer_id,
    vendor_id) pairs whose scores are left out of every result.
    """

    vendors: list[VendorSpec]
    criteria: list[CriterionSpec]
    scores: list[ScoreEntry]
    consensus: dict[tuple[int, int], float] = field(default_factory=dict)
    recusals: frozenset[tuple[int, int]] = frozenset()

    def counted(self) -> list[ScoreEntry]:
        """The scores that count: recusals, price criteria, unknown ids and overwritten
        repeats left out."""
        return [self.scores[i] for i in sheet(self).row]


def competition_ranks(totals: Mapping[int, float]) -> dict[int, int]:
    """Ranks by total, highest first; equal totals (to 1e-9) share a rank: 1, 1, 3.

    Keys with equal totals keep the order of ``totals``.
    """
    ordered = sorted(totals.items(), key=lambda kv: -kv[1])
    ranks: dict[int, int] = {}
    for i, (key, total) in enumerate(ordered):
        if i and ordered[i - 1][1] - total <= TIE:
            ranks[key] = ranks[ordered[i - 1][0]]
        else:
            ranks[key] = i + 1
    return ranks


# --- the arrays ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """The counted scores of a board as arrays, one element per counted score."""

    reviewer_ids: list[int]  # sorted; ``r`` indexes it
    r: IntArray
    v: IntArray  # index in board.vendors
    c: IntArray  # index in board.criteria (non-price criteria only)
    score: FloatArray
    row: IntArray  # index in board.scores


@dataclass(frozen=True)
class Scored:
    """A board's matrix: scores (vendors × criteria, nan: none), totals (nan: incomplete),
    knock-out reasons, ranks, and the price score of each vendor (nan: none)."""

    scores: FloatArray
    totals: FloatArray
    reasons: list[list[str]]
    ranks: list[int | None]
    price: FloatArray


def check_board(board: Board) -> None:
    """Refuse what no evaluation can mean: an id listed twice, bad weights, a consensus score
    off the scale."""
    for label, ids in (
        ("vendor", [v.id for v in board.vendors]),
        ("criterion", [c.id for c in board.criteria]),
    ):
        if len(set(ids)) != len(ids):
            raise ValueError(f"a {label} id is listed twice")
    for c in board.criteria:
        if not math.isfinite(c.weight) or c.weight < 0:
            raise ValueError(f"the weight of {c.name!r} must be a number of at least 0")
    if board.criteria:
        total_weight(board.criteria)
    for (vid, cid), value in board.consensus.items():
        if not SCORE_MIN <= value <= SCORE_MAX:
            raise ValueError(f"consensus score {value!r} for ({vid}, {cid}) is not in 0..5")


def total_weight(criteria: Sequence[CriterionSpec]) -> float:
    total = float(sum(c.weight for c in criteria))
    if not total > 0:
        raise ValueError("the criteria's weights add up to zero")
    return total


def weight_vector(board: Board) -> FloatArray:
    return np.array([c.weight for c in board.criteria], dtype=float)


def opt(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def valid_cost(cost: float | None) -> bool:
    return cost is not None and math.isfinite(cost) and cost > 0


def sheet(board: Board) -> Sheet:
    """The counted scores (see the module docstring) as arrays."""
    entries = board.scores
    n_v, n_c = len(board.vendors), len(board.criteria)
    v = _positions(
        [x.id for x in board.vendors],
        np.array([e.vendor_id for e in entries], dtype=np.int64),
    )
    c = _positions(
        [x.id for x in board.criteria],
        np.array([e.criterion_id for e in entries], dtype=np.int64),
        [x.is_price for x in board.criteria],
    )
    reviewer = np.array([e.reviewer_id for e in entries], dtype=np.int64)
    try:
        score = np.array([e.score for e in entries], dtype=float)
    except (TypeError, ValueError):
        raise ValueError("scores must be numbers from 0 to 5") from None
    keep = (v >= 0) & (c >= 0)
    if board.recusals and keep.any():
        v_at = {x.id: i for i, x in enumerate(board.vendors)}
        recused = [rid * n_v + v_at[vid] for rid, vid in board.recusals if vid in v_at]
        keep &= ~np.isin(reviewer * n_v + v, np.array(recused, dtype=np.int64))
    row = np.flatnonzero(keep)
    bad = ~((score[row] >= SCORE_MIN) & (score[row] <= SCORE_MAX))  # nan is bad too
    if bad.any():
        raise ValueError(f"score {entries[row[np.argmax(bad)]].score!r} is not in 0..5")
    ids, r = np.unique(reviewer[row], return_inverse=True)
    # one score per reviewer, vendor and criterion: the last one given
    key = (r * n_v + v[row]) * n_c + c[row]
    _, last_from_end = np.unique(key[::-1], return_index=True)
    last = np.sort(len(key) - 1 - last_from_end)
    row = row[last]
    return Sheet(
        reviewer_ids=[int(x) for x in ids],
        r=r[last].astype(np.intp),
        v=v[row],
        c=c[row],
        score=score[row],
        row=row,
    )


def _positions(
    ids: Sequence[int], values: npt.NDArray[np.int64], skip: Sequence[bool] | None = None
) -> IntArray:
    """The position of each value in ``ids``; −1 where it is not there (or skipped)."""
    if not ids or not len(values):
        return np.full(len(values), -1, dtype=np.intp)
    keys = np.array(ids, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    at = np.minimum(np.searchsorted(sorted_keys, values), len(keys) - 1)
    found = sorted_keys[at] == values
    if skip is not None:
        found &= ~np.array(skip, dtype=bool)[order[at]]
    return np.where(found, order[at], -1).astype(np.intp)


def safe_mean(sums: FloatArray, counts: npt.NDArray[np.int64]) -> FloatArray:
    out = np.full(sums.shape, np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


def cell_means(board: Board, sh: Sheet, values: FloatArray) -> FloatArray:
    """Vendors × criteria: the mean of ``values`` (one per counted score) per cell, then the
    consensus scores over them; nan where nothing is scored."""
    n_v, n_c = len(board.vendors), len(board.criteria)
    cell = sh.v * n_c + sh.c
    sums = np.bincount(cell, weights=values, minlength=n_v * n_c).reshape(n_v, n_c)
    counts = np.bincount(cell, minlength=n_v * n_c).reshape(n_v, n_c)
    means = safe_mean(sums, counts)
    if board.consensus:
        v_at = {v.id: i for i, v in enumerate(board.vendors)}
        c_at = {c.id: k for k, c in enumerate(board.criteria) if not c.is_price}
        for (vid, cid), value in board.consensus.items():
            if vid in v_at and cid in c_at:
                means[v_at[vid], c_at[cid]] = float(value)
    return means


def evaluated(board: Board, sh: Sheet) -> Scored:
    return scored(board, cell_means(board, sh, sh.score))


def scored(board: Board, cells: FloatArray, price: FloatArray | None = None) -> Scored:
    """The matrix from the non-price criterion scores ``cells`` (vendors × criteria, nan:
    none); price scores by formula unless given (one per vendor)."""
    crit, vendors = board.criteria, board.vendors
    n_v = len(vendors)
    is_price = np.array([c.is_price for c in crit], dtype=bool)
    must = np.array([c.must_have for c in crit], dtype=bool)
    floor = np.array([c.min_score for c in crit], dtype=float) - TIE
    full = cells.copy()
    full[:, is_price] = np.nan
    below = must & (full < floor)  # nan compares False
    if price is None:
        price = np.full(n_v, np.nan)
        if is_price.any():
            costs = np.array([v.cost if valid_cost(v.cost) else np.nan for v in vendors])
            tech_gap = np.isnan(full[:, ~is_price]).any(axis=1)
            contenders = ~tech_gap & ~below.any(axis=1) & ~np.isnan(costs)
            if contenders.any():
                price = np.minimum(float(SCORE_MAX), SCORE_MAX * costs[contenders].min() / costs)
    full[:, is_price] = price[:, None]
    below = must & (full < floor)
    complete = ~np.isnan(full).any(axis=1) & bool(len(crit))
    totals = np.full(n_v, np.nan)
    if crit:
        shares = weight_vector(board) / total_weight(crit)
        totals[complete] = 100.0 * (full[complete] @ shares) / SCORE_MAX
    reasons: list[list[str]] = [[] for _ in vendors]
    for i, k in np.argwhere(below):
        c = crit[k]
        reasons[i].append(f"{c.name}: {full[i, k]:.2f} below the must-have minimum {c.min_score:g}")
    ranks_of = competition_ranks(
        {i: float(totals[i]) for i in range(n_v) if complete[i] and not reasons[i]}
    )
    return Scored(full, totals, reasons, [ranks_of.get(i) for i in range(n_v)], price)


def ranked(board: Board, m: Scored) -> tuple[list[int], FloatArray, FloatArray]:
    """The ranked vendors (board order), their criterion scores × 20 (vendors × criteria,
    so that totals = scores @ shares), and their totals."""
    idx = [i for i, rank in enumerate(m.ranks) if rank is not None]
    x = m.scores[idx] * (100.0 / SCORE_MAX)
    return [board.vendors[i].id for i in idx], x, m.totals[idx]


def recusal_matrix(board: Board, reviewer_ids: Sequence[int]) -> BoolArray:
    r_at = {rid: i for i, rid in enumerate(reviewer_ids)}
    v_at = {v.id: i for i, v in enumerate(board.vendors)}
    out = np.zeros((len(reviewer_ids), len(board.vendors)), dtype=bool)
    for rid, vid in board.recusals:
        if rid in r_at and vid in v_at:
            out[r_at[rid], v_at[vid]] = True
    return out
