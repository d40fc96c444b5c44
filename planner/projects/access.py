"""Who may open which rollout: the one place pages and the API get a project and a role from.

:func:`load_access` and :func:`projects_for` are rules (a Session and plain values in);
:func:`project_view` (pages) and :func:`api_access` (the API) put them in front of a request.
A user who is not a member of a rollout (and not a site admin) gets 404 for it, exactly as for
a rollout that does not exist, and the attempt is audited.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import g, request
from flask_login import current_user, login_required
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from planner.core import audit
from planner.core.accounts.models import User
from planner.core.api import api_user
from planner.core.db import commit_apart
from planner.core.errors import NotFound, PermissionDenied
from planner.core.permissions import Permission, Role, can
from planner.extensions import db
from planner.projects.models import Membership, Project


@dataclass(frozen=True)
class Access:
    """Who is asking about which project, and in what role."""

    project: Project
    user: User
    role: Role | None

    def can(self, permission: Permission) -> bool:
        return can(self.role, permission, is_admin=self.user.is_admin)

    def require(self, permission: Permission) -> None:
        """Raise PermissionDenied (403) unless the role allows ``permission``."""
        if not self.can(permission):
            raise PermissionDenied("Your role in this rollout does not allow this.")


class NotAMember(NotFound):
    """The user is not a member of an existing rollout: 404 (pages and API audit the attempt,
    see :func:`record_denial`)."""

    def __init__(self, description: str, project_id: int) -> None:
        super().__init__(description)
        self.project_id = project_id


def load_access(session: Session, project_id: int, user: User) -> Access:
    """The project with the user's role in it, in one statement.

    Raises NotFound for a rollout that does not exist, and NotAMember (a NotFound) for one the
    user is not a member of (:func:`project_view` and :func:`api_access` audit the attempt).
    """
    row = session.execute(
        select(Project, Membership.role)
        .outerjoin(
            Membership, (Membership.project_id == Project.id) & (Membership.user_id == user.id)
        )
        .where(Project.id == project_id)
    ).first()
    if row is None:
        raise NotFound("No such rollout.")
    project, role = row
    if role is None and not user.is_admin:
        raise NotAMember("No such rollout.", project.id)
    return Access(project=project, user=user, role=role)


def requester_access(session: Session, job: Any) -> Access:
    """The access, as it is now, of the member who asked for a background job (a report: it
    has ``project_id`` and ``requested_by_id``); NotFound if their account is gone or
    disabled, or they left the rollout."""
    user = session.get(User, job.requested_by_id) if job.requested_by_id else None
    if user is None or not user.active:
        raise NotFound("The account that asked for this report is gone.")
    return load_access(session, job.project_id, user)


def record_denial(
    session: Session, project_id: int, user: User, *, remote_addr: str | None = None
) -> None:
    """Audit a non-member's attempt to open a rollout, in a short transaction of its own that
    queues behind other writers, and commit it (:func:`planner.core.db.commit_apart`): the
    record outlives the refused request, and a GET never upgrades its read transaction."""
    user_id, username = user.id, user.username
    commit_apart(
        session,
        lambda: audit.record(
            session,
            actor=session.get(User, user_id),
            action="access.denied",
            entity_type="project",
            entity_id=project_id,
            project_id=project_id,
            summary=f"{username} is not a member",
            remote_addr=remote_addr,
        ),
    )


def projects_for(session: Session, user: User, *, include_archived: bool = False) -> Select[Any]:
    """A select of the projects ``user`` may open, newest first."""
    stmt = select(Project)
    if not user.is_admin:
        stmt = stmt.join(Membership, Membership.project_id == Project.id).where(
            Membership.user_id == user.id
        )
    if not include_archived:
        stmt = stmt.where(Project.archived.is_(False))
    return stmt.order_by(Project.id.desc())


def _request_access(project_id: int, user: User, permission: Permission) -> Access:
    try:
        access = load_access(db.session, project_id, user)
    except NotAMember as denied:
        record_denial(db.session, denied.project_id, user, remote_addr=request.remote_addr)
        raise
    access.require(permission)
    return access


def project_view(permission: Permission = Permission.VIEW) -> Callable[..., Any]:
    """Decorate a page taking ``project_id``: sets ``g.access`` and ``g.project``, or answers
    404 (not a member, no such rollout) or 403 (the role does not allow ``permission``)."""

    def deco(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        @login_required
        def wrapper(*args: Any, project_id: int, **kwargs: Any) -> Any:
            access = _request_access(project_id, current_user._get_current_object(), permission)
            g.access = access
            g.project = access.project
            return view(*args, project_id=project_id, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return deco


def api_access(project_id: int, permission: Permission = Permission.VIEW) -> Access:
    """The API caller's Access to the project: 404 for a non-member, 403 for a wrong role."""
    return _request_access(project_id, api_user(), permission)
