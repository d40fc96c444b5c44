"""Walk every route of the app with every role and with a non-member.

The expectation of each route comes from the code's own declaration (``project_view``'s
permission for pages, ``doc(permission=...)`` for the API) plus a few explicit rules below;
a route the walk has no expectation for fails the test, so a new route cannot slip in
without an authorization rule.
"""

from __future__ import annotations

import io
import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask, current_app
from sqlalchemy import func, select

from planner.artifacts import service as artifacts
from planner.core import jobs
from planner.core.accounts.models import User
from planner.core.audit import AuditEvent
from planner.core.encryption import from_config
from planner.core.permissions import Permission, Role, can
from planner.design import service as design
from planner.extensions import db
from planner.goals import service as goals
from planner.migration import pilots as migration_pilots
from planner.migration import recipes as migration_recipes
from planner.migration import service as migration
from planner.projects import service as projects
from planner.requirements import imports, intake
from planner.requirements import service as requirements
from planner.spec import service as spec
from planner.spec import signoff
from planner.spec.models import SealedSpec, SpecComment
from planner.vendors import service as vendors
from planner.vendors.report import EVALUATION_REPORT
from tests.conftest import Api, csrf_token, login
from tests.factories import Factory

PRINCIPALS = ["anonymous", "outsider", "viewer", "reviewer", "executive", "lead", "admin"]
ROLES = {
    "viewer": Role.VIEWER,
    "reviewer": Role.REVIEWER,
    "executive": Role.EXECUTIVE,
    "lead": Role.LEAD,
}

# Pages that need a login but no project; admin pages (404 for non-admins); public ones.
LOGIN_ONLY = {
    "projects.index",
    "projects.create",
    "accounts.profile",
    "accounts.logout",
    "accounts.revoke_token",
    "verify.verify",
}
ADMIN_ONLY = {"accounts.admin_users", "accounts.admin_set_active", "accounts.admin_audit"}
PUBLIC = {"accounts.login", "openapi.openapi_json", "static"}
# Views whose POST needs more than the page's GET permission.
POST_PERMISSION = {
    "projects.members": Permission.MANAGE_MEMBERS,
    "artifacts.index": Permission.UPLOAD,
    "vendors.decision": Permission.EDIT,
}
# Results under blind scoring: a reviewer who has not submitted, or a viewer while the round
# is open, may not see them.
BLIND = {
    "vendors.evaluation",
    "vendors.evaluation_export",
    "vendors.evaluation_pdf",
    "vendors.evaluation_pdf_start",
    "design.review_pdf",
    "design.review_pdf_start",
}
# A report job (the lead's vendor evaluation, prices included) is read only by those who may
# have that same report: the others get 404, as for a job that does not exist.
JOB_ROUTES = {
    "projects.report_job",
    "projects.report_file",
    "projects_api.report_job",
    "projects_api.report_file",
}
JOB_READERS = {"lead", "admin"}  # an executive's report leaves out conflict reasons
# A department's questionnaire is answered by its members only (the walk's reviewer is in
# Sales, whose questionnaire the walk opens): the others are refused (403).
DEPARTMENT_ONLY = {
    "requirements.answer",
    "requirements.answer_submit",
    "requirements_api.answers_get",
    "requirements_api.answers_put",
}
# An import waiting for its confirmation is its uploader's (the lead's): 404 for anyone else.
UPLOADER_ONLY = {"requirements.import_preview"}


@dataclass
class World:
    ids: dict[str, object]
    users: dict[str, object]


