"""Routes of the design review's PDF report: on the design's pages (the cached file, or a page
offering to prepare it, and the button that starts it) and in the API (the file, or 202 with
the job to poll). The report itself is :mod:`planner.design.report`; it is blind as the
board's scores are (403 before a reviewer submitted, or for a viewer before the board has)."""

from __future__ import annotations

from typing import Any

from flask import abort, g
from flask_babel import gettext as _

from planner.core.api import doc
from planner.core.forms import ConfirmForm
from planner.design.api import bp as api_bp
from planner.design.report import REVIEW_REPORT
from planner.design.views import bp
from planner.projects import reports
from planner.projects.access import api_access, project_view


@bp.get("/review.pdf")
@project_view()
def review_pdf(project_id: int) -> Any:
    """The design review of the latest version if this data's render is ready, else a page
    offering to prepare it (a GET starts nothing). 403 for a member who may not see the
    board's scores yet, 409 if no version was submitted, 404 for a non-member."""
    return reports.cached_or_offer(REVIEW_REPORT, g.access, "design.review_pdf_start")


@bp.post("/review.pdf/start")
@project_view()
def review_pdf_start(project_id: int) -> Any:
    """Prepare the design review in the background, then follow its progress; 400 for an
    expired form, 403 and 409 as for the GET, 404 for a non-member."""
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form has expired; reload the page and try again."))
    return reports.start_page(REVIEW_REPORT, g.access)


@api_bp.get("/projects/<int:project_id>/design/review.pdf", endpoint="review_pdf")
@doc(
    "The design review of the latest submitted version (PDF): 200 with the file if this "
    "data's render is ready, otherwise 202 with the report job and a Location to poll "
    "(rendered in the background); blind: a reviewer gets it once they submitted their "
    "review, a viewer once the whole board has; 409 if no version was submitted",
    binary=("application/pdf",),
    returns="The design, its coverage, the board's review and the executives' signatures (PDF)",
    also={202: "The report job (JSON): its state and progress; poll the Location header"},
    permission="blind",
)
def api_review_pdf(project_id: int) -> Any:
    """Start (or join) the design review's render: the file at once when it is done, else
    202 with the job. 403 for a member who may not see the scores yet, 409 without a
    submitted version, 404 for a non-member."""
    return reports.start_api(REVIEW_REPORT, api_access(project_id))
