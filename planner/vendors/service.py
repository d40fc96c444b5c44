"""Rules of vendor selection: the lists, the scoring round, the fair process, the results.

Service functions take a Session and plain values, flush, audit, and raise errors from
:mod:`planner.core.errors`; the caller commits once. Results come from the pure maths in
:mod:`planner.vendors.scoring`, computed from one read of the board and cached in the
database until the board's revision changes.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session

from planner.core import audit
from planner.core.accounts.models import User
from planner.core.db import utcnow
from planner.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from planner.core.permissions import Permission, Role
from planner.core.versioning import ensure_version
from planner.projects.access import Access
from planner.projects.models import Department, Membership, Project
from planner.projects.phases import Criterion as GateCriterion
from planner.projects.phases import register_criteria
from planner.vendors import scoring
from planner.vendors.models import (
    ConflictDeclaration,
    Consensus,
    Criterion,
    EvaluationCache,
    PairwiseJudgement,
    Recusal,
    RoundState,
    Score,
    ScoringRound,
    Submission,
    Vendor,
    VendorDecision,
)
from planner.vendors.schemas import (
    COMMENT_MAX,
    CONFLICT_REASON_MAX,
    COST_MAX,
    COST_MIN,
    RATIONALE_MAX,
    SCORE_MESSAGE,
    WEIGHT_MAX,
    WEIGHT_MIN,
    ConflictItem,
    ScoreInput,
)

VENDOR_FIELDS = (
    "name",
    "product",
    "service_scope",
    "support",
    "update_frequency",
    "references",
    "solution_kind",
    "cost_3y",
)
CRITERION_FIELDS = (
    "name",
    "description",
    "scale_guide",
    "group",
    "weight",
    "must_have",
    "min_score",
    "is_price",
)
DEFAULT_CRITERIA = (
    # (name, group, weight, must-have) — the evaluation indicators of seed 001
    ("Functionality", "functionality", 30.0, True),
    ("Scalability", "scalability", 15.0, False),
    ("Security", "security", 20.0, True),
    ("User experience", "user experience", 15.0, False),
    ("Cost-effectiveness", "cost-effectiveness", 20.0, False),
)
NEAR_DUPLICATE = 0.9


# --- names -------------------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """NFKC-normalised, trimmed, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


def name_key(name: str) -> str:
    """The comparison key: case-folded, without spaces or punctuation."""
    return re.sub(r"[\W_]+", "", normalise_name(name).casefold())


def _refuse_near_duplicate(
    existing: Iterable[tuple[int, str, str]], name: str, own_id: int | None, what: str
) -> str:
    key = name_key(name)
    if not key:
        raise ValidationError(f"A {what} needs a name.", {"name": ["Required."]})
    for other_id, other_name, other_key in existing:
        if other_id == own_id:
            continue
        if (
            other_key == key
            or difflib.SequenceMatcher(None, other_key, key).ratio() >= NEAR_DUPLICATE
        ):
            raise Conflict(
                f"“{normalise_name(name)}” is too close to the existing {what} “{other_name}”. "
                f"Use the existing one, or choose a clearly different name."
            )
    return key


# --- the round and its revision --------------------------------------------------------


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


def _bump(session: Session, project_id: int) -> None:
    """A result may have moved: invalidate the cached evaluation."""
    rnd = get_round(session, project_id)
    rnd.revision = (rnd.revision or 0) + 1


def _require_round_editable(rnd: ScoringRound) -> None:
    if rnd.state == RoundState.CLOSED:
        raise Conflict("The scoring round is closed; nothing on the board can change.")


# --- vendors -----------------------------------------------------------------------------


def vendors(session: Session, project_id: int) -> list[Vendor]:
    return list(
        session.scalars(
            select(Vendor).where(Vendor.project_id == project_id).order_by(Vendor.name_key)
        )
    )


def get_vendor(session: Session, project_id: int, vendor_id: int) -> Vendor:
    v = session.get(Vendor, vendor_id)
    if v is None or v.project_id != project_id:
        raise NotFound("No such vendor in this rollout.")
    return v


