"""Rules of the goals phase: goals, KPIs, measurements, and the phase's computed criteria."""

from __future__ import annotations

import unicodedata
from datetime import date

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from planner.core import audit, references
from planner.core.errors import Conflict, NotFound, ValidationError
from planner.core.i18n import counted, quoted
from planner.core.pagination import Page, paginate
from planner.core.permissions import Permission
from planner.core.versioning import ensure_version
from planner.goals.models import KPI, Goal, Measurement
from planner.projects.access import Access
from planner.projects.models import Department, Project
from planner.projects.phases import Criterion, register_criteria

GOAL_FIELDS = ("statement", "department_id")
KPI_FIELDS = ("name", "unit", "baseline", "target", "measurement_method", "due_date")


def _check_department(session: Session, project_id: int, department_id: int | None) -> None:
    if department_id is None:
        return
    dept = session.get(Department, department_id)
    if dept is None or dept.project_id != project_id:
        raise ValidationError(
            "No such department in this rollout.", {"department_id": ["Unknown department."]}
        )


def goals_page(session: Session, project_id: int, page: int, per_page: int) -> Page[Goal]:
    """One page of goals with their KPIs and departments: three statements for any size."""
    stmt = (
        select(Goal)
        .options(joinedload(Goal.department), selectinload(Goal.kpis))
        .where(Goal.project_id == project_id)
        .order_by(Goal.position, Goal.id)
    )
    return paginate(session, stmt, page, per_page)


def get_goal(session: Session, project_id: int, goal_id: int) -> Goal:
    """The goal of this rollout with its department, KPIs and measurements; NotFound for another
    rollout's or none."""
    goal = session.scalar(
        select(Goal)
        .options(
            joinedload(Goal.department),
            selectinload(Goal.kpis).selectinload(KPI.measurements),
        )
        .where(Goal.id == goal_id, Goal.project_id == project_id)
    )
    if goal is None:
        raise NotFound("No such goal in this rollout.")
    return goal


def create_goal(
    session: Session, access: Access, *, statement: str, department_id: int | None
) -> Goal:
    """Add a goal at the end of the list (needs EDIT); ValidationError for an empty statement or a
    department of another rollout."""
    access.require(Permission.EDIT)
    statement = statement.strip()
    if not statement:
        raise ValidationError("A goal needs a statement.", {"statement": ["Required."]})
    _check_department(session, access.project.id, department_id)
    position = (
        session.scalar(select(func.max(Goal.position)).where(Goal.project_id == access.project.id))
        or 0
    ) + 1
    goal = Goal(
        project_id=access.project.id,
        statement=statement,
        department_id=department_id,
        position=position,
        updated_by_id=access.user.id,
    )
    session.add(goal)
    session.flush()
    audit.log(
        session,
        access,
        "goal.create",
        goal,
        f"goal added: {statement[:120]}",
        after=audit.snapshot(goal, GOAL_FIELDS),
    )
    return goal


def update_goal(
    session: Session,
    access: Access,
    goal: Goal,
    *,
    version: int | None,
    statement: str,
    department_id: int | None,
) -> Goal:
    """Change a goal; StaleEdit if someone saved it since ``version``."""
    access.require(Permission.EDIT)
    ensure_version(session, goal, version)
    statement = statement.strip()
    if not statement:
        raise ValidationError("A goal needs a statement.", {"statement": ["Required."]})
    _check_department(session, access.project.id, department_id)
    before = audit.snapshot(goal, GOAL_FIELDS)
    goal.statement, goal.department_id = statement, department_id
    goal.updated_by_id = access.user.id
    session.flush()
    audit.log(
        session,
        access,
        "goal.update",
        goal,
        f"goal changed: {statement[:120]}",
        before=before,
        after=audit.snapshot(goal, GOAL_FIELDS),
    )
    return goal


