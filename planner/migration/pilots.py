"""The rules of pilot batches and their reconciliation (seed 003: move a few customers first
and check how the new CRM reads them).

The lead makes a pilot from a recipe and its export: the records are cleaned by the recipe
(:mod:`planner.migration.recipe`), chosen so that every kind of problem appears
(:mod:`planner.migration.pilot`) and kept encrypted with the recipe's version. The lead exports
them for the new CRM (every export audited), imports them there, and uploads what the new CRM
exports afterwards: it is compared with the pilot (:mod:`planner.migration.reconcile`), the
differences' values kept encrypted, their counts and kinds in clear. The lead explains each
difference; the gate asks for all of them explained (:mod:`planner.migration.gate`).

Only the lead (and a site admin) handle the records; other members see counts and kinds.
"""

from __future__ import annotations

import json
import re
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.core import audit
from planner.core.db import utcnow
from planner.core.encryption import DataKey
from planner.core.errors import Conflict, NotFound, ValidationError
from planner.core.i18n import counted, quoted
from planner.core.versioning import ensure_version
from planner.migration import batches
from planner.migration import pilot as sampling
from planner.migration import recipe as engine
from planner.migration import reconcile as matching
from planner.migration.gate import unexplained
from planner.migration.models import (
    MigrationPilot,
    MigrationRecipe,
    MigrationReconciliation,
    MigrationUpload,
)
from planner.migration.service import decrypted, lock, may_see_rows, require_rows, spooled
from planner.projects.access import Access

KINDS = ("csv", "xlsx")
ABSENT = "absent"  # a field the new CRM's export lacks: a difference of its own
MAX_EXPLANATION = 2000


def _context(pilot: MigrationPilot) -> str:
    return f"migration_pilot:{pilot.project_id}:{pilot.id}"


def _reconciliation_context(row: MigrationReconciliation) -> str:
    return f"migration_reconciliation:{row.project_id}:{row.id}"


def pilots(session: Session, project_id: int) -> list[MigrationPilot]:
    """The rollout's pilots, newest first (one statement)."""
    return list(
        session.scalars(
            select(MigrationPilot)
            .where(MigrationPilot.project_id == project_id)
            .order_by(MigrationPilot.id.desc())
        )
    )


def get_pilot(session: Session, project_id: int, pilot_id: int) -> MigrationPilot:
    """Pilot ``pilot_id`` of the rollout; NotFound else."""
    row = session.get(MigrationPilot, pilot_id)
    if row is None or row.project_id != project_id:
        raise NotFound("No such pilot batch.")
    return row


def fields_of(pilot: MigrationPilot) -> tuple[Any, ...]:
    """The fields of the recipe the pilot was made with."""
    return engine.parse(pilot.recipe_document).fields


def make_pilot(
    session: Session, access: Access, recipe_row: MigrationRecipe, key: DataKey, *, size: int
) -> MigrationPilot:
    """Clean the recipe's export with the recipe, choose ``size`` of its records so that every
    kind of problem found appears, and keep them encrypted (the lead only). ValidationError
    for a size out of range or a recipe reading a column the export lacks; Conflict without
    an export, or once it is purged."""
    require_rows(access)
    if not 1 <= size <= sampling.MAX_PILOT:
        raise ValidationError(
            f"A pilot holds 1 to {sampling.MAX_PILOT} records.", {"size": ["Out of range."]}
        )
    if recipe_row.upload_id is None:
        raise Conflict("Choose the export the recipe is for before making a pilot.")
    upload = session.get(MigrationUpload, recipe_row.upload_id)
    recipe = engine.parse(recipe_row.document)
    with decrypted(session, upload, key) as path:
        batch = batches.pilot_batch(
            recipe, path, upload.filename, size=size, seed=recipe_row.id, **upload.chosen
        )
    row = MigrationPilot(
        project_id=access.project.id,
        recipe_id=recipe_row.id,
        recipe_version=recipe_row.version,
        recipe_document=recipe_row.document,
        upload_id=upload.id,
        size=len(batch.records),
        rows=list(batch.rows),
        kinds=dict(batch.kinds),
        summary=batch.summary,
        created_by_name=access.user.name,
    )
    if not batch.records:
        raise ValidationError(
            "No record of the export passes the recipe: see the preview for why.",
            {"size": ["No record to choose."]},
        )
    # A purge of the export, or the recipe deleted, while the pilot was being made: on a
    # database that runs them side by side, the locks make one wait for the other.
    session.refresh(upload, with_for_update=True)
    lock(session, recipe_row, "The recipe was deleted meanwhile: no pilot is kept.")
    if upload.purged:
        raise Conflict(f"{quoted(upload.filename)} was purged meanwhile: no pilot is kept.")
    session.add(row)
    session.flush()
    row.sealed_records = key.seal(
        json.dumps(batch.records, ensure_ascii=False).encode(), _context(row)
    )
    session.flush()
    audit.log(
        session,
        access,
        "migration.pilot",
        row,
        f"pilot batch of {counted(row.size, 'record')} made from export "
        f"{quoted(upload.filename)} with version {row.recipe_version} of the recipe of "
        f"{recipe_row.entity}",
        after={"records": row.size, "rows": row.rows, "kinds": row.kinds},
    )
    return row


