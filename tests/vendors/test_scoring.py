"""The maths of vendor selection against hand-made data computed independently."""

import math

import pytest

from planner.vendors.scoring import (
    Board,
    CriterionSpec,
    ScoreEntry,
    VendorSpec,
    ahp,
    ahp_matrix_from_pairs,
    calibration,
    competition_ranks,
    department_totals,
    disagreements,
    evaluate,
    kendalls_w,
    monte_carlo,
    sensitivity,
)

A, B, C = 1, 2, 3  # criteria
V1, V2, V3, V4, V5 = 11, 12, 13, 14, 15  # vendors
R1, R2, R3 = 101, 102, 103  # reviewers
DEPT = {R1: "Sales", R2: "IT", R3: "Legal"}

CRITERIA = [
    CriterionSpec(A, "Functionality", 2.0, must_have=True, min_score=3.0),
    CriterionSpec(B, "Security", 1.0),
    CriterionSpec(C, "User experience", 1.0),
]
# vendor -> criterion -> scores of R1, R2, R3 (None: not scored)
SHEET = {
    V1: {A: (5, 5, 2), B: (3, 3, 3), C: (5, 4, None)},
    V2: {A: (5, 5, 0), B: (2, 2, 2), C: (4, 4, 4)},  # R3 is recused from V2
    V3: {A: (2, 3, 2), B: (5, 5, 5), C: (5, 5, 5)},  # knocked out on A
    V4: {A: (4, 4, 4), B: (None, None, None), C: (3, 3, 3)},  # B unscored: incomplete
    V5: {A: (5, 5, 5), B: (2, 2, 2), C: (4, 4, 4)},  # ties with V2
}


def board(consensus=None, recusals=frozenset({(R3, V2)})) -> Board:
    scores = [
        ScoreEntry(r, v, c, s, DEPT[r], "data residency unclear" if s == 2 and c == A else "")
        for v, by_c in SHEET.items()
        for c, triple in by_c.items()
        for r, s in zip((R1, R2, R3), triple, strict=True)
        if s is not None
    ]
    return Board(
        vendors=[VendorSpec(v, f"V{v - 10}") for v in SHEET],
        criteria=CRITERIA,
        scores=scores,
        consensus=consensus or {},
        recusals=recusals,
    )


def total(a: float, b: float, c: float) -> float:
    """100 × Σ (w/Σw) × score/5 with weights 2, 1, 1, written out."""
    return 100 * (2 / 4 * a / 5 + 1 / 4 * b / 5 + 1 / 4 * c / 5)


def test_totals_ranks_knockout_and_missing_scores():
    ev = evaluate(board())
    v1, v2, v3, v4, v5 = (ev.vendors[v] for v in (V1, V2, V3, V4, V5))
    assert v1.criterion_scores == {A: 4.0, B: 3.0, C: 4.5}
    assert v1.weighted_total == pytest.approx(total(4, 3, 4.5)) == pytest.approx(77.5)
    # R3's 0 for V2 is left out (recused): A = mean(5, 5) = 5
    assert v2.criterion_scores[A] == 5.0
    assert v2.weighted_total == pytest.approx(80.0)
    assert v5.weighted_total == pytest.approx(80.0)
    assert v3.weighted_total == pytest.approx(total(7 / 3, 5, 5))
    assert v3.rank is None and "below the must-have minimum" in v3.knocked_out[0]
    assert v4.weighted_total is None and v4.incomplete == [B] and v4.rank is None
    assert (v2.rank, v5.rank, v1.rank) == (1, 1, 3)


def test_without_the_recusal_the_recused_score_counts():
    ev = evaluate(board(recusals=frozenset()))
    assert ev.vendors[V2].criterion_scores[A] == pytest.approx(10 / 3)
    assert ev.vendors[V2].weighted_total == pytest.approx(total(10 / 3, 2, 4))


def test_consensus_replaces_the_mean():
    ev = evaluate(board(consensus={(V1, B): 5.0}))
    assert ev.vendors[V1].criterion_scores[B] == 5.0
    assert ev.vendors[V1].weighted_total == pytest.approx(total(4, 5, 4.5)) == pytest.approx(87.5)
    assert (ev.vendors[V1].rank, ev.vendors[V2].rank, ev.vendors[V5].rank) == (1, 2, 2)


def test_competition_ranking():
    assert competition_ranks({1: 90.0, 2: 90.0, 3: 80.0, 4: 70.0}) == {1: 1, 2: 1, 3: 3, 4: 4}
    assert competition_ranks({}) == {}