def delete_goal(session: Session, access: Access, goal: Goal) -> None:
    """Delete a goal with its KPIs and their measurements (needs EDIT); audited with the KPIs'
    names. Conflict while a later area's record refers to it (a requirement serves it)."""
    access.require(Permission.EDIT)
    references.refuse_if_referred(session, "goal", goal.id, "this goal")
    audit.log(
        session,
        access,
        "goal.delete",
        goal,
        f"goal deleted: {goal.statement[:120]}",
        before=audit.snapshot(goal, GOAL_FIELDS) | {"kpis": [k.name for k in goal.kpis]},
    )
    session.delete(goal)


def _check_kpi(
    session: Session, goal_id: int, name: str, due_date: date | None, *, kpi_id: int | None = None
) -> str:
    """The KPI's name, trimmed; ValidationError if empty, Conflict if another KPI of the goal
    has that name (ignoring case and repeated spaces: "Deals won" and "deals  won" are one)."""
    name = name.strip()
    if not name:
        raise ValidationError("A KPI needs a name.", {"name": ["Required."]})
    key = _name_key(name)
    others = session.execute(
        select(KPI.id, KPI.name).where(KPI.goal_id == goal_id, KPI.id != (kpi_id or 0))
    ).all()
    same = next((other for _id, other in others if _name_key(other) == key), None)
    if same is not None:
        raise Conflict(
            f"This goal has a KPI named {quoted(same)} already; choose another name.",
            {"name": [f"Another KPI of this goal is named {quoted(same)}."]},
        )
    return name


def _name_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def get_kpi(session: Session, project_id: int, kpi_id: int) -> KPI:
    """The KPI of a goal of this rollout with its measurements; NotFound for another rollout's or
    none."""
    kpi = session.scalar(
        select(KPI)
        .join(Goal)
        .options(selectinload(KPI.measurements))
        .where(KPI.id == kpi_id, Goal.project_id == project_id)
    )
    if kpi is None:
        raise NotFound("No such KPI in this rollout.")
    return kpi


def add_kpi(
    session: Session,
    access: Access,
    goal: Goal,
    *,
    name: str,
    unit: str = "",
    baseline: float | None = None,
    target: float | None = None,
    measurement_method: str = "",
    due_date: date | None = None,
) -> KPI:
    """Add a KPI to ``goal`` (needs EDIT); ValidationError for an empty name, Conflict for the
    name of another KPI of the goal."""
    access.require(Permission.EDIT)
    kpi = KPI(
        goal_id=goal.id,
        name=_check_kpi(session, goal.id, name, due_date),
        unit=unit.strip(),
        baseline=baseline,
        target=target,
        measurement_method=measurement_method.strip(),
        due_date=due_date,
        updated_by_id=access.user.id,
    )
    session.add(kpi)
    session.flush()
    audit.log(
        session,
        access,
        "kpi.create",
        kpi,
        f"KPI {quoted(kpi.name)} added to the goal {quoted(goal.statement)}",
        after=audit.snapshot(kpi, KPI_FIELDS),
    )
    return kpi


def update_kpi(
    session: Session,
    access: Access,
    kpi: KPI,
    *,
    version: int | None,
    name: str,
    unit: str,
    baseline: float | None,
    target: float | None,
    measurement_method: str,
    due_date: date | None,
) -> KPI:
    """Change a KPI (needs EDIT); StaleEdit if someone saved it since ``version``, ValidationError
    for an empty name, Conflict for the name of another KPI of the goal."""
    access.require(Permission.EDIT)
    ensure_version(session, kpi, version)
    before = audit.snapshot(kpi, KPI_FIELDS)
    kpi.name = _check_kpi(session, kpi.goal_id, name, due_date, kpi_id=kpi.id)
    kpi.unit = unit.strip()
    kpi.baseline, kpi.target = baseline, target
    kpi.measurement_method = measurement_method.strip()
    kpi.due_date = due_date
    kpi.updated_by_id = access.user.id
    session.flush()
    audit.log(
        session,
        access,
        "kpi.update",
        kpi,
        f"KPI {quoted(kpi.name)} changed",
        before=before,
        after=audit.snapshot(kpi, KPI_FIELDS),
    )
    return kpi


