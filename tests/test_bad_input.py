"""Every bad input gets a clear message, the right status, nothing half-saved, never a 500.

Both doors are tried: the JSON API (problem+json with a readable ``detail`` and the fields
named in ``errors``) and the HTML forms (the page again, with the message beside the field and
what the user typed kept). After each refusal the database is compared, table by table, with
what it held before.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from planner.core.accounts.service import create_user
from planner.core.audit import AuditEvent
from planner.core.db import Base, utcnow
from planner.core.encryption import from_config
from planner.core.permissions import Role
from planner.design import service as design
from planner.extensions import db
from planner.goals import service as goals
from planner.goals.models import KPI, Goal
from planner.migration import pilots as migration_pilots
from planner.migration import recipes as migration_recipes
from planner.migration import service as migration
from planner.projects import service as projects
from planner.projects.models import Phase, Project
from planner.requirements import intake
from planner.requirements import service as requirements
from planner.spec import service as spec
from planner.spec import signoff
from planner.vendors import service as vendors
from tests.conftest import csrf_token, login
from tests.factories import Factory

# --- helpers ------------------------------------------------------------------------------


def _counting_statement():
    """One SELECT of every table's row count and version sum (one round trip, not sixty)."""
    columns = []
    for t in Base.metadata.sorted_tables:
        columns.append(select(func.count()).select_from(t).scalar_subquery().label(t.name))
        if "version" in t.c:
            columns.append(
                select(func.sum(t.c.version)).scalar_subquery().label(f"{t.name}.version")
            )
    return select(*columns)


_COUNTS = _counting_statement()


def table_counts() -> dict[str, int]:
    """Rows per table, and the sum of the versions of versioned rows (which every update bumps)."""
    db.session.rollback()
    return dict(db.session.execute(_COUNTS).mappings().one())


@contextmanager
def nothing_saved(*, audited: bool = False) -> Iterator[None]:
    """Assert that the block adds, removes and updates nothing.

    ``audited``: nothing but audit events, which record failed logins and denied access.
    """
    before = table_counts()
    yield
    after = table_counts()
    if audited:
        assert after.pop("audit_event") >= before.pop("audit_event")
    assert after == before


def problem(resp, status: int, *words: str, field: str | None = None) -> dict[str, Any]:
    """Check an API error: status, problem+json, a detail containing ``words``, ``field``."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:600])
    assert resp.mimetype == "application/problem+json"
    body = resp.json
    assert body["status"] == status and body["title"] and body["detail"].strip()
    messages = " ".join(m for msgs in body.get("errors", {}).values() for m in msgs)
    text = f"{body['detail']} {messages}".lower()
    for word in words:
        assert word.lower() in text, (word, body)
    if field is not None:
        assert field in body.get("errors", {}), body
    return body


def page_text(resp) -> str:
    return re.sub(r"\s+", " ", resp.get_data(as_text=True))


def add_member(world, username: str, role: Role, department: str | None = None, name=""):
    """A new account in the rollout, added by its lead (one password hash: they are slow)."""
    user = create_user(db.session, username, Factory.PASSWORD, display_name=name)
    dept = projects.department_by_name(db.session, world.p, department) if department else None
    projects.add_member(
        db.session,
        projects.load_access(db.session, world.p, world.ana),
        username=username,
        role=role,
        department_id=dept.id if dept else None,
    )
    db.session.commit()
    return user


@pytest.fixture
def world(factory: Factory, api_as):
    """A rollout led by Ana, with a goal and its KPI, and Ana's API client."""
    ana = factory.user("ana", name="Ana Popescu")
    project = factory.project(ana)
    access = factory.access(project, ana)
    goal = goals.create_goal(
        db.session, access, statement="A transparent sales pipeline", department_id=None
    )
    kpi = goals.add_kpi(db.session, access, goal, name="Deals", unit="%", baseline=10, target=90)
    db.session.commit()
    return SimpleNamespace(
        project=project, p=project.id, g=goal.id, k=kpi.id, ana=ana, lead=api_as(ana)
    )


@pytest.fixture
def roles(world, factory: Factory, api_as):
    """API clients of a viewer, a reviewer, an executive and someone who is no member."""
    return SimpleNamespace(
        viewer=api_as(add_member(world, "vera", Role.VIEWER)),
        reviewer=api_as(add_member(world, "rita", Role.REVIEWER, "Sales")),
        executive=api_as(add_member(world, "eve", Role.EXECUTIVE)),
        outsider=api_as(factory.user("otto")),
    )


@pytest.fixture
def lead_client(world, client: FlaskClient) -> FlaskClient:
    assert login(client, "ana").status_code == 302
    return client


def form_post(client: FlaskClient, path: str, data: dict[str, Any]):
    return client.post(path, data={"csrf_token": csrf_token(client, "/profile"), **data})


def fill(path: str, w) -> str:
    return path.format(p=w.p, g=w.g, k=w.k)


TODAY = utcnow().date().isoformat()

# --- the API: wrong types, missing and unknown fields, over-long text ---------------------

GOALS = "/projects/{p}/goals"
GOAL = "/projects/{p}/goals/{g}"
KPIS = "/projects/{p}/goals/{g}/kpis"
MEASUREMENTS = "/projects/{p}/kpis/{k}/measurements"
GATE = "/projects/{p}/phases/requirements/gate"
MEMBERS = "/projects/{p}/members"
PROJECTS = "/projects"

