"""What one cell of an old CRM's export looks like: pure classifiers, one value at a time.

Every family of values has a table of formats: a label a person recognises ("dd.mm.yyyy",
"national 8…", "decimal comma") and the regular expression of its shape. The functions here
classify one value in Python (to infer a column's type from its distinct values, to check a
date or a phone number, to normalise one); :mod:`planner.migration.counting` turns the very
same expressions into polars ones to count formats over millions of cells. So the expressions
keep to what Python's ``re`` and Rust's ``regex`` (polars) read alike: no look-around, no
back-references, ``[0-9]`` for a digit; both engines match them whole (:func:`whole`).

Nothing here reads a file or knows a column. Values are classified with their surrounding
whitespace trimmed.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

from planner.core.errors import ValidationError

TYPES = ("text", "integer", "decimal", "date", "datetime", "phone", "email", "boolean", "picklist")
OTHER = "other"  # the format of a value that has none of its column's type
TYPE_SHARE = 0.8  # a column has a type when this share of its filled cells has the type's shape
BOOLEAN_SHARE = 0.98
BOOLEAN_DISTINCT = 6  # "Да", "нет", "ДА"...: a yes/no column has few spellings
PHONE_HEADER_SHARE = 0.5  # a column headed "Phone" is one when half its values read as numbers
PICKLIST_MAX = 25  # a picklist: at most this many distinct values, each used twice on average

VALID, INVALID, AMBIGUOUS = "valid", "invalid", "ambiguous"


def whole(pattern: str) -> str:
    """``pattern`` matched whole, as polars' ``str.contains`` needs it."""
    return f"^(?:{pattern})$"


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(whole(pattern))


# --- dates -----------------------------------------------------------------------------------

SLASHED = "dd/mm/yyyy or mm/dd/yyyy"  # 03/04/2024: the third of April, or the fourth of March
EXCEL_SERIAL = "excel serial"
# The date part of each format; a time may follow (" 14:05", "T14:05:09Z").
DATE_SHAPES: tuple[tuple[str, str], ...] = (
    ("yyyy-mm-dd", r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})"),
    ("dd.mm.yyyy", r"(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.(?P<y>[0-9]{4})"),
    ("dd.mm.yy", r"(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.(?P<y>[0-9]{2})"),
    ("dd-mm-yyyy", r"(?P<d>[0-9]{1,2})-(?P<m>[0-9]{1,2})-(?P<y>[0-9]{4})"),
    (SLASHED, r"(?P<a>[0-9]{1,2})/(?P<b>[0-9]{1,2})/(?P<y>[0-9]{4})"),
)
TIME_SHAPE = (
    r"(?P<sep>[ T])(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:[.,][0-9]{1,6})?)?"
    r"(?P<zone>\s?(?:Z|[+-][0-9]{2}:?[0-9]{2}))?"
)
# Days since 1899-12-30, as Excel stores dates: 20000 is 1954-10-03, 73050 is 2099-12-31.
SERIAL_SHAPE = r"[0-9]{5}(?:[.,][0-9]+)?"
SERIAL_RANGE = (20000, 73051)
EXCEL_EPOCH = dt.date(1899, 12, 30)

_DATES = tuple((label, _compile(shape + f"(?:{TIME_SHAPE})?")) for label, shape in DATE_SHAPES)
_SERIAL = _compile(SERIAL_SHAPE)


@dataclass(frozen=True)
class DateValue:
    """A value read as a date: its ``format`` ("dd.mm.yyyy hh:mm", "excel serial"), its
    ``status`` (valid, invalid: no such day or hour, ambiguous: day and month could be
    swapped), the ``day`` when it is valid, and whether it carries a time."""

    format: str
    status: str
    day: dt.date | None
    has_time: bool


def parse_date(value: str, *, serials: bool = False) -> DateValue | None:
    """``value`` as a date, or None when it has no date's shape. An impossible date
    (31.02.2024, 25:10) is INVALID; a slashed date whose day and month could be swapped
    (03/04/2024) is AMBIGUOUS and has no ``day``: it is never guessed. With ``serials``, a
    number of five digits is read as an Excel serial date (for a column known to hold dates)."""
    text = value.strip()
    if serials and _SERIAL.match(text):
        number = float(text.replace(",", "."))
        if SERIAL_RANGE[0] <= number < SERIAL_RANGE[1]:
            day = EXCEL_EPOCH + dt.timedelta(days=int(number))
            return DateValue(EXCEL_SERIAL, VALID, day, not number.is_integer())
        return None
    for label, pattern in _DATES:
        if found := pattern.match(text):
            return _date_value(label, found.groupdict())
    return None


def _date_value(label: str, parts: dict[str, str | None]) -> DateValue:
    year_text = parts["y"] or ""
    year = int(year_text)
    if len(year_text) == 2:  # as strptime's %y: 69-99 are 1969-1999, 00-68 are 2000-2068
        year += 1900 if year >= 69 else 2000
    has_time = parts["H"] is not None
    label += _time_label(parts) if has_time else ""
    status = VALID
    if has_time and (int(parts["H"] or 0) > 23 or int(parts["M"] or 0) > 59):
        status = INVALID
    if parts["S"] is not None and int(parts["S"]) > 59:
        status = INVALID
    if parts.get("a") is not None:
        first, second = int(parts["a"] or 0), int(parts["b"] or 0)
        if first > 12 >= second:
            label, day, month = label.replace(SLASHED, "dd/mm/yyyy"), first, second
        elif second > 12 >= first:
            label, month, day = label.replace(SLASHED, "mm/dd/yyyy"), first, second
        elif first > 12:
            return DateValue(label, INVALID, None, has_time)
        elif first != second:
            return DateValue(label, status if status == INVALID else AMBIGUOUS, None, has_time)
        else:
            day = month = first
    else:
        day, month = int(parts["d"] or 0), int(parts["m"] or 0)
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return DateValue(label, INVALID, None, has_time)
    return DateValue(label, status, date if status == VALID else None, has_time)


# The formats polars reads by itself, as (pattern, strftime format): counting counts the
# dates of these formats with polars and leaves the rest (slashed dates, two-digit years, time
# zones, whatever polars refuses) to :func:`parse_date`.
_POLARS_DATES = {"yyyy-mm-dd": "%Y-%m-%d", "dd.mm.yyyy": "%d.%m.%Y", "dd-mm-yyyy": "%d-%m-%Y"}
_POLARS_TIMES = {
    "": ("", ""),
    " hh:mm": (" [0-9]{1,2}:[0-9]{2}", " %H:%M"),
    " hh:mm:ss": (" [0-9]{1,2}:[0-9]{2}:[0-9]{2}", " %H:%M:%S"),
    "Thh:mm": ("T[0-9]{1,2}:[0-9]{2}", "T%H:%M"),
    "Thh:mm:ss": ("T[0-9]{1,2}:[0-9]{2}:[0-9]{2}", "T%H:%M:%S"),
}


def strptime_form(label: str) -> tuple[str, str] | None:
    """The (pattern, strftime format) of a date format polars can read by itself, or None."""
    shapes = dict(DATE_SHAPES)
    for date, date_format in _POLARS_DATES.items():
        time = label.removeprefix(date)
        if label.startswith(date) and time in _POLARS_TIMES:
            time_pattern, time_format = _POLARS_TIMES[time]
            return shapes[date] + time_pattern, date_format + time_format
    return None


def _time_label(parts: dict[str, str | None]) -> str:
    label = ("T" if parts["sep"] == "T" else " ") + ("hh:mm:ss" if parts["S"] else "hh:mm")
    zone = (parts["zone"] or "").strip()
    return label + ("Z" if zone == "Z" else "±hh:mm" if zone else "")


# --- numbers ---------------------------------------------------------------------------------

