"""JSON API of artifacts: list, multipart upload, download."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from werkzeug.datastructures import CombinedMultiDict

from planner.artifacts import service
from planner.artifacts.models import Artifact
from planner.artifacts.schemas import UploadForm, VersionUploadForm
from planner.core.api import api_blueprint, doc, paged, paging
from planner.core.db import MAX_INT
from planner.core.errors import ValidationError
from planner.core.forms import form_errors
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import send_download, writes
from planner.extensions import db
from planner.projects.access import api_access
from planner.projects.phases import PHASE_KEYS

bp = api_blueprint("artifacts_api", __name__)


def artifact_json(a: Artifact) -> dict[str, Any]:
    return {
        "id": a.id,
        "title": a.title,
        "phase": a.phase_key,
        "latest_version": a.latest_version,
        "versions": [
            {
                "number": v.number,
                "filename": v.filename,
                "content_type": v.content_type,
                "size": v.size,
                "sha256": v.sha256,
                "uploaded_by": v.uploaded_by.username if v.uploaded_by else None,
                "uploaded_at": v.uploaded_at.isoformat(),
            }
            for v in a.versions
        ],
    }


@bp.get("/projects/<int:project_id>/artifacts")
@doc(
    "The rollout's artifacts with their versions; filter: phase",
    paginated=True,
    permission=Permission.VIEW,
)
def artifacts_list(project_id: int):
    api_access(project_id)
    phase = request.args.get("phase") or None
    if phase is not None and phase not in PHASE_KEYS:
        raise ValidationError(f"There is no phase {phase!r}.", {"phase": ["Unknown phase."]})
    page, per_page = paging()
    return paged(
        service.artifacts_page(db.session, project_id, phase, page, per_page), artifact_json
    )


@bp.post("/projects/<int:project_id>/artifacts")
@doc(
    "Upload a file (multipart: file, title, phase); the same title adds a version",
    body=UploadForm,
    multipart=True,
    status=201,
    permission=Permission.UPLOAD,
)
def artifacts_upload(project_id: int):
    access = api_access(project_id, Permission.UPLOAD)
    if not request.mimetype.startswith("multipart/form-data"):
        raise ValidationError("Send the file as multipart/form-data with file, title and phase.")
    form = UploadForm(
        formdata=CombinedMultiDict([request.files, request.form]), meta={"csrf": False}
    )
    if not form.validate():
        errors = form_errors(form)
        raise ValidationError("The upload is incomplete or invalid: " + ", ".join(errors), errors)
    f = form.file.data
    with unit_of_work(db.session):
        version = service.upload(
            db.session,
            access,
            title=form.title.data,
            phase_key=form.phase.data,
            filename=f.filename or "file",
            data=f.read(),
            max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
        )
    art = service.get_artifact(db.session, project_id, version.artifact_id)
    return jsonify(artifact_json(art)), 201


@bp.get("/projects/<int:project_id>/artifacts/<int:artifact_id>")
@doc(
    "Download the latest version of an artifact (as an attachment)",
    binary=True,
    permission=Permission.VIEW,
)
@writes  # the download is audited
def artifacts_download(project_id: int, artifact_id: int):
    access = api_access(project_id)
    number = request.args.get("version", type=int)
    if "version" in request.args and not (number is not None and 1 <= number <= MAX_INT):
        raise ValidationError(
            "version must be a version number (1, 2, ...).", {"version": ["Not a version number."]}
        )
    with unit_of_work(db.session):
        dl = service.download(db.session, access, artifact_id, number)
    return send_download(dl.data, dl.filename, dl.content_type, etag=dl.sha256)


@bp.post("/projects/<int:project_id>/artifacts/<int:artifact_id>/versions")
@doc(
    "Upload a new version of an artifact (multipart: file)",
    body=VersionUploadForm,
    multipart=True,
    status=201,
    permission=Permission.UPLOAD,
)
def artifacts_new_version(project_id: int, artifact_id: int):
    access = api_access(project_id, Permission.UPLOAD)
    art = service.get_artifact(db.session, project_id, artifact_id)
    if not request.mimetype.startswith("multipart/form-data"):
        raise ValidationError("Send the file as multipart/form-data with the field file.")
    form = VersionUploadForm(
        formdata=CombinedMultiDict([request.files, request.form]), meta={"csrf": False}
    )
    if not form.validate():
        errors = form_errors(form)
        raise ValidationError("The upload is incomplete: " + ", ".join(errors), errors)
    f = form.file.data
    with unit_of_work(db.session):
        service.upload(
            db.session,
            access,
            title=art.title,
            phase_key=art.phase_key,
            filename=f.filename or "file",
            data=f.read(),
            max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
        )
    db.session.expire_all()
    return jsonify(artifact_json(service.get_artifact(db.session, project_id, artifact_id))), 201


@bp.delete("/projects/<int:project_id>/artifacts/<int:artifact_id>")
@doc("Delete an artifact with all its versions", status=204, permission=Permission.EDIT)
def artifacts_delete(project_id: int, artifact_id: int):
    access = api_access(project_id, Permission.EDIT)
    with unit_of_work(db.session):
        service.delete(db.session, access, artifact_id)
    return "", 204
