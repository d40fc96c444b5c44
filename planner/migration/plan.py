"""The migration plan: how the whole move is made once the pilot is reconciled (seed 001: bulk
or incremental migration; data security: backups, strict permissions, repeated verification).

One plan per rollout, edited by whoever may edit the rollout, every change audited. The gate
asks for a backup verified by a restore (:mod:`planner.migration.gate`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from planner.core import audit
from planner.core.db import utcnow
from planner.core.errors import Conflict, ValidationError
from planner.core.permissions import Permission
from planner.core.versioning import ensure_version
from planner.migration.models import MigrationPlan
from planner.projects.access import Access

APPROACHES = ("bulk", "incremental")
MAX_BATCH = 10_000_000
MAX_ENTITIES = 20
PLAN_FIELDS = (
    "approach",
    "batch_size",
    "entity_order",
    "backup_taken",
    "backup_location",
    "backup_taken_on",
    "backup_verified",
    "backup_verified_on",
    "access",
    "notes",
)


def plan(session: Session, project_id: int) -> MigrationPlan:
    """The rollout's plan; an empty one, not stored, before it is first saved."""
    found = session.scalar(select(MigrationPlan).where(MigrationPlan.project_id == project_id))
    if found is not None:
        return found
    return MigrationPlan(
        project_id=project_id,
        version=0,
        approach="",
        batch_size=None,
        entity_order=[],
        backup_taken=False,
        backup_location="",
        backup_verified=False,
        access="",
        notes="",
    )


def entities(text: str) -> list[str]:
    """The entities in order, one a line or separated by commas, blanks and repeats left out."""
    seen: list[str] = []
    for part in text.replace(",", "\n").splitlines():
        name = " ".join(part.split())
        if name and name.casefold() not in (s.casefold() for s in seen):
            seen.append(name)
    return seen


def _check(values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    today = utcnow().date()
    if values["approach"] and values["approach"] not in APPROACHES:
        errors["approach"] = ["Bulk or incremental."]
    batch = values["batch_size"]
    if batch is not None and not 1 <= batch <= MAX_BATCH:
        errors["batch_size"] = [f"Between 1 and {MAX_BATCH:,} records."]
    elif batch is not None and values["approach"] == "bulk":
        errors["batch_size"] = [
            "A bulk move is one move, in no batches: leave this empty, or choose incremental."
        ]
    if len(values["entity_order"]) > MAX_ENTITIES:
        errors["entity_order"] = [f"At most {MAX_ENTITIES} entities."]
    elif any(len(name) > 80 for name in values["entity_order"]):
        errors["entity_order"] = ["An entity's name has at most 80 characters."]
    taken: date | None = values["backup_taken_on"]
    verified: date | None = values["backup_verified_on"]
    for name, day in (("backup_taken_on", taken), ("backup_verified_on", verified)):
        if day is not None and day > today:
            errors[name] = ["In the future."]
    if (taken or values["backup_location"]) and not values["backup_taken"]:
        errors.setdefault("backup_taken", []).append(
            "Tick it when the backup is taken, or leave its place and date blank."
        )
    if values["backup_verified"]:
        if not values["backup_taken"]:
            errors.setdefault("backup_verified", []).append("A backup not taken is not verified.")
        if verified is None:
            errors.setdefault("backup_verified_on", []).append(
                "Enter the day the restore was tried."
            )
        elif taken is not None and verified < taken:
            errors.setdefault("backup_verified_on", []).append("Before the backup was taken.")
    elif verified is not None:
        errors.setdefault("backup_verified", []).append(
            "Tick it when a restore of the backup worked, or leave its date blank."
        )
    if errors:
        raise ValidationError("The plan is not saved: " + " ".join(_first(errors)), errors)


def _first(errors: dict[str, list[str]]) -> list[str]:
    return [messages[0] for messages in errors.values()]


def update_plan(
    session: Session, access: Access, values: dict[str, Any], *, version: int | None
) -> MigrationPlan:
    """Write the plan's ``values`` (by :data:`PLAN_FIELDS`; needs EDIT). ``version`` is the
    one read (0 or None before the first save): StaleEdit if someone saved it since.
    ValidationError, nothing saved, for an unknown approach, a batch size out of range, dates
    in the future, a verified backup without its restore's date or before it was taken."""
    access.require(Permission.EDIT)
    unknown = set(values) - set(PLAN_FIELDS)
    if unknown:
        raise ValueError(f"not fields of the plan: {sorted(unknown)}")
    row = plan(session, access.project.id)
    stored = row.id is not None
    if stored:
        if version is None:
            raise ValidationError(
                "Send the version of the plan you read, so that nobody's edit is overwritten.",
                {"version": ["Required."]},
            )
        ensure_version(session, row, version)
    elif version not in (None, 0):
        ensure_version(session, row, version)  # someone else's first save was undone: stale
    merged = {name: getattr(row, name) for name in PLAN_FIELDS} | values
    merged["backup_location"] = " ".join((merged["backup_location"] or "").split())
    merged["access"] = (merged["access"] or "").strip()
    merged["notes"] = (merged["notes"] or "").strip()
    _check(merged)
    before = audit.snapshot(row, PLAN_FIELDS) if stored else None
    for name in PLAN_FIELDS:
        setattr(row, name, merged[name])
    row.updated_by_id = access.user.id
    if stored:
        session.flush()
    else:
        row.version = 1
        try:
            with session.begin_nested():  # someone else's first save, meanwhile
                session.add(row)
                session.flush()
        except IntegrityError:
            raise Conflict(
                "Someone wrote the plan at the same moment: reload it to see theirs."
            ) from None
    audit.log(
        session,
        access,
        "migration.plan",
        row,
        "migration plan changed" if stored else "migration plan written",
        before=before,
        after=audit.snapshot(row, PLAN_FIELDS),
    )
    return row
