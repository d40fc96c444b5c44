"""The design review as a PDF, a background report job rendered by the one pipeline in
core/reports.py: the latest submitted version of the solution design (its texts, its modules
with the revision of each requirement they cover, what no module covers), the board's review
(per indicator the scores side by side, the weighted total, Kendall's W, where the board
disagrees) and the executives' signatures, each with its name, meaning and time together.

The board's scores are blind (:func:`planner.design.service.may_see_results`): a reviewer gets
the report once they submitted their own review, a viewer once the whole board has. Those who
may have it all see the same scores, so there is one audience and one cached render per
revision of the rollout's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.core import audit, jobs
from planner.core.errors import Conflict, PermissionDenied
from planner.core.permissions import Permission
from planner.core.reports import render_pdf
from planner.design import service
from planner.design.models import DesignVersion
from planner.projects.access import Access, requester_access
from planner.projects.phases import SOLUTION_LABELS, SolutionKind
from planner.projects.schemas import ROLE_LABELS
from planner.requirements.models import Requirement
from planner.requirements.records import PRIORITY_LABELS, Priority

TEMPLATE = "design_review.html"
AUDIENCE = "board-results"  # everyone who may see the blind scores sees all of them
# The design's texts in the order the version page shows them: (field of the content, label).
TEXT_SECTIONS = (
    ("summary", _l("Summary")),
    ("processes", _l("Business processes covered")),
    ("integrations", _l("Integrations")),
    ("organisational_fit", _l("Fit with the organisation")),
    ("growth_plans", _l("Growth plans")),
    ("cost_estimate", _l("Cost estimate")),
    ("risks", _l("Risks")),
)


@dataclass(frozen=True)
class CoveredRequirement:
    """A requirement as the version froze it, and its revision in the register now (None if
    it has been deleted since)."""

    key: str
    title: str
    revision: int
    priority: Priority
    current_revision: int | None

    @property
    def must(self) -> bool:
        return self.priority == Priority.MUST

    @property
    def revised_since(self) -> bool:
        return self.current_revision is not None and self.current_revision != self.revision


@dataclass(frozen=True)
class ModuleRow:
    """A module of the version: its name, its description (Markdown) and what it covers."""

    name: str
    description: str
    requirements: list[CoveredRequirement]


@dataclass(frozen=True)
class Signature:
    """An executive's signature as the report prints it: printed name, role, meaning,
    conditions (or reasons) and the UTC time together (21 CFR Part 11 §11.50)."""

    printed_name: str
    role: str
    meaning: str
    conditions: str  # or, for a rejection, the reasons
    rejects: bool
    signed_at: str  # "YYYY-MM-DD HH:MM:SS UTC"
    digest: str
    bound_to_version: bool  # signed exactly this version's SHA-256


def utc_text(moment: datetime) -> str:
    """A timestamp as the report prints it, in UTC and saying so."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def latest_submitted(session: Session, project_id: int) -> DesignVersion:
    """The latest submitted version of the rollout's design, which the report shows.

    Raises Conflict if no version has been submitted yet (there is nothing to report on).
    """
    version = service.latest_version(session, project_id)
    if version is None:
        raise Conflict(
            "No version of the solution design has been submitted for review yet; the design "
            "review report shows the latest submitted version."
        )
    return version


def require_results(session: Session, access: Access, version: DesignVersion) -> None:
    """Raise PermissionDenied unless this member may see the board's scores of ``version``
    (blind review: a reviewer once they submitted their own, a viewer once the whole board
    has; the lead, the executives and admins always)."""
    access.require(Permission.VIEW)
    if not service.may_see_results(session, access, version):
        raise PermissionDenied(
            "The board's scores are shown once you have submitted your review."
            if access.can(Permission.SCORE)
            else "The board's scores are shown once every reviewer has submitted."
        )


def _modules(content: dict[str, Any], current: dict[int, int]) -> list[ModuleRow]:
    return [
        ModuleRow(
            m["name"],
            m["description"],
            [
                CoveredRequirement(
                    r["key"],
                    r["title"],
                    r["revision"],
                    Priority(r["priority"]),
                    current.get(r["id"]),
                )
                for r in m["requirements"]
            ],
        )
        for m in content["modules"]
    ]


