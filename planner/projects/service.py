"""Rules of a rollout: projects, members, phases and gates.

Departments and members live in :mod:`planner.projects.members` (gathered here for callers);
this module keeps the rollout itself, its phases and their gates.

Functions take a Session and plain values, flush, write the audit record, and raise errors
from :mod:`planner.core.errors`. The caller commits once per unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.core import audit
from planner.core.accounts.models import User
from planner.core.db import utcnow
from planner.core.errors import Conflict, NotFound, ValidationError
from planner.core.i18n import quoted
from planner.core.permissions import Permission, Role
from planner.core.versioning import ensure_version
from planner.projects.access import Access, load_access, projects_for  # noqa: F401 (re-exported)
from planner.projects.members import (  # noqa: F401 (gathered here)
    DEFAULT_DEPARTMENTS,
    add_department,
    add_member,
    change_member,
    delete_department,
    department_by_name,
    departments,
    get_department,
    members,
    remove_member,
    rename_department,
)
from planner.projects.models import (
    ChecklistItem,
    Department,
    GateDecision,
    Membership,
    Phase,
    Project,
)
from planner.projects.phases import (
    PHASE_BY_KEY,
    PHASE_KEYS,
    PHASES,
    Criterion,
    GateOutcome,
    PhaseStatus,
    SolutionKind,
    Strategy,
    earlier_phases_open,
    phase_name,
    providers,
    unmet,
)

PROJECT_FIELDS = ("name", "company", "description", "solution_kind", "strategy")
PHASE_FIELDS = ("owner_id", "planned_start", "planned_end", "actual_start", "actual_end")


def create_project(
    session: Session,
    actor: User,
    *,
    name: str,
    company: str = "",
    description: str = "",
    solution_kind: SolutionKind | str | None = None,
    strategy: Strategy | str | None = None,
) -> Project:
    """Create a rollout with its nine phases, the usual departments, and ``actor`` as lead."""
    project = Project(
        name=name.strip(),
        company=company.strip(),
        description=description,
        solution_kind=SolutionKind(solution_kind) if solution_kind else None,
        strategy=Strategy(strategy) if strategy else None,
        created_by_id=actor.id,
        updated_by_id=actor.id,
    )
    session.add(project)
    session.flush()
    for position, phase in enumerate(PHASES):
        session.add(Phase(project_id=project.id, key=phase.key, position=position))
    for dept in DEFAULT_DEPARTMENTS:
        session.add(Department(project_id=project.id, name=dept))
    session.add(Membership(project_id=project.id, user_id=actor.id, role=Role.LEAD))
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="project.create",
        entity_type="project",
        entity_id=project.id,
        project_id=project.id,
        summary=f"rollout {quoted(project.name)} created",
        after=audit.snapshot(project, PROJECT_FIELDS),
    )
    return project


def update_project(
    session: Session, access: Access, *, version: int | None, **fields: Any
) -> Project:
    """Change the project's settings. Raises StaleEdit if ``version`` is not current."""
    access.require(Permission.EDIT)
    project = access.project
    ensure_version(session, project, version)
    before = audit.snapshot(project, PROJECT_FIELDS + ("vision", "strategy_text"))
    for key, value in fields.items():
        if key not in PROJECT_FIELDS + ("vision", "strategy_text"):
            raise ValueError(key)
        if key == "solution_kind":
            value = SolutionKind(value) if value else None
        elif key == "strategy":
            value = Strategy(value) if value else None
        elif key == "name":
            value = value.strip()
        setattr(project, key, value)
    project.updated_by_id = access.user.id
    session.flush()
    audit.log(
        session,
        access,
        "project.update",
        project,
        "rollout settings changed",
        before=before,
        after=audit.snapshot(project, PROJECT_FIELDS + ("vision", "strategy_text")),
    )
    return project


def set_archived(session: Session, access: Access, archived: bool) -> None:
    """Archive the rollout, or restore it if ``archived`` is false (needs EDIT); audited."""
    access.require(Permission.EDIT)
    access.project.archived = archived
    access.project.updated_by_id = access.user.id
    audit.log(
        session,
        access,
        "project.archive" if archived else "project.unarchive",
        access.project,
        "rollout archived" if archived else "rollout restored",
    )


