"""Who takes part in a rollout: its departments and its members with their roles.

Part of the rollout's rules (see :mod:`planner.projects.service`).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.core import audit, references
from planner.core.accounts.service import name_of
from planner.core.errors import Conflict, NotFound, ValidationError
from planner.core.i18n import counted, quoted
from planner.core.permissions import Permission, Role
from planner.projects.access import Access, load_access, projects_for  # noqa: F401 (re-exported)
from planner.projects.models import (
    Department,
    Membership,
)

DEFAULT_DEPARTMENTS = ("Sales", "Customer service", "Marketing", "IT", "Legal", "Finance")


def departments(session: Session, project_id: int) -> list[Department]:
    """The rollout's departments in name order."""
    return list(
        session.scalars(
            select(Department).where(Department.project_id == project_id).order_by(Department.name)
        )
    )


def department_by_name(session: Session, project_id: int, name: str) -> Department | None:
    """The rollout's department with this name (case-insensitive), or None."""
    return session.scalar(
        select(Department).where(
            Department.project_id == project_id, func.lower(Department.name) == name.lower()
        )
    )


def add_department(session: Session, access: Access, name: str) -> Department:
    """Add a department (needs MANAGE_MEMBERS); ValidationError for an empty name, Conflict if the
    rollout has a department of that name (in any case)."""
    access.require(Permission.MANAGE_MEMBERS)
    name = name.strip()
    if not name:
        raise ValidationError("A department needs a name.", {"name": ["Required."]})
    if department_by_name(session, access.project.id, name):
        raise Conflict(f"The department {quoted(name)} exists already.")
    dept = Department(project_id=access.project.id, name=name)
    session.add(dept)
    session.flush()
    audit.log(session, access, "department.create", dept, f"department {quoted(name)} added")
    return dept


def get_department(session: Session, project_id: int, department_id: int) -> Department:
    """The department of this rollout; NotFound for another rollout's or none."""
    dept = session.get(Department, department_id)
    if dept is None or dept.project_id != project_id:
        raise NotFound("No such department in this rollout.")
    return dept


def rename_department(
    session: Session, access: Access, department_id: int, name: str, *, was: str | None = None
) -> Department:
    """Rename a department; Conflict if another department has that name, or if ``was`` (the
    name the user saw) is given and the department has been renamed since."""
    access.require(Permission.MANAGE_MEMBERS)
    dept = get_department(session, access.project.id, department_id)
    if was is not None and was != dept.name:
        raise Conflict(
            f"Someone renamed this department to {quoted(dept.name)} meanwhile;"
            " nothing was changed."
        )
    name = name.strip()
    if not name:
        raise ValidationError("A department needs a name.", {"name": ["Required."]})
    same = department_by_name(session, access.project.id, name)
    if same is not None and same.id != dept.id:
        raise Conflict(f"The department {quoted(name)} exists already.")
    before = {"name": dept.name}
    dept.name = name
    audit.log(
        session,
        access,
        "department.update",
        dept,
        f"department {quoted(before['name'])} renamed to {quoted(name)}",
        before=before,
        after={"name": name},
    )
    return dept


def delete_department(session: Session, access: Access, department_id: int) -> None:
    """Delete a department nobody belongs to (a reviewer needs one: Conflict while a member is
    in it) and nothing of a later area refers to (Conflict: an interview, answers, a
    requirement's source); goals it asked for keep their text and lose the department."""
    access.require(Permission.MANAGE_MEMBERS)
    dept = get_department(session, access.project.id, department_id)
    references.refuse_if_referred(
        session, "department", dept.id, f"the department {quoted(dept.name)}"
    )
    in_it = session.scalar(
        select(func.count(Membership.id)).where(Membership.department_id == dept.id)
    )
    if in_it:
        raise Conflict(
            f"{counted(in_it, 'member')} "
            + ("belongs" if in_it == 1 else "belong")
            + f" to {quoted(dept.name)}; move them to another department first."
        )
    audit.log(
        session,
        access,
        "department.delete",
        dept,
        f"department {quoted(dept.name)} deleted",
        before={"name": dept.name},
    )
    session.delete(dept)


