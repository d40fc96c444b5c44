"""The phase pipeline: criteria, gate decisions, skipping with acknowledged risk."""

import pytest
from sqlalchemy import func, select

from planner.core.errors import Conflict, PermissionDenied, ValidationError
from planner.extensions import db
from planner.projects import service
from planner.projects.models import GateDecision
from planner.projects.phases import PHASE_KEYS, PhaseStatus, earlier_phases_open, next_gate
from tests.conftest import csrf_token


def test_a_new_rollout_has_nine_phases_in_order(factory):
    project = factory.project()
    assert [p.key for p in service.phases(db.session, project.id)] == list(PHASE_KEYS)
    assert PHASE_KEYS == (
        "goals",
        "requirements",
        "design",
        "vendors",
        "spec",
        "migration",
        "testing",
        "training",
        "golive",
    )


def test_pure_rules():
    st = {k: PhaseStatus.NOT_STARTED for k in PHASE_KEYS}
    assert next_gate(st) == "goals"
    assert earlier_phases_open(st, "design") == ["goals", "requirements"]
    st["goals"] = PhaseStatus.PASSED
    st["requirements"] = PhaseStatus.SKIPPED
    assert next_gate(st) == "design"
    assert earlier_phases_open(st, "design") == []


def _lead_access(factory):
    lead = factory.user()
    project = factory.project(lead)
    return project, factory.access(project, lead)


def test_goals_gate_lists_unmet_criteria_and_refuses_to_pass(factory):
    project, access = _lead_access(factory)
    phase = service.get_phase(db.session, project.id, "goals")
    unmet = [c.label for c in service.criteria(db.session, project, phase) if not c.met]
    assert "A vision statement is written" in unmet
    assert "At least one goal is stated" in unmet
    with pytest.raises(Conflict, match="criteria are unmet"):
        service.decide_gate(db.session, access, phase, outcome="pass")
    db.session.rollback()
    assert service.get_phase(db.session, project.id, "goals").status == PhaseStatus.NOT_STARTED


def test_goal_without_complete_kpi_blocks_the_gate(factory):
    project, access = _lead_access(factory)
    factory.ready_goals_phase(project)
    factory.goal(project, "No bulk export of the client database", kpi=False)
    g2 = factory.goal(project, "Safety of the client base", baseline=None)
    phase = service.get_phase(db.session, project.id, "goals")
    unmet = {c.label: c.detail for c in service.criteria(db.session, project, phase) if not c.met}
    assert unmet["Every goal has at least one KPI"] == "1 goal without a KPI"
    assert unmet["Every KPI has a baseline and a target"] == "1 KPI lacks a baseline or target"
    assert g2.id


def test_checklist_items_are_criteria_the_lead_ticks(factory):
    project, access = _lead_access(factory)
    factory.ready_goals_phase(project)
    phase = service.get_phase(db.session, project.id, "goals")
    item = service.add_checklist_item(db.session, access, phase, "Reviewed with department heads")
    db.session.commit()
    with pytest.raises(Conflict, match="Reviewed with department heads"):
        service.decide_gate(db.session, access, phase, outcome="pass")
    db.session.rollback()
    service.set_checklist_item(db.session, access, phase, item.id, True)
    decision = service.decide_gate(db.session, access, phase, outcome="pass", comment="ok")
    db.session.commit()
    assert phase.status == PhaseStatus.PASSED
    assert decision.decided_by_id == access.user.id
    with pytest.raises(Conflict, match="closed"):
        service.decide_gate(db.session, access, phase, outcome="send_back", comment="x")


def test_later_phase_cannot_pass_before_earlier_ones(factory):
    project, access = _lead_access(factory)
    design = service.get_phase(db.session, project.id, "design")
    with pytest.raises(Conflict, match="Earlier phases"):
        service.decide_gate(db.session, access, design, outcome="pass")


def test_skipping_needs_acknowledged_risk_and_reason(factory):
    project, access = _lead_access(factory)
    phase = service.get_phase(db.session, project.id, "requirements")
    with pytest.raises(ValidationError) as err:
        service.decide_gate(db.session, access, phase, outcome="skip")
    assert set(err.value.errors) == {"risk_acknowledged", "comment"}
    db.session.rollback()
    service.decide_gate(
        db.session,
        access,
        phase,
        outcome="skip",
        comment="Done last year",
        risk_acknowledged=True,
    )
    db.session.commit()
    assert phase.status == PhaseStatus.SKIPPED
    history = service.gate_history(db.session, phase.id)
    assert history[0].risk_acknowledged and history[0].comment == "Done last year"


def test_send_back_returns_phase_to_work_with_a_comment(factory):
    project, access = _lead_access(factory)
    phase = service.get_phase(db.session, project.id, "goals")
    service.request_gate(db.session, access, phase)
    db.session.commit()
    with pytest.raises(ValidationError):
        service.decide_gate(db.session, access, phase, outcome="send_back")
    db.session.rollback()
    phase = service.get_phase(db.session, project.id, "goals")
    service.decide_gate(db.session, access, phase, outcome="send_back", comment="KPIs vague")
    assert phase.status == PhaseStatus.IN_PROGRESS


def test_only_the_lead_decides_gates(factory):
    from planner.core.permissions import Role

    project, _ = _lead_access(factory)
    exec_user = factory.member(project, role=Role.EXECUTIVE)
    access = factory.access(project, exec_user)
    phase = service.get_phase(db.session, project.id, "goals")
    with pytest.raises(PermissionDenied):
        service.decide_gate(
            db.session, access, phase, outcome="skip", comment="x", risk_acknowledged=True
        )


def test_gate_decisions_are_audited(factory):
    from sqlalchemy import select

    from planner.core.audit import AuditEvent

    project, access = _lead_access(factory)
    factory.ready_goals_phase(project)
    phase = service.get_phase(db.session, project.id, "goals")
    service.decide_gate(db.session, access, phase, outcome="pass")
    db.session.commit()
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "gate.pass"))
    assert ev.project_id == project.id and ev.actor_id == access.user.id
    assert ev.before == {"status": "not_started"} and ev.after["status"] == "passed"


def test_audit_events_are_append_only(factory):
    from sqlalchemy import select

    from planner.core.audit import AuditEvent

    factory.project()
    ev = db.session.scalar(select(AuditEvent))
    ev.summary = "tampered"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    ev = db.session.scalar(select(AuditEvent))
    db.session.delete(ev)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_last_lead_cannot_be_removed_or_demoted(factory):
    from planner.core.permissions import Role
    from planner.projects.models import Membership

    project, access = _lead_access(factory)
    m = db.session.scalar(
        __import__("sqlalchemy").select(Membership).where(Membership.project_id == project.id)
    )
    with pytest.raises(Conflict, match="at least one lead"):
        service.remove_member(db.session, access, m.id)
    with pytest.raises(Conflict, match="at least one lead"):
        service.change_member(db.session, access, m.id, role=Role.VIEWER, department_id=None)


def test_the_gate_form_has_no_default_decision(client, factory, login_as):
    lead = factory.user("ana")
    project = factory.project(lead)
    login_as("ana")
    page = f"/projects/{project.id}/phases/goals"
    html = client.get(page).get_data(as_text=True)
    assert '<option selected value="">— choose the decision —</option>' in html
    assert 'class="skip-only"' in html
    resp = client.post(f"{page}/gate", data={"csrf_token": csrf_token(client, page), "outcome": ""})
    assert resp.status_code == 422
    assert "Required: choose the decision." in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(GateDecision)) == 0
