"""Importing requirements from a file: a CSV or XLSX sheet, or a ReqIF document.

All or nothing. Every row is checked first, through the same form as the pages and the API
(:class:`planner.requirements.schemas.RequirementForm`, as a ``ListBody``), and its key, goals
and departments resolved in this rollout; every problem is reported with its row, and nothing
is saved unless there is none. A row without a key is a new requirement; a row naming an
existing key updates that requirement, as its next revision (a row that changes nothing is
left alone). The plan shown in a preview carries a digest: applying it later refuses (409) if
the register changed meanwhile so that the plan would differ.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from planner.core import audit
from planner.core.db import utcnow
from planner.core.errors import Conflict, NotFound, ValidationError
from planner.core.forms import ListBody
from planner.core.i18n import counted, quoted
from planner.core.permissions import Permission
from planner.goals.models import Goal
from planner.projects.access import Access
from planner.projects.models import Department
from planner.requirements import service
from planner.requirements.models import ImportDraft, Requirement
from planner.requirements.records import (
    Priority,
    ReqStatus,
    ReqType,
    RequirementRecord,
    key_of,
    number_of,
)
from planner.requirements.schemas import RequirementForm

MAX_IMPORT = 5000  # requirements in one file
MAX_IMPORT_BYTES = 20 * 1024 * 1024
ROWS = ListBody("requirements", RequirementForm, max_items=MAX_IMPORT)
DRAFT_LIFETIME = timedelta(days=1)


@dataclass(frozen=True)
class RowError:
    """One problem of the file: where it is ("row 7", "requirement 3") and what is wrong."""

    where: str
    message: str


class ImportRejected(ValidationError):
    """The file has problems; nothing was imported. ``row_errors`` lists every one."""

    def __init__(self, errors: list[RowError]) -> None:
        by_place: dict[str, list[str]] = {}
        for e in errors[:500]:
            by_place.setdefault(e.where, []).append(e.message)
        super().__init__(
            f"{counted(len(errors), 'problem')} in the file; nothing was imported. "
            + "; ".join(f"{e.where}: {e.message}" for e in errors[:3]),
            by_place,
        )
        self.row_errors = errors


@dataclass(frozen=True)
class PlannedRow:
    """What importing one row does: ``action`` is "new", "update" or "same"; ``note`` says
    what the preview should point out (another tool's key read as a new requirement)."""

    where: str
    action: str
    key: str
    title: str
    changed: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class ImportPlan:
    """What an import will do, row by row, and its digest (the preview's promise)."""

    rows: tuple[PlannedRow, ...]
    digest: str
    values: tuple[tuple[int | None, dict[str, Any]], ...] = field(default=(), repr=False)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    def as_dict(self) -> dict[str, Any]:
        return {
            "new": self.count("new"),
            "updated": self.count("update"),
            "unchanged": self.count("same"),
            "digest": self.digest,
            "rows": [
                {
                    "where": r.where,
                    "action": r.action,
                    "key": r.key,
                    "title": r.title,
                    "changed": list(r.changed),
                    "note": r.note,
                }
                for r in self.rows
            ],
        }


@dataclass(frozen=True)
class Upload:
    """An uploaded file as read: its records with where each is, and how it was read (the
    kind, the encoding and delimiter of a CSV, each column of a sheet and the field it became,
    None for a column left out), for the preview to say."""

    records: list[tuple[str, RequirementRecord]]
    kind: str
    encoding: str | None = None
    delimiter: str | None = None
    columns: tuple[tuple[str, str | None], ...] = ()


def read_upload(data: bytes, filename: str = "") -> Upload:
    """Read an uploaded file: a ReqIF document (XML) or a CSV/XLSX sheet. ValidationError for
    a file that is none of them, is empty or too large."""
    from planner.requirements import reqif_read, sheets

    if not data:
        raise ValidationError("The file is empty.", {"file": ["Required."]})
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationError(
            f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.",
            {"file": ["Too large."]},
        )
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") or filename.lower().endswith((".reqif", ".xml")):
        doc = reqif_read.import_reqif(data, max_records=MAX_IMPORT)
        return Upload(
            [
                (f"requirement {i}" + (f" ({r.key})" if r.key else ""), r)
                for i, r in enumerate(doc.records, start=1)
            ],
            "reqif",
        )
    sheet = sheets.read_register(data, max_rows=MAX_IMPORT)
    return Upload(
        [(f"row {n}", r) for n, r in sheet.records],
        sheet.kind,
        sheet.encoding,
        sheet.delimiter,
        tuple(sheet.columns),
    )


def read_file(data: bytes, filename: str = "") -> tuple[list[tuple[str, RequirementRecord]], str]:
    """The records of an uploaded file, each with where it is, and the file's kind ("reqif",
    "xlsx" or "csv"); see :func:`read_upload`."""
    upload = read_upload(data, filename)
    return upload.records, upload.kind


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _goal_lookup(session: Session, project_id: int) -> dict[str, set[int]]:
    """Normalised goal text -> the goals it names: by the whole statement, and by its first
    line where no whole statement has that text (a sheet names a goal by its first line)."""
    whole: dict[str, set[int]] = {}
    firsts: dict[str, set[int]] = {}
    for gid, statement in session.execute(
        select(Goal.id, Goal.statement).where(Goal.project_id == project_id)
    ).all():
        whole.setdefault(_norm(statement), set()).add(gid)
        lines = [line for line in statement.splitlines() if line.strip()]
        if lines:
            firsts.setdefault(_norm(lines[0]), set()).add(gid)
    return {**firsts, **whole}


def _enum(value: str, enum: type, current: Any) -> str:
    """A row's enum text: as written, or the current value (an update) or the default (new)
    when the cell is empty."""
    if value:
        return value
    return current.value if current is not None else _DEFAULTS[enum]


_DEFAULTS = {ReqType: ReqType.FUNCTIONAL.value, Priority: Priority.SHOULD.value}
_DEFAULTS[ReqStatus] = ReqStatus.PROPOSED.value


def plan_import(
    session: Session, access: Access, records: list[tuple[str, RequirementRecord]]
) -> ImportPlan:
    """Check every record and say what importing them would do (needs EDIT); ImportRejected
    listing every problem: a field the form refuses (an unknown priority, a title too long),
    a key that is not one or not in this register, a key twice in the file, a goal or a
    department the rollout does not have."""
    access.require(Permission.EDIT)
    pid = access.project.id
    if len(records) > MAX_IMPORT:
        raise ValidationError(
            f"At most {MAX_IMPORT} requirements in one file (got {len(records)})."
        )
    if not records:
        raise ValidationError("The file holds no requirement.", {"file": ["No rows."]})
    existing = {
        r.number: r
        for r in session.scalars(
            select(Requirement)
            .options(
                selectinload(Requirement.goals),
                selectinload(Requirement.departments),
                selectinload(Requirement.owner),
            )
            .where(Requirement.project_id == pid)
        )
    }
    goals = _goal_lookup(session, pid)
    depts = {
        _norm(name): did
        for did, name in session.execute(
            select(Department.id, Department.name).where(Department.project_id == pid)
        ).all()
    }
    errors: list[RowError] = []
    notes: dict[str, str] = {}
    seen: dict[int, str] = {}
    resolved: list[tuple[str, Requirement | None, dict[str, Any]]] = []
    for where, rec in records:
        current: Requirement | None = None
        foreign = ""
        if rec.key.strip():
            number = number_of(rec.key)
            if number is None:  # another tool's key (DOORS' "123", "PRJ-7"): a new requirement
                foreign = rec.key.strip()
            elif number not in existing:
                errors.append(
                    RowError(
                        where,
                        f"{key_of(number)} is not in this register; keys are given by the "
                        "register: leave the key empty for a new requirement.",
                    )
                )
            elif number in seen:
                errors.append(RowError(where, f"{key_of(number)} is in {seen[number]} already."))
            else:
                seen[number] = where
                current = existing[number]
        goal_ids = []
        for text in rec.goals:
            found = goals.get(_norm(text), set())
            if not found:
                errors.append(RowError(where, f"No goal {quoted(text, 80)} in this rollout."))
            elif len(found) > 1:
                errors.append(
                    RowError(
                        where,
                        f"{len(found)} goals read {quoted(text, 80)}: name the goal by its "
                        "whole statement, or make the goals' statements distinct.",
                    )
                )
            else:
                goal_ids.append(next(iter(found)))
        dept_ids = []
        for name in rec.departments:
            did = depts.get(_norm(name))
            if did is None:
                errors.append(RowError(where, f"No department {quoted(name)} in this rollout."))
            else:
                dept_ids.append(did)
        values = {
            "title": rec.title,
            "description": rec.description,
            "type": _enum(rec.type, ReqType, current.type if current else None),
            "priority": _enum(rec.priority, Priority, current.priority if current else None),
            "status": _enum(rec.status, ReqStatus, current.status if current else None),
            "module": rec.module,
            "acceptance_criterion": rec.acceptance_criterion,
            "owner_id": current.owner_id if current else None,
            "goal_ids": goal_ids,
            "department_ids": dept_ids,
        }
        if current is not None and rec.fields is not None:
            # what the file does not carry stays as the register has it
            for name, kept in _kept(current).items():
                if _FIELD_OF.get(name, name) not in rec.fields:
                    values[name] = kept
        resolved.append((where, current, values))
        if foreign:
            notes[where] = f"{quoted(foreign)} is another tool's key: a new requirement"
    try:
        ROWS.from_rows(
            [
                (where, {k: ("" if v is None else str(v)) for k, v in vals.items() if k in _TEXT})
                for where, _c, vals in resolved
            ]
        )
    except ValidationError as exc:
        for name, messages in exc.errors.items():
            where, _, fld = name.partition(".")
            label = fld.replace("_", " ")
            errors.extend(RowError(where, f"{label}: {m}") for m in messages)
    if errors:
        order = {where: i for i, (where, _r) in enumerate(records)}
        errors.sort(key=lambda e: order.get(e.where, 0))
        raise ImportRejected(errors)
    rows = []
    values_out = []
    for where, current, vals in resolved:
        if current is None:
            rows.append(
                PlannedRow(
                    where, "new", "", " ".join(vals["title"].split()), (), notes.get(where, "")
                )
            )
        else:
            changed = _changes(current, vals)
            rows.append(
                PlannedRow(
                    where, "update" if changed else "same", current.key, current.title, changed
                )
            )
        values_out.append((current.id if current else None, vals))
    digest = hashlib.sha256(
        json.dumps(
            [[r.where, r.action, r.key, list(r.changed)] for r in rows]
            + [[rid, v] for rid, v in values_out],
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        ).encode()
    ).hexdigest()
    return ImportPlan(tuple(rows), digest, tuple(values_out))


_TEXT = ("title", "description", "type", "priority", "status", "module", "acceptance_criterion")
# a value's name -> the record field (the file's column) it comes from
_FIELD_OF = {"goal_ids": "goals", "department_ids": "departments"}


def _kept(current: Requirement) -> dict[str, Any]:
    """An existing requirement's values, as an import row gives them."""
    return {
        "title": current.title,
        "description": current.description,
        "module": current.module,
        "acceptance_criterion": current.acceptance_criterion,
        "goal_ids": [g.id for g in current.goals],
        "department_ids": [d.id for d in current.departments],
    }


def _changes(current: Requirement, vals: dict[str, Any]) -> tuple[str, ...]:
    """The fields of ``current`` that ``vals`` would change, in reading order."""
    cleaned = service.clean_fields(vals)
    out = [f for f in service.FIELDS if getattr(current, f) != cleaned[f]]
    if {g.id for g in current.goals} != set(vals["goal_ids"]):
        out.append("goals")
    if {d.id for d in current.departments} != set(vals["department_ids"]):
        out.append("departments")
    return tuple(out)


def apply_import(
    session: Session,
    access: Access,
    records: list[tuple[str, RequirementRecord]],
    *,
    filename: str,
    expected_digest: str | None = None,
) -> ImportPlan:
    """Import ``records`` as planned (needs EDIT): new requirements get the next keys, named
    ones their next revision. ImportRejected as for :func:`plan_import`; Conflict if
    ``expected_digest`` (the preview's) no longer matches the plan, because the register
    changed since the preview."""
    plan = plan_import(session, access, records)
    if expected_digest is not None and plan.digest != expected_digest:
        raise Conflict(
            "The register changed since the preview; nothing was imported. Look at the new "
            "preview, then import again."
        )
    by_id = {
        r.id: r
        for r in session.scalars(
            select(Requirement)
            .options(
                selectinload(Requirement.goals),
                selectinload(Requirement.departments),
                selectinload(Requirement.owner),
            )
            .where(Requirement.id.in_([rid for rid, _v in plan.values if rid]))
        )
    }
    new = [
        vals
        for row, (_rid, vals) in zip(plan.rows, plan.values, strict=True)
        if row.action == "new"
    ]
    for start in range(0, len(new), 500):  # batches: a bounded statement size
        service.create_requirements(session, access, new[start : start + 500])
    for row, (rid, vals) in zip(plan.rows, plan.values, strict=True):
        if row.action == "update":
            service.update_requirement(session, access, by_id[rid], version=None, **vals)
    audit.log(
        session,
        access,
        "requirement.import",
        summary=f"requirements imported from {quoted(filename)}: "
        f"{counted(plan.count('new'), 'new requirement')}, "
        f"{counted(plan.count('update'), 'revised requirement')}, {plan.count('same')} unchanged",
        entity_type="requirement",
    )
    return plan


# --- drafts: a file kept between its preview and its import ------------------------------


def keep_draft(session: Session, access: Access, data: bytes, filename: str) -> ImportDraft:
    """Keep an uploaded file for its preview (needs EDIT); drafts older than a day go."""
    access.require(Permission.EDIT)
    session.execute(delete(ImportDraft).where(ImportDraft.created_at < utcnow() - DRAFT_LIFETIME))
    draft = ImportDraft(
        project_id=access.project.id,
        user_id=access.user.id,
        filename=(filename or "upload")[:200],
        data=data,
    )
    session.add(draft)
    session.flush()
    return draft


def get_draft(session: Session, access: Access, draft_id: int) -> ImportDraft:
    """The caller's own draft in this rollout; NotFound for anyone else's, an applied or an
    expired one."""
    draft = session.get(ImportDraft, draft_id)
    if (
        draft is None
        or draft.project_id != access.project.id
        or draft.user_id != access.user.id
        or draft.created_at < utcnow() - DRAFT_LIFETIME
    ):
        raise NotFound("This import is no longer waiting: upload the file again.")
    return draft


def discard_draft(session: Session, draft: ImportDraft) -> None:
    """Forget a draft once it is imported."""
    session.delete(draft)
