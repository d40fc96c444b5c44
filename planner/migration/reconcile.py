"""The pilot's round trip: the records the lead imported into the new CRM, compared with what
the new CRM exports afterwards.

The returned file's columns are mapped to the fields (as the lead says, else by the field's
name or label, whatever the case, spaces and punctuation), and its records matched to the
pilot's by the key field. Values are compared as their type reads them, so that the new CRM's
own way of writing them is no difference: e-mail addresses trimmed and lower-cased, phone
numbers as the digits of their international form (``+7 912 345-67-89``, ``8 912 345 67 89`` and
``+79123456789`` are one; a number phonenumbers finds invalid is its digits), dates as days
(``31.12.1980`` is ``1980-12-31``; a slashed date that could be read both ways equals either),
numbers as numbers, checkboxes as yes or no (empty is no), text with its spaces collapsed and
its case folded; a leading apostrophe that neutralised a formula is no part of a value.

What differs is listed, each with a stable ``id`` (so that the lead's explanation of it sticks
across uploads): a pilot record ``missing`` from the returned file (or without a key and not
found by its other fields: a name, an e-mail or a phone, every field the same), a
``duplicate`` the import created (the key twice, or a record sharing its e-mail or phone with
another), a value ``emptied`` or ``changed``, and ``unexpected`` records that are no pilot
record (the new CRM may have held records before: counted, the first listed).

How, at any size: the returned file may be the whole new CRM. Its rows are filtered by polars
on a coarse form of the key (its letters and digits, the last digits of a phone number), and
only those rows, a few more than the pilot's at most :data:`MAX_PILOT` records, are compared
in Python.

Values from the files (keys, expected and found values) are kept apart so that the web layer
can show them to the lead alone: ``Reconciliation.as_dict(values=False)`` holds none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from planner.core.errors import ValidationError
from planner.core.i18n import quoted
from planner.core.sheets import cell_text
from planner.migration import formats
from planner.migration.fields import CHECKBOX, DATE, EMAIL, NUMBER, PHONE, PICKLIST, TEXT, Field
from planner.migration.pilot import MAX_PILOT
from planner.migration.reading import ROW, Table, read_table

MISSING, DUPLICATE, EMPTIED, CHANGED, UNEXPECTED = KINDS = (
    "missing",
    "duplicate",
    "emptied",
    "changed",
    "unexpected",
)
NO_KEY, NOT_FOUND = "no key", "not found"  # why a record is missing
SAME_KEY, SAME_EMAIL, SAME_PHONE = "same key", "same e-mail", "same phone"  # why a duplicate
MAX_UNEXPECTED = 100  # unexpected records listed; all are counted
MAX_ROWS = 50  # returned rows a difference lists
MAX_OPTIONS = 50  # returned rows of one key a pilot record is compared with, the first ones
MAX_KEYLESS = 1000  # returned rows without a key a keyless pilot record is looked for in
NAMING = (TEXT, EMAIL, PHONE)  # a keyless record is looked for only by a value of these
PHONE_TAIL = 7  # digits at the end of a phone number its rows are filtered by
YES, NO = "yes", "no"
_YES = {yes for yes, _ in formats.BOOLEAN_PAIRS} | {"on", "checked", "✓", "✔"}
_NO = {no for _, no in formats.BOOLEAN_PAIRS} | {"off", "unchecked"}
_NOT_DIGIT = re.compile(r"[^0-9]")
_SLASHED = re.compile(r"\s*([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\b")


@dataclass(frozen=True)
class Difference:
    """One way the returned file differs from the pilot: its ``kind`` (:data:`KINDS`), the
    ``field`` it concerns (none for a missing or unexpected record), the pilot's ``record``
    (1-based; none for an unexpected one), the returned file's ``rows``, a ``reason`` for a
    missing record or a duplicate, and the values: the record's ``key``, the ``expected``
    (pilot) and ``found`` (returned) value. ``id`` stays the same from one run to the next."""

    id: str
    kind: str
    key: str | None
    field: str | None = None
    expected: str | None = None
    found: str | None = None
    record: int | None = None
    rows: tuple[int, ...] = ()
    reason: str | None = None

    def as_dict(self, *, values: bool) -> dict[str, Any]:
        """JSON-able; with ``values`` False, without the key and the values."""
        found: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "field": self.field,
            "record": self.record,
            "rows": list(self.rows),
            "reason": self.reason,
        }
        if values:
            found |= {"key": self.key, "expected": self.expected, "found": self.found}
        return found


@dataclass(frozen=True)
class Reconciliation:
    """The pilot compared with the returned file: the ``key`` field, the ``pilot``'s records
    and how many of them were ``matched``, the ``returned`` file's rows and how many are
    ``unexpected``, the fields ``absent`` from it, the ``columns`` the others were read from
    (field name → header), and the ``differences`` in the order of :data:`KINDS`, then by key.
    ``differences`` lists the first :data:`MAX_UNEXPECTED` unexpected records; ``unexpected``
    counts them all."""

    key: str
    pilot: int
    matched: int
    returned: int
    unexpected: int
    absent: tuple[str, ...]
    columns: dict[str, str] = field(default_factory=dict)
    differences: tuple[Difference, ...] = ()

    def counts(self) -> dict[str, int]:
        """Differences by kind, every kind named; unexpected records all counted."""
        found = Counter(d.kind for d in self.differences)
        return {kind: self.unexpected if kind == UNEXPECTED else found[kind] for kind in KINDS}

    def as_dict(self, *, values: bool) -> dict[str, Any]:
        """JSON-able; with ``values`` False, no value of either file: counts, kinds, field
        names, headers, record and row numbers and ids only."""
        return {
            "key": self.key,
            "pilot": self.pilot,
            "matched": self.matched,
            "returned": self.returned,
            "unexpected": self.unexpected,
            "absent": list(self.absent),
            "columns": dict(self.columns),
            "counts": self.counts(),
            "differences": [d.as_dict(values=values) for d in self.differences],
        }


# --- values as their type reads them --------------------------------------------------------


def normalise(type_: str, value: str | None, region: str) -> str | None:
    """``value`` in the form two values of a field of type ``type_`` are compared in, or None
    when it is empty: see the module. A value its type cannot read is compared as text."""
    text = cell_text(value)
    if not text:
        return None
    if type_ == EMAIL:
        return text.lower()
    if type_ == PHONE:
        number = formats.normalise_phone(text, region) or text  # "+7…", or as it is
        return _NOT_DIGIT.sub("", number) or _text(text)
    if type_ == DATE:
        date = formats.parse_date(text)
        return date.day.isoformat() if date and date.day else _text(text)
    if type_ == NUMBER:
        number = formats.parse_number(text)
        return repr(number[1]) if number else _text(text)
    if type_ == CHECKBOX:
        word = text.lower()
        return YES if word in _YES else NO if word in _NO else _text(text)
    return _text(text)


def _text(text: str) -> str:
    return " ".join(text.split()).casefold()


def compare(type_: str, expected: str | None, found: str | None, region: str) -> str | None:
    """None when ``found`` is ``expected`` as type ``type_`` reads them; else EMPTIED (the
    pilot had a value, the returned file has none) or CHANGED."""
    want, have = normalise(type_, expected, region), normalise(type_, found, region)
    if type_ == CHECKBOX:
        want, have = want or NO, have or NO
    if want == have:
        return None
    if type_ == DATE and want and have and _days(want) & _days(have):
        return None
    return EMPTIED if have is None else CHANGED


def _days(normal: str) -> set[str]:
    """The days a normalised date may be: itself, or both readings of a slashed date whose
    day and month could be swapped."""
    found = _SLASHED.match(normal)
    if not found:
        return {normal}
    first, second, year = (int(part) for part in found.groups())
    days = set()
    for month, day in ((first, second), (second, first)):
        try:
            days.add(dt.date(year, month, day).isoformat())
        except ValueError:
            continue
    return days


# Coarse forms of a key polars computes over the whole returned file: two keys equal as their
# type reads them have equal coarse forms, so only rows whose coarse form is a pilot key's are
# read into Python. A date or checkbox key (an odd choice) is read value by value instead.
def _letters(column: pl.Expr) -> pl.Expr:
    return column.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]", "")


def _tail(column: pl.Expr) -> pl.Expr:
    return column.str.replace_all("[^0-9]", "").str.slice(-PHONE_TAIL)


def _digits(column: pl.Expr) -> pl.Expr:
    return column.str.replace_all("[^0-9]", "").str.strip_chars("0")


_COARSE: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    TEXT: _letters,
    PICKLIST: _letters,
    EMAIL: _letters,
    PHONE: _tail,
    NUMBER: _digits,
}


# --- the reconciliation ----------------------------------------------------------------------


def reconcile(
    pilot: Sequence[Mapping[str, str | None]],
    fields: Sequence[Field],
    key: str,
    returned: Path,
    filename: str,
    *,
    region: str = "RU",
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
    columns: Mapping[str, str] | None = None,
    secret: bytes = b"",
) -> Reconciliation:
    """``pilot`` (the records as exported: field name → value) compared with the file the new
    CRM exported after importing them (``returned``, named ``filename`` in messages, read with
    the given encoding, delimiter and header row; None: detected). Its columns are mapped to
    ``fields`` by ``columns`` (field name → header) where given, else by the field's name or
    label; records are matched by the ``key`` field; phone numbers without a country code
    are read for ``region``. ``secret`` keys the differences' ids (a value of the web layer's,
    so that an id cannot be traced back to a phone number by trying them all).

    Raises ValidationError for every file :func:`planner.migration.reading.read_table`
    refuses, a file with a header but no rows, a ``key`` that is none of ``fields``, a
    returned file without the key's column, ``columns`` naming a field or a header that does
    not exist, a pilot of no record or of more than :data:`MAX_PILOT`, and an unknown region."""
    named = {f.name: f for f in fields}
    if key not in named:
        raise ValidationError(f"The key {quoted(key)} is none of the fields.")
    if not pilot:
        raise ValidationError("The pilot has no record to reconcile.")
    if len(pilot) > MAX_PILOT:
        raise ValidationError(f"A pilot holds at most {MAX_PILOT} records, not {len(pilot)}.")
    region = region.upper()
    formats.phone_shapes(region)  # refuses an unknown region before the file is read
    for name in columns or {}:
        if name not in named:
            raise ValidationError(f"{quoted(name)} is none of the fields.")
    with read_table(
        returned, filename, encoding=encoding, delimiter=delimiter, header_row=header_row
    ) as table:
        work = _work(table, pilot, fields, named[key], columns or {}, region)
        work.find_keyless(table.frame)
        differences = work.match(_candidates(table.frame, work)) + work.shared(table.frame)
        taken = work.taken_rows()
        differences += work.unexpected(table.frame, taken)
    types = {f.name: f.type for f in fields}
    identified = [_identified(d, types, named[key].type, region, secret) for d in differences]
    return Reconciliation(
        key=key,
        pilot=len(pilot),
        matched=work.matched,
        returned=table.rows,
        unexpected=table.rows - len(taken),
        absent=tuple(f.name for f in fields if f.name not in work.columns),
        columns=dict(work.columns),
        differences=_ordered(identified, fields),
    )


def _work(
    table: Table,
    pilot: Sequence[Mapping[str, str | None]],
    fields: Sequence[Field],
    key: Field,
    columns: Mapping[str, str],
    region: str,
) -> _Work:
    """The pilot ready to be matched with ``table``'s rows. Raises ValidationError for a
    table of no row, without the key's column, or without a column ``columns`` names."""
    if not table.rows:
        raise ValidationError(
            f"{table.name} has a header but no rows below it: there is nothing to reconcile "
            "the pilot with."
        )
    mapped = map_columns(fields, table.columns, columns, table.name)
    if key.name not in mapped:
        raise ValidationError(
            f"{table.name} has no column for the key {quoted(key.label)}: choose the column "
            "that holds it."
        )
    return _Work(pilot, [f for f in fields if f.name in mapped], key, mapped, region)


