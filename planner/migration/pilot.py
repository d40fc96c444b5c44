"""The pilot batch: a few cleaned records the lead imports into the new CRM before the rest.

A pilot is worth its name when it holds every kind of problem the cleaning dealt with (a phone
reformatted, a date converted, an ambiguous date, a merged duplicate, a formula neutralised, an
optional field emptied...): :func:`choose` takes one record of each kind, the rarest kinds
first, and spreads the rest evenly over the file (systematic sampling), so the import is tried
on the file's start, middle and end alike. :func:`export` writes the chosen records as the new
CRM's import expects them. What the new CRM exports afterwards is compared with them by
:mod:`planner.migration.reconcile`.
"""

from __future__ import annotations

import csv
import io
import random
import re
import zipfile
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from typing import Literal

import polars as pl

from planner.core.sheets import neutralise
from planner.migration.fields import Field
from planner.migration.writing import FORMULA_FIRST

MAX_PILOT = 1000  # records in a pilot, at most
SIZE = 20  # records in a pilot, unless told otherwise
SHEET = "Pilot"  # the title of the workbook's sheet
# A zip member's time and a workbook's created and modified times, fixed so that the same
# records always make the same bytes (the zip's format starts in 1980).
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FIXED_STAMP = "1980-01-01T00:00:00Z"
# A number or a phone number: no formula, though it may start with + or - (as profiling.py).
_NUMBER_LIKE = re.compile(r"[+-]?[0-9][0-9\s().,\-]*")
_STAMP = re.compile(r"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")


def choose(
    rows: Sequence[int],
    kinds: Mapping[int, Collection[str]],
    *,
    size: int = SIZE,
    seed: int = 0,
) -> list[int]:
    """``size`` of ``rows`` (the kept rows' numbers, in file order), sorted: one row of every
    problem kind ``kinds`` names for them (row number → the kinds it shows), the rarest kinds
    first, so that a pilot too small for all kinds holds the rarest; a row showing several
    missing kinds is preferred. The rest are spread evenly over the file (systematic
    sampling from a random start). The same arguments give the same rows; another ``seed``
    other rows. All rows when ``size`` is at least their number. Raises ValueError for a
    ``size`` outside 1 to :data:`MAX_PILOT`."""
    if not 1 <= size <= MAX_PILOT:
        raise ValueError(f"A pilot holds 1 to {MAX_PILOT} records, not {size}.")
    ordered = list(dict.fromkeys(rows))
    if size >= len(ordered):
        return sorted(ordered)
    rnd = random.Random(seed)  # noqa: S311 (a sample, not a secret)
    order = {row: rank for rank, row in enumerate(rnd.sample(ordered, len(ordered)))}
    chosen = _covering(ordered, kinds, size, order)
    taken = set(chosen)
    rest = [row for row in ordered if row not in taken]
    return sorted(chosen + _spread(rest, size - len(chosen), rnd))


def _covering(
    rows: list[int], kinds: Mapping[int, Collection[str]], size: int, order: Mapping[int, int]
) -> list[int]:
    """Up to ``size`` rows that show every kind, the rarest kind first; among the rows of a
    kind, the one showing most kinds still missing, ties broken by ``order``."""
    shown = {row: frozenset(kinds.get(row, ())) for row in rows}
    counts = Counter(kind for found in shown.values() for kind in found)
    chosen: list[int] = []
    covered: set[str] = set()
    for kind in sorted(counts, key=lambda k: (counts[k], k)):
        if len(chosen) == size:
            break
        if kind in covered:
            continue
        best = max(
            (row for row in rows if kind in shown[row] and row not in chosen),
            key=lambda row: (len(shown[row] - covered), -order[row]),
        )
        chosen.append(best)
        covered |= shown[best]
    return chosen


def _spread(rows: list[int], need: int, rnd: random.Random) -> list[int]:
    """``need`` rows evenly spread over ``rows``: one in every ``len(rows) / need``, from a
    random start within the first step."""
    if need <= 0:
        return []
    if need >= len(rows):
        return rows
    step = len(rows) / need
    start = rnd.random() * step
    return [rows[int(start + i * step)] for i in range(need)]


def export(
    fields: Sequence[Field],
    records: Sequence[Mapping[str, str | None]],
    kind: Literal["csv", "xlsx"],
) -> bytes:
    """The pilot file for the new CRM's import: a header of the fields' names, then one row
    per record (a field a record lacks is an empty cell), every cell that would start a
    formula neutralised (:func:`safe_cell`). CSV is UTF-8 with a byte order mark, commas and
    CRLF line ends, as :func:`planner.core.sheets.csv_bytes` writes it; XLSX one sheet, as
    :func:`planner.core.sheets.xlsx_bytes` writes it. The same records give the same bytes.
    Raises ValueError for another kind."""
    rows = [[safe_cell(field.name) for field in fields]]
    rows += [[safe_cell(record.get(field.name)) for field in fields] for record in records]
    if kind == "csv":
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n").writerows(rows)
        return ("\ufeff" + text.getvalue()).encode("utf-8")
    if kind == "xlsx":
        return _steady(_workbook(rows))
    raise ValueError(f"A pilot is exported as csv or xlsx, not {kind!r}.")


def formula_cell(column: str) -> pl.Expr:
    """Whether a value of ``column`` is one :func:`safe_cell` neutralises."""
    cell = pl.col(column)
    number = cell.str.contains(f"^(?:{_NUMBER_LIKE.pattern})$")
    return (cell.str.contains(FORMULA_FIRST) & ~number).fill_null(False)


def safe_cell(value: str | None) -> str:
    """``value`` as a cell of the pilot file: "" for None; a number or a phone number as it is
    ("+79123456789", "-5": no formula, and the new CRM must get them unchanged); anything
    else through :func:`planner.core.sheets.neutralise` ("=HYPERLINK(…)" gets a leading
    apostrophe)."""
    if value is None:
        return ""
    if _NUMBER_LIKE.fullmatch(value):
        return value
    return neutralise(value)


def _workbook(rows: list[list[str]]) -> bytes:
    """``rows`` as the one sheet of a workbook, cells already safe: the characters XML forbids
    as U+FFFD, the header row frozen (as :func:`planner.core.sheets.xlsx_bytes`, which would
    put an apostrophe before every E.164 phone number)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("\ufffd", cell) for cell in row])
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _steady(workbook: bytes) -> bytes:
    """``workbook`` with its zip members' times and its created and modified times fixed
    (openpyxl writes the current time in both)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "docProps/core.xml":
                data = _STAMP.sub(rf"\g<1>{FIXED_STAMP}\g<3>", data.decode()).encode()
            member = zipfile.ZipInfo(info.filename, FIXED_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(member, data)
    return out.getvalue()
