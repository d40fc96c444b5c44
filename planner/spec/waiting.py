"""What waits for someone in the specification, for their "waiting on you" list (registered
with :func:`planner.projects.phases.register_waiting`)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from planner.core import approvals
from planner.core.approvals import Meaning
from planner.projects.models import Membership, Project
from planner.projects.phases import Waiting, register_waiting
from planner.spec.models import SignoffRequest, SpecVersion
from planner.spec.signoff import SUBJECT


@register_waiting
def specifications_to_sign(session, user) -> list[Waiting]:
    """A named signer: the latest version up for sign-off they have not signed (in order:
    once it is their turn). Two statements, whatever the rollouts."""
    newest = (
        select(SpecVersion.project_id, func.max(SpecVersion.number).label("number"))
        .group_by(SpecVersion.project_id)
        .subquery()
    )
    rows = session.execute(
        select(Project.id, Project.name, SpecVersion.id, SpecVersion.number, SignoffRequest)
        .join(Membership, Membership.project_id == Project.id)
        .join(newest, newest.c.project_id == Project.id)
        .join(
            SpecVersion,
            (SpecVersion.project_id == Project.id) & (SpecVersion.number == newest.c.number),
        )
        .join(SignoffRequest, SignoffRequest.version_id == SpecVersion.id)
        .where(Membership.user_id == user.id, Project.archived.is_(False))
    ).all()
    rows = [r for r in rows if user.id in r[4].signers]
    if not rows:
        return []
    signed: dict[int, set[int]] = {}
    for vid, signer in session.execute(
        select(approvals.Approval.subject_id, approvals.Approval.signer_id).where(
            approvals.Approval.subject == SUBJECT,
            approvals.Approval.subject_id.in_([r[2] for r in rows]),
            approvals.Approval.meaning != Meaning.REJECTED,
        )
    ).all():
        signed.setdefault(vid, set()).add(signer)
    out = []
    for pid, name, vid, number, req in rows:
        done = signed.get(vid, set())
        if user.id in done:
            continue
        waiting = [uid for uid in req.signers if uid not in done]
        if req.in_order and waiting and waiting[0] != user.id:
            continue
        out.append(
            Waiting(
                pid,
                name,
                _("Sign the technical specification, version %(n)d", n=number),
                "spec.version",
                {"project_id": pid, "number": number},
            )
        )
    return out
