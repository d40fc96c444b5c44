"""The maths of a scoring board: reviewers score options on weighted criteria (vendor
selection's matrix, the design review). Pure functions on plain values (no Flask, no database).

The formulas are the issue's ("the numbers must be exactly these"):

- criterion score of a vendor = mean of the reviewers' scores for it, replaced by the lead's
  consensus score where one is recorded; missing scores are not zeros;
- weighted total = 100 × Σ_c (w_c / Σw) × (criterion score_c / 5), kept at full precision
  (:func:`round_total` and :func:`display` round it for people, two decimals);
- a vendor with a criterion nobody scored is *incomplete*: no total, no rank;
- a vendor whose score on a must-have criterion is below its minimum is *knocked out*: its
  total is shown with the reason, it is not ranked;
- ranks by total, highest first; equal totals (to 1e-9) share a rank: 1, 1, 3.

Choices this module makes, in one place:

- **Which scores count.** A recused reviewer's scores for that vendor are left out of every
  result. Reviewers' scores on a price criterion are ignored (price is scored by formula), and
  so are scores on vendors or criteria that are not on the board (a board narrowed to its
  technical criteria still carries them). One score per reviewer, vendor and criterion: if a
  list repeats one, the later entry wins, as a repeated submission overwrites. A consensus
  score stands even where nobody scored (it is the board's settled score for that cell).
- **Price.** A price criterion scores 5 × (lowest quoted cost among ranked vendors) / (the
  vendor's quoted cost). "Ranked vendors" are the vendors that are neither knocked out nor
  incomplete *on the non-price criteria* and that have a quoted cost (a positive, finite
  number): the cheapest serious contender sets the scale, so a cheap vendor that fails a
  must-have cannot depress everyone's price score. A vendor outside that set that is cheaper
  still scores at most 5. A vendor without a quote has no price score, so it is incomplete.
  A must-have on a price criterion is checked after the formula; it cannot change the lowest
  cost, since the cheapest ranked vendor scores exactly 5.
- **Ties.** Equal totals share a rank. A shared first place is a tie wherever a winner is
  named, never settled by the order in which vendors are listed: :attr:`Evaluation.winner` is
  None and :attr:`Evaluation.first_place` lists the tied vendors; vendor selection's
  Monte-Carlo shares each draw among the vendors tied in it (1/k each for a k-way tie), its
  sensitivity answers for the tied vendors together, and its tie breaks say which change of
  each criterion's share puts each of them first alone (:mod:`planner.vendors.robustness`).
- **Kendall's W** ranks the vendors by each reviewer's own weighted total over the non-price
  criteria. Reviewers who did not score every non-price criterion of every vendor they are
  not recused from are left out; the vendors are those that every remaining reviewer ranked
  (a recusal takes that vendor out of the comparison). Ties get the average rank, with the
  tie correction. None with fewer than two reviewers or vendors, or when every reviewer
  rated every vendor alike (W is then 0/0).
- **Departments** see the totals their own reviewers' scores give, without the lead's
  consensus scores, and with the board's price scores (price is not a department's opinion).
- **Calibration** uses population standard deviations (over the counted non-price scores).
  A reviewer's score s becomes board_mean + board_sd × (s − mean_r) / sd_r (a reviewer with
  no spread maps to board_mean): every reviewer then has the board's mean and spread, so a
  harsh and a lenient scorer weigh alike. The mapped scores are not clipped to 0..5. The
  consensus and price scores stay as they are (they are not a reviewer's scale); knock-outs
  and ranks are re-checked on the standardised scores.

Every function reads the board's scores into arrays once per call; :func:`analyse` gives all
the results of one board from a single read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from planner.core import score_matrix as mx
from planner.core.score_matrix import (  # noqa: F401 (gathered here)
    SCORE_MAX,
    SCORE_MIN,
    TIE,
    Board,
    CriterionSpec,
    ScoreEntry,
    VendorSpec,
    competition_ranks,
)

# --- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class VendorResult:
    """One vendor's line of the matrix."""

    vendor_id: int
    criterion_scores: dict[int, float | None]  # in the board's criterion order
    weighted_total: float | None  # full precision; None when incomplete
    incomplete: list[int]  # criteria without a score
    knocked_out: list[str]  # reasons; empty when not knocked out
    rank: int | None  # None when knocked out or incomplete


