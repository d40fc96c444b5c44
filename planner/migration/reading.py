"""An old CRM's export, read as a stream into a columnar file the profile can query.

CSV is transcoded in chunks of 1 MB to UTF-8 text; an XLSX workbook's first sheet is written
there row by row (python-calamine, after the zip-bomb check). polars' streaming engine then
parses the text into a temporary Parquet file, every column as text, which the profile reads
one column at a time: memory follows a column's distinct values, not the file's length. A
small file skips both files, which take as long to write as to read: text up to
:data:`SPOOL_BYTES` stays in memory, and rows that take up to :data:`HELD_BYTES` are parsed
into memory (polars' in-memory engine), not into Parquet.

Ragged rows: while transcoding, every line gets one more field, a sentinel (U+001E). Where
polars finds it tells how many fields the line had: a row with too few is padded with empty
cells and counted; a row with too many is refused, by its row and line. A sentinel that lands
inside a quoted value (a value with a line break) is taken out again, once the file is read,
in the rows and columns that have one.

How to read the file (:func:`detect`, :class:`Detected`) is found by
:mod:`planner.migration.detection`, and exported here too.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import IO, BinaryIO

import polars as pl

from planner.core.errors import ValidationError
from planner.core.i18n import counted, quoted
from planner.core.sheets import MB, cell_text
from planner.migration.detection import Detected, decode, detect, settle, xlsx_rows

__all__ = ["HASH", "ROW", "Detected", "Table", "detect", "read_table"]

CHUNK_BYTES = MB  # what the transcoder reads at a time
FIRST_ROWS = 10  # ragged rows listed by number
ROW = "__row"  # the row's number: 1 is the first row below the header
HASH = "__hash"  # a 64-bit hash of the row's cells: equal rows have equal hashes
FIELDS = "__fields"  # how many fields the row had; 0 for a blank row
BROKEN = "__broken"  # the row has a sentinel inside a value
# Small files skip the files between the steps (see the module): UTF-8 text up to SPOOL_BYTES
# stays in memory; rows that take up to HELD_BYTES (their text and CELL_BYTES a cell) are
# parsed into memory. The profile of 100,000 rows (37 MB of text) so held peaked at 260 MB,
# of 150,000 at 315 MB: the limits keep to about the first.
SPOOL_BYTES = 40 * MB
HELD_BYTES = 80 * MB
CELL_BYTES = 16
SENTINEL = "\x1e"
# polars' streaming CSV reader reads ahead in chunks sized for speed, not memory (a file of
# 250 MB took 400 MB): these bound it. Process-wide; a deployment may set its own.
POLARS_LIMITS = {
    "POLARS_CSV_CHUNK_SIZE": str(MB // 2),
    "POLARS_IDEAL_SINK_MORSEL_SIZE_BYTES": str(4 * MB),
}


@dataclass(frozen=True)
class Table:
    """A file read into a columnar file (or memory), while :func:`read_table`'s block lasts.
    ``frame`` scans its rows (blank ones left out): one text column per name in ``columns``,
    empty cells null, plus :data:`ROW` and :data:`HASH`. ``short_rows`` had fewer fields than
    the header and were padded; ``first_short`` holds the first of them as (row, line)."""

    name: str
    detected: Detected
    columns: tuple[str, ...]
    frame: pl.LazyFrame
    rows: int
    blank_rows: int
    short_rows: int
    first_short: tuple[tuple[int, int], ...]


@contextmanager
def read_table(
    path: Path,
    filename: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
) -> Iterator[Table]:
    """The file's rows as a :class:`Table`, read as :func:`settle` says (None: detected),
    in a temporary folder that is removed when the block ends. Raises ValidationError as
    :func:`settle` does, and for bytes that are no character of the encoding (by offset and
    line), a NUL character, a quoted value never closed, a header line without names, and
    rows with more fields than the header (by row and line)."""
    name = quoted(filename)
    detected = settle(path, filename, encoding=encoding, delimiter=delimiter, header_row=header_row)
    folder = Path(tempfile.mkdtemp(prefix="planner-migration-"))
    # a file larger than that is written to a file from the start: its text would be as large
    text = _Spool(folder / "rows.csv", SPOOL_BYTES if path.stat().st_size <= SPOOL_BYTES else 0)
    try:
        if detected.kind == "xlsx":
            end, lines = _write_sheet(path, text, detected.header_row, name)
        else:
            end, lines = _transcode(path, text, detected, name)
        yield _columnar(text.finish(), folder / "rows.parquet", detected, end, lines, name)
    finally:
        text.discard()
        shutil.rmtree(folder, ignore_errors=True)


def _transcode(source: Path, out: _Spool, detected: Detected, name: str) -> tuple[str, int]:
    """Write ``source`` as UTF-8 from its header line on, 1 MB at a time, each line ending
    with the sentinel field; return the line end ("\r\n" if the first lines have it, else
    "\n") and the lines written. With CRLF line ends, a bare "\n" (a line break inside a
    value, as Excel writes it) gets no sentinel."""
    encoding, start = detected.encoding or "utf-8", 0
    with source.open("rb") as file:
        if encoding == "utf-8-sig" and file.read(3) == codecs.BOM_UTF8:
            encoding, start = "utf-8", 3  # so that offsets in messages are the file's
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    skip, offset, lines, carry, last = detected.header_row, start, 0, b"", b"\n"
    end: bytes | None = None
    mark = f"{detected.delimiter}{SENTINEL}".encode()
    with source.open("rb") as file:
        file.seek(start)
        while True:
            chunk = file.read(CHUNK_BYTES)
            text = decode(decoder, chunk, not chunk, offset, lines, encoding, name)
            offset += len(chunk)
            while skip and text:
                cut = text.find("\n")
                text, skip = ("", skip) if cut < 0 else (text[cut + 1 :], skip - 1)
                lines += cut >= 0
            encoded = text.encode("utf-8")  # bytes are searched faster than text
            _refuse_controls(encoded, lines, name)
            lines += encoded.count(b"\n")
            data, carry = carry + encoded, b""
            if chunk and data.endswith(b"\r"):
                data, carry = data[:-1], b"\r"
            if data:
                if end is None:  # the header line's end
                    first = data.find(b"\n")
                    end = b"\r\n" if first > 0 and data[first - 1 : first] == b"\r" else b"\n"
                out.write(data.replace(end, mark + end))
                last = data[-1:]
            if not chunk:
                break
        if last != b"\n":
            out.write(mark + (end or b"\n"))
    if skip:
        raise ValidationError(f"{name} has no line {detected.header_row + 1} for a header.")
    return (end or b"\n").decode(), lines - detected.header_row + 1


class _Spool:
    """Where the UTF-8 text is written: memory, until it is larger than ``limit`` bytes; then
    the file at ``path``. :meth:`finish` returns the text, or the file's path."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit, self.size = path, limit, 0
        self.parts: list[bytes] = []
        self.file: BinaryIO | None = None

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.file is None and self.size > self.limit:
            self.file = self.path.open("wb")
            self.file.writelines(self.parts)
            self.parts = []
        if self.file is None:
            self.parts.append(data)
        else:
            self.file.write(data)
        return len(data)

    def write_text(self, text: str) -> None:
        self.write(text.encode("utf-8"))

    def discard(self) -> None:
        self.parts = []
        if self.file is not None:
            self.file.close()

    def finish(self) -> Path | bytes:
        if self.file is not None:
            self.file.close()
            return self.path
        text, self.parts = b"".join(self.parts), []
        return text