API_CASES = [
    # (method, path, body, field named, words in the message)
    ("POST", GOALS, {}, "statement", "required"),
    ("POST", GOALS, {"statement": ""}, "statement", "required"),
    ("POST", GOALS, {"statement": "   "}, "statement", "required"),
    ("POST", GOALS, {"statement": ["a", "b"]}, "statement", "single value"),
    ("POST", GOALS, {"statement": ["a", {"b": 1}]}, "statement", "single value"),
    ("POST", GOALS, {"statement": {"text": "a"}}, "statement", "single value"),
    ("POST", GOALS, {"statement": True}, "statement", "must be text"),
    ("POST", GOALS, {"statement": 42}, "statement", "must be text"),
    ("POST", GOALS, {"statement": "x" * 2001}, "statement", "2000"),
    ("POST", GOALS, {"statement": "ok", "department_id": "abc"}, "department_id", "coerce"),
    ("POST", GOALS, {"statement": "ok", "department_id": 1.5}, "department_id", "coerce"),
    ("POST", GOALS, {"statement": "ok", "department_id": True}, "department_id", "choices"),
    ("POST", GOALS, {"statement": "ok", "department_id": 10**20}, "department_id", "coerce"),
    ("POST", GOALS, {"statement": "ok", "department_id": 999999}, "department_id", "unknown"),
    ("POST", GOALS, {"statement": "ok", "colour": "red"}, "colour", "unknown field"),
    ("POST", KPIS, {"name": "KPI", "baseline": "seventy"}, "baseline", "not a valid float"),
    ("POST", KPIS, {"name": "KPI", "baseline": True}, "baseline", "must be a number"),
    ("POST", KPIS, {"name": "KPI", "baseline": [1, 2]}, "baseline", "single value"),
    ("POST", KPIS, {"name": "KPI", "target": float("nan")}, "target", "finite"),
    ("POST", KPIS, {"name": "KPI", "target": float("-inf")}, "target", "finite"),
    ("POST", KPIS, {"name": "KPI", "target": "inf"}, "target", "finite"),
    ("POST", KPIS, {"name": "KPI", "target": "NaN"}, "target", "finite"),
    ("POST", KPIS, {"name": "KPI", "target": 1e300}, "target", "Number must be between"),
    ("POST", KPIS, {"name": "KPI", "target": 10**400}, "target", "finite"),
    ("POST", KPIS, {"name": "KPI", "due_date": "31/12/2026"}, "due_date", "not a valid date"),
    ("POST", KPIS, {"name": "KPI", "due_date": 20261231}, "due_date", "date"),
    ("POST", KPIS, {"name": ""}, "name", "required"),
    ("POST", KPIS, {"name": "x" * 201}, "name", "200"),
    ("POST", KPIS, {"name": "KPI", "unit": "u" * 41}, "unit", "40"),
    ("POST", MEASUREMENTS, {}, "value", "required"),
    ("POST", MEASUREMENTS, {"value": 3}, "measured_on", "required"),
    ("POST", MEASUREMENTS, {"value": "abc", "measured_on": TODAY}, "value", "float"),
    ("POST", MEASUREMENTS, {"value": False, "measured_on": TODAY}, "value", "number"),
    ("POST", MEASUREMENTS, {"value": 1, "measured_on": "yesterday"}, "measured_on", "date"),
    ("POST", MEASUREMENTS, {"value": 1, "measured_on": "2999-01-01"}, "measured_on", "future"),
    ("POST", MEASUREMENTS, {"value": 1, "measured_on": TODAY, "note": "n" * 501}, "note", "500"),
    ("PATCH", GOAL, {"statement": "New"}, "version", "required"),
    ("PATCH", GOAL, {"statement": "New", "version": "abc"}, "version", "whole number"),
    ("PATCH", GOAL, {"statement": "New", "version": 1.5}, "version", "integer"),
    ("PATCH", GOAL, {"statement": "New", "version": 10**20}, "version", "whole number"),
    ("PATCH", GOAL, {"statement": "", "version": 1}, "statement", "required"),
    ("PATCH", GOAL, {"statement": "New", "version": 1, "id": 5}, "id", "unknown field"),
    ("POST", GATE, {}, "outcome", "required"),
    ("POST", GATE, {"outcome": "approve"}, "outcome", "not a valid choice"),
    ("POST", GATE, {"outcome": ["pass", "skip"]}, "outcome", "single value"),
    (
        "POST",
        GATE,
        {"outcome": "skip", "risk_acknowledged": "yes", "comment": "c"},
        "risk_acknowledged",
        "true or false",
    ),
    (
        "POST",
        GATE,
        {"outcome": "skip", "risk_acknowledged": 1, "comment": "c"},
        "risk_acknowledged",
        "true or false",
    ),
    (
        "POST",
        GATE,
        {"outcome": "skip", "risk_acknowledged": True, "comment": "c" * 5001},
        "comment",
        "5000",
    ),
    ("POST", MEMBERS, {"role": "viewer"}, "username", "required"),
    ("POST", MEMBERS, {"username": "mihai", "role": "boss"}, "role", "not a valid choice"),
    ("POST", MEMBERS, {"username": "u" * 81, "role": "viewer"}, "username", "80"),
    ("POST", MEMBERS, {"username": "ana", "role": "reviewer"}, "department_id", "reviewer"),
    (
        "POST",
        MEMBERS,
        {"username": "mihai", "role": "viewer", "department_id": "sales"},
        "department_id",
        "coerce",
    ),
    ("POST", MEMBERS, {"username": "nobody", "role": "viewer"}, "username", "nobody"),
    ("POST", PROJECTS, {}, "name", "required"),
    ("POST", PROJECTS, {"name": "n" * 201}, "name", "200"),
    ("POST", PROJECTS, {"name": "x", "strategy": "bogus"}, "strategy", "full, quick_start"),
    ("POST", PROJECTS, {"name": "x", "solution_kind": 3}, "solution_kind", "not a valid choice"),
    ("POST", PROJECTS, {"name": "x", "description": "d" * 10_001}, "description", "10000"),
]