def _signatures(standing: service.Standing, version: DesignVersion) -> list[Signature]:
    return [
        Signature(
            a.printed_name,
            str(ROLE_LABELS.get(a.role, a.role)),
            a.meaning.label,
            a.conditions,
            not a.meaning.approves,
            utc_text(a.signed_at),
            a.digest,
            a.digest == version.digest,
        )
        for a in standing.signatures
    ]


def report_context(
    session: Session, access: Access, version: DesignVersion | None = None
) -> dict[str, Any]:
    """What the design review shows of the latest submitted version (or ``version``), loaded
    in a fixed number of statements whatever the size of the design, of the register and of
    the board (eight; seven with ``version`` given): the texts and modules are the version's
    frozen JSON.

    Raises Conflict if no version has been submitted. Does not check permissions: the
    report kind's audience does (see ``REVIEW_REPORT``).
    """
    pid = access.project.id
    version = version or latest_submitted(session, pid)
    content = version.content
    covered = [r["id"] for m in content["modules"] for r in m["requirements"]]
    current = dict(
        session.execute(
            select(Requirement.id, Requirement.revision).where(Requirement.project_id == pid)
        ).all()
    )
    standing = service.standing(session, version)
    kind = content.get("solution_kind")
    return {
        "project": access.project,
        "version": version,
        "content": content,
        "solution_label": SOLUTION_LABELS[SolutionKind(kind)] if kind else None,
        "text_sections": [(label, content[f]) for f, label in TEXT_SECTIONS if content.get(f)],
        "modules": _modules(content, current),
        "uncovered": service.uncovered(session, pid, covered),
        "standing": standing,
        "signatures": _signatures(standing, version),
        "result": service.review_result(session, access, version),
        "submitted_at": utc_text(version.submitted_at),
        "priority_labels": PRIORITY_LABELS,
        "disagreement": service.DISAGREEMENT,
    }


def report_title(access: Access, version: DesignVersion) -> str:
    """The document's title (its metadata and running header)."""
    return f"Design review — {access.project.name}, version {version.number}"


def report_pdf(
    session: Session,
    access: Access,
    progress: jobs.Progress | None = None,
    version: DesignVersion | None = None,
) -> bytes:
    """The design review of the latest submitted version (or ``version``) as PDF bytes.

    Needs an app context (not a request). ``progress(percent, stage)`` is told when the data
    is loaded (10) and, by the pipeline, when layout (40) and writing (85) start. Raises
    Conflict if no version has been submitted; the permission check is the report kind's
    audience (or :func:`require_results`).
    """
    ctx = report_context(session, access, version)
    version = ctx["version"]
    if progress:
        progress(10, f"version {version.number} and the board's review loaded")
    return render_pdf(
        TEMPLATE,
        ctx,
        title=report_title(access, version),
        author=access.user.name,
        subject="The solution design, the board's review and the executives' approval",
        progress=progress,
    )


def _audience(session: Session, access: Access) -> tuple[str, str]:
    """Who may have the report: a member who may see the board's scores of the latest
    version (PermissionDenied otherwise; a job of it is then 404 to them, as one they may not
    read); Conflict if no version was submitted. Rendered again after the rollout's next
    audited change (a submitted review, a signature, a new version are all audited)."""
    version = latest_submitted(session, access.project.id)
    require_results(session, access, version)
    return str(audit.last_change(session, access.project.id)), AUDIENCE


def _render(session: Session, job: jobs.ReportJob, progress: jobs.Progress) -> jobs.Rendered:
    """Render one job in the worker (only reads); the reader's right to the scores is checked
    again, as it is now (the job fails with the reason otherwise)."""
    access = requester_access(session, job)
    version = latest_submitted(session, job.project_id)
    require_results(session, access, version)
    data = report_pdf(session, access, progress, version)
    return jobs.Rendered(data, f"design-review-{job.project_id}-v{version.number}.pdf")


REVIEW_REPORT = jobs.register_report(
    jobs.ReportKind(
        name="design.review",
        title=_l("Design review report"),
        audience=_audience,
        render=_render,
    )
)
