"""Rules of artifacts: typed by content, versioned by title, every access audited."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

import magic
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload, undefer

from planner.core import audit
from planner.core.errors import Conflict, NotFound, TooLarge, ValidationError
from planner.core.i18n import counted, quoted
from planner.core.pagination import Page, paginate
from planner.core.permissions import Permission
from planner.projects.access import Access
from planner.projects.phases import PHASE_KEYS, phase_name

from .models import Artifact, ArtifactVersion

# What a phase's artifacts may be, judged by the content (libmagic), not the file name.
ALLOWED_TYPES = {
    "application/pdf": "PDF",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
    "application/msword": "Word 97",
    "application/vnd.ms-excel": "Excel 97",
    "text/plain": "text",
    "text/csv": "CSV",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "message/rfc822": "e-mail",
    "application/zip": "ZIP",
}


def normalise_title(title: str) -> str:
    """The key that makes two titles the same artifact: NFKC-normalised, whitespace collapsed,
    case-folded."""
    return " ".join(unicodedata.normalize("NFKC", title).split()).casefold()


# What a refused file is, in words, by the family of its detected type.
_KINDS = (
    (("application/x-executable", "application/x-dosexec", "application/x-sharedlib",
      "application/x-mach-binary", "application/x-pie-executable"), "a program"),
    (("text/html", "application/xhtml+xml"), "a web page (HTML)"),
    (("image/svg+xml",), "an SVG drawing (it can carry scripts)"),
    (("text/x-shellscript", "text/x-python", "text/x-script.python", "text/x-perl",
      "application/javascript", "text/javascript", "text/x-php"), "a script"),
)  # fmt: skip


def detect_type(data: bytes, filename: str = "") -> str:
    """The MIME type of ``data`` from its content; ValidationError if not allowed, saying what
    the user's file is ("“report.pdf” is a program") and what a rollout keeps."""
    name = f"“{filename}”" if filename else "The file"
    if not data:
        raise ValidationError(f"{name} is empty.", {"file": ["Empty file."]})
    mime = magic.from_buffer(data[:65536], mime=True)
    if mime == "application/octet-stream" and data[:4] == b"PK\x03\x04":
        mime = "application/zip"
    if mime not in ALLOWED_TYPES:
        kind = next((k for types, k in _KINDS if mime in types), None)
        if kind is None and (data[:4] == b"\x7fELF" or data[:2] == b"MZ"):
            kind = "a program"  # a header too short for libmagic to name
        kind = kind or (
            "a file whose kind cannot be told from its content"
            if mime == "application/octet-stream"
            else "a kind of file"
        )
        raise ValidationError(
            f"{name} is {kind}, and files of this kind are not accepted. A rollout keeps "
            + ", ".join(sorted(set(ALLOWED_TYPES.values())))
            + " files. Nothing was uploaded.",
            {"file": [f"{kind[0].upper()}{kind[1:]}: not accepted."]},
        )
    return mime


def _safe_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>:|?*').strip(". ")
    return name[:255] or "file"


def upload(
    session: Session,
    access: Access,
    *,
    title: str,
    phase_key: str,
    filename: str,
    data: bytes,
    max_bytes: int,
) -> ArtifactVersion:
    """Store a file as a new artifact or as the next version of the one with the same title;
    Conflict if the file is byte for byte the artifact's latest version (no empty "v2")."""
    access.require(Permission.UPLOAD)
    title = " ".join(title.split())
    if not title:
        raise ValidationError("An upload needs a title.", {"title": ["Required."]})
    if phase_key not in PHASE_KEYS:
        raise ValidationError(
            f"There is no phase {quoted(phase_key)}.", {"phase": ["Unknown phase."]}
        )
    if len(data) > max_bytes:
        raise TooLarge(f"The file is larger than the limit of {max_bytes} bytes.")
    mime = detect_type(data, filename)
    key = normalise_title(title)
    artifact = session.scalar(
        select(Artifact)
        .where(
            Artifact.project_id == access.project.id,
            Artifact.phase_key == phase_key,
            Artifact.title_key == key,
        )
        .with_for_update()
    )
    if artifact is None:
        artifact = Artifact(
            project_id=access.project.id, phase_key=phase_key, title=title, title_key=key
        )
        session.add(artifact)
        session.flush()
    digest = hashlib.sha256(data).hexdigest()
    if artifact.latest_version:
        latest = session.execute(
            select(ArtifactVersion.sha256, ArtifactVersion.filename).where(
                ArtifactVersion.artifact_id == artifact.id,
                ArtifactVersion.number == artifact.latest_version,
            )
        ).first()
        if latest is not None and latest.sha256 == digest:
            raise Conflict(
                f"This file is the same, byte for byte, as version {artifact.latest_version} of "
                f"{quoted(artifact.title)} ({latest.filename}); no new version was made.",
                {
                    "file": [
                        f"The same file as version {artifact.latest_version} "
                        f"({latest.filename}): no new version was made."
                    ]
                },
            )
    artifact.latest_version += 1
    version = ArtifactVersion(
        artifact_id=artifact.id,
        number=artifact.latest_version,
        filename=_safe_filename(filename),
        content_type=mime,
        size=len(data),
        sha256=digest,
        content=data,
        uploaded_by_id=access.user.id,
    )
    session.add(version)
    session.flush()
    audit.log(
        session,
        access,
        "artifact.upload",
        artifact,
        f"{phase_name(phase_key)}: {quoted(title)} version {version.number}"
        f" ({version.filename}, {len(data)} bytes)",
        after={"version": version.number, "sha256": version.sha256, "content_type": mime},
    )
    return version