def _check_cost(cost: float | None) -> float | None:
    if cost is None:
        return None
    if not math.isfinite(cost) or not COST_MIN <= cost <= COST_MAX:
        raise ValidationError(
            f"The quoted cost must be an amount from {COST_MIN} to {COST_MAX:g}.",
            {"cost_3y": [f"From {COST_MIN} to {COST_MAX:g}."]},
        )
    return float(cost)


def create_vendor(session: Session, access: Access, **fields: Any) -> Vendor:
    """Add a candidate vendor; near-duplicate names are refused (Conflict)."""
    access.require(Permission.EDIT)
    _require_round_editable(get_round(session, access.project.id))
    existing = session.execute(
        select(Vendor.id, Vendor.name, Vendor.name_key).where(
            Vendor.project_id == access.project.id
        )
    ).all()
    key = _refuse_near_duplicate(existing, fields.get("name", ""), None, "vendor")
    vendor = Vendor(project_id=access.project.id, name_key=key, updated_by_id=access.user.id)
    _apply_vendor(vendor, fields)
    session.add(vendor)
    session.flush()
    _bump(session, access.project.id)
    audit.log(
        session,
        access,
        "vendor.create",
        vendor,
        f"vendor {vendor.name!r} added",
        after=audit.snapshot(vendor, VENDOR_FIELDS),
    )
    return vendor


