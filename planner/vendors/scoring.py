"""The maths of vendor selection: pure functions on plain values (no Flask, no database).

Formulas (issue 4, "the numbers must be exactly these"):

- criterion score of a vendor = mean of the reviewers' scores for it (recused reviewers left
  out), replaced by the lead's consensus score where one is recorded; a price criterion is
  scored by formula 5 × (lowest quoted cost among ranked vendors) / (the vendor's cost);
- weighted total = 100 × Σ_c (w_c / Σ w) × (criterion score_c / 5);
- a vendor with a criterion nobody scored is incomplete: no total, no rank;
- a vendor below the minimum of a must-have criterion is knocked out: total shown, no rank;
- ranks by total, highest first, equal totals share a rank (1, 1, 3).

"Ranked vendors" for the price formula are those neither knocked out nor incomplete on the
non-price criteria and with a quoted cost: the cheapest of the serious contenders sets the
scale, as in public procurement.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

EPS = 1e-9


@dataclass(frozen=True)
class CriterionSpec:
    id: int
    name: str
    weight: float
    group: str = ""
    must_have: bool = False
    min_score: float = 3.0
    is_price: bool = False


@dataclass(frozen=True)
class VendorSpec:
    id: int
    name: str
    cost: float | None = None  # quoted 3-year cost


@dataclass(frozen=True)
class ScoreEntry:
    reviewer_id: int
    vendor_id: int
    criterion_id: int
    score: int
    department: str | None = None
    comment: str = ""


@dataclass(frozen=True)
class Board:
    """Everything one evaluation needs."""

    vendors: list[VendorSpec]
    criteria: list[CriterionSpec]
    scores: list[ScoreEntry]
    consensus: dict[tuple[int, int], float] = field(default_factory=dict)
    recusals: frozenset[tuple[int, int]] = frozenset()  # (reviewer_id, vendor_id)

    def counted(self) -> list[ScoreEntry]:
        """The scores that count: recused reviewers' scores are left out of every result."""
        return [s for s in self.scores if (s.reviewer_id, s.vendor_id) not in self.recusals]


@dataclass(frozen=True)
class VendorResult:
    vendor_id: int
    criterion_scores: dict[int, float | None]
    weighted_total: float | None
    incomplete: list[int]
    knocked_out: list[str]
    rank: int | None


@dataclass(frozen=True)
class Evaluation:
    vendors: dict[int, VendorResult]

    @property
    def winner(self) -> int | None:
        firsts = [v.vendor_id for v in self.vendors.values() if v.rank == 1]
        return firsts[0] if len(firsts) == 1 else None


def display(x: float | None) -> str:
    """A total as shown: two decimals."""
    return "—" if x is None else f"{x:.2f}"


def _total_weight(criteria: list[CriterionSpec]) -> float:
    total = sum(c.weight for c in criteria)
    if criteria and total <= 0:
        raise ValueError("the criteria's weights add up to zero")
    return total


def weighted_total(scores: dict[int, float], criteria: list[CriterionSpec]) -> float:
    """100 × Σ_c (w_c / Σw) × (score_c / 5). Every criterion must have a score."""
    total_w = _total_weight(criteria)
    return 100.0 * sum(c.weight / total_w * scores[c.id] / 5.0 for c in criteria)


def competition_ranks(totals: dict[int, float]) -> dict[int, int]:
    """Rank highest first; equal totals (to 1e-9) share a rank: 1, 1, 3."""
    ordered = sorted(totals.items(), key=lambda kv: -kv[1])
    ranks: dict[int, int] = {}
    for i, (vid, t) in enumerate(ordered):
        if i and abs(t - ordered[i - 1][1]) <= EPS:
            ranks[vid] = ranks[ordered[i - 1][0]]
        else:
            ranks[vid] = i + 1
    return ranks


