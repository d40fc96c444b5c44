"""Consensus, the decision and the contract checklist; the board at a glance; the gate.

Part of the vendor-selection rules (see :mod:`planner.vendors.service`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.core import approvals, audit
from planner.core.db import utcnow
from planner.core.errors import Conflict, ValidationError
from planner.core.permissions import Permission
from planner.core.versioning import ensure_version
from planner.projects.access import Access
from planner.projects.models import Project
from planner.projects.phases import Criterion as GateCriterion
from planner.projects.phases import register_criteria
from planner.vendors.catalogue import get_criterion, get_vendor
from planner.vendors.models import (
    Consensus,
    Criterion,
    RoundState,
    Vendor,
    VendorDecision,
)
from planner.vendors.results import evaluation
from planner.vendors.review import reviewers, submitted
from planner.vendors.round_state import bump_revision, get_round, require_round_editable
from planner.vendors.schemas import (
    RATIONALE_MAX,
)


def set_consensus(
    session: Session,
    access: Access,
    *,
    vendor_id: int,
    criterion_id: int,
    score: float,
    rationale: str,
) -> Consensus:
    """Set the board's consensus score (0 to 5) of a vendor on a criterion, with its rationale
    (needs EDIT); Conflict while the round is closed, NotFound for another rollout's vendor or
    criterion, ValidationError for a score out of range or a missing or too long rationale."""
    access.require(Permission.EDIT)
    require_round_editable(get_round(session, access.project.id))
    vendor = get_vendor(session, access.project.id, vendor_id)
    crit = get_criterion(session, access.project.id, criterion_id)
    if not math.isfinite(score) or not 0 <= score <= 5:
        raise ValidationError("A consensus score is between 0 and 5.", {"score": ["0 to 5."]})
    if len(rationale) > RATIONALE_MAX:
        raise ValidationError(
            f"The rationale is longer than {RATIONALE_MAX} characters.",
            {"rationale": [f"At most {RATIONALE_MAX} characters."]},
        )
    if not rationale.strip():
        raise ValidationError(
            "Record the rationale of the consensus.", {"rationale": ["Required."]}
        )
    row = session.scalar(
        select(Consensus).where(
            Consensus.vendor_id == vendor_id, Consensus.criterion_id == criterion_id
        )
    )
    before = {"score": row.score, "rationale": row.rationale} if row else None
    if row is None:
        row = Consensus(
            project_id=access.project.id,
            vendor_id=vendor_id,
            criterion_id=criterion_id,
            score=score,
            rationale=rationale.strip(),
            decided_by_id=access.user.id,
        )
        session.add(row)
    else:
        row.score, row.rationale = score, rationale.strip()
        row.decided_by_id, row.decided_at = access.user.id, utcnow()
    session.flush()
    bump_revision(session, access)
    audit.log(
        session,
        access,
        "consensus.set",
        row,
        f"consensus {score} for {vendor.name} on {crit.name}",
        before=before,
        after={"score": score, "rationale": rationale.strip()},
    )
    return row


def consensus_rows(session: Session, project_id: int) -> list[Consensus]:
    """Every consensus score of the rollout."""
    return list(session.scalars(select(Consensus).where(Consensus.project_id == project_id)))


def decision(session: Session, project_id: int) -> VendorDecision | None:
    """The rollout's recorded vendor decision, or None."""
    return session.scalar(select(VendorDecision).where(VendorDecision.project_id == project_id))


DECISION_SUBJECT = "vendors.decision"


def decision_content(row: VendorDecision) -> dict[str, Any]:
    """What an executive approves of the decision: the vendor, the rationale, the override
    and who decided when (the contract checklist goes on after the approval)."""
    return {
        "rollout_id": row.project_id,
        "vendor_id": row.vendor_id,
        "vendor": row.vendor.name,
        "rationale": row.rationale,
        "override_reason": row.override_reason,
        "decided_by_id": row.decided_by_id,
        "decided_at": row.decided_at.isoformat(),
    }


def decision_approvals(session: Session, row: VendorDecision) -> list[approvals.Approval]:
    """The executives' signatures of the decision, oldest first."""
    return approvals.approvals(session, DECISION_SUBJECT, row.id)


def approve_decision(
    session: Session,
    access: Access,
    *,
    shown_digest: str,
    meaning: str,
    conditions: str = "",
    password: str,
) -> approvals.Approval:
    """An executive approves the recorded decision (see :func:`planner.core.approvals.sign`):
    Conflict before a decision is recorded or if it changed since the digest was shown."""
    row = decision(session, access.project.id)
    if row is None:
        raise Conflict("No vendor decision is recorded yet; there is nothing to approve.")
    return approvals.sign(
        session,
        access,
        subject=DECISION_SUBJECT,
        subject_id=row.id,
        subject_version=row.version,
        content=decision_content(row),
        shown_digest=shown_digest,
        meaning=meaning,
        conditions=conditions,
        password=password,
        what=f"the vendor decision ({row.vendor.name})",
    )


CONTRACT_FIELDS = (
    "scope_agreed",
    "service_levels_agreed",
    "data_ownership_exit_agreed",
    "price_payment_agreed",
    "support_agreed",
    "contract_notes",
    "legal_reviewed_by",
    "legal_reviewed_on",
)


