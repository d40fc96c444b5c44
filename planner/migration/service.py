"""The rules of the old CRM's exports: upload (profiled, then kept encrypted), read again with
another encoding, delimiter or header row, purge; who sees what of them.

Only the lead (and a site admin) handle raw rows: they upload, re-read and purge, and they see
the values a profile quotes. Every other member sees the aggregates (counts, types, formats),
never a value. Row values never reach the audit trail, the logs or an error message: the audit
says that a file was uploaded, read again or purged, with its name, size and shape.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

from planner.core import audit
from planner.core.db import utcnow
from planner.core.encryption import DataKey
from planner.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from planner.core.i18n import counted, quoted
from planner.core.permissions import Permission, Role
from planner.core.versioning import ensure_version
from planner.migration import formats, profiling
from planner.migration.detection import DELIMITER_NAMES as DELIMITERS
from planner.migration.detection import ENCODINGS
from planner.migration.models import (
    MigrationPilot,
    MigrationRecipe,
    MigrationReconciliation,
    MigrationUpload,
    MigrationUploadPiece,
)
from planner.projects.access import Access

MAX_HEADER_ROW = 50
MAX_ID = 2**63 - 1  # the largest id a database holds (BIGINT)


def may_see_rows(access: Access) -> bool:
    """Whether this member may handle an export's rows and see the values a profile quotes:
    the lead and a site admin."""
    return access.role == Role.LEAD or access.user.is_admin


def require_rows(access: Access) -> None:
    """PermissionDenied unless this member may handle the rows (see :func:`may_see_rows`)."""
    access.require(Permission.EDIT)
    if not may_see_rows(access):
        raise PermissionDenied("Only the project lead handles the old CRM's customer rows.")


def _context(upload: MigrationUpload) -> str:
    return f"migration_upload:{upload.project_id}:{upload.id}"


def uploads(session: Session, project_id: int) -> list[MigrationUpload]:
    """The rollout's uploads, newest first (one statement; the bytes stay in the database)."""
    return list(
        session.scalars(
            select(MigrationUpload)
            .where(MigrationUpload.project_id == project_id)
            .order_by(MigrationUpload.id.desc())
        )
    )


def get_upload(session: Session, project_id: int, upload_id: int) -> MigrationUpload:
    """Upload ``upload_id`` of the rollout; NotFound else (an id no database holds too)."""
    if not 0 < upload_id <= MAX_ID:
        raise NotFound("No such upload.")
    row = session.get(MigrationUpload, upload_id)
    if row is None or row.project_id != project_id:
        raise NotFound("No such upload.")
    return row


@contextmanager
def spooled(stream: BinaryIO) -> Iterator[tuple[Path, int, str]]:
    """``stream`` copied to a temporary file of its own (read by the profiler, then deleted),
    with its size and SHA-256."""
    with tempfile.TemporaryDirectory(prefix="planner-migration-") as folder:
        path = Path(folder) / "upload"
        digest = hashlib.sha256()
        size = 0
        with path.open("wb") as out:
            while piece := stream.read(1024 * 1024):
                digest.update(piece)
                size += len(piece)
                out.write(piece)
        yield path, size, digest.hexdigest()


def _profile(path: Path, filename: str, chosen: dict[str, Any]) -> dict[str, Any]:
    return profiling.profile(
        path,
        filename,
        encoding=chosen.get("encoding"),
        delimiter=chosen.get("delimiter"),
        header_row=chosen.get("header_row"),
    ).as_dict()


