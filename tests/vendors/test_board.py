"""The board's rules: conflicts first, blind scoring, one score per cell, closed rounds."""

import math
import re

import pytest
from sqlalchemy import func, select

from planner.core.audit import AuditEvent
from planner.core.errors import Conflict, PermissionDenied, ValidationError
from planner.core.permissions import Role
from planner.extensions import db
from planner.projects import service as projects
from planner.vendors import service
from planner.vendors.models import Score
from tests.conftest import login


def scores_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Score))


def declare(vb, user, items=()):
    service.declare_conflicts(db.session, vb.access(user), list(items))
    db.session.commit()


def fill(vb, user, values):
    """values: {(vendor index, criterion index): score}"""
    entries = [
        service.ScoreInput(vb.vendors[v].id, vb.criteria[c].id, s, "")
        for (v, c), s in values.items()
    ]
    n = service.put_scores(db.session, vb.access(user), entries)
    db.session.commit()
    return n


FULL = {(0, 0): 5, (0, 1): 4, (1, 0): 3, (1, 1): 5}


def test_conflicts_must_be_declared_before_scoring(vboard):
    mihai = vboard.reviewers[0]
    with pytest.raises(Conflict, match="Declare any conflict"):
        fill(vboard, mihai, FULL)
    db.session.rollback()
    declare(vboard, mihai, [service.ConflictItem(vboard.vendors[1].id, "Brother works there")])
    assert fill(vboard, mihai, FULL) == 4
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"conflict.declare", "score.put"} <= actions


@pytest.mark.parametrize("bad", [-1, 6, 2.5, float("nan"), "", "abc", None, True, "3.0", [3]])
def test_scores_must_be_whole_numbers_0_to_5(vboard, bad):
    mihai = vboard.reviewers[0]
    declare(vboard, mihai)
    with pytest.raises(ValidationError) as err:
        fill(vboard, mihai, {(0, 0): 4, (0, 1): bad})
    assert "whole number from 0 to 5" in str(err.value.errors)
    db.session.rollback()
    assert scores_count() == 0  # all or nothing


def test_a_repeat_overwrites_the_reviewers_own_score(vboard):
    mihai = vboard.reviewers[0]
    declare(vboard, mihai)
    fill(vboard, mihai, {(0, 0): 2})
    assert fill(vboard, mihai, {(0, 0): 4}) == 1
    assert fill(vboard, mihai, {(0, 0): 4}) == 0  # unchanged: nothing written
    assert scores_count() == 1
    assert db.session.scalar(select(Score.score)) == 4


def test_only_reviewers_score(vboard):
    with pytest.raises(PermissionDenied):
        service.put_scores(db.session, vboard.lead_access, [])


def test_blind_scoring_until_the_reviewer_submits(vboard):
    mihai, jonas = vboard.reviewers
    for r in (mihai, jonas):
        declare(vboard, r)
    fill(vboard, jonas, FULL)
    fill(vboard, mihai, {(0, 0): 1})
    access = projects.load_access(db.session, vboard.project.id, mihai)
    with pytest.raises(PermissionDenied, match="Blind scoring"):
        service.evaluation_for(db.session, access)
    with pytest.raises(Conflict, match="incomplete"):
        service.submit_scoresheet(db.session, access)
    fill(vboard, mihai, FULL)
    service.submit_scoresheet(db.session, access)
    db.session.commit()
    assert service.evaluation_for(db.session, access)["vendors"]
    with pytest.raises(Conflict, match="submitted"):
        fill(vboard, mihai, {(0, 0): 2})


def test_closed_round_refuses_changes(vboard):
    mihai = vboard.reviewers[0]
    declare(vboard, mihai)
    service.set_round_state(db.session, vboard.lead_access, action="close")
    db.session.commit()
    with pytest.raises(Conflict, match="not open"):
        fill(vboard, mihai, FULL)
    with pytest.raises(Conflict, match="closed"):
        service.create_vendor(db.session, vboard.lead_access, name="Pipedrive")


def test_only_submitted_scoresheets_count(vboard):
    """A draft, even of zeros, moves no result; the sheet counts once submitted."""
    mihai, jonas = vboard.reviewers
    declare(vboard, mihai)
    declare(vboard, jonas)
    fill(vboard, mihai, FULL)
    fill(vboard, jonas, {(0, 0): 0, (0, 1): 0, (1, 0): 0, (1, 1): 0})
    vboard.submit(mihai)
    result = service.evaluation(db.session, vboard.project.id)
    sf = next(v for v in result["vendors"] if v["name"] == "Salesforce")
    assert sf["criterion_scores"][str(vboard.criteria[0].id)] == 5.0  # jonas' zeros left out
    fill(vboard, jonas, {(0, 0): 0, (0, 1): 0, (1, 0): 3, (1, 1): 5})
    vboard.submit(jonas)
    result = service.evaluation(db.session, vboard.project.id)  # the submit moved the revision
    sf = next(v for v in result["vendors"] if v["name"] == "Salesforce")
    assert sf["criterion_scores"][str(vboard.criteria[0].id)] == 2.5