def _apply_vendor(vendor: Vendor, fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        if key not in VENDOR_FIELDS:
            raise ValueError(key)
        if key == "name":
            value = normalise_name(value)
        elif key == "cost_3y":
            value = _check_cost(value)
        elif isinstance(value, str):
            value = value.strip()
        setattr(vendor, key, value)


def update_vendor(
    session: Session, access: Access, vendor: Vendor, *, version: int | None, **fields: Any
) -> Vendor:
    access.require(Permission.EDIT)
    _require_round_editable(get_round(session, access.project.id))
    ensure_version(session, vendor, version)
    if "name" in fields:
        existing = session.execute(
            select(Vendor.id, Vendor.name, Vendor.name_key).where(
                Vendor.project_id == access.project.id
            )
        ).all()
        vendor.name_key = _refuse_near_duplicate(existing, fields["name"], vendor.id, "vendor")
    before = audit.snapshot(vendor, VENDOR_FIELDS)
    _apply_vendor(vendor, fields)
    vendor.updated_by_id = access.user.id
    session.flush()
    _bump(session, access.project.id)
    audit.log(
        session,
        access,
        "vendor.update",
        vendor,
        f"vendor {vendor.name!r} changed",
        before=before,
        after=audit.snapshot(vendor, VENDOR_FIELDS),
    )
    return vendor


def delete_vendor(session: Session, access: Access, vendor: Vendor) -> None:
    access.require(Permission.EDIT)
    _require_round_editable(get_round(session, access.project.id))
    decided = session.scalar(select(VendorDecision.id).where(VendorDecision.vendor_id == vendor.id))
    if decided:
        raise Conflict("This vendor is the recorded choice; record another decision first.")
    n_scores = session.scalar(select(func.count(Score.id)).where(Score.vendor_id == vendor.id))
    audit.log(
        session,
        access,
        "vendor.delete",
        vendor,
        f"vendor {vendor.name!r} deleted with {n_scores} score(s)",
        before=audit.snapshot(vendor, VENDOR_FIELDS),
    )
    session.delete(vendor)
    _bump(session, access.project.id)


# --- criteria ----------------------------------------------------------------------------


def criteria(session: Session, project_id: int) -> list[Criterion]:
    return list(
        session.scalars(
            select(Criterion)
            .where(Criterion.project_id == project_id)
            .order_by(Criterion.position, Criterion.id)
        )
    )


def get_criterion(session: Session, project_id: int, criterion_id: int) -> Criterion:
    c = session.get(Criterion, criterion_id)
    if c is None or c.project_id != project_id:
        raise NotFound("No such criterion in this rollout.")
    return c


def _check_criterion(fields: dict[str, Any]) -> None:
    weight = fields.get("weight")
    if weight is not None and (not math.isfinite(weight) or not WEIGHT_MIN <= weight <= WEIGHT_MAX):
        raise ValidationError(
            f"A weight is a number from {WEIGHT_MIN} to {WEIGHT_MAX:g}.",
            {"weight": [f"From {WEIGHT_MIN} to {WEIGHT_MAX:g}."]},
        )
    min_score = fields.get("min_score")
    if min_score is not None and not (0 <= min_score <= 5):
        raise ValidationError(
            "The minimum mean score is between 0 and 5.", {"min_score": ["Between 0 and 5."]}
        )


def create_criterion(session: Session, access: Access, **fields: Any) -> Criterion:
    access.require(Permission.EDIT)
    _require_round_editable(get_round(session, access.project.id))
    _check_criterion(fields)
    existing = session.execute(
        select(Criterion.id, Criterion.name, Criterion.name_key).where(
            Criterion.project_id == access.project.id
        )
    ).all()
    key = _refuse_near_duplicate(existing, fields.get("name", ""), None, "criterion")
    position = (
        session.scalar(
            select(func.max(Criterion.position)).where(Criterion.project_id == access.project.id)
        )
        or 0
    ) + 1
    crit = Criterion(
        project_id=access.project.id,
        name_key=key,
        position=position,
        updated_by_id=access.user.id,
    )
    for k, v in fields.items():
        if k not in CRITERION_FIELDS:
            raise ValueError(k)
        setattr(crit, k, normalise_name(v) if k == "name" else v)
    if crit.weight is None:
        crit.weight = 1.0
    if crit.min_score is None:
        crit.min_score = 3.0
    session.add(crit)
    session.flush()
    _bump(session, access.project.id)
    audit.log(
        session,
        access,
        "criterion.create",
        crit,
        f"criterion {crit.name!r} added",
        after=audit.snapshot(crit, CRITERION_FIELDS),
    )
    return crit


def update_criterion(
    session: Session, access: Access, crit: Criterion, *, version: int | None, **fields: Any
) -> Criterion:
    access.require(Permission.EDIT)
    _require_round_editable(get_round(session, access.project.id))
    ensure_version(session, crit, version)
    _check_criterion(fields)
    if "name" in fields:
        existing = session.execute(
            select(Criterion.id, Criterion.name, Criterion.name_key).where(
                Criterion.project_id == access.project.id
            )
        ).all()
        crit.name_key = _refuse_near_duplicate(existing, fields["name"], crit.id, "criterion")
    before = audit.snapshot(crit, CRITERION_FIELDS)
    for k, v in fields.items():
        if k not in CRITERION_FIELDS:
            raise ValueError(k)
        setattr(crit, k, normalise_name(v) if k == "name" else v)
    crit.updated_by_id = access.user.id
    session.flush()
    _bump(session, access.project.id)
    audit.log(
        session,
        access,
        "criterion.update",
        crit,
        f"criterion {crit.name!r} changed",
        before=before,
        after=audit.snapshot(crit, CRITERION_FIELDS),
    )
    return crit


def delete_criterion(session: Session, access: Access, crit: Criterion) -> None:
    access.require(Permission.EDIT)
    _require_round_editable(get_round(session, access.project.id))
    audit.log(
        session,
        access,
        "criterion.delete",
        crit,
        f"criterion {crit.name!r} deleted",
        before=audit.snapshot(crit, CRITERION_FIELDS),
    )
    session.delete(crit)
    _bump(session, access.project.id)


def add_default_criteria(session: Session, access: Access) -> list[Criterion]:
    """The five evaluation indicators of seed 001, for a board that starts from scratch."""
    return [
        create_criterion(session, access, name=n, group=g, weight=w, must_have=m)
        for n, g, w, m in DEFAULT_CRITERIA
        if not session.scalar(
            select(Criterion.id).where(
                Criterion.project_id == access.project.id, Criterion.name_key == name_key(n)
            )
        )
    ]


def set_pairwise(
    session: Session, access: Access, judgements: dict[tuple[int, int], float], *, apply: bool
) -> scoring.AHPResult:
    """Store AHP judgements (a over b on Saaty's scale) and, if ``apply``, set the weights.

    Every pair of the non-price criteria must be judged. Inconsistent judgements (CR > 0.10)
    are stored and reported, but not applied.
    """
    access.require(Permission.EDIT)
    _require_round_editable(get_round(session, access.project.id))
    crits = [c for c in criteria(session, access.project.id) if not c.is_price]
    index = {c.id: i for i, c in enumerate(crits)}
    pairs: dict[tuple[int, int], float] = {}
    for (a, b), value in judgements.items():
        if a not in index or b not in index or a == b:
            raise ValidationError("A judgement names an unknown criterion, or one twice.")
        pairs[(index[a], index[b])] = value
    try:
        matrix = scoring.ahp_matrix_from_pairs(len(crits), pairs)
        result = scoring.ahp(matrix)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    session.execute(
        delete(PairwiseJudgement).where(PairwiseJudgement.project_id == access.project.id)
    )
    for (a, b), value in judgements.items():
        session.add(
            PairwiseJudgement(
                project_id=access.project.id, criterion_a_id=a, criterion_b_id=b, value=value
            )
        )
    applied = apply and not result.inconsistent
    if applied:
        for crit, weight in zip(crits, result.weights, strict=True):
            crit.weight = round(float(weight) * 100, 4)
            crit.updated_by_id = access.user.id
        _bump(session, access.project.id)
    audit.log(
        session,
        access,
        "criteria.ahp",
        access.project,
        f"AHP judgements saved (CR {result.cr:.3f})" + ("; weights applied" if applied else ""),
        after={"cr": result.cr, "applied": applied},
    )
    return result


def pairwise(session: Session, project_id: int) -> dict[tuple[int, int], float]:
    rows = session.execute(
        select(
            PairwiseJudgement.criterion_a_id,
            PairwiseJudgement.criterion_b_id,
            PairwiseJudgement.value,
        ).where(PairwiseJudgement.project_id == project_id)
    ).all()
    return {(a, b): v for a, b, v in rows}


# --- the round ---------------------------------------------------------------------------


def set_round_state(
    session: Session, access: Access, *, action: str, two_envelopes: bool | None = None
) -> ScoringRound:
    """``open``, ``close_technical`` (reveal prices), ``close`` or ``reopen`` the round."""
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


def prices_visible(access: Access, rnd: ScoringRound) -> bool:
    """Quoted prices and contract terms: lead and executives only."""
    return access.can(Permission.VIEW_COMMERCIAL)


# --- reviewers: conflicts, scores, submission -------------------------------------------


def reviewers(session: Session, project_id: int) -> list[tuple[User, str | None]]:
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
    _require_round_editable(get_round(session, access.project.id))
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
        else f"conflict of interest declared for {len(items)} vendor(s)",
        entity_type="conflict_declaration",
        after={"conflicts": [asdict(i) for i in items]},
    )