def records(access: Access, pilot: MigrationPilot, key: DataKey) -> list[dict[str, Any]]:
    """The pilot's records (the lead and a site admin only; Conflict once purged)."""
    require_rows(access)
    if pilot.sealed_records is None:
        raise Conflict("The pilot's records were purged with its export.")
    return json.loads(key.open(pilot.sealed_records, _context(pilot)))


def pilot_file(
    session: Session, access: Access, pilot: MigrationPilot, kind: str, key: DataKey
) -> bytes:
    """The pilot as a file for the new CRM's import (CSV or XLSX, formulas neutralised); the
    export is audited."""
    if kind not in KINDS:
        raise ValidationError("A pilot is exported as csv or xlsx.", {"format": ["csv or xlsx."]})
    data = sampling.export(fields_of(pilot), records(access, pilot, key), kind)  # type: ignore[arg-type]
    audit.log(
        session,
        access,
        "migration.export",
        pilot,
        f"pilot batch {pilot.id} exported as {kind.upper()}: {counted(pilot.size, 'record')}",
    )
    return data


def reconciliations(session: Session, pilot_id: int) -> list[MigrationReconciliation]:
    """The pilot's reconciliations, newest first (one statement)."""
    return list(
        session.scalars(
            select(MigrationReconciliation)
            .where(MigrationReconciliation.pilot_id == pilot_id)
            .order_by(MigrationReconciliation.id.desc())
        )
    )


def get_reconciliation(
    session: Session, project_id: int, reconciliation_id: int
) -> MigrationReconciliation:
    """Reconciliation ``reconciliation_id`` of the rollout; NotFound else."""
    row = session.get(MigrationReconciliation, reconciliation_id)
    if row is None or row.project_id != project_id:
        raise NotFound("No such reconciliation.")
    return row