def _ordered(differences: list[Difference], fields: Sequence[Field]) -> tuple[Difference, ...]:
    """``differences`` in the order of :data:`KINDS`, then by key, record, field and rows."""
    order = {kind: i for i, kind in enumerate(KINDS)}
    position = {f.name: i for i, f in enumerate(fields)}
    return tuple(
        sorted(
            differences,
            key=lambda d: (
                order[d.kind],
                _text(d.key or "\uffff"),
                d.record or 0,
                position.get(d.field or "", -1),
                d.rows,
            ),
        )
    )


def map_columns(
    fields: Sequence[Field], headers: Sequence[str], given: Mapping[str, str], name: str
) -> dict[str, str]:
    """Field name → the header of its column in a file named ``name``: ``given``'s where it
    names one, else the first header unused so far that is the field's name or label, case,
    spaces and punctuation aside. A field without a column is left out. Raises
    ValidationError for a header ``given`` names that the file lacks."""
    loose: dict[str, str] = {}
    for header in headers:
        loose.setdefault(_loose(header), header)
    found: dict[str, str] = {}
    for f in fields:
        if f.name in given:
            header = given[f.name]
            column = header if header in headers else loose.get(_loose(header))
            if column is None:
                raise ValidationError(
                    f"{name} has no column {quoted(header)} for the field {quoted(f.label)}."
                )
            found[f.name] = column
    used = set(found.values())
    for f in fields:
        if f.name in found:
            continue
        for candidate in (f.name, f.label):
            column = loose.get(_loose(candidate))
            if column is not None and column not in used:
                found[f.name] = column
                used.add(column)
                break
    return found


