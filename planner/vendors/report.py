"""The vendor evaluation report (PDF), rendered by the one pipeline in core/reports.py."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from planner.core import audit, jobs
from planner.core.db import writing
from planner.core.permissions import Permission
from planner.core.reports import render_pdf
from planner.projects.access import Access, requester_access
from planner.vendors import scoring, service


def report_context(session: Session, access: Access) -> dict:
    pid = access.project.id
    result = service.evaluation_for(session, access)
    reviewers = service.reviewers(session, pid)
    names = {u.id: u.name for u, _ in reviewers}
    vendors = {v.id: v for v in service.vendors(session, pid)}
    criteria = service.criteria(session, pid)
    ahp_result = service.stored_ahp(session, pid)
    ranked = [v for v in result["vendors"] if v["rank"] is not None]
    return {
        "project": access.project,
        "result": result,
        "criteria": criteria,
        "shares": scoring.weight_shares({c.id: c.weight for c in criteria}),
        "reviewers": reviewers,
        "reviewer_names": names,
        "vendor_names": {vid: v.name for vid, v in vendors.items()},
        "declarations": service.declarations(session, pid),
        "submitted": service.submitted(session, pid),
        "recusals": service.recusals(session, pid),
        "consensus": {
            (c.vendor_id, c.criterion_id): c for c in service.consensus_rows(session, pid)
        },
        "decision": service.decision(session, pid),
        "leader": ranked[0] if ranked else None,
        "ahp": ahp_result,
        "random_index_source": scoring.RANDOM_INDEX_SOURCE,
        "round": service.get_round(session, pid),
        "commercial": service.prices_visible(access),
        # Why a reviewer declared a conflict is the lead's to read (as on the board page).
        "show_reasons": access.can(Permission.EDIT),
        "vendors": vendors,
    }


def report_pdf(session: Session, access: Access, progress: jobs.Progress | None = None) -> bytes:
    """The evaluation report as this member may see it (blind scoring applies)."""
    ctx = report_context(session, access)
    return render_pdf(
        "vendor_evaluation.html",
        ctx,
        title=f"Vendor evaluation — {access.project.name}",
        author=access.user.name,
        subject="Weighted scoring matrix of the cross-department review board",
        progress=progress,
    )


def _audience(session: Session, access: Access) -> tuple[str, str]:
    """Who may have the report (blind scoring, as for the results) and what they see of it:
    with or without prices, all criteria or the technical envelope only."""
    service.require_results(session, access)
    rnd = service.get_round(session, access.project.id)
    audience = service.envelopes(access, rnd).audience
    if access.can(Permission.EDIT):
        audience += ":conflict-reasons"
    # the data, and the format of the results computed from it: a report rendered from
    # results an earlier format computed is rendered again (see RESULTS_FORMAT)
    revision = f"{audit.last_change(session, access.project.id)}/{service.RESULTS_FORMAT}"
    return revision, audience


def _render(session: Session, job: jobs.ReportJob, progress: jobs.Progress) -> jobs.Rendered:
    progress(15, "computing the evaluation")
    # The results cache is refreshed in a short writing transaction of its own; the render
    # itself then only reads (a long read-then-write transaction would fail on SQLite).
    with writing(), Session(session.get_bind()) as warm:
        service.evaluation_for(warm, requester_access(warm, job))
        warm.commit()
    session.rollback()  # read from here on with a snapshot that has the cache
    data = report_pdf(session, requester_access(session, job), progress)
    return jobs.Rendered(data, f"vendor-evaluation-{job.project_id}.pdf")


EVALUATION_REPORT = jobs.register_report(
    jobs.ReportKind(
        name="vendors.evaluation",
        title=_l("Vendor evaluation report"),
        audience=_audience,
        render=_render,
    )
)