GROUP_SEPARATORS = " \u00a0\u202f'"  # thousands apart, besides commas and dots: spaces, '
# (label, shape, how to read it: see _read_number). The first that matches is the format.
NUMBER_SHAPES: tuple[tuple[str, str, str], ...] = (
    ("integer", r"-?[1-9][0-9]*|-?0", "plain"),
    ("integer with leading zeros", r"-?0[0-9]+", "plain"),
    ("decimal point", r"-?[0-9]+\.[0-9]+", "plain"),
    ("decimal comma", r"-?[0-9]+,[0-9]+", "comma"),
    (
        "thousands separators",
        f"-?[0-9]{{1,3}}(?:[{GROUP_SEPARATORS}][0-9]{{3}})+(?:[.,][0-9]+)?",
        "spaces",
    ),
    (
        "thousands separators",
        r"-?[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+|-?[0-9]{1,3}(?:,[0-9]{3}){2,}",
        "commas",
    ),
    (
        "thousands separators",
        r"-?[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+|-?[0-9]{1,3}(?:\.[0-9]{3}){2,}",
        "dots",
    ),
)
INTEGER_FORMATS = frozenset({"integer", "integer with leading zeros"})
_NUMBERS = tuple((label, _compile(shape), how) for label, shape, how in NUMBER_SHAPES)
_GROUPS = re.compile(f"[{GROUP_SEPARATORS}]")


def _read_number(text: str, how: str) -> float:
    if how == "comma":
        return float(text.replace(",", "."))
    if how == "spaces":
        return float(_GROUPS.sub("", text).replace(",", "."))
    if how == "commas":
        return float(text.replace(",", ""))
    if how == "dots":
        return float(text.replace(".", "").replace(",", "."))
    return float(text)


def parse_number(value: str) -> tuple[str, float] | None:
    """``value``'s number format ("integer", "decimal comma", "thousands separators"...) and
    its value, or None when it is no plain number (a currency sign or a unit makes it text).
    "1,5" is a decimal comma; "1,234,567" and "1 234,5" have thousands separators."""
    text = value.strip()
    for label, pattern, how in _NUMBERS:
        if pattern.match(text):
            return label, _read_number(text, how)
    return None


# --- phone numbers ---------------------------------------------------------------------------

# What people put between the digits of a phone number.
PHONE_FILL = r"[\s().\-]*"
# Regions whose people dial a trunk 8 (Russia, Kazakhstan; Ukraine until 2010): 8 912 … is
# +7 912 …, and 8 050 … (80 and nine digits) is the old Ukrainian form of +380 50 ….
TRUNK_8 = frozenset({"RU", "KZ", "UA"})
SEVERAL_NUMBERS = "several numbers"
LOCAL = "local"


@dataclass(frozen=True)
class PhoneShape:
    """One format of phone numbers: its ``label``, its ``pattern``, and how its digits become
    the international number: drop the first ``drop`` digits, put ``prefix`` in front. Local
    numbers and lists of numbers have no international number (``prefix`` is None)."""

    label: str
    pattern: str
    drop: int = 0
    prefix: str | None = "+"


def _run(low: int, high: int | None = None) -> str:
    """From ``low`` to ``high`` digits, with :data:`PHONE_FILL` between them."""
    high = low if high is None else high
    return f"[0-9](?:{PHONE_FILL}[0-9]){{{low - 1},{high - 1}}}"


def _runs(lengths: Iterable[int]) -> str:
    spans: list[list[int]] = []
    for n in sorted(set(lengths)):
        if spans and spans[-1][1] == n - 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return "|".join(_run(low, high) for low, high in spans)


