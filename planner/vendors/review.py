"""The review: conflicts of interest, recusals, scores and scoresheets of the board.

Part of the vendor-selection rules (see :mod:`planner.vendors.service`).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from planner.core import audit
from planner.core.accounts.models import User
from planner.core.accounts.service import name_of
from planner.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from planner.core.i18n import counted, quoted
from planner.core.permissions import Permission, Role
from planner.projects.access import Access
from planner.projects.models import Department, Membership
from planner.vendors.catalogue import criteria, get_vendor, vendors
from planner.vendors.models import (
    ConflictDeclaration,
    Recusal,
    RoundState,
    Score,
    Submission,
    Vendor,
)
from planner.vendors.round_state import (
    bump_revision,
    get_round,
    recheck_round,
    require_round_editable,
)
from planner.vendors.schemas import (
    COMMENT_MAX,
    CONFLICT_REASON_MAX,
    SCORE_MESSAGE,
    ConflictItem,
    ScoreInput,
)


def reviewers(session: Session, project_id: int) -> list[tuple[User, str | None]]:
    """The board: every reviewer of the rollout with their department's name (None without one), by
    username."""
    rows = session.execute(
        select(User, Department.name)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(Department, Department.id == Membership.department_id)
        .where(Membership.project_id == project_id, Membership.role == Role.REVIEWER)
        .order_by(User.username)
    ).all()
    return [(u, d) for u, d in rows]


def _require_reviewer(access: Access) -> None:
    access.require(Permission.SCORE)
    if access.role != Role.REVIEWER:
        raise PermissionDenied("Only the board's reviewers score vendors.")


def declare_conflicts(session: Session, access: Access, items: list[ConflictItem]) -> None:
    """Replace the calling reviewer's declaration: an empty list declares no conflict."""
    _require_reviewer(access)
    require_round_editable(get_round(session, access.project.id))
    known = {v.id for v in vendors(session, access.project.id)}
    errors: dict[str, list[str]] = {}
    for i, item in enumerate(items):
        if item.vendor_id not in known:
            errors[f"conflicts[{i}].vendor_id"] = ["Unknown vendor."]
        if not item.reason.strip():
            errors[f"conflicts[{i}].reason"] = ["Say why."]
        if len(item.reason) > CONFLICT_REASON_MAX:
            errors[f"conflicts[{i}].reason"] = [f"At most {CONFLICT_REASON_MAX} characters."]
    if len({i.vendor_id for i in items}) != len(items):
        errors["conflicts"] = ["A vendor is listed twice."]
    if errors:
        raise ValidationError("The declaration has errors.", errors)
    session.execute(
        delete(ConflictDeclaration).where(
            ConflictDeclaration.project_id == access.project.id,
            ConflictDeclaration.reviewer_id == access.user.id,
        )
    )
    if not items:
        session.add(ConflictDeclaration(project_id=access.project.id, reviewer_id=access.user.id))
    for item in items:
        session.add(
            ConflictDeclaration(
                project_id=access.project.id,
                reviewer_id=access.user.id,
                vendor_id=item.vendor_id,
                reason=item.reason.strip(),
            )
        )
    audit.log(
        session,
        access,
        "conflict.declare",
        summary="no conflict of interest declared"
        if not items
        else f"conflict of interest declared for {counted(len(items), 'vendor')}",
        entity_type="conflict_declaration",
        after={"conflicts": [asdict(i) for i in items]},
    )


def declarations(session: Session, project_id: int) -> dict[int, list[ConflictDeclaration]]:
    """The conflict-of-interest declarations, by reviewer id (a row without a vendor declares no
    conflict)."""
    out: dict[int, list[ConflictDeclaration]] = {}
    for d in session.scalars(
        select(ConflictDeclaration).where(ConflictDeclaration.project_id == project_id)
    ):
        out.setdefault(d.reviewer_id, []).append(d)
    return out


def _reviewer_of(session: Session, project_id: int, reviewer_id: int) -> User:
    row = session.execute(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.project_id == project_id,
            Membership.user_id == reviewer_id,
            Membership.role == Role.REVIEWER,
        )
    ).scalar()
    if row is None:
        raise ValidationError(
            "That person is not a reviewer of this board.", {"reviewer_id": ["Not a reviewer."]}
        )
    return row


