"""Rules of the requirements register: requirements with stable keys, a revision for every
change, traces to goals and source departments, the register's filters and flags, and the
phase's computed gate criteria.

Functions take a Session and plain values, flush, write the audit record, and raise
:mod:`planner.core.errors`; the view or the API commits once per unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from planner.core import audit, references
from planner.core.accounts.models import User
from planner.core.errors import NotFound, ValidationError
from planner.core.i18n import counted, quoted
from planner.core.permissions import Permission
from planner.core.versioning import ensure_version
from planner.goals.models import Goal
from planner.projects.access import Access
from planner.projects.models import Department, Membership
from planner.projects.phases import Criterion, register_criteria
from planner.requirements import flags as flag_rules
from planner.requirements.compare import FieldChange, compare
from planner.requirements.models import (
    Requirement,
    RequirementRevision,
    RequirementSequence,
    requirement_department,
    requirement_goal,
)
from planner.requirements.records import (
    Priority,
    ReqStatus,
    ReqType,
    key_of,
)
from planner.requirements.register import (  # noqa: F401 (gathered here)
    PRIORITY_ORDER,
    STATUS_ORDER,
    RegisterCounts,
    RegisterQuery,
    _first_line,
    flags_for,
    goal_choices,
    goals_without_requirement,
    has_requirements,
    keys_of,
    modules_in_use,
    records,
    register_counts,
    register_page,
    register_statement,
    search_key,
)

FIELDS = ("title", "description", "type", "priority", "module", "acceptance_criterion", "status")


def _search_text(req: Requirement) -> str:
    return search_key(f"{key_of(req.number)} {req.title}\n{req.description}")


def _next_numbers(session: Session, project_id: int, count: int = 1) -> range:
    """The next ``count`` requirement numbers of the rollout, never given before (the sequence
    row is updated in place: concurrent creators queue on its row lock instead of sharing a
    number)."""
    moved = session.execute(
        update(RequirementSequence)
        .where(RequirementSequence.project_id == project_id)
        .values(last_number=RequirementSequence.last_number + count)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(
            insert(RequirementSequence).values(project_id=project_id, last_number=count)
        )
        return range(1, count + 1)
    last = int(
        session.scalar(
            select(RequirementSequence.last_number).where(
                RequirementSequence.project_id == project_id
            )
        )
    )
    return range(last - count + 1, last + 1)


def _traces(
    session: Session, project_id: int, goal_ids: Iterable[int], department_ids: Iterable[int]
) -> tuple[list[Goal], list[Department]]:
    """The goals and departments named by id, all of this rollout; ValidationError naming the
    ids that are not (another rollout's goal is as unknown as one that does not exist)."""
    goal_ids, department_ids = list(dict.fromkeys(goal_ids)), list(dict.fromkeys(department_ids))
    goals = (
        list(
            session.scalars(
                select(Goal).where(Goal.project_id == project_id, Goal.id.in_(goal_ids))
            )
        )
        if goal_ids
        else []
    )
    depts = (
        list(
            session.scalars(
                select(Department).where(
                    Department.project_id == project_id, Department.id.in_(department_ids)
                )
            )
        )
        if department_ids
        else []
    )
    errors: dict[str, list[str]] = {}
    unknown_goals = sorted(set(goal_ids) - {g.id for g in goals})
    if unknown_goals:
        errors["goal_ids"] = [
            f"No goal {', '.join(map(str, unknown_goals))} in this rollout; choose among its goals."
        ]
    unknown_depts = sorted(set(department_ids) - {d.id for d in depts})
    if unknown_depts:
        errors["department_ids"] = [
            f"No department {', '.join(map(str, unknown_depts))} in this rollout."
        ]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)
    # in the rollout's order, whatever the order given: a revision changes with the set
    return _ordered_goals(goals), _ordered_depts(depts)


def _ordered_goals(goals: Iterable[Goal]) -> list[Goal]:
    return sorted(goals, key=lambda g: (g.position, g.id))


def _ordered_depts(depts: Iterable[Department]) -> list[Department]:
    return sorted(depts, key=lambda d: (d.name.casefold(), d.id))


def _check_owner(session: Session, project_id: int, owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    return _check_owners(session, project_id, {owner_id})[owner_id]


def _check_owners(session: Session, project_id: int, owner_ids: set[int]) -> dict[int, User]:
    """The owners named, members of the rollout all; ValidationError for anyone else."""
    if not owner_ids:
        return {}
    found = {
        u.id: u
        for u in session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.project_id == project_id, User.id.in_(owner_ids))
        )
    }
    if set(found) != owner_ids:
        raise ValidationError(
            "The owner must be a member of this rollout.", {"owner_id": ["Not a member."]}
        )
    return found


