"""How to read an old CRM's export, found from the start of the file alone.

A workbook or CSV text; for CSV its encoding (a byte order mark, valid UTF-8, else
charset-normalizer's guess on the first MB, a more common encoding winning when it reads that
MB alike), its delimiter (Excel's ``sep=`` line, else the one :mod:`planner.core.sheets` finds)
and the line of its header (the first with at least half as many values as the fullest of the
first 30 lines: a title or a blank line above it is no header). The user may choose each; the
others are then detected knowing the choice. Files that are no table are refused here, each with
a ValidationError naming the file and never quoting its content.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes
from python_calamine import CalamineError, CalamineWorkbook

from planner.core.errors import ValidationError
from planner.core.i18n import counted, quoted
from planner.core.sheets import (
    _BINARY,
    _OLD_EXCEL,
    _SEP_LINE,
    _ZIP,
    MB,
    _check_zip,
    _delimiter,
    _looks_binary,
    cell_text,
)

SAMPLE_BYTES = MB  # what detection reads of the file
HEADER_SEARCH = 30  # records searched for the header
MAX_XLSX_BYTES = 100 * MB  # calamine holds a sheet in memory: bigger exports come as CSV
MAX_XLSX_UNPACKED = 1024 * MB
# How the encodings a user may choose are called, and which one wins when several read the
# start of a file alike (a German Windows-1252 file is also valid Windows-1250).
ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with a byte order mark",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "windows-1251": "Windows-1251",
    "windows-1252": "Windows-1252",
    "koi8-r": "KOI8-R",
    "iso-8859-2": "ISO-8859-2",
    "windows-1250": "Windows-1250",
    "koi8-u": "KOI8-U",
    "cp866": "DOS 866",
    "iso-8859-5": "ISO-8859-5",
    "iso-8859-1": "ISO-8859-1",
    "mac-cyrillic": "Mac Cyrillic",
}
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MARKUP = re.compile(r"\s*<(?:!doctype\s+html|html|head|body|table|meta|\?xml)\b", re.I)


@dataclass(frozen=True)
class Detected:
    """How a file is read: ``kind`` "csv" or "xlsx"; for CSV its ``encoding`` (a key of
    :data:`ENCODINGS` or another Python codec) and ``delimiter``; ``header_row``, the 0-based
    line (CSV) or sheet row (XLSX) of the header; ``notes`` say how each was found."""

    kind: str
    encoding: str | None
    delimiter: str | None
    header_row: int
    notes: tuple[str, ...] = ()


def detect(path: Path, filename: str) -> Detected:
    """How to read the file at ``path`` (``filename`` names it in messages). Raises
    ValidationError for an empty file, a PDF, an image, an old .xls, an HTML page, a zip bomb,
    a workbook that cannot be read, or text that is no CSV."""
    return settle(path, filename)


def settle(
    path: Path,
    filename: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
) -> Detected:
    """:func:`detect` with the user's choices: each one given replaces the detected one (the
    others are detected knowing it). Raises ValidationError as :func:`detect` does, and for an
    unknown encoding, a delimiter that is no single character or a negative header row."""
    name = quoted(filename)
    if header_row is not None and header_row < 0:
        raise ValidationError(f"The header row of {name} must be 0 or more.")
    with path.open("rb") as file:
        head = file.read(SAMPLE_BYTES)
        whole_file = not file.read(1)
    _refuse_binary(head, name)
    if head.startswith(_ZIP):
        ignored = ("An XLSX workbook has no encoding or delimiter to choose.",)
        found = _settle_xlsx(path, name, header_row)
        return replace(found, notes=found.notes + (ignored if encoding or delimiter else ()))
    notes = []
    if encoding is None:
        encoding, note = _guess_encoding(head, name)
    else:
        encoding, note = _known_encoding(encoding), "as chosen"
    notes.append(f"Encoding: {ENCODINGS.get(encoding, encoding)}, {note}.")
    text = _decode_head(head, encoding, name, whole_file)
    if _looks_binary(text):
        raise ValidationError(
            f"{name} is neither an XLSX workbook nor CSV text: export it from the old CRM "
            "again, as CSV or XLSX, and upload that."
        )
    if _MARKUP.match(text):
        raise ValidationError(
            f"{name} is a web page (HTML or XML), not CSV: export the data as CSV or XLSX. "
            "(Bitrix24's “Excel” export is such a page.)"
        )
    if not text.strip():
        raise ValidationError(f"{name} is empty.")
    hint = _SEP_LINE.match(text)
    body = text[hint.end() :] if hint else text
    if delimiter is None:
        delimiter = hint.group(1) if hint else _delimiter(body)
        how = "from Excel's sep= line" if hint else "found in the first lines"
    elif len(delimiter) != 1 or delimiter in '"\r\n':
        raise ValidationError(f"The delimiter of {name} must be one character, not a quote.")
    else:
        how = "as chosen"
        found = hint.group(1) if hint else _delimiter(body)
        if found != delimiter and _widest(body, delimiter) == 1 < _widest(body, found):
            how += (
                f" (every line is one column with it; the {DELIMITER_NAMES.get(found, found)} "
                f"gives {_widest(body, found)}: choose that one, or leave it to detection)"
            )
    notes.append(f"Delimiter: {DELIMITER_NAMES.get(delimiter, repr(delimiter))}, {how}.")
    chosen = header_row is not None
    if header_row is None:
        header_row = (1 if hint else 0) + _header_line(body, delimiter)
    notes.append(_header_note(header_row, "line", chosen))
    return Detected("csv", encoding, delimiter, header_row, tuple(notes))


def _widest(text: str, delimiter: str) -> int:
    """The most fields a record of the first ones has with ``delimiter``."""
    return max((len(cells) for _, cells in _records(text, delimiter)), default=0)


def _header_note(index: int, unit: str, chosen: bool) -> str:
    how = ", as chosen" if chosen else ""
    if not index:
        return f"Header: {unit} 1{how}."
    return f"Header: {unit} {index + 1}{how}; the {counted(index, unit)} above it are left out."


def _refuse_binary(head: bytes, name: str) -> None:
    if not head:
        raise ValidationError(f"{name} is empty.")
    if head.startswith(_OLD_EXCEL):
        raise ValidationError(
            f"{name} is an old Excel (.xls) workbook or a password-protected one: save it as "
            ".xlsx without a password, or as CSV, and upload that."
        )
    for signature, what in _BINARY.items():
        if head.startswith(signature):
            raise ValidationError(
                f"{name} is {what}, not a spreadsheet: upload an XLSX workbook or CSV text."
            )


def canonical(encoding: str) -> str:
    """The name :data:`ENCODINGS` uses for a Python codec ("cp1251" is "windows-1251")."""
    name = codecs.lookup(encoding).name
    if re.fullmatch(r"cp125[0-8]", name):
        return "windows-" + name[2:]
    return re.sub(r"^iso8859-", "iso-8859-", name)


def _known_encoding(encoding: str) -> str:
    """A chosen encoding, as the user spelt it, once Python knows it as a text encoding."""
    try:
        b"-".decode(encoding)  # a bytes-to-bytes codec ("hex") is no text encoding either
    except (LookupError, UnicodeError) as exc:
        raise ValidationError(f"{quoted(encoding)} is no text encoding known here.") from exc
    return encoding


def _head_text(head: bytes, encoding: str) -> str | None:
    """The start of a file as text, its last character possibly cut; None if it is not."""
    try:
        return codecs.getincrementaldecoder(encoding)("strict").decode(head, False)
    except UnicodeError:  # UTF-16 without a byte order mark raises a bare UnicodeError
        return None


def _guess_encoding(head: bytes, name: str) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, "from its byte order mark"
    text = _head_text(head, "utf-8")
    if text is not None and "\x00" not in text:
        scope = "the whole file" if len(head) < SAMPLE_BYTES else "the first MB"
        return "utf-8", f"{scope} is {'ASCII' if head.isascii() else 'valid UTF-8'}"
    best = from_bytes(head).best()
    if best is None:
        raise ValidationError(
            f"{name} is neither an XLSX workbook nor CSV text: export it from the old CRM "
            "again, as CSV or XLSX, and upload that."
        )
    guess, text = canonical(best.encoding), str(best).removeprefix("\ufeff")
    # Both put Cyrillic letters in the upper half, capitals and punctuation apart: a short text
    # misleads charset-normalizer. The reading with fewer signs of a misreading wins.
    usual = _head_text(head, "windows-1251") if guess == "mac-cyrillic" else None
    if usual is not None and _misread(usual) < _misread(text):
        return (
            "windows-1251",
            "whose reading of the first MB looks less garbled than Mac Cyrillic's",
        )
    for encoding in ENCODINGS:  # a more common encoding that reads the start alike wins
        if encoding == guess:
            break
        if _head_text(head, encoding) == text:
            label = ENCODINGS.get(guess, guess)
            return encoding, f"which reads the first MB as charset-normalizer's {label} does"
    return guess, "charset-normalizer's guess on the first MB"


# Letters of Serbian and Macedonian, and signs of mathematics: what Windows-1251 reads in Mac
# Cyrillic's capitals, and Mac Cyrillic in Windows-1251's; and a capital inside a word.
_FOREIGN = frozenset("ЂЃЉЊЌЋЏђѓљњќћџ√≈∆÷")
_INNER_CAPITAL = re.compile(r"[а-яё][А-ЯЁ]")


def _misread(text: str) -> int:
    """How many characters of a Russian or Ukrainian text look like a wrong encoding's."""
    return sum(char in _FOREIGN for char in text) + len(_INNER_CAPITAL.findall(text))


