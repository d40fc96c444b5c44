"""The files a recipe writes: the new CRM's import and the list of problems, as CSV (UTF-8 with
a byte order mark, ",", CRLF; streamed) or XLSX, every cell made spreadsheet-safe, each file
written through a partial file so that a failure leaves none half-written."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from planner.core.sheets import FORMULA_START, neutralise

# The text a spreadsheet takes for a formula (sheets.FORMULA_START), as a regular expression
# both Python and polars read; and the cells spared: a number, an E.164 phone number ("+7912…",
# "-5"), which a spreadsheet reads as the number it is and a CRM's import must get unchanged.
FORMULA_FIRST = "^[" + "".join(c for c in FORMULA_START if c != "-") + "-]"
PLAIN_NUMBER = r"^[+-]?[0-9]+(?:\.[0-9]+)?$"

_PLAIN = re.compile(PLAIN_NUMBER)


def spreadsheet_safe(value: Any) -> Any:
    """A cell as written: :func:`planner.core.sheets.neutralise`, except for a plain number
    or an E.164 phone number ("+79123456789", "-5"), which no spreadsheet runs and which the
    new CRM must get as it is."""
    if isinstance(value, str) and _PLAIN.match(value):
        return value
    return neutralise(value)


def safe_column(column: str) -> pl.Expr:
    """:func:`spreadsheet_safe` as a polars expression."""
    cell = pl.col(column)
    risky = cell.str.contains(FORMULA_FIRST) & ~cell.str.contains(PLAIN_NUMBER)
    return pl.when(risky).then(pl.lit("'") + cell).otherwise(cell).alias(column)


def write(parts: Iterator[pl.DataFrame], header: list[str], target: Path, kind: str) -> None:
    """Write the rows of ``parts`` under ``header`` to ``target`` through a partial file, so
    that a failure leaves no half-written file behind."""
    partial = target.with_name(f".{target.name}.part")
    try:
        if kind == "csv":
            _csv(parts, header, partial)
        else:
            _xlsx(parts, header, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _csv(parts: Iterator[pl.DataFrame], header: list[str], target: Path) -> None:
    with target.open("wb") as out:
        out.write("\ufeff".encode())
        pl.DataFrame(schema=dict.fromkeys(header, pl.String)).write_csv(out, line_terminator="\r\n")
        for part in parts:
            part.write_csv(out, include_header=False, line_terminator="\r\n")


def _xlsx(parts: Iterator[pl.DataFrame], header: list[str], target: Path) -> None:
    from openpyxl import Workbook  # imported when a workbook is written (30 MB a process)
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Import")
    sheet.append(header)
    for part in parts:
        for row in part.iter_rows():
            sheet.append(
                [ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v for v in row]
            )
    book.save(target)
