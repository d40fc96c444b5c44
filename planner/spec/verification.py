"""Verify a signed specification someone hands in: which rollout and version it is, whether it
is byte for byte the sealed PDF this deployment stored, whether each PAdES signature is intact
and made by the deployment's certificate authority, whether anything changed after the last
signature, and whether the JSON it carries is the one whose SHA-256 the executives signed.

One function, :func:`verify_file`, answers for ``planner verify``, the verification page and
``POST /api/v1/verify`` alike. It reads the file and never raises for it: a damaged or hostile
file is a verdict with its problems named. Which rollout a file belongs to is said only to
those who may see that rollout; to anyone else the file's version is "not one of a rollout you
can see", whether it is stored here or not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from planner.projects.models import Project
from planner.spec import seal, service, signoff
from planner.spec.models import SpecVersion

if TYPE_CHECKING:  # pyHanko is imported when a file is verified, not with the app
    from planner.spec import pades

# What a file is, compared with the sealed PDF stored for its version.
IDENTICAL = "identical"
APPENDED = "appended"  # the stored PDF with bytes added after it (an incremental update)
TRUNCATED = "truncated"  # the stored PDF cut short (a signature or more stripped)
DIFFERENT = "different"
NOT_SEALED = "not sealed"  # its version has no sealed PDF (not signed off, or being sealed)
UNKNOWN = "unknown"  # no version of a rollout the reader can see


@dataclass(frozen=True)
class FileVerdict:
    """What :func:`verify_file` found. ``version`` and ``rollout`` are set only when the
    reader may see the rollout; ``problems`` says in words everything that is wrong, and the
    file is ``valid`` when there is nothing."""

    sha256: str
    size: int
    signatures: list[pades.SignatureCheck]
    changed_after_last_signature: bool
    json_name: str | None
    json_sha256: str | None
    version: SpecVersion | None
    rollout: str | None
    json_matches_signed_hash: bool | None
    stored: str
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """The verdict as the API answers it."""
        return {
            "valid": self.valid,
            "problems": self.problems,
            "sha256": self.sha256,
            "size": self.size,
            "rollout": None
            if self.version is None
            else {"id": self.version.project_id, "name": self.rollout},
            "version": None
            if self.version is None
            else {"number": self.version.number, "sha256": self.version.digest},
            "json": None
            if self.json_name is None
            else {
                "name": self.json_name,
                "sha256": self.json_sha256,
                "matches_signed_hash": self.json_matches_signed_hash,
            },
            "stored": self.stored,
            "changed_after_last_signature": self.changed_after_last_signature,
            "signatures": [
                {
                    "field": s.field,
                    "certificate": s.signer,
                    "name": s.claimed_name,
                    "reason": s.reason,
                    "signed_at": s.signed_at.isoformat() if s.signed_at else None,
                    "intact": s.intact,
                    "trusted": s.trusted,
                    "modified_after": s.modified_after,
                }
                for s in self.signatures
            ],
        }


def _carried_json(data: bytes) -> tuple[str | None, bytes | None]:
    from planner.spec import pades

    carried = sorted((k, v) for k, v in pades.embedded_files(data).items() if k.endswith(".json"))
    return carried[0] if carried else (None, None)


def _compare_stored(stored: bytes, data: bytes) -> tuple[str, str | None]:
    """How ``data`` relates to the ``stored`` sealed PDF, and the problem to name, if any."""
    if data == stored:
        return IDENTICAL, None
    if data.startswith(stored):
        return APPENDED, (
            f"{len(data) - len(stored)} bytes were appended to the stored signed PDF "
            "(an update after the last signature)"
        )
    if stored.startswith(data):
        return TRUNCATED, (
            f"the file is the stored signed PDF cut short: its last {len(stored) - len(data)} "
            "bytes are missing (a signature or more stripped)"
        )
    return DIFFERENT, "the file is not byte for byte the stored signed PDF"


def verify_file(
    session: Session,
    data: bytes,
    ca_pem: bytes | None,
    may_see: Callable[[int], bool],
) -> FileVerdict:
    """Verify ``data`` against the deployment's authority (``ca_pem``; None when none is
    configured, which is itself a problem named) and the versions stored here that
    ``may_see(project_id)`` lets the reader see. Reads only; never raises for the file."""
    from planner.spec import pades

    problems: list[str] = []
    json_name, body = _carried_json(data)
    json_sha = hashlib.sha256(body).hexdigest() if body is not None else None
    version = service.version_by_digest(session, json_sha) if json_sha else None
    if version is not None and not may_see(version.project_id):
        version = None
    state = signoff.state(session, version) if version is not None else None

    if json_name is None:
        problems.append("the file carries no specification JSON")
    elif version is None:
        problems.append(
            f"the JSON it carries ({json_name}) is no specification version of a rollout you "
            "can see"
        )
    elif state is not None and not state.signed_off:
        problems.append(f"version {version.number} is not signed off")

    expected = len(state.signatures) if state is not None and state.signed_off else None
    if ca_pem is None:
        checks: list[pades.SignatureCheck] = []
        problems.append(
            "this deployment names no certificate authority (PLANNER_SIGNING_CA): the "
            "signatures cannot be checked"
        )
    else:
        result = pades.verify_pdf(data, ca_pem, expected_signers=expected)
        checks = result.signatures
        problems.extend(result.problems)

    matches: bool | None = None
    if version is not None and state is not None:
        matches = json_sha == version.digest and all(
            a.digest == version.digest for a in state.signatures
        )
        if state.signed_off and not matches:
            problems.append("the version's signatures are not all of the JSON it carries")
        for n, (check, signature) in enumerate(zip(checks, state.signatures, strict=False), 1):
            if check.claimed_name != signature.printed_name:
                problems.append(
                    f"signature {n} names {check.claimed_name or 'nobody'}, but the version's "
                    f"signature {n} is {signature.printed_name}'s"
                )

    stored = UNKNOWN
    if version is not None:
        row = seal.sealed(session, version)
        if row is None:
            stored = NOT_SEALED
            if state is not None and state.signed_off:
                problems.append(f"version {version.number} has no sealed PDF yet to compare with")
        else:
            stored, problem = _compare_stored(row.data, data)
            if problem:
                problems.append(problem)

    changed_after = bool(checks) and (checks[-1].modified_after or not checks[-1].covers_whole_file)
    return FileVerdict(
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        signatures=checks,
        changed_after_last_signature=changed_after,
        json_name=json_name,
        json_sha256=json_sha,
        version=version,
        rollout=session.get(Project, version.project_id).name if version is not None else None,
        json_matches_signed_hash=matches,
        stored=stored,
        problems=list(dict.fromkeys(problems)),
    )
