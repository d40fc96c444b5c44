"""The technical specification: the draft's standard sections, versions frozen with what they
draw from the other phases and every requirement's revision, and the comparison of two."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import event

from planner.core.approvals import canonical_json
from planner.core.errors import Conflict, StaleEdit
from planner.extensions import db
from planner.goals import service as goals
from planner.requirements import service as requirements
from planner.spec import document, service
from planner.spec.models import SpecVersion
from tests.conftest import csrf_token


def _values(req, **changes):
    req = requirements.get_requirement(db.session, req.project_id, req.id)
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
    project = factory.project(lead)
    access = factory.lead_access(project)
    goal = goals.create_goal(
        db.session, access, statement="客户投诉在48小时内处理", department_id=None
    )
    goals.add_kpi(
        db.session, access, goal, name="Median resolution", unit="h", baseline=72, target=24.5
    )
    req = requirements.create_requirement(
        db.session,
        access,
        title="Complaint handling with escalation",
        type="functional",
        priority="must",
        status="accepted",
        module="Service and complaints",
        acceptance_criterion="Escalates after 24 h",
        goal_ids=[goal.id],
    )
    requirements.create_requirement(
        db.session,
        access,
        title="Proposed only",
        type="functional",
        priority="should",
        status="proposed",
    )
    requirements.create_requirement(
        db.session,
        access,
        title="Backups nightly",
        type="non_functional",
        priority="must",
        status="accepted",
    )
    db.session.commit()
    return project, access, goal, req


def test_the_draft_has_the_standard_sections_in_their_order(rollout):
    project, access, goal, req = rollout
    spec = service.get_spec(db.session, access)
    assert spec.id is None  # nothing is saved by reading
    assert [s.key for s in spec.sections] == [k for k, _t, _g in document.DEFAULT_SECTIONS]
    assert [s.title for s in spec.sections][:4] == [
        "Scope and goals",
        "Current processes",
        "Target design",
        "Functional requirements",
    ]


def test_sections_are_edited_added_moved_and_the_standard_ones_stay(rollout):
    project, access, goal, req = rollout
    service.start(db.session, access)
    db.session.commit()
    scope = service.get_spec(db.session, access).sections[0]
    seen = scope.version
    service.update_section(db.session, access, scope, version=seen, title="Scope", body="Why")
    db.session.commit()
    with pytest.raises(StaleEdit):
        service.update_section(db.session, access, scope, version=seen, title="X", body="")
    db.session.rollback()
    custom = service.add_section(db.session, access, title="Glossary", body="CRM: …")
    db.session.commit()
    service.move_section(db.session, access, custom, -1)
    db.session.commit()
    keys = [s.key for s in service.get_spec(db.session, access).sections]
    assert keys[-2:] == ["custom", "risks"]
    with pytest.raises(Conflict, match="standard section"):
        service.delete_section(db.session, access, service.get_spec(db.session, access).sections[1])
    db.session.rollback()
    service.delete_section(db.session, access, custom)
    db.session.commit()
    assert len(service.get_spec(db.session, access).sections) == len(document.DEFAULT_SECTIONS)


def test_a_version_freezes_the_draft_and_what_it_draws_and_is_never_changed(rollout):
    project, access, goal, req = rollout
    service.start(db.session, access)
    v1 = service.submit_version(db.session, access)
    db.session.commit()
    content = v1.content
    assert v1.digest == hashlib.sha256(canonical_json(content).encode()).hexdigest()
    scope = next(s for s in content["sections"] if s["key"] == "scope")
    assert scope["drawn"]["goals"][0]["kpis"][0]["target"] == "24.5"  # no float to chance
    functional = next(s for s in content["sections"] if s["key"] == "functional")
    assert functional["drawn"]["modules"] == [
        {"module": "Service and complaints", "requirements": ["REQ-001"]}
    ]
    assert [r["key"] for r in content["requirements"]] == ["REQ-001", "REQ-003"]  # accepted only
    assert next(s for s in content["sections"] if s["key"] == "target_design")["drawn"] == {
        "design": None
    }
    with pytest.raises(Conflict, match="Nothing has changed since version 1"):
        service.submit_version(db.session, access)
    db.session.rollback()
    # a later revision of a requirement leaves the version as it was, and is named
    requirements.update_requirement(
        db.session, access, req, version=None, **_values(req, acceptance_criterion="24 h")
    )
    db.session.commit()
    v1 = service.get_version(db.session, project.id, 1)
    assert v1.content == content
    assert service.affected_by_later_revisions(db.session, project.id, v1) == [("REQ-001", 1, 2)]
    v1.content = {"sections": []}
    with pytest.raises(RuntimeError, match="immutable"):
        db.session.flush()
    db.session.rollback()


def test_two_versions_compared_section_by_section_and_requirement_by_requirement(rollout, api_as):
    project, access, goal, req = rollout
    spec = service.start(db.session, access)
    service.update_section(
        db.session,
        access,
        spec.sections[0],
        version=None,
        title="Scope and goals",
        body="Every complaint answered within two days",
    )
    service.submit_version(db.session, access)
    db.session.commit()
    spec = service.get_spec(db.session, access)
    service.update_section(
        db.session,
        access,
        spec.sections[0],
        version=None,
        title="Scope and goals",
        body="Every complaint answered within one day",
    )
    service.add_section(db.session, access, title="Glossary")
    requirements.update_requirement(
        db.session, access, req, version=None, **_values(req, priority="should")
    )
    db.session.commit()
    service.submit_version(db.session, access)
    db.session.commit()
    api = api_as(access.user)
    diff = api.get(f"/projects/{project.id}/spec/versions/2/diff?against=1").json
    by_key = {c["key"]: c for c in diff["changes"]}
    scope = {f["field"]: f for f in by_key["scope"]["fields"]}
    assert by_key["scope"]["change"] == "changed"
    assert {"kind": "removed", "text": "two days"} in scope["text"]["words"] or any(
        w["kind"] == "removed" and "two" in w["text"] for w in scope["text"]["words"]
    )
    assert by_key["custom:Glossary"]["change"] == "added"
    fields = {f["field"]: (f["before"], f["after"]) for f in by_key["REQ-001"]["fields"]}
    assert fields["priority"] == ("must", "should") and fields["revision"] == (1, 2)
    assert api.get(f"/projects/{project.id}/spec/versions/2/diff?against=9").status_code == 404
    assert api.get(f"/projects/{project.id}/spec/versions/2/diff?against=x").status_code == 422


def test_the_pages_of_the_specification(rollout, client, login_as):
    project, access, goal, req = rollout
    login_as("ana")
    base = f"/projects/{project.id}/spec"
    fresh = client.get(base).get_data(as_text=True)
    assert "Start the draft with the standard sections" in fresh and "REQ-001" in fresh
    token = csrf_token(client, base)
    assert client.post(f"{base}/start", data={"csrf_token": token}).status_code == 302
    section = service.get_spec(db.session, access).sections[1]
    url = f"{base}/sections/{section.id}/edit"
    seen = section.version
    saved = client.post(
        url,
        data={
            "csrf_token": token,
            "version": seen,
            "title": "Current processes",
            "body": "**Phone** and e-mail <script>alert(1)</script>",
        },
    )
    assert saved.status_code == 302
    stale = client.post(url, data={"csrf_token": token, "version": seen, "title": "X", "body": ""})
    assert stale.status_code == 409
    empty = client.post(url, data={"csrf_token": token, "version": seen + 1, "title": ""})
    assert empty.status_code == 422
    page = client.get(base).get_data(as_text=True)
    assert "<strong>Phone</strong>" in page and "<script>alert" not in page
    assert client.post(f"{base}/submit", data={"csrf_token": token}).status_code == 302
    version = client.get(f"{base}/versions/1").get_data(as_text=True)
    assert "SHA-256" in version and "Complaint handling with escalation" in version
    assert client.get(f"{base}/versions/7").status_code == 404
    assert client.get(f"{base}/versions/1/compare?against=abc").status_code == 400

    def statements(path):
        n = [0]

        def tick(*_a):
            n[0] += 1

        event.listen(db.engine, "before_cursor_execute", tick)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", tick)
        return n[0]

    before = [statements(base), statements(f"{base}/versions/1")]
    for i in range(20):
        requirements.create_requirement(
            db.session,
            access,
            title=f"Need {i}",
            type="data",
            priority="should",
            status="accepted",
            goal_ids=[goal.id],
        )
    db.session.commit()
    assert [statements(base), statements(f"{base}/versions/1")] == before


def test_the_api_edits_and_submits(rollout, api_as, factory):
    project, access, goal, req = rollout
    api = api_as(access.user)
    started = api.post(f"/projects/{project.id}/spec/start")
    assert started.status_code == 201
    section = started.json["sections"][0]
    patched = api.patch(
        f"/projects/{project.id}/spec/sections/{section['id']}",
        json={"version": section["version"], "title": "Scope", "body": "Why"},
    )
    assert patched.status_code == 200 and patched.json["sections"][0]["body"] == "Why"
    stale = api.patch(
        f"/projects/{project.id}/spec/sections/{section['id']}",
        json={"version": section["version"], "title": "Scope", "body": "Again"},
    )
    assert stale.status_code == 409
    made = api.post(f"/projects/{project.id}/spec/versions")
    assert made.status_code == 201 and len(made.json["sha256"]) == 64
    got = api.get(f"/projects/{project.id}/spec/versions/1").json
    assert got["sha256"] == made.json["sha256"] and got["revised_since"] == []
    viewer = factory.member(project, factory.user("vera"))
    assert api_as(viewer).post(f"/projects/{project.id}/spec/versions").status_code == 403
    assert db.session.query(SpecVersion).count() == 1