def _build(factory, people) -> dict[str, object]:
    """A fresh rollout with one of everything a URL can name."""
    users = {name: db.session.get(User, p.id) for name, p in people.items()}
    lead = users["lead"]
    project = factory.project(lead)
    for name, role in ROLES.items():
        if name != "lead":
            factory.member(project, users[name], role, "Sales" if role == Role.REVIEWER else None)
    access = projects.Access(project=project, user=lead, role=Role.LEAD)
    goal = goals.create_goal(db.session, access, statement="Goal", department_id=None)
    kpi = goals.add_kpi(db.session, access, goal, name="KPI", baseline=1, target=2)
    phase = projects.get_phase(db.session, project.id, "goals")
    item = projects.add_checklist_item(db.session, access, phase, "Checked with heads")
    version = artifacts.upload(
        db.session,
        access,
        title="Minutes",
        phase_key="goals",
        filename="m.txt",
        data=b"minutes of the meeting\n",
        max_bytes=10_000,
    )
    req = requirements.create_requirement(
        db.session,
        access,
        title="Track calls",
        type="functional",
        priority="must",
        status="proposed",
        goal_ids=[goal.id],
    )
    intake.create_default_questionnaires(db.session, access)
    sales_q = next(
        q for q in intake.questionnaires(db.session, project.id) if q.department.name == "Sales"
    )
    question_id = sales_q.questions[0].id
    interview = intake.add_interview(
        db.session,
        access,
        department_id=sales_q.department_id,
        interviewee="Radu",
        role="frontline",
        held_on=date(2026, 11, 2),
        notes="Calls in a notebook",
    )
    module = design.add_module(
        db.session, access, name="Customer records", requirement_ids=[req.id]
    )
    design.submit_version(db.session, access)
    section_id = spec.start(db.session, access).sections[0].id
    spec_version = spec.submit_version(db.session, access)
    comment_id = signoff.add_comment(db.session, access, spec_version, body="Costs?").id
    # the specification signed off and sealed, so that its signed PDF can be read
    signoff.set_resolved(
        db.session, access, spec_version, db.session.get(SpecComment, comment_id), True
    )
    signoff.set_signers(db.session, access, [users["executive"].id], in_order=False)
    signoff.put_up_for_signoff(db.session, access, spec_version)
    signoff.sign(
        db.session,
        projects.Access(project=project, user=users["executive"], role=Role.EXECUTIVE),
        spec_version,
        shown_digest=spec_version.digest,
        meaning="approved",
        conditions="",
        password=Factory.PASSWORD,
    )
    # its sealed PDF: stored bytes are enough to walk who may read them (the seal itself is
    # tested in tests/spec; rendering it for every rebuilt rollout would slow the walk down)
    db.session.add(SealedSpec(version_id=spec_version.id, data=b"%PDF-1.7", sha256="0" * 64))
    # an export of the old CRM, profiled and kept encrypted
    upload = migration.upload(
        db.session,
        access,
        io.BytesIO("ФИО;Телефон\r\nИванов;89123456789\r\n".encode("cp1251")),
        "contacts.csv",
        from_config(current_app.config),
    )
    key = from_config(current_app.config)
    recipe = migration_recipes.create_recipe(db.session, access, entity="contacts", upload=upload)
    pilot = migration_pilots.make_pilot(db.session, access, recipe, key, size=1)
    reconciled = migration_pilots.reconcile(
        db.session, access, pilot, io.BytesIO(b"phone\r\n+79123456789\r\n"), "crm.csv", key
    )
    draft = imports.keep_draft(db.session, access, b"Title\r\nNightly backups\r\n", "r.csv")
    vendor = vendors.create_vendor(db.session, access, name="Salesforce", cost_3y=1000.0)
    other = vendors.create_vendor(db.session, access, name="HubSpot", cost_3y=900.0)
    crit = vendors.create_criterion(db.session, access, name="Functionality", weight=1.0)
    vendors.set_round_state(db.session, access, action="open")
    recusal = vendors.recuse(
        db.session, access, reviewer_id=users["reviewer"].id, vendor_id=other.id, reason="conflict"
    )
    job, _ = jobs.start(db.session, EVALUATION_REPORT, access)
    job_id = job.id
    db.session.commit()
    jobs.enqueue(job_id)
    viewer_membership = next(
        m for m in projects.members(db.session, project.id) if m.user_id == users["viewer"].id
    )
    db.session.commit()
    return {
        "project_id": project.id,
        "goal_id": goal.id,
        "kpi_id": kpi.id,
        "key": "goals",
        "item_id": item.id,
        "membership_id": viewer_membership.id,
        "department_id": projects.department_by_name(db.session, project.id, "Legal").id,
        "artifact_id": version.artifact_id,
        "number": 1,
        "vendor_id": vendor.id,
        "criterion_id": crit.id,
        "recusal_id": recusal.id,
        "step": "start",
        "fmt": "xlsx",
        "filename": "app.css",
        "job_id": job_id,
        "requirement_id": req.id,
        "questionnaire_id": sales_q.id,
        "question_id": question_id,
        "interview_id": interview.id,
        "draft_id": draft.id,
        "module_id": module.id,
        "indicator_id": design.indicators(db.session, project.id)[0].id,
        "section_id": section_id,
        "comment_id": comment_id,
        "upload_id": upload.id,
        "recipe_id": recipe.id,
        "pilot_id": pilot.id,
        "reconciliation_id": reconciled.id,
        "difference_id": reconciled.summary["differences"][0]["id"],
        "before": 1,
        "after": 1,
    }


