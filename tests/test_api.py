"""The JSON API end to end, with bearer tokens, as a script or an integration would use it."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import func, select

from planner.artifacts.models import ArtifactVersion
from planner.core.accounts.service import create_token, revoke_token
from planner.core.audit import AuditEvent
from planner.core.db import utcnow
from planner.core.permissions import Role
from planner.extensions import db
from planner.goals.models import Goal
from planner.projects import service as projects
from planner.projects.models import GateDecision, Phase, Project
from planner.projects.phases import PHASE_KEYS
from tests.conftest import Api, csrf_token

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def lead(factory):
    return factory.user("ana", name="Ana Popescu")


@pytest.fixture
def api(api_as, lead):
    return api_as(lead)


@pytest.fixture
def project(factory, lead):
    return factory.project(lead)


def upload(api, project_id: int, title: str, data: bytes, filename: str, phase: str = "vendors"):
    return api.raw(
        "POST",
        f"/projects/{project_id}/artifacts",
        data={"title": title, "phase": phase, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_projects_create_list_and_get(api, factory, lead):
    created = api.post(
        "/projects",
        {"name": "CRM rollout", "company": "Acme", "strategy": "phased", "solution_kind": "custom"},
    )
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["name"], body["company"], body["strategy"], body["solution_kind"]) == (
        "CRM rollout",
        "Acme",
        "phased",
        "custom",
    )
    assert body["version"] == 1
    pid = body["id"]

    one = api.get(f"/projects/{pid}")
    assert one.status_code == 200
    assert one.json["role"] == "lead" and one.json["next_gate"] == "goals"
    assert one.json["phases"] == {key: "not_started" for key in PHASE_KEYS}

    for i in range(2):
        assert api.post("/projects", {"name": f"Pilot {i}"}).status_code == 201
    listing = api.get("/projects?per_page=2").json
    assert (listing["total"], listing["pages"], listing["per_page"]) == (3, 2, 2)
    assert [p["name"] for p in listing["items"]] == ["Pilot 1", "Pilot 0"]  # newest first
    assert [p["name"] for p in api.get("/projects?per_page=2&page=2").json["items"]] == [
        "CRM rollout"
    ]
    # Another account sees none of them, and cannot open one.
    stranger = factory.user("stranger")
    other = Api(api.client, factory.token(stranger))
    assert other.get("/projects").json["total"] == 0
    assert other.get(f"/projects/{pid}").status_code == 404


def test_phases_are_listed_in_order_with_their_criteria(api, project):
    resp = api.get(f"/projects/{project.id}/phases")
    assert resp.status_code == 200
    phases = resp.json["items"]
    assert [p["key"] for p in phases] == list(PHASE_KEYS)
    assert [p["position"] for p in phases] == list(range(len(PHASE_KEYS)))
    goals = phases[0]
    assert goals["status"] == "not_started" and goals["owner"] is None
    criteria = {c["label"]: c for c in goals["criteria"]}
    assert criteria["Earlier phases have passed their gates or were skipped"]["met"] is True
    for label in (
        "A vision statement is written",
        "At least one goal is stated",
        "Every goal has at least one KPI",
        "Every KPI has a baseline and a target",
    ):
        assert criteria[label]["met"] is False and criteria[label]["computed"] is True
    later = {c["label"]: c["met"] for c in phases[1]["criteria"]}
    assert later["Earlier phases have passed their gates or were skipped"] is False


def test_goals_gate_refused_until_ready_then_passes(api, project, lead):
    pid = project.id
    gate = f"/projects/{pid}/phases/goals/gate"

    refused = api.post(gate, {"outcome": "pass", "comment": "Looks fine"})
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert "unmet" in refused.json["detail"]
    assert "At least one goal is stated" in refused.json["detail"]
    assert db.session.scalar(select(func.count()).select_from(GateDecision)) == 0

    goal = api.post(f"/projects/{pid}/goals", {"statement": "A transparent sales pipeline"})
    assert goal.status_code == 201
    kpi = api.post(
        f"/projects/{pid}/goals/{goal.json['id']}/kpis",
        {"name": "Deals tracked", "unit": "%", "baseline": 20, "target": 95.5},
    )
    assert kpi.status_code == 201
    # Still refused: the vision is missing (the API has no endpoint for it; the lead writes it
    # on the vision page).
    still = api.post(gate, {"outcome": "pass"})
    assert still.status_code == 409 and "A vision statement is written" in still.json["detail"]
    access = projects.load_access(db.session, pid, lead)
    projects.update_project(db.session, access, version=None, vision="Why we need a CRM")
    db.session.commit()

    passed = api.post(gate, {"outcome": "pass", "comment": "All goals measurable"})
    assert passed.status_code == 201, passed.json
    assert passed.json["outcome"] == "pass" and passed.json["comment"] == "All goals measurable"
    assert passed.json["phase"]["status"] == "passed"
    assert passed.json["phase"]["actual_end"] is not None
    assert api.get(f"/projects/{pid}").json["next_gate"] == "requirements"
    again = api.post(gate, {"outcome": "pass"})
    assert again.status_code == 409 and "closed" in again.json["detail"]
    audit = api.get(f"/projects/{pid}/audit?action=gate.pass").json
    assert audit["total"] == 1
    assert audit["items"][0]["actor"] == "ana"
    assert audit["items"][0]["after"]["status"] == "passed"


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({"outcome": "skip"}, {"risk_acknowledged", "comment"}),
        ({"outcome": "skip", "comment": "No time"}, {"risk_acknowledged"}),
        ({"outcome": "skip", "risk_acknowledged": True}, {"comment"}),
        ({"outcome": "skip", "risk_acknowledged": False, "comment": "x"}, {"risk_acknowledged"}),
        ({"outcome": "skip", "risk_acknowledged": True, "comment": "   "}, {"comment"}),
    ],
)
def test_skip_needs_the_risk_acknowledged_and_a_reason(api, project, body, missing):
    resp = api.post(f"/projects/{project.id}/phases/requirements/gate", body)
    assert resp.status_code == 422
    assert set(resp.json["errors"]) == missing
    assert "risk" in resp.json["detail"] and "reason" in resp.json["detail"]
    phase = db.session.scalar(
        select(Phase).where(Phase.project_id == project.id, Phase.key == "requirements")
    )
    assert phase.status.value == "not_started"
    assert db.session.scalar(select(func.count()).select_from(GateDecision)) == 0


def test_skip_with_risk_and_reason_is_recorded(api, project):
    resp = api.post(
        f"/projects/{project.id}/phases/requirements/gate",
        {"outcome": "skip", "risk_acknowledged": True, "comment": "Requirements known from v1"},
    )
    assert resp.status_code == 201
    assert resp.json["risk_acknowledged"] is True
    assert resp.json["phase"]["status"] == "skipped"
    decision = db.session.scalar(select(GateDecision))
    assert decision.risk_acknowledged and decision.comment == "Requirements known from v1"


def test_goals_list_create_and_patch_with_version(api, project, factory):
    pid = project.id
    sales = projects.department_by_name(db.session, pid, "Sales")
    created = api.post(
        f"/projects/{pid}/goals",
        {"statement": "  Faster answers to customers  ", "department_id": sales.id},
    )
    assert created.status_code == 201
    goal = created.json
    assert goal["statement"] == "Faster answers to customers"
    assert (goal["department"], goal["department_id"], goal["version"]) == ("Sales", sales.id, 1)
    for i in range(3):
        factory.goal(project, f"Goal {i}", kpi=False)

    listing = api.get(f"/projects/{pid}/goals?per_page=3")
    assert listing.status_code == 200
    assert (listing.json["total"], listing.json["pages"]) == (4, 2)
    assert listing.json["items"][0]["statement"] == "Faster answers to customers"
    assert len(api.get(f"/projects/{pid}/goals?per_page=3&page=2").json["items"]) == 1

    path = f"/projects/{pid}/goals/{goal['id']}"
    changed = api.patch(path, {"statement": "Answer within a day", "version": 1})
    assert changed.status_code == 200
    assert changed.json["statement"] == "Answer within a day"
    assert changed.json["department"] is None  # omitted: no department
    assert changed.json["version"] == 2
    stale = api.patch(path, {"statement": "Answer within a week", "version": 1})
    assert stale.status_code == 409
    assert "Ana Popescu" in stale.json["detail"]
    assert api.get(path).json["statement"] == "Answer within a day"
    events = api.get(f"/projects/{pid}/audit?action=goal.update").json["items"]
    assert len(events) == 1
    assert events[0]["before"]["statement"] == "Faster answers to customers"
    assert events[0]["after"]["statement"] == "Answer within a day"


def test_kpis_and_measurements(api, project):
    pid = project.id
    goal = api.post(f"/projects/{pid}/goals", {"statement": "Keep customers"}).json
    kpi = api.post(
        f"/projects/{pid}/goals/{goal['id']}/kpis",
        {
            "name": "Churn",
            "unit": "%",
            "baseline": 12.5,
            "target": 8,
            "measurement_method": "Cancelled contracts per quarter",
            "due_date": "2027-06-30",
        },
    )
    assert kpi.status_code == 201, kpi.json
    assert kpi.json["baseline"] == 12.5 and kpi.json["target"] == 8.0
    assert kpi.json["due_date"] == "2027-06-30"
    today = utcnow().date()
    measured = api.post(
        f"/projects/{pid}/kpis/{kpi.json['id']}/measurements",
        {"value": 11.2, "measured_on": today.isoformat(), "note": "first quarter"},
    )
    assert measured.status_code == 201
    assert measured.json == {
        "id": measured.json["id"],
        "value": 11.2,
        "measured_on": today.isoformat(),
        "note": "first quarter",
    }
    future = api.post(
        f"/projects/{pid}/kpis/{kpi.json['id']}/measurements",
        {"value": 1, "measured_on": (today + timedelta(days=2)).isoformat()},
    )
    assert future.status_code == 422 and "measured_on" in future.json["errors"]
    shown = api.get(f"/projects/{pid}/goals/{goal['id']}").json
    assert [m["value"] for m in shown["kpis"][0]["measurements"]] == [11.2]
    assert api.post(f"/projects/{pid}/kpis/424242/measurements", {"value": 1}).status_code == 404


def test_members_add_and_list(api, project, factory):
    factory.user("mihai")
    factory.user("dora")
    path = f"/projects/{project.id}/members"
    no_dept = api.post(path, {"username": "mihai", "role": "reviewer"})
    assert no_dept.status_code == 422
    assert "department" in no_dept.json["detail"] and "department_id" in no_dept.json["errors"]
    sales = projects.department_by_name(db.session, project.id, "Sales")
    added = api.post(path, {"username": "mihai", "role": "reviewer", "department_id": sales.id})
    assert added.status_code == 201
    assert (added.json["user"], added.json["role"], added.json["department"]) == (
        "mihai",
        "reviewer",
        "Sales",
    )
    assert api.post(path, {"username": "DORA", "role": "executive"}).status_code == 201
    duplicate = api.post(path, {"username": "mihai", "role": "viewer"})
    assert duplicate.status_code == 409 and "already" in duplicate.json["detail"]
    unknown = api.post(path, {"username": "nobody", "role": "viewer"})
    assert unknown.status_code == 422 and "nobody" in unknown.json["detail"]
    members = {m["user"]: m["role"] for m in api.get(path).json["items"]}
    assert members == {"ana": "lead", "mihai": "reviewer", "dora": "executive"}
    events = api.get(f"/projects/{project.id}/audit?action=member.add").json
    assert events["total"] == 2


def test_audit_filters_and_pagination(api, project, factory, lead):
    pid = project.id
    bob = factory.member(project, factory.user("bob"), Role.LEAD)
    bob_api = Api(api.client, factory.token(bob))
    for i in range(4):
        assert api.post(f"/projects/{pid}/goals", {"statement": f"Goal {i}"}).status_code == 201
    assert bob_api.post(f"/projects/{pid}/goals", {"statement": "Bob's goal"}).status_code == 201
    audit = f"/projects/{pid}/audit"

    everything = api.get(audit).json
    actions = [e["action"] for e in everything["items"]]
    assert actions[0] == "goal.create" and actions[-1] == "project.create"  # newest first
    total = everything["total"]
    assert total == len(actions)

    goals = api.get(f"{audit}?action=goal.create").json
    assert goals["total"] == 5
    assert all(e["entity_type"] == "goal" and e["after"]["statement"] for e in goals["items"])
    by_bob = api.get(f"{audit}?action=goal.create&actor=BOB").json
    assert [e["summary"] for e in by_bob["items"]] == ["goal added: Bob's goal"]
    assert api.get(f"{audit}?entity_type=membership").json["total"] == 1
    today = utcnow().date()
    assert api.get(f"{audit}?since={today}&until={today}").json["total"] == total
    assert api.get(f"{audit}?until={today - timedelta(days=1)}").json["total"] == 0
    assert api.get(f"{audit}?since={today + timedelta(days=1)}").json["total"] == 0

    page1 = api.get(f"{audit}?action=goal.create&per_page=2").json
    page3 = api.get(f"{audit}?action=goal.create&per_page=2&page=3").json
    assert (page1["page"], page1["per_page"], page1["pages"]) == (1, 2, 3)
    assert len(page1["items"]) == 2 and len(page3["items"]) == 1
    assert api.get(f"{audit}?per_page=2&page=99").json["items"] == []
    for bad in ("page=0", "page=-1", "page=abc", "per_page=0", "per_page=101", "per_page=x"):
        resp = api.get(f"{audit}?{bad}")
        assert resp.status_code == 422, bad
        assert resp.mimetype == "application/problem+json"
        assert bad.split("=")[0] in resp.json["errors"], bad
    for bad in ("since=yesterday", "until=2026-13-01"):
        resp = api.get(f"{audit}?{bad}")
        assert resp.status_code == 422 and "2026-11-24" in resp.json["detail"], bad


def test_audit_is_for_leads_and_executives(api, project, factory, api_as):
    viewer = factory.member(project, factory.user("vera"), Role.VIEWER)
    executive = factory.member(project, factory.user("eve"), Role.EXECUTIVE)
    assert api_as(viewer).get(f"/projects/{project.id}/audit").status_code == 403
    assert api_as(executive).get(f"/projects/{project.id}/audit").status_code == 200


def test_artifacts_upload_versions_and_download(api, project):
    pid = project.id
    path = f"/projects/{pid}/artifacts"
    first = upload(api, pid, "Vendor proposal", b"first draft\n", "proposal.txt")
    assert first.status_code == 201, first.json
    assert first.json["latest_version"] == 1 and first.json["phase"] == "vendors"
    assert [v["number"] for v in first.json["versions"]] == [1]
    assert first.json["versions"][0]["uploaded_by"] == "ana"
    assert first.json["versions"][0]["content_type"] == "text/plain"
    # The same title (whitespace and case aside) is the next version of the same artifact.
    second = upload(api, pid, "  vendor   PROPOSAL ", PNG, "scan.png")
    assert second.status_code == 201, second.json
    assert second.json["id"] == first.json["id"] and second.json["latest_version"] == 2
    other = upload(api, pid, "Meeting minutes", b"Minutes\n", "minutes.txt", phase="goals")
    assert other.status_code == 201 and other.json["id"] != first.json["id"]

    listing = api.get(f"{path}?phase=vendors").json
    assert listing["total"] == 1
    art = listing["items"][0]
    assert [(v["number"], v["filename"]) for v in art["versions"]] == [
        (2, "scan.png"),
        (1, "proposal.txt"),
    ]
    assert art["versions"][0]["content_type"] == "image/png"
    assert art["versions"][0]["size"] == len(PNG)
    assert api.get(path).json["total"] == 2

    latest = api.get(f"{path}/{art['id']}")
    assert latest.status_code == 200 and latest.data == PNG
    assert latest.mimetype == "image/png"
    assert latest.headers["Content-Disposition"].startswith("attachment;")
    assert 'filename="scan.png"' in latest.headers["Content-Disposition"]
    assert latest.headers["X-Content-Type-Options"] == "nosniff"
    older = api.get(f"{path}/{art['id']}?version=1")
    assert older.data == b"first draft\n"
    assert older.headers["Content-Disposition"].startswith("attachment;")
    assert api.get(f"{path}/{art['id']}?version=3").status_code == 404
    assert api.get(f"{path}/424242").status_code == 404
    downloads = api.get(f"/projects/{pid}/audit?action=artifact.download").json
    assert downloads["total"] == 2
    uploads = api.get(f"/projects/{pid}/audit?action=artifact.upload").json
    assert uploads["total"] == 3
    assert db.session.scalar(select(func.count()).select_from(ArtifactVersion)) == 3


def test_artifacts_are_visible_only_to_members(api, project, factory, api_as):
    art = upload(api, project.id, "Contract", b"Signed\n", "contract.txt").json
    outsider = api_as(factory.user("outsider"))
    assert outsider.get(f"/projects/{project.id}/artifacts").status_code == 404
    resp = outsider.get(f"/projects/{project.id}/artifacts/{art['id']}")
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
    assert b"Signed" not in resp.data


def test_tokens_authenticate_and_can_be_revoked(client, factory, lead):
    row, token = create_token(db.session, lead, "script")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/projects", headers=headers).status_code == 200
    revoke_token(db.session, lead, row.id)
    db.session.commit()
    resp = client.get("/api/v1/projects", headers=headers)
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert "revoked" in resp.json["detail"]
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.post("/api/v1/projects", json={"name": "x"}, headers=headers).status_code == 401
    assert db.session.scalar(select(func.count()).select_from(Goal)) == 0


def test_token_revoked_on_the_profile_page_stops_working(client, factory, lead, login_as):
    row, token = create_token(db.session, lead, "laptop")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    login_as("ana")
    resp = client.post(
        f"/profile/tokens/{row.id}/revoke", data={"csrf_token": csrf_token(client, "/profile")}
    )
    assert resp.status_code == 302
    assert client.get("/api/v1/projects", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic YW5hOnNlY3JldA==",
        "Bearer pln_not-a-real-token",
        "Bearer " + "x" * 500,
        "Token pln_abc",
    ],
)
def test_requests_without_a_valid_token_get_401(client, factory, lead, header):
    headers = {} if header is None else {"Authorization": header}
    resp = client.get("/api/v1/projects", headers=headers)
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"
    assert resp.json["status"] == 401 and "token" in resp.json["detail"].lower()
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_session_cookie_does_not_authenticate_the_api(client, lead, login_as):
    login_as("ana")
    resp = client.post("/api/v1/projects", json={"name": "Via cookie"})
    assert resp.status_code == 401
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0


def _rule_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[^<>:]*:)?(\w+)>", r"{\1}", rule)


def test_openapi_document_is_valid_and_lists_every_api_route(app, client):
    resp = client.get("/api/v1/openapi.json")  # public: no token needed
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    doc = resp.json
    validate_openapi(doc)  # raises on an invalid OpenAPI 3 document
    assert doc["openapi"].startswith("3.")

    documented = {
        (path, method.upper())
        for path, ops in doc["paths"].items()
        for method in ops
        if method in {"get", "post", "put", "patch", "delete"}
    }
    routes = {
        (_rule_to_openapi(rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes, "no API routes found"
    assert documented == routes
    for required in (
        ("/api/v1/projects", "GET"),
        ("/api/v1/projects", "POST"),
        ("/api/v1/projects/{project_id}", "GET"),
        ("/api/v1/projects/{project_id}/phases", "GET"),
        ("/api/v1/projects/{project_id}/phases/{key}/gate", "POST"),
        ("/api/v1/projects/{project_id}/goals", "GET"),
        ("/api/v1/projects/{project_id}/goals", "POST"),
        ("/api/v1/projects/{project_id}/members", "POST"),
        ("/api/v1/projects/{project_id}/audit", "GET"),
        ("/api/v1/projects/{project_id}/artifacts", "GET"),
        ("/api/v1/projects/{project_id}/artifacts", "POST"),
        ("/api/v1/projects/{project_id}/artifacts/{artifact_id}", "GET"),
    ):
        assert required in documented, required

    for path, ops in doc["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method, op in ops.items():
            params = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert params == names, (path, method)
            assert op.get("summary"), (path, method)

    schemas = doc["components"]["schemas"]
    goal = schemas["GoalForm"]
    assert goal["required"] == ["statement"]
    assert goal["properties"]["statement"]["maxLength"] == 2000
    assert "version" in schemas["GoalEditForm"]["required"]
    assert set(schemas["GateForm"]["properties"]["outcome"]["enum"]) == {
        "pass",
        "send_back",
        "skip",
    }
    assert schemas["GateForm"]["properties"]["risk_acknowledged"]["type"] == "boolean"
    assert schemas["KPIForm"]["properties"]["baseline"]["type"] == "number"
    upload_op = doc["paths"]["/api/v1/projects/{project_id}/artifacts"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    assert schemas["UploadForm"]["properties"]["file"]["format"] == "binary"
    audit_op = doc["paths"]["/api/v1/projects/{project_id}/audit"]["get"]
    query = {p["name"] for p in audit_op.get("parameters", []) if p["in"] == "query"}
    assert {"page", "per_page"} <= query


def test_role_is_reported_for_members(factory, api_as, project):
    viewer = factory.member(project, factory.user("vera"), Role.VIEWER)
    assert api_as(viewer).get(f"/projects/{project.id}").json["role"] == "viewer"


def test_audit_records_api_writes_with_their_actor(api, project):
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    api.post(f"/projects/{project.id}/goals", {"statement": "Audited"})
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert len(events) == before + 1
    assert (events[-1].action, events[-1].actor_name) == ("goal.create", "ana")


def test_openapi_says_what_validation_says(client):
    """Required strings need a character, numbers have their bounds, files their real media
    types, a report under way its 202."""
    doc = client.get("/api/v1/openapi.json").json
    schemas, paths = doc["components"]["schemas"], doc["paths"]
    kpi = schemas["KPIForm"]["properties"]
    assert kpi["name"]["minLength"] == 1 and kpi["name"]["maxLength"] == 200
    assert "minLength" not in kpi["unit"]  # optional
    assert kpi["baseline"]["minimum"] == -1e15 and kpi["baseline"]["maximum"] == 1e15
    weight = schemas["CriterionForm"]["properties"]["weight"]
    assert weight["minimum"] > 0 and weight["maximum"] == 1e6
    pdf = paths["/api/v1/projects/{project_id}/vendor-evaluation.pdf"]["get"]["responses"]
    assert list(pdf["200"]["content"]) == ["application/pdf"]
    assert "202" in pdf and "Location" in pdf["202"]["description"]
    sheet = paths["/api/v1/projects/{project_id}/vendor-evaluation.{fmt}"]["get"]["responses"]
    assert set(sheet["200"]["content"]) == {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "text/csv",
    }
    upload = paths["/api/v1/projects/{project_id}/scoresheet"]["put"]
    assert "text/csv" in upload["requestBody"]["content"]
    assert "content" not in upload["responses"]["200"]  # the answer is JSON, not a file
    for problem in ("400", "401", "403", "404", "409", "422"):
        assert problem in pdf and "application/problem+json" in pdf[problem]["content"]
