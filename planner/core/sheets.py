"""Spreadsheets in and out, for every area whose people live in Excel: the plumbing only.

Writing: :func:`xlsx_bytes` and :func:`csv_bytes` turn rows into a file. Every text cell that a
spreadsheet would take for a formula (starting with = + - @, a tab or a carriage return) is
neutralised with a leading apostrophe (:func:`neutralise`); :func:`cell_text` takes it off again
when the file comes back.

Reading: :func:`read_table` turns an upload into rows, whatever the user's spreadsheet saved:

- XLSX: the zip's directory is checked before anything is unpacked (a zip bomb is refused
  without decompressing it: zipfile never unpacks more than a member's declared size), then
  openpyxl reads the first worksheet in read-only mode; it parses the XML through defusedxml.
- CSV: UTF-8 (with or without a byte order mark), else charset-normalizer's best guess (UTF-16,
  Windows-1251, Windows-1252...); the delimiter is one of , ; tab | (Excel's "sep=" line, or
  csv.Sniffer checked against the header line); quoted fields keep their embedded newlines.

What the rows mean (headers, ids, scores) is the business of the area that reads them.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from charset_normalizer import from_bytes

from planner.core.errors import ValidationError
from planner.core.i18n import quoted

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DELIMITERS = (",", ";", "\t", "|")
MB = 1024 * 1024
MAX_UNCOMPRESSED = 50 * MB
MAX_COLUMNS = 256
MIN_BLANK_ROWS = 1000  # blank rows allowed between rows with content, at least
# A worksheet's XML compresses well, but not like this: more than 200 to 1 in a part over 1 MB
# is a zip bomb, not a spreadsheet.
MAX_RATIO = 200
RATIO_FROM = MB
EXCEL_MAX_ROWS = 1_048_576  # the most rows a worksheet has: bounds a sheet that skips row numbers

_ZIP = b"PK\x03\x04"
_SEP_LINE = re.compile(r"sep=([,;\t|])\r?\n")
_OLD_EXCEL = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # also a password-protected .xlsx
_BINARY = {  # signatures of files people upload by mistake
    b"%PDF-": "a PDF document",
    b"\x89PNG\r\n\x1a\n": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
}
# What zipfile (and, with openpyxl's InvalidFileException, openpyxl) raise on a damaged or
# hostile workbook: its XML (ParseError is a
# SyntaxError, defusedxml's refusals are ValueErrors), its zip, its structure.
_UNREADABLE_ALSO = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    KeyError,
    IndexError,
    AttributeError,
    TypeError,
    ValueError,
    OSError,
    SyntaxError,
    RuntimeError,  # an encrypted member
    NotImplementedError,  # a compression method zipfile lacks
)


def neutralise(value: Any) -> Any:
    """A cell value safe to open in a spreadsheet: text that could start a formula (see
    :data:`FORMULA_START`) gets a leading apostrophe; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def cell_text(value: Any) -> str:
    """A cell read from a sheet as trimmed text: "" for an empty cell, a whole number without
    its ".0" (spreadsheets store 4 as 4.0), and without the leading apostrophe that
    :func:`neutralise` put in front of text that would start a formula ("'=SUM" is "=SUM";
    "'Tis" stays as it is). Raises nothing."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def _xlsx_cell(value: Any, illegal: re.Pattern[str]) -> Any:
    """A value a worksheet can hold: control characters (which XML 1.0 forbids, ``illegal``)
    become U+FFFD, then formulas are neutralised."""
    if isinstance(value, str):
        value = illegal.sub("\ufffd", value)
    return neutralise(value)


def xlsx_bytes(sheets: list[tuple[str, list[list[Any]]]]) -> bytes:
    """An XLSX workbook of ``(title, rows)`` sheets in order: cells neutralised, characters XML
    forbids as U+FFFD, titles cut to Excel's 31 characters, the header row frozen. Raises
    ValueError for a title Excel forbids (with one of ``[]:*?/\\``)."""
    # openpyxl is imported when a workbook is made or read, not with the app (30 MB a process)
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(ILLEGAL_CHARACTERS_RE.sub("", title)[:31])
        for row in rows:
            ws.append([_xlsx_cell(v, ILLEGAL_CHARACTERS_RE) for v in row])
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list[Any]]) -> bytes:
    """CSV as Excel opens it without asking: UTF-8 with a byte order mark, CRLF line ends,
    every cell neutralised, None as an empty cell. Raises nothing."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


@dataclass(frozen=True)
class Table:
    """The rows of an uploaded sheet, as the user sees them: ``rows[0]`` is the sheet's row 1,
    blank rows included (as ``[]``) except at the end. Cells are strings from CSV,
    openpyxl's values (str, int, float, datetime, bool, None) from XLSX. ``encoding`` and
    ``delimiter`` say how a CSV was read (None for XLSX)."""

    rows: list[list[Any]]
    kind: str  # "xlsx" or "csv"
    encoding: str | None = None
    delimiter: str | None = None


def read_table(
    data: bytes,
    *,
    max_rows: int,
    max_uncompressed: int = MAX_UNCOMPRESSED,
    max_columns: int = MAX_COLUMNS,
    filename: str | None = None,
) -> Table:
    """The rows of an uploaded XLSX workbook (its first worksheet) or CSV text.

    At most ``max_rows`` data rows (non-blank rows after the first non-blank one, the header);
    cells right of column ``max_columns`` are not read. ``filename`` only names the file in
    messages. Raises ValidationError for: a file that is neither XLSX nor CSV text (a PDF, an
    image, an old .xls), an XLSX that unpacks to more than ``max_uncompressed`` bytes or holds a
    part compressed more than 200 to 1 (refused before anything is unpacked), a damaged XLSX, a
    workbook without a worksheet, CSV text with a NUL character or a malformed line, more than
    ``max_rows`` data rows, more blank rows between rows with content than ``max_rows`` or
    1000 (the larger; a sheet may skip to row 1,048,576 in a few bytes).
    """
    name = quoted(filename) if filename else "The file"
    if data.startswith(_OLD_EXCEL):
        raise ValidationError(
            f"{name} is an old Excel (.xls) workbook or a password-protected one: save it as "
            ".xlsx without a password, or as CSV, and upload that."
        )
    for signature, what in _BINARY.items():
        if data.startswith(signature):
            raise ValidationError(
                f"{name} is {what}, not a spreadsheet: upload an XLSX workbook or CSV text."
            )
    if data.startswith(_ZIP):
        return _read_xlsx(data, name, max_rows, max_uncompressed, max_columns)
    return _read_csv(data, name, max_rows, max_columns)