def _permission(app: Flask, endpoint: str, method: str):
    view = app.view_functions[endpoint]
    if method != "GET" and endpoint in POST_PERMISSION:
        return POST_PERMISSION[endpoint]
    if endpoint in BLIND:
        return "blind"
    api = getattr(view, "openapi", None)
    if api is not None:
        return api.get("permission") or ("public" if getattr(view, "public", False) else None)
    return getattr(view, "required_permission", None)


def _allowed(principal: str, permission, users, reviewer_submitted: bool = False) -> bool:
    if principal == "anonymous":
        return False
    user = users[principal]
    if principal == "outsider":
        return False
    role = ROLES.get(principal)
    if permission == "board":  # the board that reviews: reviewers, the lead, executives
        return principal in ("reviewer", "executive", "lead", "admin")
    if permission == "blind":
        if principal == "reviewer":
            return reviewer_submitted
        return principal != "viewer"  # a viewer waits for the round to close
    return can(role, Permission(permission), is_admin=user.is_admin)


def _expected(app, endpoint, method, principal, users, is_api):
    """'allow', or the status a refused request must get."""
    if endpoint in PUBLIC:
        return "allow"
    if principal == "anonymous":
        return 401 if is_api else 302
    if endpoint in LOGIN_ONLY:
        return "allow"
    if endpoint in ADMIN_ONLY:
        return "allow" if principal == "admin" else 404
    if endpoint in JOB_ROUTES:
        return "allow" if principal in JOB_READERS else 404
    if endpoint in DEPARTMENT_ONLY:
        return "allow" if principal == "reviewer" else 404 if principal == "outsider" else 403
    if endpoint in UPLOADER_ONLY and principal == "admin":
        return 404
    permission = _permission(app, endpoint, method)
    assert permission is not None, f"no authorization rule known for {endpoint} {method}"
    if permission == "login":
        return "allow"
    if principal == "outsider":
        return 404
    return "allow" if _allowed(principal, permission, users) else 403


def _walk(app: Flask):
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


@pytest.fixture
def world(app, factory):
    users = {
        name: factory.user(name)
        for name in ["outsider", "viewer", "reviewer", "executive", "lead", "victim"]
    }
    users["admin"] = factory.user("admin", admin=True)
    return users


class Snapshot:
    """A copy of the SQLite database, restored in milliseconds where a POST needs a fresh
    rollout to act on (building one takes about 0.1 s); None on PostgreSQL, which rebuilds."""

    def __init__(self, app: Flask, folder: Path) -> None:
        self.live = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
        self.copy = folder / "walk-snapshot.sqlite3"
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
        with sqlite3.connect(self.live) as src, sqlite3.connect(self.copy) as dst:
            src.backup(dst)
        src.close()
        dst.close()

    def restore(self) -> None:
        db.session.remove()
        db.engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.live}{suffix}").unlink(missing_ok=True)
        shutil.copy(self.copy, self.live)


