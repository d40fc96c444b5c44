"""Every bad input gets a clear message, the right status, nothing half-saved, never a 500."""

import io

import pytest
from sqlalchemy import func, select

from planner.artifacts.models import ArtifactVersion
from planner.core.audit import AuditEvent
from planner.extensions import db
from planner.goals.models import KPI, Goal
from tests.conftest import csrf_token, login


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def lead_api(factory, api_as):
    lead = factory.user("lead")
    project = factory.project(lead)
    return project, api_as(lead)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "statement", "required"),
        ({"statement": ""}, "statement", "required"),
        ({"statement": ["a", {"b": 1}]}, "statement", "single value"),
        ({"statement": {"nested": True}}, "statement", "single value"),
        ({"statement": "x" * 2001}, "statement", "2000"),
        ({"statement": "ok", "department_id": "abc"}, "department_id", "coerce"),
        ({"statement": "ok", "department_id": 999999}, "department_id", "unknown department"),
        ({"statement": "ok", "colour": "red"}, "colour", "unknown field"),
    ],
)
def test_goal_api_refuses_bad_fields(lead_api, body, field, words):
    project, api = lead_api
    before = count(Goal)
    resp = api.post(f"/projects/{project.id}/goals", body)
    assert resp.status_code == 422, resp.json
    assert resp.mimetype == "application/problem+json"
    messages = " ".join(resp.json["errors"].get(field, [])) + " " + resp.json["detail"]
    assert words in messages.lower()
    assert count(Goal) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "KPI", "baseline": "seventy"}, "baseline"),
        ({"name": "KPI", "target": float("nan")}, "target"),
        ({"name": "KPI", "target": "inf"}, "target"),
        ({"name": "KPI", "target": 1e300}, "target"),
        ({"name": "KPI", "due_date": "31/12/2026"}, "due_date"),
        ({"name": "KPI", "due_date": 20261231}, "due_date"),
        ({"name": ""}, "name"),
        ({"name": "KPI", "unit": "u" * 41}, "unit"),
    ],
)
def test_kpi_api_refuses_wrong_types(factory, lead_api, body, field):
    project, api = lead_api
    goal = factory.goal(project, kpi=False)
    import json

    raw = json.dumps(body, allow_nan=True)
    resp = api.raw(
        "POST",
        f"/projects/{project.id}/goals/{goal.id}/kpis",
        data=raw,
        content_type="application/json",
    )
    assert resp.status_code in (400, 422), resp.json
    assert resp.json["detail"]
    if resp.status_code == 422:
        assert field in resp.json["errors"]
    assert count(KPI) == 0


def test_malformed_and_non_json_bodies(lead_api):
    project, api = lead_api
    path = f"/projects/{project.id}/goals"
    resp = api.raw(
        "POST", path, data='{"statement": "unterminated', content_type="application/json"
    )
    assert resp.status_code == 422 and "not valid JSON" in resp.json["detail"]
    resp = api.raw(
        "POST", path, data="statement=x", content_type="application/x-www-form-urlencoded"
    )
    assert resp.status_code == 422 and "Content-Type: application/json" in resp.json["detail"]
    resp = api.post(path, ["a list"])
    assert resp.status_code == 422 and "JSON object" in resp.json["detail"]
    assert count(Goal) == 0


def test_unknown_phase_key_and_unknown_ids(lead_api, client, login_as):
    project, api = lead_api
    resp = api.post(f"/projects/{project.id}/phases/golive2/gate", {"outcome": "pass"})
    assert resp.status_code == 404 and "golive2" in resp.json["detail"]
    assert api.get(f"/projects/{project.id}/goals/424242").status_code == 404
    assert api.get("/projects/424242").status_code == 404
    assert api.get("/nowhere").status_code == 404
    assert api.raw("DELETE", f"/projects/{project.id}").status_code == 405
    login_as("lead")
    page = client.get(f"/projects/{project.id}/phases/unknown")
    assert page.status_code == 404 and "There is no phase unknown" in page.get_data(as_text=True)


def test_gate_outcome_must_be_known(lead_api):
    project, api = lead_api
    resp = api.post(f"/projects/{project.id}/phases/goals/gate", {"outcome": "approve"})
    assert resp.status_code == 422 and "outcome" in resp.json["errors"]


def test_pagination_nonsense(lead_api, client, login_as):
    project, api = lead_api
    for query in ("page=0", "page=abc", "per_page=0", "per_page=1000", "page=-1"):
        resp = api.get(f"/projects/{project.id}/audit?{query}")
        assert resp.status_code == 422, query
    assert api.get(f"/projects/{project.id}/audit?since=yesterday").status_code == 422
    login_as("lead")
    assert client.get(f"/projects/{project.id}/goals?page=zero").status_code == 422