def artifacts_page(
    session: Session, project_id: int, phase_key: str | None, page: int, per_page: int
) -> Page[Artifact]:
    """One page of the rollout's artifacts (of one phase if ``phase_key``), last changed first, with
    their versions and uploaders."""
    stmt = (
        select(Artifact)
        .options(selectinload(Artifact.versions).joinedload(ArtifactVersion.uploaded_by))
        .where(Artifact.project_id == project_id)
        .order_by(Artifact.updated_at.desc(), Artifact.id.desc())
    )
    if phase_key:
        stmt = stmt.where(Artifact.phase_key == phase_key)
    return paginate(session, stmt, page, per_page)


def phase_counts(session: Session, project_id: int) -> dict[str, int]:
    """The number of the rollout's artifacts in each phase, by phase key (phases without any are
    absent)."""
    rows = session.execute(
        select(Artifact.phase_key, func.count(Artifact.id))
        .where(Artifact.project_id == project_id)
        .group_by(Artifact.phase_key)
    ).all()
    return {k: n for k, n in rows}


def get_artifact(session: Session, project_id: int, artifact_id: int) -> Artifact:
    """The artifact of this rollout with its versions and uploaders; NotFound for another rollout's
    or none."""
    art = session.scalar(
        select(Artifact)
        .options(selectinload(Artifact.versions).joinedload(ArtifactVersion.uploaded_by))
        .where(Artifact.id == artifact_id, Artifact.project_id == project_id)
    )
    if art is None:
        raise NotFound("No such artifact in this rollout.")
    return art


@dataclass(frozen=True)
class Download:
    """One version's file as served: its name, content type, bytes and SHA-256."""

    filename: str
    content_type: str
    data: bytes
    sha256: str


def download(
    session: Session, access: Access, artifact_id: int, number: int | None = None
) -> Download:
    """The bytes of a version (the latest if ``number`` is None); the download is audited."""
    access.require(Permission.VIEW)
    stmt = (
        select(ArtifactVersion)
        .join(Artifact)
        .options(joinedload(ArtifactVersion.artifact), undefer(ArtifactVersion.content))
        .where(Artifact.id == artifact_id, Artifact.project_id == access.project.id)
    )
    if number is None:
        stmt = stmt.order_by(ArtifactVersion.number.desc()).limit(1)
    else:
        stmt = stmt.where(ArtifactVersion.number == number)
    version = session.scalar(stmt)
    if version is None:
        raise NotFound("No such artifact or version.")
    audit.log(
        session,
        access,
        "artifact.download",
        version.artifact,
        f"{quoted(version.artifact.title)} version {version.number} downloaded",
    )
    return Download(version.filename, version.content_type, version.content, version.sha256)


def delete(session: Session, access: Access, artifact_id: int) -> None:
    """Delete an artifact with all its versions (lead only); audited with what was lost."""
    access.require(Permission.EDIT)
    art = get_artifact(session, access.project.id, artifact_id)
    audit.log(
        session,
        access,
        "artifact.delete",
        art,
        f"{phase_name(art.phase_key)}: {quoted(art.title)} deleted with"
        f" {counted(len(art.versions), 'version')}",
        before={
            "title": art.title,
            "phase": art.phase_key,
            "versions": [{"number": v.number, "sha256": v.sha256} for v in art.versions],
        },
    )
    session.delete(art)
