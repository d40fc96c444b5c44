"""What waits for someone in the solution design, for their "waiting on you" list (registered
with :func:`planner.projects.phases.register_waiting`)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from planner.core import approvals
from planner.core.permissions import Role
from planner.design.models import DesignVersion, ReviewSubmission
from planner.design.service import SUBJECT
from planner.projects.models import Membership, Project
from planner.projects.phases import Waiting, register_waiting


@register_waiting
def waiting_in_design(session, user) -> list[Waiting]:
    """An executive: the latest version of a design nobody has signed yet. A reviewer: the
    latest version they have not reviewed. Three statements, whatever the rollouts."""
    newest = (
        select(DesignVersion.project_id, func.max(DesignVersion.number).label("number"))
        .group_by(DesignVersion.project_id)
        .subquery()
    )
    rows = session.execute(
        select(Project.id, Project.name, Membership.role, DesignVersion.id, DesignVersion.number)
        .join(Membership, Membership.project_id == Project.id)
        .join(newest, newest.c.project_id == Project.id)
        .join(
            DesignVersion,
            (DesignVersion.project_id == Project.id) & (DesignVersion.number == newest.c.number),
        )
        .where(
            Membership.user_id == user.id,
            Membership.role.in_([Role.EXECUTIVE, Role.REVIEWER]),
            Project.archived.is_(False),
        )
    ).all()
    if not rows:
        return []
    ids = [r[3] for r in rows]
    signed = set(
        session.scalars(
            select(approvals.Approval.subject_id).where(
                approvals.Approval.subject == SUBJECT, approvals.Approval.subject_id.in_(ids)
            )
        )
    )
    reviewed = set(
        session.scalars(
            select(ReviewSubmission.version_id).where(
                ReviewSubmission.version_id.in_(ids), ReviewSubmission.reviewer_id == user.id
            )
        )
    )
    out = []
    for pid, name, role, vid, number in rows:
        if role == Role.EXECUTIVE and vid not in signed:
            text = _("Approve or reject the solution design, version %(n)d", n=number)
        elif role == Role.REVIEWER and vid not in reviewed:
            text = _("Review the solution design, version %(n)d", n=number)
        else:
            continue
        out.append(
            Waiting(pid, name, text, "design.version", {"project_id": pid, "number": number})
        )
    return out
