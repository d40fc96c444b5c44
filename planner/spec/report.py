"""The technical specification as a PDF, a background report job rendered by the one pipeline
in core/reports.py: the latest submitted version as it was frozen (a cover with its status and
SHA-256, a table of contents with page numbers, the sections in order with what each draws
from the other phases, the requirements with their traces), then a page of the executives'
signatures, each with its printed name, role, meaning and UTC time together.

The PDF is archival (PDF/A-3b) and carries its own machine-readable content as associated
files: the version's canonical JSON (the very bytes whose SHA-256 the signers signed) and a
ReqIF export of its requirements, for requirements tools.

A specification holds no commercial data and no blind scores, so every member of the rollout
gets the same report (one audience, one cached render per revision of the rollout's data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.core import approvals, audit, jobs
from planner.core.accounts.models import User
from planner.core.errors import Conflict
from planner.core.permissions import Permission
from planner.core.reports import EmbeddedFile, render_pdf
from planner.projects.access import Access, requester_access
from planner.projects.phases import SOLUTION_LABELS
from planner.projects.schemas import ROLE_LABELS
from planner.requirements.records import PRIORITY_LABELS, RequirementRecord
from planner.requirements.reqif import export_reqif
from planner.spec import service, signoff
from planner.spec.models import SpecVersion

TEMPLATE = "specification.html"
AUDIENCE = "members"  # no prices, no blind scores: one report for every member
PDF_VARIANT = "pdf/a-3b"
STATUS_SIGNED_OFF = _l("signed off")
STATUS_UP_FOR_SIGNOFF = _l("up for sign-off")
STATUS_UNDER_REVIEW = _l("under review")


@dataclass(frozen=True)
class Signature:
    """A signature as the report prints it: printed name, role, meaning, conditions and the
    UTC time together (21 CFR Part 11 §11.50), and whether it is bound to this version."""

    printed_name: str
    role: str
    meaning: str
    conditions: str
    signed_at: str  # "YYYY-MM-DD HH:MM:SS UTC"
    digest: str
    bound_to_version: bool  # signed exactly this version's SHA-256


def utc_text(moment: datetime) -> str:
    """A timestamp as the report prints it, in UTC and saying so."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def latest_submitted(session: Session, project_id: int) -> SpecVersion:
    """The latest submitted version of the rollout's specification, which the report shows.

    Raises Conflict if no version has been submitted yet (there is nothing to report on).
    """
    version = service.latest_version(session, project_id)
    if version is None:
        raise Conflict(
            "No version of the specification has been submitted for review yet; the "
            "specification's report shows the latest submitted version."
        )
    return version


def status_label(state: signoff.SignoffState) -> str:
    """Where the version stands, in words: signed off, up for sign-off, or under review."""
    if state.signed_off:
        return str(STATUS_SIGNED_OFF)
    if state.requested:
        return str(STATUS_UP_FOR_SIGNOFF)
    return str(STATUS_UNDER_REVIEW)


def requirement_records(content: dict[str, Any]) -> list[RequirementRecord]:
    """The version's requirements, as frozen, as the interchange formats carry them (their
    goals by statement; the version holds no departments nor sources)."""
    return [
        RequirementRecord(
            key=r["key"],
            title=r["title"],
            description=r.get("description") or "",
            type=r["type"],
            priority=r["priority"],
            module=r.get("module") or "",
            status=r["status"],
            acceptance_criterion=r.get("acceptance_criterion") or "",
            goals=tuple(r.get("goals") or ()),
        )
        for r in content.get("requirements", [])
    ]


def json_name(version: SpecVersion) -> str:
    """The name of the canonical JSON embedded in the PDF."""
    return f"specification-v{version.number}.json"


def reqif_name(version: SpecVersion) -> str:
    """The name of the ReqIF export embedded in the PDF."""
    return f"specification-v{version.number}.reqif"


def embedded_files(project_name: str, version: SpecVersion) -> list[EmbeddedFile]:
    """What the PDF carries of the version, machine-readable: its canonical JSON (the bytes
    whose SHA-256 is the version's, which the signers signed) and a ReqIF 1.2 export of its
    requirements, dated when the version was submitted (the same version gives the same
    bytes). Raises nothing."""
    canonical = approvals.canonical_json(version.content).encode()
    reqif = export_reqif(
        requirement_records(version.content),
        title=f"{project_name} — specification, version {version.number}",
        identifier=f"spec-{version.project_id}-v{version.number}",
        created=version.submitted_at,
    )
    return [
        EmbeddedFile(
            json_name(version),
            canonical,
            "application/json",
            f"The specification, version {version.number}: its canonical JSON, the bytes "
            f"its signatures are bound to (SHA-256 {version.digest})",
            "Data",
        ),
        EmbeddedFile(
            reqif_name(version),
            reqif,
            "application/xml",
            f"The requirements of the specification, version {version.number} (ReqIF 1.2)",
            "Supplement",
        ),
    ]