def _text(value: str | None) -> str:
    """A text field as stored: trimmed, with line ends as "\n" whatever sent them (a browser's
    "\r\n", a spreadsheet's "\n"), so that the same text is the same revision."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def clean_fields(values: dict[str, Any]) -> dict[str, Any]:
    """The fields as stored: text trimmed, enums checked; ValidationError for an empty title or
    a value outside its vocabulary (the API and imports reach here without a form)."""
    title = " ".join((values.get("title") or "").split())
    if not title:
        raise ValidationError("A requirement needs a title.", {"title": ["Required."]})
    out = {
        "title": title,
        "description": _text(values.get("description")),
        "module": " ".join((values.get("module") or "").split()),
        "acceptance_criterion": _text(values.get("acceptance_criterion")),
    }
    for name, enum in (("type", ReqType), ("priority", Priority), ("status", ReqStatus)):
        try:
            out[name] = enum(values.get(name))
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            raise ValidationError(
                f"Unknown {name} {quoted(values.get(name))}: one of {allowed}.",
                {name: [f"One of {allowed}."]},
            ) from None
    return out


def snapshot(req: Requirement) -> dict[str, Any]:
    """What a requirement is now, as a revision keeps it: its fields, its owner's name and its
    traces (ids and names, so a revision reads right after a goal is renamed or deleted)."""
    return {
        "key": key_of(req.number),
        **audit.snapshot(req, FIELDS),
        "owner": req.owner.name if req.owner else None,
        "goals": [{"id": g.id, "name": g.statement} for g in req.goals],
        "departments": [{"id": d.id, "name": d.name} for d in req.departments],
    }


def _revise(session: Session, access: Access, req: Requirement) -> RequirementRevision:
    rev = RequirementRevision(
        requirement_id=req.id,
        number=req.revision,
        snapshot=snapshot(req),
        changed_by_id=access.user.id,
        changed_by_name=access.user.name,
    )
    session.add(rev)
    return rev


def create_requirement(session: Session, access: Access, **values: Any) -> Requirement:
    """Add a requirement with the next key (REQ-001 …) as revision 1 (needs EDIT).

    ``values``: title, description, type, priority, module, acceptance_criterion, status,
    owner_id, goal_ids, department_ids. ValidationError for an empty title, an unknown type,
    priority or status, a goal or department of another rollout, an owner who is not a member.
    """
    return create_requirements(session, access, [values])[0]


def create_requirements(
    session: Session, access: Access, rows: list[dict[str, Any]]
) -> list[Requirement]:
    """Add several requirements at once, in order, each as :func:`create_requirement` does
    (its key, revision 1, its audit event), in a constant number of statements per batch
    rather than per requirement: the keys reserved together, the traces and owners read
    together, the rows written together (an import of 2,000 rows). ValidationError as for
    :func:`create_requirement`, naming the first row at fault; nothing is added then."""
    access.require(Permission.EDIT)
    pid = access.project.id
    fields = [clean_fields(values) for values in rows]
    goals, depts = _traces(
        session,
        pid,
        [i for values in rows for i in values.get("goal_ids") or ()],
        [i for values in rows for i in values.get("department_ids") or ()],
    )
    by_goal, by_dept = {x.id: x for x in goals}, {x.id: x for x in depts}
    owners = _check_owners(session, pid, {v.get("owner_id") for v in rows} - {None})
    made = []
    for number, values, clean in zip(
        _next_numbers(session, pid, len(rows)), rows, fields, strict=True
    ):
        owner = owners.get(values.get("owner_id")) if values.get("owner_id") else None
        req = Requirement(
            project_id=pid,
            number=number,
            owner_id=owner.id if owner else None,
            updated_by_id=access.user.id,
            revision=1,
            **clean,
        )
        req.owner = owner
        req.goals = _ordered_goals(by_goal[i] for i in dict.fromkeys(values.get("goal_ids") or ()))
        req.departments = _ordered_depts(
            by_dept[i] for i in dict.fromkeys(values.get("department_ids") or ())
        )
        req.search_text = _search_text(req)
        req.title_key = flag_rules.normalise_title(req.title)[:200]
        made.append(req)
    session.add_all(made)
    session.flush()
    for req in made:
        _revise(session, access, req)
        audit.log(
            session,
            access,
            "requirement.create",
            req,
            f"requirement {req.key} added: {quoted(req.title)}",
            after=_audited(req),
        )
    session.flush()
    return made


def _audited(req: Requirement) -> dict[str, Any]:
    return _audited_from(snapshot(req))


def update_requirement(
    session: Session, access: Access, req: Requirement, *, version: int | None, **values: Any
) -> Requirement:
    """Change a requirement (needs EDIT); a change makes the next revision, a save that changes
    nothing makes none. StaleEdit if someone saved it since ``version``; ValidationError as for
    :func:`create_requirement`."""
    access.require(Permission.EDIT)
    ensure_version(session, req, version)
    pid = access.project.id
    fields = clean_fields(values)
    goals, depts = _traces(
        session, pid, values.get("goal_ids") or (), values.get("department_ids") or ()
    )
    owner_id = values.get("owner_id")
    # someone who has left the rollout stays the owner until the owner is changed
    owner = req.owner if owner_id == req.owner_id else _check_owner(session, pid, owner_id)
    before = snapshot(req)
    for name, value in fields.items():
        setattr(req, name, value)
    req.owner_id, req.owner = (owner.id if owner else None), owner
    req.goals, req.departments = goals, depts
    after = snapshot(req)
    if after == before:
        session.expire(req)
        return req
    before_audit = _audited_from(before)
    req.revision += 1
    req.search_text = _search_text(req)
    req.title_key = flag_rules.normalise_title(req.title)[:200]
    req.updated_by_id = access.user.id
    session.flush()
    _revise(session, access, req)
    audit.log(
        session,
        access,
        "requirement.update",
        req,
        f"requirement {req.key} revised (revision {req.revision}): {quoted(req.title)}",
        before=before_audit,
        after=_audited(req),
    )
    return req


def _audited_from(snap: dict[str, Any]) -> dict[str, Any]:
    """A snapshot as the audit trail shows it: traces by name."""
    out = dict(snap)
    out.pop("key")
    out["goals"] = [g["name"][:80] for g in out["goals"]]
    out["departments"] = [d["name"] for d in out["departments"]]
    return out


def get_requirement(session: Session, project_id: int, requirement_id: int) -> Requirement:
    """The requirement of this rollout with its owner and traces; NotFound for another
    rollout's or none."""
    req = session.scalar(
        select(Requirement)
        .options(
            joinedload(Requirement.owner),
            joinedload(Requirement.updated_by),
            selectinload(Requirement.goals),
            selectinload(Requirement.departments),
        )
        .where(Requirement.id == requirement_id, Requirement.project_id == project_id)
    )
    if req is None:
        raise NotFound("No such requirement in this rollout.")
    return req