def _decode_head(head: bytes, encoding: str, name: str, whole_file: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    return decode(decoder, head, whole_file, 0, 0, encoding, name).removeprefix("\ufeff")


def decode(
    decoder: codecs.IncrementalDecoder,
    chunk: bytes,
    final: bool,
    offset: int,
    lines: int,
    encoding: str,
    name: str,
) -> str:
    """The next chunk as text. Raises ValidationError naming the byte offset and line of the
    first byte that is no character in ``encoding`` (``offset`` and ``lines`` so far)."""
    pending = decoder.getstate()[0]
    label = ENCODINGS.get(encoding, encoding)
    try:
        return decoder.decode(chunk, final)
    except UnicodeDecodeError as exc:
        data = pending + chunk
        at = offset - len(pending) + exc.start
        line = lines + data[: exc.start].decode(encoding, "ignore").count("\n") + 1
        raise ValidationError(
            f"{name} is not {label} text: the byte "
            f"0x{data[exc.start]:02X} at offset {at:,} (line {line}) is no character in it. "
            "Choose the encoding the file was saved in (Windows-1251 for most Russian and "
            "Ukrainian exports, UTF-8 for newer ones)."
        ) from exc
    except UnicodeError as exc:
        raise ValidationError(f"{name} is not {label} text: {exc}.") from exc


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """The first records of CSV text with the 0-based line each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    found: list[tuple[int, list[str]]] = []
    line = 0
    try:
        for cells in reader:
            found.append((line, cells))
            line = reader.line_num
            if len(found) >= HEADER_SEARCH:
                break
    except csv.Error:
        pass  # a malformed line is refused, with its number, when the file is read
    return found


def _header_index(rows: list[list[Any]]) -> int:
    """The header among a sheet's first rows: the first with at least half as many values as
    the fullest of them (and two at least): a title line or a blank one above it is no header."""
    filled = [sum(1 for cell in row if str(cell).strip()) for row in rows]
    most = max(filled, default=0)
    need = max(2, (most + 1) // 2) if most > 1 else 1
    return next((i for i, n in enumerate(filled) if n >= need), 0)


def _header_line(text: str, delimiter: str) -> int:
    records = _records(text, delimiter)
    if not records:
        return 0
    return records[_header_index([cells for _, cells in records])][0]


def _settle_xlsx(path: Path, name: str, header_row: int | None) -> Detected:
    first = []
    for row in xlsx_rows(path, name):  # the workbook is checked even when the row is chosen
        first.append([cell_text(value) for value in row])
        if len(first) >= HEADER_SEARCH:
            break
    if not any(any(row) for row in first):
        raise ValidationError(f"{name} is a workbook whose first sheet is empty.")
    chosen = header_row is not None
    header_row = _header_index(first) if header_row is None else header_row
    return Detected(
        "xlsx", None, None, header_row, (_header_note(header_row, "sheet row", chosen),)
    )


def xlsx_rows(path: Path, name: str) -> Iterator[list[Any]]:
    """The rows of a workbook's first sheet, after the checks of a zip bomb and of size."""
    size = path.stat().st_size
    if size > MAX_XLSX_BYTES:
        raise ValidationError(
            f"{name} is a workbook of {size // MB} MB; save exports over "
            f"{MAX_XLSX_BYTES // MB} MB as CSV and upload that."
        )
    _check_zip(path.read_bytes(), name, MAX_XLSX_UNPACKED)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        if not workbook.sheet_names:
            raise ValidationError(f"{name} is a workbook without a worksheet.")
        yield from workbook.get_sheet_by_index(0).iter_rows()
    except (CalamineError, ValueError, OSError) as exc:
        raise ValidationError(f"{name} is not a readable XLSX workbook.") from exc