def test_recused_reviewer_is_left_out(vboard):
    mihai, jonas = vboard.reviewers
    declare(vboard, mihai)
    declare(vboard, jonas)
    fill(vboard, mihai, FULL)
    fill(vboard, jonas, {(0, 0): 0, (0, 1): 0, (1, 0): 3, (1, 1): 5})
    vboard.submit(mihai, jonas)
    before = service.evaluation(db.session, vboard.project.id)
    sf = next(v for v in before["vendors"] if v["name"] == "Salesforce")
    assert sf["criterion_scores"][str(vboard.criteria[0].id)] == 2.5
    service.recuse(
        db.session,
        vboard.lead_access,
        reviewer_id=jonas.id,
        vendor_id=vboard.vendors[0].id,
        reason="former employer",
    )
    db.session.commit()
    after = service.evaluation(db.session, vboard.project.id)  # the cache was invalidated
    sf = next(v for v in after["vendors"] if v["name"] == "Salesforce")
    assert sf["criterion_scores"][str(vboard.criteria[0].id)] == 5.0


def test_recused_reviewer_cannot_score_that_vendor(vboard):
    jonas = vboard.reviewers[1]
    declare(vboard, jonas)
    service.recuse(
        db.session,
        vboard.lead_access,
        reviewer_id=jonas.id,
        vendor_id=vboard.vendors[0].id,
        reason="former employer",
    )
    db.session.commit()
    with pytest.raises(ValidationError, match="problem"):
        fill(vboard, jonas, {(0, 0): 1})
    fill(vboard, jonas, {(1, 0): 3, (1, 1): 5})
    vboard.submit(jonas)  # the recused vendor is not needed for a complete sheet


def test_near_duplicate_names_are_refused(vboard):
    for name in ("  salesforce ", "Sales-Force", "Ｓａｌｅｓｆｏｒｃｅ", "Salesforc"):
        with pytest.raises(Conflict, match="too close"):
            service.create_vendor(db.session, vboard.lead_access, name=name)
        db.session.rollback()
    v = service.create_vendor(db.session, vboard.lead_access, name="  Microsoft   Dynamics 365 ")
    assert v.name == "Microsoft Dynamics 365"


def test_consensus_and_decision_and_the_vendors_gate(vboard):
    mihai, jonas = vboard.reviewers
    for r in (mihai, jonas):
        declare(vboard, r)
    fill(vboard, mihai, FULL)
    fill(vboard, jonas, {(0, 0): 1, (0, 1): 4, (1, 0): 3, (1, 1): 5})
    phase = projects.get_phase(db.session, vboard.project.id, "vendors")
    unmet = {c.label for c in projects.criteria(db.session, vboard.project, phase) if not c.met}
    assert "Every reviewer has submitted their scoresheet" in unmet
    vboard.submit(mihai, jonas)
    result = service.evaluation(db.session, vboard.project.id)
    assert len(result["disagreements"]) == 1  # Salesforce/Functionality: 5 vs 1
    service.set_consensus(
        db.session,
        vboard.lead_access,
        vendor_id=vboard.vendors[0].id,
        criterion_id=vboard.criteria[0].id,
        score=4.0,
        rationale="Demo showed the pipeline features",
    )
    db.session.commit()
    sf = next(
        v
        for v in service.evaluation(db.session, vboard.project.id)["vendors"]
        if v["name"] == "Salesforce"
    )
    assert sf["criterion_scores"][str(vboard.criteria[0].id)] == 4.0
    unmet = {c.label for c in projects.criteria(db.session, vboard.project, phase) if not c.met}
    assert "Every reviewer has submitted their scoresheet" not in unmet
    assert "Legal has reviewed the contract" in unmet
    service.record_decision(
        db.session,
        vboard.lead_access,
        vendor_id=vboard.vendors[0].id,
        rationale="Best functionality",
    )
    db.session.commit()
    row = service.decision(db.session, vboard.project.id)
    from datetime import date

    service.update_contract(
        db.session,
        vboard.lead_access,
        version=row.version,
        legal_reviewed_by="Ioana Dumitrescu",
        legal_reviewed_on=date(2026, 11, 20),
    )
    db.session.commit()
    unmet = {c.label for c in projects.criteria(db.session, vboard.project, phase) if not c.met}
    assert "Legal has reviewed the contract" not in unmet
    assert "The selected vendor and the rationale are recorded" not in unmet


