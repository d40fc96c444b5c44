from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from planner.core.accounts.models import User
from planner.core.db import Base, Timestamped, UTCDateTime, utcnow


class Artifact(Timestamped, Base):
    """A titled document of one phase. Uploading the same title again adds a version."""

    __tablename__ = "artifact"
    __table_args__ = (
        UniqueConstraint("project_id", "phase_key", "title_key"),
        Index("ix_artifact_project_phase", "project_id", "phase_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    phase_key: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    title_key: Mapped[str] = mapped_column(String(200))  # normalised, for "same title"
    latest_version: Mapped[int] = mapped_column(default=0)

    versions: Mapped[list[ArtifactVersion]] = relationship(
        back_populates="artifact",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="ArtifactVersion.number.desc()",
    )


class ArtifactVersion(Base):
    """One uploaded file. The bytes live in the database so app servers stay stateless."""

    __tablename__ = "artifact_version"
    __table_args__ = (UniqueConstraint("artifact_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    artifact_id: Mapped[int] = mapped_column(
        ForeignKey("artifact.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    artifact: Mapped[Artifact] = relationship(back_populates="versions", lazy="raise")
    uploaded_by: Mapped[User | None] = relationship(lazy="raise")