def _means(entries: list[ScoreEntry]) -> dict[tuple[int, int], float]:
    sums: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for s in entries:
        acc = sums[(s.vendor_id, s.criterion_id)]
        acc[0] += s.score
        acc[1] += 1
    return {k: a / n for k, (a, n) in sums.items()}


def _evaluate(board: Board, entries: list[ScoreEntry], use_consensus: bool = True) -> Evaluation:
    criteria = board.criteria
    _total_weight(criteria)
    means = _means(entries)
    tech = [c for c in criteria if not c.is_price]
    price = [c for c in criteria if c.is_price]
    partial: dict[int, dict[int, float | None]] = {}
    incomplete: dict[int, list[int]] = {}
    knocked: dict[int, list[str]] = {}
    for v in board.vendors:
        cs: dict[int, float | None] = {}
        for c in tech:
            value = board.consensus.get((v.id, c.id)) if use_consensus else None
            if value is None:
                value = means.get((v.id, c.id))
            cs[c.id] = value
        partial[v.id] = cs
        incomplete[v.id] = [c.id for c in tech if cs[c.id] is None]
        knocked[v.id] = [
            f"{c.name}: {cs[c.id]:.2f} below the must-have minimum {c.min_score:g}"
            for c in tech
            if c.must_have and cs[c.id] is not None and cs[c.id] < c.min_score - EPS
        ]
    if price:
        contenders = [
            v
            for v in board.vendors
            if not incomplete[v.id] and not knocked[v.id] and v.cost is not None and v.cost > 0
        ]
        lowest = min((v.cost for v in contenders), default=None)  # type: ignore[type-var]
        for v in board.vendors:
            for c in price:
                if lowest is not None and v.cost is not None and v.cost > 0:
                    partial[v.id][c.id] = min(5.0, 5.0 * lowest / v.cost)
                else:
                    partial[v.id][c.id] = None
                    incomplete[v.id].append(c.id)
    totals: dict[int, float | None] = {}
    for v in board.vendors:
        cs = partial[v.id]
        if incomplete[v.id]:
            totals[v.id] = None
        else:
            totals[v.id] = weighted_total({k: s for k, s in cs.items() if s is not None}, criteria)
    rankable = {vid: t for vid, t in totals.items() if t is not None and not knocked[vid]}
    ranks = competition_ranks(rankable)
    return Evaluation(
        {
            v.id: VendorResult(
                vendor_id=v.id,
                criterion_scores={c.id: partial[v.id].get(c.id) for c in criteria},
                weighted_total=totals[v.id],
                incomplete=incomplete[v.id],
                knocked_out=knocked[v.id],
                rank=ranks.get(v.id),
            )
            for v in board.vendors
        }
    )


def evaluate(board: Board) -> Evaluation:
    """Criterion scores, weighted totals, knock-outs, completeness and ranks of every vendor."""
    return _evaluate(board, board.counted())


# --- disagreement and agreement ------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    vendor_id: int
    criterion_id: int
    spread: int
    entries: list[ScoreEntry]
    has_consensus: bool


def disagreements(board: Board, threshold: int = 3) -> list[Disagreement]:
    """Vendor × criterion with at least two scores whose max − min ≥ ``threshold``."""
    groups: dict[tuple[int, int], list[ScoreEntry]] = defaultdict(list)
    price = {c.id for c in board.criteria if c.is_price}
    for s in board.counted():
        if s.criterion_id not in price:
            groups[(s.vendor_id, s.criterion_id)].append(s)
    out = []
    for (vid, cid), entries in groups.items():
        if len(entries) < 2:
            continue
        spread = max(e.score for e in entries) - min(e.score for e in entries)
        if spread >= threshold:
            out.append(
                Disagreement(
                    vid,
                    cid,
                    spread,
                    sorted(entries, key=lambda e: e.reviewer_id),
                    (vid, cid) in board.consensus,
                )
            )
    return sorted(out, key=lambda d: (-d.spread, d.vendor_id, d.criterion_id))


