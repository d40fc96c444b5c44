"""JSON API of the technical specification."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from planner.core import approvals
from planner.core.api import api_blueprint, doc, validated
from planner.core.errors import PermissionDenied, ValidationError
from planner.core.forms import ApprovalForm
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.extensions import db
from planner.projects.access import api_access
from planner.requirements.schemas import an_id
from planner.spec import seal, service, signoff
from planner.spec.models import Spec, SpecVersion
from planner.spec.schemas import (
    CommentForm,
    DiffQueryForm,
    ResolveForm,
    SectionEditForm,
    SectionForm,
    SignersForm,
)

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


def _status(v: SpecVersion) -> str:
    st = signoff.state(db.session, v)
    return "signed_off" if st.signed_off else "up_for_signoff" if st.requested else "submitted"


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
            **version_json(v, _status(v)),
            "signoff": _state_json(v),
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


# --- review and sign-off --------------------------------------------------------------------


def _board(project_id: int):
    """The caller's access, if they are on the board that reviews; 403 else."""
    access = api_access(project_id)
    if not signoff.may_comment(access):
        raise PermissionDenied("Board members comment on the specification.")
    return access


def comment_json(c) -> dict[str, Any]:
    return {
        "id": c.id,
        "parent_id": c.parent_id,
        "anchor": c.anchor,
        "author": c.author_name,
        "body": c.body,
        "created_at": c.created_at.isoformat(),
        "resolved": c.resolved if c.parent_id is None else None,
    }


@bp.get("/projects/<int:project_id>/spec/versions/<int:number>/comments")
@doc("The version's review comments, threads and replies, oldest first", permission=Permission.VIEW)
def comments_list(project_id: int, number: int):
    api_access(project_id)
    v = service.get_version(db.session, project_id, number)
    return jsonify(
        {
            "open": signoff.open_threads(db.session, v),
            "items": [comment_json(c) for c in signoff.comments(db.session, v)],
        }
    )


@bp.post("/projects/<int:project_id>/spec/versions/<int:number>/comments")
@doc(
    'Comment on the version (board members): `anchor` "" (the whole), "section:N" or a '
    "requirement's key; or reply with `parent_id`",
    body=CommentForm,
    status=201,
    permission="board",
)
def comments_create(project_id: int, number: int):
    access = _board(project_id)
    v = service.get_version(db.session, project_id, number)
    form = validated(CommentForm)
    with unit_of_work(db.session):
        c = signoff.add_comment(
            db.session,
            access,
            v,
            body=form.body.data,
            anchor=form.anchor.data or "",
            parent_id=form.parent_id.data,
        )
    return jsonify(comment_json(c)), 201


@bp.put("/projects/<int:project_id>/spec/versions/<int:number>/comments/<int:comment_id>")
@doc(
    "Resolve (`resolved`: true) or reopen a thread (board members)",
    body=ResolveForm,
    permission="board",
)
def comments_resolve(project_id: int, number: int, comment_id: int):
    access = _board(project_id)
    v = service.get_version(db.session, project_id, number)
    thread = signoff.get_comment(db.session, v, comment_id)
    form = validated(ResolveForm)
    with unit_of_work(db.session):
        signoff.set_resolved(db.session, access, v, thread, bool(form.resolved.data))
    return jsonify(comment_json(thread))


@bp.put("/projects/<int:project_id>/spec/signers")
@doc(
    "Name the executives who sign, in their order (`signers`: user ids), and whether they sign "
    "in that order (`in_order`)",
    body=SignersForm,
    permission=Permission.EDIT,
)
def signers_put(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(SignersForm)
    with unit_of_work(db.session):
        named = signoff.set_signers(
            db.session, access, list(form.signers.data or []), in_order=bool(form.in_order.data)
        )
    return jsonify({"signers": [{"id": u.id, "name": u.name} for u in named]})


def _state_json(v: SpecVersion) -> dict[str, Any]:
    st = signoff.state(db.session, v)
    return {
        "requested": st.requested,
        "signed_off": st.signed_off,
        "superseded": st.superseded,
        "waiting_for": st.waiting_for,
        "signatures": [approvals.approval_json(a) for a in st.signatures],
    }


@bp.post("/projects/<int:project_id>/spec/versions/<int:number>/signoff")
@doc(
    "Put the latest version up for sign-off (409 with open comments or no signers named)",
    status=201,
    permission=Permission.EDIT,
)
def signoff_request(project_id: int, number: int):
    access = api_access(project_id, Permission.EDIT)
    v = service.get_version(db.session, project_id, number)
    with unit_of_work(db.session):
        signoff.put_up_for_signoff(db.session, access, v)
    return jsonify(_state_json(v)), 201


@bp.post("/projects/<int:project_id>/spec/versions/<int:number>/signoffs")
@approvals.limit_attempts
@doc(
    "A named executive signs the version up for sign-off: `meaning`, `conditions` (with "
    "conditions), `password` again, and `digest`, the version's `sha256` you read (409 if it "
    "is no longer the one up for sign-off)",
    body=ApprovalForm,
    status=201,
    permission=Permission.APPROVE,
)
def signoffs_create(project_id: int, number: int):
    access = api_access(project_id, Permission.APPROVE)
    v = service.get_version(db.session, project_id, number)
    form = validated(ApprovalForm)
    with unit_of_work(db.session):
        row = signoff.sign(
            db.session,
            access,
            v,
            shown_digest=form.digest.data,
            meaning=form.meaning.data,
            conditions=form.conditions.data or "",
            password=form.password.data,
        )
    seal.after_signature(db.session, access, v)
    return jsonify(approvals.approval_json(row)), 201
