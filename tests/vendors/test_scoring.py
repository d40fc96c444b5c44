"""The maths of vendor selection, checked against numbers worked out by hand.

Every expected value below is written out from the issue's formulas (or computed by a
separate, plain loop in the test), never by calling the code under test a second time:

    weighted total = 100 × Σ_c (w_c / Σw) × (score_c / 5)

On the main board the weights are Functionality 3, Security 2, Usability 1 and Price 2
(Σw = 8), so a total is 100 / (8 × 5) × Σ w·s = 2.5 × Σ w·s.
"""

import math
import statistics

import numpy as np
import pytest

from planner.vendors.scoring import (
    Board,
    Calibration,
    CriterionSpec,
    ScoreEntry,
    TieBreak,
    VendorSpec,
    ahp,
    ahp_matrix_from_pairs,
    analyse,
    calibration,
    competition_ranks,
    department_totals,
    disagreements,
    display,
    evaluate,
    kendalls_w,
    monte_carlo,
    round_total,
    sensitivity,
    tie_breaks,
    weight_shares,
    weighted_total,
)

A, B, C, P = 1, 2, 3, 4  # criteria: Functionality, Security, Usability, Price
V1, V2, V3, V4, V5, V6 = 11, 12, 13, 14, 15, 16  # vendors
R1, R2, R3 = 101, 102, 103  # reviewers
DEPT = {R1: "Sales", R2: "IT", R3: "Finance"}

CRITERIA = [
    CriterionSpec(A, "Functionality", 3.0, group="functionality", must_have=True, min_score=3.0),
    CriterionSpec(B, "Security", 2.0, group="security"),
    CriterionSpec(C, "Usability", 1.0, group="user experience"),
    CriterionSpec(P, "Price", 2.0, group="cost-effectiveness", is_price=True),
]
COSTS = {V1: 300.0, V2: 240.0, V3: 200.0, V4: 100.0, V5: None, V6: 480.0}
# vendor -> criterion -> scores of R1, R2, R3 (None: not scored)
SHEET = {
    V1: {A: (5, 4, 3), B: (5, 5, 5), C: (2, 5, 5)},
    V2: {A: (4, 4, 0), B: (5, 5, 1), C: (2, 2, 5)},  # R3 is recused from V2
    V3: {A: (2, 3, 2), B: (5, 5, 5), C: (5, 5, 5)},  # Functionality 7/3 < 3: knocked out
    V4: {A: (4, 4, 4), B: (4, 4, 4), C: (None, None, None)},  # Usability unscored
    V5: {A: (5, 5, 5), B: (5, 5, 5), C: (5, 5, 5)},  # no quote: no price score
    V6: {A: (3, 3, 3), B: (5, 2, 5), C: (4, 4, 4)},  # Functionality exactly at the minimum
}
COMMENTS = {(R1, V1, C): "clunky screens", (R2, V6, B): "no single sign-on"}
RECUSED = frozenset({(R3, V2)})


def make_board(consensus=None, recusals=RECUSED) -> Board:
    scores = [
        ScoreEntry(r, v, c, s, DEPT[r], COMMENTS.get((r, v, c), ""))
        for v, by_c in SHEET.items()
        for c, triple in by_c.items()
        for r, s in zip((R1, R2, R3), triple, strict=True)
        if s is not None
    ]
    # reviewers' scores on the price criterion are ignored: price is scored by formula
    scores += [ScoreEntry(R1, V1, P, 0, "Sales"), ScoreEntry(R2, V2, P, 5, "IT")]
    return Board(
        vendors=[VendorSpec(v, f"Vendor {v - 10}", COSTS[v]) for v in SHEET],
        criteria=CRITERIA,
        scores=scores,
        consensus=consensus or {},
        recusals=recusals,
    )


def t(functionality, security, usability, price):
    """The main board's total, written out: 2.5 × Σ w·s with w = 3, 2, 1, 2."""
    return 2.5 * (3 * functionality + 2 * security + 1 * usability + 2 * price)


# --- results ------------------------------------------------------------------------------


def test_totals_ranks_ties_knockout_and_missing_scores():
    ev = evaluate(make_board())
    r = ev.vendors
    # The ranked vendors for the price formula are V1 (300) and V2 (240), and V6 (480):
    # V3 (200) is knocked out, V4 (100) incomplete, V5 has no quote. Lowest: 240.
    assert r[V1].criterion_scores == {A: 4.0, B: 5.0, C: 4.0, P: pytest.approx(5 * 240 / 300)}
    assert r[V1].weighted_total == pytest.approx(t(4, 5, 4, 4)) == pytest.approx(85.0)
    # R3 is recused from V2: Functionality = mean(4, 4) = 4, not mean(4, 4, 0)
    assert r[V2].criterion_scores == {A: 4.0, B: 5.0, C: 2.0, P: 5.0}
    assert r[V2].weighted_total == pytest.approx(t(4, 5, 2, 5)) == pytest.approx(85.0)
    # equal totals share a rank, the next one is 3rd: 1, 1, 3
    assert r[V6].criterion_scores == {A: 3.0, B: 4.0, C: 4.0, P: pytest.approx(2.5)}
    assert r[V6].weighted_total == pytest.approx(t(3, 4, 4, 2.5)) == pytest.approx(65.0)
    assert (r[V1].rank, r[V2].rank, r[V6].rank) == (1, 1, 3)
    assert r[V6].knocked_out == []  # 3.0 is not below the minimum 3.0
    assert ev.winner is None and ev.ranking == [V1, V2, V6]


def test_a_knocked_out_vendor_is_shown_not_ranked():
    v3 = evaluate(make_board()).vendors[V3]
    assert v3.criterion_scores[A] == pytest.approx(7 / 3)
    # cheaper than the lowest ranked quote: 5 × 240/200 = 6, capped at 5
    assert v3.criterion_scores[P] == 5.0
    assert v3.weighted_total == pytest.approx(t(7 / 3, 5, 5, 5)) == pytest.approx(80.0)
    assert v3.rank is None
    assert v3.knocked_out == ["Functionality: 2.33 below the must-have minimum 3"]


