"""The register as a spreadsheet: exported to CSV or XLSX, and read back for an import.

Pure: records in, bytes out, and bytes in, records out; no request, no session. The reading
follows the user's sheet rather than ours: headers are matched loosely ("Req ID", "MoSCoW",
"Source departments"), labels as well as values are understood ("Must have" is ``must``),
and what this module cannot place (an unknown priority, a key that is no key) is passed on as
written for the import to report row by row. The files themselves (formulas neutralised, zip
bombs refused, encodings and delimiters guessed) are :mod:`planner.core.sheets`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from planner.core.errors import ValidationError
from planner.core.i18n import quoted
from planner.core.sheets import cell_text, csv_bytes, read_table, xlsx_bytes
from planner.requirements.records import Priority, ReqStatus, ReqType, RequirementRecord

# The export's columns in order: (field of RequirementRecord, header).
REGISTER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("key", "Key"),
    ("title", "Title"),
    ("description", "Description"),
    ("type", "Type"),
    ("priority", "Priority"),
    ("module", "Module"),
    ("status", "Status"),
    ("acceptance_criterion", "Acceptance criterion"),
    ("goals", "Goals"),
    ("departments", "Source departments"),
)
SHEET_TITLE = "Requirements"
FORMATS = ("csv", "xlsx")


def _norm(text: str) -> str:
    """Text compared without case, spaces or punctuation: "Source departments" and "source
    departments:" are "sourcedepartments", "Won’t have" is "wonthave"."""
    return re.sub(r"[\W_]+", "", text.casefold())


# Headers the import understands, normalised: our own, the field names, common variants.
_HEADERS: dict[str, str] = {
    _norm(alias): field
    for field, aliases in {
        "key": ("key", "id", "req id", "requirement id", "requirement key", "req key", "ref"),
        "title": ("title", "requirement", "name", "summary", "requirement title"),
        "description": ("description", "details", "detail", "desc", "requirement description"),
        "type": ("type", "category", "requirement type", "req type", "kind"),
        "priority": ("priority", "moscow", "moscow priority"),
        "module": ("module", "crm module", "area"),
        "status": ("status", "state"),
        "acceptance_criterion": (
            "acceptance criterion",
            "acceptance criteria",
            "acceptance",
            "acceptance_criterion",
        ),
        "goals": ("goals", "goal", "business goal", "business goals"),
        "departments": (
            "source departments",
            "source department",
            "departments",
            "department",
        ),
    }.items()
    for alias in aliases
}
_HEADERS.update({_norm(field): field for field, _ in REGISTER_COLUMNS})

# Enum texts the import understands, normalised: the values and the human labels.
_VALUES: dict[str, dict[str, str]] = {
    "type": {
        "functional": ReqType.FUNCTIONAL,
        "nonfunctional": ReqType.NON_FUNCTIONAL,
        "data": ReqType.DATA,
        "integration": ReqType.INTEGRATION,
        "security": ReqType.SECURITY,
    },
    "priority": {
        "must": Priority.MUST,
        "musthave": Priority.MUST,
        "m": Priority.MUST,
        "should": Priority.SHOULD,
        "shouldhave": Priority.SHOULD,
        "s": Priority.SHOULD,
        "could": Priority.COULD,
        "couldhave": Priority.COULD,
        "c": Priority.COULD,
        "wont": Priority.WONT,
        "wonthave": Priority.WONT,
        "wonthavethistime": Priority.WONT,
        "w": Priority.WONT,
    },
    "status": {s.value: s for s in ReqStatus},
}


def export_register(records: Sequence[RequirementRecord], fmt: str) -> bytes:
    """The register as ``fmt`` ("csv" or "xlsx", a sheet titled "Requirements"): one row per
    record under the headers of :data:`REGISTER_COLUMNS`, enums as their values ("must",
    "non_functional"), goals and departments one per line in their cell; formulas neutralised.
    Raises ValidationError for another format."""
    if fmt not in FORMATS:
        raise ValidationError(f"No register export as {quoted(fmt)}: choose CSV or XLSX.")
    rows: list[list[Any]] = [[header for _, header in REGISTER_COLUMNS]]
    for r in records:
        rows.append(
            [
                r.key,
                r.title,
                r.description,
                r.type,
                r.priority,
                r.module,
                r.status,
                r.acceptance_criterion,
                "\n".join(r.goals),
                "\n".join(r.departments),
            ]
        )
    return xlsx_bytes([(SHEET_TITLE, rows)]) if fmt == "xlsx" else csv_bytes(rows)


