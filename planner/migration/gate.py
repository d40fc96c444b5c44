"""The migration gate's computed criteria (seed 003: move a few customers first and check how
the new CRM reads them; seed 001: a backup first, verified): a reconciled pilot with every
difference explained, and a backup of the old CRM verified by a restore."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.core.i18n import counted
from planner.migration.models import MigrationPilot, MigrationPlan, MigrationReconciliation
from planner.projects.phases import Criterion, register_criteria


def unexplained(reconciliation: MigrationReconciliation) -> list[str]:
    """The ids of the reconciliation's differences the lead has not explained yet."""
    explained = reconciliation.explanations or {}
    return [
        d["id"]
        for d in (reconciliation.summary or {}).get("differences", [])
        if not (explained.get(d["id"]) or {}).get("text")
    ]


def latest_reconciliation(session: Session, project_id: int) -> MigrationReconciliation | None:
    """The rollout's latest reconciliation of a pilot, if any (one statement)."""
    return session.scalar(
        select(MigrationReconciliation)
        .where(MigrationReconciliation.project_id == project_id)
        .order_by(MigrationReconciliation.id.desc())
        .limit(1)
    )


@register_criteria("migration")
def criteria(session: Session, project: Any) -> list[Criterion]:
    """The latest reconciliation all explained; the backup verified (three statements)."""
    latest = latest_reconciliation(session, project.id)
    if latest is not None:
        left = unexplained(latest)
        detail = f"{counted(len(left), 'difference')} not explained yet" if left else ""
        met = not left
    else:
        piloted = session.scalar(
            select(MigrationPilot.id).where(MigrationPilot.project_id == project.id).limit(1)
        )
        detail = "no pilot reconciled yet" if piloted else "no pilot batch yet"
        met = False
    backup = session.scalar(
        select(MigrationPlan.backup_verified).where(MigrationPlan.project_id == project.id)
    )
    return [
        Criterion(
            "A pilot batch is reconciled with the new CRM, every difference explained",
            met=met,
            detail=detail,
        ),
        Criterion(
            "A backup of the old CRM is verified by a restore",
            met=bool(backup),
            detail="" if backup else "the migration plan records no verified backup",
        ),
    ]
