"""The register's flags and the comparison of revisions: pure functions, microseconds."""

from __future__ import annotations

from planner.requirements.compare import compare, word_diff
from planner.requirements.flags import (
    flags_of,
    goals_without_requirement,
    near_identical,
    normalise_title,
)
from planner.requirements.records import key_of, number_of


def test_keys_are_stable_and_read_back():
    assert [key_of(n) for n in (1, 42, 1234)] == ["REQ-001", "REQ-042", "REQ-1234"]
    assert number_of("REQ-007") == number_of("req-7") == number_of(" REQ-0007 ") == 7
    assert number_of("REQ-") is None and number_of("7") is None and number_of("") is None


def test_near_identical_titles_in_every_script():
    titles = {
        1: "Track customer calls in real time",
        2: "Track customer calls in real-time.",
        3: "Real-time dashboards for the head of sales",
        4: "客户投诉在48小时内处理",
        5: "客户投诉在 48 小时内处理！",
        6: "",
    }
    assert normalise_title("  Track — CUSTOMER calls!! ") == "track customer calls"
    keys = {rid: normalise_title(t) for rid, t in titles.items()}
    found = near_identical(keys, [1, 2, 3, 4, 5, 6])
    assert found[1][0] == 2 and found[2][0] == 1 and found[1][1] >= 90
    assert 3 not in found and 6 not in found
    assert found[4][0] == 5 and found[5][0] == 4
    # only the asked ids are looked at, against every title
    assert set(near_identical(keys, [3, 4])) == {4}
    # words in another order are the same title; a different need is not
    reordered = {
        1: "calls of customers tracked in real time",
        2: "in real time calls of customers tracked",
        3: "approve complaints before the weekly review",
        4: "approve invoices before the weekly review",
    }
    assert set(near_identical(reordered, [1, 2, 3, 4])) == {1, 2}


def test_flags_of_one_requirement():
    f = flags_of(goal_count=0, priority="must", acceptance_criterion="  ", near=(7, 95.0))
    assert f.no_goal and f.must_without_criterion and f.near_identical_to == 7 and f.any
    ok = flags_of(goal_count=2, priority="must", acceptance_criterion="Checked by sales")
    assert not ok.any
    assert not flags_of(goal_count=1, priority="should", acceptance_criterion="").any
    rejected = flags_of(goal_count=0, priority="must", acceptance_criterion="", status="rejected")
    assert not rejected.no_goal and not rejected.must_without_criterion


def test_goals_without_requirement_keep_their_order():
    assert goals_without_requirement([5, 3, 9, 1], served=[9, 9, 4]) == [5, 3, 1]


def test_word_diff_marks_changed_words_and_keeps_the_text():
    segments = word_diff("Track calls in real time", "Track every call in real time")
    kinds = [(s.kind, s.text) for s in segments]
    assert ("removed", "calls") in kinds and ("added", "every call") in kinds
    before = "".join(s.text for s in segments if s.kind != "added")
    after = "".join(s.text for s in segments if s.kind != "removed")
    assert before == "Track calls in real time" and after == "Track every call in real time"


def test_compare_two_snapshots_field_by_field():
    a = {
        "title": "Complaint handling",
        "priority": "should",
        "goals": [{"id": 1, "name": "Faster complaints"}],
        "departments": [{"id": 3, "name": "Customer service"}],
        "description": "",
    }
    b = {**a, "priority": "must", "goals": [], "description": "客服部门需要完善的客户投诉处理功能"}
    changes = {c.field: c for c in compare(a, b)}
    assert [f for f, c in changes.items() if c.changed] == ["description", "priority", "goals"]
    assert changes["goals"].before == ["Faster complaints"] and changes["goals"].after == []
    assert changes["priority"].as_dict() == {
        "field": "priority",
        "before": "should",
        "after": "must",
        "changed": True,
        "words": [{"kind": "removed", "text": "should"}, {"kind": "added", "text": "must"}],
    }
    assert not changes["title"].changed and not changes["title"].words
