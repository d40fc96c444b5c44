"""Rules of the solution design: the working record and its modules, versions submitted for
review, the executives' approval through the one approval service, coverage of the
requirements, and the phase's gate; the board's review is :mod:`planner.design.review`,
gathered here.

Functions take a Session and plain values, flush, write the audit record, and raise
:mod:`planner.core.errors`; the view or the API commits once per unit of work.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from planner.core import approvals, audit
from planner.core.approvals import Meaning
from planner.core.errors import Conflict, NotFound, ValidationError
from planner.core.i18n import counted, quoted
from planner.core.permissions import Permission
from planner.core.versioning import ensure_version
from planner.design.models import (
    Design,
    DesignModule,
    DesignVersion,
    module_requirement,
)
from planner.design.review import (  # noqa: F401 (gathered here)
    DEFAULT_INDICATORS,
    DISAGREEMENT,
    IndicatorResult,
    ReviewResult,
    ScoreInput,
    VersionIndicator,
    add_indicator,
    delete_indicator,
    ensure_indicators,
    frozen_in,
    get_indicator,
    indicators,
    may_see_results,
    own_scores,
    review_result,
    reviewers,
    save_scores,
    submitted_by,
    update_indicator,
    version_indicators,
)
from planner.projects.access import Access
from planner.projects.phases import Criterion, SolutionKind, register_criteria
from planner.requirements.models import Requirement
from planner.requirements.records import Priority, ReqStatus

SUBJECT = "design.version"
DESIGN_FIELDS = (
    "solution_kind",
    "summary",
    "processes",
    "integrations",
    "organisational_fit",
    "growth_plans",
    "cost_estimate",
    "risks",
)
MODULE_NAME_MAX = 120


# --- the working design ------------------------------------------------------------------


def get_design(session: Session, access: Access) -> Design:
    """The rollout's working design with its modules and their requirements; an empty one,
    not saved, until its first change (the kind of solution the rollout was created with)."""
    design = session.scalar(
        select(Design)
        .options(selectinload(Design.modules).selectinload(DesignModule.requirements))
        .where(Design.project_id == access.project.id)
    )
    if design is None:
        design = Design(
            project_id=access.project.id, solution_kind=access.project.solution_kind, modules=[]
        )
    return design


def _saved_design(session: Session, access: Access) -> Design:
    design = get_design(session, access)
    if design.id is None:
        design.updated_by_id = access.user.id
        session.add(design)
        session.flush()
    return design


def _text(value: Any) -> str:
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def update_design(
    session: Session, access: Access, *, version: int | None, **values: Any
) -> Design:
    """Write the design's texts and solution kind (needs EDIT); ``version`` is the one read
    (None only for the first save): StaleEdit if someone saved it since, ValidationError
    without it once the design has been saved, or for an unknown solution kind."""
    access.require(Permission.EDIT)
    design = _saved_design(session, access)
    if version is None and design.version > 1:
        raise ValidationError(
            "Send the version of the design you read, so that nobody's edit is overwritten.",
            {"version": ["Required."]},
        )
    ensure_version(session, design, version)
    kind = values.get("solution_kind") or None
    if kind is not None:
        try:
            kind = SolutionKind(kind)
        except ValueError:
            raise ValidationError(
                "Unknown kind of solution.", {"solution_kind": ["Not a valid choice."]}
            ) from None
    before = audit.snapshot(design, DESIGN_FIELDS)
    design.solution_kind = kind
    for name in DESIGN_FIELDS[1:]:
        setattr(design, name, _text(values.get(name)))
    design.updated_by_id = access.user.id
    session.flush()
    audit.log(
        session,
        access,
        "design.update",
        design,
        "solution design changed",
        before=before,
        after=audit.snapshot(design, DESIGN_FIELDS),
    )
    return design


def _requirements(session: Session, project_id: int, ids: Iterable[int]) -> list[Requirement]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    found = list(
        session.scalars(
            select(Requirement).where(Requirement.project_id == project_id, Requirement.id.in_(ids))
        )
    )
    unknown = sorted(set(ids) - {r.id for r in found})
    if unknown:
        text = f"No requirement {', '.join(map(str, unknown))} in this rollout."
        raise ValidationError(text, {"requirement_ids": [text]})
    return sorted(found, key=lambda r: r.number)


def _module_name(session: Session, design: Design, name: str, own_id: int | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("A module needs a name.", {"name": ["Required."]})
    key = unicodedata.normalize("NFKC", name).casefold()
    for m in design.modules:
        if m.id != own_id and unicodedata.normalize("NFKC", m.name).casefold() == key:
            raise Conflict(
                f"The design has a module named {quoted(m.name)} already.",
                {"name": [f"Another module is named {quoted(m.name)}."]},
            )
    return name


def add_module(
    session: Session,
    access: Access,
    *,
    name: str,
    description: str = "",
    requirement_ids: Iterable[int] = (),
) -> DesignModule:
    """Add a module to the design with the requirements it covers (needs EDIT); Conflict for
    a name taken, ValidationError for a requirement of another rollout."""
    access.require(Permission.EDIT)
    design = _saved_design(session, access)
    module = DesignModule(
        design_id=design.id,
        position=max((m.position for m in design.modules), default=0) + 1,
        name=_module_name(session, design, name, None),
        description=_text(description),
        updated_by_id=access.user.id,
    )
    module.requirements = _requirements(session, access.project.id, requirement_ids)
    session.add(module)
    session.flush()
    audit.log(
        session,
        access,
        "design.module.create",
        module,
        f"design module {quoted(module.name)} added, covering "
        + counted(len(module.requirements), "requirement"),
        after={"requirements": [r.key for r in module.requirements]},
    )
    return module


def get_module(session: Session, access: Access, module_id: int) -> DesignModule:
    """A module of this rollout's design with its requirements; NotFound else."""
    module = session.scalar(
        select(DesignModule)
        .join(Design, Design.id == DesignModule.design_id)
        .options(selectinload(DesignModule.requirements))
        .where(DesignModule.id == module_id, Design.project_id == access.project.id)
    )
    if module is None:
        raise NotFound("No such module in this design.")
    return module


