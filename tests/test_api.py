"""The JSON API end to end, with bearer tokens."""

import io

from planner.core.permissions import Role
from planner.extensions import db


def test_projects_phases_goals_and_gate(factory, api_as):
    lead = factory.user("lead")
    api = api_as(lead)
    resp = api.post("/projects", {"name": "CRM rollout", "strategy": "phased"})
    assert resp.status_code == 201, resp.json
    pid = resp.json["id"]
    assert api.get("/projects").json["total"] == 1
    body = api.get(f"/projects/{pid}").json
    assert body["role"] == "lead" and body["next_gate"] == "goals"
    phases = api.get(f"/projects/{pid}/phases").json["items"]
    assert [p["key"] for p in phases][:2] == ["goals", "requirements"]
    unmet = [c["label"] for c in phases[0]["criteria"] if not c["met"]]
    assert "At least one goal is stated" in unmet
    refused = api.post(f"/projects/{pid}/phases/goals/gate", {"outcome": "pass"})
    assert refused.status_code == 409 and "unmet" in refused.json["detail"]
    goal = api.post(f"/projects/{pid}/goals", {"statement": "Transparent sales pipeline"})
    assert goal.status_code == 201
    gid = goal.json["id"]
    kpi = api.post(
        f"/projects/{pid}/goals/{gid}/kpis",
        {"name": "Deals tracked", "unit": "%", "baseline": 20, "target": 95.5},
    )
    assert kpi.status_code == 201 and kpi.json["target"] == 95.5
    m = api.post(
        f"/projects/{pid}/kpis/{kpi.json['id']}/measurements",
        {"value": 40, "measured_on": "2026-11-01", "note": "pilot"},
    )
    assert m.status_code == 201
    project = api.get(f"/projects/{pid}").json
    from planner.projects import service

    access = factory.access(service.load_access(db.session, pid, lead).project, lead)
    service.update_project(db.session, access, version=project["version"], vision="Why")
    db.session.commit()
    passed = api.post(f"/projects/{pid}/phases/goals/gate", {"outcome": "pass", "comment": "ok"})
    assert passed.status_code == 201, passed.json
    assert passed.json["phase"]["status"] == "passed"
    audit = api.get(f"/projects/{pid}/audit?action=gate.pass").json
    assert audit["total"] == 1 and audit["items"][0]["after"]["status"] == "passed"


def test_skip_needs_risk_and_reason(factory, api_as):
    lead = factory.user("lead")
    project = factory.project(lead)
    api = api_as(lead)
    path = f"/projects/{project.id}/phases/requirements/gate"
    resp = api.post(path, {"outcome": "skip"})
    assert resp.status_code == 422
    assert set(resp.json["errors"]) == {"risk_acknowledged", "comment"}
    resp = api.post(path, {"outcome": "skip", "risk_acknowledged": True, "comment": "Known"})
    assert resp.status_code == 201 and resp.json["phase"]["status"] == "skipped"


def test_members_and_departments(factory, api_as):
    lead = factory.user("lead")
    factory.user("mihai")
    project = factory.project(lead)
    api = api_as(lead)
    path = f"/projects/{project.id}/members"
    resp = api.post(path, {"username": "mihai", "role": "reviewer"})
    assert resp.status_code == 422 and "department" in resp.json["detail"]
    dept = next(
        d
        for d in __import__("planner.projects.service", fromlist=["x"]).departments(
            db.session, project.id
        )
        if d.name == "Sales"
    )
    resp = api.post(path, {"username": "mihai", "role": "reviewer", "department_id": dept.id})
    assert resp.status_code == 201 and resp.json["department"] == "Sales"
    assert api.post(path, {"username": "mihai", "role": "viewer"}).status_code == 409
    assert api.post(path, {"username": "nobody", "role": "viewer"}).status_code == 422
    assert len(api.get(path).json["items"]) == 2


def test_artifacts_upload_versions_and_download(factory, api_as):
    lead = factory.user("lead")
    project = factory.project(lead)
    api = api_as(lead)
    path = f"/projects/{project.id}/artifacts"
    for content in (b"first draft\n", b"second draft\n"):
        resp = api.client.post(
            "/api/v1" + path,
            headers={"Authorization": f"Bearer {api.token}"},
            data={
                "title": "Vendor proposal",
                "phase": "vendors",
                "file": (io.BytesIO(content), "proposal.txt"),
            },
            content_type="multipart/form-data",
        )
        assert resp.status_code == 201, resp.json
    listing = api.get(path + "?phase=vendors").json
    assert listing["total"] == 1
    art = listing["items"][0]
    assert [v["number"] for v in art["versions"]] == [2, 1]
    dl = api.get(f"{path}/{art['id']}")
    assert dl.data == b"second draft\n"
    assert dl.headers["Content-Disposition"].startswith("attachment;")
    assert dl.headers["X-Content-Type-Options"] == "nosniff"
    assert api.get(f"{path}/{art['id']}?version=1").data == b"first draft\n"
    assert api.get(path + "?phase=nope").status_code == 422


def test_tokens_authenticate_and_revoke(factory, client):
    from planner.core.accounts.service import revoke_token, user_for_token

    user = factory.user("lead")
    token = factory.token(user)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/projects", headers=headers).status_code == 200
    row_id = user_for_token(db.session, token) and db.session.scalar(
        __import__("sqlalchemy").select(
            __import__("planner.core.accounts.models", fromlist=["x"]).ApiToken.id
        )
    )
    revoke_token(db.session, user, row_id)
    db.session.commit()
    resp = client.get("/api/v1/projects", headers=headers)
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert "revoked" in resp.json["detail"]
    resp = client.get("/api/v1/projects")
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_openapi_document_lists_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    import re

    routes = {
        (re.sub(r"<(?:[^<>]*:)?(\w+)>", r"{\1}", r.rule), m)
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/v1")
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == routes
    goal_schema = doc["components"]["schemas"]["GoalForm"]
    assert goal_schema["required"] == ["statement"]
    assert goal_schema["properties"]["statement"]["maxLength"] == 2000
    gate = doc["components"]["schemas"]["GateForm"]["properties"]["outcome"]
    assert set(gate["enum"]) == {"pass", "send_back", "skip"}


def test_lists_are_paginated(factory, api_as):
    lead = factory.user("lead")
    project = factory.project(lead)
    for i in range(7):
        factory.goal(project, f"Goal {i}", kpi=False)
    api = api_as(lead)
    page = api.get(f"/projects/{project.id}/goals?per_page=3&page=3").json
    assert page["total"] == 7 and page["pages"] == 3 and len(page["items"]) == 1


def test_role_is_reported_for_members(factory, api_as):
    lead = factory.user("lead")
    project = factory.project(lead)
    viewer = factory.member(project, factory.user("vera"), Role.VIEWER)
    assert api_as(viewer).get(f"/projects/{project.id}").json["role"] == "viewer"
