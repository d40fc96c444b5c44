"""The solution design: the working record, its modules and the requirements each covers, the
numbered versions submitted for review (immutable), the review indicators and scores."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from planner.core.accounts.models import User
from planner.core.db import Base, Timestamped, UTCDateTime, Versioned, str_enum, utcnow
from planner.projects.phases import SolutionKind
from planner.requirements.models import Requirement

module_requirement = Table(
    "design_module_requirement",
    Base.metadata,
    Column("module_id", ForeignKey("design_module.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "requirement_id",
        ForeignKey("requirement.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Design(Versioned, Base):
    """The rollout's working solution design (one per rollout), Markdown texts."""

    __tablename__ = "design"
    __table_args__ = (UniqueConstraint("project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    solution_kind: Mapped[SolutionKind | None] = mapped_column(
        str_enum(SolutionKind, "design_solution_kind")
    )
    summary: Mapped[str] = mapped_column(Text, default="")
    processes: Mapped[str] = mapped_column(Text, default="")
    integrations: Mapped[str] = mapped_column(Text, default="")
    organisational_fit: Mapped[str] = mapped_column(Text, default="")
    growth_plans: Mapped[str] = mapped_column(Text, default="")
    cost_estimate: Mapped[str] = mapped_column(Text, default="")
    risks: Mapped[str] = mapped_column(Text, default="")

    modules: Mapped[list[DesignModule]] = relationship(
        back_populates="design",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="DesignModule.position, DesignModule.id",
    )


class DesignModule(Versioned, Base):
    """A module of the design and the requirements it covers."""

    __tablename__ = "design_module"

    id: Mapped[int] = mapped_column(primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("design.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")

    design: Mapped[Design] = relationship(back_populates="modules", lazy="raise")
    requirements: Mapped[list[Requirement]] = relationship(
        secondary=module_requirement, lazy="raise", order_by="Requirement.number"
    )


class DesignVersion(Base):
    """A numbered version of the design submitted for review: its content as canonical JSON
    (modules with the exact revision of each requirement they cover) and that JSON's SHA-256.
    Immutable: a flush that changes or deletes one is refused."""

    __tablename__ = "design_version"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    number: Mapped[int]
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    submitted_by_name: Mapped[str] = mapped_column(String(120), default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Indicator(Versioned, Base):
    """What the board scores a design on (feasibility, cost-effectiveness, risk control …)."""

    __tablename__ = "design_indicator"
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    guide: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    position: Mapped[int] = mapped_column(default=0)


class ReviewScore(Timestamped, Base):
    """A reviewer's score (1–5) of one indicator of one design version, with a comment."""

    __tablename__ = "design_review_score"
    __table_args__ = (
        UniqueConstraint("version_id", "indicator_id", "reviewer_id"),
        CheckConstraint("score >= 1 AND score <= 5", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("design_version.id", ondelete="CASCADE"), index=True
    )
    indicator_id: Mapped[int] = mapped_column(ForeignKey("design_indicator.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")


class ReviewSubmission(Base):
    """A reviewer's review of a version is complete: their scores count, and they see the
    board's."""

    __tablename__ = "design_review_submission"
    __table_args__ = (UniqueConstraint("version_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("design_version.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User] = relationship(lazy="raise")


@event.listens_for(Session, "before_flush")
def _versions_are_immutable(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, DesignVersion | ReviewSubmission) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise RuntimeError("a submitted design version and its reviews are immutable")
