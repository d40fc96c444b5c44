"""The board's review of a specification version and its sign-off by the executives.

Board members (reviewers, the lead, executives) comment on a version: on the whole of it, on a
section or on a requirement; a thread is open until resolved and may be reopened. A version
with open threads cannot be put up for sign-off. The lead names the executives who must sign
(in order, if the lead wants an order); each signs the version through the one approval
service (meaning, password, the SHA-256 they were shown). When all have signed, the version is
signed off: its content, its signatures and its comments no longer change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.core import approvals, audit
from planner.core.accounts.models import User
from planner.core.approvals import Meaning
from planner.core.db import utcnow
from planner.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from planner.core.i18n import counted, quoted
from planner.core.permissions import Permission, Role
from planner.projects.access import Access
from planner.projects.models import Membership
from planner.projects.phases import Criterion, register_criteria
from planner.spec.models import SignoffRequest, Spec, SpecComment, SpecSigner, SpecVersion
from planner.spec.service import latest_version, saved_spec

SUBJECT = "spec.version"
COMMENT_MAX = 10_000


def may_comment(access: Access) -> bool:
    """Whether the member is on the board that reviews: a reviewer, the lead, an executive."""
    return any(access.can(p) for p in (Permission.EDIT, Permission.SCORE, Permission.APPROVE))


# --- comments ----------------------------------------------------------------------------------


def anchors(version: SpecVersion) -> list[tuple[str, str]]:
    """Where a comment may point in ``version``: the whole of it, each section by its place,
    each requirement by its key; as (anchor, label)."""
    out = [("", "The whole version")]
    out += [
        (f"section:{i}", f"{i}. {s['title']}")
        for i, s in enumerate(version.content.get("sections", []), start=1)
    ]
    out += [(r["key"], f"{r['key']} {r['title']}") for r in version.content.get("requirements", [])]
    return out


def comments(session: Session, version: SpecVersion) -> list[SpecComment]:
    """The version's comments, oldest first (threads and replies; one statement)."""
    return list(
        session.scalars(
            select(SpecComment).where(SpecComment.version_id == version.id).order_by(SpecComment.id)
        )
    )


def open_threads(session: Session, version: SpecVersion) -> int:
    """How many threads of the version are open (one statement)."""
    return (
        session.scalar(
            select(func.count(SpecComment.id)).where(
                SpecComment.version_id == version.id,
                SpecComment.parent_id.is_(None),
                SpecComment.resolved.is_(False),
            )
        )
        or 0
    )


def add_comment(
    session: Session,
    access: Access,
    version: SpecVersion,
    *,
    body: str,
    anchor: str = "",
    parent_id: int | None = None,
) -> SpecComment:
    """Comment on a version, or reply to a thread (board members: reviewers, the lead,
    executives). ValidationError for an empty text or a place the version does not have;
    NotFound for a thread of another version; Conflict once the version is signed off."""
    if not may_comment(access):
        raise PermissionDenied("Board members comment on the specification.")
    _not_signed_off(session, version)
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError("Write the comment.", {"body": ["Required."]})
    if len(body) > COMMENT_MAX:
        raise ValidationError(f"At most {COMMENT_MAX} characters.", {"body": ["Too long."]})
    if parent_id is not None:
        parent = session.get(SpecComment, parent_id)
        if parent is None or parent.version_id != version.id:
            raise NotFound("No such comment on this version.")
        if parent.parent_id is not None:
            parent = session.get(SpecComment, parent.parent_id)
        anchor = parent.anchor
        parent_id = parent.id
    elif anchor not in {a for a, _ in anchors(version)}:
        raise ValidationError(
            "Comment on the version, one of its sections or one of its requirements.",
            {"anchor": ["Not a place of this version."]},
        )
    comment = SpecComment(
        version_id=version.id,
        parent_id=parent_id,
        anchor=anchor,
        author_id=access.user.id,
        author_name=access.user.name,
        body=body,
    )
    session.add(comment)
    session.flush()
    audit.log(
        session,
        access,
        "spec.comment",
        comment,
        f"comment on the specification, version {version.number}"
        + (f" ({anchor})" if anchor else "")
        + f": {quoted(body, 80)}",
    )
    return comment