def reconcile(
    session: Session,
    access: Access,
    pilot: MigrationPilot,
    stream: BinaryIO,
    filename: str,
    key: DataKey,
) -> MigrationReconciliation:
    """Compare the pilot with what the new CRM exported after importing it (the lead only):
    the counts and kinds kept in clear, the differences' values encrypted, the file itself not
    kept. Explanations given to an earlier reconciliation of the pilot carry over to the same
    differences. ValidationError, nothing stored, for a file that cannot be read, lacks the
    key's column or holds no record of the pilot."""
    require_rows(access)
    filename = (filename or "export").strip()[:255] or "export"
    recipe = engine.parse(pilot.recipe_document)
    pilot_records = records(access, pilot, key)
    with spooled(stream) as (path, size, sha256):
        if size == 0:
            raise ValidationError(f"{quoted(filename)} is empty.", {"file": ["The file is empty."]})
        source = session.get(MigrationUpload, pilot.upload_id)
        if source is not None and source.sha256 == sha256:
            same = (
                f"{quoted(filename)} is the old CRM's export the pilot was made from "
                f"({quoted(source.filename)}), not what the new CRM exported after importing "
                "the pilot. Nothing is kept."
            )
            raise ValidationError(same, {"file": [same]})
        found = matching.reconcile(
            pilot_records,
            recipe.fields,
            recipe.key,
            path,
            filename,
            region=recipe.region,
            secret=key.derive(f"reconcile:{pilot.project_id}"),
        )
    if found.pilot and not found.matched:  # a wrong file would supersede the right one
        wrong = (
            f"{quoted(filename)} holds no record of pilot batch {pilot.id}: none of its "
            f"{counted(found.returned, 'row')} has the key ({recipe.key}) of one of the "
            f"pilot's {counted(found.pilot, 'record')}, nor the name, e-mail or phone of one "
            "without a key. Is it what the new CRM exported after importing this pilot? "
            "Nothing is kept."
        )
        raise ValidationError(wrong, {"file": [wrong]})
    session.refresh(pilot, with_for_update=True)  # a purge meanwhile: see make_pilot
    if pilot.sealed_records is None:
        raise Conflict("The pilot's records were purged meanwhile: nothing is kept.")
    summary, details = found.as_dict(values=False), found.as_dict(values=True)
    _also_to_explain(found, summary, details)
    earlier = reconciliations(session, pilot.id)
    ids = {d["id"] for d in summary["differences"]}
    last = earlier[0].explanations or {} if earlier else {}  # the latest one only
    carried = {k: v for k, v in last.items() if k in ids}
    row = MigrationReconciliation(
        project_id=pilot.project_id,
        pilot_id=pilot.id,
        filename=filename,
        size=size,
        sha256=sha256,
        summary=summary,
        explanations=carried,
        created_by_name=access.user.name,
        updated_by_id=access.user.id,
    )
    session.add(row)
    session.flush()
    row.sealed_details = key.seal(
        json.dumps(details, ensure_ascii=False).encode(), _reconciliation_context(row)
    )
    session.flush()
    counts = ", ".join(f"{n} {kind}" for kind, n in summary["counts"].items() if n) or "none"
    audit.log(
        session,
        access,
        "migration.reconcile",
        row,
        f"pilot batch {pilot.id} reconciled with {quoted(filename)}: "
        f"{found.matched} of {found.pilot} records matched; differences: {counts}",
        after={"counts": summary["counts"], "matched": found.matched},
    )
    return row


def _also_to_explain(
    found: matching.Reconciliation, summary: dict[str, Any], details: dict[str, Any]
) -> None:
    """Add to both forms of the reconciliation what the gate also needs explained: each field
    the new CRM's export lacks (it was not compared) and the unexpected records beyond those
    listed (one difference for them all); then make every id unique (two pilot records of
    one key would share one), the same way in both."""
    extra = [
        {
            "id": f"absent-{name}",
            "kind": ABSENT,
            "field": name,
            "record": None,
            "rows": [],
            "reason": "the new CRM's export has no column for it: not compared",
        }
        for name in found.absent
    ]
    listed = sum(1 for d in found.differences if d.kind == matching.UNEXPECTED)
    if found.unexpected > listed:
        extra.append(
            {
                "id": f"unexpected-more-{found.unexpected - listed}",  # another count: anew
                "kind": matching.UNEXPECTED,
                "field": None,
                "record": None,
                "rows": [],
                "reason": f"{found.unexpected - listed} more records that are not in the pilot",
            }
        )
    seen: dict[str, int] = {}
    for form in (summary, details):
        form["differences"] = list(form["differences"]) + [dict(d) for d in extra]
        form["counts"] = dict(form["counts"]) | {ABSENT: len(found.absent)}
    for i, difference in enumerate(summary["differences"]):
        n = seen[difference["id"]] = seen.get(difference["id"], 0) + 1
        if n > 1:
            summary["differences"][i]["id"] = details["differences"][i]["id"] = (
                f"{difference['id']}-{n}"
            )


def explained_count(row: MigrationReconciliation) -> int:
    """How many of the reconciliation's differences have an explanation."""
    return len([e for e in (row.explanations or {}).values() if (e or {}).get("text")])


