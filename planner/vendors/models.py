"""Vendor selection: vendors, criteria, the board's scores and the fair-process records."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from planner.core.accounts.models import User
from planner.core.db import Base, UTCDateTime, Versioned, str_enum, utcnow


class RoundState(enum.StrEnum):
    NOT_OPEN = "not_open"
    OPEN = "open"
    CLOSED = "closed"


class Vendor(Versioned, Base):
    """A candidate CRM vendor. ``cost_3y`` is commercial data: lead and executives only."""

    __tablename__ = "vendor"
    __table_args__ = (UniqueConstraint("project_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120))
    product: Mapped[str] = mapped_column(String(200), default="")
    service_scope: Mapped[str] = mapped_column(Text, default="")
    support: Mapped[str] = mapped_column(Text, default="")
    update_frequency: Mapped[str] = mapped_column(String(200), default="")
    references: Mapped[str] = mapped_column(Text, default="")
    solution_kind: Mapped[str | None] = mapped_column(String(20))
    cost_3y: Mapped[float | None] = mapped_column(Float)


class Criterion(Versioned, Base):
    """An evaluation criterion with its weight; a must-have knocks out vendors below its minimum."""

    __tablename__ = "criterion"
    __table_args__ = (
        UniqueConstraint("project_id", "name_key"),
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("min_score >= 0 AND min_score <= 5", name="min_score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    scale_guide: Mapped[str] = mapped_column(Text, default="")
    group: Mapped[str] = mapped_column(String(60), default="")
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    must_have: Mapped[bool] = mapped_column(default=False)
    min_score: Mapped[float] = mapped_column(Float, default=3.0)
    is_price: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)


class ScoringRound(Versioned, Base):
    """The board's scoring round of a rollout: opened and closed by the lead."""

    __tablename__ = "scoring_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[RoundState] = mapped_column(
        str_enum(RoundState, "round_state"), default=RoundState.NOT_OPEN
    )
    two_envelopes: Mapped[bool] = mapped_column(default=True)
    technical_closed: Mapped[bool] = mapped_column(default=False)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def not_open(self) -> bool:
        return self.state == RoundState.NOT_OPEN

    @property
    def is_open(self) -> bool:
        """Reviewers may declare conflicts and score."""
        return self.state == RoundState.OPEN

    @property
    def is_closed(self) -> bool:
        """The board's scores are final."""
        return self.state == RoundState.CLOSED

    @property
    def prices_hidden(self) -> bool:
        """Two envelopes and the technical scoring still open: prices are not shown yet."""
        return self.two_envelopes and not self.technical_closed


class BoardRevision(Base):
    """How many changes that can move a result (scores, weights, vendors, consensus, recusals)
    each writer has made on a rollout's board. The board's revision is their sum: it grows
    with every committed change, so the cached evaluation is valid while it matches. One row
    per writer, so that reviewers saving at the same moment never wait on one another's row
    (a single counter would queue them all, on PostgreSQL, until each commits)."""

    __tablename__ = "board_revision"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    writer_id: Mapped[int] = mapped_column(primary_key=True)  # a user id; 0: the system
    changes: Mapped[int] = mapped_column(default=0)


class EvaluationCache(Base):
    """The last computed evaluation of a rollout (JSON), kept while the board is unchanged.

    In the database, not in process memory, so app servers stay stateless.
    """

    __tablename__ = "evaluation_cache"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    variant: Mapped[str] = mapped_column(String(12), primary_key=True)  # full | technical
    revision: Mapped[int]
    body: Mapped[str] = mapped_column(Text)  # the evaluation as JSON text, served as is
    # The same without the disagreements' individual scores: what the page decodes.
    summary: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Score(Base):
    """One reviewer's integer score 0..5 of one vendor on one criterion."""

    __tablename__ = "score"
    __table_args__ = (
        UniqueConstraint("reviewer_id", "vendor_id", "criterion_id"),
        CheckConstraint("score >= 0 AND score <= 5", name="score_range"),
        Index("ix_score_project", "project_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("criterion.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Submission(Base):
    """A reviewer has submitted their scoresheet: from then on they see the board's scores."""

    __tablename__ = "scoresheet_submission"
    __table_args__ = (UniqueConstraint("project_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConflictDeclaration(Base):
    """A reviewer's declaration of interest: one row per vendor, or one row with no vendor
    for "no conflict". Redeclaring replaces the reviewer's rows."""

    __tablename__ = "conflict_declaration"
    __table_args__ = (Index("ix_conflict_project_reviewer", "project_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendor.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Recusal(Base):
    """The lead recused a reviewer from a vendor: their scores for it count nowhere."""

    __tablename__ = "recusal"
    __table_args__ = (UniqueConstraint("project_id", "reviewer_id", "vendor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id], lazy="raise")


class Consensus(Base):
    """The lead's consensus score for a disputed vendor × criterion; replaces the mean."""

    __tablename__ = "consensus"
    __table_args__ = (
        UniqueConstraint("vendor_id", "criterion_id"),
        CheckConstraint("score >= 0 AND score <= 5", name="consensus_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    rationale: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PairwiseJudgement(Base):
    """One AHP judgement: how much more important criterion a is than b (Saaty 1..9)."""

    __tablename__ = "pairwise_judgement"
    __table_args__ = (UniqueConstraint("project_id", "criterion_a_id", "criterion_b_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    criterion_a_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"))
    criterion_b_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"))
    value: Mapped[float] = mapped_column(Float)


class VendorDecision(Versioned, Base):
    """The selected vendor, the rationale, and the contract-negotiation checklist."""

    __tablename__ = "vendor_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), unique=True
    )
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id", ondelete="RESTRICT"))
    rationale: Mapped[str] = mapped_column(Text)
    # Why the lead chose a vendor the board's result does not rank (knocked out, incomplete);
    # empty for a ranked vendor.
    override_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # contract-negotiation checklist
    scope_agreed: Mapped[bool] = mapped_column(default=False)
    service_levels_agreed: Mapped[bool] = mapped_column(default=False)
    data_ownership_exit_agreed: Mapped[bool] = mapped_column(default=False)
    price_payment_agreed: Mapped[bool] = mapped_column(default=False)
    support_agreed: Mapped[bool] = mapped_column(default=False)
    contract_notes: Mapped[str] = mapped_column(Text, default="")
    legal_reviewed_by: Mapped[str] = mapped_column(String(120), default="")
    legal_reviewed_on: Mapped[date | None]

    vendor: Mapped[Vendor] = relationship(lazy="joined")


__all__ = [
    "Consensus",
    "ConflictDeclaration",
    "Criterion",
    "BoardRevision",
    "EvaluationCache",
    "PairwiseJudgement",
    "Recusal",
    "RoundState",
    "Score",
    "ScoringRound",
    "Submission",
    "Vendor",
    "VendorDecision",
]