def get_comment(session: Session, version: SpecVersion, comment_id: int) -> SpecComment:
    """A thread (first comment) of ``version``; NotFound else."""
    comment = session.get(SpecComment, comment_id)
    if comment is None or comment.version_id != version.id or comment.parent_id is not None:
        raise NotFound("No such thread on this version.")
    return comment


def set_resolved(
    session: Session, access: Access, version: SpecVersion, thread: SpecComment, resolved: bool
) -> None:
    """Resolve or reopen a thread (board members); Conflict once the version is signed off."""
    if not may_comment(access):
        raise PermissionDenied("Board members resolve comments.")
    _not_signed_off(session, version)
    if thread.resolved == resolved:
        return
    thread.resolved = resolved
    thread.resolved_by_name = access.user.name if resolved else ""
    thread.resolved_at = utcnow() if resolved else None
    audit.log(
        session,
        access,
        "spec.comment.resolve" if resolved else "spec.comment.reopen",
        thread,
        f"comment on the specification, version {version.number}, "
        + ("resolved" if resolved else "reopened"),
    )


# --- signers ----------------------------------------------------------------------------------


def signers(session: Session, project_id: int) -> list[User]:
    """The executives named to sign, in their order (one statement)."""
    return list(
        session.scalars(
            select(User)
            .join(SpecSigner, SpecSigner.user_id == User.id)
            .where(SpecSigner.project_id == project_id)
            .order_by(SpecSigner.position, SpecSigner.id)
        )
    )


def executives(session: Session, project_id: int) -> list[User]:
    """The rollout's executives, who may be named to sign."""
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.project_id == project_id, Membership.role == Role.EXECUTIVE)
            .order_by(User.display_name, User.username)
        )
    )


def set_signers(
    session: Session, access: Access, user_ids: list[int], *, in_order: bool
) -> list[User]:
    """Name the executives who must sign, in this order (needs EDIT); ValidationError for
    someone who is not an executive of the rollout, or the same person twice."""
    access.require(Permission.EDIT)
    if len(set(user_ids)) != len(user_ids):
        raise ValidationError("Name each signer once.", {"signers": ["Named twice."]})
    allowed = {u.id for u in executives(session, access.project.id)}
    strangers = [uid for uid in user_ids if uid not in allowed]
    if strangers:
        raise ValidationError(
            "Only the rollout's executives sign the specification.",
            {"signers": [f"Not an executive of this rollout: {', '.join(map(str, strangers))}."]},
        )
    spec: Spec = saved_spec(session, access)
    before = [u.name for u in signers(session, access.project.id)]
    for row in session.scalars(
        select(SpecSigner).where(SpecSigner.project_id == access.project.id)
    ):
        session.delete(row)
    session.flush()
    for position, uid in enumerate(user_ids, start=1):
        session.add(SpecSigner(project_id=access.project.id, user_id=uid, position=position))
    spec.signing_in_order = in_order
    spec.updated_by_id = access.user.id
    session.flush()
    after = [u.name for u in signers(session, access.project.id)]
    audit.log(
        session,
        access,
        "spec.signers",
        spec,
        "signers of the specification named" + (" (in order)" if in_order else ""),
        before={"signers": before},
        after={"signers": after},
    )
    return signers(session, access.project.id)


# --- sign-off ---------------------------------------------------------------------------------


def request_of(session: Session, version: SpecVersion) -> SignoffRequest | None:
    """The version's sign-off request, if it was put up for sign-off."""
    return session.scalar(select(SignoffRequest).where(SignoffRequest.version_id == version.id))


def put_up_for_signoff(session: Session, access: Access, version: SpecVersion) -> SignoffRequest:
    """Put the latest version up for its signers' sign-off (needs EDIT). Conflict for an
    older version, one with open comments, one put up already, or without signers named."""
    access.require(Permission.EDIT)
    latest = latest_version(session, access.project.id)
    if latest is None or latest.id != version.id:
        raise Conflict(
            f"Only the latest version is put up for sign-off, not version {version.number}."
        )
    n_open = open_threads(session, version)
    if n_open:
        raise Conflict(
            f"Version {version.number} has {counted(n_open, 'open comment')}: resolve them "
            "before it is put up for sign-off."
        )
    if request_of(session, version) is not None:
        raise Conflict(f"Version {version.number} is up for sign-off already.")
    named = signers(session, access.project.id)
    if not named:
        raise Conflict("Name the executives who sign the specification first.")
    spec = session.scalar(select(Spec).where(Spec.project_id == access.project.id))
    req = SignoffRequest(
        version_id=version.id,
        signers=[u.id for u in named],
        in_order=bool(spec and spec.signing_in_order),
        requested_by_name=access.user.name,
    )
    session.add(req)
    session.flush()
    audit.log(
        session,
        access,
        "spec.signoff.request",
        version,
        f"specification version {version.number} put up for sign-off by "
        + ", ".join(u.name for u in named),
    )
    return req