def test_disagreements_flag_spread_of_three_or_more():
    flagged = disagreements(board())
    pairs = {(d.vendor_id, d.criterion_id): d for d in flagged}
    # V1/A: 5, 5, 2 (spread 3). V2/A: 5, 5 and the recused 0 does not count.
    assert set(pairs) == {(V1, A)}
    d = pairs[(V1, A)]
    assert d.spread == 3 and [e.score for e in d.entries] == [5, 5, 2]
    assert d.entries[2].comment == "data residency unclear"
    assert not d.has_consensus
    assert disagreements(board(consensus={(V1, A): 4.0}))[0].has_consensus


def test_department_view():
    dept = department_totals(board())
    # Sales (R1) alone: V1 = A 5, B 3, C 5
    assert dept["Sales"][V1] == pytest.approx(total(5, 3, 5))
    # Legal (R3) never scored V1/C and is recused from V2: incomplete for both
    assert dept["Legal"][V1] is None and dept["Legal"][V2] is None
    assert dept["IT"][V2] == pytest.approx(total(5, 2, 4))


def test_kendalls_w_full_agreement_and_reversal():
    crit = [CriterionSpec(1, "Only", 1.0)]
    vendors = [VendorSpec(i, f"V{i}") for i in (1, 2, 3)]

    def w(sheet):
        scores = [ScoreEntry(r, v, 1, s) for r, row in sheet.items() for v, s in row.items()]
        return kendalls_w(Board(vendors=vendors, criteria=crit, scores=scores))

    assert w({1: {1: 5, 2: 3, 3: 1}, 2: {1: 4, 2: 3, 3: 2}, 3: {1: 5, 2: 4, 3: 0}}) == 1.0
    assert w({1: {1: 5, 2: 3, 3: 1}, 2: {1: 1, 2: 3, 3: 5}}) == 0.0
    # 3 reviewers, 3 vendors, rankings (1,2,3), (1,3,2), (2,1,3): rank sums 4, 6, 8,
    # S = (4-6)² + 0 + (8-6)² = 8, W = 12·8 / (3²·(27-3)) = 96/216
    partial = w({1: {1: 5, 2: 4, 3: 3}, 2: {1: 5, 2: 3, 3: 4}, 3: {1: 4, 2: 5, 3: 3}})
    assert partial == pytest.approx(96 / 216)


def test_calibration_standardises_a_harsh_reviewer():
    crit = [CriterionSpec(1, "Only", 1.0)]
    vendors = [VendorSpec(1, "X"), VendorSpec(2, "Y")]
    scores = [
        ScoreEntry(1, 1, 1, 5),
        ScoreEntry(1, 2, 1, 3),  # lenient
        ScoreEntry(2, 1, 1, 2),
        ScoreEntry(2, 2, 1, 0),
    ]  # harsh, same judgement
    cal = calibration(Board(vendors=vendors, criteria=crit, scores=scores))
    means = {r.reviewer_id: (r.mean, r.sd) for r in cal.reviewers}
    assert means == {1: (4.0, 1.0), 2: (1.0, 1.0)}
    assert cal.board_mean == 2.5 and cal.board_sd == pytest.approx(math.sqrt(3.25))
    # both reviewers standardise to board_mean ± board_sd: X gets 2.5 + sd, Y 2.5 - sd
    sd = math.sqrt(3.25)
    assert cal.standardised_totals[1] == pytest.approx(100 * (2.5 + sd) / 5)
    assert cal.standardised_totals[2] == pytest.approx(100 * (2.5 - sd) / 5)


def test_price_is_scored_by_formula_among_ranked_vendors():
    crit = [
        CriterionSpec(1, "Quality", 1.0, must_have=True, min_score=3.0),
        CriterionSpec(2, "Price", 1.0, is_price=True),
    ]
    vendors = [VendorSpec(1, "X", 100.0), VendorSpec(2, "Y", 200.0), VendorSpec(3, "Z", 50.0)]
    scores = [
        ScoreEntry(7, 1, 1, 5),
        ScoreEntry(7, 2, 1, 5),
        ScoreEntry(7, 3, 1, 1),
        ScoreEntry(7, 1, 2, 0),
    ]  # a reviewer's score on price is ignored
    ev = evaluate(Board(vendors=vendors, criteria=crit, scores=scores))
    # Z is knocked out, so the cheapest ranked vendor is X at 100
    assert ev.vendors[1].criterion_scores[2] == pytest.approx(5 * 100 / 100)
    assert ev.vendors[2].criterion_scores[2] == pytest.approx(5 * 100 / 200)
    assert ev.vendors[1].weighted_total == pytest.approx(100.0)
    assert ev.vendors[2].weighted_total == pytest.approx(100 * (0.5 + 0.5 * 2.5 / 5))
    assert ev.vendors[3].rank is None


