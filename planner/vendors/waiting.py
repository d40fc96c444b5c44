"""What waits for someone in vendor selection, for their "waiting on you" list (registered
with :func:`planner.projects.phases.register_waiting`)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from planner.core import approvals
from planner.core.permissions import Role
from planner.projects.models import Membership, Project
from planner.projects.phases import Waiting, register_waiting
from planner.vendors import service
from planner.vendors.models import RoundState, ScoringRound, Submission, Vendor, VendorDecision


@register_waiting
def waiting_in_vendors(session, user) -> list[Waiting]:
    """An executive: vendor decisions nobody has approved yet. A reviewer: open scoring
    rounds whose scoresheet they have not submitted. Two statements, whatever the rollouts."""
    decisions = session.execute(
        select(Project.id, Project.name, Vendor.name)
        .join(Membership, Membership.project_id == Project.id)
        .join(VendorDecision, VendorDecision.project_id == Project.id)
        .join(Vendor, Vendor.id == VendorDecision.vendor_id)
        .outerjoin(
            approvals.Approval,
            (approvals.Approval.subject == service.DECISION_SUBJECT)
            & (approvals.Approval.subject_id == VendorDecision.id),
        )
        .where(
            Membership.user_id == user.id,
            Membership.role == Role.EXECUTIVE,
            Project.archived.is_(False),
            approvals.Approval.id.is_(None),
        )
    ).all()
    sheets_due = session.execute(
        select(Project.id, Project.name)
        .join(Membership, Membership.project_id == Project.id)
        .join(ScoringRound, ScoringRound.project_id == Project.id)
        .outerjoin(
            Submission,
            (Submission.project_id == Project.id) & (Submission.reviewer_id == user.id),
        )
        .where(
            Membership.user_id == user.id,
            Membership.role == Role.REVIEWER,
            Project.archived.is_(False),
            ScoringRound.state == RoundState.OPEN,
            Submission.id.is_(None),
        )
    ).all()
    return [
        Waiting(
            pid,
            name,
            _("Approve the vendor decision (%(vendor)s)", vendor=vendor),
            "vendors.decision",
            {"project_id": pid},
        )
        for pid, name, vendor in decisions
    ] + [
        Waiting(
            pid,
            name,
            _("Score the vendors and submit your scoresheet"),
            "vendors.scoresheet",
            {"project_id": pid},
        )
        for pid, name in sheets_due
    ]
