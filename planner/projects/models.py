from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from planner.core.accounts.models import User
from planner.core.db import Base, Timestamped, UTCDateTime, Versioned, str_enum, utcnow
from planner.core.permissions import Role
from planner.projects.phases import GateOutcome, PhaseStatus, SolutionKind, Strategy


class Project(Versioned, Base):
    """A CRM rollout."""

    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    solution_kind: Mapped[SolutionKind | None] = mapped_column(
        str_enum(SolutionKind, "solution_kind")
    )
    strategy: Mapped[Strategy | None] = mapped_column(str_enum(Strategy, "strategy"))
    vision: Mapped[str] = mapped_column(Text, default="")
    strategy_text: Mapped[str] = mapped_column(Text, default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    updated_by: Mapped[User | None] = relationship(
        foreign_keys="Project.updated_by_id", lazy="raise"
    )


class Department(Base):
    """A department of the company taking part in the rollout (sales, IT, legal...)."""

    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))


class Membership(Timestamped, Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship(lazy="raise")
    department: Mapped[Department | None] = relationship(lazy="raise")


class Phase(Versioned, Base):
    """One phase of one rollout."""

    __tablename__ = "phase"
    __table_args__ = (UniqueConstraint("project_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(20))
    position: Mapped[int]
    status: Mapped[PhaseStatus] = mapped_column(
        str_enum(PhaseStatus, "phase_status"), default=PhaseStatus.NOT_STARTED
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    planned_start: Mapped[date | None]
    planned_end: Mapped[date | None]
    actual_start: Mapped[date | None]
    actual_end: Mapped[date | None]

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="raise")
    updated_by: Mapped[User | None] = relationship(foreign_keys="Phase.updated_by_id", lazy="raise")


class ChecklistItem(Timestamped, Base):
    """An exit criterion of a phase that the lead ticks by hand."""

    __tablename__ = "checklist_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phase.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(300))
    done: Mapped[bool] = mapped_column(default=False)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GateDecision(Base):
    """A recorded gate decision: pass, send back, or skip with the risk acknowledged."""

    __tablename__ = "gate_decision"
    __table_args__ = (Index("ix_gate_decision_phase_at", "phase_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phase.id", ondelete="CASCADE"))
    outcome: Mapped[GateOutcome] = mapped_column(str_enum(GateOutcome, "gate_outcome"))
    comment: Mapped[str] = mapped_column(Text, default="")
    risk_acknowledged: Mapped[bool] = mapped_column(default=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    decided_by: Mapped[User | None] = relationship(lazy="raise")
