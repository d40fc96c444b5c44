"""Routes of the specification's PDF report: on the specification's pages (the cached file, or a
page offering to prepare it, and the button that starts it) and in the API (the file, or 202
with the job to poll). The report itself is :mod:`planner.spec.report`; it shows the latest
submitted version (409 while there is none)."""

from __future__ import annotations

from typing import Any

from flask import abort, g
from flask_babel import gettext as _

from planner.core.api import doc
from planner.core.forms import ConfirmForm
from planner.core.permissions import Permission
from planner.projects import reports
from planner.projects.access import api_access, project_view
from planner.spec.api import bp as api_bp
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
