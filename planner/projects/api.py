"""JSON API of rollouts: projects, phases and gates, members, audit."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import jsonify, request, url_for

from planner.core import jobs
from planner.core.api import api_blueprint, api_user, doc, paged, paging, validated
from planner.core.audit import AuditEvent, AuditFilter, audit_query
from planner.core.db import utcnow
from planner.core.errors import Conflict, NotFound, ValidationError
from planner.core.pagination import paginate
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.extensions import db
from planner.projects import reports, service
from planner.projects.access import api_access
from planner.projects.models import ChecklistItem, Department, Membership, Phase, Project
from planner.projects.phases import PHASE_BY_KEY, next_gate
from planner.projects.schemas import (
    ArchiveForm,
    ChecklistItemEditForm,
    ChecklistItemForm,
    DepartmentForm,
    DepartmentRenameForm,
    GateForm,
    MemberEditForm,
    MemberForm,
    PhaseForm,
    ProjectEditForm,
    ProjectForm,
)
from planner.projects.waiting import waiting_for

bp = api_blueprint("projects_api", __name__)


def project_json(p: Project, role: Any = None) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "company": p.company,
        "description": p.description,
        "solution_kind": p.solution_kind.value if p.solution_kind else None,
        "strategy": p.strategy.value if p.strategy else None,
        "vision": p.vision,
        "strategy_text": p.strategy_text,
        "archived": p.archived,
        "version": p.version,
        "created_at": p.created_at.isoformat(),
        "updated_at": p.updated_at.isoformat(),
        **({"role": role.value if role else None} if role is not False else {}),
    }


def phase_json(p: Phase, criteria: list | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": p.key,
        "title": str(PHASE_BY_KEY[p.key].title),
        "position": p.position,
        "status": p.status.value,
        "owner": p.owner.username if p.owner else None,
        "planned_start": p.planned_start.isoformat() if p.planned_start else None,
        "planned_end": p.planned_end.isoformat() if p.planned_end else None,
        "actual_start": p.actual_start.isoformat() if p.actual_start else None,
        "actual_end": p.actual_end.isoformat() if p.actual_end else None,
        "overdue": bool(p.planned_end and p.planned_end < utcnow().date() and not p.status.done),
        "version": p.version,
    }
    if criteria is not None:
        out["criteria"] = [
            {"label": c.label, "met": c.met, "computed": c.computed, "detail": c.detail}
            for c in criteria
        ]
    return out


def member_json(m: Membership) -> dict[str, Any]:
    return {
        "id": m.id,
        "user": m.user.username,
        "name": m.user.name,
        "role": m.role.value,
        "department": m.department.name if m.department else None,
    }


def audit_json(e: AuditEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "actor": e.actor_name,
        "action": e.action,
        "entity_type": e.entity_type,
        "entity_id": e.entity_id,
        "summary": e.summary,
        "before": e.before,
        "after": e.after,
    }


@bp.get("/projects")
@doc("The rollouts the caller may open", paginated=True, permission="login")
def projects_list():
    page, per_page = paging()
    result = paginate(db.session, service.projects_for(db.session, api_user()), page, per_page)
    return paged(result, lambda p: project_json(p, role=False))


@bp.get("/waiting")
@doc(
    "What waits for the caller across their rollouts: approvals, gates, scoresheets, each "
    "with the page where to act on it",
    permission="login",
)
def waiting_list():
    items = waiting_for(db.session, api_user())
    return jsonify(
        {
            "items": [
                {
                    "project_id": w.project_id,
                    "project": w.project,
                    "what": w.text,
                    "url": url_for(w.endpoint, **w.args),
                }
                for w in items
            ]
        }
    )


@bp.post("/projects")
@doc(
    "Create a rollout; the caller becomes its lead",
    body=ProjectForm,
    status=201,
    permission="login",
)
def projects_create():
    form = validated(ProjectForm)
    with unit_of_work(db.session):
        project = service.create_project(
            db.session,
            api_user(),
            name=form.name.data,
            company=form.company.data or "",
            description=form.description.data or "",
            solution_kind=form.solution_kind.data or None,
            strategy=form.strategy.data or None,
        )
    return jsonify(project_json(project, role=False)), 201


@bp.get("/projects/<int:project_id>")
@doc("One rollout with the caller's role and the next gate", permission=Permission.VIEW)
def projects_get(project_id: int):
    access = api_access(project_id)
    statuses = service.statuses(db.session, project_id)
    body = project_json(access.project, role=access.role)
    body["next_gate"] = next_gate(statuses)
    body["phases"] = {k: s.value for k, s in statuses.items()}
    return jsonify(body)


@bp.get("/projects/<int:project_id>/phases")
@doc("The nine phases with status, dates, owner and exit criteria", permission=Permission.VIEW)
def phases_list(project_id: int):
    access = api_access(project_id)
    rows = service.phases(db.session, project_id)
    return jsonify(
        {"items": [phase_json(p, service.criteria(db.session, access.project, p)) for p in rows]}
    )


@bp.post("/projects/<int:project_id>/phases/<key>/gate")
@doc(
    "Record a gate decision: pass, send_back or skip",
    body=GateForm,
    status=201,
    permission=Permission.DECIDE_GATE,
)
def phases_gate(project_id: int, key: str):
    access = api_access(project_id, Permission.DECIDE_GATE)
    if key not in PHASE_BY_KEY:
        raise NotFound(f"There is no phase {key!r}.")
    form = validated(GateForm)
    phase = service.get_phase(db.session, project_id, key)
    with unit_of_work(db.session):
        decision = service.decide_gate(
            db.session,
            access,
            phase,
            outcome=form.outcome.data,
            comment=form.comment.data or "",
            risk_acknowledged=form.risk_acknowledged.data,
        )
    return jsonify(
        {
            "id": decision.id,
            "outcome": decision.outcome.value,
            "comment": decision.comment,
            "risk_acknowledged": decision.risk_acknowledged,
            "phase": phase_json(phase),
        }
    ), 201


@bp.get("/projects/<int:project_id>/members")
@doc("The members of a rollout with their roles and departments", permission=Permission.VIEW)
def members_list(project_id: int):
    api_access(project_id)
    return jsonify({"items": [member_json(m) for m in service.members(db.session, project_id)]})


@bp.post("/projects/<int:project_id>/members")
@doc(
    "Add an existing account to the rollout with a role",
    body=MemberForm,
    status=201,
    permission=Permission.MANAGE_MEMBERS,
)
def members_add(project_id: int):
    access = api_access(project_id, Permission.MANAGE_MEMBERS)
    form = validated(MemberForm)
    with unit_of_work(db.session):
        m = service.add_member(
            db.session,
            access,
            username=form.username.data,
            role=form.role.data,
            department_id=form.department_id.data,
        )
    m = next(x for x in service.members(db.session, project_id) if x.id == m.id)
    return jsonify(member_json(m)), 201


@bp.get("/projects/<int:project_id>/audit")
@doc(
    "The rollout's audit trail, newest first; filters: action, actor, entity_type, since, until",
    paginated=True,
    permission=Permission.VIEW_AUDIT,
)
def audit_list(project_id: int):
    api_access(project_id, Permission.VIEW_AUDIT)
    try:
        since = date.fromisoformat(request.args["since"]) if request.args.get("since") else None
        until = date.fromisoformat(request.args["until"]) if request.args.get("until") else None
    except ValueError as exc:
        raise ValidationError("since and until must be dates like 2026-11-24.") from exc
    flt = AuditFilter(
        action=request.args.get("action") or None,
        actor=request.args.get("actor") or None,
        entity_type=request.args.get("entity_type") or None,
        since=since,
        until=until,
    )
    page, per_page = paging()
    return paged(paginate(db.session, audit_query(project_id, flt), page, per_page), audit_json)


def _job_or_404(project_id: int, job_id: str, access) -> jobs.ReportJob:
    job = jobs.get_job(db.session, project_id, job_id)
    if job is None or not jobs.may_fetch(db.session, job, access):
        raise NotFound("There is no such report job, or it is not yours to read.")
    return job


@bp.get("/projects/<int:project_id>/reports/<job_id>")
@doc(
    "A report job: state (queued, running, done, failed), progress 0-100, stage, error; "
    "`file` once done",
    permission=Permission.VIEW,
)
def report_job(project_id: int, job_id: str):
    access = api_access(project_id)
    return jsonify(reports.job_json(_job_or_404(project_id, job_id, access)))


@bp.get("/projects/<int:project_id>/reports/<job_id>/file")
@doc(
    "The file of a done report job (409 while it is not done)",
    binary=("application/pdf",),
    permission=Permission.VIEW,
)
def report_file(project_id: int, job_id: str):
    access = api_access(project_id)
    job = _job_or_404(project_id, job_id, access)
    if job.state != jobs.JobState.DONE:
        raise Conflict(f"The report is not ready: it is {job.state.value} ({job.progress}%).")
    return reports.send_job_file(job)


# --- settings, archive ------------------------------------------------------------------


@bp.patch("/projects/<int:project_id>")
@doc(
    "Change the rollout's settings (name, company, description, solution, strategy); send the "
    "`version` you read (409 if someone saved meanwhile)",
    body=ProjectEditForm,
    permission=Permission.EDIT,
)
def projects_update(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(ProjectEditForm)
    with unit_of_work(db.session):
        project = service.update_project(
            db.session,
            access,
            version=form.version.data,
            name=form.name.data,
            company=form.company.data or "",
            description=form.description.data or "",
            solution_kind=form.solution_kind.data or None,
            strategy=form.strategy.data or None,
        )
    return jsonify(project_json(project, role=access.role))


@bp.post("/projects/<int:project_id>/archive")
@doc(
    "Archive (`archived: true`) or restore the rollout",
    body=ArchiveForm,
    permission=Permission.EDIT,
)
def projects_archive(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(ArchiveForm)
    with unit_of_work(db.session):
        service.set_archived(db.session, access, bool(form.archived.data))
    return jsonify(project_json(access.project, role=access.role))


# --- departments ------------------------------------------------------------------------


def department_json(d: Department) -> dict[str, Any]:
    return {"id": d.id, "name": d.name}


@bp.get("/projects/<int:project_id>/departments")
@doc("The departments taking part (a reviewer belongs to one)", permission=Permission.VIEW)
def departments_list(project_id: int):
    api_access(project_id)
    return jsonify(
        {"items": [department_json(d) for d in service.departments(db.session, project_id)]}
    )


@bp.post("/projects/<int:project_id>/departments")
@doc("Add a department", body=DepartmentForm, status=201, permission=Permission.MANAGE_MEMBERS)
def departments_create(project_id: int):
    access = api_access(project_id, Permission.MANAGE_MEMBERS)
    form = validated(DepartmentForm)
    with unit_of_work(db.session):
        dept = service.add_department(db.session, access, form.name.data)
    return jsonify(department_json(dept)), 201


@bp.patch("/projects/<int:project_id>/departments/<int:department_id>")
@doc(
    "Rename a department; send `was`, the name you read, to be refused (409) if someone "
    "renamed it meanwhile",
    body=DepartmentRenameForm,
    permission=Permission.MANAGE_MEMBERS,
)
def departments_update(project_id: int, department_id: int):
    access = api_access(project_id, Permission.MANAGE_MEMBERS)
    form = validated(DepartmentRenameForm)
    with unit_of_work(db.session):
        dept = service.rename_department(
            db.session, access, department_id, form.name.data, was=form.was.data or None
        )
    return jsonify(department_json(dept))


@bp.delete("/projects/<int:project_id>/departments/<int:department_id>")
@doc(
    "Delete a department nobody belongs to (409 while members are in it)",
    status=204,
    permission=Permission.MANAGE_MEMBERS,
)
def departments_delete(project_id: int, department_id: int):
    access = api_access(project_id, Permission.MANAGE_MEMBERS)
    with unit_of_work(db.session):
        service.delete_department(db.session, access, department_id)
    return "", 204


# --- members ----------------------------------------------------------------------------


@bp.patch("/projects/<int:project_id>/members/<int:membership_id>")
@doc(
    "Change a member's role or department (a rollout keeps at least one lead)",
    body=MemberEditForm,
    permission=Permission.MANAGE_MEMBERS,
)
def members_update(project_id: int, membership_id: int):
    access = api_access(project_id, Permission.MANAGE_MEMBERS)
    form = validated(MemberEditForm)
    with unit_of_work(db.session):
        service.change_member(
            db.session,
            access,
            membership_id,
            role=form.role.data,
            department_id=form.department_id.data,
        )
    m = next(x for x in service.members(db.session, project_id) if x.id == membership_id)
    return jsonify(member_json(m))


@bp.delete("/projects/<int:project_id>/members/<int:membership_id>")
@doc(
    "Remove a member from the rollout (their past work stays)",
    status=204,
    permission=Permission.MANAGE_MEMBERS,
)
def members_remove(project_id: int, membership_id: int):
    access = api_access(project_id, Permission.MANAGE_MEMBERS)
    with unit_of_work(db.session):
        service.remove_member(db.session, access, membership_id)
    return "", 204


# --- phases: owner and dates, status, checklist -----------------------------------------


def _phase(project_id: int, key: str) -> Phase:
    if key not in PHASE_BY_KEY:
        raise NotFound(f"There is no phase {key!r}.")
    return service.get_phase(db.session, project_id, key)


@bp.patch("/projects/<int:project_id>/phases/<key>")
@doc(
    "Plan a phase: owner (a member's user id) and planned and actual dates; send `version`",
    body=PhaseForm,
    permission=Permission.EDIT,
)
def phases_update(project_id: int, key: str):
    access = api_access(project_id, Permission.EDIT)
    phase = _phase(project_id, key)
    form = validated(PhaseForm)
    with unit_of_work(db.session):
        service.update_phase(
            db.session,
            access,
            phase,
            version=form.version.data,
            owner_id=form.owner_id.data,
            planned_start=form.planned_start.data,
            planned_end=form.planned_end.data,
            actual_start=form.actual_start.data,
            actual_end=form.actual_end.data,
        )
    return jsonify(phase_json(phase))


@bp.post("/projects/<int:project_id>/phases/<key>/<any(start, 'request-gate'):step>")
@doc(
    "Start a phase (`start`) or put it up for its gate (`request-gate`)",
    permission=Permission.EDIT,
)
def phases_step(project_id: int, key: str, step: str):
    access = api_access(project_id, Permission.EDIT)
    phase = _phase(project_id, key)
    with unit_of_work(db.session):
        if step == "start":
            service.start_phase(db.session, access, phase)
        else:
            service.request_gate(db.session, access, phase)
    return jsonify(phase_json(phase))


def checklist_json(item: ChecklistItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "text": item.text,
        "done": item.done,
        "done_at": item.done_at.isoformat() if item.done_at else None,
    }


@bp.get("/projects/<int:project_id>/phases/<key>/checklist")
@doc("The lead's checklist of a phase (exit criteria ticked by hand)", permission=Permission.VIEW)
def checklist_list(project_id: int, key: str):
    api_access(project_id)
    phase = _phase(project_id, key)
    return jsonify({"items": [checklist_json(i) for i in service.checklist(db.session, phase.id)]})


@bp.post("/projects/<int:project_id>/phases/<key>/checklist")
@doc(
    "Add an exit criterion to a phase's checklist",
    body=ChecklistItemForm,
    status=201,
    permission=Permission.EDIT,
)
def checklist_create(project_id: int, key: str):
    access = api_access(project_id, Permission.EDIT)
    phase = _phase(project_id, key)
    form = validated(ChecklistItemForm)
    with unit_of_work(db.session):
        item = service.add_checklist_item(db.session, access, phase, form.text.data)
    return jsonify(checklist_json(item)), 201


@bp.patch("/projects/<int:project_id>/phases/<key>/checklist/<int:item_id>")
@doc(
    "Tick (`done: true`) or untick a checklist item",
    body=ChecklistItemEditForm,
    permission=Permission.EDIT,
)
def checklist_update(project_id: int, key: str, item_id: int):
    access = api_access(project_id, Permission.EDIT)
    phase = _phase(project_id, key)
    form = validated(ChecklistItemEditForm)
    with unit_of_work(db.session):
        item = service.set_checklist_item(db.session, access, phase, item_id, bool(form.done.data))
    return jsonify(checklist_json(item))


@bp.delete("/projects/<int:project_id>/phases/<key>/checklist/<int:item_id>")
@doc("Remove a checklist item", status=204, permission=Permission.EDIT)
def checklist_delete(project_id: int, key: str, item_id: int):
    access = api_access(project_id, Permission.EDIT)
    phase = _phase(project_id, key)
    with unit_of_work(db.session):
        service.delete_checklist_item(db.session, access, phase, item_id)
    return "", 204
