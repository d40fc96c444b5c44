"""Roles in a project and what each may do. Pure: no Flask, no session."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """A member's role in one rollout."""

    LEAD = "lead"
    REVIEWER = "reviewer"
    EXECUTIVE = "executive"
    VIEWER = "viewer"


class Permission(enum.StrEnum):
    VIEW = "view"
    EDIT = "edit"  # change the rollout's content
    MANAGE_MEMBERS = "manage_members"
    DECIDE_GATE = "decide_gate"
    UPLOAD = "upload"  # add artifacts
    SCORE = "score"  # score vendors, comment
    SIGN_OFF = "sign_off"  # approve signed-off documents
    APPROVE = "approve"  # sign a record as an executive (personal, like scoring)
    VIEW_AUDIT = "view_audit"
    VIEW_COMMERCIAL = "view_commercial"  # prices, contracts


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.LEAD: frozenset(Permission) - {Permission.SCORE, Permission.APPROVE},
    Role.REVIEWER: frozenset({Permission.VIEW, Permission.SCORE, Permission.UPLOAD}),
    Role.EXECUTIVE: frozenset(
        {
            Permission.VIEW,
            Permission.SIGN_OFF,
            Permission.APPROVE,
            Permission.UPLOAD,
            Permission.VIEW_AUDIT,
            Permission.VIEW_COMMERCIAL,
        }
    ),
    Role.VIEWER: frozenset({Permission.VIEW}),
}


def can(role: Role | None, permission: Permission, *, is_admin: bool = False) -> bool:
    """Whether a member with ``role`` (None: not a member) may do ``permission``.

    Site admins may do everything in every project.
    """
    if permission == Permission.SCORE:
        # Scoring is personal: only the board's reviewers score, not the lead, not an admin.
        return role == Role.REVIEWER
    if permission == Permission.APPROVE:
        # So is a signature: only the rollout's executives approve, not the lead, not an admin.
        return role == Role.EXECUTIVE
    if is_admin:
        return True
    if role is None:
        return False
    return permission in GRANTS[role]
