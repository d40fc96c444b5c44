"""The scoring round's row and its revision: every change that can move a result bumps it.

Part of the vendor-selection rules (see :mod:`planner.vendors.service`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.core.errors import Conflict
from planner.vendors.models import (
    RoundState,
    ScoringRound,
)


def get_round(session: Session, project_id: int, *, for_update: bool = False) -> ScoringRound:
    """The project's scoring round, created on first use."""
    stmt = select(ScoringRound).where(ScoringRound.project_id == project_id)
    if for_update:
        stmt = stmt.with_for_update()
    rnd = session.scalar(stmt)
    if rnd is None:
        rnd = ScoringRound(project_id=project_id)
        session.add(rnd)
        session.flush()
    return rnd


def bump_revision(session: Session, project_id: int) -> None:
    """A result may have moved: invalidate the cached evaluation."""
    rnd = get_round(session, project_id)
    rnd.revision = (rnd.revision or 0) + 1


def require_round_editable(rnd: ScoringRound) -> None:
    """Conflict if the scoring round is closed: nothing on the board can change then."""
    if rnd.state == RoundState.CLOSED:
        raise Conflict("The scoring round is closed; nothing on the board can change.")
