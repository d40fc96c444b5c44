"""JSON API of the data migration: the old CRM's exports, uploaded (multipart) and profiled,
read again another way, purged. The profile's values reach the lead (and a site admin) only."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from planner.core.api import api_blueprint, doc, json_body, validated
from planner.core.encryption import from_config
from planner.core.errors import ValidationError
from planner.core.forms import form_from_json
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import upload_limit
from planner.extensions import db
from planner.migration import plan as plans
from planner.migration import recipes, service
from planner.migration.models import MigrationPlan, MigrationUpload
from planner.migration.schemas import PlanForm, ReadAgainForm
from planner.migration.views import EXPORT_LIMIT
from planner.projects.access import Access, api_access

bp = api_blueprint("migration_api", __name__)


def upload_json(access: Access, upload: MigrationUpload, *, profile: bool = True) -> dict[str, Any]:
    """An upload as the API shows it; its profile with values only for the lead and an admin."""
    body: dict[str, Any] = {
        "id": upload.id,
        "filename": upload.filename,
        "kind": upload.kind,
        "size": upload.size,
        "sha256": upload.sha256,
        "rows": upload.rows,
        "columns": upload.columns,
        "encoding": upload.encoding,
        "delimiter": upload.delimiter,
        "header_row": upload.header_row + 1,
        "chosen": {
            k: (v + 1 if k == "header_row" else v) for k, v in (upload.chosen or {}).items()
        },
        "uploaded_by": upload.uploaded_by_name,
        "uploaded_at": upload.created_at.isoformat(),
        "purged_at": upload.purged_at.isoformat() if upload.purged_at else None,
        "version": upload.version,
        "values_shown": service.may_see_rows(access) and not upload.purged,
    }
    if profile:
        body["profile"] = service.profile_for(
            access,
            upload,
            from_config(current_app.config),
            public_columns=recipes.public_columns(db.session, upload),
        )
    return body


@bp.get("/projects/<int:project_id>/migration/uploads")
@doc(
    "The old CRM's exports uploaded, newest first (without their profiles)",
    permission=Permission.VIEW,
)
def uploads_list(project_id: int):
    access = api_access(project_id)
    return jsonify(
        {
            "items": [
                upload_json(access, u, profile=False)
                for u in service.uploads(db.session, project_id)
            ]
        }
    )


@bp.post("/projects/<int:project_id>/migration/uploads")
@doc(
    "Upload an export of the old CRM (multipart `file`: CSV or XLSX) and get its profile: "
    "encoding, delimiter and header row detected, and per column the inferred type, empty and "
    "distinct counts and the formats seen; kept encrypted; the project lead only",
    multipart=True,
    status=201,
    permission=Permission.EDIT,
)
@upload_limit(EXPORT_LIMIT)
def uploads_create(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    file = request.files.get("file")
    if file is None:
        raise ValidationError(
            "Send the export as multipart/form-data with the field file.", {"file": ["Required."]}
        )
    with unit_of_work(db.session):
        row = service.upload(
            db.session, access, file.stream, file.filename or "", from_config(current_app.config)
        )
    return jsonify(upload_json(access, row)), 201


@bp.get("/projects/<int:project_id>/migration/uploads/<int:upload_id>")
@doc(
    "An upload and its profile: every member sees the counts and formats; the values it quotes "
    "(most frequent values, examples, minimum and maximum) only the project lead",
    permission=Permission.VIEW,
)
def uploads_get(project_id: int, upload_id: int):
    access = api_access(project_id)
    return jsonify(upload_json(access, service.get_upload(db.session, project_id, upload_id)))


@bp.patch("/projects/<int:project_id>/migration/uploads/<int:upload_id>")
@doc(
    "Read the upload again with another `encoding`, `delimiter` or `header_row` (counted from "
    "1; null: as detected) and get the new profile; send the `version` you read (409 if read "
    "again since); the project lead only",
    body=ReadAgainForm,
    permission=Permission.EDIT,
)
def uploads_read_again(project_id: int, upload_id: int):
    access = api_access(project_id, Permission.EDIT)
    upload = service.get_upload(db.session, project_id, upload_id)
    form = validated(ReadAgainForm)
    with unit_of_work(db.session):
        service.read_again(
            db.session,
            access,
            upload,
            version=form.version.data,
            encoding=form.encoding.data or None,
            delimiter=form.delimiter.data or None,
            header_row=None if form.header_row.data is None else form.header_row.data - 1,
            key=from_config(current_app.config),
        )
    return jsonify(upload_json(access, upload))


@bp.delete("/projects/<int:project_id>/migration/uploads/<int:upload_id>")
@doc(
    "Purge an upload: its rows and the values its profile quotes are deleted, its counts kept "
    "(409 if purged already); the project lead only",
    status=204,
    permission=Permission.EDIT,
)
def uploads_purge(project_id: int, upload_id: int):
    access = api_access(project_id, Permission.EDIT)
    upload = service.get_upload(db.session, project_id, upload_id)
    with unit_of_work(db.session):
        service.purge(db.session, access, upload)
    return "", 204


# --- the migration plan ----------------------------------------------------------------------


def plan_json(row: MigrationPlan) -> dict[str, Any]:
    """The plan as the API shows it (version 0: never saved)."""
    body: dict[str, Any] = {name: getattr(row, name) for name in plans.PLAN_FIELDS}
    for name in ("backup_taken_on", "backup_verified_on"):
        body[name] = body[name].isoformat() if body[name] else None
    body["entity_order"] = list(row.entity_order or [])
    body["version"] = row.version
    return body


@bp.get("/projects/<int:project_id>/migration/plan")
@doc(
    "The migration plan: bulk or incremental, batch size, the entities in order, the backup "
    "(taken, where, when, verified by a restore) and who has access (version 0: not written)",
    permission=Permission.VIEW,
)
def plan_get(project_id: int):
    api_access(project_id)
    return jsonify(plan_json(plans.plan(db.session, project_id)))


@bp.put("/projects/<int:project_id>/migration/plan")
@doc(
    "Write the migration plan: the fields sent change, the others stay (`entity_order` a list "
    "of texts); send the `version` you read (409 if saved since; 0 before the first save)",
    body=PlanForm,
    permission=Permission.EDIT,
)
def plan_put(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    order = body.get("entity_order")
    if order is not None:
        if not isinstance(order, list) or not all(isinstance(e, str) for e in order):
            raise ValidationError(
                "entity_order is a list of texts.", {"entity_order": ["Must be a list of texts."]}
            )
        body = {**body, "entity_order": "\n".join(order)}
    current = plan_json(plans.plan(db.session, project_id))
    kept = {k: v for k, v in current.items() if k != "version" and v is not None}
    kept["entity_order"] = "\n".join(current["entity_order"])
    form = form_from_json(PlanForm, {**kept, **body})
    with unit_of_work(db.session):
        row = plans.update_plan(db.session, access, form.values(), version=form.version.data)
    return jsonify(plan_json(row))
