"""What waits for one person across their rollouts: the lists every area registers
(:func:`planner.projects.phases.register_waiting`), and the rollout's own: gates put up for a
decision, for the members who decide them."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.core.accounts.models import User
from planner.core.permissions import GRANTS, Permission
from planner.projects.models import Membership, Phase, Project
from planner.projects.phases import PHASE_BY_KEY, PhaseStatus, Waiting, register_waiting
from planner.projects.phases import waiting_providers as _providers


def waiting_for(session: Session, user: User) -> list[Waiting]:
    """Everything that waits for ``user``, rollout by rollout (archived rollouts left out)."""
    items = [item for provider in _providers() for item in provider(session, user)]
    return sorted(items, key=lambda w: (w.project.casefold(), w.project_id))


@register_waiting
def gates_to_decide(session: Session, user: User) -> list[Waiting]:
    """Phases put up for their gate decision, for members whose role decides gates."""
    deciders = [role for role, grants in GRANTS.items() if Permission.DECIDE_GATE in grants]
    rows = session.execute(
        select(Project.id, Project.name, Phase.key)
        .join(Membership, Membership.project_id == Project.id)
        .join(Phase, Phase.project_id == Project.id)
        .where(
            Membership.user_id == user.id,
            Membership.role.in_(deciders),
            Project.archived.is_(False),
            Phase.status == PhaseStatus.AWAITING_GATE,
        )
        .order_by(Project.id, Phase.position)
    ).all()
    return [
        Waiting(
            pid,
            name,
            _("Decide the gate of “%(phase)s”", phase=PHASE_BY_KEY[key].title),
            "projects.phase",
            {"project_id": pid, "key": key},
        )
        for pid, name, key in rows
    ]