def delete_reconciliation(session: Session, access: Access, row: MigrationReconciliation) -> None:
    """Delete a reconciliation (the lead only: a wrong file uploaded, say), with its
    explanations; the pilot's previous reconciliation, if any, is then its latest again, for
    the gate and for the explanations the next one carries over. Audited."""
    require_rows(access)
    explained = explained_count(row)
    audit.log(
        session,
        access,
        "migration.reconciliation.delete",
        row,
        f"reconciliation {row.id} of pilot batch {row.pilot_id} ({quoted(row.filename)}) "
        f"deleted, with {counted(explained, 'explanation')}",
        before={"counts": (row.summary or {}).get("counts"), "explained": explained},
    )
    session.delete(row)
    session.flush()


def groups(row: MigrationReconciliation) -> list[dict[str, Any]]:
    """The unexplained differences by kind and field, in the order of their first, with how
    many each holds and their ids: what one explanation may cover at once; then, for a kind
    of several fields, the kind's whole (``every_field``: the fields the new CRM's export
    lacks, all for one reason, say)."""
    left = set(unexplained(row))
    found: dict[tuple[str, str | None], dict[str, Any]] = {}
    kinds: dict[str, dict[str, Any]] = {}
    for difference in (row.summary or {}).get("differences", []):
        if difference["id"] in left:
            kind, field = difference["kind"], difference.get("field")
            found.setdefault(
                (kind, field), {"kind": kind, "field": field, "ids": [], "every_field": False}
            )["ids"].append(difference["id"])
            whole = kinds.setdefault(
                kind, {"kind": kind, "field": None, "ids": [], "every_field": True, "fields": set()}
            )
            whole["ids"].append(difference["id"])
            whole["fields"].add(field)
    wholes = [k | {"fields": len(k["fields"])} for k in kinds.values() if len(k["fields"]) > 1]
    return list(found.values()) + wholes


def explain_group(
    session: Session,
    access: Access,
    row: MigrationReconciliation,
    kind: str,
    field: str | None,
    text: str,
    *,
    version: int | None,
    every_field: bool = False,
    key: DataKey,
) -> int:
    """Give one explanation to every unexplained difference of ``kind`` and ``field`` (the
    phones the new CRM writes its own way, say), or of every field of ``kind``; return how
    many. ValidationError for no text or a group with no unexplained difference left
    (someone explained them meanwhile: StaleEdit first, when ``version`` is behind)."""
    require_rows(access)
    ensure_version(session, row, version)
    if not (text or "").strip():
        raise ValidationError("Write the explanation.", {"text": ["Required."]})
    wanted = (kind, None if every_field else field or None, every_field)
    ids = next(
        (g["ids"] for g in groups(row) if (g["kind"], g["field"], g["every_field"]) == wanted),
        [],
    )
    if not ids:
        left = "No unexplained difference of that kind and field is left."
        raise ValidationError(left, {"group": [left]})
    explain_all(session, access, row, dict.fromkeys(ids, text), version=version, key=key)
    return len(ids)


_NUMBER = re.compile(r"\+?[0-9][0-9 ()./-]{5,}[0-9]")
_DIGITS = re.compile(r"[^0-9]")
QUOTE_MIN = 4  # a shorter value ("ООО", "Да") is no customer's data on its own


def _quoting(
    session: Session,
    access: Access,
    row: MigrationReconciliation,
    key: DataKey,
    texts: dict[str, str],
) -> dict[str, str]:
    """The texts that quote a customer, by difference id, each with the field it quotes: a
    value of a sensitive field (seed 001's classification) of a difference or of a pilot
    record, as text (case aside) or, for one of seven digits or more, as a number written any
    way ("+7 912 345-67-89" is "89123456789"). Each text is read once, whatever the values."""
    pilot = session.get(MigrationPilot, row.pilot_id)
    sensitive = {f.name for f in (fields_of(pilot) if pilot else ()) if f.sensitive}
    values: set[tuple[str, str]] = set()
    if row.sealed_details is not None:
        found = json.loads(key.open(row.sealed_details, _reconciliation_context(row)))
        recipe_key = found.get("key")
        for d in found.get("differences", []):
            if d.get("field") in sensitive:
                values |= {(d["field"], d.get(k)) for k in ("expected", "found")}
            if recipe_key in sensitive:
                values.add((recipe_key, d.get("key")))
    if pilot is not None and pilot.sealed_records is not None:
        for record in records(access, pilot, key):
            values |= {(name, record.get(name)) for name in sensitive}
    read = {
        i: (text.casefold(), {_DIGITS.sub("", n)[-7:] for n in _NUMBER.findall(text)})
        for i, text in texts.items()
    }
    quoting: dict[str, str] = {}
    for field, value in sorted(values, key=lambda pair: (pair[0], str(pair[1]))):
        if not isinstance(value, str) or len(value.strip()) < QUOTE_MIN:
            continue
        folded, tail = value.strip().casefold(), _DIGITS.sub("", value)
        for i, (text, numbers) in read.items():
            if i not in quoting and (folded in text or (len(tail) >= 7 and tail[-7:] in numbers)):
                quoting[i] = field
    return quoting