def _signatures(state: signoff.SignoffState, version: SpecVersion) -> list[Signature]:
    return [
        Signature(
            a.printed_name,
            str(ROLE_LABELS.get(a.role, a.role)),
            a.meaning.label,
            a.conditions,
            utc_text(a.signed_at),
            a.digest,
            a.digest == version.digest,
        )
        for a in state.signatures
    ]


def _names(session: Session, user_ids: list[int]) -> list[str]:
    """The names of these users in this order (one statement, none for no one); an account
    since removed is named as such."""
    if not user_ids:
        return []
    users = {u.id: u.name for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    return [users.get(uid, "an account since removed") for uid in user_ids]


def goal_refs(content: dict[str, Any]) -> dict[str, str]:
    """Each goal's statement and its number as the specification prints it ("G1" …, in the
    order the scope section lists them), for a requirement's traces; {} when the version has
    no scope section with goals (the traces then print their statements)."""
    for section in content.get("sections", []):
        goals = (section.get("drawn") or {}).get("goals")
        if goals:
            refs: dict[str, str] = {}
            for n, goal in enumerate(goals, start=1):
                refs.setdefault(goal["statement"], f"G{n}")
            return refs
    return {}


def report_context(
    session: Session, access: Access, version: SpecVersion | None = None
) -> dict[str, Any]:
    """What the specification's report shows of the latest submitted version (or
    ``version``), loaded in a fixed number of statements whatever the size of the
    specification (four, one more while signatures are awaited; one fewer with ``version``
    given): the sections and requirements are the version's frozen JSON.

    Raises Conflict if no version has been submitted. Does not check permissions: the
    report kind's audience does (see ``SPEC_REPORT``).
    """
    version = version or latest_submitted(session, access.project.id)
    content = version.content
    state = signoff.state(session, version)
    return {
        "project": access.project,
        "version": version,
        "sections": content.get("sections", []),
        "requirements": {r["key"]: r for r in content.get("requirements", [])},
        "goal_refs": goal_refs(content),
        "state": state,
        "status": status_label(state),
        "signatures": _signatures(state, version),
        "waiting_for": _names(session, state.waiting_for),
        "submitted_at": utc_text(version.submitted_at),
        "priority_labels": PRIORITY_LABELS,
        "solution_labels": SOLUTION_LABELS,
    }


def report_title(access: Access, version: SpecVersion) -> str:
    """The document's title (its metadata)."""
    return f"Technical specification — {access.project.name}, version {version.number}"


def report_pdf(
    session: Session,
    access: Access,
    progress: jobs.Progress | None = None,
    version: SpecVersion | None = None,
) -> bytes:
    """The specification's latest submitted version (or ``version``) as PDF/A-3b bytes, with
    its canonical JSON and a ReqIF export of its requirements embedded (see
    :func:`embedded_files`).

    Needs an app context (not a request). ``progress(percent, stage)`` is told when the data
    is loaded (10) and, by the pipeline, when layout (40) and writing (85) start. Raises
    Conflict if no version has been submitted; the permission check is the report kind's
    audience.
    """
    ctx = report_context(session, access, version)
    version = ctx["version"]
    if progress:
        progress(
            10,
            f"version {version.number} loaded "
            f"({len(ctx['requirements'])} requirements, {len(ctx['signatures'])} signatures)",
        )
    return render_pdf(
        TEMPLATE,
        ctx,
        title=report_title(access, version),
        author=access.user.name,
        subject=f"The specification, version {version.number}, SHA-256 {version.digest}",
        progress=progress,
        pdf_variant=PDF_VARIANT,
        attachments=embedded_files(access.project.name, version),
    )


def _audience(session: Session, access: Access) -> tuple[str, str]:
    """Every member may have the specification's report, and all get the same one, rendered
    again after the rollout's next audited change (a new version, a sign-off request and a
    signature are all audited). PermissionDenied for a role without VIEW; Conflict if no
    version was submitted."""
    access.require(Permission.VIEW)
    latest_submitted(session, access.project.id)
    return str(audit.last_change(session, access.project.id)), AUDIENCE


def _render(session: Session, job: jobs.ReportJob, progress: jobs.Progress) -> jobs.Rendered:
    """Render one job in the worker (only reads): the version its ``version`` parameter
    names, else the latest submitted one."""
    access = requester_access(session, job)
    access.require(Permission.VIEW)
    number = job.parameters.get("version")
    version = (
        service.get_version(session, job.project_id, int(number))
        if number is not None
        else latest_submitted(session, job.project_id)
    )
    data = report_pdf(session, access, progress, version)
    return jobs.Rendered(data, f"specification-{job.project_id}-v{version.number}.pdf")


SPEC_REPORT = jobs.register_report(
    jobs.ReportKind(
        name="spec.version",
        title=_l("Specification report"),
        audience=_audience,
        render=_render,
    )
)