@dataclass(frozen=True)
class RegisterSheet:
    """A register read from a sheet. ``records`` pairs each record with its row's number as the
    user sees it (the sheet's first row is 1); ``columns`` lists each header as found with the
    field it was read as (None: ignored); ``kind``, ``encoding`` and ``delimiter`` say how the
    file was read (see :class:`planner.core.sheets.Table`)."""

    records: list[tuple[int, RequirementRecord]]
    columns: list[tuple[str, str | None]]
    kind: str
    encoding: str | None = None
    delimiter: str | None = None


def _columns(header: list[Any]) -> tuple[list[tuple[str, str | None]], dict[str, int]]:
    """The header's columns (as found -> field or None) and field -> column index. Raises
    ValidationError for two columns read as one field and for a sheet without a title."""
    columns: list[tuple[str, str | None]] = []
    index: dict[str, int] = {}
    found: dict[str, list[str]] = {}
    for i, value in enumerate(header):
        text = cell_text(value)
        if not text:
            continue
        field = _HEADERS.get(_norm(text))
        columns.append((text, field))
        if field is not None:
            found.setdefault(field, []).append(text)
            index.setdefault(field, i)
    twice = {f: names for f, names in found.items() if len(names) > 1}
    if twice:
        raise ValidationError(
            "Two columns of the sheet say the same: "
            + "; ".join(
                " and ".join(quoted(n) for n in names) + f" are both the {f.replace('_', ' ')}"
                for f, names in twice.items()
            )
            + ". Keep one of each and upload it again."
        )
    if "title" not in index:
        headers = ", ".join(quoted(t) for t, _ in columns) or "none"
        raise ValidationError(f"The sheet has no Title column; its headers are: {headers}.")
    return columns, index


def _enum(field: str, value: Any) -> str:
    """An enum cell: its value when the text is a value or a label of one (any case, spaces or
    punctuation), "" when empty, else the text as written."""
    text = cell_text(value)
    return str(_VALUES[field].get(_norm(text), text)) if text else ""


def _lines(value: Any, *, semicolons: bool = False) -> tuple[str, ...]:
    """A cell of names, one per line (or per ";"), trimmed, blank ones dropped."""
    text = cell_text(value)
    parts = re.split(r"[\r\n;]+" if semicolons else r"[\r\n]+", text)
    return tuple(p.strip() for p in parts if p.strip())


def read_register(
    data: bytes, *, max_rows: int = 5000, filename: str | None = None
) -> RegisterSheet:
    """The records of an uploaded CSV or XLSX register, for an import to check and apply.

    The header is the first non-empty row; blank rows are skipped. Text is trimmed (and the
    apostrophe our export puts before a formula-like text taken off); keys are kept as written;
    type, priority and status are their values when the text is a value or a label ("Must
    have", "M", "Non-functional"), "" when empty (the import decides the default), else the text
    as written; goals are one per line, departments one per line or per ";". A column the sheet
    lacks reads as empty, and is left out of each record's ``fields`` (an import keeps what
    the register has there). ``filename`` only names the file in messages.

    Raises ValidationError for a file :func:`planner.core.sheets.read_table` refuses (not a
    spreadsheet, a zip bomb, more than ``max_rows`` rows), an empty sheet, a sheet without a
    title column, or two columns read as the same field.
    """
    table = read_table(data, max_rows=max_rows, filename=filename)
    start = next((i for i, row in enumerate(table.rows) if any(cell_text(v) for v in row)), None)
    if start is None:
        raise ValidationError("The sheet is empty: it has no header row and no requirement.")
    columns, index = _columns(table.rows[start])
    present = frozenset(index)
    records: list[tuple[int, RequirementRecord]] = []
    for number, row in enumerate(table.rows[start + 1 :], start=start + 2):
        if not any(cell_text(v) for v in row):
            continue

        def cell(field: str, row: list[Any] = row) -> Any:
            i = index.get(field)
            return row[i] if i is not None and i < len(row) else None

        records.append(
            (
                number,
                RequirementRecord(
                    key=cell_text(cell("key")),
                    title=cell_text(cell("title")),
                    description=cell_text(cell("description")),
                    type=_enum("type", cell("type")),
                    priority=_enum("priority", cell("priority")),
                    module=cell_text(cell("module")),
                    status=_enum("status", cell("status")),
                    acceptance_criterion=cell_text(cell("acceptance_criterion")),
                    goals=_lines(cell("goals")),
                    departments=_lines(cell("departments"), semicolons=True),
                    fields=present,
                ),
            )
        )
    return RegisterSheet(records, columns, table.kind, table.encoding, table.delimiter)
