"""How robust the winner is to the weights: the smallest change of one criterion's share that
changes the winner (:func:`sensitivity`), which way each share breaks a tie for first
(:func:`tie_breaks`), and the chance of each vendor ranking first when every weight moves at
random (:func:`monte_carlo`). Pure functions; :mod:`planner.vendors.scoring` gathers them, and
:func:`planner.vendors.scoring.analyse` gives them with the other results.

A shared first place (equal totals to 1e-9, rank 1 for each) is never settled by the order in
which the vendors are listed: :func:`monte_carlo` shares each draw among the vendors tied in
it, :func:`sensitivity` answers for the tied vendors together, and :func:`tie_breaks` says, for
each of them, the change that puts it first alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from planner.core import score_matrix as mx
from planner.core.score_matrix import TIE, Board, BoolArray, CriterionSpec, FloatArray

# --- sensitivity ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SensitivityResult:
    """The smallest change of one criterion's share of the weight that changes the winner."""

    change_pp: float  # signed, percentage points of the total weight
    new_winner: int  # who leads just past that change (the first of ``new_winners``)
    share_pp: float = 0.0  # the criterion's share now, percent
    new_share_pp: float = 0.0  # its share where the winner changes, percent
    new_winners: list[int] = field(default_factory=list)  # all who lead just past it, tied


def sensitivity(board: Board) -> dict[int, SensitivityResult | None]:
    """For each criterion, the smallest change of its share of the total weight (the other
    weights rescaled proportionally) that gives first place to a ranked vendor that does not
    hold it now, with the new winner; None if no share in [0, 1] does.

    A ranked vendor's total is linear in the share s′ of criterion c:
    T(s′) = s′·x_c + (1 − s′)/(1 − s)·(T − s·x_c), x_c its score on c × 20 and s the current
    share, so the answer is the nearest point where another vendor's line meets the winner's
    and rises above it, solved exactly (no search). At that point the two are level; past it
    the new winner leads (``new_winners`` names every vendor that leads there, level with one
    another: identical vendors overtake together). Knock-outs, completeness and price scores
    do not depend on the weights, so the ranked vendors stay the same. A criterion that holds
    the whole weight has no proportional rescaling of the others: None. When a cut and a rise
    of the same size both change the winner, the cut is reported.

    A shared first place is no winner: the answer is then the nearest change past which a
    vendor outside the tie leads (the tied vendor that rises fastest that way is the one to
    overtake), whatever the order of the vendors; which way each share breaks the tie itself
    is :func:`tie_breaks`. Raises ValueError as :func:`evaluate` does.
    """
    mx.check_board(board)
    return sensitivity_of(board, mx.evaluated(board, mx.sheet(board)))


def sensitivity_of(board: Board, m: mx.Scored) -> dict[int, SensitivityResult | None]:
    out: dict[int, SensitivityResult | None] = {c.id: None for c in board.criteria}
    ranked, x, totals = mx.ranked(board, m)
    if len(ranked) < 2:
        return out
    first = _first_place(m)
    for c, s, slope in _lines(board, x, totals):
        found = _first_overtake(totals, slope, first, s)
        if found is not None:
            delta, winners = found
            delta = 0.0 if abs(delta) < TIE else delta
            out[c.id] = SensitivityResult(
                change_pp=delta * 100.0,
                new_winner=ranked[winners[0]],
                share_pp=s * 100.0,
                new_share_pp=(s + delta) * 100.0,
                new_winners=[ranked[j] for j in winners],
            )
    return out


def _first_place(m: mx.Scored) -> BoolArray:
    """Which of the ranked vendors (in the order of :func:`planner.core.score_matrix.ranked`)
    rank first."""
    return np.array([rank == 1 for rank in m.ranks if rank is not None], dtype=bool)


def _lines(
    board: Board, x: FloatArray, totals: FloatArray
) -> Iterator[tuple[CriterionSpec, float, FloatArray]]:
    """Each criterion whose share can move, with its share s and every ranked vendor's slope:
    T_i(s′) = T_i + slope_i·(s′ − s) (see :func:`sensitivity`)."""
    shares = mx.weight_vector(board) / mx.total_weight(board.criteria)
    for k, c in enumerate(board.criteria):
        s = float(shares[k])
        if s >= 1 - TIE:
            continue
        yield c, s, x[:, k] - (totals - s * x[:, k]) / (1 - s)


