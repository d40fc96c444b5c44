"""The maths of vendor selection: pure functions on plain values (no Flask, no database).

The board's results (means, knock-outs, ranks, disagreement, Kendall's W, departments,
calibration) are the scoring board's, shared with the design review: :mod:`planner.core.scoring`
(its docstring states the formulas). Here: the AHP weights (:mod:`planner.vendors.ahp`), the
robustness of the result (:mod:`planner.vendors.robustness`), and :func:`analyse`, which gives
every result of one board from a single read of its scores. Everything is gathered here, so
the area imports its maths from one module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
from planner.core.scoring import (  # noqa: F401 (gathered here)
    Calibration,
    Disagreement,
    Evaluation,
    ReviewerCalibration,
    VendorResult,
    _average_ranks,
    _calibration,
    _department_totals,
    _disagreements,
    _evaluation,
    _kendalls_w,
    calibration,
    department_totals,
    disagreements,
    display,
    evaluate,
    kendalls_w,
    round_total,
    weight_shares,
    weighted_total,
)
from planner.vendors.ahp import (  # noqa: F401 (gathered here)
    CR_LIMIT,
    RANDOM_INDEX,
    RANDOM_INDEX_NOTE,
    RANDOM_INDEX_SOURCE,
    SAATY_SCALE,
    AHPResult,
    ahp,
    ahp_matrix_from_pairs,
)
from planner.vendors.robustness import (  # noqa: F401 (gathered here)
    SensitivityResult,
    TieBreak,
    check_mc,
    monte_carlo,
    monte_carlo_of,
    sensitivity,
    sensitivity_of,
    tie_breaks,
    tie_breaks_of,
)

# --- everything at once ---------------------------------------------------------------------


@dataclass(frozen=True)
class Analysis:
    """Every result of one board, as the functions above give them one by one."""

    evaluation: Evaluation
    disagreements: list[Disagreement]
    kendalls_w: float | None
    department_totals: dict[str, dict[int, float | None]]
    calibration: Calibration
    sensitivity: dict[int, SensitivityResult | None]
    monte_carlo: dict[int, float]
    tie_breaks: dict[int, dict[int, TieBreak | None]]


def analyse(
    board: Board,
    *,
    threshold: int = 3,
    draws: int = 10_000,
    spread: float = 0.20,
    seed: int = 2026,
) -> Analysis:
    """All of :func:`evaluate`, :func:`disagreements`, :func:`kendalls_w`,
    :func:`department_totals`, :func:`calibration`, :func:`sensitivity`,
    :func:`monte_carlo` and :func:`tie_breaks`, reading the board's scores once (the same
    results, faster than eight calls). Raises ValueError as they do.
    """
    if threshold < 1:
        raise ValueError("the disagreement threshold must be at least 1")
    check_mc(draws, spread)
    mx.check_board(board)
    sh = mx.sheet(board)
    m = mx.evaluated(board, sh)
    return Analysis(
        evaluation=_evaluation(board, m),
        disagreements=_disagreements(board, sh, threshold),
        kendalls_w=_kendalls_w(board, sh),
        department_totals=_department_totals(board, sh, m),
        calibration=_calibration(board, sh, m),
        sensitivity=sensitivity_of(board, m),
        monte_carlo=monte_carlo_of(board, m, draws, spread, seed),
        tie_breaks=tie_breaks_of(board, m),
    )


if __name__ == "__main__":  # pragma: no cover - timing on the benchmark's board size
    import random
    import time

    rnd = random.Random(4)  # noqa: S311 - test data, not secrets
    big = Board(
        vendors=[VendorSpec(v, f"Vendor {v}", 100_000.0 + 5_000 * v) for v in range(25)],
        criteria=[
            CriterionSpec(c, f"Criterion {c}", 1.0 + c % 5, must_have=c == 0, min_score=1.0)
            for c in range(39)
        ]
        + [CriterionSpec(39, "Price", 4.0, is_price=True)],
        scores=[
            ScoreEntry(r, v, c, rnd.randint(1, 5), f"Dept {r % 4}")
            for r in range(20)
            for v in range(25)
            for c in range(40)
        ],
        consensus={(3, 4): 4.0},
        recusals=frozenset({(2, 5)}),
    )
    total = 0.0
    for fn in (
        evaluate,
        disagreements,
        kendalls_w,
        department_totals,
        calibration,
        sensitivity,
        monte_carlo,
        tie_breaks,
        analyse,
    ):
        best = math.inf
        for _ in range(5):
            start = time.perf_counter()
            fn(big)  # type: ignore[operator]
            best = min(best, time.perf_counter() - start)
        total += best
        print(f"{fn.__name__:18} {1000 * best:6.1f} ms (best of 5)")
    print(f"{'all but analyse':18} {1000 * (total - best):6.1f} ms")