def _size(text: Path | bytes) -> int:
    return text.stat().st_size if isinstance(text, Path) else len(text)


def _reader(text: Path | bytes) -> IO[str]:
    if isinstance(text, Path):
        return text.open(encoding="utf-8", newline="")
    return io.TextIOWrapper(io.BytesIO(text), encoding="utf-8", newline="")


def _refuse_controls(data: bytes, lines: int, name: str) -> None:
    for char, what in ((b"\x00", "a NUL character"), (b"\x1e", "a U+001E control character")):
        at = data.find(char)
        if at >= 0:
            line = lines + data.count(b"\n", 0, at) + 1
            raise ValidationError(
                f"{name} has {what} on line {line}; CSV text never holds one. Save the sheet "
                "again as CSV (or XLSX) and upload that."
            )


def _write_sheet(source: Path, target: _Spool, header_row: int, name: str) -> tuple[str, int]:
    """Write a workbook's first sheet as :func:`_transcode` writes CSV: the header on, dates
    as ISO text, whole numbers without ".0", the sentinel field last."""
    width = written = 0
    writer = csv.writer(SimpleNamespace(write=target.write_text), lineterminator="\n")
    for index, row in enumerate(xlsx_rows(source, name)):
        if index < header_row:
            continue
        cells = [cell_text(value) for value in row]
        if not width:  # the header: up to its last name
            width = max((i + 1 for i, cell in enumerate(cells) if cell), default=1)
        if not any(cells[width:]):
            cells = cells[:width]
        if any(SENTINEL in cell for cell in cells):
            raise ValidationError(
                f"{name} has a U+001E control character on sheet row {index + 1}; "
                "delete it and upload the workbook again."
            )
        writer.writerow([*cells, SENTINEL])
        written += 1
    return "\n", written