def details_for(access: Access, row: MigrationReconciliation, key: DataKey) -> dict[str, Any]:
    """The reconciliation as this member may see it: with the values for the lead and a site
    admin (until purged), counts, kinds and fields for everyone else."""
    if may_see_rows(access) and row.sealed_details is not None:
        return json.loads(key.open(row.sealed_details, _reconciliation_context(row)))
    return row.summary


def explain(
    session: Session,
    access: Access,
    row: MigrationReconciliation,
    difference_id: str,
    text: str,
    *,
    version: int | None,
    key: DataKey,
) -> MigrationReconciliation:
    """Record why a difference is as it is: :func:`explain_all` for one difference."""
    return explain_all(session, access, row, {difference_id: text}, version=version, key=key)


def explain_all(
    session: Session,
    access: Access,
    row: MigrationReconciliation,
    texts: dict[str, str],
    *,
    version: int | None,
    key: DataKey,
) -> MigrationReconciliation:
    """Record why differences are as they are, ``texts`` by difference id (the lead only;
    empty text takes an explanation back; the text one has already changes nothing, and
    nothing is audited for it). All or nothing: NotFound for a difference the reconciliation
    does not list, ValidationError for a text too long or one that quotes a customer's value
    (every member reads the explanations: see :func:`_quoting`), by its difference; StaleEdit
    if someone explained since ``version``."""
    require_rows(access)
    ensure_version(session, row, version)
    listed = {d["id"] for d in row.summary.get("differences", [])}
    if set(texts) - listed:
        raise NotFound("No such difference.")
    texts = {i: (text or "").strip() for i, text in texts.items()}
    if long := [i for i, text in texts.items() if len(text) > MAX_EXPLANATION]:
        raise ValidationError(
            f"An explanation has at most {MAX_EXPLANATION} characters.",
            {"text": ["Too long."]} | {i: ["Too long."] for i in long},
        )
    current = row.explanations or {}
    changed = {i: t for i, t in texts.items() if t and t != (current.get(i) or {}).get("text")}
    if changed and (quoting := _quoting(session, access, row, key, changed)):
        field = next(iter(quoting.values()))
        said = (
            "Every member of the rollout reads the explanations, so they must not quote the "
            f"customer's data: one quotes a value of the field {field}. Say why in other words."
        )
        raise ValidationError(said, {"text": [said]} | {i: [said] for i in quoting})
    explanations = dict(row.explanations or {})
    said = []
    for difference_id, text in texts.items():
        current = (explanations.get(difference_id) or {}).get("text") or ""
        if text == current:  # nothing to take back, or the same words again: nothing changes
            continue
        if text:
            explanations[difference_id] = {
                "text": text,
                "by": access.user.name,
                "at": utcnow().isoformat(),
            }
        else:
            explanations.pop(difference_id, None)
        said.append(
            f"difference {difference_id} of reconciliation {row.id} "
            + (
                "explained again"
                if text and current
                else "explained"
                if text
                else "no longer explained"
            )
        )
    if not said:
        return row
    row.explanations = explanations
    row.updated_by_id = access.user.id
    session.flush()
    for summary in said:  # the text is not kept in the trail: it may quote what it explains
        audit.log(session, access, "migration.explain", row, summary)
    return row