def _first_overtake(
    totals: FloatArray, slope: FloatArray, first: BoolArray, s: float
) -> tuple[float, list[int]] | None:
    """The nearest signed change δ of the share (s + δ within [0, 1]) past which a vendor
    outside ``first`` leads, and the vendors that lead there; a cut wins over a rise of the
    same size."""
    best: tuple[float, list[int]] | None = None
    tied = np.flatnonzero(first)
    for direction in (-1.0, 1.0):
        room = s if direction < 0 else 1 - s  # how far the share can move this way
        # of the vendors first now, the one that rises fastest this way is the one to overtake
        fastest = direction * slope[tied]
        leader = int(tied[np.flatnonzero(fastest >= fastest.max() - TIE)[0]])
        gain = direction * (slope - slope[leader])  # what each vendor gains per unit moved
        gap = np.maximum(totals[leader] - totals, 0.0)
        can = (gain > TIE) & ~first
        if not can.any():
            continue
        distance = np.full(len(totals), np.inf)
        distance[can] = gap[can] / gain[can]
        distance[distance >= room - TIE] = np.inf
        nearest = float(distance.min())
        if not math.isfinite(nearest):
            continue
        level = np.flatnonzero(distance <= nearest + TIE)
        # past the meeting point the steepest of the vendors meeting there lead
        steep = direction * slope[level]
        winners = [int(j) for j in level[steep >= steep.max() - TIE]]
        if best is None or nearest < abs(best[0]) - TIE:
            best = (direction * nearest, winners)
    return best


# --- a shared first place -------------------------------------------------------------------


@dataclass(frozen=True)
class TieBreak:
    """Which way one criterion's share of the weight breaks a tie for first in favour of one
    of the tied vendors, and how far it can move that way with that vendor first alone."""

    direction: int  # +1: any rise of the share puts the vendor first alone; −1: any cut
    # signed, percentage points: how far the share can move that way with the vendor first
    # alone (there another vendor draws level with it, or the share reaches 0 or 100 %)
    up_to_pp: float
    share_pp: float  # the criterion's share now, percent


def tie_breaks(board: Board) -> dict[int, dict[int, TieBreak | None]]:
    """When first place is shared: for each criterion and each vendor ranked first, which way
    a change of that criterion's share of the total weight (the other weights rescaled
    proportionally, as in :func:`sensitivity`) puts that vendor first alone, and how far.

    The tied vendors are level now, so their lines T_i(s′) = T + slope_i·(s′ − s) meet at
    the current share s: any change δ of the share, however small, in the direction where
    vendor i's slope is steeper than every other tied vendor's puts i ahead of them, exactly
    (no search, no threshold). It stays first alone until the nearest vendor from outside
    the tie draws level with it, or the share reaches 0 or 100 %: ``up_to_pp`` is that
    signed change. None for a tied vendor that no change of this share alone puts first
    alone: its line is the same as another tied vendor's (identical scores on every
    criterion: no change of any weight separates them), or lies between the others'. None
    throughout for a criterion that holds the whole weight. An empty dict when nobody or one
    vendor alone ranks first. Raises ValueError as :func:`evaluate` does.
    """
    mx.check_board(board)
    return tie_breaks_of(board, mx.evaluated(board, mx.sheet(board)))


def tie_breaks_of(board: Board, m: mx.Scored) -> dict[int, dict[int, TieBreak | None]]:
    ranked, x, totals = mx.ranked(board, m)
    first = _first_place(m)
    tied = np.flatnonzero(first)
    if len(tied) < 2:
        return {}
    out: dict[int, dict[int, TieBreak | None]] = {
        c.id: {ranked[i]: None for i in tied} for c in board.criteria
    }
    for c, s, slope in _lines(board, x, totals):
        for i in tied:
            ahead = slope[i] - slope[tied[tied != i]]  # how much faster i rises than each
            if (ahead > TIE).all():
                direction = 1.0
            elif (ahead < -TIE).all():
                direction = -1.0
            else:
                continue
            room = s if direction < 0 else 1 - s
            if room <= TIE:
                continue
            gain = direction * (slope - slope[i])  # what each vendor gains on i per unit
            can = (gain > TIE) & ~first
            reach = room
            if can.any():
                reach = min(room, float(((totals[i] - totals[can]) / gain[can]).min()))
            out[c.id][ranked[i]] = TieBreak(
                direction=int(direction), up_to_pp=direction * reach * 100.0, share_pp=s * 100.0
            )
    return out


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
