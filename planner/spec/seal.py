"""The signed-off specification, sealed: its PDF rendered once, then signed once per signer
with the deployment's key (PAdES, each an incremental update: the signer's printed name, the
meaning as the reason, the time they signed), and stored; every later download serves the
stored bytes.

Sealing is a background job (a report job of the kind ``spec.seal``, one per version): the
last signature starts it once the signature is committed, so that signing answers at once
and a render that fails leaves every signature standing. A job that fails records why
(:func:`last_attempt` shows it on the version's page) and is not reused: asking for the
version's PDF again, on the page or in the API, starts a new attempt.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from planner.core import audit, jobs
from planner.core.db import writing
from planner.core.errors import Conflict
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.projects.access import Access, requester_access
from planner.spec import service, signoff
from planner.spec.models import SealedSpec, SpecVersion
from planner.spec.report import AUDIENCE, report_pdf

# The share of a seal job's progress that the render takes; the signatures take the rest.
RENDER_SHARE = 0.8


def signing_key(config: Any) -> Any | None:
    """The deployment's signer from the settings (SIGNING_P12, SIGNING_PASSPHRASE_FILE), or
    None when none is configured. ValidationError for files that do not open."""
    p12, passphrase = config.get("SIGNING_P12"), config.get("SIGNING_PASSPHRASE_FILE")
    if not p12 or not passphrase:
        return None
    from planner.spec import pades  # pyHanko when signing, not with the app (40 MB a process)

    return pades.load_signer(Path(p12).read_bytes(), Path(passphrase).read_bytes().strip())


def sealed(session: Session, version: SpecVersion) -> SealedSpec | None:
    """The version's sealed PDF, if it has one."""
    return session.scalar(select(SealedSpec).where(SealedSpec.version_id == version.id))


def filename(version: SpecVersion) -> str:
    """The name the sealed PDF is downloaded under."""
    return f"specification-{version.project_id}-v{version.number}-signed.pdf"


def job_params(version: SpecVersion) -> dict[str, Any]:
    """The parameters of the version's seal job (and of its plain report job)."""
    return {"version": version.number}


def sealed_pdf(
    session: Session,
    access: Access,
    version: SpecVersion,
    signer: Any | None,
    progress: jobs.Progress | None = None,
) -> bytes:
    """Render the signed-off ``version`` and sign it once per signature, in the order they
    were given (only reads). Without a signer (no key configured) the PDF is unsigned.
    Raises Conflict for a version that is not signed off."""
    state = signoff.state(session, version)
    if not state.signed_off:
        raise Conflict(f"Version {version.number} is not signed off.")
    scaled = (lambda p, stage: progress(int(p * RENDER_SHARE), stage)) if progress else None
    data = report_pdf(session, access, scaled, version=version)
    if signer is None:
        return data
    from planner.spec import pades

    for n, sig in enumerate(state.signatures, start=1):
        if progress:
            progress(
                int(
                    100 * RENDER_SHARE
                    + (100 - 100 * RENDER_SHARE) * (n - 1) / len(state.signatures)
                ),
                f"signing for {sig.printed_name} ({n} of {len(state.signatures)})",
            )
        reason = sig.meaning.label + (f": {sig.conditions}" if sig.conditions else "")
        data = pades.sign_pdf(
            data,
            signer,
            field_name=f"Signature{n}",
            signer_name=sig.printed_name,
            reason=reason[:300],
            when=sig.signed_at,
        )
    return data


def store(
    session: Session, access: Access, version: SpecVersion, data: bytes, signed: bool
) -> SealedSpec:
    """Keep ``data`` as the version's sealed PDF, audited (the caller commits). If the version
    was sealed meanwhile (by another attempt), the stored one stays and is returned."""
    existing = sealed(session, version)
    if existing is not None:
        return existing
    row = SealedSpec(
        version_id=version.id,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        signed=signed,
    )
    session.add(row)
    session.flush()
    names = ", ".join(s.printed_name for s in signoff.state(session, version).signatures)
    audit.log(
        session,
        access,
        "spec.seal",
        version,
        f"specification version {version.number} sealed: its PDF "
        + (f"signed by {names}" if signed else "stored unsigned (no signing key configured)"),
        after={"sha256": row.sha256},
    )
    return row


# --- the job --------------------------------------------------------------------------------


def _audience(session: Session, access: Access) -> tuple[str, str]:
    """Every member may have a version's sealed PDF, all the same one; it never changes once
    made, so its revision is constant. PermissionDenied for a role without VIEW."""
    access.require(Permission.VIEW)
    return "sealed", AUDIENCE


def _render(session: Session, job: jobs.ReportJob, progress: jobs.Progress) -> jobs.Rendered:
    """Seal the version the job names, in the worker: render and sign while only reading,
    then store the result in a short writing transaction of its own."""
    access = requester_access(session, job)
    access.require(Permission.VIEW)
    version = service.get_version(session, job.project_id, int(job.parameters["version"]))
    existing = sealed(session, version)
    if existing is not None:
        return jobs.Rendered(existing.data, filename(version))
    signer = signing_key(current_app.config)
    data = sealed_pdf(session, access, version, signer, progress)
    progress(99, "storing the signed PDF")
    # read before the rollback expires them: a lazy load now would begin a writer's
    # transaction in this session, which the one below would then wait for
    job_id, project_id, number = job.id, job.project_id, version.number
    session.rollback()  # the write below starts from a fresh snapshot
    with writing(), Session(session.get_bind()) as own:
        version = service.get_version(own, project_id, number)
        writer = requester_access(own, own.get_one(jobs.ReportJob, job_id))
        try:
            row = store(own, writer, version, data, signed=signer is not None)
            own.commit()
        except IntegrityError:  # sealed by another attempt at the same moment: that one stands
            own.rollback()
            row = sealed(own, version)
            if row is None:
                raise
        return jobs.Rendered(row.data, filename(version))


SEAL_JOB = jobs.register_report(
    jobs.ReportKind(
        name="spec.seal",
        title=_l("Signed specification"),
        audience=_audience,
        render=_render,
    )
)


def start(session: Session, access: Access, version: SpecVersion) -> str | None:
    """Start sealing ``version`` if it is signed off and neither sealed nor being sealed;
    the id of a job created (the caller commits, then hands it to ``jobs.enqueue``), else
    None."""
    if not signoff.state(session, version).signed_off or sealed(session, version) is not None:
        return None
    job, created = jobs.start(session, SEAL_JOB, access, job_params(version))
    return job.id if created else None


def after_signature(session: Session, access: Access, version: SpecVersion) -> None:
    """Once a signature is committed: if it was the last one, start sealing the version in
    the background (in a transaction of its own, so the signature stands whatever happens to
    the seal)."""
    with unit_of_work(session):
        job_id = start(session, access, version)
    if job_id is not None:
        jobs.enqueue(job_id)


def last_attempt(session: Session, version: SpecVersion) -> jobs.ReportJob | None:
    """The latest job that sealed or tried to seal ``version`` (queued, running, done or
    failed), or None."""
    params = json.dumps(job_params(version), sort_keys=True, ensure_ascii=False)
    return session.scalar(
        select(jobs.ReportJob)
        .where(
            jobs.ReportJob.project_id == version.project_id,
            jobs.ReportJob.kind == SEAL_JOB.name,
            jobs.ReportJob.params == params,
        )
        .order_by(jobs.ReportJob.created_at.desc())
        .limit(1)
    )