@pytest.mark.parametrize(
    ("method", "path"), sorted({(c[0], c[1]) for c in API_CASES}), ids=lambda v: str(v)
)
def test_api_refuses_bad_fields_naming_them(world, method, path):
    cases = [c[2:] for c in API_CASES if (c[0], c[1]) == (method, path)]
    for body, field, words in cases:
        raw = json.dumps(body, allow_nan=True)  # NaN and Infinity as JavaScript sends them
        with nothing_saved():
            resp = world.lead.raw(
                method, fill(path, world), data=raw, content_type="application/json"
            )
            assert resp.status_code == 422, (body, resp.json)
            problem(resp, 422, words, field=field)
    assert db.session.get(Goal, world.g).statement == "A transparent sales pipeline"


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        (GOALS, {"statement": "before\x00after"}, "statement"),
        (GOALS, {"statement": "lone \ud800 surrogate"}, "statement"),
        (KPIS, {"name": "K\x00PI"}, "name"),
        (MEMBERS, {"username": "mi\x00hai", "role": "viewer"}, "username"),
        (PROJECTS, {"name": "CRM", "company": "\udfff"}, "company"),
        (GATE, {"outcome": "skip", "risk_acknowledged": True, "comment": "\x00"}, "comment"),
    ],
)
def test_api_refuses_text_no_database_can_store(world, path, body, where):
    """NUL characters (PostgreSQL refuses them) and lone surrogates (not UTF-8): a 422."""
    with nothing_saved():
        resp = world.lead.post(fill(path, world), body)
        problem(resp, 422, "NUL", field=where)


def test_api_refuses_nul_inside_nested_json(world, roles):
    body = {"scores": [{"vendor_id": 1, "criterion_id": 1, "score": 3, "comment": "a\x00b"}]}
    with nothing_saved():
        resp = roles.reviewer.put(f"/projects/{world.p}/scores", body)
        problem(resp, 422, "scores[0].comment", field="scores[0].comment")


def _bad_values(schema: dict[str, Any]) -> list[Any]:
    """Values of the wrong type, or beyond the limits, for a property's JSON schema."""
    kind = schema.get("type")
    if kind == "array":
        common = [{"a": 1}, "nul\x00", True, 7]
        if schema["items"]["type"] == "integer":  # a list of ids
            too_many = list(range(1, schema.get("maxItems", 200) + 2))
            return [*common, ["abc"], [10**20], [0], [1.5], too_many]
        return [*common, [1], [True], [{"a": 1}], ["x"] * 300]
    values: list[Any] = [[1, 2], {"a": 1}, "nul\x00"]
    if kind == "boolean":
        values += ["yes", 1]
    elif kind == "integer":
        values += ["abc", 1.5, True, 10**20]
    elif kind == "number":
        values += ["abc", True, "nan"]
    elif schema.get("format") == "date":
        values += ["not a date", 20261231, True]
    else:
        values += [True]
        if "enum" in schema:
            values += ["not-one-of-them"]
        if "maxLength" in schema:
            values += ["x" * (schema["maxLength"] + 1)]
    return values