# --- departments and members -------------------------------------------------------------


def phases(session: Session, project_id: int) -> list[Phase]:
    """The rollout's phases in their order, with their owners."""
    from sqlalchemy.orm import joinedload

    return list(
        session.scalars(
            select(Phase)
            .options(joinedload(Phase.owner))
            .where(Phase.project_id == project_id)
            .order_by(Phase.position)
        )
    )


def _require_own_phase(access: Access, phase: Phase) -> None:
    """A phase of the rollout the access is to (its audit events name that rollout)."""
    if phase.project_id != access.project.id:
        raise NotFound("No such phase in this rollout.")


def get_phase(session: Session, project_id: int, key: str) -> Phase:
    """The rollout's phase with this key, with its owner; NotFound for an unknown key or none."""
    if key not in PHASE_BY_KEY:
        raise NotFound(f"There is no phase {key!r}. Phases are: {', '.join(PHASE_KEYS)}.")
    from sqlalchemy.orm import joinedload

    phase = session.scalar(
        select(Phase)
        .options(joinedload(Phase.owner))
        .where(Phase.project_id == project_id, Phase.key == key)
    )
    if phase is None:
        raise NotFound("No such phase.")
    return phase


def statuses(session: Session, project_id: int) -> dict[str, PhaseStatus]:
    """The status of each of the rollout's phases, by phase key."""
    rows = session.execute(
        select(Phase.key, Phase.status).where(Phase.project_id == project_id)
    ).all()
    return {k: s for k, s in rows}


def checklist(session: Session, phase_id: int) -> list[ChecklistItem]:
    """The manual checklist items of a phase, in the order they were added."""
    return list(
        session.scalars(
            select(ChecklistItem)
            .where(ChecklistItem.phase_id == phase_id)
            .order_by(ChecklistItem.id)
        )
    )


def criteria(session: Session, project: Project, phase: Phase) -> list[Criterion]:
    """Every exit criterion of ``phase``: earlier gates, computed ones, then the checklist."""
    result: list[Criterion] = []
    open_before = earlier_phases_open(statuses(session, project.id), phase.key)
    result.append(
        Criterion(
            label="Earlier phases have passed their gates or were skipped",
            met=not open_before,
            detail=", ".join(str(PHASE_BY_KEY[k].title) for k in open_before),
        )
    )
    for provider in providers(phase.key):
        result.extend(provider(session, project))
    for item in checklist(session, phase.id):
        result.append(Criterion(label=item.text, met=item.done, computed=False))
    return result


def update_phase(
    session: Session,
    access: Access,
    phase: Phase,
    *,
    version: int | None,
    owner_id: int | None,
    planned_start: date | None,
    planned_end: date | None,
    actual_start: date | None = None,
    actual_end: date | None = None,
) -> Phase:
    """Change a phase's owner and dates (needs EDIT); NotFound for another rollout's phase,
    StaleEdit if someone saved it since ``version``, ValidationError for an owner who is not a
    member or an end before its start."""
    _require_own_phase(access, phase)
    access.require(Permission.EDIT)
    ensure_version(session, phase, version)
    if owner_id is not None:
        is_member = session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.project_id == phase.project_id, Membership.user_id == owner_id)
        )
        if not is_member:
            raise ValidationError(
                "The owner must be a member of the rollout.", {"owner_id": ["Not a member."]}
            )
    for a, b, field in (
        (planned_start, planned_end, "planned_end"),
        (actual_start, actual_end, "actual_end"),
    ):
        if a and b and b < a:
            raise ValidationError(
                "An end date cannot be before its start.", {field: ["Before start."]}
            )
    before = audit.snapshot(phase, PHASE_FIELDS)
    phase.owner_id = owner_id
    phase.planned_start, phase.planned_end = planned_start, planned_end
    phase.actual_start, phase.actual_end = actual_start, actual_end
    phase.updated_by_id = access.user.id
    session.flush()
    audit.log(
        session,
        access,
        "phase.update",
        phase,
        summary=f"{phase_name(phase.key)}: planning changed",
        before=before,
        after=audit.snapshot(phase, PHASE_FIELDS),
    )
    return phase