SHARDS = 2  # separate tests over half of the routes each, so the suite's workers share them


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_route_with_every_role(app: Flask, factory, world, tmp_path, shard):
    # Plain values: the walk outlives the session the users were made in.
    users = {
        n: SimpleNamespace(id=u.id, is_admin=u.is_admin, username=u.username)
        for n, u in world.items()
    }
    clients = {}
    tokens = {}
    for name in PRINCIPALS:
        client = app.test_client()
        if name != "anonymous":
            assert login(client, name).status_code == 302
            tokens[name] = factory.token(db.session.get(User, users[name].id))
        clients[name] = client
    walked = set()
    failures = []
    forms: dict[str, str] = {}  # each client's CSRF token, read from a page once per session
    shared = _build(factory, users)
    snapshot = (
        None
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
        else (Snapshot(app, tmp_path))
    )

    dirty = [False]  # the shared rollout was changed by an allowed POST: restore it first

    def world_for(mutates: bool) -> dict[str, object]:
        if snapshot is None:
            return _build(factory, users) if mutates else shared
        if dirty[0]:
            snapshot.restore()
        dirty[0] = mutates
        return shared

    routes = sorted(_walk(app), key=lambda x: (x[0].rule, x[1]))[shard::SHARDS]
    for rule, method in routes:
        walked.add((rule.rule, method))
        is_api = rule.rule.startswith("/api/")
        mutating = method != "GET"
        for principal in PRINCIPALS:
            expected = _expected(app, rule.endpoint, method, principal, users, is_api)
            ids = world_for(mutating and expected == "allow")
            values = {k: v for k, v in ids.items() if k in rule.arguments}
            if "token_id" in rule.arguments:
                values["token_id"] = _own_token_id(users, principal)
            if "user_id" in rule.arguments:
                values["user_id"] = users["victim"].id
            path = _url(rule, values)
            status = _call(
                clients[principal], tokens.get(principal), method, path, is_api, principal, forms
            )
            if expected == "allow":
                bad = status in (401, 403, 404) or status >= 500
                if not mutating and status not in (200, 302):
                    bad = True
            else:
                bad = status != expected
            if bad:
                failures.append(f"{method} {path} as {principal}: {status}, expected {expected}")
            if (
                rule.endpoint == "accounts_api.tokens_revoke"
                and principal in tokens
                and snapshot is None
            ):
                # the caller revoked the token it calls with (its latest): a new one, so that
                # the walk goes on as this principal (on SQLite the snapshot brings the old
                # one back; PostgreSQL has no snapshot)
                tokens[principal] = factory.token(db.session.get(User, users[principal].id))
            if rule.endpoint == "accounts.logout" and principal != "anonymous":
                assert login(clients[principal], principal).status_code == 302
                forms.pop(principal, None)  # a new session has a new CSRF token
                if snapshot is not None:  # logging out moved the account's session epoch:
                    snapshot = Snapshot(app, tmp_path)  # restoring the old one would end
                    dirty[0] = False  # the new session too
    assert {(r.rule, m) for r, m in routes} == walked and len(walked) > 20
    assert not failures, "\n".join(failures)


def _own_token_id(users, principal):
    from planner.core.accounts.models import ApiToken

    user = users.get(principal) or users["victim"]
    return (
        db.session.scalar(
            select(ApiToken.id).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
        or 0
    )


def _url(rule, values) -> str:
    path = rule.rule
    for name in rule.arguments:
        value = values.get(name)
        assert value is not None, f"no value for <{name}> in {rule.rule}"
        path = re.sub(rf"<(?:[^<>]*:)?{name}>", str(value), path)
    return path


def _call(client, token, method, path, is_api, principal, forms) -> int:
    if is_api:
        api = Api(client, token or "")
        kwargs = {}
        if method in ("POST", "PUT", "PATCH"):
            kwargs["json"] = {}
        headers = {} if token else {}
        if not token:
            resp = client.open(path, method=method, headers=headers, **kwargs)
        else:
            resp = api.raw(method, path.removeprefix("/api/v1"), **kwargs)
        return resp.status_code
    if method == "GET":
        resp = client.get(path)
        resp.close()
        return resp.status_code
    if principal not in forms:
        forms[principal] = csrf_token(client, "/login" if principal == "anonymous" else "/profile")
    data = {"csrf_token": forms[principal]}
    resp = client.open(path, method=method, data=data)
    return resp.status_code


def test_non_member_access_is_denied_and_audited(client, factory, login_as):
    lead = factory.user("lead")
    factory.user("stranger")
    project = factory.project(lead)
    login_as("stranger")
    assert client.get(f"/projects/{project.id}/goals").status_code == 404
    assert client.get("/projects/999999").status_code == 404
    denied = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "access.denied", AuditEvent.project_id == project.id)
    )
    assert denied == 1


def test_upload_through_a_page_counts_as_a_route(app, factory, login_as, client):
    """A reviewer may upload artifacts (e.g. their department's questionnaire answers)."""
    lead = factory.user("lead")
    reviewer = factory.user("rev")
    project = factory.project(lead)
    factory.member(project, reviewer, Role.REVIEWER, "Sales")
    login_as("rev")
    url = f"/projects/{project.id}/artifacts"
    resp = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "title": "Answers",
            "phase": "requirements",
            "file": (io.BytesIO(b"a;b\n1;2\n"), "answers.csv"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
