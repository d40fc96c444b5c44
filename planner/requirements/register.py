"""The register as people read it: filtered, searched, sorted and paged, counted, flagged,
and as plain records for the files that carry it elsewhere. Reads only; the rules that change
requirements are :mod:`planner.requirements.service`."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from planner.core.pagination import Page, paginate
from planner.goals.models import Goal
from planner.projects.models import Department
from planner.requirements import flags as flag_rules
from planner.requirements import intake
from planner.requirements.models import (
    Requirement,
    requirement_department,
    requirement_goal,
)
from planner.requirements.records import (
    Priority,
    ReqStatus,
    RequirementRecord,
    key_of,
    number_of,
)

PRIORITY_ORDER = {p: i for i, p in enumerate(Priority)}
STATUS_ORDER = {
    ReqStatus.ACCEPTED: 0,
    ReqStatus.PROPOSED: 1,
    ReqStatus.DEFERRED: 2,
    ReqStatus.REJECTED: 3,
}


@dataclass(frozen=True)
class RegisterQuery:
    """The register's filters, search and sort (all optional)."""

    q: str = ""
    department: int | None = None
    module: str = ""
    priority: str = ""
    status: str = ""
    goal: int | None = None
    sort: str = "key"

    def as_args(self) -> dict[str, Any]:
        """The query as URL arguments (the filters set, the sort if not the default)."""
        args: dict[str, Any] = {
            "q": self.q,
            "department": self.department,
            "module": self.module,
            "priority": self.priority,
            "status": self.status,
            "goal": self.goal,
        }
        if self.sort != "key":
            args["sort"] = self.sort
        return {k: v for k, v in args.items() if v}

    @property
    def active(self) -> bool:
        return bool(
            self.q or self.department or self.module or self.priority or self.status or self.goal
        )


def search_key(text: str) -> str:
    """Text as the register searches it: NFKC, case-folded, one space between words (so "CRM",
    "crm" and "ＣＲＭ" are one, in every script)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def register_statement(project_id: int, query: RegisterQuery):
    """A select of the rollout's requirements filtered, searched and sorted as ``query`` says."""
    stmt = select(Requirement).where(Requirement.project_id == project_id)
    if query.q:
        term = search_key(query.q)
        number = number_of(term.upper()) if term.upper().startswith("REQ-") else None
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = Requirement.search_text.like(f"%{escaped}%", escape="\\")
        stmt = stmt.where(or_(like, Requirement.number == number) if number else like)
    if query.department:
        stmt = stmt.where(
            Requirement.id.in_(
                select(requirement_department.c.requirement_id).where(
                    requirement_department.c.department_id == query.department
                )
            )
        )
    if query.goal:
        stmt = stmt.where(
            Requirement.id.in_(
                select(requirement_goal.c.requirement_id).where(
                    requirement_goal.c.goal_id == query.goal
                )
            )
        )
    if query.module:
        # as stored (a module picked from the list, in any script), or in another case
        # (SQLite's lower() folds ASCII letters only)
        module = " ".join(query.module.split())
        stmt = stmt.where(
            or_(Requirement.module == module, func.lower(Requirement.module) == module.lower())
        )
    if query.priority:
        stmt = stmt.where(Requirement.priority == Priority(query.priority))
    if query.status:
        stmt = stmt.where(Requirement.status == ReqStatus(query.status))
    priority_rank = case(
        {p.value: i for p, i in PRIORITY_ORDER.items()}, value=Requirement.priority
    )
    status_rank = case({s.value: i for s, i in STATUS_ORDER.items()}, value=Requirement.status)
    order = {
        "key": [Requirement.number],
        "-key": [Requirement.number.desc()],
        "title": [func.lower(Requirement.title), Requirement.number],
        "priority": [priority_rank, Requirement.number],
        "status": [status_rank, Requirement.number],
        "module": [func.lower(Requirement.module), Requirement.number],
        "-updated": [Requirement.updated_at.desc(), Requirement.number.desc()],
    }[query.sort or "key"]
    return stmt.order_by(*order)


def register_page(
    session: Session, project_id: int, query: RegisterQuery, page: int, per_page: int
) -> Page[Requirement]:
    """One page of the register with owners and traces: four statements for any size."""
    stmt = register_statement(project_id, query).options(
        joinedload(Requirement.owner),
        selectinload(Requirement.goals),
        selectinload(Requirement.departments),
    )
    return paginate(session, stmt, page, per_page)


@dataclass(frozen=True)
class RegisterCounts:
    """The register at a glance: the requirements in play (rejected ones aside, counted apart)
    by priority, status and source department, and how many need a look."""

    total: int
    rejected: int
    by_priority: dict[str, int]
    by_status: dict[str, int]
    by_department: list[tuple[int, str, int]]  # (department id, name, requirements)
    no_goal: int
    must_without_criterion: int