def test_a_vendor_that_is_not_ranked_needs_an_override_with_a_reason(vboard):
    mihai = vboard.reviewers[0]
    declare(vboard, mihai)
    fill(vboard, mihai, {(0, 0): 1, (0, 1): 5, (1, 0): 4, (1, 1): 4})
    vboard.submit(mihai)
    with pytest.raises(Conflict, match="not ranked by the board .*Functionality") as refused:
        service.record_decision(
            db.session, vboard.lead_access, vendor_id=vboard.vendors[0].id, rationale="Cheapest"
        )
    assert refused.value.errors == {
        "override_reason": ["Required to choose a vendor that is not ranked."]
    }
    db.session.rollback()
    assert service.decision(db.session, vboard.project.id) is None  # nothing half-saved
    row = service.record_decision(
        db.session,
        vboard.lead_access,
        vendor_id=vboard.vendors[0].id,
        rationale="Cheapest",
        override_reason="The CEO accepts the functionality gap for the price",
    )
    db.session.commit()
    assert row.override_reason.startswith("The CEO accepts")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "decision.record"))
    assert "overriding the board's result" in event.summary
    # Choosing the ranked vendor clears the override: it overrides nothing.
    row = service.record_decision(
        db.session,
        vboard.lead_access,
        vendor_id=vboard.vendors[1].id,
        rationale="Best ranked",
        override_reason="ignored",
        version=row.version,
    )
    assert row.override_reason == ""


def test_the_decision_page_preselects_nothing_and_says_each_vendors_standing(
    vboard, client, factory
):
    mihai = vboard.reviewers[0]
    declare(vboard, mihai)
    fill(vboard, mihai, {(0, 0): 1, (0, 1): 5, (1, 0): 4, (1, 1): 4})
    vboard.submit(mihai)
    login(client, "lead")
    page = client.get(f"/projects/{vboard.project.id}/vendors/decision").get_data(as_text=True)
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", page)
    assert options[0][1] == "— choose a vendor —" and "selected" in options[0][0]
    assert [label for _, label in options[1:]] == [
        "HubSpot — rank 1",
        "Salesforce — knocked out (not ranked)",
    ]
    assert not any("selected" in attrs for attrs, _ in options[1:])


def test_ahp_weights_applied_to_the_criteria(vboard):
    a, b = vboard.criteria
    result = service.set_pairwise(db.session, vboard.lead_access, {(a.id, b.id): 3.0}, apply=True)
    db.session.commit()
    assert [round(w, 3) for w in result.weights] == [0.75, 0.25]
    assert math.isclose(a.weight, 75.0) and math.isclose(b.weight, 25.0)


def test_reviewer_never_sees_prices(vboard, api_as, factory):
    mihai = vboard.reviewers[0]
    items = api_as(mihai).get(f"/projects/{vboard.project.id}/vendors").json["items"]
    assert all("cost_3y" not in v for v in items)
    executive = factory.member(vboard.project, factory.user("ceo"), Role.EXECUTIVE)
    items = api_as(executive).get(f"/projects/{vboard.project.id}/vendors").json["items"]
    assert {v["cost_3y"] for v in items} == {410000.0, 190000.0}


def test_the_two_envelope_rule_is_decided_once(vboard, factory):
    """Prices: lead and executives always; the technical-only view: everyone else, while a
    two-envelope round's technical scoring is open. The results follow the same rule."""
    executive = factory.member(vboard.project, factory.user("ceo"), Role.EXECUTIVE)
    reviewer = vboard.access(vboard.reviewers[0])
    rnd = service.get_round(db.session, vboard.project.id)
    seen = {
        name: service.envelopes(access, rnd)
        for name, access in (
            ("lead", vboard.lead_access),
            ("executive", vboard.access(executive, Role.EXECUTIVE)),
            ("reviewer", reviewer),
        )
    }
    assert {n: (e.prices, e.technical_only) for n, e in seen.items()} == {
        "lead": (True, False),
        "executive": (True, False),
        "reviewer": (False, True),
    }
    assert seen["reviewer"].audience == "no-prices:technical"
    service.set_round_state(db.session, vboard.lead_access, action="close_technical")
    db.session.commit()
    after = service.envelopes(reviewer, rnd)
    assert (after.prices, after.technical_only, after.audience) == (False, False, "no-prices")


def test_opening_the_round_starts_the_vendors_phase(factory):
    lead = factory.user("ana")
    project = factory.project(lead)
    access = factory.lead_access(project)
    phase = projects.get_phase(db.session, project.id, "vendors")
    assert phase.status.value == "not_started"
    service.create_vendor(db.session, access, name="Salesforce")
    service.create_criterion(db.session, access, name="Functionality", weight=1.0)
    service.set_round_state(db.session, access, action="open", two_envelopes=False)
    db.session.commit()
    db.session.expire_all()
    phase = projects.get_phase(db.session, project.id, "vendors")
    assert phase.status.value == "in_progress" and phase.actual_start is not None
    started = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action.like("phase.%"), AuditEvent.entity_id == phase.id
        )
    )
    assert started is not None