def test_every_documented_json_field_refuses_wrong_values(app, world, roles, factory):
    """Walk the OpenAPI document: every property of every JSON body, every kind of bad value;
    for a list-shaped body, every property of its rows, inside an otherwise valid row.

    Each is refused with 422 naming the property, and nothing is saved.
    """
    doc = world.lead.client.get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    access = factory.access(world.project, world.ana)
    ids = {
        "{vendor_id}": vendors.create_vendor(db.session, access, name="Salesforce").id,
        "{criterion_id}": vendors.create_criterion(
            db.session, access, name="Security", weight=1
        ).id,
        "{membership_id}": projects.members(db.session, world.p)[0].id,
        "{department_id}": projects.department_by_name(db.session, world.p, "Legal").id,
        "{requirement_id}": requirements.create_requirement(
            db.session,
            access,
            title="Track calls",
            type="functional",
            priority="must",
            status="proposed",
        ).id,
        "{interview_id}": intake.add_interview(
            db.session,
            access,
            department_id=projects.department_by_name(db.session, world.p, "Sales").id,
            interviewee="Radu",
            role="frontline",
            held_on=utcnow().date(),
        ).id,
        "{questionnaire_id}": next(
            q.id
            for q in intake.create_default_questionnaires(db.session, access)
            if q.department_id == projects.department_by_name(db.session, world.p, "Sales").id
        ),
        "{module_id}": design.add_module(db.session, access, name="Customer records").id,
        "{section_id}": spec.start(db.session, access).sections[0].id,
        "{comment_id}": signoff.add_comment(
            db.session, access, spec.submit_version(db.session, access), body="Costs?"
        ).id,
        "{number}": design.submit_version(db.session, access).number,
        "{upload_id}": migration.upload(
            db.session,
            access,
            io.BytesIO(b"Name;Phone\r\nAna;+40 721 000 000\r\n"),
            "contacts.csv",
            from_config(world.lead.client.application.config),
        ).id,
        "{item_id}": projects.add_checklist_item(
            db.session, access, projects.get_phase(db.session, world.p, "requirements"), "Signed"
        ).id,
    }
    ids["{indicator_id}"] = design.indicators(db.session, world.p)[0].id
    key = from_config(world.lead.client.application.config)
    upload = migration.get_upload(db.session, world.p, ids["{upload_id}"])
    recipe = migration_recipes.create_recipe(db.session, access, entity="contacts", upload=upload)
    pilot = migration_pilots.make_pilot(db.session, access, recipe, key, size=1)
    reconciled = migration_pilots.reconcile(
        db.session, access, pilot, io.BytesIO(b"phone\r\n+40721000000\r\n"), "crm.csv", key
    )
    ids |= {
        "{recipe_id}": recipe.id,
        "{pilot_id}": pilot.id,
        "{reconciliation_id}": reconciled.id,
        "{difference_id}": reconciled.summary["differences"][0]["id"],
    }
    db.session.commit()
    valid_rows = {  # by the row form's schema: two lists may share a key ("scores")
        "ScoreRowFormList": {"vendor_id": 1, "criterion_id": 1, "score": 3},
        "ReviewScoreRowFormList": {"indicator_id": 1, "score": 3},
        "ConflictRowFormList": {"vendor_id": 1, "reason": "x"},
        "PairwiseRowFormList": {"a": 1, "b": 2, "value": "3"},
        "AnswerRowFormList": {"question_id": 1, "text": "Every call on the card"},
    }
    tried = 0
    lists = set()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            ref = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            url = (
                path.removeprefix("/api/v1")
                .replace("{project_id}", str(world.p))
                .replace("{goal_id}", str(world.g))
                .replace("{kpi_id}", str(world.k))
                .replace("{key}", "requirements")
            )
            for placeholder, value in ids.items():
                url = url.replace(placeholder, str(value))
            assert "{" not in url, url
            caller = (
                roles.executive
                if "approve" in op["description"]
                else roles.reviewer  # Rita scores, and answers the Sales questionnaire
                if "score" in op["description"] or "answers_put" in op["operationId"]
                else world.lead
            )
            props = schemas[ref]["properties"]
            if len(props) == 1 and next(iter(props.values())).get("type") == "array":
                key, array = next(iter(props.items()))
                lists.add(ref)
                for name, prop in array["items"]["properties"].items():
                    for value in _bad_values(prop):
                        row = {**valid_rows[ref], name: value}
                        with nothing_saved():
                            resp = caller.raw(method.upper(), url, json={key: [row, row]})
                            assert resp.status_code == 422, (url, name, value, resp.json)
                            problem(resp, 422, field=f"{key}[0].{name}")
                            problem(resp, 422, field=f"{key}[1].{name}")
                        tried += 1
                continue
            for name, prop in props.items():
                for value in _bad_values(prop):
                    with nothing_saved():
                        resp = caller.raw(method.upper(), url, json={name: value})
                        assert resp.status_code == 422, (method, url, name, value, resp.json)
                        problem(resp, 422, field=name)
                    tried += 1
    assert tried > 100 and lists == set(valid_rows)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ('{"statement": "unterminated', "not valid JSON"),
        ("", "not valid JSON"),
        ('{"statement": "x"} and more', "not valid JSON"),
        ("{'statement': 'single quotes'}", "not valid JSON"),
        (b"\xff\xfe{\x00}", "not valid JSON"),
        ("null", "JSON"),
        ('"just a string"', "JSON object"),
        ('["a", "list"]', "JSON object"),
        ("42", "JSON object"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
    ids=[
        "unterminated",
        "empty",
        "trailing",
        "single-quotes",
        "not-utf8",
        "null",
        "string",
        "list",
        "number",
        "deep",
    ],
)
def test_malformed_json_gets_a_readable_problem(world, data, words):
    with nothing_saved():
        resp = world.lead.raw(
            "POST", fill(GOALS, world), data=data, content_type="application/json"
        )
        assert resp.status_code in (400, 422)
        problem(resp, resp.status_code, words)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("statement=x", "application/x-www-form-urlencoded"),
        ('{"statement": "x"}', "text/plain"),
        ('{"statement": "x"}', None),
        ('{"statement": "x"}', "application/xml"),
    ],
)
def test_non_json_content_type_is_refused(world, data, content_type):
    kw = {"content_type": content_type} if content_type else {}
    with nothing_saved():
        for method, path in (("POST", GOALS), ("PATCH", GOAL)):
            resp = world.lead.raw(method, fill(path, world), data=data, **kw)
            problem(resp, 422, "Content-Type: application/json")


def test_upload_endpoint_wants_multipart(world):
    with nothing_saved():
        resp = world.lead.post(f"/projects/{world.p}/artifacts", {"title": "x", "phase": "goals"})
        problem(resp, 422, "multipart")


# --- unknown phases, ids and routes --------------------------------------------------------


def test_unknown_phase_keys(world, lead_client):
    with nothing_saved():
        for key in ("golive2", "GOALS", "goals ", "../goals"):
            resp = world.lead.post(f"/projects/{world.p}/phases/{key}/gate", {"outcome": "pass"})
            assert resp.status_code == 404, key
        problem(
            world.lead.post(f"/projects/{world.p}/phases/golive2/gate", {"outcome": "skip"}),
            404,
            "golive2",
        )
        page = lead_client.get(f"/projects/{world.p}/phases/unknown")
        assert page.status_code == 404 and "There is no phase unknown" in page_text(page)
        for step in ("gate", "plan", "checklist", "start"):
            resp = form_post(lead_client, f"/projects/{world.p}/phases/unknown/{step}", {})
            assert resp.status_code == 404, step
        problem(world.lead.get(f"/projects/{world.p}/artifacts?phase=nope"), 422, "nope")
        assert lead_client.get(f"/projects/{world.p}/artifacts?phase=nope").status_code == 200


