"""Spreadsheet plumbing: formulas neutralised on the way out, any CSV or XLSX a user's spreadsheet
saves read on the way in, and files that are no spreadsheet (or a zip bomb) refused clearly."""

from __future__ import annotations

import csv
import io
import struct
import zipfile
import zlib

import openpyxl
import pytest
from openpyxl import Workbook, load_workbook

from planner.core.errors import ValidationError
from planner.core.sheets import (
    FORMULA_START,
    cell_text,
    csv_bytes,
    neutralise,
    read_table,
    xlsx_bytes,
)

FORMULAS = [start + "1+2" for start in FORMULA_START] + ['=HYPERLINK("http://evil","x")']


def workbook(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_neutralise_quotes_formula_starts_only():
    assert [neutralise(f) for f in FORMULAS] == ["'" + f for f in FORMULAS]
    for harmless in ("a=b", "Sales", "", "'quoted", 5, -5, 2.5, None):
        assert neutralise(harmless) == harmless


def test_csv_export_neutralises_every_formula_start():
    data = csv_bytes([["title"], *[[f] for f in FORMULAS], [None, 3]])
    assert data.startswith("\ufeff".encode()) and b"\r\n" in data
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [r[0] for r in rows[1:-1]] == ["'" + f for f in FORMULAS]
    assert rows[-1] == ["", "3"]
    assert "\n=" not in text and ",=" not in text
    table = read_table(data, max_rows=100)
    assert [cell_text(r[0]) for r in table.rows[1:-1]] == FORMULAS


def test_xlsx_export_neutralises_every_formula_start():
    data = xlsx_bytes([("Sheet", [["title"], *[[f] for f in FORMULAS], [4, -5, "a\x01b"]])])
    ws = load_workbook(io.BytesIO(data)).active
    cells = [row[0] for row in ws.iter_rows(min_row=2, max_row=len(FORMULAS) + 1)]
    assert [c.value for c in cells] == ["'" + f for f in FORMULAS]
    assert {c.data_type for c in cells} == {"s"}  # text, never a formula
    assert [c.value for c in ws[len(FORMULAS) + 2]] == [4, -5, "a\ufffdb"]
    assert ws.freeze_panes == "A2"
    table = read_table(data, max_rows=100)
    assert table.kind == "xlsx" and table.encoding is None and table.delimiter is None
    assert [cell_text(r[0]) for r in table.rows[1:-1]] == FORMULAS


def test_cell_text():
    assert cell_text(None) == ""
    assert cell_text(4.0) == "4" and cell_text(4.5) == "4.5" and cell_text(7) == "7"
    assert cell_text("'=SUM(A1)") == "=SUM(A1)" and cell_text(" '@sales ") == "@sales"
    # only the apostrophe our neutralising put in front of a formula goes
    assert cell_text("'Tis the season") == "'Tis the season"


ROWS = [
    ["Key", "Title", "Description"],
    ["REQ-001", "Client card", 'Line one\nline "two", with a comma'],
    ["REQ-002", "Pipeline | stages; forecast", "Tab\there"],
]
TEXTS = {
    "utf-8-sig": ["Fișa clientului în CRM", "客户卡片", "כרטיס לקוח", "Größe prüfen"],
    "utf-16": ["Fișa clientului în CRM", "客户卡片", "כרטיס לקוח", "Größe prüfen"],
    "cp1251": [
        "Карточка клиента с историей обращений",
        "Воронка продаж и прогноз выручки по менеджерам",
        "Журнал жалоб с контролем сроков ответа",
    ],
    "cp1252": [
        "Kundenkarte mit Gesprächsverlauf für Außendienst",
        "Prüfung der Überfälligkeiten, Größe und Maße",
        "Fiche client, télécharger les données de l'équipe",
    ],
}


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("encoding", list(TEXTS))
def test_csv_in_every_encoding_and_delimiter(encoding, delimiter):
    rows = [list(r) for r in ROWS] + [
        [f"REQ-{10 + i}", t, t] for i, t in enumerate(TEXTS[encoding])
    ]
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    table = read_table(buf.getvalue().encode(encoding), max_rows=100)
    assert table.rows == rows  # the quoted newline, quotes and other delimiters kept
    assert table.kind == "csv" and table.delimiter == delimiter
    expected = {
        "utf-8-sig": {"utf-8"},
        "utf-16": {"utf_16"},
        "cp1251": {"cp1251"},
        "cp1252": {"cp1252", "cp1250", "latin_1", "iso8859_15"},
    }[encoding]
    assert table.encoding in expected


def test_csv_without_bom_and_with_blank_lines():
    data = "Key;Title\r\n\r\nREQ-1;Größe, Maße\r\n\r\n\r\n".encode()
    table = read_table(data, max_rows=1)
    assert table.rows == [["Key", "Title"], [], ["REQ-1", "Größe, Maße"]]
    assert (table.encoding, table.delimiter) == ("utf-8", ";")


def test_excel_sep_line_names_the_delimiter_and_is_no_row():
    table = read_table(b"sep=;\r\nKey;Title\r\nREQ-1;a,b\r\n", max_rows=5)
    assert table.rows == [["Key", "Title"], ["REQ-1", "a,b"]] and table.delimiter == ";"


def test_one_column_and_header_only_sheets():
    assert read_table(b"Title\nA\nB\n", max_rows=5).rows == [["Title"], ["A"], ["B"]]
    assert read_table(b"Key|Title\n", max_rows=5).delimiter == "|"
    assert read_table(b"", max_rows=5).rows == []


def test_utf16_without_bom_is_not_taken_for_nul_bytes():
    rows = [["Key", "Title"]] + [[f"REQ-{i}", f"Requirement number {i}"] for i in range(20)]
    text = "".join(",".join(r) + "\r\n" for r in rows)
    assert read_table(text.encode("utf-16-le"), max_rows=100).rows == rows


def test_nul_inside_csv_text_is_refused_with_its_line():
    with pytest.raises(ValidationError, match="NUL character on line 3"):
        read_table(b"Key,Title\nREQ-1,fine\nREQ-2,bro\x00ken\n", max_rows=10)


def test_too_many_rows_is_refused_naming_the_limit():
    csv_data = ("Key,Title\n" + "".join(f"REQ-{i},T{i}\n" for i in range(4))).encode()
    assert len(read_table(csv_data, max_rows=4).rows) == 5
    with pytest.raises(ValidationError, match="more than 3 rows"):
        read_table(csv_data, max_rows=3)
    xlsx = workbook([["Key", "Title"]] + [[f"REQ-{i}", f"T{i}"] for i in range(4)])
    assert len(read_table(xlsx, max_rows=4).rows) == 5
    with pytest.raises(ValidationError, match="at most 3 rows"):
        read_table(xlsx, max_rows=3, filename="register.xlsx")


def test_xlsx_keeps_row_positions_and_drops_trailing_blank_rows():
    wb = Workbook()
    ws = wb.active
    ws["A2"], ws["B2"] = "Key", "Title"
    ws["A4"], ws["B4"], ws["C4"] = "REQ-1", 4.0, None
    ws["A9"] = None
    ws["B9"].value = "  "
    buf = io.BytesIO()
    wb.save(buf)
    table = read_table(buf.getvalue(), max_rows=1)
    assert table.rows == [[], ["Key", "Title"], [], ["REQ-1", 4]]


def test_a_sheet_spread_over_a_million_blank_rows_is_refused():
    wb = Workbook()
    wb.active["A1"], wb.active["A1048576"] = "Title", "far below"
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ValidationError, match="more than 1000 blank rows"):
        read_table(buf.getvalue(), max_rows=10)
    text = "Title\n" + "\n" * 1000 + "x\n" + ",\n" * 5000
    assert read_table(text.encode(), max_rows=10).rows[-1] == ["x"]
    with pytest.raises(ValidationError, match="content is row 1003"):
        read_table(("Title\n" + ",\n" * 1001 + "x\n").encode(), max_rows=10)