def _reviewer_totals(board: Board) -> dict[int, dict[int, float]]:
    """Each reviewer's weighted totals from their own scores, for reviewers who scored every
    technical criterion of every vendor they are not recused from (and at least two)."""
    tech = [c for c in board.criteria if not c.is_price]
    if not tech:
        return {}
    by_reviewer: dict[int, dict[tuple[int, int], int]] = defaultdict(dict)
    for s in board.counted():
        by_reviewer[s.reviewer_id][(s.vendor_id, s.criterion_id)] = s.score
    out: dict[int, dict[int, float]] = {}
    for rid, scores in by_reviewer.items():
        vendors = [v.id for v in board.vendors if (rid, v.id) not in board.recusals]
        if any((vid, c.id) not in scores for vid in vendors for c in tech):
            continue
        out[rid] = {
            vid: weighted_total({c.id: float(scores[(vid, c.id)]) for c in tech}, tech)
            for vid in vendors
        }
    return out


def _average_ranks(values: list[float]) -> tuple[list[float], list[int]]:
    """Ranks 1..n (highest value first), ties get the average rank; and the tie-group sizes."""
    order = sorted(range(len(values)), key=lambda i: -values[i])
    ranks = [0.0] * len(values)
    ties = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and abs(values[order[j + 1]] - values[order[i]]) <= EPS:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def kendalls_w(board: Board) -> float | None:
    """Kendall's W (with the tie correction) over the reviewers' vendor rankings.

    Only reviewers who scored every vendor on every technical criterion take part, and only
    vendors that every one of them ranked; None with fewer than 2 reviewers or vendors.
    """
    totals = _reviewer_totals(board)
    if len(totals) < 2:
        return None
    common = set.intersection(*(set(t) for t in totals.values()))
    vendors = sorted(common)
    m, n = len(totals), len(vendors)
    if n < 2:
        return None
    rank_sums = [0.0] * n
    tie_term = 0.0
    for t in totals.values():
        ranks, ties = _average_ranks([t[v] for v in vendors])
        for i, r in enumerate(ranks):
            rank_sums[i] += r
        tie_term += sum(g**3 - g for g in ties)
    mean = m * (n + 1) / 2
    s = sum((r - mean) ** 2 for r in rank_sums)
    denom = m**2 * (n**3 - n) - m * tie_term
    if denom <= 0:
        return 1.0
    return 12 * s / denom


# --- departments and calibration ------------------------------------------------------------


def department_totals(board: Board) -> dict[str, dict[int, float | None]]:
    """The weighted totals each department's reviewers alone would give (consensus ignored:
    this is what the department thinks)."""
    depts = sorted({s.department for s in board.counted() if s.department})
    out: dict[str, dict[int, float | None]] = {}
    for dept in depts:
        entries = [s for s in board.counted() if s.department == dept]
        ev = _evaluate(board, entries, use_consensus=False)
        out[dept] = {vid: r.weighted_total for vid, r in ev.vendors.items()}
    return out


@dataclass(frozen=True)
class ReviewerCalibration:
    reviewer_id: int
    department: str | None
    mean: float
    sd: float
    count: int


@dataclass(frozen=True)
class Calibration:
    reviewers: list[ReviewerCalibration]
    board_mean: float
    board_sd: float
    standardised_totals: dict[int, float | None]


def _mean_sd(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / n)