def update_module(
    session: Session,
    access: Access,
    module: DesignModule,
    *,
    version: int | None,
    name: str,
    description: str = "",
    requirement_ids: Iterable[int] = (),
) -> DesignModule:
    """Change a module (needs EDIT); StaleEdit, Conflict and ValidationError as above."""
    access.require(Permission.EDIT)
    ensure_version(session, module, version)
    design = get_design(session, access)
    before = {
        "name": module.name,
        "description": module.description,
        "requirements": [r.key for r in module.requirements],
    }
    module.name = _module_name(session, design, name, module.id)
    module.description = _text(description)
    module.requirements = _requirements(session, access.project.id, requirement_ids)
    module.updated_by_id = access.user.id
    session.flush()
    audit.log(
        session,
        access,
        "design.module.update",
        module,
        f"design module {quoted(module.name)} changed",
        before=before,
        after={
            "name": module.name,
            "description": module.description,
            "requirements": [r.key for r in module.requirements],
        },
    )
    return module


def delete_module(session: Session, access: Access, module: DesignModule) -> None:
    """Remove a module from the working design (needs EDIT); submitted versions keep it."""
    access.require(Permission.EDIT)
    audit.log(
        session,
        access,
        "design.module.delete",
        module,
        f"design module {quoted(module.name)} removed",
        before={"requirements": [r.key for r in module.requirements]},
    )
    session.delete(module)


# --- coverage --------------------------------------------------------------------------------


def coverable(
    session: Session, project_id: int, module: DesignModule | None = None
) -> list[tuple[int, str]]:
    """What a module may cover, as (id, "REQ-001 title"): the register's requirements but the
    rejected ones, and whatever ``module`` covers already (a requirement rejected since stays
    listed, marked, so that saving the module does not drop it unasked). One statement."""
    own = {r.id for r in module.requirements} if module is not None else set()
    rows = session.execute(
        select(Requirement.id, Requirement.number, Requirement.title, Requirement.status)
        .where(Requirement.project_id == project_id)
        .order_by(Requirement.number)
    ).all()
    return [
        (rid, f"REQ-{n:03d} {title}" + (" (rejected)" if status == ReqStatus.REJECTED else ""))
        for rid, n, title, status in rows
        if status != ReqStatus.REJECTED or rid in own
    ]


