"""Account rules: creating users, checking passwords, issuing and revoking API tokens."""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from planner.core import audit
from planner.core.accounts.models import ApiToken, User
from planner.core.db import utcnow
from planner.core.errors import Conflict, NotFound, ValidationError
from planner.core.i18n import counted, quoted

# argon2id cost profiles by name (``PASSWORD_HASH_PROFILE``): the library's recommendation
# (RFC 9106, low memory: about 0.4 s a hash on a 2-core machine) everywhere but in tests,
# where the cheapest parameters keep a suite of hundreds of logins fast. A stored hash carries
# its own parameters, so a hash made under one profile verifies under another (and is
# re-hashed at the next login).
HASH_PROFILES = {"default": profiles.RFC_9106_LOW_MEMORY, "cheapest": profiles.CHEAPEST}
_hasher = PasswordHasher.from_parameters(HASH_PROFILES["default"])
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,80}$")
MIN_PASSWORD = 10
TOKEN_PREFIX = "pln_"  # noqa: S105 - a prefix, not a secret
# A hash of a random password, checked when the user does not exist so that the response
# time does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def configure_hashing(profile: str) -> None:
    """Use the named argon2id cost profile for new hashes (see ``HASH_PROFILES``).

    Called by the application factory from the ``PASSWORD_HASH_PROFILE`` setting; raises
    ValueError for an unknown name.
    """
    global _hasher, _DUMMY_HASH
    if profile not in HASH_PROFILES:
        raise ValueError(f"unknown password hash profile {profile!r}")
    params = HASH_PROFILES[profile]
    if _hasher.time_cost == params.time_cost and _hasher.memory_cost == params.memory_cost:
        return
    _hasher = PasswordHasher.from_parameters(params)
    _DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` under the configured cost profile."""
    return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    """Raise ValidationError if ``password`` is too weak to accept."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"Password must be at least {MIN_PASSWORD} characters.",
            {"password": [f"At least {MIN_PASSWORD} characters."]},
        )
    if len(password) > 1024:
        raise ValidationError("Password is too long.", {"password": ["At most 1024 characters."]})


def name_of(session: Session, user_id: int | None) -> str:
    """The name to show for an account id (audit summaries); "account 12" if it is gone."""
    user = session.get(User, user_id) if user_id is not None else None
    return user.name if user is not None else f"account {user_id}"


def find_user(session: Session, username: str) -> User | None:
    """The account with this username (case-insensitive), active or not, or None."""
    return session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def create_user(
    session: Session,
    username: str,
    password: str,
    *,
    actor: User | None = None,
    display_name: str = "",
    email: str | None = None,
    is_admin: bool = False,
) -> User:
    """Create an account. Raises ValidationError for a bad name or password, Conflict if taken."""
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise ValidationError(
            "Username must be 2-80 letters, digits, dots, dashes or underscores.",
            {"username": ["2-80 letters, digits, . - _"]},
        )
    check_password_rules(password)
    if find_user(session, username) is not None:
        raise Conflict(f"The username {quoted(username)} is taken.")
    user = User(
        username=username,
        display_name=display_name.strip(),
        email=(email or None),
        password_hash=hash_password(password),
        is_admin=is_admin,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        entity_type="user",
        entity_id=user.id,
        summary=f"account {username} created" + (" (admin)" if is_admin else ""),
        after={"username": username, "is_admin": is_admin},
    )
    return user


def password_matches(user: User, password: str) -> bool:
    """Whether ``password`` is the user's (a signature asks for it again)."""
    try:
        return bool(_hasher.verify(user.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def authenticate(
    session: Session, username: str, password: str, *, remote_addr: str | None = None
) -> User | None:
    """The active user with these credentials, or None. A failure is audited."""
    user = find_user(session, username.strip())
    ok = False
    if user is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
    else:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    if not ok or user is None or not user.active:
        audit.record(
            session,
            actor=user if user is not None else None,
            action="login.failed",
            entity_type="user",
            entity_id=user.id if user else None,
            summary=f"failed login for {quoted(username.strip()[:80])}",
            remote_addr=remote_addr,
        )
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record(
        session,
        actor=user,
        action="login.success",
        entity_type="user",
        entity_id=user.id,
        summary=f"{user.username} logged in",
        remote_addr=remote_addr,
    )
    return user


def end_sessions(session: Session, user: User, *, actor: User | None, why: str) -> None:
    """End every session of the account, on every device (audited): the session epoch moves,
    so no cookie issued before, replayed or not, logs anyone in any more."""
    user.session_epoch = (user.session_epoch or 1) + 1
    audit.record(
        session,
        actor=actor,
        action="user.sessions_ended",
        entity_type="user",
        entity_id=user.id,
        summary=f"every session of {user.username} ended: {why}",
    )


def revoke_all_tokens(session: Session, user: User) -> int:
    """Revoke every active API token of the user (audited as one change); how many."""
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    now = utcnow()
    for row in rows:
        row.revoked_at = now
    if rows:
        audit.record(
            session,
            actor=user,
            action="token.revoke",
            entity_type="user",
            entity_id=user.id,
            summary=f"{counted(len(rows), 'API token')} revoked with the password change",
        )
    return len(rows)


def change_password(
    session: Session, user: User, current: str, new: str, *, revoke_tokens: bool = False
) -> None:
    """Change the user's own password (audited), ending every session of the account (the
    caller logs the current one in again) and, if asked, revoking its API tokens;
    ValidationError if ``current`` is wrong or ``new`` breaks the password rules."""
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError) as exc:
        raise ValidationError(
            "The current password is wrong.", {"current_password": ["Wrong password."]}
        ) from exc
    check_password_rules(new)
    user.password_hash = hash_password(new)
    audit.record(
        session,
        actor=user,
        action="user.password",
        entity_type="user",
        entity_id=user.id,
        summary="password changed",
    )
    end_sessions(session, user, actor=user, why="password changed")
    if revoke_tokens:
        revoke_all_tokens(session, user)


def set_active(session: Session, user: User, active: bool, *, actor: User) -> None:
    """Activate or deactivate an account on behalf of ``actor`` (audited), ending its sessions
    either way (a reactivated account starts with none); Conflict if actors would deactivate
    themselves."""
    if user.id == actor.id and not active:
        raise Conflict("You cannot deactivate your own account.")
    before = audit.snapshot(user, ["active"])
    if user.active != active:
        end_sessions(
            session, user, actor=actor, why="account activated" if active else "deactivated"
        )
    user.active = active
    audit.record(
        session,
        actor=actor,
        action="user.update",
        entity_type="user",
        entity_id=user.id,
        summary=f"account {user.username} {'activated' if active else 'deactivated'}",
        before=before,
        after=audit.snapshot(user, ["active"]),
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str = "API token") -> tuple[ApiToken, str]:
    """Issue a new token for ``user``. Returns the row and the token, which is not stored."""
    name = name.strip() or "API token"
    if len(name) > 80:
        raise ValidationError("Token name is too long.", {"name": ["At most 80 characters."]})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user, name=name, token_hash=_digest(token), prefix=token[:12])
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="token.create",
        entity_type="api_token",
        entity_id=row.id,
        summary=f"API token {quoted(name)} created",
    )
    return row, token


def user_for_token(session: Session, token: str) -> User | None:
    """The active user owning the unrevoked ``token``, or None. Only reads: the token's last
    use is written by :func:`note_token_use` when :func:`token_use_due` says so."""
    row = token_row(session, token)
    return row.user if row is not None else None


def token_row(session: Session, token: str) -> ApiToken | None:
    """The unrevoked ``token`` of an active user, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return row


def token_use_due(row: ApiToken) -> bool:
    """Whether the token's last-use time is due: it is written at most once a minute, so that
    reads stay reads."""
    return row.last_used_at is None or utcnow() - row.last_used_at > timedelta(minutes=1)


def note_token_use(session: Session, token_id: int) -> None:
    """Record that the token was used now (one UPDATE, flushed by the caller's commit)."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


def revoke_token(session: Session, user: User, token_id: int) -> None:
    """Revoke one of the user's API tokens (audited; a revoked one stays as it is); NotFound for
    another user's or none."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("No such token.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(
            session,
            actor=user,
            action="token.revoke",
            entity_type="api_token",
            entity_id=row.id,
            summary=f"API token {quoted(row.name)} revoked",
        )


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's API tokens, revoked ones included, newest first."""
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )
