"""The requirements register as a PDF, a background report job rendered by the one pipeline in
core/reports.py: the register at a glance, the requirements grouped by module with their traces
to goals and to their sources, and the goals no requirement serves yet.

The register holds no commercial data, so every member of the rollout gets the same report
(one audience, one cached render per revision of the data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, selectinload

from planner.core import audit, jobs
from planner.core.permissions import Permission
from planner.core.reports import render_pdf
from planner.projects.access import Access, requester_access
from planner.requirements import intake, service
from planner.requirements.models import Requirement
from planner.requirements.records import PRIORITY_LABELS, STATUS_LABELS, TYPE_LABELS

TEMPLATE = "requirements_register.html"
AUDIENCE = "members"  # no prices, no reasons of conflicts: one report for every member
QUOTE_MAX = 400  # a source's words are shortened to this many characters in the report


@dataclass(frozen=True)
class ModuleSection:
    """The requirements of one module, in key order; ``name`` is empty for those of none."""

    name: str
    requirements: list[Requirement]


def group_by_module(reqs: list[Requirement]) -> list[ModuleSection]:
    """The requirements grouped by module: modules in alphabetical order (case and spacing
    aside, as the register's filter compares them, under the first spelling met), the
    requirements without a module last; each group keeps the order it was given."""
    groups: dict[str, ModuleSection] = {}
    for req in reqs:
        name = " ".join(req.module.split())
        key = name.casefold()
        if key not in groups:
            groups[key] = ModuleSection(name, [])
        groups[key].requirements.append(req)
    named = sorted((s for k, s in groups.items() if k), key=lambda s: (s.name.casefold(), s.name))
    return named + ([groups[""]] if "" in groups else [])


def _requirements(session: Session, project_id: int) -> list[Requirement]:
    """The whole register in key order with owners, goals and departments (three statements,
    one more per 500 requirements for each of the two traces)."""
    stmt = service.register_statement(project_id, service.RegisterQuery()).options(
        joinedload(Requirement.owner),
        selectinload(Requirement.goals),
        selectinload(Requirement.departments),
    )
    return list(session.scalars(stmt))


def report_context(session: Session, access: Access) -> dict[str, Any]:
    """What the register's report shows, loaded in a fixed number of statements whatever the
    size of the register (eight; the two traces take one more each per 500 requirements).

    Does not check permissions: the report kind's audience does (see ``REGISTER_REPORT``).
    """
    pid = access.project.id
    reqs = _requirements(session, pid)
    return {
        "project": access.project,
        "requirements": reqs,
        "modules": group_by_module(reqs),
        "sources": intake.sources_by_requirement(session, pid),
        "counts": service.register_counts(session, pid),
        "unserved": service.goals_without_requirement(session, pid),
        "type_labels": TYPE_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "status_labels": STATUS_LABELS,
        "quote_max": QUOTE_MAX,
    }


def report_pdf(session: Session, access: Access, progress: jobs.Progress | None = None) -> bytes:
    """The requirements register of ``access.project`` as PDF bytes.

    Needs an app context (not a request). ``progress(percent, stage)`` is told when the data
    is loaded (10) and, by the pipeline, when layout (40) and writing (85) start. Raises
    nothing of its own; the permission check is the report kind's audience.
    """
    ctx = report_context(session, access)
    if progress:
        progress(10, f"{len(ctx['requirements'])} requirements loaded")
    return render_pdf(
        TEMPLATE,
        ctx,
        title=f"Requirements register — {access.project.name}",
        author=access.user.name,
        subject="Requirements by module, with their traces to goals and to their sources",
        progress=progress,
    )


def _audience(session: Session, access: Access) -> tuple[str, str]:
    """Every member may have the register's report, and all get the same one, rendered again
    after the rollout's next audited change (tracing a requirement to a source is audited).
    Raises PermissionDenied for a role without VIEW.
    """
    access.require(Permission.VIEW)
    return str(audit.last_change(session, access.project.id)), AUDIENCE


def _render(session: Session, job: jobs.ReportJob, progress: jobs.Progress) -> jobs.Rendered:
    """Render one job in the worker (only reads)."""
    data = report_pdf(session, requester_access(session, job), progress)
    return jobs.Rendered(data, f"requirements-register-{job.project_id}.pdf")


REGISTER_REPORT = jobs.register_report(
    jobs.ReportKind(
        name="requirements.register",
        title=_l("Requirements register report"),
        audience=_audience,
        render=_render,
    )
)
