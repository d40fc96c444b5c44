"""The migration gate's computed criteria (seed 003: move a few customers first and check how
the new CRM reads them; seed 001: a backup first, verified): every recipe's latest pilot
reconciled with every difference explained, and a backup of the old CRM verified by a restore.

Per recipe (one per entity) the latest pilot batch counts, and of that pilot its latest
reconciliation: an earlier pilot is superseded by the next one made after the recipe changed,
an earlier reconciliation by the next upload of the new CRM's export. A pilot counts only while
the recipe is what it was made with: a recipe changed since (its rules, or the export it reads)
needs a new pilot; one changed back, or imported again as it was, does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.core.i18n import counted
from planner.migration.models import (
    MigrationPilot,
    MigrationPlan,
    MigrationRecipe,
    MigrationReconciliation,
)
from planner.projects.phases import Criterion, register_criteria


def unexplained(reconciliation: MigrationReconciliation) -> list[str]:
    """The ids of the reconciliation's differences the lead has not explained yet."""
    explained = reconciliation.explanations or {}
    return [
        d["id"]
        for d in (reconciliation.summary or {}).get("differences", [])
        if not (explained.get(d["id"]) or {}).get("text")
    ]


@dataclass(frozen=True)
class Standing:
    """Where one recipe stands for the gate: its latest pilot and that pilot's latest
    reconciliation (None where there is none yet), and what it still waits for."""

    recipe: MigrationRecipe
    pilot: MigrationPilot | None
    reconciliation: MigrationReconciliation | None

    @property
    def current(self) -> bool:
        """Whether the pilot was made with the recipe as it is now: the same document on the
        same export (a recipe changed and changed back, or imported again as it was, still
        counts: its version moved, its rules did not)."""
        return self.pilot is not None and (
            self.pilot.recipe_version == self.recipe.version
            or (
                self.pilot.recipe_document == self.recipe.document
                and self.pilot.upload_id == self.recipe.upload_id
            )
        )

    @property
    def waiting_for(self) -> str:
        """What the recipe still needs, in words ("" when nothing)."""
        if self.pilot is None:
            return f"the recipe of {self.recipe.entity} has no pilot batch yet"
        if not self.current:
            return (
                f"the recipe of {self.recipe.entity} changed since pilot {self.pilot.id}: "
                "make a new pilot batch"
            )
        if self.reconciliation is None:
            return f"pilot {self.pilot.id} of {self.recipe.entity} is not reconciled yet"
        left = unexplained(self.reconciliation)
        if left:
            return (
                f"pilot {self.pilot.id} of {self.recipe.entity}: "
                f"{counted(len(left), 'difference')} not explained yet"
            )
        return ""


def standings(session: Session, project_id: int) -> list[Standing]:
    """Every recipe of the rollout with its latest pilot and latest reconciliation (three
    statements, whatever their number)."""
    rows = list(
        session.scalars(
            select(MigrationRecipe)
            .where(MigrationRecipe.project_id == project_id)
            .order_by(MigrationRecipe.entity)
        )
    )
    latest_pilot: dict[int, MigrationPilot] = {}
    for pilot in session.scalars(
        select(MigrationPilot)
        .where(MigrationPilot.project_id == project_id)
        .order_by(MigrationPilot.id)
    ):
        latest_pilot[pilot.recipe_id] = pilot
    latest_done: dict[int, MigrationReconciliation] = {}
    for done in session.scalars(
        select(MigrationReconciliation)
        .where(MigrationReconciliation.project_id == project_id)
        .order_by(MigrationReconciliation.id)
    ):
        latest_done[done.pilot_id] = done
    found = []
    for row in rows:
        pilot = latest_pilot.get(row.id)
        found.append(Standing(row, pilot, latest_done.get(pilot.id) if pilot else None))
    return found


@register_criteria("migration")
def criteria(session: Session, project: Any) -> list[Criterion]:
    """Every recipe's latest pilot reconciled and explained; the backup verified (four
    statements)."""
    found = standings(session, project.id)
    waiting = [s.waiting_for for s in found if s.waiting_for]
    detail = "; ".join(waiting) if found else "no recipe yet"
    backup = session.scalar(
        select(MigrationPlan.backup_verified).where(MigrationPlan.project_id == project.id)
    )
    return [
        Criterion(
            "A pilot batch is reconciled with the new CRM, every difference explained",
            met=bool(found) and not waiting,
            detail=detail,
        ),
        Criterion(
            "A backup of the old CRM is verified by a restore",
            met=bool(backup),
            detail="" if backup else "the migration plan records no verified backup",
        ),
    ]
