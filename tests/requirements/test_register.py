"""The requirements register: stable keys, a revision per change, traces to this rollout's
goals and departments, the register's filters and counts, the gate's criteria; pages and API."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, func, select

from planner.core.audit import AuditEvent
from planner.core.errors import StaleEdit, ValidationError
from planner.core.permissions import Role
from planner.extensions import db
from planner.goals import service as goals
from planner.projects import service as projects
from planner.requirements import service
from planner.requirements.models import Requirement, RequirementRevision
from tests.conftest import csrf_token


def _req(access, title, **kw):
    values = {"type": "functional", "priority": "should", "status": "proposed", **kw}
    return service.create_requirement(db.session, access, title=title, **values)


def _values(req, **changes):
    """The requirement's values as the service takes them (reloaded: a commit expires it)."""
    req = service.get_requirement(db.session, req.project_id, req.id)
    return {
        "title": req.title,
        "description": req.description,
        "type": req.type.value,
        "priority": req.priority.value,
        "module": req.module,
        "acceptance_criterion": req.acceptance_criterion,
        "status": req.status.value,
        "owner_id": req.owner_id,
        "goal_ids": [g.id for g in req.goals],
        "department_ids": [d.id for d in req.departments],
        **changes,
    }


@pytest.fixture
def rollout(factory):
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead, name="CRM rollout")
    access = factory.lead_access(project)
    pipeline = goals.create_goal(
        db.session, access, statement="A transparent sales pipeline", department_id=None
    )
    complaints = goals.create_goal(
        db.session, access, statement="客户投诉在48小时内处理", department_id=None
    )
    db.session.commit()
    depts = {d.name: d for d in projects.departments(db.session, project.id)}
    return project, access, (pipeline, complaints), depts


def test_keys_are_given_in_order_and_each_rollout_counts_its_own(rollout, factory):
    project, access, (pipeline, _), depts = rollout
    a = _req(access, "Track every customer call", goal_ids=[pipeline.id])
    b = _req(access, "Complaint handling", department_ids=[depts["Customer service"].id])
    other = factory.project(factory.user("bob"), name="Another rollout")
    c = _req(factory.lead_access(other), "Something else")
    db.session.commit()
    assert (a.key, b.key, c.key) == ("REQ-001", "REQ-002", "REQ-001")
    assert a.revision == 1 and [r.number for r in service.revisions(db.session, a)] == [1]
    created = db.session.scalar(
        select(AuditEvent.summary).where(AuditEvent.action == "requirement.create").limit(1)
    )
    assert created == "requirement REQ-001 added: “Track every customer call”"


def test_every_change_makes_a_revision_and_a_save_without_change_makes_none(rollout):
    project, access, (pipeline, complaints), depts = rollout
    req = _req(access, "Track calls", goal_ids=[pipeline.id])
    db.session.commit()
    service.update_requirement(
        db.session,
        access,
        req,
        version=req.version,
        **_values(req, priority="must", goal_ids=[pipeline.id, complaints.id]),
    )
    db.session.commit()
    assert req.revision == 2
    service.update_requirement(db.session, access, req, version=req.version, **_values(req))
    db.session.commit()
    assert req.revision == 2 and len(service.revisions(db.session, req)) == 2
    _a, _b, changes = service.compare_revisions(db.session, req, 1, 2)
    changed = {c.field: c for c in changes if c.changed}
    assert set(changed) == {"priority", "goals"}
    assert changed["goals"].after == ["A transparent sales pipeline", "客户投诉在48小时内处理"]
    # revision 1 is kept as it was, and the ORM refuses to change it
    first = service.get_revision(db.session, req, 1)
    assert first.snapshot["priority"] == "should"
    first.snapshot = {**first.snapshot, "priority": "must"}
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_a_stale_edit_is_refused_naming_who_saved(rollout, factory):
    project, access, _goals, _ = rollout
    req = _req(access, "Track calls")
    db.session.commit()
    seen = req.version
    service.update_requirement(
        db.session, access, req, version=seen, **_values(req, module="Sales")
    )
    db.session.commit()
    with pytest.raises(StaleEdit, match="Ana Popescu"):
        service.update_requirement(
            db.session, access, req, version=seen, **_values(req, module="Marketing")
        )
    db.session.rollback()
    assert db.session.get(Requirement, req.id).module == "Sales"


