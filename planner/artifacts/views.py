"""Pages of artifacts: the list per phase, upload, versions, download, delete."""

from __future__ import annotations

from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from planner.artifacts import service
from planner.artifacts.schemas import UploadForm
from planner.core.errors import DomainError
from planner.core.forms import ConfirmForm
from planner.core.pagination import page_args
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import flash_error, project_view
from planner.extensions import db
from planner.projects.phases import PHASE_KEYS

bp = Blueprint("artifacts", __name__, url_prefix="/projects/<int:project_id>/artifacts")


def attachment(dl: service.Download) -> Response:
    """The file as a download, never rendered inline by the browser."""
    resp = Response(dl.data, mimetype=dl.content_type)
    ascii_name = dl.filename.encode("ascii", "replace").decode().replace("?", "_")
    resp.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(dl.filename)}"
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["ETag"] = f'"{dl.sha256}"'
    return resp


@bp.route("", methods=["GET", "POST"])
@project_view()
def index(project_id: int):
    phase = request.args.get("phase") or None
    if phase is not None and phase not in PHASE_KEYS:
        phase = None
    form = UploadForm(phase=phase or "goals")
    status = 200
    if request.method == "POST":
        g.access.require(Permission.UPLOAD)
        if form.validate_on_submit():
            f = form.file.data
            try:
                with unit_of_work(db.session):
                    version = service.upload(
                        db.session,
                        g.access,
                        title=form.title.data,
                        phase_key=form.phase.data,
                        filename=f.filename or "file",
                        data=f.read(),
                        max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
                    )
                flash(_("Uploaded as version %(n)d.", n=version.number), "success")
                return redirect(
                    url_for("artifacts.index", project_id=project_id, phase=form.phase.data)
                )
            except DomainError as exc:
                flash_error(exc, form)
                status = exc.status
        else:
            status = 422
    page, per_page = page_args(request.args, current_app.config["PER_PAGE"])
    items = service.artifacts_page(db.session, project_id, phase, page, per_page)
    return render_template(
        "artifacts/index.html",
        form=form,
        items=items,
        phase=phase,
        counts=service.phase_counts(db.session, project_id),
    ), status


@bp.get("/<int:artifact_id>")
@project_view()
def detail(project_id: int, artifact_id: int):
    art = service.get_artifact(db.session, project_id, artifact_id)
    return render_template("artifacts/detail.html", art=art, confirm=ConfirmForm(formdata=None))


@bp.get("/<int:artifact_id>/download")
@bp.get("/<int:artifact_id>/versions/<int:number>/download")
@project_view()
def download(project_id: int, artifact_id: int, number: int | None = None):
    with unit_of_work(db.session):
        dl = service.download(db.session, g.access, artifact_id, number)
    return attachment(dl)


@bp.route("/<int:artifact_id>/delete", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def delete(project_id: int, artifact_id: int):
    art = service.get_artifact(db.session, project_id, artifact_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with unit_of_work(db.session):
            service.delete(db.session, g.access, artifact_id)
        flash(_("Artifact deleted."), "success")
        return redirect(url_for("artifacts.index", project_id=project_id))
    return render_template(
        "confirm.html",
        form=form,
        title=_(
            "Delete %(title)s with all %(n)d version(s)?", title=art.title, n=len(art.versions)
        ),
        message=_("The files cannot be recovered. The audit trail keeps a record of them."),
        action=_("Delete artifact"),
        cancel=url_for("artifacts.detail", project_id=project_id, artifact_id=artifact_id),
    )