def test_unknown_ids_and_routes(world, lead_client):
    huge = "99999999999999999999"
    with nothing_saved():
        for path in (
            "/projects/424242",
            f"/projects/{huge}",
            f"/projects/{world.p}/goals/424242",
            f"/projects/{world.p}/goals/{huge}",
            f"/projects/{world.p}/goals/2147483648",
            f"/projects/{world.p}/artifacts/{huge}",
            "/nowhere",
        ):
            problem(world.lead.get(path), 404)
        problem(world.lead.post(f"/projects/{world.p}/kpis/{huge}/measurements", {}), 404)
        problem(world.lead.patch(f"/projects/{world.p}/goals/424242", {"version": 1}), 404)
        for query in ("version=abc", "version=0", "version=-1", f"version={huge}"):
            resp = world.lead.get(f"/projects/{world.p}/artifacts/1?{query}")
            problem(resp, 422, "version", field="version")
        resp = world.lead.raw("DELETE", f"/projects/{world.p}")
        problem(resp, 405)
        assert "GET" in resp.headers["Allow"]
        for path in (
            f"/projects/{huge}",
            f"/projects/{world.p}/goals/{huge}/edit",
            f"/projects/{world.p}/goals/424242",
            f"/projects/{world.p}/artifacts/{huge}/download",
        ):
            assert lead_client.get(path).status_code == 404, path


# --- pagination -----------------------------------------------------------------------------

NONSENSE = [
    ("page=0", "page"),
    ("page=-1", "page"),
    ("page=abc", "page"),
    ("page=1.5", "page"),
    ("page=", "page"),
    ("page=99999999999999999999", "page"),
    ("per_page=0", "per_page"),
    ("per_page=101", "per_page"),
    ("per_page=ten", "per_page"),
]


@pytest.mark.parametrize(("query", "field"), NONSENSE)
def test_pagination_nonsense(world, lead_client, query, field):
    for api_path, html_path in (
        ("/projects", "/"),
        (f"/projects/{world.p}/goals", f"/projects/{world.p}/goals"),
        (f"/projects/{world.p}/audit", f"/projects/{world.p}/audit"),
        (f"/projects/{world.p}/artifacts", f"/projects/{world.p}/artifacts"),
    ):
        problem(world.lead.get(f"{api_path}?{query}"), 422, "page", field=field)
        page = lead_client.get(f"{html_path}?{query}")
        assert page.status_code == 422, (html_path, query)
        assert "per_page" in page_text(page)


def test_audit_dates_must_be_dates(world, lead_client):
    for query in ("since=yesterday", "until=2026-13-01", "since=2026-02-30"):
        problem(world.lead.get(f"/projects/{world.p}/audit?{query}"), 422, "2026-11-24")
        page = lead_client.get(f"/projects/{world.p}/audit?{query}")
        assert page.status_code in (400, 422) and "2026-11-24" in page_text(page)


# --- stale edits ----------------------------------------------------------------------------


def test_stale_api_edit_names_who_changed_it_and_keeps_their_work(world, factory, api_as):
    mike = add_member(world, "mike", Role.LEAD, name="Mike Ross")
    path = fill(GOAL, world)
    version = world.lead.get(path).json["version"]
    saved = api_as(mike).patch(path, {"statement": "Mike's statement", "version": version})
    assert saved.status_code == 200
    with nothing_saved():
        resp = world.lead.patch(path, {"statement": "Ana's statement", "version": version})
        problem(resp, 409, "Mike Ross", "reload")
    assert db.session.get(Goal, world.g).statement == "Mike's statement"
    assert db.session.get(Goal, world.g).version == version + 1


def _phase(project_id: int) -> Phase:
    return db.session.scalar(
        select(Phase).where(Phase.project_id == project_id, Phase.key == "goals")
    )


STALE_FORMS = [
    # (form, what Mike saves first, what Ana then sends from the same version, read back)
    (
        "/projects/{p}/goals/{g}/edit",
        {"statement": "Mike's statement"},
        {"statement": "Ana's statement"},
        lambda w: db.session.get(Goal, w.g).statement,
    ),
    (
        "/projects/{p}/goals/{g}/kpis/{k}/edit",
        {"name": "Mike's KPI", "baseline": "1", "target": "2"},
        {"name": "Ana's KPI", "baseline": "3", "target": "4"},
        lambda w: db.session.get(KPI, w.k).name,
    ),
    (
        "/projects/{p}/settings",
        {"name": "Mike's rollout"},
        {"name": "Ana's rollout"},
        lambda w: db.session.get(Project, w.p).name,
    ),
    (
        "/projects/{p}/goals/vision",
        {"vision": "Mike's vision"},
        {"vision": "Ana's vision"},
        lambda w: db.session.get(Project, w.p).vision,
    ),
    (
        "/projects/{p}/phases/goals/plan",
        {"planned_start": "2027-01-04"},
        {"planned_start": "2027-03-01"},
        lambda w: _phase(w.p).planned_start.isoformat(),
    ),
]


@pytest.mark.parametrize(
    ("path", "mikes", "anas", "read"), STALE_FORMS, ids=[c[0] for c in STALE_FORMS]
)
def test_stale_form_edit_is_refused_naming_who_and_nothing_is_overwritten(
    world, app, path, mikes, anas, read
):
    add_member(world, "mike", Role.LEAD, name="Mike Ross")
    ana, mike = app.test_client(), app.test_client()
    assert login(ana, "ana").status_code == 302
    assert login(mike, "mike").status_code == 302
    url = fill(path, world)
    ana_token = csrf_token(ana, "/profile")  # Ana has the form open, at version 1
    first = form_post(mike, url, {**mikes, "version": "1"})
    assert first.status_code == 302, page_text(first)[:2000]
    mikes_value = read(world)
    assert mikes_value in mikes.values()
    with nothing_saved():
        stale = ana.post(url, data={"csrf_token": ana_token, "version": "1", **anas})
        assert stale.status_code == 409
        text = page_text(stale)
        assert "changed by Mike Ross" in text and "Reload" in text
        for value in anas.values():
            assert value.replace("'", "&#39;") in text  # what Ana typed is not lost
    assert read(world) == mikes_value


# --- uploads --------------------------------------------------------------------------------