# How a gate's outcome reads in the audit trail.
GATE_WORDS = {
    GateOutcome.PASS: "passed",
    GateOutcome.SEND_BACK: "sent back",
    GateOutcome.SKIP: "skipped",
}


def _set_status(session: Session, access: Access, phase: Phase, status: PhaseStatus, why: str):
    _require_own_phase(access, phase)
    before = {"status": phase.status.value}
    phase.status = status
    phase.updated_by_id = access.user.id
    audit.log(
        session,
        access,
        "phase.status",
        phase,
        summary=f"{phase_name(phase.key)}: {why}",
        before=before,
        after={"status": status.value},
    )


def start_phase(session: Session, access: Access, phase: Phase) -> None:
    """Start a phase that has not started, dating its actual start today unless set (needs EDIT);
    Conflict if it has started already, NotFound for another rollout's phase."""
    access.require(Permission.EDIT)
    if phase.status != PhaseStatus.NOT_STARTED:
        raise Conflict("This phase has started already.")
    phase.actual_start = phase.actual_start or utcnow().date()
    _set_status(session, access, phase, PhaseStatus.IN_PROGRESS, "started")


def request_gate(session: Session, access: Access, phase: Phase) -> None:
    """Mark the phase ready for its gate decision."""
    access.require(Permission.EDIT)
    if phase.status not in (PhaseStatus.NOT_STARTED, PhaseStatus.IN_PROGRESS):
        raise Conflict("Only a phase that is under way can be put up for its gate.")
    if phase.actual_start is None:
        phase.actual_start = utcnow().date()
    _set_status(session, access, phase, PhaseStatus.AWAITING_GATE, "gate requested")


def decide_gate(
    session: Session,
    access: Access,
    phase: Phase,
    *,
    outcome: GateOutcome | str,
    comment: str = "",
    risk_acknowledged: bool = False,
) -> GateDecision:
    """Record a gate decision.

    ``pass`` is refused while any criterion is unmet; ``send_back`` needs a comment and returns
    the phase to work; ``skip`` needs the phase's risk of skipping acknowledged and a reason.
    A phase that has passed or was skipped is closed: no further decision is taken.
    """
    _require_own_phase(access, phase)
    access.require(Permission.DECIDE_GATE)
    outcome = GateOutcome(outcome)
    comment = comment.strip()
    if phase.status.done:
        raise Conflict(f"This phase is {phase.status.value.replace('_', ' ')}; its gate is closed.")
    if outcome == GateOutcome.PASS:
        missing = unmet(criteria(session, access.project, phase))
        if missing:
            raise Conflict(
                "The gate cannot pass while criteria are unmet: "
                + "; ".join(c.label for c in missing)
            )
        phase.actual_end = phase.actual_end or utcnow().date()
        phase.actual_start = phase.actual_start or phase.actual_end
        new_status = PhaseStatus.PASSED
    elif outcome == GateOutcome.SEND_BACK:
        if not comment:
            raise ValidationError(
                "Say why the phase is sent back.", {"comment": ["Required when sending back."]}
            )
        if phase.status != PhaseStatus.AWAITING_GATE:
            raise Conflict("Only a phase awaiting its gate can be sent back.")
        new_status = PhaseStatus.IN_PROGRESS
    else:
        errors: dict[str, list[str]] = {}
        if not risk_acknowledged:
            errors["risk_acknowledged"] = ["Acknowledge the risk of skipping this phase."]
        if not comment:
            errors["comment"] = ["Give the reason for skipping."]
        if errors:
            raise ValidationError(
                "Skipping a phase needs its risk acknowledged and a reason.", errors
            )
        new_status = PhaseStatus.SKIPPED
    decision = GateDecision(
        phase_id=phase.id,
        outcome=outcome,
        comment=comment,
        risk_acknowledged=risk_acknowledged,
        decided_by_id=access.user.id,
    )
    session.add(decision)
    session.flush()
    before = {"status": phase.status.value}
    phase.status = new_status
    phase.updated_by_id = access.user.id
    session.flush()
    audit.log(
        session,
        access,
        f"gate.{outcome.value}",
        phase,
        summary=f"gate of {phase_name(phase.key)}: {GATE_WORDS[outcome]}"
        + (
            f" (risk acknowledged: {PHASE_BY_KEY[phase.key].risk_of_skipping})"
            if outcome == GateOutcome.SKIP
            else ""
        ),
        before=before,
        after={
            "status": new_status.value,
            "comment": comment,
            "risk_acknowledged": risk_acknowledged,
        },
    )
    return decision


