"""Scoresheets and the matrix as XLSX and CSV, for the people who live in Excel.

- A reviewer downloads their scoresheet, fills it in offline and uploads it. An upload is
  validated as a whole: any row-level error (unknown vendor or criterion, a score that is not
  a whole number 0..5, another reviewer's sheet) is reported and nothing is imported; a clean
  upload goes through :func:`planner.vendors.service.put_scores` in one transaction, so
  uploading the same file twice changes nothing.
- Every exported cell that a spreadsheet would take for a formula (starting with = + - @, a
  tab or a carriage return) is neutralised with a leading apostrophe.
- Reading and writing the files is :mod:`planner.core.sheets`: a zip bomb is refused before it
  is unpacked, XLSX is parsed through defusedxml, CSV text need not be UTF-8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from planner.core.accounts.models import User
from planner.core.errors import ValidationError
from planner.core.i18n import counted, quoted
from planner.core.sheets import FORMULA_START as FORMULA_START  # re-exported: it used to live here
from planner.core.sheets import cell_text, csv_bytes, read_table, xlsx_bytes
from planner.core.sheets import neutralise as neutralise  # re-exported: it used to live here
from planner.projects.access import Access
from planner.vendors import service
from planner.vendors.schemas import SCORES, ScoreInput, score_inputs

SCORESHEET_COLUMNS = [
    "reviewer",
    "vendor_id",
    "vendor",
    "criterion_id",
    "criterion",
    "score",
    "comment",
]
MAX_ROWS = 20_000


def scoresheet_rows(session: Session, access: Access, reviewer: User) -> list[list[Any]]:
    """The reviewer's sheet: every vendor (not recused) × criterion scored by reviewers."""
    pid = access.project.id
    recused = {r.vendor_id for r in service.recusals(session, pid) if r.reviewer_id == reviewer.id}
    own = service.own_scores(session, pid, reviewer.id)
    rows: list[list[Any]] = [SCORESHEET_COLUMNS]
    crits = [c for c in service.criteria(session, pid) if not c.is_price]
    for v in service.vendors(session, pid):
        if v.id in recused:
            continue
        for c in crits:
            s = own.get((v.id, c.id))
            rows.append(
                [
                    reviewer.username,
                    v.id,
                    v.name,
                    c.id,
                    c.name,
                    s.score if s else None,
                    s.comment if s else "",
                ]
            )
    return rows


def export_scoresheet(session: Session, access: Access, reviewer: User, fmt: str) -> bytes:
    rows = scoresheet_rows(session, access, reviewer)
    return xlsx_bytes([("Scoresheet", rows)]) if fmt == "xlsx" else csv_bytes(rows)


@dataclass(frozen=True)
class RowError:
    row: int
    message: str


