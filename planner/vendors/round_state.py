"""The scoring round's row and the board's revision: every change that can move a result
counts in it.

Part of the vendor-selection rules (see :mod:`planner.vendors.service`).
"""

from __future__ import annotations

from flask import has_request_context
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from planner.core.db import writes_here
from planner.core.errors import Conflict
from planner.projects.access import Access
from planner.vendors.models import (
    BoardRevision,
    RoundState,
    ScoringRound,
)


def get_round(session: Session, project_id: int, *, for_update: bool = False) -> ScoringRound:
    """The project's scoring round, created on first use by a request that writes (or outside
    a request). A reading request (a GET) of a rollout without one gets a round that is not
    open, not stored: reading never writes."""
    stmt = select(ScoringRound).where(ScoringRound.project_id == project_id)
    if for_update:
        stmt = stmt.with_for_update()
    rnd = session.scalar(stmt)
    if rnd is None:
        rnd = ScoringRound(
            project_id=project_id,
            state=RoundState.NOT_OPEN,
            two_envelopes=True,
            technical_closed=False,
            version=1,
        )
        if has_request_context() and not writes_here():
            return rnd
        session.add(rnd)
        session.flush()
    return rnd


def board_revision(session: Session, project_id: int) -> int:
    """The board's revision: the number of changes that can move a result, committed (or made
    in this transaction) so far. It only grows, so a cached evaluation stored with the revision
    its computation read is valid exactly while the revision is still that number."""
    total = session.scalar(
        select(func.coalesce(func.sum(BoardRevision.changes), 0)).where(
            BoardRevision.project_id == project_id
        )
    )
    return int(total or 0)


def recheck_round(session: Session, rnd: ScoringRound) -> None:
    """Read the round's state again, with a shared lock (PostgreSQL ``FOR SHARE``; SQLite's
    writers queue anyway): Conflict if the lead opened or closed the round since this
    transaction read it, and a close waits until the changes already under way are in."""
    now = session.scalar(
        select(ScoringRound.state).where(ScoringRound.id == rnd.id).with_for_update(read=True)
    )
    if now != rnd.state:
        raise Conflict(
            "The scoring round was opened or closed while you worked; nothing was saved. "
            "Reload the page and try again."
        )


def bump_revision(session: Session, access: Access) -> None:
    """A result may have moved: count one change of this writer (the cached evaluation is then
    outdated).

    Each writer counts on a row of their own (:class:`BoardRevision`), outside the round's
    optimistic version: reviewers submitting at the same moment neither refuse nor wait for
    one another. The round's state is checked again first (:func:`recheck_round`).
    """
    project_id = access.project.id
    recheck_round(session, get_round(session, project_id))
    key = {"project_id": project_id, "writer_id": access.user.id if access.user else 0}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(BoardRevision).values(**key, changes=1)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["project_id", "writer_id"],
            set_={"changes": BoardRevision.changes + 1},
        )
    )


def require_round_editable(rnd: ScoringRound) -> None:
    """Conflict if the scoring round is closed: nothing on the board can change then."""
    if rnd.state == RoundState.CLOSED:
        raise Conflict("The scoring round is closed; nothing on the board can change.")