def test_missing_scores_make_a_vendor_incomplete_not_zero():
    r = evaluate(make_board()).vendors
    assert r[V4].criterion_scores[C] is None and r[V4].incomplete == [C]
    assert r[V4].criterion_scores[P] == 5.0  # 5 × 240/100 capped
    assert r[V4].weighted_total is None and r[V4].rank is None and r[V4].knocked_out == []
    # no quote, no price score
    assert r[V5].criterion_scores[P] is None and r[V5].incomplete == [P]
    assert r[V5].weighted_total is None and r[V5].rank is None


def test_recusal_left_out_of_every_result():
    with_recusal = evaluate(make_board()).vendors
    without = evaluate(make_board(recusals=frozenset())).vendors
    assert with_recusal[V2].rank == 1
    # counted, R3's 0 pulls Functionality to 8/3 < 3: V2 is knocked out, so the ranked
    # vendors are V1 (300) and V6 (480) and the lowest quote becomes 300
    assert without[V2].criterion_scores[A] == pytest.approx(8 / 3)
    assert without[V2].criterion_scores[B] == pytest.approx(11 / 3)
    assert without[V2].criterion_scores[C] == pytest.approx(3.0)
    assert without[V2].criterion_scores[P] == 5.0  # 5 × 300/240 = 6.25, capped
    assert without[V2].weighted_total == pytest.approx(t(8 / 3, 11 / 3, 3, 5))
    assert without[V2].rank is None and without[V2].knocked_out
    assert without[V1].weighted_total == pytest.approx(t(4, 5, 4, 5)) == pytest.approx(90.0)
    assert without[V6].criterion_scores[P] == pytest.approx(5 * 300 / 480)
    assert without[V6].weighted_total == pytest.approx(t(3, 4, 4, 3.125))
    assert (without[V1].rank, without[V6].rank) == (1, 2)


def test_consensus_replaces_the_mean():
    ev = evaluate(make_board(consensus={(V6, B): 2.0, (V2, C): 4.0}))
    r = ev.vendors
    assert r[V2].criterion_scores[C] == 4.0
    assert r[V2].weighted_total == pytest.approx(t(4, 5, 4, 5)) == pytest.approx(90.0)
    assert r[V6].weighted_total == pytest.approx(t(3, 2, 4, 2.5)) == pytest.approx(55.0)
    assert (r[V2].rank, r[V1].rank, r[V6].rank) == (1, 2, 3)
    assert ev.winner == V2


def test_consensus_on_an_unscored_cell_completes_the_vendor_and_moves_the_price_scale():
    # V4 becomes a ranked vendor, so its quote (100) is now the lowest one
    r = evaluate(make_board(consensus={(V4, C): 3.0})).vendors
    assert r[V4].incomplete == [] and r[V4].weighted_total == pytest.approx(t(4, 4, 3, 5))
    assert r[V1].criterion_scores[P] == pytest.approx(5 / 3)
    assert r[V1].weighted_total == pytest.approx(t(4, 5, 4, 5 / 3))
    assert r[V2].weighted_total == pytest.approx(t(4, 5, 2, 25 / 12))
    assert r[V6].weighted_total == pytest.approx(t(3, 4, 4, 25 / 24))
    assert [r[v].rank for v in (V4, V1, V2, V6)] == [1, 2, 3, 4]


def test_competition_ranking_and_float_noise():
    assert competition_ranks({1: 90.0, 2: 90.0, 3: 80.0, 4: 70.0, 5: 70.0, 6: 60.0}) == {
        1: 1,
        2: 1,
        3: 3,
        4: 4,
        5: 4,
        6: 6,
    }
    # 0.1 + 0.2 is not 0.3 in binary; to people they are the same total
    assert competition_ranks({1: 100 * (0.1 + 0.2), 2: 30.0}) == {1: 1, 2: 1}
    assert competition_ranks({}) == {}


def test_totals_keep_full_precision_and_round_only_for_display():
    assert round_total(77.125) == 77.13 and display(77.125) == "77.13"
    assert round_total(2.675) == 2.68  # the float is 2.67499999…, Excel shows 2.68
    assert round_total(70 + 5 / 6) == 70.83 and display(None) == "—"
    assert display(85.0) == "85.00"
    ev = evaluate(make_board(recusals=frozenset()))
    assert ev.vendors[V2].weighted_total == pytest.approx(70 + 5 / 6, abs=1e-12)


def test_weighted_total_helper():
    crit = CRITERIA[:3]
    assert weighted_total({A: 4, B: 5, C: 4}, crit) == pytest.approx(
        100 * (3 / 6 * 4 / 5 + 2 / 6 * 5 / 5 + 1 / 6 * 4 / 5)
    )
    with pytest.raises(ValueError, match="Usability"):
        weighted_total({A: 4, B: 5}, crit)


# --- disagreement and agreement -------------------------------------------------------------


def test_disagreements_side_by_side():
    found = disagreements(make_board())
    # V1/Usability (2, 5, 5) and V6/Security (5, 2, 5) spread 3; V2's spreads come from
    # R3's recused scores only; price criterion scores are not reviewers' business
    assert [(d.vendor_id, d.criterion_id, d.spread) for d in found] == [(V1, C, 3), (V6, B, 3)]
    v6 = found[1]
    assert [(e.reviewer_id, e.score, e.comment) for e in v6.entries] == [
        (R1, 5, ""),
        (R2, 2, "no single sign-on"),
        (R3, 5, ""),
    ]
    assert not v6.has_consensus and v6.consensus is None


def test_disagreements_order_threshold_and_consensus():
    found = disagreements(make_board(consensus={(V2, C): 4.0}, recusals=frozenset()))
    # spread 4 first (V2/A: 4,4,0; V2/B: 5,5,1), then spread 3 in board order
    assert [(d.vendor_id, d.criterion_id, d.spread) for d in found] == [
        (V2, A, 4),
        (V2, B, 4),
        (V1, C, 3),
        (V2, C, 3),
        (V6, B, 3),
    ]
    settled = found[3]
    assert settled.has_consensus and settled.consensus == 4.0
    assert [d.spread for d in disagreements(make_board(recusals=frozenset()), threshold=4)] == [
        4,
        4,
    ]
    with pytest.raises(ValueError, match="threshold"):
        disagreements(make_board(), threshold=0)