def api_upload(world, data: dict[str, Any], api=None):
    api = api or world.lead
    return api.raw(
        "POST", f"/projects/{world.p}/artifacts", data=data, content_type="multipart/form-data"
    )


def a_file(content: bytes, name: str = "notes.txt"):
    return (io.BytesIO(content), name)


def test_upload_at_the_limit_is_accepted(world, app):
    limit = app.config["MAX_UPLOAD_BYTES"]
    resp = api_upload(world, {"title": "Big", "phase": "goals", "file": a_file(b"a" * limit)})
    assert resp.status_code == 201 and resp.json["versions"][0]["size"] == limit


@pytest.mark.parametrize("over", ["upload limit", "request limit"])
def test_upload_over_the_limit_gets_413(world, app, lead_client, over):
    size = (
        app.config["MAX_UPLOAD_BYTES"] + 1
        if over == "upload limit"
        else app.config["MAX_CONTENT_LENGTH"] + 1
    )
    with nothing_saved():
        resp = api_upload(world, {"title": "Big", "phase": "goals", "file": a_file(b"a" * size)})
        problem(resp, 413)
        if over == "upload limit":
            assert str(app.config["MAX_UPLOAD_BYTES"]) in resp.json["detail"]
        page = form_post(
            lead_client,
            f"/projects/{world.p}/artifacts",
            {"title": "Big", "phase": "goals", "file": a_file(b"a" * size)},
        )
        assert page.status_code == 413
        if over == "upload limit":
            assert "larger than the limit" in page_text(page)


@pytest.mark.parametrize(
    ("content", "filename", "words"),
    [
        (b"", "empty.txt", "empty"),
        (b"\x7fELF\x02\x01\x01" + b"\0" * 64, "report.pdf", "not accepted"),
        (b"MZ\x90\x00" + b"\0" * 64, "setup.xlsx", "not accepted"),
        (
            b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>\n",
            "a.txt",
            "html",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "s.png",
            "svg",
        ),
        (b"#!/bin/sh\nrm -rf /\n", "minutes.txt", "not accepted"),
    ],
    ids=["empty", "elf-named-pdf", "exe-named-xlsx", "html", "svg", "shell-script"],
)
def test_upload_refused_by_its_content(world, lead_client, content, filename, words):
    with nothing_saved():
        resp = api_upload(world, {"title": "A file", "phase": "goals", "file": a_file(content)})
        problem(resp, 422, words, field="file")
        page = form_post(
            lead_client,
            f"/projects/{world.p}/artifacts",
            {"title": "A file", "phase": "goals", "file": a_file(content, filename)},
        )
        assert page.status_code == 422
        assert words in page_text(page).lower()


def test_upload_with_missing_or_bad_parts(world, lead_client):
    with nothing_saved():
        resp = api_upload(world, {"title": "", "phase": "nope"})
        problem(resp, 422, field="title")
        assert {"title", "phase", "file"} <= set(resp.json["errors"])
        problem(api_upload(world, {"phase": "goals", "file": a_file(b"x")}), 422, field="title")
        problem(
            api_upload(world, {"title": "t" * 201, "phase": "goals", "file": a_file(b"x")}),
            422,
            "200",
            field="title",
        )
        problem(api_upload(world, {"title": "x", "file": a_file(b"x")}), 422, field="phase")
        page = form_post(lead_client, f"/projects/{world.p}/artifacts", {"title": "No file"})
        assert page.status_code == 422


# --- roles, membership and CSRF -------------------------------------------------------------


def test_wrong_role_gets_403_and_changes_nothing(world, roles):
    with nothing_saved():
        cases = [
            (roles.viewer, "POST", GOALS, {"statement": "Viewer's goal"}),
            (roles.viewer, "PATCH", GOAL, {"statement": "Viewer's edit", "version": 1}),
            (roles.viewer, "POST", KPIS, {"name": "Viewer's KPI"}),
            (roles.reviewer, "POST", GATE, {"outcome": "skip", "risk_acknowledged": True}),
            (roles.executive, "POST", MEMBERS, {"username": "otto", "role": "viewer"}),
            (roles.viewer, "GET", "/projects/{p}/audit", None),
        ]
        for api, method, path, body in cases:
            resp = api.raw(method, fill(path, world), json=body)
            problem(resp, 403, "role")
        resp = api_upload(
            world, {"title": "x", "phase": "goals", "file": a_file(b"x")}, api=roles.viewer
        )
        problem(resp, 403)


def test_non_member_gets_404_for_everything(world, roles):
    with nothing_saved(audited=True):
        for method, path, body in (
            ("GET", "/projects/{p}", None),
            ("GET", GOALS, None),
            ("POST", GOALS, {"statement": "Outsider's goal"}),
            ("PATCH", GOAL, {"statement": "Outsider's edit", "version": 1}),
        ):
            problem(roles.outsider.raw(method, fill(path, world), json=body), 404, "rollout")


def test_wrong_role_on_html_forms_gets_403(world, roles, client):
    assert login(client, "vera").status_code == 302
    with nothing_saved():
        assert client.get(f"/projects/{world.p}/goals/new").status_code == 403
        resp = form_post(client, f"/projects/{world.p}/goals/new", {"statement": "Viewer's goal"})
        assert resp.status_code == 403 and "does not allow" in page_text(resp)
        resp = form_post(
            client,
            f"/projects/{world.p}/phases/goals/gate",
            {"outcome": "skip", "risk_acknowledged": "y", "comment": "no"},
        )
        assert resp.status_code == 403
        resp = form_post(
            client, f"/projects/{world.p}/members", {"username": "otto", "role": "lead"}
        )
        assert resp.status_code == 403