@dataclass(frozen=True)
class Uncovered:
    """A requirement no module of the design covers."""

    id: int
    key: str
    title: str
    priority: Priority


def uncovered(
    session: Session, project_id: int, covered: Iterable[int] | None = None
) -> list[Uncovered]:
    """The rollout's requirements (rejected and deferred ones aside) that no module covers:
    of the working design, or, given ``covered`` (ids), of a submitted version. Musts first
    (one statement, two for the working design)."""
    if covered is None:
        covered = session.scalars(
            select(module_requirement.c.requirement_id)
            .join(DesignModule, DesignModule.id == module_requirement.c.module_id)
            .join(Design, Design.id == DesignModule.design_id)
            .where(Design.project_id == project_id)
        ).all()
    ids = set(covered)
    rows = session.execute(
        select(Requirement.id, Requirement.number, Requirement.title, Requirement.priority)
        .where(
            Requirement.project_id == project_id,
            Requirement.status.not_in([ReqStatus.REJECTED, ReqStatus.DEFERRED]),
        )
        .order_by(Requirement.number)
    ).all()
    order = {p: i for i, p in enumerate(Priority)}
    out = [
        Uncovered(rid, f"REQ-{n:03d}", title, priority)
        for rid, n, title, priority in rows
        if rid not in ids
    ]
    return sorted(out, key=lambda u: (order[u.priority], u.key))


# --- versions ----------------------------------------------------------------------------------


def content_of(design: Design) -> dict[str, Any]:
    """What a version freezes, as plain values: the texts, and each module with the exact
    revision of each requirement it covers (no floats: it is signed as canonical JSON)."""
    return {
        **{name: (getattr(design, name) or "") for name in DESIGN_FIELDS[1:]},
        "solution_kind": design.solution_kind.value if design.solution_kind else None,
        "modules": [
            {
                "name": m.name,
                "description": m.description,
                "requirements": [
                    {
                        "id": r.id,
                        "key": r.key,
                        "revision": r.revision,
                        "title": r.title,
                        "priority": r.priority.value,
                    }
                    for r in m.requirements
                ],
            }
            for m in design.modules
        ],
    }


def _signed_content(version: DesignVersion) -> dict[str, Any]:
    """What an executive signs: the version's number and content."""
    return {"version": version.number, "design": version.content}


def submit_version(session: Session, access: Access) -> DesignVersion:
    """Freeze the working design as the next numbered version, for the board's review and the
    executives' approval (needs EDIT). Conflict if it has no module, or equals the latest
    version (nothing new to review)."""
    access.require(Permission.EDIT)
    design = get_design(session, access)
    if not design.modules:
        raise Conflict("Give the design at least one module before it is reviewed.")
    content = content_of(design)
    latest = latest_version(session, access.project.id)
    if (
        latest is not None
        and {k: v for k, v in latest.content.items() if k != "indicators"} == content
    ):
        raise Conflict(
            f"The design has not changed since version {latest.number}; nothing to submit."
        )
    number = (latest.number if latest else 0) + 1
    # what the board scores this version on, frozen with it (weights as text: no floats in
    # what is signed); an indicator added later is scored from the next version on
    content["indicators"] = [
        {"id": i.id, "name": i.name, "weight": f"{i.weight:g}"}
        for i in ensure_indicators(session, access)
    ]
    version = DesignVersion(
        project_id=access.project.id,
        number=number,
        content=content,
        digest="",
        submitted_by_id=access.user.id,
        submitted_by_name=access.user.name,
    )
    version.digest = approvals.digest_of(_signed_content(version))
    session.add(version)
    session.flush()
    audit.log(
        session,
        access,
        "design.version.submit",
        version,
        f"solution design version {number} submitted for review",
        after={"sha256": version.digest},
    )
    return version