def test_traces_must_belong_to_the_rollout(rollout, factory):
    project, access, _goals, _depts = rollout
    other = factory.project(factory.user("bob"), name="Another rollout")
    foreign = goals.create_goal(
        db.session, factory.lead_access(other), statement="Theirs", department_id=None
    )
    foreign_dept = projects.departments(db.session, other.id)[0]
    db.session.commit()
    with pytest.raises(ValidationError) as err:
        _req(access, "Track calls", goal_ids=[foreign.id], department_ids=[foreign_dept.id])
    assert set(err.value.errors) == {"goal_ids", "department_ids"}
    assert f"No goal {foreign.id} in this rollout" in err.value.errors["goal_ids"][0]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Requirement)) == 0


def test_the_register_filters_searches_sorts_and_counts(rollout):
    project, access, (pipeline, complaints), depts = rollout
    sales, service_dept = depts["Sales"].id, depts["Customer service"].id
    _req(
        access,
        "Track every customer call",
        priority="must",
        module="Sales process",
        goal_ids=[pipeline.id],
        department_ids=[sales],
        acceptance_criterion="Logged in 1 min",
    )
    _req(
        access,
        "Beschwerdemanagement für den Kundendienst",
        priority="must",
        module="Service and complaints",
        department_ids=[service_dept],
    )
    _req(
        access,
        "Campaign lists",
        priority="could",
        module="Marketing",
        status="accepted",
        description="Built from the **customer** records",
        goal_ids=[pipeline.id],
    )
    db.session.commit()

    def keys(**q):
        query = service.RegisterQuery(**q)
        return [r.key for r in service.register_page(db.session, project.id, query, 1, 10).items]

    assert keys() == ["REQ-001", "REQ-002", "REQ-003"]
    assert keys(priority="must") == ["REQ-001", "REQ-002"]
    assert keys(department=service_dept) == ["REQ-002"]
    assert keys(goal=pipeline.id) == ["REQ-001", "REQ-003"]
    assert keys(module="marketing") == ["REQ-003"]
    assert keys(status="accepted") == ["REQ-003"]
    assert keys(q="CUSTOMER") == ["REQ-001", "REQ-003"]  # title and description, any case
    assert keys(q="beschwerdemanagement") == ["REQ-002"]
    assert keys(q="req-2") == ["REQ-002"] and keys(q="100%_") == []
    assert keys(sort="-key") == ["REQ-003", "REQ-002", "REQ-001"]
    assert keys(sort="priority")[-1] == "REQ-003"
    page = service.register_page(db.session, project.id, service.RegisterQuery(), 2, 2)
    assert [r.key for r in page.items] == ["REQ-003"] and page.total == 3
    counts = service.register_counts(db.session, project.id)
    assert counts.total == 3 and counts.by_priority == {
        "must": 2,
        "should": 0,
        "could": 1,
        "wont": 0,
    }
    assert dict((name, n) for _id, name, n in counts.by_department)["Sales"] == 1
    assert counts.no_goal == 1 and counts.must_without_criterion == 1
    assert [g.id for g in service.goals_without_requirement(db.session, project.id)] == [
        complaints.id
    ]


def test_the_gate_needs_accepted_must_haves_with_criteria_and_every_goal_served(rollout):
    project, access, (pipeline, complaints), _ = rollout

    def criteria():
        return {c.label: c for c in service._criteria(db.session, project)}

    must = _req(access, "Track calls", priority="must", goal_ids=[pipeline.id])
    db.session.commit()
    c = criteria()
    musts = c["Every must-have requirement is accepted and has an acceptance criterion"]
    served = c["Every goal has at least one requirement"]
    assert not musts.met and "1 must-have not accepted" in musts.detail
    assert not served.met and served.detail == "1 goal without a requirement"
    service.update_requirement(
        db.session,
        access,
        must,
        version=must.version,
        **_values(
            must,
            status="accepted",
            acceptance_criterion="Logged within a minute",
            goal_ids=[pipeline.id, complaints.id],
        ),
    )
    db.session.commit()
    assert all(c.met for c in criteria().values())


