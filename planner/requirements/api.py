"""JSON API of the requirements register."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from planner.core.api import api_blueprint, doc, json_body, paging
from planner.core.errors import ValidationError
from planner.core.forms import form_errors, form_from_json
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import send_download
from planner.extensions import db
from planner.projects.access import api_access
from planner.requirements import imports, interchange, service
from planner.requirements.flags import Flags
from planner.requirements.models import Requirement, RequirementRevision
from planner.requirements.schemas import RegisterQueryForm, RequirementEditForm, RequirementForm

bp = api_blueprint("requirements_api", __name__)


def requirement_json(
    r: Requirement, flags: Flags | None = None, keys: dict[int, str] | None = None
):
    out: dict[str, Any] = {
        "id": r.id,
        "key": r.key,
        "title": r.title,
        "description": r.description,
        "type": r.type.value,
        "priority": r.priority.value,
        "module": r.module,
        "acceptance_criterion": r.acceptance_criterion,
        "status": r.status.value,
        "owner": {"id": r.owner.id, "name": r.owner.name} if r.owner else None,
        "goals": [{"id": g.id, "statement": g.statement} for g in r.goals],
        "departments": [{"id": d.id, "name": d.name} for d in r.departments],
        "revision": r.revision,
        "version": r.version,
        "updated_at": r.updated_at.isoformat() if r.updated_at else None,
    }
    if flags is not None:
        out["flags"] = {
            "no_goal": flags.no_goal,
            "must_without_criterion": flags.must_without_criterion,
            "near_identical_to": (keys or {}).get(flags.near_identical_to or 0),
        }
    return out


def revision_json(rev: RequirementRevision) -> dict[str, Any]:
    return {
        "number": rev.number,
        "changed_by": rev.changed_by_name,
        "changed_at": rev.changed_at.isoformat(),
        "snapshot": rev.snapshot,
    }


def _query() -> service.RegisterQuery:
    args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
    form = RegisterQueryForm(formdata=None, meta={"csrf": False})
    unknown = sorted(set(args) - {f.name for f in form})
    if unknown:
        raise ValidationError(
            f"Unknown query parameter: {', '.join(unknown)}.",
            {k: ["Unknown query parameter."] for k in unknown},
        )
    form = RegisterQueryForm(formdata=request.args, meta={"csrf": False})
    if not form.validate():
        errors = form_errors(form)
        name, messages = next(iter(errors.items()))
        raise ValidationError(f"{name}: {messages[0]}", errors)
    return service.RegisterQuery(
        q=(form.q.data or "").strip(),
        department=form.department.data,
        module=form.module.data or "",
        priority=form.priority.data or "",
        status=form.status.data or "",
        goal=form.goal.data,
        sort=form.sort.data or "key",
    )


@bp.get("/projects/<int:project_id>/requirements")
@doc(
    "The requirements register: filtered (department, module, priority, status, goal), "
    "searched (q: key, title, description) and sorted, each with its flags",
    query=RegisterQueryForm,
    paginated=True,
    permission=Permission.VIEW,
)
def requirements_list(project_id: int):
    api_access(project_id)
    query = _query()
    page, per_page = paging()
    reqs = service.register_page(db.session, project_id, query, page, per_page)
    flags = service.flags_for(db.session, project_id, reqs.items)
    keys = service.keys_of(
        db.session, [f.near_identical_to for f in flags.values() if f.near_identical_to]
    )
    counts = service.register_counts(db.session, project_id)
    return jsonify(
        {
            "items": [requirement_json(r, flags[r.id], keys) for r in reqs.items],
            **reqs.meta(),
            "counts": {
                "total": counts.total,
                "rejected": counts.rejected,
                "by_priority": counts.by_priority,
                "by_status": counts.by_status,
                "by_department": {name: n for _id, name, n in counts.by_department},
                "no_goal": counts.no_goal,
                "must_without_criterion": counts.must_without_criterion,
            },
        }
    )


@bp.post("/projects/<int:project_id>/requirements")
@doc(
    "Add a requirement (its key is given: REQ-001 …)",
    body=RequirementForm,
    status=201,
    permission=Permission.EDIT,
)
def requirements_create(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = form_from_json(RequirementForm, json_body())
    with unit_of_work(db.session):
        req = service.create_requirement(db.session, access, **form.values())
    return _one(project_id, req.id), 201


def _one(project_id: int, requirement_id: int):
    req = service.get_requirement(db.session, project_id, requirement_id)
    flags = service.flags_for(db.session, project_id, [req])[req.id]
    return jsonify(
        requirement_json(req, flags, service.keys_of(db.session, [flags.near_identical_to or 0]))
    )


@bp.get("/projects/<int:project_id>/requirements/<int:requirement_id>")
@doc("One requirement with its traces and flags", permission=Permission.VIEW)
def requirements_get(project_id: int, requirement_id: int):
    api_access(project_id)
    return _one(project_id, requirement_id)


@bp.patch("/projects/<int:project_id>/requirements/<int:requirement_id>")
@doc(
    "Change a requirement: send the `version` you read (409 if someone saved since) and the "
    "fields to change; fields left out keep their value. A change makes the next revision.",
    body=RequirementEditForm,
    permission=Permission.EDIT,
)
def requirements_update(project_id: int, requirement_id: int):
    access = api_access(project_id, Permission.EDIT)
    req = service.get_requirement(db.session, project_id, requirement_id)
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    current = {
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
    }
    form = form_from_json(RequirementEditForm, {**current, **body})
    with unit_of_work(db.session):
        service.update_requirement(
            db.session, access, req, version=form.version.data, **form.values()
        )
    return _one(project_id, requirement_id)


@bp.get("/projects/<int:project_id>/requirements/<int:requirement_id>/revisions")
@doc("Every revision of a requirement, newest first, each a snapshot", permission=Permission.VIEW)
def revisions_list(project_id: int, requirement_id: int):
    api_access(project_id)
    req = service.get_requirement(db.session, project_id, requirement_id)
    revs = service.revisions(db.session, req)
    return jsonify(
        {"key": req.key, "revision": req.revision, "items": [revision_json(r) for r in revs]}
    )


@bp.get(
    "/projects/<int:project_id>/requirements/<int:requirement_id>/compare/<int:before>/<int:after>"
)
@doc(
    "Two revisions of a requirement compared field by field (text fields with their word diff)",
    permission=Permission.VIEW,
)
def revisions_compare(project_id: int, requirement_id: int, before: int, after: int):
    api_access(project_id)
    req = service.get_requirement(db.session, project_id, requirement_id)
    a, b, changes = service.compare_revisions(db.session, req, before, after)
    return jsonify(
        {
            "key": req.key,
            "before": a.number,
            "after": b.number,
            "changed": [c.field for c in changes if c.changed],
            "fields": [c.as_dict() for c in changes],
        }
    )


# --- import and export ----------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_TYPES = {"csv": "text/csv", "xlsx": XLSX, "reqif": "application/xml"}
IMPORT_TYPES = ("text/csv", XLSX, "application/xml")


@bp.get("/projects/<int:project_id>/requirements/export.<any(csv, xlsx, reqif):fmt>")
@doc(
    "The register (filtered like the list) as CSV or XLSX (formulas neutralised) or ReqIF 1.2",
    query=RegisterQueryForm,
    binary=tuple(EXPORT_TYPES.values()),
    permission=Permission.VIEW,
)
def requirements_export(project_id: int, fmt: str):
    access = api_access(project_id)
    data = interchange.export(db.session, access, _query(), fmt)
    return send_download(data, f"requirements-{project_id}.{fmt}", EXPORT_TYPES[fmt])


@bp.post("/projects/<int:project_id>/requirements/import")
@doc(
    "Import requirements from a CSV, XLSX or ReqIF file (the file as the body, or multipart "
    "`file`): rows without a key are new, rows with a key revise that requirement; all or "
    "nothing, every bad row named. `?dry_run=true` answers the plan and saves nothing.",
    upload=IMPORT_TYPES,
    permission=Permission.EDIT,
)
def requirements_import(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    dry_run = request.args.get("dry_run", "false").lower()
    if dry_run not in ("true", "false", "1", "0"):
        raise ValidationError("dry_run: true or false.", {"dry_run": ["true or false."]})
    upload = request.files.get("file")
    data = upload.read() if upload is not None else request.get_data()
    filename = (upload.filename if upload is not None else "") or "upload"
    records, kind = imports.read_file(data, filename)
    if dry_run in ("true", "1"):
        plan = imports.plan_import(db.session, access, records)
        return jsonify({"applied": False, "kind": kind, **plan.as_dict()})
    with unit_of_work(db.session):
        plan = imports.apply_import(db.session, access, records, filename=filename)
    return jsonify({"applied": True, "kind": kind, **plan.as_dict()})