def delete_kpi(session: Session, access: Access, kpi: KPI) -> None:
    """Delete a KPI with its measurements (needs EDIT); audited with what it was."""
    access.require(Permission.EDIT)
    audit.log(
        session,
        access,
        "kpi.delete",
        kpi,
        f"KPI {quoted(kpi.name)} deleted",
        before=audit.snapshot(kpi, KPI_FIELDS),
    )
    session.delete(kpi)


def add_measurement(
    session: Session,
    access: Access,
    kpi: KPI,
    *,
    value: float,
    measured_on: date,
    note: str = "",
) -> Measurement:
    """Record a measured value of a KPI. Dates in the future are refused."""
    access.require(Permission.EDIT)
    from planner.core.db import utcnow

    if measured_on > utcnow().date():
        raise ValidationError(
            "A measurement cannot be dated in the future.",
            {"measured_on": ["In the future."]},
        )
    m = Measurement(
        kpi_id=kpi.id,
        value=value,
        measured_on=measured_on,
        note=note.strip(),
        recorded_by_id=access.user.id,
    )
    session.add(m)
    session.flush()
    audit.log(
        session,
        access,
        "measurement.create",
        m,
        f"KPI {quoted(kpi.name)}: {value} on {measured_on.isoformat()}",
        after={"value": value, "measured_on": measured_on.isoformat(), "note": m.note},
    )
    return m


def kpi_stats(session: Session, project_id: int) -> tuple[int, int, int]:
    """(goals, goals without any KPI, KPIs lacking a baseline or a target) in one statement."""
    kpi_count = (
        select(func.count(KPI.id)).where(KPI.goal_id == Goal.id).correlate(Goal).scalar_subquery()
    )
    incomplete = (
        select(func.count(KPI.id))
        .where(KPI.goal_id == Goal.id, or_(KPI.baseline.is_(None), KPI.target.is_(None)))
        .correlate(Goal)
        .scalar_subquery()
    )
    row = session.execute(
        select(
            func.count(Goal.id),
            func.coalesce(func.sum(case((kpi_count == 0, 1), else_=0)), 0),
            func.coalesce(func.sum(incomplete), 0),
        ).where(Goal.project_id == project_id)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def overdue_kpis(session: Session, project_id: int, today: date) -> int:
    """KPIs past their due date with no measurement recorded."""
    return (
        session.scalar(
            select(func.count(KPI.id))
            .join(Goal)
            .outerjoin(Measurement, Measurement.kpi_id == KPI.id)
            .where(
                Goal.project_id == project_id,
                and_(KPI.due_date.is_not(None), KPI.due_date < today),
                Measurement.id.is_(None),
            )
        )
        or 0
    )


@register_criteria("goals")
def goals_criteria(session: Session, project: Project) -> list[Criterion]:
    """The goals gate: a vision, a goal, and every goal with a KPI with baseline and target."""
    goals, without_kpi, incomplete = kpi_stats(session, project.id)
    return [
        Criterion("A vision statement is written", bool(project.vision.strip())),
        Criterion("At least one goal is stated", goals > 0, detail=counted(goals, "goal")),
        Criterion(
            "Every goal has at least one KPI",
            goals > 0 and without_kpi == 0,
            detail=f"{counted(without_kpi, 'goal')} without a KPI" if without_kpi else "",
        ),
        Criterion(
            "Every KPI has a baseline and a target",
            goals > 0 and incomplete == 0,
            detail=(
                f"{counted(incomplete, 'KPI')} "
                + ("lacks" if incomplete == 1 else "lack")
                + " a baseline or target"
                if incomplete
                else ""
            ),
        ),
    ]