def _header_names(text: Path | bytes, detected: Detected, end: str, name: str) -> list[str]:
    delimiter = detected.delimiter or ","
    with _reader(text) as file:
        cells = next(csv.reader(file, delimiter=delimiter), [])
    if cells and cells[-1] == SENTINEL:
        cells.pop()
    restore = f"{delimiter}{SENTINEL}{end}"
    cells = [cell.replace(restore, end).replace("\ufeff", "") for cell in cells]
    if not any(cell.strip() for cell in cells):
        unit = "sheet row" if detected.kind == "xlsx" else "line"
        raise ValidationError(
            f"{name} has no column names on {unit} {detected.header_row + 1}, where its "
            "header should be: choose the header's row."
        )
    return cells


def _column_names(cells: list[str]) -> list[str]:
    """Header cells as column names: whitespace collapsed, "Column 3" for an empty one,
    "Телефон (2)" for the second "Телефон"."""
    names: list[str] = []
    seen = {ROW, FIELDS, HASH}
    for number, cell in enumerate(cells, 1):
        base = " ".join(cell.split()) or f"Column {number}"
        candidate, copy = base, 1
        while candidate in seen:
            copy += 1
            candidate = f"{base} ({copy})"
        seen.add(candidate)
        names.append(candidate)
    return names


def _columnar(
    text: Path | bytes, parquet: Path, detected: Detected, end: str, lines: int, name: str
) -> Table:
    """Parse the transcoded text (of ``lines`` lines) into memory, or with polars' streaming
    engine into ``parquet`` when it is larger than :data:`HELD_BYTES`."""
    delimiter = detected.delimiter or ","
    header = _header_names(text, detected, end, name)
    columns = _column_names(header)
    n = len(columns)
    size = _size(text) + CELL_BYTES * lines * (n + 3)
    raw = [f"c{i}" for i in range(n + 1)]
    scan = pl.scan_csv(  # the header read as a header: a first row that is short is fine
        text,
        has_header=True,
        new_columns=raw,
        separator=delimiter,
        schema=dict.fromkeys(raw, pl.String),
        truncate_ragged_lines=True,
        raise_if_empty=False,
    )
    marks = [pl.col(c) == SENTINEL for c in raw]
    fields = pl.coalesce([pl.when(m).then(pl.lit(i, pl.Int32)) for i, m in enumerate(marks)])
    # No sentinel at all: more fields than the header's (it was cut off), or a line that got
    # none (a bare "\n" in a file of CRLF lines), which cannot be checked.
    last = pl.col(raw[-1])
    fields = fields.fill_null(pl.when(last.is_null()).then(n).otherwise(n + 1).cast(pl.Int32))
    cells = [pl.when(m).then(None).otherwise(pl.col(c)) for c, m in zip(raw, marks, strict=False)]
    # A sentinel inside a value (a quoted line break) is taken out once the file is read, in
    # the rows (BROKEN) and columns that have one: the text of every cell is not copied for it.
    broken = pl.any_horizontal([cell.str.contains(SENTINEL, literal=True) for cell in cells])
    blank = pl.all_horizontal([cell.is_null() for cell in cells]) & (fields <= n)
    named = [cell.alias(column) for cell, column in zip(cells, columns, strict=False)]
    query = scan.with_row_index(ROW, offset=1).select(
        ROW,
        pl.when(blank).then(pl.lit(0, pl.Int32)).otherwise(fields).alias(FIELDS),
        pl.struct(named).hash(seed=0).alias(HASH),  # equal rows are equal before the restore
        broken.fill_null(False).alias(BROKEN),
        *named,
    )
    for setting, value in POLARS_LIMITS.items():
        os.environ.setdefault(setting, value)
    try:
        if size <= HELD_BYTES:
            frame = query.collect().lazy()
        else:
            query.sink_parquet(parquet, compression="lz4")
            frame = pl.scan_parquet(parquet)
    except pl.exceptions.PolarsError as exc:
        raise ValidationError(_parse_error(text, detected, name, exc)) from exc
    del text, scan, query  # text held in memory is parsed: it goes
    fields_of = pl.col(FIELDS)
    counts = frame.select(
        rows=(fields_of > 0).sum(),
        blank=(fields_of == 0).sum(),
        short=((fields_of > 0) & (fields_of < n)).sum(),
        long=(fields_of > n).sum(),
        broken=pl.col(BROKEN).sum(),
    ).collect()
    rows, blank_rows, short, long, broken_rows = counts.row(0)
    frame = _restored(frame, columns, f"{delimiter}{SENTINEL}{end}", end, broken_rows)
    lines = _Lines(frame, columns, detected, header)
    if long:
        first = frame.filter(fields_of > n).select(ROW).head(FIRST_ROWS).collect()[ROW]
        where = lines.of(first.to_list())
        listed = ", ".join(f"row {r} ({lines.unit} {line})" for r, line in where[1:])
        also = f"; also {listed}" if listed else ""
        raise ValidationError(
            f"{name} has {counted(long, 'row')} with more fields than its header's {n}: "
            f"row {where[0][0]} ({lines.unit} {where[0][1]}){also}. A delimiter inside a value "
            "that is not in quotes, or a value right of the last column: fix the file, or "
            "choose another delimiter."
        )
    first_short = frame.filter((fields_of > 0) & (fields_of < n)).select(ROW).head(FIRST_ROWS)
    return Table(
        name=name,
        detected=detected,
        columns=tuple(columns),
        frame=frame.filter(fields_of > 0).drop(FIELDS),
        rows=rows,
        blank_rows=blank_rows,
        short_rows=short,
        first_short=tuple(lines.of(first_short.collect()[ROW].to_list())) if short else (),
    )