def declarations(session: Session, project_id: int) -> dict[int, list[ConflictDeclaration]]:
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
    _bump(session, access.project.id)
    audit.log(
        session,
        access,
        "recusal.create",
        rec,
        f"{reviewer.username} recused from {vendor.name}: {reason.strip()[:120]}",
    )
    return rec


def lift_recusal(session: Session, access: Access, recusal_id: int) -> None:
    access.require(Permission.EDIT)
    rec = session.get(Recusal, recusal_id)
    if rec is None or rec.project_id != access.project.id:
        raise NotFound("No such recusal.")
    audit.log(
        session,
        access,
        "recusal.delete",
        rec,
        f"recusal of reviewer {rec.reviewer_id} from vendor {rec.vendor_id} lifted",
    )
    session.delete(rec)
    _bump(session, access.project.id)


def recusals(session: Session, project_id: int) -> list[Recusal]:
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
            errors[f"{where}.score"] = [f"{exc} (got {e.score!r})."]
            continue
        comment = (e.comment or "").strip()
        if len(comment) > COMMENT_MAX:
            errors[f"{where}.comment"] = [f"At most {COMMENT_MAX} characters."]
        clean[(e.vendor_id, e.criterion_id)] = (value, comment)
    if errors:
        raise ValidationError(f"{len(errors)} problem(s) in the scores; nothing was saved.", errors)
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
        _bump(session, access.project.id)
        audit.log(
            session,
            access,
            "score.put",
            summary=f"{user.username}: {changed} score(s) saved",
            entity_type="score",
            after={"count": changed},
        )
    return changed


def submit_scoresheet(session: Session, access: Access) -> Submission:
    """Submit the calling reviewer's scoresheet: every vendor (not recused) × criterion."""
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
        raise Conflict(f"Your scoresheet is incomplete: {len(missing)} score(s) missing.")
    sub = Submission(project_id=access.project.id, reviewer_id=access.user.id)
    session.add(sub)
    session.flush()
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
    return {
        (s.vendor_id, s.criterion_id): s
        for s in session.scalars(
            select(Score).where(Score.project_id == project_id, Score.reviewer_id == reviewer_id)
        )
    }


# --- consensus and decision --------------------------------------------------------------


def set_consensus(
    session: Session,
    access: Access,
    *,
    vendor_id: int,
    criterion_id: int,
    score: float,
    rationale: str,
) -> Consensus:
    access.require(Permission.EDIT)
    _require_round_editable(get_round(session, access.project.id))
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
    _bump(session, access.project.id)
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
    return list(session.scalars(select(Consensus).where(Consensus.project_id == project_id)))


def decision(session: Session, project_id: int) -> VendorDecision | None:
    return session.scalar(select(VendorDecision).where(VendorDecision.project_id == project_id))


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
    session: Session, access: Access, *, vendor_id: int, rationale: str, version: int | None = None
) -> VendorDecision:
    """Record the selected vendor and why. The vendor must be ranked (not knocked out)."""
    access.require(Permission.EDIT)
    vendor = get_vendor(session, access.project.id, vendor_id)
    if not rationale.strip():
        raise ValidationError("Record the decision rationale.", {"rationale": ["Required."]})
    result = evaluation(session, access.project.id)
    ranked = {v["vendor_id"] for v in result["vendors"] if v["rank"] is not None}
    if vendor_id not in ranked:
        raise Conflict(
            f"{vendor.name} is not ranked (knocked out or incomplete); it cannot be chosen."
        )
    row = decision(session, access.project.id)
    if row is None:
        row = VendorDecision(
            project_id=access.project.id,
            vendor_id=vendor_id,
            rationale=rationale.strip(),
            decided_by_id=access.user.id,
            updated_by_id=access.user.id,
        )
        session.add(row)
        before = None
    else:
        ensure_version(session, row, version)
        before = {"vendor_id": row.vendor_id, "rationale": row.rationale}
        row.vendor_id, row.rationale = vendor_id, rationale.strip()
        row.decided_by_id, row.decided_at = access.user.id, utcnow()
        row.updated_by_id = access.user.id
    session.flush()
    audit.log(
        session,
        access,
        "decision.record",
        row,
        f"{vendor.name} selected",
        before=before,
        after={"vendor_id": vendor_id, "rationale": rationale.strip()},
    )
    return row


def update_contract(
    session: Session, access: Access, *, version: int | None, **fields: Any
) -> VendorDecision:
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


# --- results -----------------------------------------------------------------------------


def load_board(session: Session, project_id: int) -> scoring.Board:
    """Everything the maths needs, in five statements whatever the size of the board."""
    vs = [
        scoring.VendorSpec(id=i, name=n, cost=c)
        for i, n, c in session.execute(
            select(Vendor.id, Vendor.name, Vendor.cost_3y)
            .where(Vendor.project_id == project_id)
            .order_by(Vendor.name_key)
        )
    ]
    cs = [
        scoring.CriterionSpec(
            id=i, name=n, weight=w, group=g, must_have=m, min_score=ms, is_price=p
        )
        for i, n, w, g, m, ms, p in session.execute(
            select(
                Criterion.id,
                Criterion.name,
                Criterion.weight,
                Criterion.group,
                Criterion.must_have,
                Criterion.min_score,
                Criterion.is_price,
            )
            .where(Criterion.project_id == project_id)
            .order_by(Criterion.position, Criterion.id)
        )
    ]
    scores = [
        scoring.ScoreEntry(
            reviewer_id=r, vendor_id=v, criterion_id=c, score=s, department=d, comment=cm
        )
        for r, v, c, s, cm, d in session.execute(
            select(
                Score.reviewer_id,
                Score.vendor_id,
                Score.criterion_id,
                Score.score,
                Score.comment,
                Department.name,
            )
            .join(
                Membership,
                (Membership.user_id == Score.reviewer_id)
                & (Membership.project_id == Score.project_id),
            )
            .outerjoin(Department, Department.id == Membership.department_id)
            .where(Score.project_id == project_id)
        )
    ]
    consensus = {
        (v, c): s
        for v, c, s in session.execute(
            select(Consensus.vendor_id, Consensus.criterion_id, Consensus.score).where(
                Consensus.project_id == project_id
            )
        )
    }
    rec = frozenset(
        (r, v)
        for r, v in session.execute(
            select(Recusal.reviewer_id, Recusal.vendor_id).where(Recusal.project_id == project_id)
        )
    )
    return scoring.Board(vendors=vs, criteria=cs, scores=scores, consensus=consensus, recusals=rec)