# --- pages -------------------------------------------------------------------------------


def test_the_register_page_and_a_requirement_with_its_revisions(client, rollout, login_as):
    project, access, (pipeline, _), depts = rollout
    req = _req(
        access,
        "Track calls <script>alert(1)</script>",
        priority="must",
        description="**Every** call <img src=x onerror=alert(1)>",
        goal_ids=[pipeline.id],
    )
    _req(access, "Track calls <script>alert(1)</script>!")  # near-identical title
    db.session.commit()
    service.update_requirement(
        db.session,
        access,
        req,
        version=req.version,
        **_values(req, title="Track every call <script>alert(1)</script>"),
    )
    db.session.commit()
    login_as("ana")
    html = client.get(f"/projects/{project.id}/requirements").get_data(as_text=True)
    assert "REQ-001" in html and "REQ-002" in html and "<script>alert" not in html
    assert "must-have without acceptance criterion" in html and "serves no goal" in html
    assert "1 goal has no requirement serving it" in html
    detail = client.get(f"/projects/{project.id}/requirements/{req.id}").get_data(as_text=True)
    assert "<strong>Every</strong>" in detail and "onerror" not in detail
    assert "A transparent sales pipeline" in detail and "what changed" in detail
    compare = client.get(f"/projects/{project.id}/requirements/{req.id}/compare?a=1&b=2")
    text = compare.get_data(as_text=True)
    assert compare.status_code == 200
    assert "<del>calls</del>" in text and "<ins>every call</ins>" in text
    assert "&lt;script&gt;" in text and "<script>alert" not in text
    assert (
        client.get(f"/projects/{project.id}/requirements/{req.id}/compare?a=1&b=9").status_code
        == 404
    )
    assert client.get(f"/projects/{project.id}/requirements?priority=urgent").status_code == 400
    filtered = client.get(f"/projects/{project.id}/requirements?q=nothing-like-this")
    assert "No requirement matches these filters." in filtered.get_data(as_text=True)