@pytest.mark.parametrize("token", [None, "", "not-a-token", "from-another-session"])
def test_html_form_without_a_valid_csrf_token_gets_400(world, app, lead_client, token):
    if token == "from-another-session":
        other = app.test_client()
        token = csrf_token(other, "/login")
    data = {"statement": "No token"} | ({} if token is None else {"csrf_token": token})
    with nothing_saved():
        resp = lead_client.post(f"/projects/{world.p}/goals/new", data=data)
        assert resp.status_code == 400 and "CSRF" in page_text(resp)
        resp = lead_client.post(
            f"/projects/{world.p}/phases/goals/gate",
            data={"outcome": "skip", "risk_acknowledged": "y", "comment": "c"}
            | ({} if token is None else {"csrf_token": token}),
        )
        assert resp.status_code == 400


def test_login_form_needs_its_csrf_token(world, client):
    resp = client.post("/login", data={"username": "ana", "password": Factory.PASSWORD})
    assert resp.status_code == 400
    assert client.get("/profile").status_code == 302  # not logged in


# --- logins ---------------------------------------------------------------------------------


def _login_from(client: FlaskClient, username: str, password: str, address: str):
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_overrides={"REMOTE_ADDR": address},
    )


def _login_failures() -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "login.failed")
    )


def test_sixth_failed_login_for_one_account_gets_429(factory, app):
    factory.user("ana")
    client = app.test_client()
    with nothing_saved(audited=True):
        # From five addresses, so only the account's limit applies.
        for i in range(5):
            resp = _login_from(client, "ana", "wrong password", f"10.0.0.{i}")
            assert resp.status_code == 401 and "Wrong username or password" in page_text(resp)
        resp = _login_from(client, "ANA ", "wrong password", "10.0.0.9")
        assert resp.status_code == 429
        assert "Too many attempts" in page_text(resp)
        assert _login_from(client, "ana", Factory.PASSWORD, "10.0.0.10").status_code == 429
    assert _login_failures() == 5
    assert client.get("/profile").status_code == 302  # the right password did not log in
    # Another account is not affected.
    factory.user("bob")
    assert _login_from(client, "bob", Factory.PASSWORD, "10.0.0.11").status_code == 302


def test_failures_from_one_address_across_many_accounts_get_429(factory, app):
    """Someone trying many accounts from one address: past the address's limit (looser than
    an account's), even an existing account's attempt gets 429; another address does not."""
    limit = app.config["LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE"]
    names = [f"user{i:02d}" for i in range(limit + 1)]
    for name in names:
        factory.user(name)
    client = app.test_client()
    statuses = [_login_from(client, n, "nope", "192.0.2.7").status_code for n in names]
    assert statuses == [401] * limit + [429]
    assert _login_from(client, names[-1], "nope", "192.0.2.8").status_code == 401


def test_someone_elses_failures_from_a_shared_address_do_not_lock_me_out(factory, app):
    """An office behind one address: Eve's failures on Ana's account lock Ana's account only;
    Bob, at the same address, logs in with his own password."""
    factory.user("ana")
    factory.user("bob")
    client = app.test_client()
    for _ in range(app.config["LOGIN_ATTEMPTS_PER_MINUTE"] + 1):
        _login_from(client, "ana", "guessing", "198.51.100.4")
    assert _login_from(client, "ana", Factory.PASSWORD, "198.51.100.4").status_code == 429
    assert _login_from(client, "bob", Factory.PASSWORD, "198.51.100.4").status_code == 302


def test_successful_logins_do_not_count(factory, app):
    factory.user("hana")
    client = app.test_client()
    for _ in range(7):
        assert login(client, "hana").status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/profile")})


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"username": "", "password": ""}, 422, "This field is required."),
        ({"username": "ana"}, 422, "This field is required."),
        ({"username": "a" * 5000, "password": "x"}, 422, "longer than 80"),
        ({"username": "ana", "password": "p" * 5000}, 422, "longer than 1024"),
        ({"username": ["ana", "bob"], "password": "wrong"}, 401, "Wrong username or password"),
        ({"username": "ana\x00", "password": "x"}, 422, "NUL"),
    ],
)
def test_login_with_bad_fields_gets_a_message(factory, client, data, status, message):
    factory.user("ana")
    with nothing_saved(audited=True):
        resp = client.post("/login", data={"csrf_token": csrf_token(client, "/login"), **data})
        assert resp.status_code == status
        assert message in page_text(resp)
    assert client.get("/profile").status_code == 302  # not logged in


# --- HTML forms -----------------------------------------------------------------------------