@dataclass(frozen=True)
class SignoffState:
    """Where a version stands: put up for sign-off or not, its signatures, who still has to
    sign (in order: only the next may), and whether it is signed off."""

    requested: bool
    signatures: list[approvals.Approval]
    waiting_for: list[int]  # user ids yet to sign
    next_signer: int | None  # in order: the one whose turn it is
    signed_off: bool
    superseded: bool  # a newer version exists


def state(session: Session, version: SpecVersion) -> SignoffState:
    """The version's sign-off (three statements)."""
    req = request_of(session, version)
    signed = approvals.approvals(session, SUBJECT, version.id)
    done = {a.signer_id for a in signed if a.meaning != Meaning.REJECTED}
    waiting = [uid for uid in (req.signers if req else []) if uid not in done]
    newest = session.scalar(
        select(func.max(SpecVersion.number)).where(SpecVersion.project_id == version.project_id)
    )
    return SignoffState(
        requested=req is not None,
        signatures=signed,
        waiting_for=waiting,
        next_signer=(waiting[0] if waiting else None) if req and req.in_order else None,
        signed_off=req is not None and not waiting,
        superseded=newest is not None and newest > version.number,
    )


def _not_signed_off(session: Session, version: SpecVersion) -> None:
    if state(session, version).signed_off:
        raise Conflict(f"Version {version.number} is signed off: it no longer changes.")


def sign(
    session: Session,
    access: Access,
    version: SpecVersion,
    *,
    shown_digest: str,
    meaning: str,
    conditions: str,
    password: str,
) -> approvals.Approval:
    """A named signer signs the version up for sign-off (see
    :func:`planner.core.approvals.sign`). Conflict if the version is not up for sign-off (or
    no longer the latest: 409, nothing recorded), if the signer is not named, or not yet
    their turn when signing is in order."""
    st = state(session, version)
    if not st.requested or st.superseded:
        raise Conflict(f"Version {version.number} is not up for sign-off.")
    if access.user.id not in st.waiting_for:
        raise Conflict("You are not a signer this version is waiting for.")
    if st.next_signer is not None and st.next_signer != access.user.id:
        who = session.get(User, st.next_signer)
        raise Conflict(f"It is {who.name if who else 'another signer'}'s turn to sign first.")
    return approvals.sign(
        session,
        access,
        subject=SUBJECT,
        subject_id=version.id,
        subject_version=version.number,
        content=version.content,
        shown_digest=shown_digest,
        meaning=meaning,
        conditions=conditions,
        password=password,
        what=f"the specification, version {version.number}",
    )


def signed_off_version(session: Session, project_id: int) -> SpecVersion | None:
    """The latest version if it is signed off, else None."""
    latest = latest_version(session, project_id)
    return latest if latest is not None and state(session, latest).signed_off else None


@register_criteria("spec")
def _criteria(session: Session, project: Any) -> list[Criterion]:
    """The latest version signed off by every signer named (four statements)."""
    latest = latest_version(session, project.id)
    st = state(session, latest) if latest else None
    if latest is None:
        detail = "no version submitted yet"
    elif not st.requested:  # type: ignore[union-attr]
        detail = f"version {latest.number} is not up for sign-off"
    elif not st.signed_off:  # type: ignore[union-attr]
        detail = f"{counted(len(st.waiting_for), 'signature')} missing"  # type: ignore[union-attr]
    else:
        detail = ""
    return [
        Criterion(
            "The latest version of the specification is signed off",
            met=bool(st and st.signed_off),
            detail=detail,
        )
    ]
