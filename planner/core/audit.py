"""The append-only audit trail.

The domain function that makes a change calls :func:`record` (or :func:`log`, given an access to
a rollout) in the same transaction, so a change and its audit record are committed together or
not at all. Audit events are never
updated or deleted: a flush that tries to is refused.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import JSON, ForeignKey, Index, String, event, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from planner.core.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_project_at", "project_id", "id"),
        Index("ix_audit_event_action", "action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # No foreign keys: the trail outlives what it describes.
    project_id: Mapped[int | None] = mapped_column(nullable=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), nullable=True, index=True
    )
    actor_name: Mapped[str | None] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(String(300), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    remote_addr: Mapped[str | None] = mapped_column(String(64))

    actor = relationship("User", lazy="raise")

    @property
    def changes(self) -> list[str]:
        """What changed, in words: ``["baseline 20 → 25", "unit “%” → “hours”"]``."""
        return changes_in_words(self.before, self.after)


def changes_in_words(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """Each field of ``before``/``after`` as "field old → new" ("field: new" when only one
    side has it); text in quotes and shortened, dates and numbers as they are, yes/no, a dash
    for nothing. For people reading the trail: never JSON, never escapes."""
    before, after = before or {}, after or {}
    out = []
    for key in list(dict.fromkeys([*before, *after])):
        name = key.replace("_", " ")
        if key in before and key in after:
            out.append(f"{name} {_in_words(before[key])} → {_in_words(after[key])}")
        elif key in after:
            out.append(f"{name}: {_in_words(after[key])}")
        else:
            out.append(f"{name} was {_in_words(before[key])}")
    return out


def _in_words(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, list | tuple):
        return ", ".join(_in_words(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')} {_in_words(v)}" for k, v in value.items())
    text = " ".join(str(value).split())
    if len(text) > 80:
        text = text[:79] + "…"
    looks_like_date = len(text) >= 10 and text[:4].isdigit() and text[4] == "-" and text[7] == "-"
    return text if looks_like_date else f"“{text}”"


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("audit events are append-only")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def snapshot(obj: Any, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The JSON-safe values of ``fields`` of ``obj``, for the before/after of an event."""
    return {f: _plain(getattr(obj, f)) for f in fields}


def record(
    session: Session,
    *,
    actor: Any | None,
    action: str,
    entity_type: str,
    entity_id: int | None = None,
    project_id: int | None = None,
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> AuditEvent:
    """Append one event. ``actor`` is a User or None (anonymous, or the system)."""
    if before is not None and after is not None:
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        before = {k: v for k, v in before.items() if k in changed}
        after = {k: v for k, v in after.items() if k in changed}
    ev = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        project_id=project_id,
        summary=summary[:300],
        before=before,
        after=after,
        remote_addr=remote_addr,
    )
    session.add(ev)
    return ev


class ProjectAccess(Protocol):
    """Who acts in which rollout: anything with ``.user`` and ``.project`` (an ``Access``)."""

    @property
    def user(self) -> Any: ...

    @property
    def project(self) -> Any: ...


def log(
    session: Session,
    access: ProjectAccess,
    action: str,
    obj: Any | None = None,
    summary: str = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    entity_type: str | None = None,
    entity_id: int | None = None,
) -> AuditEvent:
    """Append one event of a change ``access.user`` made in ``access.project``.

    The entity is ``obj``: its type is the object's ``__tablename__`` and its id ``obj.id``;
    ``entity_type`` and ``entity_id`` override them (and are the only source without ``obj``).
    As with :func:`record`, given both ``before`` and ``after`` only changed keys are kept.
    """
    if isinstance(obj, str):
        raise TypeError("log(): obj is the changed object; without one, pass summary= by name")
    if entity_type is None:
        if obj is None:
            raise ValueError("log() needs an object or an explicit entity_type")
        entity_type = obj.__tablename__
    if entity_id is None and obj is not None:
        entity_id = obj.id
    return record(
        session,
        actor=access.user,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        project_id=access.project.id,
        summary=summary,
        before=before,
        after=after,
    )


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor: str | None = None
    entity_type: str | None = None
    since: date | None = None
    until: date | None = None


def audit_query(project_id: int | None, flt: AuditFilter):
    """A select of the project's events (``None``: site-wide events), newest first."""
    stmt = select(AuditEvent)
    if project_id is None:
        stmt = stmt.where(AuditEvent.project_id.is_(None))
    else:
        stmt = stmt.where(AuditEvent.project_id == project_id)
    if flt.action:
        stmt = stmt.where(AuditEvent.action == flt.action)
    if flt.actor:
        stmt = stmt.where(func.lower(AuditEvent.actor_name) == flt.actor.lower())
    if flt.entity_type:
        stmt = stmt.where(AuditEvent.entity_type == flt.entity_type)
    if flt.since:
        stmt = stmt.where(
            AuditEvent.at
            >= datetime.combine(flt.since, datetime.min.time(), tzinfo=utcnow().tzinfo)
        )
    if flt.until:
        stmt = stmt.where(
            AuditEvent.at < datetime.combine(flt.until, datetime.max.time(), tzinfo=utcnow().tzinfo)
        )
    return stmt.order_by(AuditEvent.id.desc())


# Events that record a reading or an attempt, not a change of the rollout's data.
READ_ACTIONS = (
    "access.denied",
    "approval.failed",
    "artifact.download",
    "login.failed",
    "login.success",
)


def last_change(session: Session, project_id: int) -> int:
    """The id of the rollout's latest audited change (0 for none): a revision of all its data.

    Every change is audited in its own transaction, so this number moves whenever anything of
    the rollout changes; reports are cached against it (one indexed statement).
    """
    return int(
        session.scalar(
            select(func.max(AuditEvent.id)).where(
                AuditEvent.project_id == project_id, AuditEvent.action.not_in(READ_ACTIONS)
            )
        )
        or 0
    )
