"""The catalogue of vendor selection: vendors, criteria and their AHP pairwise weights.

Part of the vendor-selection rules (see :mod:`planner.vendors.service`).
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from planner.core import audit
from planner.core.errors import Conflict, NotFound, ValidationError
from planner.core.i18n import counted, quoted
from planner.core.permissions import Permission
from planner.core.versioning import ensure_version
from planner.projects.access import Access
from planner.vendors import scoring
from planner.vendors.models import (
    Criterion,
    PairwiseJudgement,
    Score,
    Vendor,
    VendorDecision,
)
from planner.vendors.round_state import bump_revision, get_round, require_round_editable
from planner.vendors.schemas import (
    COST_MAX,
    COST_MIN,
    WEIGHT_MAX,
    WEIGHT_MIN,
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


def vendors(session: Session, project_id: int) -> list[Vendor]:
    """The rollout's candidate vendors in name order."""
    return list(
        session.scalars(
            select(Vendor).where(Vendor.project_id == project_id).order_by(Vendor.name_key)
        )
    )


def get_vendor(session: Session, project_id: int, vendor_id: int) -> Vendor:
    """The vendor of this rollout; NotFound for another rollout's or none."""
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
    require_round_editable(get_round(session, access.project.id))
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
    bump_revision(session, access)
    audit.log(
        session,
        access,
        "vendor.create",
        vendor,
        f"vendor {quoted(vendor.name)} added",
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
    """Change a vendor (needs EDIT); Conflict while the round is closed or for a near-duplicate
    name, StaleEdit if someone saved it since ``version``, ValidationError for an empty name or a
    cost out of range."""
    access.require(Permission.EDIT)
    require_round_editable(get_round(session, access.project.id))
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
    bump_revision(session, access)
    audit.log(
        session,
        access,
        "vendor.update",
        vendor,
        f"vendor {quoted(vendor.name)} changed",
        before=before,
        after=audit.snapshot(vendor, VENDOR_FIELDS),
    )
    return vendor


def delete_vendor(session: Session, access: Access, vendor: Vendor) -> None:
    """Delete a vendor with its scores (needs EDIT); Conflict while the round is closed or if it is
    the recorded choice."""
    access.require(Permission.EDIT)
    require_round_editable(get_round(session, access.project.id))
    decided = session.scalar(select(VendorDecision.id).where(VendorDecision.vendor_id == vendor.id))
    if decided:
        raise Conflict("This vendor is the recorded choice; record another decision first.")
    n_scores = session.scalar(select(func.count(Score.id)).where(Score.vendor_id == vendor.id))
    audit.log(
        session,
        access,
        "vendor.delete",
        vendor,
        f"vendor {quoted(vendor.name)} deleted with {counted(n_scores, 'score')}",
        before=audit.snapshot(vendor, VENDOR_FIELDS),
    )
    session.delete(vendor)
    bump_revision(session, access)


def criteria(session: Session, project_id: int) -> list[Criterion]:
    """The rollout's criteria in their order."""
    return list(
        session.scalars(
            select(Criterion)
            .where(Criterion.project_id == project_id)
            .order_by(Criterion.position, Criterion.id)
        )
    )


def get_criterion(session: Session, project_id: int, criterion_id: int) -> Criterion:
    """The criterion of this rollout; NotFound for another rollout's or none."""
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
    """Add a criterion at the end, weight 1 and minimum mean score 3 unless given (needs EDIT);
    Conflict while the round is closed or for a near-duplicate name, ValidationError for an empty
    name or a weight or minimum out of range."""
    access.require(Permission.EDIT)
    require_round_editable(get_round(session, access.project.id))
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
    bump_revision(session, access)
    audit.log(
        session,
        access,
        "criterion.create",
        crit,
        f"criterion {quoted(crit.name)} added",
        after=audit.snapshot(crit, CRITERION_FIELDS),
    )
    return crit


def update_criterion(
    session: Session, access: Access, crit: Criterion, *, version: int | None, **fields: Any
) -> Criterion:
    """Change a criterion (needs EDIT); Conflict while the round is closed or for a near-duplicate
    name, StaleEdit if someone saved it since ``version``, ValidationError for an empty name or a
    weight or minimum out of range."""
    access.require(Permission.EDIT)
    require_round_editable(get_round(session, access.project.id))
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
    bump_revision(session, access)
    audit.log(
        session,
        access,
        "criterion.update",
        crit,
        f"criterion {quoted(crit.name)} changed",
        before=before,
        after=audit.snapshot(crit, CRITERION_FIELDS),
    )
    return crit


def delete_criterion(session: Session, access: Access, crit: Criterion) -> None:
    """Delete a criterion with its scores (needs EDIT); Conflict while the round is closed."""
    access.require(Permission.EDIT)
    require_round_editable(get_round(session, access.project.id))
    audit.log(
        session,
        access,
        "criterion.delete",
        crit,
        f"criterion {quoted(crit.name)} deleted",
        before=audit.snapshot(crit, CRITERION_FIELDS),
    )
    session.delete(crit)
    bump_revision(session, access)


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
    require_round_editable(get_round(session, access.project.id))
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
        bump_revision(session, access)
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
    """The stored AHP judgements, by (criterion a, criterion b) ids: how strongly a is preferred
    over b."""
    rows = session.execute(
        select(
            PairwiseJudgement.criterion_a_id,
            PairwiseJudgement.criterion_b_id,
            PairwiseJudgement.value,
        ).where(PairwiseJudgement.project_id == project_id)
    ).all()
    return {(a, b): v for a, b, v in rows}


def stored_ahp(session: Session, project_id: int) -> scoring.AHPResult | None:
    """The AHP result of the stored judgements over the current non-price criteria, or None
    when there are fewer than two such criteria, no judgements, or they no longer form a
    complete matrix (a criterion was added or removed since)."""
    judgements = pairwise(session, project_id)
    tech = [c for c in criteria(session, project_id) if not c.is_price]
    if not judgements or len(tech) < 2:
        return None
    index = {c.id: i for i, c in enumerate(tech)}
    pairs = {
        (index[a], index[b]): v for (a, b), v in judgements.items() if a in index and b in index
    }
    try:
        return scoring.ahp(scoring.ahp_matrix_from_pairs(len(tech), pairs))
    except ValueError:
        return None