class ImportRejected(ValidationError):
    """The upload has row-level errors; nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            f"{counted(len(errors), 'problem')} in the file; nothing was imported.",
            {f"row {e.row}": [e.message] for e in errors[:200]},
        )
        self.row_errors = errors


def _int_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = cell_text(value)
    return int(text) if text.isdigit() else None


def import_scoresheet(session: Session, access: Access, data: bytes) -> int:
    """Validate the whole file, then save it in one go. Returns the number of changed scores."""
    rows = read_table(data, max_rows=MAX_ROWS).rows
    if not rows:
        raise ValidationError("The file is empty.")
    header = [cell_text(h).lower() for h in rows[0]]
    missing = [c for c in ("reviewer", "vendor_id", "criterion_id", "score") if c not in header]
    if missing:
        raise ValidationError(
            "The first row must be the scoresheet's header; missing columns: "
            + ", ".join(missing)
            + ". Download a fresh scoresheet to start from."
        )
    col = {name: header.index(name) for name in header if name}
    pid = access.project.id
    vendor_ids = {v.id for v in service.vendors(session, pid)}
    crits = {c.id: c for c in service.criteria(session, pid)}
    errors: list[RowError] = []
    filled: list[tuple[str, dict[str, str]]] = []
    entries: list[ScoreInput] = []
    seen: dict[tuple[int, int], int] = {}
    for n, row in enumerate(rows[1:], start=2):

        def cell(name: str, row: list[Any] = row) -> Any:
            i = col.get(name)
            return row[i] if i is not None and i < len(row) else None

        if all(cell_text(v) == "" for v in row):
            continue
        who = cell_text(cell("reviewer"))
        if who.casefold() != access.user.username.casefold():
            errors.append(RowError(n, f"this row belongs to reviewer {quoted(who)}, not to you"))
            continue
        vid, cid = _int_id(cell("vendor_id")), _int_id(cell("criterion_id"))
        if vid is None or vid not in vendor_ids:
            errors.append(RowError(n, f"unknown vendor {quoted(cell_text(cell('vendor_id')))}"))
            continue
        if cid is None or cid not in crits:
            errors.append(
                RowError(n, f"unknown criterion {quoted(cell_text(cell('criterion_id')))}")
            )
            continue
        if crits[cid].is_price:
            errors.append(RowError(n, "price is scored by formula, not by reviewers"))
            continue
        raw = cell("score")
        if raw is None or cell_text(raw) == "":
            continue  # left blank: not scored yet
        if (vid, cid) in seen:
            errors.append(RowError(n, f"the same vendor and criterion as row {seen[(vid, cid)]}"))
            continue
        seen[(vid, cid)] = n
        filled.append(
            (
                f"row {n}",
                {
                    "vendor_id": str(vid),
                    "criterion_id": str(cid),
                    "score": cell_text(raw),
                    "comment": cell_text(cell("comment")),
                },
            )
        )
    # The same row form as the scoresheet page and the API.
    try:
        entries = score_inputs(SCORES.from_rows(filled))
    except ValidationError as exc:
        for where, messages in (exc.errors or {}).items():
            row_no, _, field = where.partition(".")
            got = next((r[field] for w, r in filled if w == row_no and field in r), "")
            detail = f" (got {quoted(got)})" if field == "score" else ""
            errors.append(RowError(int(row_no.removeprefix("row ")), f"{messages[0]}{detail}"))
        errors.sort(key=lambda e: e.row)
    if errors:
        raise ImportRejected(errors)
    if not entries:
        raise ValidationError("The file has no scores filled in.")
    return service.put_scores(session, access, entries)


def matrix_rows(session: Session, access: Access) -> list[tuple[str, list[list[Any]]]]:
    """The matrix for export: results, criterion scores, and the raw scores."""
    result = service.evaluation_for(session, access)
    crits = result["criteria"]
    results: list[list[Any]] = [["rank", "vendor", "weighted_total", "knocked_out", "incomplete"]]
    for v in result["vendors"]:
        results.append(
            [
                v["rank"],
                v["name"],
                None if v["weighted_total"] is None else round(v["weighted_total"], 2),
                "; ".join(v["knocked_out"]),
                len(v["incomplete"]),
            ]
        )
    means: list[list[Any]] = [["vendor"] + [f"{c['name']} (w={c['weight']:g})" for c in crits]]
    for v in result["vendors"]:
        means.append(
            [v["name"]]
            + [
                None
                if v["criterion_scores"].get(str(c["id"])) is None
                else round(v["criterion_scores"][str(c["id"])], 4)
                for c in crits
            ]
        )
    raw: list[list[Any]] = [["reviewer", "department", "vendor", "criterion", "score", "comment"]]
    board = service.load_board(session, access.project.id)
    names = {v.id: v.name for v in board.vendors}
    cnames = {c.id: c.name for c in board.criteria}
    users = {u.id: u.username for u, _ in service.reviewers(session, access.project.id)}
    for s in sorted(board.scores, key=lambda s: (s.reviewer_id, s.vendor_id, s.criterion_id)):
        raw.append(
            [
                users.get(s.reviewer_id, s.reviewer_id),
                s.department,
                names.get(s.vendor_id),
                cnames.get(s.criterion_id),
                s.score,
                s.comment,
            ]
        )
    return [("Results", results), ("Criterion scores", means), ("Raw scores", raw)]


def export_matrix(session: Session, access: Access, fmt: str) -> bytes:
    sheets = matrix_rows(session, access)
    if fmt == "xlsx":
        return xlsx_bytes(sheets)
    rows: list[list[Any]] = []
    for title, part in sheets:
        rows.append([f"# {title}"])
        rows.extend(part)
        rows.append([])
    return csv_bytes(rows)