def one_criterion_board(sheet, recusals=frozenset()) -> Board:
    """sheet: reviewer -> vendor -> score, one criterion of weight 1."""
    vendors = sorted({v for row in sheet.values() for v in row})
    return Board(
        vendors=[VendorSpec(v, f"V{v}") for v in vendors],
        criteria=[CriterionSpec(1, "Only", 1.0)],
        scores=[ScoreEntry(r, v, 1, s) for r, row in sheet.items() for v, s in row.items()],
        recusals=recusals,
    )


def test_kendalls_w_agreement_and_reversal():
    agree = {1: {1: 5, 2: 3, 3: 1}, 2: {1: 4, 2: 3, 3: 2}, 3: {1: 5, 2: 4, 3: 0}}
    assert kendalls_w(one_criterion_board(agree)) == pytest.approx(1.0)
    reversed_ = {1: {1: 5, 2: 3, 3: 1}, 2: {1: 1, 2: 3, 3: 5}}
    assert kendalls_w(one_criterion_board(reversed_)) == pytest.approx(0.0)


def test_kendalls_w_with_ties_leaves_out_an_incomplete_scoresheet():
    sheet = {
        1: {1: 5, 2: 4, 3: 3, 4: 1},  # ranks 1, 2, 3, 4
        2: {1: 4, 2: 4, 3: 2, 4: 1},  # ranks 1.5, 1.5, 3, 4 (a tie of 2: T = 2³ − 2 = 6)
        3: {1: 3, 2: 5, 3: 1, 4: 2},  # ranks 2, 1, 4, 3
        4: {1: 5, 2: 5, 3: 5},  # did not score vendor 4: left out
    }
    # rank sums 4.5, 4.5, 10, 11; mean m(n + 1)/2 = 7.5; S = 9 + 9 + 6.25 + 12.25 = 36.5
    expected = 12 * 36.5 / (3**2 * (4**3 - 4) - 3 * 6)
    assert kendalls_w(one_criterion_board(sheet)) == pytest.approx(expected)
    assert expected == pytest.approx(0.8390804597701149)


def test_kendalls_w_a_recusal_takes_the_vendor_out_of_the_comparison():
    sheet = {
        1: {1: 5, 2: 4, 3: 3, 4: 1},
        2: {1: 4, 2: 4, 3: 2, 4: 1},
        3: {1: 3, 2: 5, 3: 1, 4: 2},
        5: {1: 5, 2: 3, 3: 4, 4: 0},  # recused from vendor 4: its 0 does not count
    }
    board = one_criterion_board(sheet, recusals=frozenset({(5, 4)}))
    # vendors 1..3 only: ranks (1,2,3), (1.5,1.5,3), (2,1,3), (1,3,2); sums 5.5, 7.5, 11;
    # mean 4·4/2 = 8; S = 6.25 + 0.25 + 9 = 15.5
    assert kendalls_w(board) == pytest.approx(12 * 15.5 / (4**2 * (3**3 - 3) - 4 * 6))


def test_kendalls_w_uses_each_reviewers_weighted_totals_not_raw_sums():
    crit = [
        CriterionSpec(1, "Functionality", 3.0),
        CriterionSpec(2, "Security", 1.0),
        CriterionSpec(3, "Price", 10.0, is_price=True),
    ]
    scores = [
        # reviewer 1: vendor 1 = (3·5 + 1·0)/4 = 3.75 beats vendor 2 = (3·3 + 1·5)/4 = 3.5,
        # although 5 + 0 < 3 + 5; their price scores are ignored
        ScoreEntry(1, 1, 1, 5),
        ScoreEntry(1, 1, 2, 0),
        ScoreEntry(1, 2, 1, 3),
        ScoreEntry(1, 2, 2, 5),
        ScoreEntry(1, 2, 3, 5),
        # reviewer 2: vendor 1 = 4 beats vendor 2 = 2.5
        ScoreEntry(2, 1, 1, 4),
        ScoreEntry(2, 1, 2, 4),
        ScoreEntry(2, 2, 1, 2),
        ScoreEntry(2, 2, 2, 4),
    ]
    board = Board([VendorSpec(1, "X", 10.0), VendorSpec(2, "Y", 20.0)], crit, scores)
    assert kendalls_w(board) == pytest.approx(1.0)


def test_kendalls_w_none_without_two_complete_scoresheets():
    # on the main board nobody scored V4's Usability, so no scoresheet is complete
    assert kendalls_w(make_board()) is None
    assert kendalls_w(one_criterion_board({1: {1: 5, 2: 3}})) is None  # one reviewer
    assert kendalls_w(one_criterion_board({1: {1: 5}, 2: {1: 3}})) is None  # one vendor
    # everyone rated everything alike: W = 0/0
    assert kendalls_w(one_criterion_board({1: {1: 4, 2: 4}, 2: {1: 2, 2: 2}})) is None


# --- departments and calibration ------------------------------------------------------------


def test_department_view():
    depts = department_totals(make_board(consensus={(V6, B): 0.0}))  # consensus not used
    assert list(depts) == ["Finance", "IT", "Sales"]
    sales, it, finance = depts["Sales"], depts["IT"], depts["Finance"]
    # R1 alone, with the board's price scores (V1 4, V2 5, V3 5, V6 2.5)
    assert sales[V1] == pytest.approx(t(5, 5, 2, 4)) == pytest.approx(87.5)
    assert sales[V2] == pytest.approx(t(4, 5, 2, 5))
    assert sales[V3] == pytest.approx(t(2, 5, 5, 5))
    assert sales[V6] == pytest.approx(t(3, 5, 4, 2.5)) == pytest.approx(70.0)
    assert sales[V4] is None and sales[V5] is None  # Usability unscored, no price score
    assert it[V1] == pytest.approx(t(4, 5, 5, 4)) and it[V6] == pytest.approx(t(3, 2, 4, 2.5))
    # R3 is recused from V2: Finance has nothing to say about it
    assert finance[V2] is None and finance[V1] == pytest.approx(t(3, 5, 5, 4))


def test_calibration_counts_only_what_counts():
    cal = calibration(make_board())
    counts = {r.reviewer_id: r.count for r in cal.reviewers}
    # 6 vendors × 3 criteria, less V4's Usability; R3 less the 3 recused V2 scores; the
    # price scores are not counted
    assert counts == {R1: 17, R2: 17, R3: 14}
    assert {r.reviewer_id: r.department for r in cal.reviewers} == DEPT


