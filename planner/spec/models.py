"""The technical specification: the working draft's sections, and the numbered versions
submitted for review (immutable snapshots, with their SHA-256)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from planner.core.db import Base, UTCDateTime, Versioned, utcnow


class Spec(Versioned, Base):
    """The rollout's specification (one per rollout): its working draft of sections."""

    __tablename__ = "spec"
    __table_args__ = (UniqueConstraint("project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    signing_in_order: Mapped[bool] = mapped_column(default=False)

    sections: Mapped[list[SpecSection]] = relationship(
        back_populates="spec",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="SpecSection.position, SpecSection.id",
    )


class SpecSection(Versioned, Base):
    """A section of the draft: its title and Markdown text; ``key`` says which of the standard
    sections it is (and so what the version adds to it from the other phases), or "custom"."""

    __tablename__ = "spec_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    spec_id: Mapped[int] = mapped_column(ForeignKey("spec.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    spec: Mapped[Spec] = relationship(back_populates="sections", lazy="raise")


class SpecVersion(Base):
    """A numbered version submitted for review: the sections as they were, what they drew
    from the other phases, and the exact revision of every requirement, as canonical JSON with
    its SHA-256. Immutable: a flush that changes or deletes one is refused."""

    __tablename__ = "spec_version"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    number: Mapped[int]
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    submitted_by_name: Mapped[str] = mapped_column(String(120), default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(Session, "before_flush")
def _versions_are_immutable(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, SpecVersion | SignoffRequest | SealedSpec) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise RuntimeError("a submitted specification version is immutable")


class SpecComment(Base):
    """A board member's comment on a version: on the whole version, a section (``anchor`` is
    the section's place "section:3") or a requirement ("REQ-007"); a reply has a ``parent``.
    A thread (its first comment) is open until resolved, and may be reopened."""

    __tablename__ = "spec_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("spec_version.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("spec_comment.id", ondelete="CASCADE"), index=True
    )
    anchor: Mapped[str] = mapped_column(String(60), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(120), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved: Mapped[bool] = mapped_column(default=False)
    resolved_by_name: Mapped[str] = mapped_column(String(120), default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SpecSigner(Base):
    """An executive who must sign the specification, in ``position`` order."""

    __tablename__ = "spec_signer"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)


class SignoffRequest(Base):
    """A version put up for sign-off: by whom, when, the signers it needs (their ids, in
    order) and whether in that order. Append-only, one per version."""

    __tablename__ = "spec_signoff_request"
    __table_args__ = (UniqueConstraint("version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("spec_version.id", ondelete="CASCADE"))
    signers: Mapped[list[int]] = mapped_column(JSON)
    in_order: Mapped[bool] = mapped_column(default=False)
    requested_by_name: Mapped[str] = mapped_column(String(120), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SealedSpec(Base):
    """The signed-off version's PDF as it was rendered and signed once, one PAdES signature
    per signer: every later download serves these bytes. Append-only."""

    __tablename__ = "spec_sealed_pdf"
    __table_args__ = (UniqueConstraint("version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("spec_version.id", ondelete="CASCADE"))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    signed: Mapped[bool] = mapped_column(default=True)  # False: no signing key was configured
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
