"""JSON API of the technical specification."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from planner.core.api import api_blueprint, doc, validated
from planner.core.errors import ValidationError
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.extensions import db
from planner.projects.access import api_access
from planner.requirements.schemas import an_id
from planner.spec import service
from planner.spec.models import Spec, SpecVersion
from planner.spec.schemas import DiffQueryForm, SectionEditForm, SectionForm

bp = api_blueprint("spec_api", __name__)


def spec_json(spec: Spec, draft: dict[str, Any]) -> dict[str, Any]:
    return {
        "started": spec.id is not None,
        "sections": [
            {
                "id": s.id,
                "key": s.key,
                "title": s.title,
                "body": s.body,
                "version": s.version,
                "drawn": d["drawn"],
            }
            for s, d in zip(spec.sections, draft["sections"], strict=True)
        ],
        "requirements": draft["requirements"],
    }


def version_json(v: SpecVersion, status: str) -> dict[str, Any]:
    return {
        "number": v.number,
        "submitted_by": v.submitted_by_name,
        "submitted_at": v.submitted_at.isoformat(),
        "sha256": v.digest,
        "status": status,
        "content": v.content,
    }


@bp.get("/projects/<int:project_id>/spec")
@doc(
    "The working draft: its sections, what each draws from the other phases, and the accepted "
    "requirements a version would freeze",
    permission=Permission.VIEW,
)
def spec_get(project_id: int):
    access = api_access(project_id)
    return jsonify(
        spec_json(service.get_spec(db.session, access), service.draft_content(db.session, access))
    )


def _draft(access) -> Any:
    return jsonify(
        spec_json(service.get_spec(db.session, access), service.draft_content(db.session, access))
    )


@bp.post("/projects/<int:project_id>/spec/sections")
@doc(
    "Add a section of the lead's own at the end",
    body=SectionForm,
    status=201,
    permission=Permission.EDIT,
)
def sections_create(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(SectionForm)
    with unit_of_work(db.session):
        service.add_section(db.session, access, title=form.title.data, body=form.body.data or "")
    return _draft(access), 201


@bp.patch("/projects/<int:project_id>/spec/sections/<int:section_id>")
@doc(
    "Change a section's title and text; send the `version` you read (409 if saved since)",
    body=SectionEditForm,
    permission=Permission.EDIT,
)
def sections_update(project_id: int, section_id: int):
    access = api_access(project_id, Permission.EDIT)
    section = service.get_section(db.session, access, section_id)
    form = validated(SectionEditForm)
    with unit_of_work(db.session):
        service.update_section(
            db.session,
            access,
            section,
            version=form.version.data,
            title=form.title.data,
            body=form.body.data or "",
        )
    return _draft(access)


@bp.post("/projects/<int:project_id>/spec/start")
@doc(
    "Make the draft with the standard sections (their ids to edit them)",
    status=201,
    permission=Permission.EDIT,
)
def spec_start(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    with unit_of_work(db.session):
        service.start(db.session, access)
    return _draft(access), 201


@bp.get("/projects/<int:project_id>/spec/versions")
@doc("The versions submitted for review, newest first", permission=Permission.VIEW)
def versions_list(project_id: int):
    api_access(project_id)
    return jsonify(
        {"items": [version_json(v, "submitted") for v in service.versions(db.session, project_id)]}
    )


@bp.post("/projects/<int:project_id>/spec/versions")
@doc(
    "Submit the draft for review as the next version (frozen, canonical JSON and its SHA-256)",
    status=201,
    permission=Permission.EDIT,
)
def versions_create(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    with unit_of_work(db.session):
        v = service.submit_version(db.session, access)
    return jsonify(version_json(v, "submitted")), 201


@bp.get("/projects/<int:project_id>/spec/versions/<int:number>")
@doc("One version: its content, SHA-256 and status", permission=Permission.VIEW)
def versions_get(project_id: int, number: int):
    api_access(project_id)
    v = service.get_version(db.session, project_id, number)
    return jsonify(
        {
            **version_json(v, "submitted"),
            "revised_since": [
                {"key": k, "revision": a, "now": b}
                for k, a, b in service.affected_by_later_revisions(db.session, project_id, v)
            ],
        }
    )


@bp.get("/projects/<int:project_id>/spec/versions/<int:number>/diff")
@doc(
    "What differs between this version and `against` (sections and requirements added, "
    "removed, changed, with the changed words)",
    query=DiffQueryForm,
    permission=Permission.VIEW,
)
def versions_diff(project_id: int, number: int):
    api_access(project_id)
    raw = request.args.get("against")
    try:
        against = an_id(raw) if raw is not None else max(1, number - 1)
    except ValueError:
        raise ValidationError(
            "against: the number of a version.", {"against": ["A version's number."]}
        ) from None
    a, b, changes = service.compare(db.session, project_id, against, number)
    return jsonify(
        {"before": a.number, "after": b.number, "changes": [c.as_dict() for c in changes]}
    )