def members(session: Session, project_id: int) -> list[Membership]:
    """The rollout's memberships with their users and departments, ordered by role."""
    from sqlalchemy.orm import joinedload

    return list(
        session.scalars(
            select(Membership)
            .options(joinedload(Membership.user), joinedload(Membership.department))
            .where(Membership.project_id == project_id)
            .order_by(Membership.role, Membership.id)
        )
    )


def _department_for(
    session: Session, project_id: int, role: Role, department_id: int | None
) -> int | None:
    if department_id is not None:
        dept = session.get(Department, department_id)
        if dept is None or dept.project_id != project_id:
            raise ValidationError(
                "No such department in this rollout.", {"department_id": ["Unknown department."]}
            )
    if role == Role.REVIEWER and department_id is None:
        raise ValidationError(
            "A reviewer belongs to a department.", {"department_id": ["Required for reviewers."]}
        )
    return department_id


def add_member(
    session: Session,
    access: Access,
    *,
    username: str,
    role: Role | str,
    department_id: int | None = None,
) -> Membership:
    """Invite an existing account into the rollout with a role."""
    access.require(Permission.MANAGE_MEMBERS)
    from planner.core.accounts.service import find_user

    role = Role(role)
    user = find_user(session, username.strip())
    if user is None or not user.active:
        raise ValidationError(
            f"There is no active account named {quoted(username.strip())}.",
            {"username": ["No such account."]},
        )
    department_id = _department_for(session, access.project.id, role, department_id)
    existing = session.scalar(
        select(Membership).where(
            Membership.project_id == access.project.id, Membership.user_id == user.id
        )
    )
    if existing is not None:
        raise Conflict(f"{user.username} is a member already, as {existing.role.value}.")
    membership = Membership(
        project_id=access.project.id, user_id=user.id, role=role, department_id=department_id
    )
    session.add(membership)
    session.flush()
    audit.log(
        session,
        access,
        "member.add",
        membership,
        f"{user.username} added as {role.value}",
        after={"user": user.username, "role": role.value, "department_id": department_id},
    )
    return membership


def _leads_left(session: Session, project_id: int, excluding: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.project_id == project_id,
                Membership.role == Role.LEAD,
                Membership.id != excluding,
            )
        )
        or 0
    )


def _membership(session: Session, access: Access, membership_id: int) -> Membership:
    m = session.get(Membership, membership_id)
    if m is None or m.project_id != access.project.id:
        raise NotFound("No such member.")
    return m


def change_member(
    session: Session,
    access: Access,
    membership_id: int,
    *,
    role: Role | str,
    department_id: int | None,
) -> Membership:
    """Change a member's role and department (needs MANAGE_MEMBERS); NotFound for another rollout's
    member or none, Conflict if it would leave the rollout without a lead, ValidationError for a
    reviewer without a department or another rollout's department."""
    access.require(Permission.MANAGE_MEMBERS)
    m = _membership(session, access, membership_id)
    role = Role(role)
    if m.role == Role.LEAD and role != Role.LEAD and _leads_left(session, m.project_id, m.id) == 0:
        raise Conflict("A rollout needs at least one lead; make someone else lead first.")
    department_id = _department_for(session, access.project.id, role, department_id)
    before = {"role": m.role.value, "department_id": m.department_id}
    m.role, m.department_id = role, department_id
    audit.log(
        session,
        access,
        "member.update",
        m,
        f"{name_of(session, m.user_id)} is now {role.value}",
        before=before,
        after={"role": role.value, "department_id": department_id},
    )
    return m


def remove_member(session: Session, access: Access, membership_id: int) -> None:
    """Remove a member from the rollout (needs MANAGE_MEMBERS); NotFound for another rollout's
    member or none, Conflict for the last lead."""
    access.require(Permission.MANAGE_MEMBERS)
    m = _membership(session, access, membership_id)
    if m.role == Role.LEAD and _leads_left(session, m.project_id, m.id) == 0:
        raise Conflict("A rollout needs at least one lead; make someone else lead first.")
    audit.log(
        session,
        access,
        "member.remove",
        m,
        f"{name_of(session, m.user_id)} removed from the rollout",
        before={"user_id": m.user_id, "role": m.role.value, "department_id": m.department_id},
    )
    session.delete(m)


# --- phases ------------------------------------------------------------------------------
