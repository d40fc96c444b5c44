"""Data migration: the old CRM's exports the lead uploads, kept encrypted, and their profiles.

An upload's bytes are customer data: they are stored as a sequence of encrypted pieces
(:mod:`planner.core.encryption`, each bound to its upload and position), never in clear. Its
profile has two parts: the aggregates (counts, types, formats: no customer value) in clear,
and the values the profile quotes (the most frequent values, examples, minimum and maximum,
the rows of duplicate groups) encrypted like the file. Purging an upload deletes its pieces
and its values; the aggregates stay, for the record and the report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from planner.core.db import Base, UTCDateTime, Versioned


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
    sealed_values: Mapped[bytes | None] = mapped_column(LargeBinary)  # encrypted JSON
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