def split_values(profile: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A profile as (aggregates, values): every ``values`` entry (of a column, of a duplicate
    group) moved out by its place, the rest kept; the two merge back with
    :func:`merge_values`."""
    aggregates = json.loads(json.dumps(profile))
    values: dict[str, Any] = {"columns": {}, "duplicates": {}}
    for i, column in enumerate(aggregates.get("columns", [])):
        values["columns"][str(i)] = column.pop("values", {})
    for i, group in enumerate((aggregates.get("duplicates") or {}).get("groups", [])):
        if "values" in group:
            values["duplicates"][str(i)] = group.pop("values")
    return aggregates, values


def merge_values(aggregates: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The profile with its values put back (see :func:`split_values`)."""
    merged = json.loads(json.dumps(aggregates))
    for i, column in enumerate(merged.get("columns", [])):
        column["values"] = values.get("columns", {}).get(str(i), {})
    for i, group in enumerate((merged.get("duplicates") or {}).get("groups", [])):
        if str(i) in values.get("duplicates", {}):
            group["values"] = values["duplicates"][str(i)]
    return merged


def _keep_profile(upload: MigrationUpload, profile: dict[str, Any], key: DataKey) -> None:
    aggregates, values = split_values(profile)
    upload.aggregates = aggregates
    upload.sealed_values = key.seal(
        json.dumps(values, ensure_ascii=False).encode(), f"{_context(upload)}:values"
    )
    upload.encoding = str(profile.get("encoding") or "")
    upload.delimiter = str(profile.get("delimiter") or "")
    upload.header_row = int(profile.get("header_row") or 0)
    upload.rows = int(profile.get("rows") or 0)
    upload.columns = len(profile.get("columns") or [])


def upload(
    session: Session, access: Access, stream: BinaryIO, filename: str, key: DataKey
) -> MigrationUpload:
    """Profile an export of the old CRM and keep it encrypted (the lead only). A file that
    cannot be read is refused with why, and nothing is stored."""
    require_rows(access)
    filename = (filename or "export").strip()[:255] or "export"
    with spooled(stream) as (path, size, sha256):
        if size == 0:
            raise ValidationError(
                f"{quoted(filename)} is empty.",
                {"file": ["The file is empty: choose the export the old CRM wrote."]},
            )
        profile = _profile(path, filename, {})  # ValidationError: nothing stored yet
        row = MigrationUpload(
            project_id=access.project.id,
            filename=filename,
            kind=str(profile.get("kind") or "csv"),
            size=size,
            sha256=sha256,
            chosen={},
            uploaded_by_name=access.user.name,
            updated_by_id=access.user.id,
        )
        session.add(row)
        session.flush()
        with path.open("rb") as plain:
            for position, blob in key.seal_chunks(plain, _context(row)):
                session.add(MigrationUploadPiece(upload_id=row.id, position=position, data=blob))
                row.pieces = position + 1
        _keep_profile(row, profile, key)
        session.flush()
    audit.log(
        session,
        access,
        "migration.upload",
        row,
        f"export {quoted(filename)} uploaded and profiled: {counted(row.rows, 'row')}, "
        f"{counted(row.columns, 'column')}, {size} bytes",
        after={"filename": filename, "size": size, "rows": row.rows, "columns": row.columns},
    )
    return row


@contextmanager
def decrypted(session: Session, upload: MigrationUpload, key: DataKey) -> Iterator[Path]:
    """The upload's bytes in a temporary file of its own, deleted afterwards."""
    if upload.purged:
        raise Conflict(f"{quoted(upload.filename)} was purged: its rows are gone.")
    pieces = session.execute(
        select(MigrationUploadPiece.position, MigrationUploadPiece.data)
        .where(MigrationUploadPiece.upload_id == upload.id)
        .order_by(MigrationUploadPiece.position)
        .execution_options(yield_per=8)
    )
    with tempfile.TemporaryDirectory(prefix="planner-migration-") as folder:
        path = Path(folder) / "upload"
        count = 0
        with path.open("wb") as out:
            for plain in key.open_chunks(pieces, _context(upload)):
                out.write(plain)
                count += 1
        if count != upload.pieces:
            raise Conflict(f"{quoted(upload.filename)} is incomplete in the database.")
        yield path


def read_again(
    session: Session,
    access: Access,
    upload: MigrationUpload,
    *,
    version: int | None,
    encoding: str | None,
    delimiter: str | None,
    header_row: int | None,
    key: DataKey,
) -> MigrationUpload:
    """Profile the upload again, read with this encoding, delimiter and header row (None: as
    detected); StaleEdit if it changed since ``version``. ValidationError, and nothing
    changed, if it cannot be read so."""
    require_rows(access)
    ensure_version(session, upload, version)
    if encoding and encoding not in ENCODINGS:
        raise ValidationError(
            f"Unknown encoding {quoted(encoding)}.", {"encoding": ["Not one offered."]}
        )
    if delimiter and delimiter not in DELIMITERS:
        raise ValidationError("Unknown delimiter.", {"delimiter": ["Not one offered."]})
    if header_row is not None and not 0 <= header_row <= MAX_HEADER_ROW:
        raise ValidationError(
            f"The header is on one of the first {MAX_HEADER_ROW + 1} lines.",
            {"header_row": ["Out of range."]},
        )
    chosen = {
        k: v
        for k, v in {"encoding": encoding, "delimiter": delimiter, "header_row": header_row}.items()
        if v not in (None, "")
    }
    with decrypted(session, upload, key) as path:
        profile = _profile(path, upload.filename, chosen)
    if _data_like(split_values(profile)[0]) and _has_recipe(session, upload):
        raise ValidationError(
            f"Read so, the first line of {quoted(upload.filename)} is a customer's record, "
            "not column names, and a recipe reads this export by its column names: choose the "
            "header's line.",
            {"header_row": ["That line is a customer's record: choose the line of column names."]},
        )
    before = {
        "encoding": upload.encoding,
        "delimiter": upload.delimiter,
        "header_row": upload.header_row,
    }
    upload.chosen = chosen
    upload.updated_by_id = access.user.id
    _keep_profile(upload, profile, key)
    session.flush()
    audit.log(
        session,
        access,
        "migration.read_again",
        upload,
        f"export {quoted(upload.filename)} read again: {counted(upload.rows, 'row')}, "
        f"{counted(upload.columns, 'column')}",
        before=before,
        after={
            "encoding": upload.encoding,
            "delimiter": upload.delimiter,
            "header_row": upload.header_row,
        },
    )
    return upload


def lock(session: Session, row: Any, gone: str) -> None:
    """Read ``row`` again and lock it until the transaction ends (``FOR UPDATE``: a request
    changing it meanwhile waits, or this one does); Conflict saying ``gone`` when another
    request deleted it meanwhile."""
    try:
        session.refresh(row, with_for_update=True)
    except InvalidRequestError:  # "Could not refresh instance": its row is gone
        raise Conflict(gone) from None


def pilots_of(session: Session, upload: MigrationUpload) -> list[MigrationPilot]:
    """The pilot batches made from the upload that still hold their records, oldest first."""
    return list(
        session.scalars(
            select(MigrationPilot)
            .where(MigrationPilot.upload_id == upload.id, MigrationPilot.purged_at.is_(None))
            .order_by(MigrationPilot.id)
        )
    )


def _has_recipe(session: Session, upload: MigrationUpload) -> bool:
    found = select(MigrationRecipe.id).where(MigrationRecipe.upload_id == upload.id).limit(1)
    return session.scalar(found) is not None


def purge(session: Session, access: Access, upload: MigrationUpload) -> None:
    """Delete the upload's rows (its encrypted bytes and the values its profile quotes); its
    name, shape and aggregates stay. Conflict if it was purged already."""
    require_rows(access)
    session.refresh(upload, with_for_update=True)  # a pilot being made waits, or we do
    if upload.purged:
        raise Conflict(f"{quoted(upload.filename)} was purged already.")
    session.execute(delete(MigrationUploadPiece).where(MigrationUploadPiece.upload_id == upload.id))
    purge_derived(session, upload.id)
    upload.pieces = 0
    upload.sealed_values = None
    upload.purged_at = utcnow()
    upload.purged_by_name = access.user.name
    upload.updated_by_id = access.user.id
    session.flush()
    audit.log(
        session,
        access,
        "migration.purge",
        upload,
        f"export {quoted(upload.filename)} purged: its rows are deleted, its profile's counts kept",
    )


DATA_LIKE = frozenset({"email", "date", "datetime", "phone", "dialled", "decimal"})


def header_is_data(upload: MigrationUpload) -> bool:
    """Whether the upload's header looks like a customer's record rather than names (a phone
    number, an e-mail address, a date among them, or a name that is one of its column's
    values, as a city or a status is): a file without a header line. Its column names are
    then values, shown to the lead alone."""
    return _data_like(upload.aggregates or {})


def _data_like(aggregates: dict[str, Any]) -> bool:
    return any(
        c.get("aggregates", {}).get("header_among_values")
        or formats.families(str(c.get("name", "")), "RU") & DATA_LIKE
        for c in aggregates.get("columns", [])
    )


def require_header(upload: MigrationUpload) -> None:
    """ValidationError unless the upload has a header of names a recipe may read by: a recipe
    names the export's columns, every member reads it, and it is applied to the next export,
    whose first customer is another."""
    if header_is_data(upload):
        raise ValidationError(
            f"The first line of {quoted(upload.filename)} is a customer's record, not column "
            "names: a recipe cannot name its columns. Add a line of column names at the top "
            "of the file and upload it again, or read it again with the header's line chosen."
        )


def masked(aggregates: dict[str, Any]) -> dict[str, Any]:
    """The aggregates with the columns named by their place ("column 3"), for a header that
    is data (see :func:`header_is_data`)."""
    found = json.loads(json.dumps(aggregates))
    for i, column in enumerate(found.get("columns", [])):
        column["name"] = f"column {i + 1}"
    return found


def profile_for(
    access: Access,
    upload: MigrationUpload,
    key: DataKey,
    *,
    public_columns: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The upload's profile as this member may see it: the values it quotes for the lead and a
    site admin (until it is purged); for everyone else the aggregates (the columns named by
    their place when the header is data: :func:`header_is_data`), with the most frequent
    values of the ``public_columns`` alone (those a recipe maps to fields not marked sensitive:
    a status, a city), never an example, a minimum or a maximum."""
    if may_see_rows(access):
        if upload.sealed_values is None:
            return merge_values(upload.aggregates, {})
        values = json.loads(key.open(upload.sealed_values, f"{_context(upload)}:values"))
        return merge_values(upload.aggregates, values)
    if header_is_data(upload):
        return merge_values(masked(upload.aggregates), {})
    if upload.sealed_values is None:
        return merge_values(upload.aggregates, {})
    values = json.loads(key.open(upload.sealed_values, f"{_context(upload)}:values"))
    names = [c.get("name") for c in upload.aggregates.get("columns", [])]
    shown = {
        "columns": {
            i: {"top": column.get("top", [])}
            for i, column in values.get("columns", {}).items()
            if int(i) < len(names) and names[int(i)] in public_columns
        }
    }
    return merge_values(upload.aggregates, shown)


def purge_expired(session: Session, days: int) -> list[MigrationUpload]:
    """Purge every upload still holding rows in a rollout whose migration gate passed more
    than ``days`` days ago (the last decision on the gate counts); audited as the system's
    act. Returns the uploads purged; the caller commits."""
    from planner.projects.models import GateDecision, Phase
    from planner.projects.phases import GateOutcome

    cutoff = utcnow() - timedelta(days=days)
    last = (
        select(GateDecision.phase_id, func.max(GateDecision.decided_at).label("at"))
        .group_by(GateDecision.phase_id)
        .subquery()
    )
    passed = (
        select(Phase.project_id)
        .join(last, last.c.phase_id == Phase.id)
        .join(
            GateDecision,
            (GateDecision.phase_id == Phase.id) & (GateDecision.decided_at == last.c.at),
        )
        .where(
            Phase.key == "migration",
            GateDecision.outcome == GateOutcome.PASS,
            last.c.at <= cutoff,
        )
    )
    due = list(
        session.scalars(
            select(MigrationUpload)
            .where(MigrationUpload.project_id.in_(passed), MigrationUpload.purged_at.is_(None))
            .with_for_update()
        )
    )
    for upload in due:
        session.execute(
            delete(MigrationUploadPiece).where(MigrationUploadPiece.upload_id == upload.id)
        )
        purge_derived(session, upload.id)
        upload.pieces = 0
        upload.sealed_values = None
        upload.purged_at = utcnow()
        upload.purged_by_name = "planner (retention)"
        audit.record(
            session,
            actor=None,
            action="migration.purge",
            entity_type=MigrationUpload.__tablename__,
            entity_id=upload.id,
            project_id=upload.project_id,
            summary=f"export {quoted(upload.filename)} purged {days} days after the migration "
            "gate passed: its rows are deleted, its profile's counts kept",
        )
    session.flush()
    return due


def purge_derived(session: Session, upload_id: int) -> None:
    """Delete the records derived from an upload: its pilots' records and their
    reconciliations' values (their counts and kinds stay)."""
    now = utcnow()
    session.execute(
        update(MigrationPilot)
        .where(MigrationPilot.upload_id == upload_id, MigrationPilot.purged_at.is_(None))
        .values(sealed_records=None, purged_at=now)
    )
    pilot_ids = select(MigrationPilot.id).where(MigrationPilot.upload_id == upload_id)
    session.execute(
        update(MigrationReconciliation)
        .where(MigrationReconciliation.pilot_id.in_(pilot_ids))
        .values(sealed_details=None)
    )