def _blank(row: list[Any] | tuple[Any, ...]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


class _Rows:
    """Collects rows, counting data rows against the limit. Blank rows are counted, and kept
    only between rows with content (so row numbers stay the user's): a sheet that ends in a
    million empty rows costs a counter, and one with more blank rows inside than
    :data:`MIN_BLANK_ROWS` or ``max_rows`` (the larger) is refused rather than kept."""

    def __init__(self, name: str, max_rows: int) -> None:
        self.name, self.max_rows = name, max_rows
        self.max_blanks = max(max_rows, MIN_BLANK_ROWS)
        self.rows: list[list[Any]] = []
        self.blanks = 0  # blank rows since the last row with content
        self.kept_blanks = 0
        self.data_rows = -1  # the first non-blank row is the header

    def blank(self) -> None:
        self.blanks += 1

    def add(self, row: list[Any]) -> None:
        if _blank(row):
            self.blanks += 1
            return
        self.data_rows += 1
        if self.data_rows > self.max_rows:
            raise ValidationError(
                f"{self.name} has more than {self.max_rows} rows below its header; at most "
                f"{self.max_rows} rows in one file: split it in two."
            )
        if self.blanks:
            self.kept_blanks += self.blanks
            if self.kept_blanks > self.max_blanks:
                raise ValidationError(
                    f"{self.name} has more than {self.max_blanks} blank rows between its rows "
                    f"(the next one with content is row {len(self.rows) + self.blanks + 1}); "
                    "delete them and upload it again."
                )
            self.rows.extend([[] for _ in range(self.blanks)])
            self.blanks = 0
        self.rows.append(row)


def _size(n: int) -> str:
    return f"{round(n / MB)} MB" if n >= MB else f"{max(1, round(n / 1024))} KB"


def _check_zip(data: bytes, name: str, max_uncompressed: int) -> None:
    """Refuse a zip bomb from the zip's directory alone: its parts' declared sizes (zipfile
    never unpacks more than a part declares: a lying part fails its CRC) and ratios."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except _UNREADABLE_ALSO as exc:
        raise ValidationError(f"{name} is not a readable XLSX workbook.") from exc
    total = sum(info.file_size for info in infos)
    if total > max_uncompressed:
        raise ValidationError(
            f"{name} unpacks to more than {_size(max_uncompressed)}; a workbook of this size is "
            "not a spreadsheet we can read safely."
        )
    for info in infos:
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ValidationError(
                f"{name} holds a part ({quoted(info.filename)}) packed more than {MAX_RATIO} to "
                "1; a spreadsheet never is, so this is not one we can read safely."
            )


def _read_xlsx(
    data: bytes, name: str, max_rows: int, max_uncompressed: int, max_columns: int
) -> Table:
    _check_zip(data, name, max_uncompressed)
    rows = _Rows(name, max_rows)
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = (InvalidFileException, *_UNREADABLE_ALSO)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except unreadable as exc:
        raise ValidationError(f"{name} is not a readable XLSX workbook.") from exc
    try:
        if not wb.worksheets:
            raise ValidationError(f"{name} is a workbook without a worksheet.")
        ws = wb.worksheets[0]
        empty = None  # openpyxl fills the rows a sheet skips with one shared empty tuple
        for values in ws.iter_rows(values_only=True, max_row=EXCEL_MAX_ROWS, max_col=max_columns):
            if values is empty or values.count(None) == len(values):
                empty = values  # a sheet may skip a million rows: count them at C speed
                rows.blank()
                continue
            row = list(values)
            while row[-1] is None:
                row.pop()
            rows.add(row)
    except unreadable as exc:
        raise ValidationError(f"{name} is not a readable XLSX workbook.") from exc
    finally:
        wb.close()
    return Table(rows.rows, "xlsx")


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """The text and the name of its encoding: UTF-8 first, else charset-normalizer's guess
    (which also reads UTF-16 without a byte order mark, whose ASCII is valid UTF-8 with NULs)."""
    neither = f"{name} is neither an XLSX workbook nor CSV text."
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        return text.removeprefix("\ufeff"), "utf-8"
    best = from_bytes(data).best()
    if best is None:
        if text is not None:  # UTF-8 after all, with a NUL: refused below, by its line
            return text.removeprefix("\ufeff"), "utf-8"
        raise ValidationError(neither)
    guess = str(best).removeprefix("\ufeff")
    if text is not None and "\x00" in guess:
        return text.removeprefix("\ufeff"), "utf-8"
    return guess, best.encoding


def _looks_binary(text: str) -> bool:
    """Text decoded from a file that is no text: more than a few control characters (other than
    the line and tab ones), and more than 1 in 100 characters of its start. A stray NUL in a
    real CSV is left for its own message."""
    sample = text[:65536]
    controls = sum(1 for ch in sample if (ch < " " and ch not in "\t\n\r\f\v") or ch == "\x7f")
    return controls > 8 and controls * 100 > len(sample)


def _delimiter(text: str) -> str:
    """The delimiter among , ; tab |: csv.Sniffer's guess on the start of the text when the
    header line has it (or has none of them), else the most frequent one in the header line;
    a comma for a sheet of one column."""
    sample = text[:16384]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rfind("\n") + 1]
    first = next((line for line in sample.splitlines() if line.strip()), "")
    in_first = {d: first.count(d) for d in DELIMITERS}
    try:
        found = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        found = ""
    if found in in_first and (in_first[found] or not any(in_first.values())):
        return found
    best = max(DELIMITERS, key=lambda d: in_first[d])  # a tie goes to the first: the comma
    return best if in_first[best] else ","


def _read_csv(data: bytes, name: str, max_rows: int, max_columns: int) -> Table:
    text, encoding = _decode(data, name)
    if _looks_binary(text):
        raise ValidationError(f"{name} is neither an XLSX workbook nor CSV text.")
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise ValidationError(
            f"{name} has a NUL character on line {line}; CSV text never holds one. Save the "
            "sheet again as CSV (or XLSX) and upload that."
        )
    # Excel's "sep=;" first line names the delimiter; Excel does not show it as a row, so the
    # rows are numbered without it.
    hint = _SEP_LINE.match(text)
    if hint:
        text = text[hint.end() :]
    delimiter = hint.group(1) if hint else _delimiter(text)
    rows = _Rows(name, max_rows)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            rows.add(row[:max_columns])
    except csv.Error as exc:
        raise ValidationError(
            f"{name} could not be read as CSV at line {reader.line_num}: {exc}."
        ) from exc
    return Table(rows.rows, "csv", encoding, delimiter)
