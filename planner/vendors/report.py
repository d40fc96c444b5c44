"""The vendor evaluation report (PDF), rendered by the one pipeline in core/reports.py."""

from __future__ import annotations

from sqlalchemy.orm import Session

from planner.core.permissions import Permission
from planner.core.reports import render_pdf
from planner.projects.access import Access
from planner.vendors import scoring, service


def report_context(session: Session, access: Access) -> dict:
    pid = access.project.id
    result = service.evaluation_for(session, access)
    reviewers = service.reviewers(session, pid)
    names = {u.id: u.name for u, _ in reviewers}
    vendors = {v.id: v for v in service.vendors(session, pid)}
    criteria = service.criteria(session, pid)
    ahp_result = None
    judgements = service.pairwise(session, pid)
    tech = [c for c in criteria if not c.is_price]
    if judgements and len(tech) >= 2:
        index = {c.id: i for i, c in enumerate(tech)}
        try:
            ahp_result = scoring.ahp(
                scoring.ahp_matrix_from_pairs(
                    len(tech),
                    {
                        (index[a], index[b]): v
                        for (a, b), v in judgements.items()
                        if a in index and b in index
                    },
                )
            )
        except ValueError:
            ahp_result = None
    ranked = [v for v in result["vendors"] if v["rank"] is not None]
    return {
        "project": access.project,
        "result": result,
        "criteria": criteria,
        "total_weight": sum(c.weight for c in criteria) or 1.0,
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
        "round": service.get_round(session, pid),
        "commercial": access.can(Permission.VIEW_COMMERCIAL),
        "vendors": vendors,
    }


def report_pdf(session: Session, access: Access) -> bytes:
    """The evaluation report as this member may see it (blind scoring applies)."""
    ctx = report_context(session, access)
    return render_pdf(
        "vendor_evaluation.html",
        ctx,
        title=f"Vendor evaluation — {access.project.name}",
        author=access.user.name,
        subject="Weighted scoring matrix of the cross-department review board",
    )