def test_form_without_csrf_token_is_refused(factory, client, login_as):
    lead = factory.user("lead")
    project = factory.project(lead)
    login_as("lead")
    resp = client.post(f"/projects/{project.id}/goals/new", data={"statement": "No token"})
    assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True)
    assert count(Goal) == 0


def test_stale_form_edit_is_refused_and_nothing_overwritten(factory, client, login_as):
    lead = factory.user("lead", name="Ana")
    project = factory.project(lead)
    goal = factory.goal(project, "Original")
    login_as("lead")
    url = f"/projects/{project.id}/goals/{goal.id}/edit"
    token = csrf_token(client, url)
    first = client.post(url, data={"csrf_token": token, "statement": "Fresh", "version": "1"})
    assert first.status_code == 302
    stale = client.post(url, data={"csrf_token": token, "statement": "Stale", "version": "1"})
    assert stale.status_code == 409
    body = stale.get_data(as_text=True)
    assert "changed by Ana" in body and 'value="Stale"' not in body or "Stale" in body
    db.session.rollback()
    assert db.session.get(Goal, goal.id).statement == "Fresh"


def test_upload_over_the_limit_via_api_gets_413(lead_api, app):
    project, api = lead_api
    big = io.BytesIO(b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10))
    resp = api.client.post(
        f"/api/v1/projects/{project.id}/artifacts",
        headers={"Authorization": f"Bearer {api.token}"},
        data={"title": "Too big", "phase": "goals", "file": (big, "big.txt")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 413 and resp.mimetype == "application/problem+json"
    assert count(ArtifactVersion) == 0


@pytest.mark.parametrize(
    ("data", "filename", "status", "words"),
    [
        (b"", "empty.txt", 422, "empty"),
        (b"\x7fELF\x02\x01\x01" + b"\0" * 64, "report.pdf", 422, "not accepted"),
        (b"MZ\x90\x00" + b"\0" * 64, "setup.xlsx", 422, "not accepted"),
    ],
)
def test_upload_refused_by_content(lead_api, data, filename, status, words):
    project, api = lead_api
    resp = api.client.post(
        f"/api/v1/projects/{project.id}/artifacts",
        headers={"Authorization": f"Bearer {api.token}"},
        data={"title": "A file", "phase": "goals", "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert resp.status_code == status and words in resp.json["detail"].lower()
    assert count(ArtifactVersion) == 0


def test_upload_with_missing_parts(lead_api):
    project, api = lead_api
    resp = api.client.post(
        f"/api/v1/projects/{project.id}/artifacts",
        headers={"Authorization": f"Bearer {api.token}"},
        data={"title": "", "phase": "nope"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and {"title", "phase", "file"} <= set(resp.json["errors"])
    resp = api.post(f"/projects/{project.id}/artifacts", {"title": "x"})
    assert resp.status_code == 422 and "multipart" in resp.json["detail"]


def test_sixth_failed_login_for_one_account_gets_429(factory, client):
    factory.user("ana")
    for _ in range(5):
        assert login(client, "ana", "wrong password").status_code == 401
    assert login(client, "ana", "wrong password").status_code == 429
    assert login(client, "ana").status_code == 429  # the limit holds for the right one too
    assert count(AuditEvent) >= 5


def test_failed_logins_from_one_address_across_accounts_get_429(factory, client):
    for name in ("bob", "carol", "dan", "erin", "frank", "gina"):
        factory.user(name)
    statuses = [
        login(client, name, "nope").status_code
        for name in ("bob", "carol", "dan", "erin", "frank", "gina")
    ]
    assert statuses == [401] * 5 + [429]


def test_successful_logins_do_not_count(factory, app):
    factory.user("hana")
    client = app.test_client()
    for _ in range(7):
        assert login(client, "hana").status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/profile")})


def test_over_long_and_bad_form_input_keeps_what_was_typed(factory, client, login_as):
    lead = factory.user("lead")
    project = factory.project(lead)
    login_as("lead")
    url = f"/projects/{project.id}/phases/goals"
    token = csrf_token(client, url)
    resp = client.post(
        f"{url}/plan",
        data={
            "csrf_token": token,
            "version": "1",
            "planned_start": "2026-12-01",
            "planned_end": "2026-11-01",
        },
    )
    assert resp.status_code == 422 and "Before start." in resp.get_data(as_text=True)
    resp = client.post(
        f"{url}/plan", data={"csrf_token": token, "version": "1", "planned_start": "not a date"}
    )
    assert resp.status_code == 422 and "Not a valid date value" in resp.get_data(as_text=True)
    resp = client.post(f"{url}/checklist", data={"csrf_token": token, "text": "c" * 301})
    assert resp.status_code == 422
    assert "c" * 301 in resp.get_data(as_text=True)  # kept for the user to shorten
