"""Pages of artifacts: the list per phase, upload, versions, download, delete."""

from __future__ import annotations

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
from flask_babel import ngettext

from planner.artifacts import service
from planner.artifacts.schemas import UploadForm
from planner.core.errors import DomainError
from planner.core.forms import ConfirmForm
from planner.core.pagination import Page, page_args
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import flash_error, send_download, writes
from planner.extensions import db
from planner.projects.access import project_view
from planner.projects.phases import PHASE_KEYS, register_overview_panel, register_phase_panel

bp = Blueprint("artifacts", __name__, url_prefix="/projects/<int:project_id>/artifacts")


@register_phase_panel(
    "artifacts.phase", "artifacts/_phase_panel.html", phases=PHASE_KEYS, order=900
)
def phase_panel(session, access, phase) -> Page:
    """The ten newest files of the phase (two statements)."""
    return service.artifacts_page(session, access.project.id, phase.key, 1, 10)


@register_overview_panel("artifacts.overview", "artifacts/_overview_panel.html", order=900)
def overview_panel(session, access, _phase) -> dict[str, int]:
    """How many files each phase holds (one statement)."""
    return service.phase_counts(session, access.project.id)


def attachment(dl: service.Download) -> Response:
    """A stored artifact version as a download (see :func:`planner.core.web.send_download`)."""
    return send_download(dl.data, dl.filename, dl.content_type, etag=dl.sha256)


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
@writes  # the download is audited
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
        title=ngettext(
            "Delete %(title)s with its %(num)d version?",
            "Delete %(title)s with all %(num)d versions?",
            len(art.versions),
            title=art.title,
        ),
        message=_("The files cannot be recovered. The audit trail keeps a record of them."),
        action=_("Delete artifact"),
        cancel=url_for("artifacts.detail", project_id=project_id, artifact_id=artifact_id),
    )