def gate_history(session: Session, phase_id: int) -> list[GateDecision]:
    """The gate decisions of a phase with who took them, newest first."""
    from sqlalchemy.orm import joinedload

    return list(
        session.scalars(
            select(GateDecision)
            .options(joinedload(GateDecision.decided_by))
            .where(GateDecision.phase_id == phase_id)
            .order_by(GateDecision.id.desc())
        )
    )


def add_checklist_item(session: Session, access: Access, phase: Phase, text: str) -> ChecklistItem:
    """Add a manual exit criterion to a phase (needs EDIT); NotFound for another rollout's phase,
    ValidationError for empty text, Conflict once the phase is closed."""
    _require_own_phase(access, phase)
    access.require(Permission.EDIT)
    text = text.strip()
    if not text:
        raise ValidationError("A checklist item needs text.", {"text": ["Required."]})
    if phase.status.done:
        raise Conflict("This phase is closed; its checklist cannot change.")
    item = ChecklistItem(phase_id=phase.id, text=text)
    session.add(item)
    session.flush()
    audit.log(
        session,
        access,
        "checklist.create",
        item,
        summary=f"{phase_name(phase.key)}: criterion {quoted(text)} added",
    )
    return item


def _item(session: Session, phase: Phase, item_id: int) -> ChecklistItem:
    item = session.get(ChecklistItem, item_id)
    if item is None or item.phase_id != phase.id:
        raise NotFound("No such checklist item.")
    return item


def set_checklist_item(
    session: Session, access: Access, phase: Phase, item_id: int, done: bool
) -> ChecklistItem:
    """Tick or untick a checklist item, recording who and when (needs EDIT); NotFound for another
    rollout's phase or another phase's item, Conflict once the phase is closed."""
    _require_own_phase(access, phase)
    access.require(Permission.EDIT)
    if phase.status.done:
        raise Conflict("This phase is closed; its checklist cannot change.")
    item = _item(session, phase, item_id)
    before = {"done": item.done}
    item.done = done
    item.done_by_id = access.user.id if done else None
    item.done_at = utcnow() if done else None
    audit.log(
        session,
        access,
        "checklist.update",
        item,
        summary=f"{phase_name(phase.key)}: {quoted(item.text)} {'ticked' if done else 'unticked'}",
        before=before,
        after={"done": done},
    )
    return item


def delete_checklist_item(session: Session, access: Access, phase: Phase, item_id: int) -> None:
    """Remove a checklist item (needs EDIT); NotFound for another rollout's phase or another phase's
    item, Conflict once the phase is closed."""
    _require_own_phase(access, phase)
    access.require(Permission.EDIT)
    if phase.status.done:
        raise Conflict("This phase is closed; its checklist cannot change.")
    item = _item(session, phase, item_id)
    audit.log(
        session,
        access,
        "checklist.delete",
        item,
        summary=f"{phase_name(phase.key)}: criterion {quoted(item.text)} removed",
        before={"text": item.text, "done": item.done},
    )
    session.delete(item)


@dataclass(frozen=True)
class PhaseSummary:
    """A phase on the overview: overdue if its planned end has passed and it is not done; its unmet
    criteria counted for the next gate only (None for the others)."""

    phase: Phase
    overdue: bool
    unmet_count: int | None  # None: not evaluated (phase done)


def overview(session: Session, project: Project, today: date) -> list[PhaseSummary]:
    """Every phase with its overdue flag; unmet criteria counted for the next gate only."""
    rows = phases(session, project.id)
    st = {p.key: p.status for p in rows}
    from planner.projects.phases import next_gate

    nxt = next_gate(st)
    out = []
    for p in rows:
        overdue = bool(p.planned_end and p.planned_end < today and not p.status.done)
        count = len(unmet(criteria(session, project, p))) if p.key == nxt else None
        out.append(PhaseSummary(p, overdue, count))
    return out
