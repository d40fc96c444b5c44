"""The migration report as a PDF, a background report job rendered by the one pipeline in
core/reports.py: the profile of each export (charts of how full each column is, its types and
formats, its duplicates), each recipe's mapping (its JSON documents embedded in the PDF), the
pilot batches and their reconciliation with every explanation, the plan and the gate.

It quotes no customer value: counts, formats, kinds, column and field names only, so every
member may have it, and there is one audience and one cached render per revision of the
rollout's data (every change to it is audited).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.core import audit, jobs
from planner.core.reports import EmbeddedFile, render_pdf
from planner.migration import gate, plan, recipes, service
from planner.migration import recipe as engine
from planner.migration.models import MigrationPilot, MigrationReconciliation
from planner.projects import service as projects
from planner.projects.access import Access, requester_access

TEMPLATE = "migration_report.html"
AUDIENCE = "aggregates"  # no customer value in it: every member sees the same report
MAX_COLUMNS_CHARTED = 60


@dataclass(frozen=True)
class Bar:
    """One column's bar in the completeness chart: filled and empty shares of its rows."""

    name: str
    filled: float
    empty: float
    y: int


def completeness(upload: Any) -> list[Bar]:
    """Bars of how full each column of an upload is (the first :data:`MAX_COLUMNS_CHARTED`),
    the columns named by their place when the header is data."""
    bars = []
    rows = max(upload.rows, 1)
    aggregates = (
        service.masked(upload.aggregates) if service.header_is_data(upload) else upload.aggregates
    )
    for i, column in enumerate((aggregates or {}).get("columns", [])[:MAX_COLUMNS_CHARTED]):
        empty = (column.get("aggregates") or {}).get("empty", 0) / rows
        bars.append(Bar(str(column.get("name", "")), round(1 - empty, 4), round(empty, 4), i * 16))
    return bars


def report_context(session: Session, access: Access) -> dict[str, Any]:
    """What the report shows (see the module); a handful of statements, whatever the size."""
    project_id = access.project.id
    uploads = service.uploads(session, project_id)
    kept = recipes.recipes(session, project_id)
    pilots = list(
        session.scalars(
            select(MigrationPilot)
            .where(MigrationPilot.project_id == project_id)
            .order_by(MigrationPilot.id)
        )
    )
    done = list(
        session.scalars(
            select(MigrationReconciliation)
            .where(MigrationReconciliation.project_id == project_id)
            .order_by(MigrationReconciliation.id)
        )
    )
    by_pilot: dict[int, list[MigrationReconciliation]] = {}
    for r in done:
        by_pilot.setdefault(r.pilot_id, []).append(r)
    return {
        "project": access.project,
        "uploads": uploads,
        "shown": {
            u.id: service.masked(u.aggregates) if service.header_is_data(u) else u.aggregates
            for u in uploads
        },
        "bars": {u.id: completeness(u) for u in uploads},
        "recipes": [(row, engine.parse(row.document)) for row in kept],
        "pilots": pilots,
        "reconciliations": by_pilot,
        "unexplained": {r.id: set(gate.unexplained(r)) for r in done},
        "plan": plan.plan(session, project_id),
        # the phase's whole gate, as its page shows it (earlier gates and checklist too)
        "criteria": projects.criteria(
            session, access.project, projects.get_phase(session, project_id, "migration")
        ),
    }


def report_pdf(session: Session, access: Access, progress: jobs.Progress | None = None) -> bytes:
    """The migration report as PDF bytes, each recipe's document embedded as a JSON file.
    Needs an app context (not a request)."""
    ctx = report_context(session, access)
    if progress:
        progress(10, "exports, recipes, pilots and the plan loaded")
    files = [
        EmbeddedFile(
            f"recipe-{row.entity}.json",
            (json.dumps(row.document, ensure_ascii=False, indent=2) + "\n").encode(),
            "application/json",
            f"The recipe of {row.entity}, version {row.version}",
            "Source",
        )
        for row, _recipe in ctx["recipes"]
    ]
    return render_pdf(
        TEMPLATE,
        ctx,
        title=f"Data migration — {access.project.name}",
        author=access.user.name,
        subject="Profile of the old CRM's exports, recipes, pilot and reconciliation, plan",
        progress=progress,
        attachments=files,
    )


def _audience(session: Session, access: Access) -> tuple[str, str]:
    """Every member may have it (it holds no customer value); rendered again after the
    rollout's next audited change."""
    return str(audit.last_change(session, access.project.id)), AUDIENCE


def _render(session: Session, job: jobs.ReportJob, progress: jobs.Progress) -> jobs.Rendered:
    """Render one job in the worker (only reads)."""
    data = report_pdf(session, requester_access(session, job), progress)
    return jobs.Rendered(data, f"data-migration-{job.project_id}.pdf")


MIGRATION_REPORT = jobs.register_report(
    jobs.ReportKind(
        name="migration.report",
        title=_l("Data migration report"),
        audience=_audience,
        render=_render,
    )
)