def recuse(
    session: Session, access: Access, *, reviewer_id: int, vendor_id: int, reason: str
) -> Recusal:
    """The lead recuses a reviewer from a vendor: their scores for it count nowhere."""
    access.require(Permission.EDIT)
    reviewer = _reviewer_of(session, access.project.id, reviewer_id)
    vendor = get_vendor(session, access.project.id, vendor_id)
    if not reason.strip():
        raise ValidationError("Give the reason for the recusal.", {"reason": ["Required."]})
    exists = session.scalar(
        select(Recusal).where(
            Recusal.project_id == access.project.id,
            Recusal.reviewer_id == reviewer_id,
            Recusal.vendor_id == vendor_id,
        )
    )
    if exists:
        raise Conflict(f"{reviewer.name} is recused from {vendor.name} already.")
    rec = Recusal(
        project_id=access.project.id,
        reviewer_id=reviewer_id,
        vendor_id=vendor_id,
        reason=reason.strip(),
        decided_by_id=access.user.id,
    )
    session.add(rec)
    session.flush()
    bump_revision(session, access)
    audit.log(
        session,
        access,
        "recusal.create",
        rec,
        f"{reviewer.username} recused from {vendor.name}: {reason.strip()[:120]}",
    )
    return rec


def lift_recusal(session: Session, access: Access, recusal_id: int) -> None:
    """Lift a recusal so the reviewer's scores for the vendor count again (needs EDIT); NotFound for
    another rollout's or none."""
    access.require(Permission.EDIT)
    rec = session.get(Recusal, recusal_id)
    if rec is None or rec.project_id != access.project.id:
        raise NotFound("No such recusal.")
    audit.log(
        session,
        access,
        "recusal.delete",
        rec,
        f"recusal of {name_of(session, rec.reviewer_id)} from "
        f"{_vendor_name(session, rec.vendor_id)} lifted",
    )
    session.delete(rec)
    bump_revision(session, access)


def _vendor_name(session: Session, vendor_id: int) -> str:
    vendor = session.get(Vendor, vendor_id)
    return vendor.name if vendor is not None else f"vendor {vendor_id}"


def recusals(session: Session, project_id: int) -> list[Recusal]:
    """Every recusal of the rollout."""
    return list(session.scalars(select(Recusal).where(Recusal.project_id == project_id)))


def parse_score(value: Any) -> int:
    """An integer 0..5, or ValueError with a message a reviewer understands."""
    if isinstance(value, bool) or value is None:
        raise ValueError(SCORE_MESSAGE)
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise ValueError(SCORE_MESSAGE)
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[0-9]", text):
            raise ValueError(SCORE_MESSAGE)
        value = int(text)
    if not isinstance(value, int) or not 0 <= value <= 5:
        raise ValueError(SCORE_MESSAGE)
    return value


def put_scores(
    session: Session, access: Access, entries: list[ScoreInput], *, reviewer: User | None = None
) -> int:
    """Save the calling reviewer's scores (a repeat overwrites their own). All or nothing.

    Refused: a closed or unopened round, a reviewer who has not declared conflicts, a
    submitted scoresheet, unknown vendors or criteria, price criteria (scored by formula),
    recused vendors, and any score that is not a whole number 0..5.
    """
    _require_reviewer(access)
    user = reviewer or access.user
    rnd = get_round(session, access.project.id)
    if rnd.state != RoundState.OPEN:
        raise Conflict("The scoring round is not open.")
    if not session.scalar(
        select(func.count(ConflictDeclaration.id)).where(
            ConflictDeclaration.project_id == access.project.id,
            ConflictDeclaration.reviewer_id == user.id,
        )
    ):
        raise Conflict("Declare any conflict of interest (or none) before scoring.")
    if session.scalar(
        select(Submission.id).where(
            Submission.project_id == access.project.id, Submission.reviewer_id == user.id
        )
    ):
        raise Conflict("Your scoresheet is submitted; it can no longer change.")
    vendor_ids = {v.id for v in vendors(session, access.project.id)}
    crits = {c.id: c for c in criteria(session, access.project.id)}
    recused = {
        r.vendor_id for r in recusals(session, access.project.id) if r.reviewer_id == user.id
    }
    errors: dict[str, list[str]] = {}
    clean: dict[tuple[int, int], tuple[int, str]] = {}
    for i, e in enumerate(entries):
        where = f"scores[{i}]"
        if e.vendor_id not in vendor_ids:
            errors[f"{where}.vendor_id"] = ["Unknown vendor."]
        elif e.vendor_id in recused:
            errors[f"{where}.vendor_id"] = ["You are recused from this vendor."]
        crit = crits.get(e.criterion_id)
        if crit is None:
            errors[f"{where}.criterion_id"] = ["Unknown criterion."]
        elif crit.is_price:
            errors[f"{where}.criterion_id"] = ["Price is scored by formula, not by reviewers."]
        try:
            value = parse_score(e.score)
        except ValueError as exc:
            errors[f"{where}.score"] = [f"{exc} (got {quoted(e.score)})."]
            continue
        comment = (e.comment or "").strip()
        if len(comment) > COMMENT_MAX:
            errors[f"{where}.comment"] = [f"At most {COMMENT_MAX} characters."]
        clean[(e.vendor_id, e.criterion_id)] = (value, comment)
    if errors:
        raise ValidationError(
            f"{counted(len(errors), 'problem')} in the scores; nothing was saved.", errors
        )
    existing = {
        (s.vendor_id, s.criterion_id): s
        for s in session.scalars(
            select(Score).where(Score.project_id == access.project.id, Score.reviewer_id == user.id)
        )
    }
    changed = 0
    for (vid, cid), (value, comment) in clean.items():
        row = existing.get((vid, cid))
        if row is None:
            session.add(
                Score(
                    project_id=access.project.id,
                    reviewer_id=user.id,
                    vendor_id=vid,
                    criterion_id=cid,
                    score=value,
                    comment=comment,
                )
            )
            changed += 1
        elif row.score != value or row.comment != comment:
            row.score, row.comment = value, comment
            changed += 1
    if changed:
        # A draft moves no result (only submitted scoresheets count): no new revision, but
        # the round must still be open as the save lands.
        recheck_round(session, rnd)
        audit.log(
            session,
            access,
            "score.put",
            summary=f"{user.username}: {counted(changed, 'score')} saved",
            entity_type="score",
            after={"count": changed},
        )
    return changed


