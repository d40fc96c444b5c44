"""Verifying a signed specification: a page where a signed-in user uploads a PDF, and
``POST /api/v1/verify``; both answer with :func:`planner.spec.verification.verify_file`. The
file is read, checked and forgotten: nothing of it is stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_login import current_user, login_required

from planner.core.accounts.models import User
from planner.core.api import api_user, doc
from planner.core.errors import NotFound, ValidationError
from planner.extensions import db
from planner.projects.access import load_access
from planner.spec.api import bp as api_bp
from planner.spec.schemas import VerifyForm
from planner.spec.verification import FileVerdict, verify_file

bp = Blueprint("verify", __name__)


def deployment_ca() -> bytes | None:
    """The deployment's certificate authority (SIGNING_CA), or None when none is configured
    or its file cannot be read."""
    path = current_app.config.get("SIGNING_CA")
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError:
        return None


def _may_see(user: User) -> Callable[[int], bool]:
    def may_see(project_id: int) -> bool:
        try:
            load_access(db.session, project_id, user)
        except NotFound:
            return False
        return True

    return may_see


def verdict_for(data: bytes, user: User) -> FileVerdict:
    """The verdict on ``data`` as ``user`` may see it."""
    return verify_file(db.session, data, deployment_ca(), _may_see(user))


@bp.route("/verify", methods=["GET", "POST"])
@login_required
def verify() -> Any:
    """The verification page: upload a PDF, read the verdict. 422 without a file or with an
    empty one; 413 for a file over the upload limit; 400 for an expired form."""
    form = VerifyForm()
    verdict, status = None, 200
    if form.validate_on_submit():
        data = form.file.data.read()
        if data:
            verdict = verdict_for(data, current_user)
        else:
            form.file.errors = [*form.file.errors, "The file is empty."]
            status = 422
    elif form.is_submitted():
        status = 400 if "csrf_token" in form.errors else 422
    return render_template("spec/verify.html", form=form, verdict=verdict), status


@api_bp.post("/verify")
@doc(
    "Verify a signed specification (the PDF as multipart `file`, or as the body): which rollout "
    "and version it is (for a rollout you are a member of), whether it is byte for byte the "
    "sealed PDF stored here, whether each PAdES signature is intact and made by the "
    "deployment's certificate authority, whether anything changed after the last signature, "
    "and whether the JSON it carries is the one the executives signed. 200 with the verdict, "
    "`valid` and the `problems` named; nothing is stored",
    upload=("application/pdf",),
    permission="login",
)
def api_verify() -> Any:
    upload = request.files.get("file")
    data = upload.read() if upload is not None else request.get_data()
    if not data:
        raise ValidationError(
            "Send the PDF to verify: as multipart `file`, or as the request body.",
            {"file": ["Required."]},
        )
    return jsonify(verdict_for(data, api_user()).as_dict())