def test_the_form_refuses_with_messages_and_keeps_what_was_typed(client, rollout, login_as):
    project, access, (pipeline, _), depts = rollout
    login_as("ana")
    url = f"/projects/{project.id}/requirements/new"
    token = csrf_token(client, url)
    resp = client.post(
        url,
        data={
            "csrf_token": token,
            "title": "x" * 201,
            "description": "Urmărirea în timp real a interacțiunilor",
            "type": "functional",
            "priority": "urgent",
            "status": "proposed",
            "goal_ids": [str(pipeline.id), "999999"],
        },
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Urmărirea în timp real a interacțiunilor" in html and "x" * 201 in html
    assert "Not a valid choice" in html or "Invalid value" in html
    assert db.session.scalar(select(func.count()).select_from(Requirement)) == 0
    resp = client.post(
        url,
        data={
            "csrf_token": token,
            "title": "Track calls",
            "type": "functional",
            "priority": "must",
            "status": "proposed",
            "goal_ids": [str(pipeline.id), "999999"],
        },
    )
    assert resp.status_code == 422 and "No goal 999999 in this rollout" in resp.get_data(
        as_text=True
    )
    resp = client.post(
        url,
        data={
            "csrf_token": token,
            "title": "Track calls",
            "module": "Sales process",
            "type": "functional",
            "priority": "must",
            "status": "proposed",
            "goal_ids": [str(pipeline.id)],
            "department_ids": [str(depts["Sales"].id)],
        },
    )
    assert resp.status_code == 302
    req = service.get_requirement(db.session, project.id, db.session.scalar(select(Requirement.id)))
    assert req.key == "REQ-001" and [g.id for g in req.goals] == [pipeline.id]


def test_the_register_page_costs_the_same_statements_for_3_or_30(client, rollout, login_as):
    project, access, (pipeline, _), depts = rollout
    login_as("ana")

    def statements(path):
        count = [0]

        def tick(*_a):
            count[0] += 1

        event.listen(db.engine, "before_cursor_execute", tick)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", tick)
        return count[0]

    def add(n):
        for i in range(n):
            _req(
                access,
                f"Requirement number {i} of a batch of {n}",
                goal_ids=[pipeline.id],
                department_ids=[depts["Sales"].id],
            )
        db.session.commit()

    add(3)
    req_id = db.session.scalar(select(Requirement.id).limit(1))
    pages = [
        f"/projects/{project.id}/requirements",
        f"/projects/{project.id}/requirements?q=number&priority=should&sort=-updated",
        f"/projects/{project.id}/requirements/{req_id}",
        f"/projects/{project.id}/phases/requirements",
    ]
    before = [statements(p) for p in pages]
    add(27)
    assert [statements(p) for p in pages] == before


# --- API ---------------------------------------------------------------------------------


def test_the_api_creates_lists_patches_and_compares(rollout, factory, api_as):
    project, access, (pipeline, complaints), depts = rollout
    lead = api_as(access.user)
    base = f"/projects/{project.id}/requirements"
    resp = lead.post(
        base,
        json={
            "title": "Complaint handling",
            "type": "functional",
            "priority": "must",
            "status": "proposed",
            "goal_ids": [complaints.id],
            "department_ids": [depts["Customer service"].id],
        },
    )
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["key"] == "REQ-001" and body["revision"] == 1
    assert body["flags"] == {
        "no_goal": False,
        "must_without_criterion": True,
        "near_identical_to": None,
    }
    rid, version = body["id"], body["version"]
    patched = lead.patch(
        f"{base}/{rid}", json={"version": version, "acceptance_criterion": "Escalates in 24 h"}
    )
    assert patched.status_code == 200, patched.json
    assert patched.json["revision"] == 2 and patched.json["goals"][0]["id"] == complaints.id
    stale = lead.patch(f"{base}/{rid}", json={"version": version, "priority": "could"})
    assert stale.status_code == 409 and "Ana Popescu" in stale.json["detail"]
    listed = lead.get(f"{base}?priority=must&q=complaint").json
    assert [r["key"] for r in listed["items"]] == ["REQ-001"]
    assert listed["counts"]["by_priority"]["must"] == 1
    assert lead.get(f"{base}?color=red").status_code == 422
    assert lead.get(f"{base}?goal=99999999999").status_code == 422
    revisions = lead.get(f"{base}/{rid}/revisions").json
    assert [r["number"] for r in revisions["items"]] == [2, 1]
    diff = lead.get(f"{base}/{rid}/compare/1/2").json
    assert diff["changed"] == ["acceptance_criterion"]
    assert lead.get(f"{base}/{rid}/compare/1/3").status_code == 404
    foreign = factory.project(factory.user("bob"), name="Theirs")
    theirs = goals.create_goal(
        db.session, factory.lead_access(foreign), statement="Theirs", department_id=None
    )
    db.session.commit()
    refused = lead.post(
        base,
        json={
            "title": "X",
            "type": "data",
            "priority": "must",
            "status": "proposed",
            "goal_ids": [theirs.id],
        },
    )
    assert refused.status_code == 422 and "goal_ids" in refused.json["errors"]
    viewer = factory.member(project, factory.user("vera"), Role.VIEWER)
    assert (
        api_as(viewer)
        .post(base, json={"title": "Y", "type": "data", "priority": "must", "status": "proposed"})
        .status_code
        == 403
    )
    assert db.session.scalar(select(func.count()).select_from(RequirementRevision)) == 2
    assert re.fullmatch(r"REQ-\d{3}", body["key"])