def test_calibration_standardises_harsh_and_lenient_reviewers():
    sheet = {
        1: {1: 2, 2: 1, 3: 0},  # harsh
        2: {1: 5, 2: 5, 3: 3},  # lenient
        3: {1: 4, 2: 4, 3: 4},  # no spread: maps to the board's mean
    }
    cal = calibration(one_criterion_board(sheet))
    everything = [s for row in sheet.values() for s in row.values()]
    board_mean, board_sd = statistics.fmean(everything), statistics.pstdev(everything)
    assert board_mean == pytest.approx(28 / 9)
    assert cal.board_mean == pytest.approx(board_mean)
    assert cal.board_sd == pytest.approx(board_sd)
    stats = {
        r: (statistics.fmean(row.values()), statistics.pstdev(row.values()))
        for r, row in sheet.items()
    }
    for r in cal.reviewers:
        assert (r.mean, r.sd) == pytest.approx(stats[r.reviewer_id])
    assert [r.reviewer_id for r in cal.reviewers] == [1, 2, 3]
    assert stats[1] == pytest.approx((1.0, math.sqrt(2 / 3)))

    def z(r, s):
        mean, sd = stats[r]
        return board_mean if sd == 0 else board_mean + board_sd * (s - mean) / sd

    for vendor in (1, 2, 3):
        mapped = [z(r, row[vendor]) for r, row in sheet.items()]
        assert cal.standardised_totals[vendor] == pytest.approx(100 * statistics.fmean(mapped) / 5)
    assert [cal.standardised_ranks[v] for v in (1, 2, 3)] == [1, 2, 3]


# --- AHP ------------------------------------------------------------------------------------

# Saaty, T. L. (1990), "How to make a decision: The analytic hierarchy process", European
# Journal of Operational Research 48(1), 9–26: the house-buying example (also in Saaty's
# "Hard mathematics applied to soft decisions", section "Choosing the best house"). Eight
# criteria: size, transportation, neighbourhood, age, yard, modern facilities, general
# condition, financing. Published: priorities .173 .054 .188 .018 .031 .036 .167 .333,
# λmax = 9.669, C.I. = .238, C.R. = .169 (inconsistent).
HOUSE = [
    [1, 5, 3, 7, 6, 6, 1 / 3, 1 / 4],
    [1 / 5, 1, 1 / 3, 5, 3, 3, 1 / 5, 1 / 7],
    [1 / 3, 3, 1, 6, 3, 4, 6, 1 / 5],
    [1 / 7, 1 / 5, 1 / 6, 1, 1 / 3, 1 / 4, 1 / 7, 1 / 8],
    [1 / 6, 1 / 3, 1 / 3, 3, 1, 1 / 2, 1 / 5, 1 / 6],
    [1 / 6, 1 / 3, 1 / 4, 4, 2, 1, 1 / 5, 1 / 6],
    [3, 5, 1 / 6, 7, 5, 5, 1, 1 / 2],
    [4, 7, 5, 8, 6, 6, 2, 1],
]
HOUSE_PRIORITIES = [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]

# Saaty, T. L. (2008), "Decision making with the analytic hierarchy process", Int. J.
# Services Sciences 1(1), 83–98, Table 2 "Which drink is consumed more in the U.S.?":
# judgements as published ("row over column"), derived scale .177 .019 .042 .116 .190
# .129 .327 (actual consumption .180 .010 .040 .120 .180 .140 .330), C.R. = .022. The same
# figures are the reference values of the AHPy project's tests (PhilipGriffith/AHPy).
DRINKS = ["coffee", "wine", "tea", "beer", "soda", "milk", "water"]
DRINK_JUDGEMENTS = {
    ("coffee", "wine"): 9,
    ("coffee", "tea"): 5,
    ("coffee", "beer"): 2,
    ("coffee", "soda"): 1,
    ("coffee", "milk"): 1,
    ("water", "coffee"): 2,
    ("tea", "wine"): 3,
    ("beer", "wine"): 9,
    ("beer", "tea"): 3,
    ("beer", "milk"): 1,
    ("soda", "wine"): 9,
    ("soda", "tea"): 4,
    ("soda", "beer"): 2,
    ("soda", "milk"): 2,
    ("milk", "wine"): 9,
    ("milk", "tea"): 3,
    ("water", "wine"): 9,
    ("water", "tea"): 9,
    ("water", "beer"): 3,
    ("water", "soda"): 2,
    ("water", "milk"): 3,
}


def test_ahp_against_saatys_house_example():
    """Saaty (1990), EJOR 48:9–26, the house example: weights, λmax, CI and CR as published,
    flagged inconsistent (CR .169 > .10)."""
    r = ahp(HOUSE)
    assert [round(w, 3) for w in r.weights] == HOUSE_PRIORITIES
    assert sum(r.weights) == pytest.approx(1.0)
    assert round(r.lambda_max, 3) == 9.669
    assert round(r.ci, 3) == 0.238
    assert round(r.cr, 3) == 0.169
    assert r.inconsistent


def test_ahp_points_at_the_judgement_that_strays_most():
    """With the published priorities, |ln(a_ij · w_j / w_i)| is largest for neighbourhood
    over general condition, judged 6 where the priorities say .188/.167 ≈ 1.1."""
    deviation = {
        (i, j): abs(math.log(HOUSE[i][j] * HOUSE_PRIORITIES[j] / HOUSE_PRIORITIES[i]))
        for i in range(8)
        for j in range(i + 1, 8)
    }
    by_size = sorted(deviation, key=deviation.get, reverse=True)
    assert by_size[0] == (2, 6)
    assert ahp(HOUSE).worst_pairs[:3] == by_size[:3]


def test_ahp_against_saatys_drinks_example_from_pairs():
    """Saaty (2008), Int. J. Services Sciences 1:83–98, Table 2: the derived scale and
    C.R. = .022 as published, consistent; judgements given in either orientation."""
    index = {d: i for i, d in enumerate(DRINKS)}
    pairs = {(index[a], index[b]): v for (a, b), v in DRINK_JUDGEMENTS.items()}
    matrix = ahp_matrix_from_pairs(7, pairs)
    assert matrix[index["coffee"]][index["water"]] == pytest.approx(1 / 2)  # filled in
    r = ahp(matrix)
    assert [round(w, 3) for w in r.weights] == [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]
    assert round(r.cr, 3) == 0.022
    assert r.cr == pytest.approx(r.ci / 1.32) and r.ci == pytest.approx((r.lambda_max - 7) / 6)
    assert not r.inconsistent


