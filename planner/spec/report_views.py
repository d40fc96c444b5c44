"""Routes of the specification's PDFs: on the specification's pages (the cached file, or a
page offering to prepare it, and the button that starts it) and in the API (the file, or 202
with the job to poll). ``report.pdf`` is the latest submitted version (409 while there is
none); ``versions/<n>.pdf`` is version n: the sealed PDF once it is signed off and sealed
(stored bytes, served at once), the seal job while it is being sealed (or again after a
failed attempt), and the version's plain PDF before sign-off. The report itself is
:mod:`planner.spec.report`, the seal :mod:`planner.spec.seal`."""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, url_for
from flask_babel import gettext as _

from planner.core import jobs
from planner.core.api import doc
from planner.core.forms import ConfirmForm
from planner.core.permissions import Permission
from planner.core.web import send_download
from planner.extensions import db
from planner.projects import reports
from planner.projects.access import Access, api_access, project_view
from planner.spec import seal, service, signoff
from planner.spec.api import bp as api_bp
from planner.spec.models import SpecVersion
from planner.spec.report import SPEC_REPORT
from planner.spec.views import bp


@bp.get("/report.pdf")
@project_view()
def report_pdf(project_id: int) -> Any:
    """The specification's latest version as PDF if this data's render is ready, else a page
    offering to prepare it (a GET starts nothing). 409 if no version was submitted, 404 for
    a non-member."""
    return reports.cached_or_offer(SPEC_REPORT, g.access, "spec.report_pdf_start")


@bp.post("/report.pdf/start")
@project_view()
def report_pdf_start(project_id: int) -> Any:
    """Prepare the specification's PDF in the background, then follow its progress; 400 for
    an expired form, 409 if no version was submitted, 404 for a non-member."""
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form has expired; reload the page and try again."))
    return reports.start_page(SPEC_REPORT, g.access)


@api_bp.get("/projects/<int:project_id>/spec/report.pdf", endpoint="report_pdf")
@doc(
    "The specification's latest submitted version (PDF/A-3b, with its canonical JSON and a "
    "ReqIF export of its requirements embedded): 200 with the file if this data's render is "
    "ready, otherwise 202 with the report job and a Location to poll (rendered in the "
    "background); 409 if no version was submitted",
    binary=("application/pdf",),
    returns="The specification: cover, contents, sections, requirements, signatures (PDF)",
    also={202: "The report job (JSON): its state and progress; poll the Location header"},
    permission=Permission.VIEW,
)
def api_report_pdf(project_id: int) -> Any:
    """Start (or join) the specification's render: the file at once when it is done, else
    202 with the job. 409 without a submitted version, 404 for a non-member."""
    return reports.start_api(SPEC_REPORT, api_access(project_id))


def _kind(version: SpecVersion) -> jobs.ReportKind:
    """The job that makes the version's PDF: the seal once it is signed off, else its render."""
    return seal.SEAL_JOB if signoff.state(db.session, version).signed_off else SPEC_REPORT


def _stored(version: SpecVersion) -> Any | None:
    row = seal.sealed(db.session, version)
    if row is None:
        return None
    return send_download(row.data, seal.filename(version), "application/pdf", etag=row.sha256)


@bp.get("/versions/<int:number>.pdf")
@project_view()
def version_pdf(project_id: int, number: int) -> Any:
    """Version ``number`` as PDF: the sealed file once signed off and sealed, the file if its
    render is ready, else a page offering to prepare (or seal) it; a GET starts nothing. 404
    for a version that does not exist or a non-member."""
    v = service.get_version(db.session, project_id, number)
    return _stored(v) or reports.cached_or_offer(
        _kind(v), g.access, "spec.version_pdf_start", seal.job_params(v), number=number
    )


@bp.post("/versions/<int:number>.pdf/start")
@project_view()
def version_pdf_start(project_id: int, number: int) -> Any:
    """Prepare version ``number``'s PDF in the background (seal it, if it is signed off and
    its last attempt failed), then follow its progress; the file itself if it is sealed. 400
    for an expired form, 404 for a non-member."""
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form has expired; reload the page and try again."))
    v = service.get_version(db.session, project_id, number)
    if seal.sealed(db.session, v) is not None:
        return redirect(url_for("spec.version_pdf", project_id=project_id, number=number), 303)
    return reports.start_page(_kind(v), g.access, seal.job_params(v))


@api_bp.get("/projects/<int:project_id>/spec/versions/<int:number>.pdf", endpoint="version_pdf")
@doc(
    "Version n as PDF/A-3b: once it is signed off, the sealed file (one PAdES signature per "
    "signer; rendered and signed once, the stored bytes served ever after); before, the "
    "version as it stands in review. 200 with the file when it is ready, otherwise 202 with "
    "the job (sealing, or rendering) and a Location to poll; a failed seal is tried again",
    binary=("application/pdf",),
    returns="The version's PDF, sealed once it is signed off",
    also={202: "The job (JSON): its state and progress; poll the Location header"},
    permission=Permission.VIEW,
)
def api_version_pdf(project_id: int, number: int) -> Any:
    """The sealed file, or start (or join) the job that makes version ``number``'s PDF. 404
    for a version that does not exist or a non-member."""
    access: Access = api_access(project_id)
    v = service.get_version(db.session, project_id, number)
    return _stored(v) or reports.start_api(_kind(v), access, seal.job_params(v))