def test_ahp_against_the_published_leader_example():
    """Wikipedia, "Analytic hierarchy process – leader example": criteria Experience,
    Education, Charisma, Age, judged Exp/Edu 4, Exp/Cha 3, Exp/Age 7, Edu/Cha 1/3, Edu/Age 3,
    Cha/Age 5; published priorities .547, .127, .270, .056."""
    m = ahp_matrix_from_pairs(
        4, {(0, 1): 4, (0, 2): 3, (0, 3): 7, (1, 2): 1 / 3, (1, 3): 3, (2, 3): 5}
    )
    r = ahp(m)
    assert [round(w, 3) for w in r.weights] == pytest.approx(
        [0.547, 0.127, 0.270, 0.056], abs=0.0015
    )
    # CR = (λmax − n)/(n − 1)/RI with RI(4) = 0.90; consistent (< 0.10)
    assert r.cr == pytest.approx((r.lambda_max - 4) / 3 / 0.90)
    assert 0.03 < r.cr < 0.06 and not r.inconsistent


def test_ahp_flags_inconsistent_judgements_and_points_at_them():
    # a > b (9), b > c (9), but c > a (9): a cycle
    r = ahp(ahp_matrix_from_pairs(3, {(0, 1): 9, (1, 2): 9, (2, 0): 9}))
    assert r.inconsistent and r.cr > 0.10 and r.worst_pairs


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1, 2], [0.5]], "square"),
        ([[1, -2], [-0.5, 1]], "positive"),
        ([[1, 2.5], [0.4, 1]], "Saaty"),
        ([[1, 2], [2, 1]], "reciprocal"),
        ([], "square"),
    ],
)
def test_ahp_refuses_bad_matrices(matrix, message):
    with pytest.raises(ValueError, match=message):
        ahp(matrix)


def test_sensitivity_solves_the_crossing_exactly():
    crit = [CriterionSpec(1, "c1", 3.0), CriterionSpec(2, "c2", 1.0)]
    vendors = [VendorSpec(1, "X"), VendorSpec(2, "Y")]
    scores = [
        ScoreEntry(9, 1, 1, 5),
        ScoreEntry(9, 1, 2, 0),
        ScoreEntry(9, 2, 1, 0),
        ScoreEntry(9, 2, 2, 5),
    ]
    b = Board(vendors=vendors, criteria=crit, scores=scores)
    # X = 100·s1, Y = 100·(1 − s1): they cross at s1 = 0.5; s1 is 0.75 now
    s = sensitivity(b)
    assert s[1].change_pp == pytest.approx(-25.0) and s[1].new_winner == 2
    assert s[2].change_pp == pytest.approx(+25.0) and s[2].new_winner == 2


def test_sensitivity_none_when_no_share_changes_the_winner():
    crit = [CriterionSpec(1, "c1", 1.0), CriterionSpec(2, "c2", 1.0)]
    vendors = [VendorSpec(1, "X"), VendorSpec(2, "Y")]
    scores = [
        ScoreEntry(9, 1, 1, 5),
        ScoreEntry(9, 1, 2, 5),
        ScoreEntry(9, 2, 1, 1),
        ScoreEntry(9, 2, 2, 1),
    ]
    assert sensitivity(Board(vendors=vendors, criteria=crit, scores=scores)) == {1: None, 2: None}


def test_monte_carlo_is_reproducible_and_sums_to_one():
    b = board()
    first = monte_carlo(b, draws=10_000, seed=7)
    assert first == monte_carlo(b, draws=10_000, seed=7)
    assert sum(first.values()) == pytest.approx(1.0)
    assert set(first) == {V1, V2, V5}  # ranked vendors only
    # V2 and V5 are identical: a tie for first goes to the first listed, V2
    assert first[V5] == 0.0 and first[V2] > first[V1] > 0


def test_zero_weight_is_refused():
    with pytest.raises(ValueError, match="zero"):
        evaluate(
            Board(vendors=[VendorSpec(1, "X")], criteria=[CriterionSpec(1, "c", 0.0)], scores=[])
        )