def _loose(text: str) -> str:
    return "".join(char for char in text.casefold() if char.isalnum())


def _candidates(frame: pl.LazyFrame, work: _Work) -> list[dict[str, Any]]:
    """The returned rows whose key may be a pilot record's, with the mapped columns."""
    column = work.columns[work.key.name]
    keep = [ROW, *dict.fromkeys(work.columns.values())]
    coarse = _COARSE.get(work.key.type)
    if coarse is not None:
        raw = pl.DataFrame({"key": work.raw_keys()}, schema={"key": pl.String})
        wanted = raw.select(coarse(pl.col("key")))["key"].drop_nulls().unique()
        rows = frame.filter(coarse(pl.col(column)).is_in(wanted.implode()))
    else:
        distinct = frame.select(pl.col(column).drop_nulls().unique()).collect()[column]
        keys = set(work.records)
        wanted = [v for v in distinct if normalise(work.key.type, v, work.region) in keys]
        rows = frame.filter(pl.col(column).is_in(pl.Series(wanted, dtype=pl.String).implode()))
    return rows.select(keep).sort(ROW).collect().to_dicts()


class _Work:
    """The pilot's records by normalised key, matched to returned rows as they come."""

    def __init__(
        self,
        pilot: Sequence[Mapping[str, str | None]],
        fields: list[Field],
        key: Field,
        columns: Mapping[str, str],
        region: str,
    ) -> None:
        self.pilot, self.fields, self.key, self.columns = pilot, fields, key, columns
        self.region = region
        self.records: dict[str, list[int]] = defaultdict(list)  # key → pilot records (0-based)
        self.no_key: list[int] = []
        for index, record in enumerate(pilot):
            normal = normalise(key.type, record.get(key.name), region)
            if normal is None:
                self.no_key.append(index)
            else:
                self.records[normal].append(index)
        self.pairs: dict[int, dict[str, Any]] = {}  # pilot record → its returned row
        self.keyless: dict[int, dict[str, Any]] = {}  # keyless record → its row, by the rest
        self.rows_of: dict[str, list[dict[str, Any]]] = {}  # key → its returned rows

    @property
    def matched(self) -> int:
        """Pilot records found in the returned file (by key, or by their other fields)."""
        return len(self.pairs) + len(self.keyless)

    def raw_keys(self) -> list[str]:
        """The pilot's key values as exported."""
        return [
            self.pilot[i].get(self.key.name) or "" for ids in self.records.values() for i in ids
        ]

    def taken_rows(self) -> set[int]:
        """Returned rows whose key is a pilot record's, and those found for a keyless one."""
        taken = {row[ROW] for rows in self.rows_of.values() for row in rows}
        return taken | {row[ROW] for row in self.keyless.values()}

    def find_keyless(self, frame: pl.LazyFrame) -> None:
        """Look for each pilot record without a key among the first :data:`MAX_KEYLESS`
        returned rows without one (or with the same unreadable key): the first whose other
        fields all read the same (the same days before dates that could be read either way)
        is that record, imported as it was sent: matched, no difference, and its row no
        unexpected one. A record with no value of a
        name, an e-mail address or a phone number compared is not looked for: a status alone
        would take any customer's row."""
        if not self.no_key:
            return
        column = self.columns[self.key.name]
        raw = [self.pilot[i].get(self.key.name) for i in self.no_key]
        same = pl.Series([v for v in raw if v], dtype=pl.String)
        cell = pl.col(column)
        rows = (
            frame.filter(
                cell.is_null() | (cell.str.strip_chars() == "") | cell.is_in(same.implode())
            )
            .select(ROW, *dict.fromkeys(self.columns.values()))
            .sort(ROW)
            .head(MAX_KEYLESS)
            .collect()
            .to_dicts()
        )
        alike: dict[tuple[str | None, ...], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:  # rows whose values cannot all read the same are not compared
            alike[self._signature(lambda f, r=row: r[self.columns[f.name]])].append(row)
        naming = [f for f in self.fields if f.name != self.key.name and f.type in NAMING]
        for index in self.no_key:
            record = self.pilot[index]
            if not any(normalise(f.type, record.get(f.name), self.region) for f in naming):
                continue  # nothing that tells one customer from another: not looked for
            same = alike[self._signature(lambda f, r=record: r.get(f.name))]
            fits = [r for r in same if not self.changes(index, r)]
            exact = [r for r in fits if self._same_days(index, r)]  # before either reading
            row = (exact or fits or [None])[0]
            if row is not None:
                self.keyless[index] = row
                same.remove(row)

    def _same_days(self, index: int, row: Mapping[str, Any]) -> bool:
        """Whether the record's dates and the row's read as the very same days (a slashed
        date that could be read both ways equals either, but not exactly)."""
        return all(
            normalise(DATE, self.pilot[index].get(f.name), self.region)
            == normalise(DATE, row[self.columns[f.name]], self.region)
            for f in self.fields
            if f.type == DATE
        )

    def _signature(self, value: Callable[[Field], str | None]) -> tuple[str | None, ...]:
        """The values of a record or a row as :func:`compare` reads them, but for the key
        and the dates (a slashed date equals either reading): equal for a record and a row
        that may be the same."""
        return tuple(
            normalise(f.type, value(f), self.region) or (NO if f.type == CHECKBOX else None)
            for f in self.fields
            if f.name != self.key.name and f.type != DATE
        )

    def changes(self, index: int, row: Mapping[str, Any]) -> list[Difference]:
        """How the returned ``row`` differs from the pilot record ``index``, field by field."""
        record, found = self.pilot[index], []
        for f in self.fields:
            if f.name == self.key.name:
                continue
            expected, value = record.get(f.name), row[self.columns[f.name]]
            kind = compare(f.type, expected, value, self.region)
            if kind:
                found.append(self._difference(kind, index, f.name, expected, value, row))
        return found

    def _difference(
        self,
        kind: str,
        index: int,
        name: str | None,
        expected: str | None,
        found: str | None,
        *rows: Mapping[str, Any],
        reason: str | None = None,
    ) -> Difference:
        return Difference(
            id="",
            kind=kind,
            key=self.pilot[index].get(self.key.name),
            field=name,
            expected=expected,
            found=found,
            record=index + 1,
            rows=tuple(sorted(row[ROW] for row in rows)[:MAX_ROWS]),
            reason=reason,
        )

    def match(self, candidates: list[dict[str, Any]]) -> list[Difference]:
        """Pair every pilot record with the returned row of its key that differs least;
        the missing records, the keys found more often than the pilot holds them, and the
        differences of every pair."""
        column = self.columns[self.key.name]
        for row in candidates:
            normal = normalise(self.key.type, row[column], self.region)
            if normal in self.records:
                self.rows_of.setdefault(normal, []).append(row)
        found = [  # a keyless record found by its other fields is as it was sent
            self._difference(MISSING, i, None, None, None, reason=NO_KEY)
            for i in self.no_key
            if i not in self.keyless
        ]
        for normal, indexes in self.records.items():
            left = list(self.rows_of.get(normal, ()))
            for index in indexes:
                if not left:
                    found.append(
                        self._difference(MISSING, index, None, None, None, reason=NOT_FOUND)
                    )
                    continue
                options = [
                    (len(self.changes(index, row)), row[ROW], row) for row in left[:MAX_OPTIONS]
                ]
                _, _, best = min(options, key=lambda option: option[:2])
                left.remove(best)
                self.pairs[index] = best
                found += self.changes(index, best)
            if left:
                first = indexes[0]
                expected = self.pilot[first].get(self.key.name)
                every = self.rows_of[normal]
                found.append(
                    self._difference(
                        DUPLICATE, first, self.key.name, expected, left[0][column], *every,
                        reason=SAME_KEY,
                    )
                )  # fmt: skip
        return found

    def shared(self, frame: pl.LazyFrame) -> list[Difference]:
        """Duplicates the import made by e-mail or phone: a matched record whose e-mail
        address or phone number more records of the returned file hold (told apart by key)
        than records of the pilot."""
        found = []
        for f in self.fields:
            if f.type in (EMAIL, PHONE) and f.name != self.key.name:
                found += self._shared(frame, f)
        return found

    def _shared(self, frame: pl.LazyFrame, f: Field) -> list[Difference]:
        column, key_column = self.columns[f.name], self.columns[self.key.name]
        value_of = {
            index: normalise(f.type, row[column], self.region) for index, row in self.pairs.items()
        }
        wanted = {v for v in value_of.values() if v is not None}
        if not wanted:
            return []
        coarse = _COARSE[f.type]
        raw = [row[column] for row in self.pairs.values() if row[column] is not None]
        blocks = pl.DataFrame({"v": raw}, schema={"v": pl.String}).select(coarse(pl.col("v")))
        rows = (
            frame.filter(coarse(pl.col(column)).is_in(blocks["v"].unique().implode()))
            .select(ROW, key_column, column)
            .collect()
            .to_dicts()
        )
        holders: dict[str, set[Any]] = defaultdict(set)  # value → the keys of its rows
        rows_with: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            value = normalise(f.type, row[column], self.region)
            if value in wanted:
                normal = normalise(self.key.type, row[key_column], self.region)
                holders[value].add(normal if normal is not None else ("row", row[ROW]))
                rows_with[value].append(row)
        in_pilot: dict[str, set[Any]] = defaultdict(set)  # value → the pilot keys holding it
        for normal, indexes in self.records.items():
            for index in indexes:
                if index in value_of and value_of[index] is not None:
                    in_pilot[value_of[index]].add(normal)
        for index, row in self.keyless.items():  # found by its other fields: held as its row
            value = normalise(f.type, self.pilot[index].get(f.name), self.region)
            if value is not None:
                in_pilot[value].add(("row", row[ROW]))
        reason = SAME_EMAIL if f.type == EMAIL else SAME_PHONE
        found = []
        for index, value in value_of.items():
            if value is not None and len(holders[value]) > len(in_pilot[value]):
                expected, row = self.pilot[index].get(f.name), self.pairs[index]
                found.append(
                    self._difference(
                        DUPLICATE, index, f.name, expected, row[column], *rows_with[value],
                        reason=reason,
                    )
                )  # fmt: skip
        return found

    def unexpected(self, frame: pl.LazyFrame, taken: set[int]) -> list[Difference]:
        """The first :data:`MAX_UNEXPECTED` returned rows that are no pilot record."""
        column = self.columns[self.key.name]
        rows = (
            frame.filter(~pl.col(ROW).is_in(pl.Series(sorted(taken), dtype=pl.UInt32).implode()))
            .select(ROW, column)
            .head(MAX_UNEXPECTED)
            .collect()
            .to_dicts()
        )
        return [
            Difference(id="", kind=UNEXPECTED, key=row[column], rows=(row[ROW],)) for row in rows
        ]


def _identified(
    difference: Difference, types: Mapping[str, str], key_type: str, region: str, secret: bytes
) -> Difference:
    """``difference`` with its id: a hash keyed by ``secret`` of its kind, its key as its type
    reads it (or its record's or row's number when it has none), its field, and the values
    found and expected as their field's type reads them; 12 hex digits. The same finding in the
    next reconciliation has the same id (its explanation carries over); a value that changed
    again is a new finding, to be explained again."""
    anchor = normalise(key_type, difference.key, region)
    if anchor is None:
        anchor = f"#{difference.record}" if difference.record else f"row {difference.rows}"
    type_ = types.get(difference.field or "", TEXT)
    values = [normalise(type_, v, region) or "" for v in (difference.expected, difference.found)]
    material = "\x1f".join((difference.kind, anchor, difference.field or "", *values))
    digest = hashlib.blake2b(material.encode(), key=secret[:64], digest_size=6).hexdigest()
    return Difference(**{**difference.__dict__, "id": digest})
