"""Data migration: the old CRM's exports the lead uploads, kept encrypted, and their profiles.

An upload's bytes are customer data: they are stored as a sequence of encrypted pieces
(:mod:`planner.core.encryption`, each bound to its upload and position), never in clear. Its
profile has two parts: the aggregates (counts, types, formats: no customer value) in clear,
and the values the profile quotes (the most frequent values, examples, minimum and maximum,
the rows of duplicate groups) encrypted like the file. Purging an upload deletes its pieces
and its values; the aggregates stay, for the record and the report.

A recipe (:mod:`planner.migration.fields`) says how an export's columns land in the new CRM's
fields of one entity. A pilot is a few records cleaned by a recipe, kept encrypted, exported for
the new CRM; a reconciliation compares them with what the new CRM exported after importing them,
each difference waiting for the lead's explanation. The plan says how the whole move is made.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from planner.core.db import Base, Timestamped, UTCDateTime, Versioned


class MigrationUpload(Versioned, Base):
    """One export of the old CRM as uploaded: its name, size and kind, how it is read
    (encoding, delimiter, header row: detected, or as the lead set them) and its profile."""

    __tablename__ = "migration_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(8))  # "csv" or "xlsx"
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    pieces: Mapped[int] = mapped_column(Integer, default=0)  # encrypted pieces stored
    # how it is read: what was detected, and what the lead chose instead (None: as detected)
    encoding: Mapped[str] = mapped_column(String(40), default="")
    delimiter: Mapped[str] = mapped_column(String(4), default="")
    header_row: Mapped[int] = mapped_column(Integer, default=0)
    chosen: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    columns: Mapped[int] = mapped_column(Integer, default=0)
    aggregates: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # no values
    sealed_values: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # sealed JSON
    uploaded_by_name: Mapped[str] = mapped_column(String(120), default="")
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_by_name: Mapped[str] = mapped_column(String(120), default="")

    @property
    def purged(self) -> bool:
        return self.purged_at is not None


class MigrationUploadPiece(Base):
    """One encrypted piece of an upload's bytes (at most 1 MB of plain text), in order."""

    __tablename__ = "migration_upload_piece"

    upload_id: Mapped[int] = mapped_column(
        ForeignKey("migration_upload.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MigrationRecipe(Versioned, Base):
    """How the old CRM's columns land in the new CRM's fields of one entity (contacts,
    companies, deals...): the recipe document, one per entity of a rollout. ``upload_id`` is
    the export it was drawn up for and is previewed against."""

    __tablename__ = "migration_recipe"
    __table_args__ = (UniqueConstraint("project_id", "entity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    entity: Mapped[str] = mapped_column(String(40))
    document: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    upload_id: Mapped[int | None] = mapped_column(
        ForeignKey("migration_upload.id", ondelete="SET NULL"), index=True
    )
    created_by_name: Mapped[str] = mapped_column(String(120), default="")


class MigrationPilot(Timestamped, Base):
    """A pilot batch: records of an upload cleaned by a version of a recipe, chosen so that
    every kind of problem appears, kept encrypted (``sealed_records``, None once purged) for
    export to the new CRM and for reconciliation. Never changed once made."""

    __tablename__ = "migration_pilot"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    recipe_id: Mapped[int] = mapped_column(
        ForeignKey("migration_recipe.id", ondelete="CASCADE"), index=True
    )
    recipe_version: Mapped[int] = mapped_column(Integer)
    recipe_document: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    upload_id: Mapped[int] = mapped_column(
        ForeignKey("migration_upload.id", ondelete="CASCADE"), index=True
    )
    size: Mapped[int] = mapped_column(Integer)
    rows: Mapped[list[int]] = mapped_column(JSON, default=list)  # row numbers in the export
    kinds: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # kinds shown: records
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # cleaning's counts
    sealed_records: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_by_name: Mapped[str] = mapped_column(String(120), default="")
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MigrationReconciliation(Versioned, Base):
    """What the new CRM exported after importing a pilot, compared with the pilot: the counts
    and kinds in clear (``summary``), the differences with their values encrypted, and the
    lead's explanation of each difference by its id (``explanations``)."""

    __tablename__ = "migration_reconciliation"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    pilot_id: Mapped[int] = mapped_column(
        ForeignKey("migration_pilot.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sealed_details: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    explanations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_name: Mapped[str] = mapped_column(String(120), default="")


class MigrationPlan(Versioned, Base):
    """How the whole move is made (one per rollout): bulk or incremental, in batches of how
    many records, the entities in order, the backup taken first (where, when, verified by a
    restore) and who has access to the data on the way."""

    __tablename__ = "migration_plan"
    __table_args__ = (UniqueConstraint("project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    approach: Mapped[str] = mapped_column(String(16), default="")  # "bulk", "incremental"
    batch_size: Mapped[int | None] = mapped_column(Integer)
    entity_order: Mapped[list[str]] = mapped_column(JSON, default=list)
    backup_taken: Mapped[bool] = mapped_column(Boolean, default=False)
    backup_location: Mapped[str] = mapped_column(String(255), default="")
    backup_taken_on: Mapped[date | None] = mapped_column(Date)
    backup_verified: Mapped[bool] = mapped_column(Boolean, default=False)  # by a restore
    backup_verified_on: Mapped[date | None] = mapped_column(Date)
    access: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