MC_DRAWS = 10_000
MC_SEED = 20261124


def compute(board: scoring.Board) -> dict[str, Any]:
    """The whole evaluation as plain JSON-able data."""
    names = {v.id: v.name for v in board.vendors}
    result: dict[str, Any] = {
        "vendors": [],
        "criteria": [
            {
                "id": c.id,
                "name": c.name,
                "weight": c.weight,
                "group": c.group,
                "must_have": c.must_have,
                "min_score": c.min_score,
                "is_price": c.is_price,
            }
            for c in board.criteria
        ],
    }
    if not board.vendors or not board.criteria:
        result.update(
            disagreements=[],
            kendalls_w=None,
            departments={},
            sensitivity={},
            monte_carlo={},
            calibration=None,
        )
        return result
    ev = scoring.evaluate(board)
    for v in board.vendors:
        r = ev.vendors[v.id]
        result["vendors"].append(
            {
                "vendor_id": v.id,
                "name": v.name,
                "criterion_scores": {str(k): s for k, s in r.criterion_scores.items()},
                "weighted_total": r.weighted_total,
                "rank": r.rank,
                "incomplete": r.incomplete,
                "knocked_out": r.knocked_out,
            }
        )
    result["vendors"].sort(key=lambda x: (x["rank"] is None, x["rank"] or 0, x["name"]))
    result["disagreements"] = [
        {
            "vendor_id": d.vendor_id,
            "vendor": names.get(d.vendor_id),
            "criterion_id": d.criterion_id,
            "spread": d.spread,
            "has_consensus": d.has_consensus,
            "entries": [
                {"reviewer_id": e.reviewer_id, "score": e.score}
                | ({"comment": e.comment} if e.comment else {})
                for e in d.entries
            ],
        }
        for d in scoring.disagreements(board)
    ]
    result["reviewers"] = {str(s.reviewer_id): {"department": s.department} for s in board.scores}
    result["kendalls_w"] = scoring.kendalls_w(board)
    result["departments"] = {
        dept: {str(k): t for k, t in totals.items()}
        for dept, totals in scoring.department_totals(board).items()
    }
    result["sensitivity"] = {
        str(cid): (None if s is None else {"change_pp": s.change_pp, "new_winner": s.new_winner})
        for cid, s in scoring.sensitivity(board).items()
    }
    result["monte_carlo"] = {
        str(k): p for k, p in scoring.monte_carlo(board, draws=MC_DRAWS, seed=MC_SEED).items()
    }
    cal = scoring.calibration(board)
    result["calibration"] = (
        None
        if cal is None
        else {
            "board_mean": cal.board_mean,
            "board_sd": cal.board_sd,
            "reviewers": [_plain(r) for r in cal.reviewers],
            "standardised_totals": {str(k): t for k, t in cal.standardised_totals.items()},
        }
    )
    return result


def _plain(obj: Any) -> Any:
    from dataclasses import fields as dc_fields
    from dataclasses import is_dataclass

    if is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in dc_fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item"):  # numpy scalar
        return obj.item()
    return obj