def test_ahp_consistent_and_small_matrices():
    # weights 4 : 2 : 1 judged consistently
    r = ahp([[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]])
    assert r.weights == pytest.approx([4 / 7, 2 / 7, 1 / 7])
    assert r.lambda_max == pytest.approx(3.0) and r.cr == pytest.approx(0.0, abs=1e-12)
    assert r.worst_pairs == [] and not r.inconsistent
    two = ahp([[1, 3], [1 / 3, 1]])
    assert two.weights == pytest.approx([0.75, 0.25]) and two.cr == 0.0
    one = ahp([[1]])
    assert one.weights == [1.0] and one.cr == 0.0 and one.worst_pairs == []
    # 0.333 is read as 1/3
    assert ahp([[1, 0.333], [3, 1]]).weights == pytest.approx([0.25, 0.75])


def test_ahp_flags_a_cycle():
    # 0 over 1 (9), 1 over 2 (9), and yet 2 over 0 (9)
    r = ahp(ahp_matrix_from_pairs(3, {(0, 1): 9, (1, 2): 9, (2, 0): 9}))
    assert r.inconsistent and r.cr > 0.10 and len(r.worst_pairs) == 3


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([], "square"),
        ([[1, 2], [0.5]], "square"),
        ([[1, -2], [-0.5, 1]], "positive"),
        ([[1, 0], [1, 1]], "positive"),
        ([[1, float("nan")], [1, 1]], "positive"),
        ([[1, "x"], [1, 1]], "numbers"),
        ([[2, 1], [1, 1]], "itself"),
        ([[1, 2.5], [0.4, 1]], "Saaty"),
        ([[1, 10], [0.1, 1]], "Saaty"),
        ([[1, 2], [2, 1]], "reciprocal"),
        ([[1.0] * 16 for _ in range(16)], "at most 15"),
    ],
)
def test_ahp_refuses_bad_matrices(matrix, message):
    with pytest.raises(ValueError, match=message):
        ahp(matrix)


@pytest.mark.parametrize(
    ("n", "pairs", "message"),
    [
        (3, {(0, 1): 3, (1, 2): 3}, "1 pair"),
        (3, {(0, 1): 3, (1, 2): 3, (0, 3): 3}, "no pair"),
        (2, {(1, 1): 3}, "itself"),
        (2, {(0, 1): 3, (1, 0): 3}, "twice"),
        (2, {(0, 1): 0}, "positive"),
        (0, {}, "at least one"),
    ],
)
def test_ahp_matrix_from_pairs_refuses(n, pairs, message):
    with pytest.raises(ValueError, match=message):
        ahp_matrix_from_pairs(n, pairs)


def test_ahp_matrix_from_pairs_accepts_both_orientations_when_they_agree():
    assert ahp_matrix_from_pairs(2, {(0, 1): 3, (1, 0): 1 / 3}) == [[1.0, 3.0], [1 / 3, 1.0]]


# --- sensitivity ----------------------------------------------------------------------------


def sheet_board(weights, rows, costs=None) -> Board:
    """One reviewer; rows: vendor -> scores per criterion (in order)."""
    crit = [CriterionSpec(k + 1, f"c{k + 1}", w) for k, w in enumerate(weights)]
    return Board(
        vendors=[VendorSpec(v, f"V{v}", (costs or {}).get(v)) for v in rows],
        criteria=crit,
        scores=[
            ScoreEntry(9, v, k + 1, s) for v, scores in rows.items() for k, s in enumerate(scores)
        ],
    )


X, Y, Z, Q, X2 = 1, 2, 3, 4, 5


def test_sensitivity_solves_the_crossing_exactly():
    # shares 0.75 / 0.25 / 0; X = 100·s1 (75), Y = 100·s2 (25), Z = 60 whatever the shares
    board = sheet_board([3, 1, 0], {X: (5, 0, 0), Y: (0, 5, 0), Z: (3, 3, 5)})
    s = sensitivity(board)
    # c1 down to 0.60, where X = 100·0.6 = 60 = Z (Y crosses only at 0.5)
    assert s[1].change_pp == pytest.approx(-15.0) and s[1].new_winner == Z
    assert (s[1].share_pp, s[1].new_share_pp) == pytest.approx((75.0, 60.0))
    # c2 up to 0.40: X = 100·0.6 = 60 = Z
    assert s[2].change_pp == pytest.approx(+15.0) and s[2].new_winner == Z
    # c3 (weight 0) up to t: X = 75(1 − t), Z = 60(1 − t) + 100t, level at t = 15/115
    assert s[3].change_pp == pytest.approx(100 * 15 / 115) and s[3].new_winner == Z


def test_sensitivity_answer_changes_the_winner_just_past_it():
    board = sheet_board([3, 1], {X: (5, 0), Y: (0, 5), Z: (3, 3)})
    for share, winner in ((0.6 - 1e-6, Z), (0.6 + 1e-6, X)):
        moved = Board(
            board.vendors,
            [CriterionSpec(1, "c1", share), CriterionSpec(2, "c2", 1 - share)],
            board.scores,
        )
        assert evaluate(moved).winner == winner


def test_sensitivity_none_and_whole_weight():
    dominant = sheet_board([1, 1], {X: (5, 5), Y: (1, 1)})
    assert sensitivity(dominant) == {1: None, 2: None}
    # X (100, 60) = 80 and Y (80, 20) = 50: Y gains 20 points per unit of c1's share, so
    # it would draw level only 30/20 = 1.5 further, at a share of 200 %: not a change
    beyond = sheet_board([1, 1], {X: (5, 3), Y: (4, 1)})
    assert sensitivity(beyond) == {1: None, 2: None}
    # c1 holds the whole weight: no proportional rescaling of the others; c2 from 0 up to
    # t: X = 100(1 − t), Z = 60(1 − t) + 100t, level at t = 2/7
    whole = sheet_board([1, 0], {X: (5, 0), Z: (3, 5)})
    s = sensitivity(whole)
    assert s[1] is None
    assert s[2].change_pp == pytest.approx(100 * 2 / 7) and s[2].new_winner == Z


