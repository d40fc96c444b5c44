"""The signed-off specification, sealed: its PDF rendered once, then signed once per signer
with the deployment's key (PAdES, each an incremental update: the signer's printed name, the
meaning as the reason, the time they signed), and stored; every later download serves the
stored bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.core import audit
from planner.core.errors import Conflict
from planner.projects.access import Access
from planner.spec import pades, signoff
from planner.spec.models import SealedSpec, SpecVersion
from planner.spec.report import report_pdf


def signing_key(config: Any) -> Any | None:
    """The deployment's signer from the settings (SIGNING_P12, SIGNING_PASSPHRASE_FILE), or
    None when none is configured. ValidationError for files that do not open."""
    p12, passphrase = config.get("SIGNING_P12"), config.get("SIGNING_PASSPHRASE_FILE")
    if not p12 or not passphrase:
        return None
    return pades.load_signer(Path(p12).read_bytes(), Path(passphrase).read_bytes().strip())


def sealed(session: Session, version: SpecVersion) -> SealedSpec | None:
    """The version's sealed PDF, if it has one."""
    return session.scalar(select(SealedSpec).where(SealedSpec.version_id == version.id))


def seal(session: Session, access: Access, version: SpecVersion, signer: Any | None) -> SealedSpec:
    """Render the signed-off ``version`` once and sign it once per signature, in the order
    they were given, then store it (nothing if it is sealed already). Without a signer (no key
    configured) the PDF is stored unsigned, and says so. Raises Conflict for a version that is
    not signed off."""
    existing = sealed(session, version)
    if existing is not None:
        return existing
    state = signoff.state(session, version)
    if not state.signed_off:
        raise Conflict(f"Version {version.number} is not signed off.")
    data = report_pdf(session, access, version=version)
    if signer is not None:
        for n, sig in enumerate(state.signatures, start=1):
            reason = sig.meaning.label + (f": {sig.conditions}" if sig.conditions else "")
            data = pades.sign_pdf(
                data,
                signer,
                field_name=f"Signature{n}",
                signer_name=sig.printed_name,
                reason=reason[:300],
                when=sig.signed_at,
            )
    row = SealedSpec(
        version_id=version.id,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        signed=signer is not None,
    )
    session.add(row)
    session.flush()
    audit.log(
        session,
        access,
        "spec.seal",
        version,
        f"specification version {version.number} sealed: its PDF "
        + (
            "signed by " + ", ".join(s.printed_name for s in state.signatures)
            if signer
            else "stored unsigned (no signing key configured)"
        ),
        after={"sha256": row.sha256},
    )
    return row
