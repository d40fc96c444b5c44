"""Routes of the migration report's PDF: on the migration pages (the cached file, or a page
offering to prepare it, and the button that starts it) and in the API (the file, or 202 with
the job to poll). The report itself is :mod:`planner.migration.report`."""

from __future__ import annotations

from typing import Any

from flask import abort, g
from flask_babel import gettext as _

from planner.core.api import doc
from planner.core.forms import ConfirmForm
from planner.core.permissions import Permission
from planner.migration.api import bp as api_bp
from planner.migration.report import MIGRATION_REPORT
from planner.migration.views import bp
from planner.projects import reports
from planner.projects.access import api_access, project_view


@bp.get("/report.pdf")
@project_view()
def report_pdf(project_id: int) -> Any:
    """The migration report if this data's render is ready, else a page offering to prepare
    it (a GET starts nothing); 404 for a non-member."""
    return reports.cached_or_offer(MIGRATION_REPORT, g.access, "migration.report_pdf_start")


@bp.post("/report.pdf/start")
@project_view()
def report_pdf_start(project_id: int) -> Any:
    """Prepare the migration report in the background, then follow its progress; 400 for an
    expired form, 404 for a non-member."""
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form has expired; reload the page and try again."))
    return reports.start_page(MIGRATION_REPORT, g.access)


@api_bp.get("/projects/<int:project_id>/migration/report.pdf", endpoint="report_pdf")
@doc(
    "The migration report (PDF): the exports' profiles with charts, the recipes (embedded as "
    "JSON), the pilot batches and their reconciliation with every explanation, the plan and "
    "the gate; no customer value. 200 with the file if this data's render is ready, otherwise "
    "202 with the report job and a Location to poll",
    binary=("application/pdf",),
    returns="The data migration report (PDF)",
    also={202: "The report job (JSON): its state and progress; poll the Location header"},
    permission=Permission.VIEW,
)
def api_report_pdf(project_id: int) -> Any:
    """Start (or join) the migration report's render: the file at once when it is done, else
    202 with the job. 404 for a non-member."""
    return reports.start_api(MIGRATION_REPORT, api_access(project_id))