def test_sensitivity_with_a_tie_for_first_answers_for_the_tied_vendors_together():
    # X (5, 0) and Q (4, 3) both total 75, Z (3, 3) 60. Lines in c1's share s (now 0.75):
    # X = 100·s, Q = 60 + 20·s, Z = 60 whatever s. A cut favours Q at once, a rise X: the
    # tie breaks, but no vendor outside it takes first place before s reaches 0 (Z only
    # meets Q there, at 60). Nobody is the "nominal" winner by being listed first.
    tied = sheet_board([3, 1], {X: (5, 0), Q: (4, 3), Z: (3, 3)})
    assert evaluate(tied).vendors[Q].rank == 1 == evaluate(tied).vendors[X].rank
    assert evaluate(tied).winner is None and evaluate(tied).first_place == [X, Q]
    assert sensitivity(tied) == {1: None, 2: None}
    # Z (2, 5) totals 55 and its line 40·s + 100·(1 − s) rises as c1 falls: it meets Q's
    # (the tied line that falls slowest) at s = 0.5, where both are 70 and X 50: −25 pp
    outsider = sheet_board([3, 1], {X: (5, 0), Q: (4, 3), Z: (2, 5)})
    s = sensitivity(outsider)
    assert s[1].change_pp == pytest.approx(-25.0) and s[1].new_winners == [Z]
    assert s[2].change_pp == pytest.approx(+25.0) and s[2].new_winner == Z
    # the same answer whatever the order in which the vendors are listed
    reordered = sheet_board([3, 1], {Z: (2, 5), Q: (4, 3), X: (5, 0)})
    assert sensitivity(reordered) == s
    assert sensitivity(sheet_board([3, 1], {Q: (4, 3), X: (5, 0), Z: (3, 3)})) == {
        1: None,
        2: None,
    }
    # an identical twin never overtakes: the answer is about the next vendor
    twins = sensitivity(sheet_board([3, 1], {X: (5, 0), X2: (5, 0), Z: (3, 3)}))
    assert twins[1].change_pp == pytest.approx(-15.0) and twins[1].new_winners == [Z]


def test_sensitivity_names_every_vendor_that_overtakes_together():
    # identical Y and Y2 (3, 3) total 60 against X's 75: both meet X at c1's share 0.6
    board = sheet_board([3, 1], {X: (5, 0), Y: (3, 3), X2: (3, 3)})
    s = sensitivity(board)
    assert s[1].change_pp == pytest.approx(-15.0)
    assert (s[1].new_winner, s[1].new_winners) == (Y, [Y, X2])


def test_sensitivity_among_ranked_vendors_only():
    s = sensitivity(make_board())
    # V1 and V2 share first place (85), V6 has 65 (V3, V4, V5 are not ranked). Lines in a
    # share s: T + (x − T)/(1 − s)·(s′ − s), x the score × 20. Functionality and Security:
    # V1's and V2's lines are the same (80 and 100 each) and V6 stays 20 points behind at
    # any share. Usability (s = 1/8; V1 80, V2 40, V6 80): V6's line rises 22.9 points per
    # unit faster than V1's, 20 points behind: level only at a share of 100 %. Price (s =
    # 1/4; V1 80, V2 100, V6 50): V6 gains 13.3 per unit on V1 as the share falls, needing
    # 1.5 units, more than the share has. So no change of one share gives first place to V6.
    assert s == {A: None, B: None, C: None, P: None}


# --- a shared first place -------------------------------------------------------------------


def test_tie_breaks_say_which_way_each_share_puts_each_tied_vendor_first():
    board = make_board()
    assert evaluate(board).first_place == [V1, V2]
    tb = tie_breaks(board)
    # Functionality and Security: V1's and V2's lines are the same: nothing separates them
    assert tb[A] == {V1: None, V2: None} and tb[B] == {V1: None, V2: None}
    # Usability (s = 12.5 %): V1's line falls 5.7 points per unit, V2's 51.4: a rise puts V1
    # ahead, up to 100 % (where V6 meets it, both 80); a cut puts V2 ahead, down to 0 %
    assert tb[C][V1] == TieBreak(direction=1, up_to_pp=pytest.approx(87.5), share_pp=12.5)
    assert tb[C][V2] == TieBreak(direction=-1, up_to_pp=pytest.approx(-12.5), share_pp=12.5)
    # Price (s = 25 %): V2's line rises 20 per unit, V1's falls 6.7: V2 with a rise up to
    # 100 %, V1 with a cut down to 0 % (V6, 1.5 units behind, never catches up)
    assert tb[P][V2] == TieBreak(direction=1, up_to_pp=pytest.approx(75.0), share_pp=25.0)
    assert tb[P][V1] == TieBreak(direction=-1, up_to_pp=pytest.approx(-25.0), share_pp=25.0)


def test_tie_breaks_stop_where_a_vendor_outside_the_tie_draws_level():
    # X = 100·s, Q = 60 + 20·s, Z = 40·s + 100·(1 − s) in c1's share s (0.75 now): a cut puts
    # Q ahead of X until Z meets Q at s = 0.5 (70 each): −25 pp; a rise puts X ahead up to 100 %
    board = sheet_board([3, 1], {X: (5, 0), Q: (4, 3), Z: (2, 5)})
    tb = tie_breaks(board)
    assert tb[1][Q].direction == -1 and tb[1][Q].up_to_pp == pytest.approx(-25.0)
    assert tb[1][X].direction == 1 and tb[1][X].up_to_pp == pytest.approx(25.0)
    # just inside the limit Q leads alone; just past it Z does
    for share, leader in ((0.5 + 1e-6, Q), (0.5 - 1e-6, Z)):
        moved = Board(
            board.vendors,
            [CriterionSpec(1, "c1", share), CriterionSpec(2, "c2", 1 - share)],
            board.scores,
        )
        assert evaluate(moved).winner == leader
    # c2 (25 %): X's line falls fastest, so a cut puts X ahead (down to 0 %); a rise puts Q
    # ahead until Z meets it at c2 = 50 %
    assert tb[2][X].direction == -1 and tb[2][X].up_to_pp == pytest.approx(-25.0)
    assert tb[2][Q].direction == 1 and tb[2][Q].up_to_pp == pytest.approx(25.0)