def register_counts(session: Session, project_id: int) -> RegisterCounts:
    """Counts of the whole register (three statements, whatever its size)."""
    rows = session.execute(
        select(
            Requirement.priority,
            Requirement.status,
            func.count(),
            func.sum(
                case(
                    (
                        ~exists().where(requirement_goal.c.requirement_id == Requirement.id),
                        1,
                    ),
                    else_=0,
                )
            ),
            func.sum(
                case(
                    (
                        (Requirement.priority == Priority.MUST)
                        & (func.length(func.trim(Requirement.acceptance_criterion)) == 0),
                        1,
                    ),
                    else_=0,
                )
            ),
        )
        .where(Requirement.project_id == project_id, Requirement.status != ReqStatus.REJECTED)
        .group_by(Requirement.priority, Requirement.status)
    ).all()
    rejected = (
        session.scalar(
            select(func.count()).where(
                Requirement.project_id == project_id, Requirement.status == ReqStatus.REJECTED
            )
        )
        or 0
    )
    by_priority = {p.value: 0 for p in Priority}
    by_status = {s.value: 0 for s in ReqStatus}
    no_goal = without = 0
    for priority, status, n, n_no_goal, n_without in rows:
        by_priority[Priority(priority).value] += n
        by_status[ReqStatus(status).value] += n
        no_goal += int(n_no_goal or 0)
        without += int(n_without or 0)
    by_status[ReqStatus.REJECTED.value] = rejected
    active = (
        select(requirement_department.c.requirement_id, requirement_department.c.department_id)
        .join(Requirement, Requirement.id == requirement_department.c.requirement_id)
        .where(Requirement.project_id == project_id, Requirement.status != ReqStatus.REJECTED)
        .subquery()
    )
    depts = session.execute(
        select(Department.id, Department.name, func.count(active.c.requirement_id))
        .outerjoin(active, active.c.department_id == Department.id)
        .where(Department.project_id == project_id)
        .group_by(Department.id, Department.name)
        .order_by(Department.name)
    ).all()
    return RegisterCounts(
        total=sum(by_status.values()) - rejected,
        rejected=rejected,
        by_priority=by_priority,
        by_status=by_status,
        by_department=[(d, name, n) for d, name, n in depts],
        no_goal=no_goal,
        must_without_criterion=without,
    )


def flags_for(
    session: Session, project_id: int, reqs: list[Requirement]
) -> dict[int, flag_rules.Flags]:
    """The flags of ``reqs`` (their goals loaded), near-identical titles found among the whole
    register (one statement)."""
    if not reqs:
        return {}
    keys = dict(
        session.execute(
            select(Requirement.id, Requirement.title_key).where(
                Requirement.project_id == project_id, Requirement.status != ReqStatus.REJECTED
            )
        ).all()
    )
    near = flag_rules.near_identical(keys, [r.id for r in reqs])
    return {
        r.id: flag_rules.flags_of(
            goal_count=len(r.goals),
            priority=r.priority.value,
            acceptance_criterion=r.acceptance_criterion,
            status=r.status.value,
            near=near.get(r.id),
        )
        for r in reqs
    }


def records(
    session: Session, project_id: int, query: RegisterQuery, *, first_lines: bool = False
) -> list[RequirementRecord]:
    """The register (filtered as ``query`` says) as plain records, for the exports: traces by
    their texts, and (for ReqIF) where each came from; ``first_lines``: for a sheet, a goal by
    the first line of its statement (a cell holds one goal a line), no sources. A constant
    number of statements for any size."""
    stmt = register_statement(project_id, query).options(
        selectinload(Requirement.goals), selectinload(Requirement.departments)
    )
    shared: set[str] = set()
    if first_lines:  # a first line two goals share names neither: the whole statement then
        seen: set[str] = set()
        for statement in session.scalars(
            select(Goal.statement).where(Goal.project_id == project_id)
        ):
            line = _first_line(statement)
            shared |= {line} if line in seen else set()
            seen.add(line)

    def goal_text(statement: str) -> str:
        if not first_lines:
            return statement
        line = _first_line(statement)
        return line if line not in shared else " ".join(statement.split())  # one line a goal

    sources = intake.sources_by_requirement(session, project_id) if not first_lines else {}
    return [
        RequirementRecord(
            key=r.key,
            title=r.title,
            description=r.description,
            type=r.type.value,
            priority=r.priority.value,
            module=r.module,
            status=r.status.value,
            acceptance_criterion=r.acceptance_criterion,
            goals=tuple(goal_text(g.statement) for g in r.goals),
            departments=tuple(d.name for d in r.departments),
            sources=tuple(intake.source_words(s) for s in sources.get(r.id, [])),
        )
        for r in session.scalars(stmt)
    ]


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def keys_of(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Requirement id -> key, for the requirements a flag names (one statement)."""
    ids = list(set(ids))
    if not ids:
        return {}
    return {
        rid: key_of(n)
        for rid, n in session.execute(
            select(Requirement.id, Requirement.number).where(Requirement.id.in_(ids))
        ).all()
    }


def goals_without_requirement(session: Session, project_id: int) -> list[Goal]:
    """The rollout's goals that no requirement (rejected ones aside) serves (one statement)."""
    served = (
        select(requirement_goal.c.goal_id)
        .join(Requirement, Requirement.id == requirement_goal.c.requirement_id)
        .where(Requirement.project_id == project_id, Requirement.status != ReqStatus.REJECTED)
    )
    return list(
        session.scalars(
            select(Goal)
            .where(Goal.project_id == project_id, Goal.id.not_in(served))
            .order_by(Goal.position, Goal.id)
        )
    )


def goal_choices(session: Session, project_id: int) -> list[tuple[int, str]]:
    """The rollout's goals as (id, statement shortened to 120 characters), in their order."""
    return [
        (gid, text if len(text) <= 120 else text[:119] + "…")
        for gid, text in session.execute(
            select(Goal.id, Goal.statement)
            .where(Goal.project_id == project_id)
            .order_by(Goal.position, Goal.id)
        ).all()
    ]


def modules_in_use(session: Session, project_id: int) -> list[str]:
    """The modules the rollout's requirements name (the lead's own among them)."""
    return [
        m
        for m in session.scalars(
            select(Requirement.module).where(Requirement.project_id == project_id).distinct()
        )
        if m
    ]


def has_requirements(session: Session, project_id: int) -> bool:
    """Whether the register has begun (one statement)."""
    return (
        session.scalar(select(Requirement.id).where(Requirement.project_id == project_id).limit(1))
        is not None
    )
