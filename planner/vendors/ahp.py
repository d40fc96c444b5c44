"""The analytic hierarchy process (AHP): criterion weights from pairwise judgements on
Saaty's scale, with the consistency ratio. Pure functions on plain values.

Part of the maths of vendor selection; :mod:`planner.vendors.scoring` gathers it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Saaty's random consistency index RI by matrix size (Saaty 1980, The Analytic Hierarchy
# Process, with the extension to 15 used by the same literature). Other published tables,
# from other simulations of random matrices, differ: Alonso & Lamata (2006) give about 0.52
# for three criteria, some 10 % below 0.58, so another tool's consistency ratio may differ.
# Pages and the report say it in their own words (translated); the API says RANDOM_INDEX_NOTE.
RANDOM_INDEX_SOURCE = "Saaty (1980), The Analytic Hierarchy Process"
RANDOM_INDEX_NOTE = (
    "The consistency ratio is CI divided by the random index of this table for this number of "
    "criteria. Other published tables differ (Alonso & Lamata 2006 give about 0.52 for three "
    "criteria, against 0.58), so another tool's ratio for the same judgements may differ."
)
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
CR_LIMIT = 0.10
SAATY_SCALE = tuple(float(k) for k in range(1, 10)) + tuple(1.0 / k for k in range(2, 10))
_SCALE_TOLERANCE = 5e-3  # relative: 0.333 reads as 1/3, 0.143 as 1/7


@dataclass(frozen=True)
class AHPResult:
    """Weights derived from pairwise comparisons, and how consistent the judgements were."""

    weights: list[float]  # principal eigenvector, summing to 1
    lambda_max: float
    ci: float  # (λmax − n) / (n − 1)
    cr: float  # CI / RI; 0 for n ≤ 2
    inconsistent: bool  # CR > 0.10
    worst_pairs: list[tuple[int, int]]  # (i, j), i < j, the worst judgement first
    random_index: float = 0.0  # RI(n) from RANDOM_INDEX (:data:`RANDOM_INDEX_SOURCE`)


def ahp_matrix_from_pairs(n: int, pairs: Mapping[tuple[int, int], float]) -> list[list[float]]:
    """A full reciprocal n × n matrix from judgements a_ij ("i over j"), one per pair.

    Either orientation may be given, (i, j) or (j, i); the other is filled with the
    reciprocal and the diagonal with 1. Raises ValueError for an index out of range, a
    criterion compared with itself, a non-positive value, two contradicting judgements of
    one pair, or a pair left out.
    """
    if n < 1:
        raise ValueError("a comparison needs at least one criterion")
    m = [[1.0] * n for _ in range(n)]
    seen: set[tuple[int, int]] = set()
    for (i, j), value in pairs.items():
        if not (0 <= i < n and 0 <= j < n):
            raise ValueError(f"there is no pair ({i}, {j}) among {n} criteria")
        if i == j:
            raise ValueError("a criterion cannot be compared with itself")
        v = float(value)
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"judgement {value!r} must be a positive number")
        key = (min(i, j), max(i, j))
        if key in seen and not math.isclose(m[i][j], v, rel_tol=1e-9):
            raise ValueError(f"pair ({i}, {j}) is judged twice, differently")
        seen.add(key)
        m[i][j] = v
        m[j][i] = 1.0 / v
    missing = n * (n - 1) // 2 - len(seen)
    if missing:
        raise ValueError(
            f"{missing} pair of criteria is not compared"
            if missing == 1
            else f"{missing} pairs of criteria are not compared"
        )
    return m


def ahp(matrix: Sequence[Sequence[float]]) -> AHPResult:
    """Weights from a pairwise comparison matrix by Saaty's method.

    Weights: the principal (Perron) eigenvector, normalised to sum 1. λmax its eigenvalue,
    CI = (λmax − n)/(n − 1), CR = CI / RI(n) with Saaty's random index (0 for n ≤ 2; the
    table is :data:`RANDOM_INDEX_SOURCE`'s, and ``random_index`` says which value was used);
    CR > 0.10 is inconsistent. ``worst_pairs`` orders the pairs by how far the judgement
    a_ij lies from the ratio w_i / w_j the weights imply, |ln(a_ij · w_j / w_i)|, worst first
    (pairs that agree exactly are left out).

    Raises ValueError unless the matrix is square (1 to 15 rows), positive, has ones on the
    diagonal, is reciprocal (a_ji = 1/a_ij) and every judgement is on Saaty's scale (1..9 or
    1/2..1/9; a value within 0.5 % of a scale point is read as that point).
    """
    a = _validated_matrix(matrix)
    n = a.shape[0]
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    w = np.abs(vectors[:, k].real)
    w = w / w.sum()
    lambda_max = float(values[k].real)
    ci = max(0.0, (lambda_max - n) / (n - 1)) if n > 2 else 0.0
    ri = RANDOM_INDEX[n]
    cr = ci / ri if ri > 0 else 0.0
    deviation = {
        (i, j): abs(math.log(a[i, j] * w[j] / w[i])) for i in range(n) for j in range(i + 1, n)
    }
    worst = sorted((p for p, d in deviation.items() if d > 1e-9), key=lambda p: -deviation[p])
    return AHPResult(
        weights=[float(x) for x in w],
        lambda_max=lambda_max,
        ci=ci,
        cr=cr,
        inconsistent=cr > CR_LIMIT,
        worst_pairs=worst,
        random_index=ri,
    )


def _validated_matrix(matrix: Sequence[Sequence[float]]) -> npt.NDArray[np.float64]:
    n = len(matrix)
    if n == 0 or any(len(row) != n for row in matrix):
        raise ValueError("the comparison matrix must be square and not empty")
    if n > max(RANDOM_INDEX):
        raise ValueError(
            f"pairwise comparison takes at most {max(RANDOM_INDEX)} criteria; "
            "set the weights directly"
        )
    try:
        a = np.array(matrix, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("judgements must be numbers") from None
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError("judgements must be positive numbers")
    for i in range(n):
        if not math.isclose(a[i, i], 1.0, rel_tol=1e-9):
            raise ValueError(f"criterion {i + 1} compared with itself must be 1")
        for j in range(n):
            if i == j:
                continue
            point = min(SAATY_SCALE, key=lambda s, x=a[i, j]: abs(math.log(x / s)))
            if abs(a[i, j] / point - 1) > _SCALE_TOLERANCE:
                raise ValueError(
                    f"judgement {a[i, j]:g} (row {i + 1}, column {j + 1}) is not on Saaty's "
                    "scale (1 to 9, or 1/2 to 1/9)"
                )
            a[i, j] = point
    for i in range(n):
        for j in range(i + 1, n):
            if not math.isclose(a[i, j] * a[j, i], 1.0, rel_tol=1e-9):
                raise ValueError(
                    f"judgements (row {i + 1}, column {j + 1}) and (row {j + 1}, column "
                    f"{i + 1}) are not reciprocal: one must be 1 over the other"
                )
    return a