def _cached(session: Session, project_id: int, technical_only: bool, column: Any) -> str:
    """One cached column of the evaluation, recomputed when the board's revision moved.

    ``technical_only`` leaves the price criteria out: what people without commercial access
    see while a two-envelope round has not closed technical scoring.
    """
    variant = "technical" if technical_only else "full"
    rnd = get_round(session, project_id)
    key = (EvaluationCache.project_id == project_id) & (EvaluationCache.variant == variant)
    row = session.execute(select(EvaluationCache.revision, column).where(key)).first()
    if row is not None and row[0] == rnd.revision:
        return row[1]
    board = load_board(session, project_id)
    if technical_only:
        board = replace(board, criteria=[c for c in board.criteria if not c.is_price])
    result = compute(board)
    body = json.dumps(result, separators=(",", ":"), allow_nan=False)
    for d in result["disagreements"]:
        d["scores"] = len(d.pop("entries"))
    summary = json.dumps(result, separators=(",", ":"), allow_nan=False)
    cached = session.get(EvaluationCache, (project_id, variant))
    if cached is None:
        session.add(
            EvaluationCache(
                project_id=project_id,
                variant=variant,
                revision=rnd.revision,
                body=body,
                summary=summary,
            )
        )
    else:
        cached.revision, cached.body, cached.summary = rnd.revision, body, summary
        cached.computed_at = utcnow()
    session.flush()
    return body if column is EvaluationCache.body else summary


def evaluation_json(session: Session, project_id: int, *, technical_only: bool = False) -> str:
    """The whole evaluation as JSON text, from the cache while the board is unchanged."""
    return _cached(session, project_id, technical_only, EvaluationCache.body)


def evaluation(session: Session, project_id: int, *, technical_only: bool = False) -> dict:
    """The evaluation as plain data (see :func:`compute`)."""
    return json.loads(evaluation_json(session, project_id, technical_only=technical_only))


def disagreement_entries(
    session: Session, project_id: int, pairs: list[tuple[int, int]]
) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """The counted scores (recusals left out) of some vendor × criterion pairs, one statement."""
    if not pairs:
        return {}
    rows = session.execute(
        select(Score.vendor_id, Score.criterion_id, Score.reviewer_id, Score.score, Score.comment)
        .outerjoin(
            Recusal,
            (Recusal.project_id == Score.project_id)
            & (Recusal.reviewer_id == Score.reviewer_id)
            & (Recusal.vendor_id == Score.vendor_id),
        )
        .where(
            Score.project_id == project_id,
            tuple_(Score.vendor_id, Score.criterion_id).in_(pairs),
            Recusal.id.is_(None),
        )
        .order_by(Score.reviewer_id)
    ).all()
    out: dict[tuple[int, int], list[dict[str, Any]]] = {p: [] for p in pairs}
    for v, c, r, score, comment in rows:
        out[(v, c)].append({"reviewer_id": r, "score": score, "comment": comment})
    return out


def evaluation_for(session: Session, access: Access) -> dict[str, Any]:
    """The evaluation as this member may see it; PermissionDenied under blind scoring."""
    return json.loads(evaluation_json_for(session, access))


def evaluation_summary_for(session: Session, access: Access) -> dict[str, Any]:
    """:func:`evaluation_for` without the disagreements' individual scores (for pages)."""
    return json.loads(evaluation_json_for(session, access, summary=True))


def require_results(session: Session, access: Access) -> None:
    """Raise PermissionDenied unless this member may see the board's results (blind scoring:
    a reviewer after submitting their own scoresheet, a viewer once the round is closed)."""
    if not can_see_board(session, access):
        raise PermissionDenied(
            "Blind scoring: submit your own scoresheet before you see the board's scores."
            if access.role == Role.REVIEWER
            else "The results are shown once the scoring round is closed."
        )


def evaluation_json_for(session: Session, access: Access, *, summary: bool = False) -> str:
    """:func:`evaluation_for` as JSON text."""
    require_results(session, access)
    rnd = get_round(session, access.project.id)
    hide_prices = rnd.two_envelopes and not rnd.technical_closed
    technical = hide_prices and not access.can(Permission.VIEW_COMMERCIAL)
    column = EvaluationCache.summary if summary else EvaluationCache.body
    return _cached(session, access.project.id, technical, column)


# --- the board at a glance --------------------------------------------------------------


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


# --- the vendors gate --------------------------------------------------------------------


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