def test_tie_breaks_of_a_three_way_tie_and_of_identical_vendors():
    # X (5, 1), Y (1, 5), Z (3, 3) all total 60 on equal weights. In c1's share: X's line is
    # the steepest up, Y's down, Z's lies between: no change of c1 alone puts Z first alone
    three = tie_breaks(sheet_board([1, 1], {X: (5, 1), Y: (1, 5), Z: (3, 3)}))
    assert three[1][X] == TieBreak(1, pytest.approx(50.0), 50.0)
    assert three[1][Y] == TieBreak(-1, pytest.approx(-50.0), 50.0)
    assert three[1][Z] is None
    assert (three[2][X].direction, three[2][Y].direction, three[2][Z]) == (-1, 1, None)
    # identical vendors: no change of any weight separates them
    twins = tie_breaks(sheet_board([3, 1], {X: (5, 0), X2: (5, 0), Z: (3, 3)}))
    assert twins == {1: {X: None, X2: None}, 2: {X: None, X2: None}}
    # one vendor first alone, or nobody ranked: no tie to break
    assert tie_breaks(sheet_board([3, 1], {X: (5, 0), Z: (3, 3)})) == {}
    assert tie_breaks(Board([], [], [])) == {}


def test_tie_breaks_when_a_criterion_holds_the_whole_weight_or_none():
    # c1 holds everything: no rescaling of the others, None; c2 (weight 0) can only rise:
    # X and Y (5, 0) vs (5, 5) tie on c1; a rise of c2 puts Y ahead, up to 100 %
    tb = tie_breaks(sheet_board([1, 0], {X: (5, 0), Y: (5, 5)}))
    assert tb[1] == {X: None, Y: None}
    assert tb[2][Y] == TieBreak(1, pytest.approx(100.0), 0.0) and tb[2][X] is None


# --- Monte Carlo ----------------------------------------------------------------------------


def test_monte_carlo_by_an_independent_loop():
    board = sheet_board([2, 1, 1], {X: (5, 1, 2), Y: (2, 5, 4), Z: (3, 3, 3)})
    draws, spread, seed = 2_000, 0.4, 11
    factors = np.random.default_rng(seed).uniform(1 - spread, 1 + spread, size=(draws, 3))
    scores = {X: (5, 1, 2), Y: (2, 5, 4), Z: (3, 3, 3)}
    wins = dict.fromkeys(scores, 0.0)
    for f in factors:  # plain Python, draw by draw
        w = [f[0] * 2, f[1] * 1, f[2] * 1]
        totals = {
            v: 100 * sum(wk / sum(w) * sk / 5 for wk, sk in zip(w, s, strict=True))
            for v, s in scores.items()
        }
        best = max(totals.values())
        leaders = [v for v, total in totals.items() if total >= best - 1e-9]
        for v in leaders:
            wins[v] += 1 / len(leaders)
    expected = {v: n / draws for v, n in wins.items()}
    got = monte_carlo(board, draws=draws, spread=spread, seed=seed)
    assert got == pytest.approx(expected, abs=1e-12)
    assert 0 < got[X] < 1 and 0 < got[Y] < 1


def test_monte_carlo_certain_winner_and_even_split_of_ties():
    # X wins while c1's share stays above 0.6; with ±20 % it is at least 2.4/3.6 = 0.67
    assert monte_carlo(sheet_board([3, 1], {X: (5, 0), Y: (0, 5), Z: (3, 3)})) == {
        X: 1.0,
        Y: 0.0,
        Z: 0.0,
    }
    # X and its twin X2 against Y on two equal weights: X's kind wins when f1 > f2
    board = sheet_board([1, 1], {X: (5, 0), X2: (5, 0), Y: (0, 5)})
    f = np.random.default_rng(5).uniform(0.8, 1.2, size=(10_000, 2))
    p_x = float(np.mean(f[:, 0] > f[:, 1]))
    got = monte_carlo(board, seed=5)
    assert got[X] == got[X2] == pytest.approx(p_x / 2)
    assert got[Y] == pytest.approx(1 - p_x)


def plain_monte_carlo(scores, weights, draws, spread, seed):
    """P(first) draw by draw in plain Python, a tie (to 1e-9) shared evenly."""
    factors = np.random.default_rng(seed).uniform(1 - spread, 1 + spread, (draws, len(weights)))
    wins = dict.fromkeys(scores, 0.0)
    for f in factors:
        w = [fk * wk for fk, wk in zip(f, weights, strict=True)]
        totals = {
            v: 100 * sum(wk / sum(w) * sk / 5 for wk, sk in zip(w, s, strict=True))
            for v, s in scores.items()
        }
        best = max(totals.values())
        leaders = [v for v, total in totals.items() if total >= best - 1e-9]
        for v in leaders:
            wins[v] += 1 / len(leaders)
    return {v: n / draws for v, n in wins.items()}


def test_monte_carlo_identical_vendors_share_every_draw():
    # X and X2 have the same mean on every criterion, from different scores (3 and 5 against
    # 4 and 4, ...), on weights that are not round; Y beats them on some draws
    weights = [0.7, 0.2, 0.1]
    scores = {
        X: [(3, 5), (4, 4), (1, 2)],
        X2: [(4, 4), (5, 3), (2, 1)],
        Y: [(3, 3), (5, 5), (5, 5)],
    }
    board = Board(
        vendors=[VendorSpec(v, f"V{v}") for v in scores],
        criteria=[CriterionSpec(k + 1, f"c{k + 1}", w) for k, w in enumerate(weights)],
        scores=[
            ScoreEntry(r, v, k + 1, pair[r])
            for v, rows in scores.items()
            for k, pair in enumerate(rows)
            for r in (0, 1)
        ],
    )
    assert evaluate(board).first_place == [X, X2]
    got = monte_carlo(board, draws=1_000, spread=0.4, seed=12)
    assert got[X] == got[X2]  # exactly: never 100 % and 0 %
    means = {v: [sum(pair) / 2 for pair in rows] for v, rows in scores.items()}
    assert got == pytest.approx(plain_monte_carlo(means, weights, 1_000, 0.4, 12), abs=1e-12)
    assert 0 < got[Y] < 1 and sum(got.values()) == pytest.approx(1.0)
    # alone at the top, twins get half each in every draw
    alone = sheet_board([0.1, 0.7, 0.2], {X: (5, 4, 3), X2: (5, 4, 3), Z: (1, 2, 3)})
    assert monte_carlo(alone) == {X: 0.5, X2: 0.5, Z: 0.0}