def revisions(session: Session, req: Requirement) -> list[RequirementRevision]:
    """Every revision of a requirement, newest first."""
    return list(
        session.scalars(
            select(RequirementRevision)
            .where(RequirementRevision.requirement_id == req.id)
            .order_by(RequirementRevision.number.desc())
        )
    )


def get_revision(session: Session, req: Requirement, number: int) -> RequirementRevision:
    """Revision ``number`` of the requirement; NotFound if it has none of that number."""
    rev = session.scalar(
        select(RequirementRevision).where(
            RequirementRevision.requirement_id == req.id, RequirementRevision.number == number
        )
    )
    if rev is None:
        raise NotFound(f"{req.key} has no revision {number} (it is at revision {req.revision}).")
    return rev


def compare_revisions(
    session: Session, req: Requirement, before: int, after: int
) -> tuple[RequirementRevision, RequirementRevision, list[FieldChange]]:
    """Revisions ``before`` and ``after`` of a requirement and their differences, field by
    field; NotFound for a revision it does not have."""
    a, b = get_revision(session, req, before), get_revision(session, req, after)
    return a, b, compare(a.snapshot, b.snapshot)


@register_criteria("requirements")
def _criteria(session: Session, project) -> list[Criterion]:
    """Every must-have (a rejected one aside; a deferred must is not accepted: lower its
    priority if it can wait) accepted with an acceptance criterion; every goal served (two
    statements)."""
    musts = session.execute(
        select(
            func.count(),
            func.sum(case((Requirement.status != ReqStatus.ACCEPTED, 1), else_=0)),
            func.sum(
                case((func.length(func.trim(Requirement.acceptance_criterion)) == 0, 1), else_=0)
            ),
        ).where(
            Requirement.project_id == project.id,
            Requirement.priority == Priority.MUST,
            Requirement.status != ReqStatus.REJECTED,
        )
    ).one()
    n_musts, not_accepted, without = musts[0], int(musts[1] or 0), int(musts[2] or 0)
    unserved = goals_without_requirement(session, project.id)
    problems = []
    if not_accepted:
        problems.append(f"{counted(not_accepted, 'must-have')} not accepted")
    if without:
        problems.append(f"{counted(without, 'must-have')} without an acceptance criterion")
    return [
        Criterion(
            "Every must-have requirement is accepted and has an acceptance criterion",
            met=not problems,
            detail="; ".join(problems) if problems else ("" if n_musts else "no must-have"),
        ),
        Criterion(
            "Every goal has at least one requirement",
            met=not unserved,
            detail=(f"{counted(len(unserved), 'goal')} without a requirement" if unserved else ""),
        ),
    ]


# --- what refers to an earlier area's records ------------------------------------------------


def _keys_naming(session: Session, table, column, target_id: int) -> list[str]:
    numbers = session.scalars(
        select(Requirement.number)
        .join(table, table.c.requirement_id == Requirement.id)
        .where(column == target_id)
        .order_by(Requirement.number)
    ).all()
    if not numbers:
        return []
    keys = ", ".join(key_of(n) for n in numbers[:10]) + (" …" if len(numbers) > 10 else "")
    return [f"{counted(len(numbers), 'requirement')} ({keys})"]


@references.register_reference("goal")
def _goal_served(session: Session, goal_id: int) -> list[str]:
    """The requirements that serve a goal (one statement): deleting it would change them
    without a revision."""
    return _keys_naming(session, requirement_goal, requirement_goal.c.goal_id, goal_id)


@references.register_reference("department")
def _department_a_source(session: Session, department_id: int) -> list[str]:
    """The requirements a department is a source of (one statement)."""
    return _keys_naming(
        session, requirement_department, requirement_department.c.department_id, department_id
    )