@functools.cache
def phone_shapes(region: str) -> tuple[PhoneShape, ...]:
    """The formats of phone numbers for ``region`` (an ISO 3166 code: "RU", "UA", "DE"), in
    the order they are tried. Raises ValidationError for a region unknown to phonenumbers."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None:
        raise ValidationError(f"{region!r} is no region phone numbers are known for.")
    code, f = str(meta.country_code), PHONE_FILL
    nsn = _runs(meta.general_desc.possible_length)  # the national number without trunk prefix
    shapes = [
        PhoneShape("E.164", r"\+[0-9]{7,15}"),
        PhoneShape("international with +", rf"\+{f}{_run(7, 15)}"),
        PhoneShape("international 00", rf"00{f}{_run(7, 15)}", drop=2),
    ]
    if region in TRUNK_8:
        shapes += [
            PhoneShape("national 80…", rf"8{f}0{f}{_run(9)}", drop=2, prefix="+380"),
            PhoneShape("national 8…", rf"8{f}[1-9]{f}{_run(9)}", drop=1, prefix="+7"),
            PhoneShape("international without +", rf"7{f}{_run(10)}|380{f}{_run(9)}"),
        ]
    else:
        shapes.append(PhoneShape("international without +", rf"{code}{f}(?:{nsn})"))
    trunk = meta.national_prefix
    if trunk and trunk != "8":
        shapes.append(
            PhoneShape(f"national {trunk}…", rf"{trunk}{f}(?:{nsn})", len(trunk), f"+{code}")
        )
    number = rf"\+?{_run(5, 15)}"
    shapes += [
        PhoneShape("national", nsn, prefix=f"+{code}"),
        PhoneShape(LOCAL, _run(5, 7), prefix=None),
        PhoneShape(SEVERAL_NUMBERS, rf"{number}(?:\s*[,;]\s*{number})+", prefix=None),
    ]
    return tuple(shapes)


@functools.cache
def _phone_patterns(region: str) -> tuple[tuple[PhoneShape, re.Pattern[str]], ...]:
    return tuple((shape, _compile(shape.pattern)) for shape in phone_shapes(region))


def phone_shape(value: str, region: str) -> PhoneShape | None:
    """The phone format ``value`` has for ``region``, or None when it is no phone number."""
    text = value.strip()
    for shape, pattern in _phone_patterns(region):
        if pattern.match(text):
            return shape
    return None


_NOT_DIGIT = re.compile(r"[^0-9]")


@functools.lru_cache(maxsize=1 << 16)
def normalise_phone(value: str, region: str) -> str | None:
    """``value`` as an E.164 number ("+79123456789"), or None when it is no valid number.

    The trunk 8 of Russia and Kazakhstan (8 912 …) and Ukraine's old 80 form (8 050 …) are
    turned into +7 and +380 before phonenumbers sees them, whatever the region: the library
    would read them as national numbers of ``region`` and find them invalid. A local number
    (no area code) or a list of numbers has no single E.164 form."""
    shape = phone_shape(value, region)
    if shape is None or shape.prefix is None:
        return None
    candidate = shape.prefix + _NOT_DIGIT.sub("", value)[shape.drop :]
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- e-mail addresses, yes and no ------------------------------------------------------------

_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
EMAIL_SHAPE = rf"{_ATOM}(?:\.{_ATOM})*@(?:[\w-]+\.)+[\w-]{{2,}}"
SEVERAL_EMAILS_SHAPE = rf"{EMAIL_SHAPE}(?:\s*[,;]\s*{EMAIL_SHAPE})+"
SEVERAL_ADDRESSES = "several addresses"
_EMAIL = _compile(EMAIL_SHAPE)
_SEVERAL_EMAILS = _compile(SEVERAL_EMAILS_SHAPE)


def email_format(value: str) -> str | None:
    """VALID, "several addresses" (a CRM's list in one cell), INVALID (an @ but no address),
    or None for a value without an @."""
    text = value.strip()
    if "@" not in text:
        return None
    if _EMAIL.match(text):
        return VALID
    return SEVERAL_ADDRESSES if _SEVERAL_EMAILS.match(text) else INVALID


BOOLEAN_PAIRS = (
    ("да", "нет"),
    ("так", "ні"),
    ("yes", "no"),
    ("y", "n"),
    ("true", "false"),
    ("1", "0"),
    ("ja", "nein"),
    ("da", "nu"),
    ("истина", "ложь"),
)
_BOOLEANS = {word: f"{yes}/{no}" for yes, no in BOOLEAN_PAIRS for word in (yes, no)}


def boolean_format(value: str) -> str | None:
    """The yes/no pair ``value`` belongs to ("да/нет", "true/false"), or None."""
    return _BOOLEANS.get(value.strip().lower())


# --- a column's type -------------------------------------------------------------------------

_HAS_DIGIT = re.compile(r"[0-9]")


@functools.lru_cache(maxsize=1 << 16)
def families(value: str, region: str) -> frozenset[str]:
    """Every type ``value`` could belong to: "boolean", "date", "datetime", "email",
    "phone", "integer", "decimal"; plus "serial" (a five-digit number, a date in a date
    column) and "dialled" (a phone number that is no plain number: "+7 912…", "345-67-89",
    the sign that a column of digits holds phone numbers)."""
    text = value.strip()
    found = set()
    if boolean_format(text):
        found.add("boolean")
    if "@" in text:
        found.add("email")
        return frozenset(found)
    if not _HAS_DIGIT.search(text):
        return frozenset(found)
    if date := parse_date(text):
        found.add("datetime" if date.has_time else "date")
    number = parse_number(text)
    if number:
        found.add("integer" if number[0] in INTEGER_FORMATS else "decimal")
    if (serial := parse_date(text, serials=True)) and serial.format == EXCEL_SERIAL:
        found.add("serial")
    if phone_shape(text, region):
        found.add("phone")
        if number is None and not date:
            found.add("dialled")
    return frozenset(found)


def infer_type(
    counts: Iterable[tuple[str, int]],
    *,
    filled: int,
    distinct: int,
    region: str,
    phone_column: bool = False,
) -> str:
    """The type of a column from its values and how often each occurs (all of its distinct
    values, or a sample of its cells): the first of boolean, date or datetime, email, phone,
    integer, decimal whose shape at least :data:`TYPE_SHARE` of them have; else a picklist
    (few distinct values used again and again: ``filled`` cells, ``distinct`` values) or text.

    A column of bare digits is a phone column only when some of its numbers are dialled
    ("+7 912…", "345-67-89") or its header says so (``phone_column``); otherwise it holds
    integers (ids, tax numbers). A column whose header says phone is one once
    :data:`PHONE_HEADER_SHARE` of it reads as phone numbers of the region: the others are
    what its profile flags. Excel serial dates count as dates once half the column has
    a date's shape."""
    weights: Counter[str] = Counter()
    total = 0
    for value, count in counts:
        total += count
        for family in families(value, region):
            weights[family] += count
    if not total:
        return "text"
    share = {family: weight / total for family, weight in weights.items()}
    dated = share.get("date", 0) + share.get("datetime", 0)
    if share.get("boolean", 0) >= BOOLEAN_SHARE and distinct <= BOOLEAN_DISTINCT:
        return "boolean"
    if dated >= 0.5 and dated + share.get("serial", 0) >= TYPE_SHARE:
        return "datetime" if share.get("datetime", 0) > share.get("date", 0) else "date"
    if share.get("email", 0) >= TYPE_SHARE:
        return "email"
    if share.get("phone", 0) >= TYPE_SHARE and (phone_column or share.get("dialled", 0) >= 0.3):
        return "phone"
    if phone_column and share.get("phone", 0) >= PHONE_HEADER_SHARE:
        return "phone"  # its header says so: the numbers of another shape are its problems
    if share.get("integer", 0) + share.get("decimal", 0) >= TYPE_SHARE:
        return "decimal" if share.get("decimal", 0) else "integer"
    if distinct <= PICKLIST_MAX and filled >= 2 * distinct:
        return "picklist"
    return "text"
