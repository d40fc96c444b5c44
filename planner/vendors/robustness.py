"""How robust the winner is to the weights: the smallest change of one criterion's share that
changes the winner (:func:`sensitivity`) and the chance of each vendor ranking first when every
weight moves at random (:func:`monte_carlo`). Pure functions; :mod:`planner.vendors.scoring`
gathers them, and :func:`planner.vendors.scoring.analyse` gives them with the other results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planner.core import score_matrix as mx
from planner.core.score_matrix import TIE, Board, FloatArray

# --- sensitivity ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SensitivityResult:
    """The smallest change of one criterion's share of the weight that changes the winner."""

    change_pp: float  # signed, percentage points of the total weight
    new_winner: int  # who leads just past that change
    share_pp: float = 0.0  # the criterion's share now, percent
    new_share_pp: float = 0.0  # its share where the winner changes, percent


def sensitivity(board: Board) -> dict[int, SensitivityResult | None]:
    """For each criterion, the smallest change of its share of the total weight (the other
    weights rescaled proportionally) that changes the winner among the ranked vendors, with
    the new winner; None if no share in [0, 1] changes it.

    A ranked vendor's total is linear in the share s′ of criterion c:
    T(s′) = s′·x_c + (1 − s′)/(1 − s)·(T − s·x_c), x_c its score on c × 20 and s the current
    share, so the answer is the nearest point where another vendor's line meets the winner's
    and rises above it, solved exactly (no search). At that point the two are level; past it
    the new winner leads. Knock-outs, completeness and price scores do not depend on the
    weights, so the ranked vendors stay the same. A criterion that holds the whole weight has
    no proportional rescaling of the others: None. When a cut and a rise of the same size
    both change the winner, the cut is reported. A shared first place: see the module
    docstring. Raises ValueError as :func:`evaluate` does.
    """
    mx.check_board(board)
    return sensitivity_of(board, mx.evaluated(board, mx.sheet(board)))


def sensitivity_of(board: Board, m: mx.Scored) -> dict[int, SensitivityResult | None]:
    out: dict[int, SensitivityResult | None] = {c.id: None for c in board.criteria}
    ranked, x, totals = mx.ranked(board, m)
    if len(ranked) < 2:
        return out
    shares = mx.weight_vector(board) / mx.total_weight(board.criteria)
    leader = int(np.flatnonzero(totals >= totals.max() - TIE)[0])
    for k, c in enumerate(board.criteria):
        s = float(shares[k])
        if s >= 1 - TIE:
            continue
        slope = x[:, k] - (totals - s * x[:, k]) / (1 - s)  # T_i(s′) = T_i + slope_i·(s′ − s)
        found = _first_overtake(totals, slope, leader, s)
        if found is not None:
            delta, j = found
            delta = 0.0 if abs(delta) < TIE else delta
            out[c.id] = SensitivityResult(
                change_pp=delta * 100.0,
                new_winner=ranked[j],
                share_pp=s * 100.0,
                new_share_pp=(s + delta) * 100.0,
            )
    return out


def _first_overtake(
    totals: FloatArray, slope: FloatArray, leader: int, s: float
) -> tuple[float, int] | None:
    """The nearest signed change δ of the share (s + δ within [0, 1]) past which another
    vendor leads ``leader``, and that vendor; a cut wins over a rise of the same size."""
    best: tuple[float, int] | None = None
    for direction in (-1.0, 1.0):
        room = s if direction < 0 else 1 - s  # how far the share can move this way
        gain = direction * (slope - slope[leader])  # what each vendor gains per unit moved
        gap = np.maximum(totals[leader] - totals, 0.0)
        can = gain > TIE
        can[leader] = False
        if not can.any():
            continue
        distance = np.full(len(totals), np.inf)
        distance[can] = gap[can] / gain[can]
        distance[distance >= room - TIE] = np.inf
        nearest = float(distance.min())
        if not math.isfinite(nearest):
            continue
        level = np.flatnonzero(distance <= nearest + TIE)
        # past the meeting point the steepest of the vendors meeting there leads
        steep = direction * slope[level]
        j = int(level[np.flatnonzero(steep >= steep.max() - TIE)[0]])
        if best is None or nearest < abs(best[0]) - TIE:
            best = (direction * nearest, j)
    return best


def monte_carlo(
    board: Board, draws: int = 10_000, spread: float = 0.20, seed: int = 2026
) -> dict[int, float]:
    """Each ranked vendor's probability of ranking first when every weight is multiplied by
    an independent uniform factor in [1 − spread, 1 + spread].

    Draw d multiplies the weight of criterion k (in the board's order) by factors[d, k] of
    ``numpy.random.default_rng(seed).uniform(1 − spread, 1 + spread, (draws, criteria))``,
    so the same board and seed give the same answer; all draws are one matrix product. Only
    ranked vendors take part; a tie for first (to 1e-9) is split evenly among the tied. The
    probabilities add up to 1 (an empty dict when nobody is ranked). Raises ValueError for
    draws below 1, a spread outside [0, 1), and as :func:`evaluate` does.
    """
    check_mc(draws, spread)
    mx.check_board(board)
    return monte_carlo_of(board, mx.evaluated(board, mx.sheet(board)), draws, spread, seed)


def check_mc(draws: int, spread: float) -> None:
    if draws < 1:
        raise ValueError("draws must be at least 1")
    if not 0 <= spread < 1:
        raise ValueError("the spread must be at least 0 and below 1")


def monte_carlo_of(
    board: Board, m: mx.Scored, draws: int, spread: float, seed: int
) -> dict[int, float]:
    ranked, x, _ = mx.ranked(board, m)
    if not ranked:
        return {}
    w = mx.weight_vector(board)
    factors = np.random.default_rng(seed).uniform(1 - spread, 1 + spread, size=(draws, len(w)))
    weights = factors * w
    weights /= weights.sum(axis=1, keepdims=True)
    totals = weights @ x.T  # draws × vendors, 0..100
    first = totals >= totals.max(axis=1, keepdims=True) - TIE
    wins = (first / first.sum(axis=1, keepdims=True)).sum(axis=0) / draws
    return {vid: float(p) for vid, p in zip(ranked, wins, strict=True)}
