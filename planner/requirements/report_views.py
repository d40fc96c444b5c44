"""Routes of the register's PDF report: on the register's pages (the cached file, or a page
offering to prepare it, and the button that starts it) and in the API (the file, or 202 with
the job to poll). The report itself is :mod:`planner.requirements.report`."""

from __future__ import annotations

from typing import Any

from flask import abort, g
from flask_babel import gettext as _

from planner.core.api import doc
from planner.core.forms import ConfirmForm
from planner.core.permissions import Permission
from planner.projects import reports
from planner.projects.access import api_access, project_view
from planner.requirements.api import bp as api_bp
from planner.requirements.report import REGISTER_REPORT
from planner.requirements.views import bp


@bp.get("/report.pdf")
@project_view()
def report_pdf(project_id: int) -> Any:
    """The register's report if this data's render is ready, else a page offering to prepare
    it (a GET starts nothing). 404 for a non-member."""
    return reports.cached_or_offer(REGISTER_REPORT, g.access, "requirements.report_pdf_start")


@bp.post("/report.pdf/start")
@project_view()
def report_pdf_start(project_id: int) -> Any:
    """Prepare the register's report in the background, then follow its progress; 400 for an
    expired form, 404 for a non-member."""
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form has expired; reload the page and try again."))
    return reports.start_page(REGISTER_REPORT, g.access)


@api_bp.get("/projects/<int:project_id>/requirements/report.pdf", endpoint="report_pdf")
@doc(
    "The requirements register (PDF): 200 with the file if this data's render is ready, "
    "otherwise 202 with the report job and a Location to poll (rendered in the background)",
    binary=("application/pdf",),
    returns="The requirements register by module, with traces to goals and sources (PDF)",
    also={202: "The report job (JSON): its state and progress; poll the Location header"},
    permission=Permission.VIEW,
)
def api_report_pdf(project_id: int) -> Any:
    """Start (or join) the register's render: the file at once when it is done, else 202
    with the job. 404 for a non-member."""
    return reports.start_api(REGISTER_REPORT, api_access(project_id))