def bomb(size: int, member: str = "xl/worksheets/sheet1.xml", level: int = 9) -> bytes:
    """A zip whose one member unpacks to ``size`` bytes of spaces."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open(member, "w", force_zip64=True) as f:
            chunk = b" " * (4 * 1024 * 1024)
            for _ in range(size // len(chunk)):
                f.write(chunk)
    return buf.getvalue()


def forbid_unpacking(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, fail the test if a workbook is opened or a member of a zip is read."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was unpacked")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)  # sheets imports it when reading
    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)


def test_xlsx_zip_bomb_is_refused_without_unpacking_it(monkeypatch):
    data = bomb(128 * 1024 * 1024)
    assert len(data) < 1024 * 1024
    forbid_unpacking(monkeypatch)
    with pytest.raises(ValidationError, match="unpacks to more than 50 MB") as err:
        read_table(data, max_rows=10, filename="register.xlsx")
    assert "“register.xlsx”" in err.value.detail


def test_a_part_packed_too_tightly_is_refused_without_unpacking_it(monkeypatch):
    data = bomb(8 * 1024 * 1024)
    forbid_unpacking(monkeypatch)
    with pytest.raises(ValidationError, match="packed more than 200 to 1"):
        read_table(data, max_rows=10)


def test_a_lowered_limit_refuses_an_ordinary_workbook():
    data = workbook([["Key", "Title"], ["REQ-1", "x" * 5000]])
    with pytest.raises(ValidationError, match="unpacks to more than 4 KB"):
        read_table(data, max_rows=10, max_uncompressed=4096)


def png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 30 /Filter /FlateDecode >>\nstream\n"
    + zlib.compress(b"BT /F1 12 Tf (Requirements) Tj ET")
    + b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (PDF, "is a PDF document, not a spreadsheet"),
        (png(), "is a PNG image, not a spreadsheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), r"old Excel \(.xls\)"),
        (bytes(range(256)) * 8, "neither an XLSX workbook nor CSV text"),
        (b"PK\x03\x04not really a zip", "not a readable XLSX workbook"),
        (bomb(0)[:-30], "not a readable XLSX workbook"),
    ],
)
def test_files_that_are_no_spreadsheet_are_refused(data, message):
    with pytest.raises(ValidationError, match=message):
        read_table(data, max_rows=10)


def test_a_workbook_with_a_broken_sheet_is_refused():
    good = workbook([["Key", "Title"], ["REQ-1", "x"]])
    src = zipfile.ZipFile(io.BytesIO(good))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body[: len(body) // 2]  # cut in the middle of its XML
            out.writestr(info.filename, body)
    with pytest.raises(ValidationError, match="not a readable XLSX workbook"):
        read_table(buf.getvalue(), max_rows=10)
