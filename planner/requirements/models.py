"""The requirements register: requirements, their revisions and their traces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from planner.core.accounts.models import User
from planner.core.db import Base, UTCDateTime, Versioned, str_enum, utcnow
from planner.goals.models import Goal
from planner.projects.models import Department
from planner.requirements.records import (
    MODULE_MAX,
    TITLE_MAX,
    Priority,
    ReqStatus,
    ReqType,
    key_of,
)

requirement_goal = Table(
    "requirement_goal",
    Base.metadata,
    Column("requirement_id", ForeignKey("requirement.id", ondelete="CASCADE"), primary_key=True),
    Column("goal_id", ForeignKey("goal.id", ondelete="CASCADE"), primary_key=True, index=True),
)

requirement_department = Table(
    "requirement_department",
    Base.metadata,
    Column("requirement_id", ForeignKey("requirement.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "department_id",
        ForeignKey("department.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class RequirementSequence(Base):
    """The last requirement number given in a rollout: keys are never reused."""

    __tablename__ = "requirement_sequence"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    last_number: Mapped[int] = mapped_column(default=0)


class Requirement(Versioned, Base):
    """A need stated by the business, traced to where it came from and to the goals it serves.

    ``revision`` counts its changes (1 when made); later areas pin a requirement at a revision.
    ``search_text`` is its key, title and description case-folded, for the register's search;
    ``title_key`` its title as the near-identical check compares it (kept, not recomputed for
    the whole register on every page).
    """

    __tablename__ = "requirement"
    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        Index("ix_requirement_project_priority", "project_id", "priority"),
        Index("ix_requirement_project_status", "project_id", "status"),
        Index("ix_requirement_project_module", "project_id", "module"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[ReqType] = mapped_column(str_enum(ReqType, "requirement_type"))
    priority: Mapped[Priority] = mapped_column(str_enum(Priority, "requirement_priority"))
    module: Mapped[str] = mapped_column(String(MODULE_MAX), default="")
    acceptance_criterion: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ReqStatus] = mapped_column(
        str_enum(ReqStatus, "requirement_status"), default=ReqStatus.PROPOSED
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revision: Mapped[int] = mapped_column(default=1)
    search_text: Mapped[str] = mapped_column(Text, default="")
    title_key: Mapped[str] = mapped_column(String(TITLE_MAX), default="")  # flags.normalise_title

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="raise")
    updated_by: Mapped[User | None] = relationship(
        foreign_keys="Requirement.updated_by_id", lazy="raise"
    )
    goals: Mapped[list[Goal]] = relationship(
        secondary=requirement_goal, lazy="raise", order_by="Goal.position, Goal.id"
    )
    departments: Mapped[list[Department]] = relationship(
        secondary=requirement_department, lazy="raise", order_by="Department.name"
    )

    @property
    def key(self) -> str:
        return key_of(self.number)


class RequirementRevision(Base):
    """What a requirement was at one revision: a snapshot of its fields and traces, who made it
    and when. Append-only: a flush that changes or deletes one is refused."""

    __tablename__ = "requirement_revision"
    __table_args__ = (UniqueConstraint("requirement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requirement_id: Mapped[int] = mapped_column(ForeignKey("requirement.id", ondelete="CASCADE"))
    number: Mapped[int]
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    changed_by_name: Mapped[str] = mapped_column(String(120), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(Session, "before_flush")
def _revisions_are_append_only(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, RequirementRevision) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise RuntimeError("requirement revisions are append-only")


class ImportDraft(Base):
    """A file uploaded for import, kept between its preview and the lead's confirmation (the
    preview's plan is checked again then); removed when applied or a day later."""

    __tablename__ = "requirement_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