def record_decision(
    session: Session,
    access: Access,
    *,
    vendor_id: int | None,
    rationale: str,
    version: int | None = None,
    override_reason: str = "",
) -> VendorDecision:
    """Record the selected vendor and why (needs EDIT). A vendor the board's result does not
    rank (knocked out, incomplete) needs ``override_reason``: Conflict without one, naming
    why it is not ranked. ValidationError without a vendor or a rationale; StaleEdit if the
    decision changed since ``version``."""
    access.require(Permission.EDIT)
    if vendor_id is None:
        raise ValidationError("Choose the selected vendor.", {"vendor_id": ["Required."]})
    vendor = get_vendor(session, access.project.id, vendor_id)
    if not rationale.strip():
        raise ValidationError("Record the decision rationale.", {"rationale": ["Required."]})
    result = evaluation(session, access.project.id)
    line = next((v for v in result["vendors"] if v["vendor_id"] == vendor_id), None)
    current = decision(session, access.project.id)
    signed = decision_approvals(session, current) if current is not None else []
    if signed:
        raise Conflict(
            f"The decision is approved by {signed[0].printed_name}; an approved decision "
            "cannot change."
        )
    override_reason = override_reason.strip()
    if line is not None and line["rank"] is not None:
        override_reason = ""  # a ranked vendor overrides nothing
    elif not override_reason:
        why = "; ".join(line["knocked_out"]) if line and line["knocked_out"] else "incomplete"
        raise Conflict(
            f"{vendor.name} is not ranked by the board ({why}). To choose it anyway, give "
            "the reason for overriding the board's result.",
            {"override_reason": ["Required to choose a vendor that is not ranked."]},
        )
    row = decision(session, access.project.id)
    if row is None:
        row = VendorDecision(
            project_id=access.project.id,
            vendor_id=vendor_id,
            rationale=rationale.strip(),
            override_reason=override_reason,
            decided_by_id=access.user.id,
            updated_by_id=access.user.id,
        )
        session.add(row)
        before = None
    else:
        ensure_version(session, row, version)
        before = {
            "vendor_id": row.vendor_id,
            "rationale": row.rationale,
            "override_reason": row.override_reason,
        }
        row.vendor_id, row.rationale = vendor_id, rationale.strip()
        row.override_reason = override_reason
        row.decided_by_id, row.decided_at = access.user.id, utcnow()
        row.updated_by_id = access.user.id
    session.flush()
    audit.log(
        session,
        access,
        "decision.record",
        row,
        f"{vendor.name} selected" + (" (overriding the board's result)" if override_reason else ""),
        before=before,
        after={
            "vendor_id": vendor_id,
            "rationale": rationale.strip(),
            "override_reason": override_reason,
        },
    )
    return row


def update_contract(
    session: Session, access: Access, *, version: int | None, **fields: Any
) -> VendorDecision:
    """Change the contract checklist of the decision (needs EDIT); Conflict before a vendor is
    selected, StaleEdit if someone saved it since ``version``, ValidationError for a legal review
    date without a reviewer or in the future."""
    access.require(Permission.EDIT)
    row = decision(session, access.project.id)
    if row is None:
        raise Conflict("Record the selected vendor before the contract checklist.")
    ensure_version(session, row, version)
    if fields.get("legal_reviewed_on") and not (fields.get("legal_reviewed_by") or "").strip():
        raise ValidationError(
            "Say who did the legal review.", {"legal_reviewed_by": ["Required with the date."]}
        )
    if fields.get("legal_reviewed_on") and fields["legal_reviewed_on"] > utcnow().date():
        raise ValidationError(
            "The legal review cannot be dated in the future.",
            {"legal_reviewed_on": ["In the future."]},
        )
    before = audit.snapshot(row, CONTRACT_FIELDS)
    for k, v in fields.items():
        if k not in CONTRACT_FIELDS:
            raise ValueError(k)
        setattr(row, k, v.strip() if isinstance(v, str) else v)
    row.updated_by_id = access.user.id
    session.flush()
    audit.log(
        session,
        access,
        "contract.update",
        row,
        "contract checklist changed",
        before=before,
        after=audit.snapshot(row, CONTRACT_FIELDS),
    )
    return row


@dataclass(frozen=True)
class BoardSummary:
    """What the vendors phase page shows of the board: counts, the round, the decision."""

    vendors: int
    criteria: int
    reviewers: int
    submitted: int
    state: RoundState
    decided_vendor: str | None


def board_summary(session: Session, project_id: int) -> BoardSummary:
    """The board of a rollout in a constant number of statements, whatever its size."""
    rnd = get_round(session, project_id)
    n_vendors = session.scalar(select(func.count(Vendor.id)).where(Vendor.project_id == project_id))
    n_criteria = session.scalar(
        select(func.count(Criterion.id)).where(Criterion.project_id == project_id)
    )
    board = reviewers(session, project_id)
    done = submitted(session, project_id)
    row = decision(session, project_id)
    return BoardSummary(
        vendors=n_vendors or 0,
        criteria=n_criteria or 0,
        reviewers=len(board),
        submitted=sum(1 for u, _ in board if u.id in done),
        state=rnd.state,
        decided_vendor=row.vendor.name if row is not None and row.vendor is not None else None,
    )


@register_criteria("vendors")
def vendors_criteria(session: Session, project: Project) -> list[GateCriterion]:
    """The board is complete, a decision is recorded, and legal has reviewed the contract."""
    board = reviewers(session, project.id)
    done = submitted(session, project.id)
    waiting = [u.username for u, _ in board if u.id not in done]
    row = decision(session, project.id)
    return [
        GateCriterion("The review board has reviewers", bool(board)),
        GateCriterion(
            "Every reviewer has submitted their scoresheet",
            bool(board) and not waiting,
            detail=("waiting for " + ", ".join(waiting)) if waiting else "",
        ),
        GateCriterion("The selected vendor and the rationale are recorded", row is not None),
        GateCriterion(
            "Legal has reviewed the contract",
            bool(row and row.legal_reviewed_by and row.legal_reviewed_on),
        ),
    ]
