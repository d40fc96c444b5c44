"""The register as CSV and XLSX: exported with formulas neutralised, read back as the same
records, and read from the sheets people make themselves (their headers, their labels)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from planner.core.errors import ValidationError
from planner.core.sheets import FORMULA_START
from planner.requirements.records import RequirementRecord
from planner.requirements.sheets import REGISTER_COLUMNS, export_register, read_register

RECORDS = [
    RequirementRecord(
        key="REQ-001",
        title="Fișa clientului: istoric și sarcini",
        description="Agentul vede toate apelurile.\nȘi reclamațiile deschise.",
        type="non_functional",
        priority="must",
        module="Customer records",
        status="accepted",
        acceptance_criterion="客户卡片在两秒内打开",
        goals=("Creștem vânzările cu 10%", "客户满意度达到百分之九十"),
        departments=("Vânzări", "מכירות"),
    ),
    RequirementRecord(
        key="REQ-002",
        title='=HYPERLINK("http://evil.example","click")',
        description="+1 call per lead",
        type="integration",
        priority="could",
        module="@sales",
        status="proposed",
        acceptance_criterion="-5 days before the deadline",
        goals=("=1+1", "@everyone"),
        departments=("-ops",),
    ),
    RequirementRecord(
        key="REQ-010",
        title="Größenprüfung für den Außendienst",
        description="דרישה חדשה מהמחלקה",
        type="security",
        priority="wont",
        module="",
        status="deferred",
    ),
    RequirementRecord(key="", title="+1 call", type="data", priority="should", status="rejected"),
]
HEADERS = [header for _, header in REGISTER_COLUMNS]


def test_register_columns_in_order():
    assert [field for field, _ in REGISTER_COLUMNS] == [
        "key",
        "title",
        "description",
        "type",
        "priority",
        "module",
        "status",
        "acceptance_criterion",
        "goals",
        "departments",
    ]
    assert HEADERS[-2:] == ["Goals", "Source departments"]


def test_csv_round_trip_neutralises_formulas_and_gives_them_back():
    data = export_register(RECORDS, "csv")
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == HEADERS
    assert rows[2][1] == "'" + RECORDS[1].title
    assert rows[2][2] == "'+1 call per lead" and rows[2][5] == "'@sales"
    assert rows[2][7] == "'-5 days before the deadline" and rows[2][8] == "'=1+1\n@everyone"
    assert rows[1][4] == "must" and rows[1][3] == "non_functional"
    assert rows[1][9] == "Vânzări\nמכירות"
    assert not any(cell.startswith(FORMULA_START) for row in rows for cell in row)
    sheet = read_register(data)
    assert sheet.records == [(n, r) for n, r in zip(range(2, 6), RECORDS, strict=True)]
    assert (sheet.kind, sheet.encoding, sheet.delimiter) == ("csv", "utf-8", ",")
    assert sheet.columns == [(header, field) for field, header in REGISTER_COLUMNS]


def test_xlsx_round_trip_neutralises_formulas_and_gives_them_back():
    data = export_register(RECORDS, "xlsx")
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Requirements"]
    values = [[c.value for c in row] for row in wb.active.iter_rows()]
    assert values[0] == HEADERS
    assert values[2][1] == "'" + RECORDS[1].title
    assert values[4][1] == "'+1 call"
    assert all(
        not (isinstance(v, str) and v.startswith(FORMULA_START)) for row in values for v in row
    )
    assert all(c.data_type != "f" for row in wb.active.iter_rows() for c in row)
    sheet = read_register(data)
    assert sheet.records == [(n, r) for n, r in zip(range(2, 6), RECORDS, strict=True)]
    assert (sheet.kind, sheet.encoding, sheet.delimiter) == ("xlsx", None, None)


def test_export_refuses_another_format():
    with pytest.raises(ValidationError, match="choose CSV or XLSX"):
        export_register(RECORDS, "pdf")


def csv_of(rows: list[list[str]], delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    return buf.getvalue().encode()


def test_variant_headers_and_labels_are_understood():
    data = csv_of(
        [
            [
                " ID ",
                "Requirement",
                "MoSCoW",
                "Department",
                "Category",
                "Acceptance criteria",
                "Goal",
                "Notes",
                "",
            ],
            ["REQ-7", " Export leads ", "Must have", "Sales; Marketing\n", "Non-functional"]
            + ["Done when exported", "Grow sales\n\nKeep clients", "ignored", "x"],
            ["", "New one", "W", "", "Nonfunctional", "", "", "", ""],
            ["req-8", "Third", " SHOULD ", "", "FUNCTIONAL", "", "", "", ""],
            ["REQ-9", "Fourth", "Won’t have this time", "", "Data", "", "", "", ""],
            ["REQ-10", "Fifth", "C", "", "Integration", "", "", "", ""],
            ["REQ-11", "Sixth", "Urgent", "", "Security", "", "", "", ""],
        ],
        delimiter=";",
    )
    sheet = read_register(data)
    assert sheet.delimiter == ";"
    assert sheet.columns == [
        ("ID", "key"),
        ("Requirement", "title"),
        ("MoSCoW", "priority"),
        ("Department", "departments"),
        ("Category", "type"),
        ("Acceptance criteria", "acceptance_criterion"),
        ("Goal", "goals"),
        ("Notes", None),
    ]
    (n, first), *rest = sheet.records
    assert n == 2
    assert first == RequirementRecord(
        key="REQ-7",
        title="Export leads",
        type="non_functional",
        priority="must",
        status="",  # no status column: the import decides
        acceptance_criterion="Done when exported",
        goals=("Grow sales", "Keep clients"),
        departments=("Sales", "Marketing"),
    )
    assert [(n, r.key, r.priority, r.type) for n, r in rest] == [
        (3, "", "wont", "non_functional"),
        (4, "req-8", "should", "functional"),
        (5, "REQ-9", "wont", "data"),
        (6, "REQ-10", "could", "integration"),
        (7, "REQ-11", "Urgent", "security"),  # as written: the import reports it
    ]


def test_statuses_field_names_and_empty_enums():
    data = csv_of(
        [
            ["key", "title", "acceptance_criterion", "departments", "status", "priority", "type"],
            ["REQ-1", "A", "ok", "Sales\nService", "Accepted", "", ""],
            ["REQ-2", "B", "", "", "rejected", "M", "non_functional"],
            ["REQ-3", "C", "", "", "Deferred", "Could have", "data"],
            ["REQ-4", "D", "", "", "PROPOSED", "Should", ""],
        ]
    )
    records = [r for _, r in read_register(data).records]
    assert [(r.status, r.priority, r.type) for r in records] == [
        ("accepted", "", ""),
        ("rejected", "must", "non_functional"),
        ("deferred", "could", "data"),
        ("proposed", "should", ""),
    ]
    assert records[0].departments == ("Sales", "Service")
    assert records[0].acceptance_criterion == "ok"


def test_row_numbers_are_the_ones_the_user_sees():
    data = b'\r\n\r\nKey,Title\r\nREQ-1,A\r\n,\r\nREQ-2,"two\r\nlines"\r\nREQ-3,C\r\n\r\n'
    sheet = read_register(data)
    assert [(n, r.key) for n, r in sheet.records] == [(4, "REQ-1"), (6, "REQ-2"), (7, "REQ-3")]
    assert sheet.records[1][1].title == "two\r\nlines"
    wb = Workbook()
    ws = wb.active
    ws["B3"], ws["C3"] = "Title", "Priority"
    ws["B5"], ws["C5"] = "First", "Must have"
    ws["B6"], ws["C6"] = 12.0, 3
    buf = io.BytesIO()
    wb.save(buf)
    sheet = read_register(buf.getvalue())
    assert [(n, r.title, r.priority) for n, r in sheet.records] == [
        (5, "First", "must"),
        (6, "12", "3"),
    ]


def test_a_sheet_without_a_title_column_is_refused():
    with pytest.raises(ValidationError, match="no Title column; its headers are: “Key”, “Notes”"):
        read_register(csv_of([["Key", "Notes"], ["REQ-1", "x"]]))


def test_two_headers_for_one_field_are_refused():
    with pytest.raises(ValidationError, match="“Title” and “Name” are both the title"):
        read_register(csv_of([["Key", "Title", "Name"], ["REQ-1", "a", "b"]]))
    with pytest.raises(ValidationError, match="“Goals” and “Goal” are both the goals"):
        read_register(csv_of([["Title", "Goals", "Goal"], ["a", "b", "c"]]))


def test_an_empty_sheet_and_too_many_rows_are_refused():
    with pytest.raises(ValidationError, match="empty"):
        read_register(b"\r\n,,\r\n")
    rows = [["Title"]] + [[f"R{i}"] for i in range(4)]
    assert len(read_register(csv_of(rows), max_rows=4).records) == 4
    with pytest.raises(ValidationError, match="more than 3 rows"):
        read_register(csv_of(rows), max_rows=3)