def test_monte_carlo_a_three_way_tie_gives_a_third_each():
    # identical triplets with a fourth vendor that wins some draws: the rest in thirds
    rows = {X: (5, 1), X2: (5, 1), Y: (5, 1), Z: (1, 5)}
    got = monte_carlo(sheet_board([2, 1], rows), draws=1_000, spread=0.5, seed=4)
    assert got[X] == got[X2] == got[Y] == pytest.approx((1 - got[Z]) / 3)
    expected = plain_monte_carlo(rows, [2, 1], 1_000, 0.5, 4)
    assert got == pytest.approx(expected, abs=1e-12) and 0 < got[Z] < 1
    # three different vendors level (60 each) with the weights left as they are
    level = sheet_board([1, 1], {X: (5, 1), Y: (1, 5), Z: (3, 3)})
    assert monte_carlo(level, spread=0.0) == pytest.approx({X: 1 / 3, Y: 1 / 3, Z: 1 / 3})


def test_monte_carlo_reproducible_ranked_vendors_only():
    board = make_board()
    first = monte_carlo(board, seed=7)
    assert first == monte_carlo(board, seed=7)
    assert set(first) == {V1, V2, V6} and sum(first.values()) == pytest.approx(1.0)
    # without perturbation V1 and V2 stay level: half each
    assert monte_carlo(board, spread=0.0) == {V1: 0.5, V2: 0.5, V6: 0.0}
    tied = sheet_board([1, 1], {X: (5, 0), Y: (0, 5)})
    assert monte_carlo(tied, seed=1) != monte_carlo(tied, seed=2)


@pytest.mark.parametrize(("draws", "spread"), [(0, 0.2), (10, 1.0), (10, -0.1)])
def test_monte_carlo_refuses(draws, spread):
    with pytest.raises(ValueError, match="draws|spread"):
        monte_carlo(make_board(), draws=draws, spread=spread)


# --- edges ----------------------------------------------------------------------------------

EVERYTHING = [
    evaluate,
    disagreements,
    kendalls_w,
    department_totals,
    calibration,
    sensitivity,
    monte_carlo,
    tie_breaks,
    analyse,
]


def test_an_empty_board():
    empty = Board([], [], [])
    assert evaluate(empty).vendors == {} and evaluate(empty).winner is None
    assert disagreements(empty) == [] and kendalls_w(empty) is None
    assert department_totals(empty) == {} and sensitivity(empty) == {}
    assert monte_carlo(empty) == {}
    assert calibration(empty) == Calibration([], None, None, {}, {})
    # vendors, but nothing to score them on
    bare = Board([VendorSpec(1, "X")], [], [])
    r = evaluate(bare).vendors[1]
    assert (r.weighted_total, r.rank, r.incomplete, r.knocked_out) == (None, None, [], [])
    assert calibration(bare).standardised_totals == {1: None}


def test_a_single_vendor():
    board = sheet_board([2, 1], {X: (4, 2)})
    ev = evaluate(board)
    assert ev.winner == X and ev.vendors[X].weighted_total == pytest.approx(100 * (8 + 2) / 15)
    assert sensitivity(board) == {1: None, 2: None}
    assert monte_carlo(board) == {X: 1.0}
    assert kendalls_w(board) is None


@pytest.mark.parametrize("fn", EVERYTHING)
def test_zero_total_weight_is_refused(fn):
    board = sheet_board([0, 0], {X: (4, 2), Y: (1, 1)})
    with pytest.raises(ValueError, match="zero"):
        fn(board)


def test_bad_boards_are_refused():
    with pytest.raises(ValueError, match="at least 0"):
        evaluate(sheet_board([1, -1], {X: (4, 2)}))
    with pytest.raises(ValueError, match="listed twice"):
        evaluate(Board([VendorSpec(1, "X"), VendorSpec(1, "Y")], [], []))
    with pytest.raises(ValueError, match="consensus"):
        evaluate(make_board(consensus={(V1, A): 6.0}))
    for bad in (6, -1, float("nan")):
        board = Board(
            [VendorSpec(1, "X")], [CriterionSpec(1, "c", 1.0)], [ScoreEntry(1, 1, 1, bad)]
        )
        with pytest.raises(ValueError, match="not in 0..5"):
            evaluate(board)


def test_unknown_ids_are_ignored_and_a_repeat_overwrites():
    board = Board(
        vendors=[VendorSpec(1, "X")],
        criteria=[CriterionSpec(1, "c", 1.0)],
        scores=[
            ScoreEntry(7, 1, 1, 1),
            ScoreEntry(7, 99, 1, 5),  # no such vendor
            ScoreEntry(7, 1, 99, 5),  # no such criterion (e.g. a price criterion left out)
            ScoreEntry(8, 1, 1, 4),
            ScoreEntry(7, 1, 1, 2),  # reviewer 7 again: overwrites their 1
        ],
    )
    assert evaluate(board).vendors[1].criterion_scores == {1: pytest.approx((2 + 4) / 2)}
    assert [(e.reviewer_id, e.score) for e in board.counted()] == [(8, 4), (7, 2)]


def test_analyse_gives_what_the_functions_give():
    board = make_board(consensus={(V6, B): 2.0})
    everything = analyse(board, seed=3)
    assert everything.evaluation == evaluate(board)
    assert everything.disagreements == disagreements(board)
    assert everything.kendalls_w == kendalls_w(board)
    assert everything.department_totals == department_totals(board)
    assert everything.calibration == calibration(board)
    assert everything.sensitivity == sensitivity(board)
    assert everything.monte_carlo == monte_carlo(board, seed=3)
    assert everything.tie_breaks == tie_breaks(board) != {}


def test_weight_shares_in_percent():
    assert weight_shares({1: 3.0, 2: 1.0}) == {1: 75.0, 2: 25.0}
    assert weight_shares({1: 0.0, 2: 0.0}) == {1: 0.0, 2: 0.0}
    assert weight_shares({}) == {}