@dataclass(frozen=True)
class Evaluation:
    """Every vendor's result, keyed by vendor id, in the board's vendor order."""

    vendors: dict[int, VendorResult]

    @property
    def winner(self) -> int | None:
        """The vendor ranked first alone; None when nobody is ranked or first place is shared."""
        firsts = self.first_place
        return firsts[0] if len(firsts) == 1 else None

    @property
    def first_place(self) -> list[int]:
        """The vendors ranked first, in the board's order: one, several when tied, or none."""
        return [v.vendor_id for v in self.vendors.values() if v.rank == 1]

    @property
    def ranking(self) -> list[int]:
        """The ranked vendors, best first (equal ranks in the board's order)."""
        ranked = [v for v in self.vendors.values() if v.rank is not None]
        return [v.vendor_id for v in sorted(ranked, key=lambda v: v.rank or 0)]


def weight_shares(weights: Mapping[int, float]) -> dict[int, float]:
    """Each criterion's share of the total weight, in percent (w / Σw × 100); all 0.0 when the
    weights add up to nothing."""
    total = sum(weights.values())
    if total <= 0:
        return {key: 0.0 for key in weights}
    return {key: 100.0 * w / total for key, w in weights.items()}


def round_total(x: float | None) -> float | None:
    """A total rounded for people: two decimals, halves away from zero (as Excel's ROUND).

    Binary noise is trimmed first (12 significant digits), so a total that is 77.125 on paper
    shows as 77.13 even when the float is 77.12499999999999. For display and exports only:
    ranks and every comparison use the full precision. Raises ValueError for nan or infinity.
    """
    if x is None:
        return None
    if not math.isfinite(x):
        raise ValueError("a total must be a finite number")
    return float(Decimal(f"{x:.12g}").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def display(x: float | None) -> str:
    """A total as shown: two decimals (see :func:`round_total`), or a dash for none."""
    rounded = round_total(x)
    return "—" if rounded is None else f"{rounded:.2f}"


def weighted_total(scores: Mapping[int, float], criteria: Sequence[CriterionSpec]) -> float:
    """100 × Σ_c (w_c / Σw) × (score_c / 5) over ``criteria``, which must all be scored.

    Raises ValueError when a criterion has no score or the weights add up to zero.
    """
    total_w = mx.total_weight(criteria)
    missing = [c.name for c in criteria if scores.get(c.id) is None]
    if missing:
        raise ValueError(f"no score for: {', '.join(missing)}")
    return 100.0 * sum(c.weight / total_w * scores[c.id] / SCORE_MAX for c in criteria)


def evaluate(board: Board) -> Evaluation:
    """Criterion scores, weighted totals, completeness, knock-outs and ranks of every vendor.

    Raises ValueError for a negative or non-finite weight, weights adding up to zero, an id
    listed twice, or a counted score or a consensus score outside 0..5.
    """
    mx.check_board(board)
    return _evaluation(board, mx.evaluated(board, mx.sheet(board)))


def _evaluation(board: Board, m: mx.Scored) -> Evaluation:
    crit = board.criteria
    out = {}
    for i, v in enumerate(board.vendors):
        row = m.scores[i]
        out[v.id] = VendorResult(
            vendor_id=v.id,
            criterion_scores={c.id: mx.opt(row[k]) for k, c in enumerate(crit)},
            weighted_total=mx.opt(m.totals[i]),
            incomplete=[c.id for k, c in enumerate(crit) if math.isnan(row[k])],
            knocked_out=m.reasons[i],
            rank=m.ranks[i],
        )
    return Evaluation(out)


# --- disagreement and agreement -------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    """A vendor × criterion where the reviewers' scores lie far apart."""

    vendor_id: int
    criterion_id: int
    spread: int  # max − min of the scores
    entries: list[ScoreEntry]  # side by side, by reviewer id
    has_consensus: bool
    consensus: float | None = None  # the lead's score, if recorded


def disagreements(board: Board, threshold: int = 3) -> list[Disagreement]:
    """Vendor × criterion with at least two counted scores whose max − min ≥ ``threshold``.

    Ordered by spread (largest first), then by the board's vendor and criterion order.
    Raises ValueError for a threshold below 1, and as :func:`evaluate` does.
    """
    if threshold < 1:
        raise ValueError("the disagreement threshold must be at least 1")
    mx.check_board(board)
    return _disagreements(board, mx.sheet(board), threshold)


def _disagreements(board: Board, sh: mx.Sheet, threshold: int) -> list[Disagreement]:
    n_v, n_c = len(board.vendors), len(board.criteria)
    if not len(sh.row):
        return []
    cell = sh.v * n_c + sh.c
    count = np.bincount(cell, minlength=n_v * n_c)
    hi = np.full(n_v * n_c, -np.inf)
    lo = np.full(n_v * n_c, np.inf)
    np.maximum.at(hi, cell, sh.score)
    np.minimum.at(lo, cell, sh.score)
    flagged = (count >= 2) & (hi - lo >= threshold)
    picked = np.flatnonzero(flagged[cell])
    if not len(picked):
        return []
    picked = picked[np.lexsort((sh.r[picked], cell[picked]))]  # by cell, then reviewer id
    cells = cell[picked]
    starts = [0, *(np.flatnonzero(np.diff(cells)) + 1).tolist()]
    ends = [*starts[1:], len(picked)]
    rows = sh.row[picked].tolist()
    found = []
    for a, b in zip(starts, ends, strict=True):
        key = int(cells[a])
        vid, cid = board.vendors[key // n_c].id, board.criteria[key % n_c].id
        found.append(
            Disagreement(
                vendor_id=vid,
                criterion_id=cid,
                spread=round(float(hi[key] - lo[key])),
                entries=[board.scores[i] for i in rows[a:b]],
                has_consensus=(vid, cid) in board.consensus,
                consensus=board.consensus.get((vid, cid)),
            )
        )
    # cells are in board order (vendor, then criterion) already; a stable sort keeps it
    found.sort(key=lambda d: -d.spread)
    return found


def kendalls_w(board: Board) -> float | None:
    """Kendall's coefficient of concordance W over the reviewers' vendor rankings.

    Each reviewer ranks vendors by the weighted total of their own scores on the non-price
    criteria. W = 12·S / (m²(n³ − n) − m·ΣT): m reviewers, n vendors, S the sum of squared
    deviations of the vendors' rank sums from their mean m(n + 1)/2, T = Σ(t³ − t) over each
    reviewer's groups of t tied vendors. Who and what takes part: see the module docstring.
    None with fewer than two reviewers or vendors. Raises ValueError as :func:`evaluate` does.
    """
    mx.check_board(board)
    return _kendalls_w(board, mx.sheet(board))


def _kendalls_w(board: Board, sh: mx.Sheet) -> float | None:
    tech = np.array([not c.is_price for c in board.criteria], dtype=bool)
    w = mx.weight_vector(board)[tech]
    if not len(w) or w.sum() <= 0:
        return None
    n_r, n_v = len(sh.reviewer_ids), len(board.vendors)
    if n_r < 2 or n_v < 2:
        return None
    cube = np.full((n_r, n_v, len(board.criteria)), np.nan)
    cube[sh.r, sh.v, sh.c] = sh.score
    cube = cube[:, :, tech]
    recused = mx.recusal_matrix(board, sh.reviewer_ids)
    scored = ~np.isnan(cube).any(axis=2)  # reviewer × vendor: every criterion scored
    qualifies = (scored | recused).all(axis=1)
    common = ~recused[qualifies].any(axis=0)
    m, n = int(qualifies.sum()), int(common.sum())
    if m < 2 or n < 2:
        return None
    totals = cube[qualifies][:, common] @ (w / w.sum())  # m × n, on the 0..5 scale
    rank_sums = np.zeros(n)
    tie_term = 0.0
    for row in totals:
        ranks, groups = _average_ranks([float(t) for t in row])
        rank_sums += ranks
        tie_term += sum(t**3 - t for t in groups)
    s = float(((rank_sums - m * (n + 1) / 2) ** 2).sum())
    denominator = m**2 * (n**3 - n) - m * tie_term
    if denominator <= TIE:
        return None
    return min(1.0, max(0.0, 12 * s / denominator))


# --- departments and calibration ------------------------------------------------------------


def department_totals(board: Board) -> dict[str, dict[int, float | None]]:
    """The weighted totals each department's reviewers alone would give, per vendor.

    Same formula as :func:`evaluate`, from the means of that department's counted scores,
    without consensus scores, with the board's price scores. None where the department left
    a criterion of that vendor unscored. Reviewers without a department are in none.
    Raises ValueError as :func:`evaluate` does.
    """
    mx.check_board(board)
    sh = mx.sheet(board)
    return _department_totals(board, sh, mx.evaluated(board, sh))


def _department_totals(
    board: Board, sh: mx.Sheet, m: mx.Scored
) -> dict[str, dict[int, float | None]]:
    labels = [board.scores[i].department for i in sh.row]
    names = sorted({d for d in labels if d})
    if not names:
        return {}
    code = {d: i for i, d in enumerate(names)}
    dept = np.array([code.get(d, -1) if d else -1 for d in labels], dtype=np.intp)
    n_d, n_v, n_c = len(names), len(board.vendors), len(board.criteria)
    mine = dept >= 0
    key = (dept[mine] * n_v + sh.v[mine]) * n_c + sh.c[mine]
    size = n_d * n_v * n_c
    sums = np.bincount(key, weights=sh.score[mine], minlength=size).reshape(n_d, n_v, n_c)
    counts = np.bincount(key, minlength=size).reshape(n_d, n_v, n_c)
    means = mx.safe_mean(sums, counts)
    is_price = np.array([c.is_price for c in board.criteria], dtype=bool)
    if is_price.any():
        means[:, :, is_price] = m.price[None, :, None]
    shares = mx.weight_vector(board) / mx.total_weight(board.criteria)
    totals = 100.0 * (means @ shares) / SCORE_MAX  # nan where a criterion is unscored
    return {
        name: {v.id: mx.opt(totals[d, i]) for i, v in enumerate(board.vendors)}
        for d, name in enumerate(names)
    }


@dataclass(frozen=True)
class ReviewerCalibration:
    """One reviewer's scale: mean and population standard deviation of their scores."""

    reviewer_id: int
    department: str | None
    mean: float
    sd: float
    count: int


@dataclass(frozen=True)
class Calibration:
    """The reviewers' scales beside the board's, and the totals with standardised scores."""

    reviewers: list[ReviewerCalibration]  # by reviewer id
    board_mean: float | None  # None when nothing is scored
    board_sd: float | None
    standardised_totals: dict[int, float | None]
    standardised_ranks: dict[int, int | None] = field(default_factory=dict)


def calibration(board: Board) -> Calibration:
    """Each reviewer's mean and spread beside the board's, and the totals recomputed with
    every reviewer's scores standardised (the mapping is in the module docstring).

    A robustness check shown next to the raw totals, which stay the result. Raises
    ValueError as :func:`evaluate` does.
    """
    mx.check_board(board)
    sh = mx.sheet(board)
    return _calibration(board, sh, mx.evaluated(board, sh))


def _calibration(board: Board, sh: mx.Sheet, raw: mx.Scored) -> Calibration:
    if not len(sh.row):
        empty: dict[int, None] = {v.id: None for v in board.vendors}
        return Calibration([], None, None, dict(empty), dict(empty))
    n_r = len(sh.reviewer_ids)
    count = np.bincount(sh.r, minlength=n_r)
    mean_r = np.bincount(sh.r, weights=sh.score, minlength=n_r) / count
    dev = sh.score - mean_r[sh.r]
    sd_r = np.sqrt(np.bincount(sh.r, weights=dev * dev, minlength=n_r) / count)
    board_mean = float(sh.score.mean())
    board_sd = float(sh.score.std())
    spread = sd_r > TIE
    safe_sd = np.where(spread, sd_r, 1.0)
    z = np.where(spread[sh.r], board_mean + board_sd * dev / safe_sd[sh.r], board_mean)
    _, first = np.unique(sh.r, return_index=True)
    reviewers = [
        ReviewerCalibration(
            reviewer_id=rid,
            department=board.scores[sh.row[first[i]]].department,
            mean=float(mean_r[i]),
            sd=float(sd_r[i]),
            count=int(count[i]),
        )
        for i, rid in enumerate(sh.reviewer_ids)
    ]
    m = mx.scored(board, mx.cell_means(board, sh, z), raw.price)
    return Calibration(
        reviewers=reviewers,
        board_mean=board_mean,
        board_sd=board_sd,
        standardised_totals={v.id: mx.opt(m.totals[i]) for i, v in enumerate(board.vendors)},
        standardised_ranks={v.id: m.ranks[i] for i, v in enumerate(board.vendors)},
    )


def _average_ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Ranks 1..n, highest value first, ties (to 1e-9) sharing their average rank; and the
    sizes of the groups of ties."""
    order = sorted(range(len(values)), key=lambda i: -values[i])
    ranks = [0.0] * len(values)
    groups = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[i]] - values[order[j + 1]] <= TIE:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        if j > i:
            groups.append(j - i + 1)
        i = j + 1
    return ranks, groups