def latest_version(session: Session, project_id: int) -> DesignVersion | None:
    """The newest submitted version, or None."""
    return session.scalar(
        select(DesignVersion)
        .where(DesignVersion.project_id == project_id)
        .order_by(DesignVersion.number.desc())
        .limit(1)
    )


def versions(session: Session, project_id: int) -> list[DesignVersion]:
    """Every submitted version, newest first."""
    return list(
        session.scalars(
            select(DesignVersion)
            .where(DesignVersion.project_id == project_id)
            .order_by(DesignVersion.number.desc())
        )
    )


def get_version(session: Session, project_id: int, number: int) -> DesignVersion:
    """Version ``number`` of the rollout's design; NotFound else."""
    v = session.scalar(
        select(DesignVersion).where(
            DesignVersion.project_id == project_id, DesignVersion.number == number
        )
    )
    if v is None:
        raise NotFound(f"The design has no version {number}.")
    return v


# --- the executives' approval ------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Where a version stands with the executives: its signatures and the verdict."""

    signatures: list[approvals.Approval]
    rejected: bool
    approved: bool  # signed by someone, rejected by nobody

    @property
    def label(self) -> str:
        return "rejected" if self.rejected else "approved" if self.approved else "under review"


def standing(session: Session, version: DesignVersion) -> Standing:
    """The version's signatures and verdict: rejected if any executive rejected it, approved
    if one approved it and none rejected it (one statement)."""
    signed = approvals.approvals(session, SUBJECT, version.id)
    rejected = any(a.meaning == Meaning.REJECTED for a in signed)
    return Standing(signed, rejected, bool(signed) and not rejected)


def approve(
    session: Session,
    access: Access,
    version: DesignVersion,
    *,
    shown_digest: str,
    meaning: str,
    conditions: str,
    password: str,
) -> approvals.Approval:
    """An executive approves or rejects a submitted version (see
    :func:`planner.core.approvals.sign`: meaning, password, the digest they were shown).
    Conflict if a newer version has been submitted (only the latest is up for approval)."""
    latest = latest_version(session, access.project.id)
    if latest is None or latest.id != version.id:
        raise Conflict(
            f"Version {version.number} is no longer up for approval: version "
            f"{latest.number if latest else '?'} replaced it."
        )
    return approvals.sign(
        session,
        access,
        subject=SUBJECT,
        subject_id=version.id,
        subject_version=version.number,
        content=_signed_content(version),
        shown_digest=shown_digest,
        meaning=meaning,
        conditions=conditions,
        password=password,
        what=f"the solution design, version {version.number}",
        allowed=(Meaning.APPROVED, Meaning.APPROVED_WITH_CONDITIONS, Meaning.REJECTED),
    )


def digest_shown(version: DesignVersion) -> str:
    """The digest an approver is shown for ``version`` (what :func:`approve` checks)."""
    return approvals.digest_of(_signed_content(version))


# --- the gate ------------------------------------------------------------------------------------


@register_criteria("design")
def _criteria(session: Session, project) -> list[Criterion]:
    """An approved version (the latest, rejected by nobody); no must-have requirement left
    uncovered by its modules (three statements)."""
    latest = latest_version(session, project.id)
    verdict = standing(session, latest) if latest else None
    covered = (
        [r["id"] for m in latest.content["modules"] for r in m["requirements"]] if latest else []
    )
    musts = [
        u.key
        for u in (uncovered(session, project.id, covered) if latest else [])
        if u.priority == Priority.MUST
    ]
    if latest is None:
        approved_detail = "no version submitted yet"
    elif verdict and verdict.rejected:
        approved_detail = f"version {latest.number} was rejected"
    elif not (verdict and verdict.approved):
        approved_detail = f"version {latest.number} awaits an executive's approval"
    else:
        approved_detail = ""
    return [
        Criterion(
            "The latest version of the design is approved by an executive",
            met=bool(verdict and verdict.approved),
            detail=approved_detail,
        ),
        Criterion(
            "Every must-have requirement is covered by a module of the design",
            met=latest is not None and not musts,
            detail=(", ".join(musts[:10]) + (" …" if len(musts) > 10 else "") + " uncovered")
            if musts
            else "",
        ),
    ]