def _restored(
    frame: pl.LazyFrame, columns: list[str], restore: str, end: str, broken: int
) -> pl.LazyFrame:
    """``frame`` without :data:`BROKEN`, each sentinel inside a value taken out again."""
    if broken:
        has = frame.filter(BROKEN).select(
            pl.col(c).str.contains(SENTINEL, literal=True).any() for c in columns
        )
        hit = [c for c, found in zip(columns, has.collect().row(0), strict=True) if found]
        frame = frame.with_columns(
            pl.when(BROKEN).then(pl.col(c).str.replace_all(restore, end, literal=True)).otherwise(c)
            for c in hit
        )
    return frame.drop(BROKEN)


class _Lines:
    """Line numbers of rows: a CSV row starts below the header's lines and every line break
    inside the values of the rows above it; a sheet's row is its number in the sheet."""

    def __init__(
        self, frame: pl.LazyFrame, columns: list[str], detected: Detected, header: list[str]
    ) -> None:
        self.frame, self.columns, self.csv = frame, columns, detected.kind == "csv"
        self.unit = "line" if self.csv else "sheet row"
        self.base = detected.header_row + 1 + sum(cell.count("\n") for cell in header)

    def of(self, rows: list[int]) -> list[tuple[int, int]]:
        if not rows or not self.csv:
            return [(r, self.base + r) for r in rows]
        breaks = pl.sum_horizontal(
            [pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in self.columns]
        )
        before = (
            self.frame.filter(pl.col(ROW) <= max(rows))
            .select(ROW, breaks.cum_sum().alias("after"), breaks.alias("own"))
            .filter(pl.col(ROW).is_in(rows))
            .select(ROW, pl.col("after") - pl.col("own"))
            .collect()
        )
        found = dict(before.iter_rows())
        return [(r, self.base + r + found.get(r, 0)) for r in rows]


def _parse_error(text: Path | bytes, detected: Detected, name: str, exc: Exception) -> str:
    """What polars could not parse, by line: the csv module finds the record again (this runs
    only when reading failed). The message never quotes the file's content."""
    with _reader(text) as file:
        reader = csv.reader(file, delimiter=detected.delimiter or ",", strict=True)
        start = 0
        try:
            for _cells in reader:
                start = reader.line_num
        except csv.Error:
            line = detected.header_row + start + 1
            return (
                f"{name} could not be read as CSV: the value in quotes that starts on line "
                f"{line} is not closed properly. Fix the quotes there, or choose another "
                "delimiter."
            )
    # polars' own message may quote a value: only its kind is said
    return f"{name} could not be read as CSV ({type(exc).__name__}): save it again as CSV."
