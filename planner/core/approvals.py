"""The one approval service: an executive approves exactly one version of a record.

Every area that needs a record approved (the vendor decision today; the solution design and the
signed specification next) describes the record as plain content and calls :func:`sign`. A
signature records who (user, printed name, role), what it means ("approved", "approved with
conditions" and the conditions), when (UTC), and exactly what: the subject, its version and the
SHA-256 of its canonical JSON (21 CFR Part 11 §11.50: name, time and meaning go wherever the
signature is shown; §11.70: it is bound to exactly this record). The signer re-enters their
password, and sends the digest they were shown: if the record changed in between, nothing is
recorded (409). A signature is never changed or deleted: the ORM refuses both.
"""

from __future__ import annotations

import enum
import hashlib
import json
import unicodedata
from datetime import datetime
from typing import Any

from flask import current_app, g, has_request_context
from flask_login import current_user
from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from planner.core import audit
from planner.core.accounts.models import User
from planner.core.accounts.service import password_matches
from planner.core.db import Base, UTCDateTime, commit_apart, utcnow
from planner.core.errors import Conflict, PermissionDenied, ValidationError
from planner.core.permissions import Permission, can
from planner.extensions import limiter


class Meaning(enum.StrEnum):
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    REJECTED = "rejected"  # where the record allows it (a design), with the reasons

    @property
    def approves(self) -> bool:
        return self != Meaning.REJECTED

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Approval(Base):
    """One signature of one version of one record. Append-only."""

    __tablename__ = "approval"
    __table_args__ = (UniqueConstraint("subject", "subject_id", "subject_version", "signer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(60))  # e.g. "vendors.decision"
    subject_id: Mapped[int]
    subject_version: Mapped[int]
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical JSON
    meaning: Mapped[Meaning] = mapped_column(
        Enum(
            Meaning,
            name="approval_meaning",
            values_callable=lambda e: [m.value for m in e],
            native_enum=False,
            length=30,
            validate_strings=True,
        )
    )
    conditions: Mapped[str] = mapped_column(Text, default="")  # or, rejected, the reasons
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    printed_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(Approval, "before_update")
def _no_update(mapper: Any, connection: Any, target: Approval) -> None:
    raise Conflict("A signature cannot be changed.")


@event.listens_for(Approval, "before_delete")
def _no_delete(mapper: Any, connection: Any, target: Approval) -> None:
    raise Conflict("A signature cannot be deleted.")


def canonical_json(content: Any) -> str:
    """The one text of ``content`` that is signed: keys sorted, text in NFC, no whitespace,
    no float left to chance (a float is refused: send numbers as text or integers)."""

    def norm(value: Any) -> Any:
        if isinstance(value, str):
            return unicodedata.normalize("NFC", value)
        if isinstance(value, dict):
            return {unicodedata.normalize("NFC", str(k)): norm(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [norm(v) for v in value]
        if isinstance(value, float):
            raise TypeError("a float has no single text: sign numbers as text or integers")
        return value

    return json.dumps(norm(content), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def digest_of(content: Any) -> str:
    """The SHA-256 (hex) of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def sign(
    session: Session,
    access: Any,
    *,
    subject: str,
    subject_id: int,
    subject_version: int,
    content: Any,
    shown_digest: str,
    meaning: Meaning | str,
    conditions: str = "",
    password: str,
    what: str = "",
    allowed: tuple[Meaning, ...] = (Meaning.APPROVED, Meaning.APPROVED_WITH_CONDITIONS),
) -> Approval:
    """Sign one version of a record as the calling member (an executive: APPROVE).

    ``allowed``: the meanings this record takes (a design may also be rejected, with the
    reasons in ``conditions``). PermissionDenied without APPROVE; ValidationError for a wrong
    password, a meaning the record does not take, or conditions (reasons) missing from
    "approved with conditions" ("rejected"); Conflict if ``content`` no longer has the digest
    the signer was shown (it changed: nothing is recorded), or if they signed this version
    already. Audited (``what`` names the record in the trail).
    """
    user: User = access.user
    if not can(access.role, Permission.APPROVE):
        raise PermissionDenied("Only an executive of this rollout approves it.")
    if not password_matches(user, password):
        _record_failure(session, access, subject, subject_id, what)
        raise ValidationError("The password is wrong.", {"password": ["Wrong password."]})
    try:
        meaning = Meaning(meaning)
    except ValueError:
        meaning = None  # type: ignore[assignment]
    if meaning not in allowed:
        raise ValidationError("Say what the signature means.", {"meaning": ["Not a valid choice."]})
    conditions = conditions.strip()
    if meaning == Meaning.APPROVED_WITH_CONDITIONS and not conditions:
        raise ValidationError(
            "Write the conditions of the approval.", {"conditions": ["Required."]}
        )
    if meaning == Meaning.REJECTED and not conditions:
        raise ValidationError("Write why you reject it.", {"conditions": ["Required."]})
    if meaning == Meaning.APPROVED:
        conditions = ""
    digest = digest_of(content)
    if shown_digest != digest:
        raise Conflict(
            "What you were shown has changed since you opened it; nothing was signed. "
            "Reload the page and read it again."
        )
    already = session.scalar(
        select(Approval.id).where(
            Approval.subject == subject,
            Approval.subject_id == subject_id,
            Approval.subject_version == subject_version,
            Approval.signer_id == user.id,
        )
    )
    if already:
        raise Conflict("You have signed this version already.")
    row = Approval(
        project_id=access.project.id,
        subject=subject,
        subject_id=subject_id,
        subject_version=subject_version,
        digest=digest,
        meaning=meaning,
        conditions=conditions,
        signer_id=user.id,
        printed_name=user.name,
        role=access.role.value,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="approval.sign",
        entity_type=subject,
        entity_id=subject_id,
        project_id=access.project.id,
        summary=f"{user.name} signed {what or subject} (version {subject_version}): "
        f"{meaning.label}",
        after={"digest": digest, "meaning": meaning.value, "conditions": conditions},
    )
    return row


def _record_failure(
    session: Session, access: Any, subject: str, subject_id: int, what: str
) -> None:
    """Audit a signature refused for a wrong password, in a transaction of its own that
    outlives the refused request (someone may be guessing an executive's password)."""
    user_id, name, project_id = access.user.id, access.user.name, access.project.id
    if has_request_context():
        g.signing_failed = True  # counted by limit_attempts
    commit_apart(
        session,
        lambda: audit.record(
            session,
            actor=session.get(User, user_id),
            action="approval.failed",
            entity_type=subject,
            entity_id=subject_id,
            project_id=project_id,
            summary=f"{name}: a wrong password when signing {what or subject}",
        ),
    )


def limit_attempts(view: Any) -> Any:
    """Decorate a view that signs: at most SIGNING_ATTEMPTS_PER_MINUTE wrong passwords a
    minute per account (pages and API alike), so that a password cannot be guessed through
    it; then every attempt gets 429 until the minute is over."""

    def key() -> str:
        user = g.get("api_user") or current_user
        return f"sign:{getattr(user, 'id', 'anonymous')}"

    def rate() -> str:
        return f"{current_app.config['SIGNING_ATTEMPTS_PER_MINUTE']}/minute"

    return limiter.limit(
        rate, key_func=key, methods=["POST"], deduct_when=lambda _r: g.get("signing_failed", False)
    )(view)


def approvals(session: Session, subject: str, subject_ids: list[int] | int) -> list[Approval]:
    """The signatures of these records (every version), oldest first."""
    ids = [subject_ids] if isinstance(subject_ids, int) else list(subject_ids)
    if not ids:
        return []
    return list(
        session.scalars(
            select(Approval)
            .where(Approval.subject == subject, Approval.subject_id.in_(ids))
            .order_by(Approval.signed_at, Approval.id)
        )
    )


def approval_json(row: Approval) -> dict[str, Any]:
    """A signature as the API shows it: name, time and meaning always together."""
    return {
        "signer": row.printed_name,
        "role": row.role,
        "meaning": row.meaning.value,
        "conditions": row.conditions,
        "signed_at": row.signed_at.isoformat(),
        "version": row.subject_version,
        "sha256": row.digest,
    }