def calibration(board: Board) -> Calibration | None:
    """Each reviewer's mean and spread beside the board's, and the totals recomputed with each
    reviewer's scores standardised: s' = board_mean + board_sd × (s − mean_r) / sd_r (a
    reviewer with no spread maps to board_mean). Population standard deviations."""
    entries = [
        s
        for s in board.counted()
        if s.criterion_id not in {c.id for c in board.criteria if c.is_price}
    ]
    if not entries:
        return None
    board_mean, board_sd = _mean_sd([float(s.score) for s in entries])
    per: dict[int, list[ScoreEntry]] = defaultdict(list)
    for s in entries:
        per[s.reviewer_id].append(s)
    stats: dict[int, tuple[float, float]] = {}
    reviewers = []
    for rid, rs in sorted(per.items()):
        mean, sd = _mean_sd([float(s.score) for s in rs])
        stats[rid] = (mean, sd)
        reviewers.append(ReviewerCalibration(rid, rs[0].department, mean, sd, len(rs)))
    standard = [
        ScoreEntry(
            s.reviewer_id,
            s.vendor_id,
            s.criterion_id,
            board_mean + board_sd * (s.score - stats[s.reviewer_id][0]) / stats[s.reviewer_id][1]
            if stats[s.reviewer_id][1] > EPS
            else board_mean,  # type: ignore[arg-type]
            s.department,
        )
        for s in entries
    ]
    ev = _evaluate(board, standard)
    return Calibration(
        reviewers,
        board_mean,
        board_sd,
        {vid: r.weighted_total for vid, r in ev.vendors.items()},
    )


# --- AHP ------------------------------------------------------------------------------------

# Saaty's random consistency index by matrix size.
RANDOM_INDEX = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}
SAATY = [float(i) for i in range(1, 10)] + [1.0 / i for i in range(2, 10)]


@dataclass(frozen=True)
class AHPResult:
    weights: list[float]
    lambda_max: float
    ci: float
    cr: float
    inconsistent: bool
    worst_pairs: list[tuple[int, int]]


def ahp_matrix_from_pairs(n: int, pairs: dict[tuple[int, int], float]) -> list[list[float]]:
    """A full reciprocal matrix from judgements a_ij (i over j) of the upper or lower half."""
    m = [[1.0] * n for _ in range(n)]
    for (i, j), value in pairs.items():
        if not (0 <= i < n and 0 <= j < n) or i == j:
            raise ValueError(f"no pair ({i}, {j}) in a {n}×{n} comparison")
        m[i][j] = float(value)
        m[j][i] = 1.0 / float(value)
    missing = [
        (i, j)
        for i in range(n)
        for j in range(i + 1, n)
        if (i, j) not in pairs and (j, i) not in pairs
    ]
    if missing:
        raise ValueError(f"{len(missing)} pair(s) of criteria are not compared")
    return m


def ahp(matrix: list[list[float]]) -> AHPResult:
    """Weights from a pairwise comparison matrix (principal eigenvector), with Saaty's
    consistency ratio CR = CI / RI, CI = (λmax − n)/(n − 1); CR > 0.10 is inconsistent."""
    n = len(matrix)
    if n == 0 or any(len(row) != n for row in matrix):
        raise ValueError("the comparison matrix must be square and not empty")
    a = np.array(matrix, dtype=float)
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError("judgements must be positive numbers")
    for i in range(n):
        if abs(a[i, i] - 1) > 1e-9:
            raise ValueError("a criterion compared with itself must be 1")
        for j in range(n):
            if i != j:
                if not any(abs(a[i, j] - s) < 1e-6 for s in SAATY):
                    raise ValueError(
                        f"judgement {a[i, j]:g} is not on Saaty's scale (1..9 or 1/2..1/9)"
                    )
                if abs(a[i, j] * a[j, i] - 1) > 1e-6:
                    raise ValueError(f"judgements ({i}, {j}) and ({j}, {i}) are not reciprocal")
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    w = np.abs(vectors[:, k].real)
    w = w / w.sum()
    lambda_max = float(values[k].real)
    ci = (lambda_max - n) / (n - 1) if n > 2 else 0.0
    ri = RANDOM_INDEX.get(n, 1.59)
    cr = ci / ri if ri > 0 else 0.0
    dev = [
        (abs(math.log(a[i, j] * w[j] / w[i])), (i, j)) for i in range(n) for j in range(i + 1, n)
    ]
    worst = [p for d, p in sorted(dev, reverse=True) if d > 1e-9]
    return AHPResult(
        [float(x) for x in w], lambda_max, max(ci, 0.0), max(cr, 0.0), cr > 0.10, worst
    )