def submit_scoresheet(session: Session, access: Access) -> Submission:
    """Submit the calling reviewer's scoresheet: every vendor (not recused) × criterion. Its
    scores count in the results from now on (a draft counts nowhere)."""
    _require_reviewer(access)
    rnd = get_round(session, access.project.id)
    if rnd.state != RoundState.OPEN:
        raise Conflict("The scoring round is not open.")
    if session.scalar(
        select(Submission.id).where(
            Submission.project_id == access.project.id, Submission.reviewer_id == access.user.id
        )
    ):
        raise Conflict("Your scoresheet is submitted already.")
    recused = {
        r.vendor_id for r in recusals(session, access.project.id) if r.reviewer_id == access.user.id
    }
    needed = {
        (v.id, c.id)
        for v in vendors(session, access.project.id)
        if v.id not in recused
        for c in criteria(session, access.project.id)
        if not c.is_price
    }
    have = set(
        session.execute(
            select(Score.vendor_id, Score.criterion_id).where(
                Score.project_id == access.project.id, Score.reviewer_id == access.user.id
            )
        ).all()
    )
    missing = needed - {(a, b) for a, b in have}
    if missing:
        raise Conflict(f"Your scoresheet is incomplete: {counted(len(missing), 'score')} missing.")
    sub = Submission(project_id=access.project.id, reviewer_id=access.user.id)
    session.add(sub)
    session.flush()
    bump_revision(session, access)  # the sheet's scores count from now on
    audit.log(
        session,
        access,
        "scoresheet.submit",
        sub,
        f"{access.user.username} submitted their scoresheet",
        entity_type="scoresheet",
    )
    return sub


def submitted(session: Session, project_id: int) -> set[int]:
    """The ids of the reviewers who have submitted their scoresheet."""
    return set(
        session.scalars(select(Submission.reviewer_id).where(Submission.project_id == project_id))
    )


def can_see_board(session: Session, access: Access) -> bool:
    """Blind scoring: a reviewer sees others' scores only after submitting their own."""
    if access.role == Role.REVIEWER and not access.user.is_admin:
        return access.user.id in submitted(session, access.project.id)
    if access.role == Role.VIEWER and not access.user.is_admin:
        return get_round(session, access.project.id).state == RoundState.CLOSED
    return True


def own_scores(session: Session, project_id: int, reviewer_id: int) -> dict[tuple[int, int], Score]:
    """One reviewer's scores, by (vendor id, criterion id)."""
    return {
        (s.vendor_id, s.criterion_id): s
        for s in session.scalars(
            select(Score).where(Score.project_id == project_id, Score.reviewer_id == reviewer_id)
        )
    }


def may_read_conflict_reasons(access: Access, reviewer_id: int) -> bool:
    """Whether this member may read why a reviewer declared a conflict: the lead (who decides
    recusals) and the reviewer themselves; the rest of the board sees only that one exists."""
    return access.can(Permission.EDIT) or access.user.id == reviewer_id
