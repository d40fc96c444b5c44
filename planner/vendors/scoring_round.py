"""The scoring round: opened, technical scoring closed (two envelopes), closed, reopened.

Part of the vendor-selection rules (see :mod:`planner.vendors.service`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.core import audit
from planner.core.db import utcnow
from planner.core.errors import Conflict, ValidationError
from planner.core.permissions import Permission
from planner.projects import service as phases
from planner.projects.access import Access
from planner.projects.phases import PhaseStatus
from planner.vendors.catalogue import criteria, vendors
from planner.vendors.models import (
    RoundState,
    ScoringRound,
    VendorDecision,
)
from planner.vendors.round_state import get_round


def set_round_state(
    session: Session, access: Access, *, action: str, two_envelopes: bool | None = None
) -> ScoringRound:
    """``open``, ``close_technical`` (reveal prices), ``close`` or ``reopen`` the round (needs
    EDIT). Opening it starts the vendors phase if it has not started: the phase's status
    follows what happens in it."""
    access.require(Permission.EDIT)
    rnd = get_round(session, access.project.id)
    before = {"state": rnd.state.value, "technical_closed": rnd.technical_closed}
    if action == "open":
        if rnd.state == RoundState.OPEN:
            raise Conflict("The scoring round is open already.")
        if rnd.state == RoundState.CLOSED:
            raise Conflict("The round is closed; reopen it instead.")
        if not vendors(session, access.project.id) or not criteria(session, access.project.id):
            raise Conflict("List the vendors and the criteria before opening the round.")
        if two_envelopes is not None:
            rnd.two_envelopes = two_envelopes
        rnd.state, rnd.opened_at = RoundState.OPEN, utcnow()
        phase = phases.get_phase(session, access.project.id, "vendors")
        if phase.status == PhaseStatus.NOT_STARTED:
            phases.start_phase(session, access, phase)
    elif action == "close_technical":
        if rnd.state != RoundState.OPEN or not rnd.two_envelopes or rnd.technical_closed:
            raise Conflict(
                "Technical scoring can be closed only once, in an open two-envelope round."
            )
        rnd.technical_closed = True
    elif action == "close":
        if rnd.state != RoundState.OPEN:
            raise Conflict("Only an open round can be closed.")
        rnd.state, rnd.closed_at, rnd.technical_closed = RoundState.CLOSED, utcnow(), True
    elif action == "reopen":
        if rnd.state != RoundState.CLOSED:
            raise Conflict("Only a closed round can be reopened.")
        if session.scalar(
            select(VendorDecision.id).where(VendorDecision.project_id == access.project.id)
        ):
            raise Conflict("A vendor has been chosen; the round stays closed.")
        rnd.state = RoundState.OPEN
    else:
        raise ValidationError(f"Unknown round action {action!r}.")
    rnd.updated_by_id = access.user.id
    audit.log(
        session,
        access,
        f"round.{action}",
        rnd,
        f"scoring round: {action}",
        before=before,
        after={"state": rnd.state.value, "technical_closed": rnd.technical_closed},
    )
    return rnd


@dataclass(frozen=True)
class Envelopes:
    """What one member may see of the vendors' offers: the two-envelope rule, decided once
    for the board page, the API, the results and the report.

    ``prices``: quoted costs and contract terms (the lead and executives, whatever the round's
    state). ``technical_only``: the results leave the price criteria out, because the round
    keeps two envelopes, its technical scoring is still open, and this member may not see
    prices. ``audience`` names that view for caches of rendered results.
    """

    prices: bool
    technical_only: bool

    @property
    def audience(self) -> str:
        return ("prices" if self.prices else "no-prices") + (
            ":technical" if self.technical_only else ""
        )


def envelopes(access: Access, rnd: ScoringRound) -> Envelopes:
    """The two-envelope rule for this member and round (see :class:`Envelopes`)."""
    prices = prices_visible(access)
    return Envelopes(prices=prices, technical_only=rnd.prices_hidden and not prices)


def prices_visible(access: Access) -> bool:
    """Quoted prices and contract terms: lead and executives only."""
    return access.can(Permission.VIEW_COMMERCIAL)