# --- sensitivity -------------------------------------------------------------------------


@dataclass(frozen=True)
class SensitivityResult:
    change_pp: float  # signed change of the criterion's share, in percentage points
    new_winner: int


def _ranked_matrix(board: Board) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Ranked vendors, their criterion scores (vendors × criteria, as score/5 × 100), weights."""
    ev = evaluate(board)
    ranked = [v.id for v in board.vendors if ev.vendors[v.id].rank is not None]
    x = np.array(
        [
            [ev.vendors[vid].criterion_scores[c.id] / 5.0 * 100.0 for c in board.criteria]
            for vid in ranked
        ],
        dtype=float,
    ).reshape(len(ranked), len(board.criteria))
    w = np.array([c.weight for c in board.criteria], dtype=float)
    return ranked, x, w


def sensitivity(board: Board) -> dict[int, SensitivityResult | None]:
    """For each criterion, the smallest change of its share of the total weight (the other
    weights rescaled proportionally) that changes the winner; None if no share in [0, 1] does.

    A vendor's total is linear in the share s' of criterion c:
    T(s') = s'·x_c + (1 − s')/(1 − s_c)·(T − s_c·x_c); the winner changes where another
    vendor's line crosses the winner's. Solved exactly.
    """
    out: dict[int, SensitivityResult | None] = {c.id: None for c in board.criteria}
    ranked, x, w = _ranked_matrix(board)
    if len(ranked) < 2 or not len(w):
        return out
    shares = w / w.sum()
    totals = x @ shares
    winner = int(np.argmax(totals))
    for k, c in enumerate(board.criteria):
        s = shares[k]
        best: tuple[float, int] | None = None
        for j in range(len(ranked)):
            if j == winner:
                continue
            # T_i(s') = a_i + b_i s'  with  a_i = (T_i - s x_ik)/(1 - s),  b_i = x_ik - a_i
            if s >= 1 - EPS:
                continue
            a_w = (totals[winner] - s * x[winner, k]) / (1 - s)
            a_j = (totals[j] - s * x[j, k]) / (1 - s)
            b_w, b_j = x[winner, k] - a_w, x[j, k] - a_j
            if abs(b_w - b_j) < EPS:
                continue
            cross = (a_j - a_w) / (b_w - b_j)
            if not (0 - EPS <= cross <= 1 + EPS):
                continue
            delta = cross - s
            if abs(delta) < EPS:
                continue
            # just past the crossing, j must beat the winner
            probe = min(max(cross + math.copysign(1e-7, delta), 0.0), 1.0)
            if a_j + b_j * probe > a_w + b_w * probe and (
                best is None or abs(delta) < abs(best[0])
            ):
                best = (delta, j)
        if best is not None:
            out[c.id] = SensitivityResult(best[0] * 100.0, ranked[best[1]])
    return out


def monte_carlo(
    board: Board, draws: int = 10_000, spread: float = 0.20, seed: int = 2026
) -> dict[int, float]:
    """Each ranked vendor's probability of ranking first when every weight is multiplied by an
    independent uniform factor in [1 − spread, 1 + spread]. Vectorised, seeded, reproducible;
    a tie for first goes to the vendor listed first."""
    ranked, x, w = _ranked_matrix(board)
    if not ranked:
        return {}
    rng = np.random.default_rng(seed)
    factors = rng.uniform(1 - spread, 1 + spread, size=(draws, len(w)))
    weights = factors * w
    weights /= weights.sum(axis=1, keepdims=True)
    totals = weights @ x.T  # draws × vendors
    firsts = np.bincount(np.argmax(totals, axis=1), minlength=len(ranked))
    return {vid: float(firsts[i]) / draws for i, vid in enumerate(ranked)}