HTML_CASES = [
    # (path, form data, status, message on the page)
    ("/projects/new", {"name": ""}, 422, "This field is required."),
    ("/projects/new", {"name": "x", "strategy": "bogus"}, 422, "Not a valid choice"),
    ("/projects/new", {"name": "n" * 201}, 422, "longer than 200"),
    ("/projects/{p}/goals/new", {"statement": ""}, 422, "This field is required."),
    ("/projects/{p}/goals/new", {"statement": "s" * 2001}, 422, "longer than 2000"),
    ("/projects/{p}/goals/new", {"statement": "ok", "department_id": "abc"}, 422, "coerce"),
    (
        "/projects/{p}/goals/new",
        {"statement": "ok", "department_id": "99999999999999999999"},
        422,
        "coerce",
    ),
    ("/projects/{p}/goals/new", {"statement": "ok", "department_id": "424242"}, 422, "Unknown"),
    ("/projects/{p}/goals/new", {"statement": "a\x00b"}, 422, "NUL"),
    ("/projects/{p}/goals/{g}/kpis", {"name": "K", "baseline": "abc"}, 422, "Not a valid float"),
    ("/projects/{p}/goals/{g}/kpis", {"name": "K", "baseline": "nan"}, 422, "finite"),
    ("/projects/{p}/goals/{g}/kpis", {"name": "K", "target": "inf"}, 422, "finite"),
    ("/projects/{p}/goals/{g}/kpis", {"name": "K", "target": "1e999"}, 422, "finite"),
    ("/projects/{p}/goals/{g}/kpis", {"name": "K", "target": "1e20"}, 422, "must be between"),
    ("/projects/{p}/goals/{g}/kpis", {"name": "K", "due_date": "31/12/2026"}, 422, "valid date"),
    ("/projects/{p}/goals/{g}/kpis", {"name": "", "unit": "u" * 41}, 422, "required"),
    (
        "/projects/{p}/goals/{g}/kpis/{k}/measurements",
        {"value": "abc", "measured_on": TODAY},
        422,
        "Not a valid float",
    ),
    (
        "/projects/{p}/goals/{g}/kpis/{k}/measurements",
        {"value": "1", "measured_on": "2999-01-01"},
        422,
        "future",
    ),
    ("/projects/{p}/goals/{g}/kpis/{k}/measurements", {"value": "1"}, 422, "required"),
    (
        "/projects/{p}/goals/{g}/edit",
        {"statement": "New", "version": "abc"},
        422,
        "Not a valid integer",
    ),
    ("/projects/{p}/goals/{g}/edit", {"statement": "New"}, 422, "required"),
    (
        "/projects/{p}/phases/goals/plan",
        {"version": "1", "planned_start": "2026-12-01", "planned_end": "2026-11-01"},
        422,
        "Before start.",
    ),
    (
        "/projects/{p}/phases/goals/plan",
        {"version": "1", "planned_start": "not a date"},
        422,
        "Not a valid date",
    ),
    (
        "/projects/{p}/phases/goals/plan",
        {"version": "1", "owner_id": "99999999999999999999"},
        422,
        "coerce",
    ),
    ("/projects/{p}/phases/goals/plan", {"version": "1", "owner_id": "424242"}, 422, "member"),
    ("/projects/{p}/phases/goals/checklist", {"text": "c" * 301}, 422, "longer than 300"),
    ("/projects/{p}/phases/goals/checklist", {"text": ""}, 422, "required"),
    ("/projects/{p}/phases/goals/gate", {"outcome": "approve"}, 422, "Not a valid choice"),
    (
        "/projects/{p}/phases/requirements/gate",
        {"outcome": "skip"},
        422,
        "Acknowledge the risk",
    ),
    ("/projects/{p}/phases/goals/gate", {"outcome": "pass"}, 409, "unmet"),
    ("/projects/{p}/members", {"username": "ana", "role": "reviewer"}, 422, "reviewer"),
    ("/projects/{p}/members", {"username": "mihai", "role": "boss"}, 422, "Not a valid choice"),
    ("/projects/{p}/members", {"username": "nobody", "role": "viewer"}, 422, "No such account"),
    ("/projects/{p}/members", {"username": "ana", "role": "viewer"}, 409, "member already"),
    ("/projects/{p}/settings", {"name": "", "version": "1"}, 422, "This field is required."),
    ("/projects/{p}/goals/vision", {"vision": "v", "version": "x"}, 422, "Not a valid integer"),
]


@pytest.mark.parametrize("path", sorted({c[0] for c in HTML_CASES}))
def test_html_forms_refuse_bad_input_with_a_message(world, lead_client, path):
    for form_path, data, status, message in HTML_CASES:
        if form_path != path:
            continue
        with nothing_saved():
            resp = form_post(lead_client, fill(path, world), data)
            text = page_text(resp)
            assert resp.status_code == status, (data, text[:3000])
            assert message.lower() in text.lower(), (data, message, text[:3000])
            for value in data.values():
                if len(value) > 200:
                    assert value in text, data  # kept for the user to shorten


@pytest.mark.parametrize("nul", [False, True], ids=["nonsense", "nul-characters"])
def test_no_route_answers_500_to_garbage(world, app, lead_client, nul):
    """Every HTML form and API route, sent nonsense in every usual field: never a 500."""
    garbage: dict[str, Any] = {
        "statement": ["a", "b"],
        "name": "x" * 3000,
        "version": "-99999999999999999999",
        "department_id": "99999999999999999999",
        "owner_id": "99999999999999999999",
        "baseline": "1e999",
        "target": "--1",
        "value": "0x10",
        "measured_on": "0000-00-00",
        "due_date": "9999-99-99",
        "planned_start": "2026-02-30",
        "outcome": "\u202egate",
        "risk_acknowledged": "maybe",
        "role": "",
        "username": "../../etc/passwd",
        "phase": "goals\n",
        "title": " ",
        "score": "NaN",
        "vendor_id": "99999999999999999999",
        "criterion_id": "-0",
        "reviewer_id": "1.0",
        "action": "drop table",
        "text": "",
        "done": "y",
        "archived": "1",
    }
    query = {"page": "99999999999999999999", "since": "?", "phase": "x"}
    if nul:  # PostgreSQL refuses NUL in text: it must be stopped before the database
        garbage = {k: "a\x00b" for k in garbage}
        query = {k: "a\x00b" for k in query}
    tried = 0
    values = {
        "project_id": world.p,
        "goal_id": world.g,
        "kpi_id": world.k,
        "key": "goals",
        "step": "start",
    }
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not rule.rule.startswith(("/projects/", "/api/v1/")):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[^<>:]*:)?{name}>", str(values.get(name, 1)), path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if path.startswith("/api/v1/"):
                resp = world.lead.raw(method, path.removeprefix("/api/v1"), json=garbage)
            elif method == "GET":
                resp = lead_client.get(path, query_string=query)
            else:
                resp = form_post(lead_client, path, garbage)
            assert resp.status_code < 500, (method, path, page_text(resp)[:500])
            tried += 1
    assert tried > 60
