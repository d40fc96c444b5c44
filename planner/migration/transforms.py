"""The transformations of a recipe's rules: their catalogue, and the one implementation of
each on one row's source values.

:data:`TRANSFORMS` says, for the page and the API, what each transformation does, which types
of field it can fill, how many source columns it reads and its options (with their allowed
values and defaults). :func:`check_options` validates a rule's options against it.

:func:`clean_value` cleans one row's source values for one rule: everything that cleans
(:func:`planner.migration.recipe.clean` on distinct values, the preview, the written file) goes
through it, so the page previews exactly what the file gets. :func:`cleaner` is the same
function with the rule's options read once, for a loop over many values.

An empty cell (None, or only whitespace) stays empty, without a problem, for every
transformation but :data:`constant`. A value that cannot be cleaned gets a problem ``kind``
("ambiguous date") and a ``message`` that never quotes the value ("ambiguous date: day and
month could be swapped"), and no value: the recipe decides whether that rejects the row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from planner.core.errors import ValidationError
from planner.core.i18n import quoted
from planner.migration import formats
from planner.migration.fields import (
    CHECKBOX,
    DATE,
    EMAIL,
    NUMBER,
    PHONE,
    PICKLIST,
    TEXT,
    TYPES,
    Field,
)

if TYPE_CHECKING:
    from planner.migration.recipe import Rule

NAME_MAX = 120  # characters of a name: a field, a column, a picklist value
CELL_MAX = 1000  # characters of a value written in a recipe: a map's key, a constant
MAP_MAX = 1000  # entries of a picklist's map
SEPARATOR_MAX = 10

DATE_FORMATS = (
    "dd.mm.yyyy",
    "yyyy-mm-dd",
    "dd.mm.yy",
    "dd-mm-yyyy",
    "dd/mm/yyyy",
    "mm/dd/yyyy",
    formats.EXCEL_SERIAL,
)
SLASHED_FORMATS = ("dd/mm/yyyy", "mm/dd/yyyy")
NAME_ORDERS = ("last first middle", "first last", "first middle last")

# Problem kinds, and what they say (never the value itself).
NOT_TEXT = "not a value"
NOT_PHONE = "not a phone number"
SEVERAL_PHONES = "several phone numbers"
LOCAL_PHONE = "local number"
NOT_DATE = "not a date"
AMBIGUOUS_DATE = "ambiguous date"
NO_SUCH_DATE = "no such date"
OTHER_DATE_FORMAT = "date in another format"
NOT_NUMBER = "not a number"
NOT_EMAIL = "not an e-mail address"
SEVERAL_EMAILS = "several e-mail addresses"
NOT_BOOLEAN = "not yes or no"
NOT_MAPPED = "not in the map"
NOT_ALLOWED = "not an allowed value"
REQUIRED_EMPTY = "required field empty"
MESSAGES = {
    NOT_PHONE: "not a phone number of {region}",
    SEVERAL_PHONES: "several phone numbers in one cell",
    LOCAL_PHONE: "a local number without its area code",
    NOT_DATE: "not a date",
    AMBIGUOUS_DATE: "ambiguous date: day and month could be swapped",
    NO_SUCH_DATE: "no such date",
    OTHER_DATE_FORMAT: "a date in a format the rule does not read",
    NOT_NUMBER: "not a number",
    NOT_EMAIL: "not an e-mail address",
    SEVERAL_EMAILS: "several e-mail addresses in one cell",
    NOT_BOOLEAN: "neither yes nor no",
    NOT_MAPPED: "a value the rule's map does not list",
    NOT_ALLOWED: "not one of the field's values",
    REQUIRED_EMPTY: "the required field is empty",
}


def message(kind: str, region: str = "") -> str:
    """What a problem of ``kind`` says to people (for phone numbers, of which ``region``)."""
    return MESSAGES.get(kind, kind).format(region=region)


# --- the catalogue ---------------------------------------------------------------------------

BOOL, CHOICE, REGION, FORMATS, MAP, STRING = "bool", "choice", "region", "formats", "map", "text"
ONE, SEVERAL, NONE = "one", "several", "none"


@dataclass(frozen=True)
class Option:
    """An option of a transformation: its ``kind`` (bool, choice, region, formats: a list of
    :data:`DATE_FORMATS`, map: source value to target value, text), its ``default`` (none
    when ``required``) and, for a choice, its ``choices``."""

    name: str
    kind: str
    label: str
    default: Any = None
    choices: tuple[str, ...] = ()
    required: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, for the page and the API."""
        return {
            "name": self.name,
            "kind": self.kind,
            "label": self.label,
            "default": _copy(self.default),
            "choices": list(self.choices),
            "required": self.required,
        }


@dataclass(frozen=True)
class Transform:
    """A transformation: its ``label`` and ``description``, the field types it ``fills``,
    how many source columns it reads (``sources``: one, several, none) and its options."""

    name: str
    label: str
    description: str
    fills: tuple[str, ...]
    sources: str
    options: tuple[Option, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, for the page and the API."""
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "fills": list(self.fills),
            "sources": self.sources,
            "options": [option.as_dict() for option in self.options],
        }


TRANSFORMS: dict[str, Transform] = {
    t.name: t
    for t in (
        Transform(
            "text",
            "Text",
            "The cell as text: trimmed, runs of spaces made one, in the case chosen.",
            (TEXT,),
            ONE,
            (
                Option("trim", BOOL, "Trim spaces at both ends", True),
                Option("collapse_spaces", BOOL, "Make runs of spaces one space", True),
                Option("case", CHOICE, "Case", "none", ("none", "lower", "upper", "title")),
            ),
        ),
        Transform(
            "phone",
            "Phone number",
            "A phone number in international form (E.164, +79123456789); the trunk 8 of "
            "Russia and the old 80 of Ukraine are understood. Numbers without a country code "
            "are read for the region (the recipe's when none is chosen).",
            (PHONE, TEXT),
            ONE,
            (Option("region", REGION, "Country of numbers without a code", None),),
        ),
        Transform(
            "date",
            "Date",
            "A date as YYYY-MM-DD, read in the formats chosen (none chosen: every format "
            "whose day and month are certain). A slashed date whose day and month could be "
            "swapped is read only by a chosen dd/mm/yyyy or mm/dd/yyyy, never guessed.",
            (DATE, TEXT),
            ONE,
            (Option("formats", FORMATS, "Formats of the dates", [], DATE_FORMATS),),
        ),
        Transform(
            "number",
            "Number",
            "A number with a decimal point and no grouping (1 234,50 is 1234.5).",
            (NUMBER, TEXT),
            ONE,
        ),
        Transform(
            "email",
            "E-mail address",
            "One e-mail address, trimmed and lower-cased (or only its domain); a cell with "
            "several addresses is a problem.",
            (EMAIL, TEXT),
            ONE,
            (Option("keep_case", BOOL, "Keep the case of the part before @", False),),
        ),
        Transform(
            "checkbox",
            "Yes or no",
            "true or false, from yes and no in Russian, Ukrainian, English (да, так, yes, 1, "
            "true; нет, ні, no, 0, false).",
            (CHECKBOX,),
            ONE,
        ),
        Transform(
            "picklist",
            "Picklist",
            "A value of the picklist, through the map; a value the map does not list is "
            "refused, kept or left empty.",
            (PICKLIST, TEXT),
            ONE,
            (
                Option("map", MAP, "Source value to picklist value", {}),
                Option("otherwise", CHOICE, "Other values", "reject", ("reject", "keep", "empty")),
            ),
        ),
        Transform(
            "split_name",
            "Part of a full name",
            "One part of a full name in one cell (Иванов Пётр Сергеевич), by the order of "
            "its words.",
            (TEXT,),
            ONE,
            (
                Option("part", CHOICE, "Part", None, ("first", "last", "middle"), required=True),
                Option("order", CHOICE, "Order of the words", NAME_ORDERS[0], NAME_ORDERS),
            ),
        ),
        Transform(
            "join",
            "Join",
            "Several cells joined with the separator, empty ones left out.",
            (TEXT,),
            SEVERAL,
            (Option("separator", STRING, "Separator", " "),),
        ),
        Transform(
            "constant",
            "Constant",
            "The same value in every row; reads no column.",
            TYPES,
            NONE,
            (Option("value", STRING, "Value", None, required=True),),
        ),
    )
}
NATURAL = {  # the transformation that fills a field of each type, with its defaults
    TEXT: "text",
    DATE: "date",
    CHECKBOX: "checkbox",
    NUMBER: "number",
    PHONE: "phone",
    EMAIL: "email",
    PICKLIST: "picklist",
}


def catalogue() -> list[dict[str, Any]]:
    """Every transformation, JSON-able (see :class:`Transform`)."""
    return [transform.as_dict() for transform in TRANSFORMS.values()]


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list | tuple):
        return list(value)
    return value


def defaults(name: str) -> dict[str, Any]:
    """The options of transformation ``name`` that have a default, set to it."""
    return {o.name: _copy(o.default) for o in TRANSFORMS[name].options if not o.required}


def check_options(name: str, options: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """``options`` of transformation ``name`` with the defaults filled in, and the errors by
    option name ("" for options that are not an object). ``name`` must be in TRANSFORMS."""
    transform = TRANSFORMS[name]
    if not isinstance(options, dict):
        return {}, {"": ["The options are not an object."]}
    known = {option.name: option for option in transform.options}
    errors: dict[str, list[str]] = {}
    for key in options:
        if key not in known:
            allowed = ", ".join(known) or "none"
            errors[str(key)] = [
                f"Unknown option {quoted(key)} of {quoted(name)}: its options are {allowed}."
            ]
    filled = defaults(name)
    for option in transform.options:
        if option.name not in options:
            if option.required:
                errors[option.name] = [f"{quoted(name)} needs the option {quoted(option.name)}."]
            continue
        value = options[option.name]
        wrong = _option_error(option, value)
        if wrong:
            errors[option.name] = [wrong]
        else:
            filled[option.name] = value.upper() if option.kind == REGION and value else value
    return filled, errors


def _option_error(option: Option, value: Any) -> str | None:
    """What is wrong with ``value`` for ``option``, or None."""
    label = quoted(option.name)
    if option.kind == BOOL:
        return None if isinstance(value, bool) else f"{label} is true or false."
    if option.kind == CHOICE:
        if value in option.choices:
            return None
        return f"{label} is one of {', '.join(option.choices)}."
    if option.kind == REGION:
        if value is None:
            return None
        return region_error(value)
    if option.kind == STRING:
        if not isinstance(value, str):
            return f"{label} is text."
        limit = SEPARATOR_MAX if option.name == "separator" else CELL_MAX
        return None if len(value) <= limit else f"{label} has more than {limit} characters."
    if option.kind == FORMATS:
        return _formats_error(label, value)
    return _map_error(label, value)


def region_error(value: Any) -> str | None:
    """What is wrong with a region code (an ISO 3166 code phone numbers are known for)."""
    if not isinstance(value, str) or not value:
        return "The region is an ISO country code, such as RU or UA."
    try:
        formats.phone_shapes(value.upper())
    except ValidationError:
        return f"Unknown region {quoted(value)}: an ISO country code, such as RU or UA."
    return None


def _formats_error(label: str, value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return f"{label} is a list of date formats."
    unknown = [v for v in value if v not in DATE_FORMATS]
    if unknown:
        return f"Unknown date format {quoted(unknown[0])}: one of {', '.join(DATE_FORMATS)}."
    if len(set(value)) < len(value):
        return f"{label} names a format twice."
    if all(form in value for form in SLASHED_FORMATS):
        return f"{label} cannot hold both dd/mm/yyyy and mm/dd/yyyy: choose how 03/04 is read."
    return None


def _map_error(label: str, value: Any) -> str | None:
    if not isinstance(value, dict) or not all(
        isinstance(v, str) for pair in value.items() for v in pair
    ):
        return f"{label} is an object of source values to picklist values, all text."
    if len(value) > MAP_MAX:
        return f"{label} has more than {MAP_MAX} entries."
    if any(len(k) > CELL_MAX for k in value) or any(len(v) > NAME_MAX for v in value.values()):
        return f"{label} has a source value over {CELL_MAX} or a target over {NAME_MAX} characters."
    return None


def field_errors(
    name: str, options: dict[str, Any], field: Field, region: str
) -> dict[str, list[str]]:
    """Errors of options that only ``field`` can judge, by option name: a map's target that is
    not one of the field's values, a constant the field's type would not hold as it is (a
    phone number is read for ``region``)."""
    errors: dict[str, list[str]] = {}
    if name == "picklist" and field.values:
        wrong = sorted({v for v in options.get("map", {}).values() if v not in field.values})
        if wrong:
            errors["map"] = [
                f"{quoted(wrong[0])} is not one of the values of {quoted(field.name)}: "
                f"{', '.join(field.values[:20])}."
            ]
    if name == "constant" and isinstance(options.get("value"), str):
        value = options["value"]
        natural = NATURAL[field.type]
        probe = defaults(natural) | ({"otherwise": "keep"} if natural == "picklist" else {})
        outcome = _single(_make(natural, probe, field, region), value, region)
        if outcome.problem or outcome.value != value:
            hint = f": write {quoted(outcome.value)}" if outcome.value and not outcome.kind else ""
            errors["value"] = [
                f"{quoted(value)} is not a value of the {field.type} field "
                f"{quoted(field.name)} as written{hint}."
            ]
    return errors


# --- one row's values ------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A rule's result for one row: the ``value`` written (None: empty), the ``problem``
    said to people and its ``kind`` (None: none), and whether a filled cell was ``changed``
    (written differently from the cell it came from, without a problem; always False for
    split_name, join and constant, whose value is no cell)."""

    value: str | None
    problem: str | None
    changed: bool
    kind: str | None = None


Cleaner = Callable[[Sequence[str | None]], Outcome]
# A transformation on one cell that is not empty (untrimmed): (value, problem kind).
_Step = Callable[[str], tuple[str | None, str | None]]
EMPTY = Outcome(None, None, False)


def clean_value(rule: Rule, field: Field, values: Sequence[str | None], region: str) -> Outcome:
    """``rule`` applied to one row's ``values`` (one per source column, None for an empty
    cell) for ``field``; phone numbers without a code are read for ``region`` unless the rule
    chooses its own. The one implementation of every transformation (see the module)."""
    return cleaner(rule, field, region)(values)


def cleaner(rule: Rule, field: Field, region: str) -> Cleaner:
    """:func:`clean_value` for ``rule`` with its options read once."""
    name, options = rule.transform, rule.options
    if name == "constant":
        fixed = Outcome(options["value"] or None, None, False)
        return lambda values: fixed
    if name == "join":
        separator = options.get("separator", " ")

        def join(values: Sequence[str | None]) -> Outcome:
            parts = [v.strip() for v in values if v is not None and v.strip()]
            return Outcome(separator.join(parts), None, False) if parts else EMPTY

        return join
    where = options.get("region") or region
    step = _make(name, options, field, where)
    changes = name != "split_name"
    return lambda values: _single(step, values[0], where, changes=changes)


def _single(step: _Step, raw: str | None, region: str, *, changes: bool = True) -> Outcome:
    if raw is None or not raw.strip():
        return EMPTY
    value, kind = step(raw)
    if kind:
        return Outcome(None, message(kind, region), False, kind)
    return Outcome(value, None, changes and value is not None and value != raw)


def _make(name: str, options: Mapping[str, Any], field: Field, region: str) -> _Step:
    """The step of transformation ``name`` with its options (see :data:`TRANSFORMS`)."""
    if name == "text":
        return _text(options)
    if name == "phone":
        return _phone(region)
    if name == "date":
        return _date(tuple(options.get("formats", ())))
    if name == "number":
        return _number
    if name == "email":
        return _email(bool(options.get("keep_case")))
    if name == "checkbox":
        return _checkbox
    if name == "picklist":
        return _picklist(options, field)
    return _split_name(options["part"], options.get("order", NAME_ORDERS[0]))


_SPACES = re.compile(r"[^\S\n]+")
_AROUND_BREAKS = re.compile(r" ?\n ?")


def _text(options: Mapping[str, Any]) -> _Step:
    trim, collapse = options.get("trim", True), options.get("collapse_spaces", True)
    case = options.get("case", "none")

    def text(value: str) -> tuple[str | None, str | None]:
        if trim:
            value = value.strip()
        if collapse:
            value = _AROUND_BREAKS.sub("\n", _SPACES.sub(" ", value.replace("\r\n", "\n")))
        if case != "none":
            value = getattr(value, case)()
        return value or None, None

    return text


def _phone(region: str) -> _Step:
    def phone(value: str) -> tuple[str | None, str | None]:
        e164 = formats.normalise_phone(value, region)
        if e164:
            return e164, None
        shape = formats.phone_shape(value, region)
        if shape and shape.label == formats.SEVERAL_NUMBERS:
            return None, SEVERAL_PHONES
        if shape and shape.label == formats.LOCAL:
            return None, LOCAL_PHONE
        return None, NOT_PHONE

    return phone


_SLASHED = re.compile(
    formats.whole(dict(formats.DATE_SHAPES)[formats.SLASHED] + f"(?:{formats.TIME_SHAPE})?")
)


def date_part(label: str) -> str:
    """The date part of a format label: "dd.mm.yyyy hh:mm" is "dd.mm.yyyy"."""
    if label == formats.EXCEL_SERIAL or label.startswith(formats.SLASHED):
        return formats.SLASHED if label.startswith(formats.SLASHED) else label
    return label.split(" ")[0].split("T")[0]


def _date(chosen: tuple[str, ...]) -> _Step:
    slashed = next((form for form in chosen if form in SLASHED_FORMATS), None)
    serials = formats.EXCEL_SERIAL in chosen

    def date(value: str) -> tuple[str | None, str | None]:
        text = value.strip()
        if slashed and (found := _SLASHED.match(text)):
            return _slashed(found, day_first=slashed == "dd/mm/yyyy")
        parsed = formats.parse_date(text, serials=serials)
        if parsed is None:
            return None, NOT_DATE
        if parsed.status == formats.AMBIGUOUS:
            return None, AMBIGUOUS_DATE
        if parsed.status == formats.INVALID or parsed.day is None:
            return None, NO_SUCH_DATE
        if chosen and date_part(parsed.format) not in chosen:
            return None, OTHER_DATE_FORMAT
        return parsed.day.isoformat(), None

    return date


def _slashed(found: re.Match[str], *, day_first: bool) -> tuple[str | None, str | None]:
    """A slashed date read as the chosen format says: 03/04/1979 is the 3rd of April when
    the day comes first."""
    parts = found.groupdict()
    first, second, year = int(parts["a"]), int(parts["b"]), int(parts["y"])
    day, month = (first, second) if day_first else (second, first)
    hour, minute, second_ = (int(parts[k] or 0) for k in ("H", "M", "S"))
    if hour > 23 or minute > 59 or second_ > 59:
        return None, NO_SUCH_DATE
    try:
        return dt.date(year, month, day).isoformat(), None
    except ValueError:
        return None, NO_SUCH_DATE


_NUMBERS = tuple((re.compile(formats.whole(shape)), how) for _, shape, how in formats.NUMBER_SHAPES)
_GROUPS = re.compile(f"[{formats.GROUP_SEPARATORS}]")


def _number(value: str) -> tuple[str | None, str | None]:
    """The number read as :func:`formats.parse_number` reads it, written exactly (as a
    decimal, not through a float): "1 234,50" is "1234.5", "007" is "7"."""
    text = value.strip()
    if formats.parse_number(text) is None:
        return None, NOT_NUMBER
    how = next(how for pattern, how in _NUMBERS if pattern.match(text))
    if how == "comma":
        text = text.replace(",", ".")
    elif how == "spaces":
        text = _GROUPS.sub("", text).replace(",", ".")
    elif how == "commas":
        text = text.replace(",", "")
    elif how == "dots":
        text = text.replace(".", "").replace(",", ".")
    number = Decimal(text)
    if number == number.to_integral_value():
        return str(int(number)), None
    return format(number.normalize(), "f"), None


def _email(keep_case: bool) -> _Step:
    def email(value: str) -> tuple[str | None, str | None]:
        text = value.strip()
        found = formats.email_format(text)
        if found == formats.SEVERAL_ADDRESSES:
            return None, SEVERAL_EMAILS
        if found != formats.VALID:
            return None, NOT_EMAIL
        if not keep_case:
            return text.lower(), None
        local, _, domain = text.rpartition("@")
        return f"{local}@{domain.lower()}", None

    return email


YES = frozenset(yes for yes, _ in formats.BOOLEAN_PAIRS) | {"+", "on", "вкл", "увімк"}
NO = frozenset(no for _, no in formats.BOOLEAN_PAIRS) | {"off", "выкл", "вимк"}


def _checkbox(value: str) -> tuple[str | None, str | None]:
    word = value.strip().lower()
    if word in YES:
        return "true", None
    if word in NO:
        return "false", None
    return None, NOT_BOOLEAN


def folded(text: str) -> str:
    """``text`` as values are compared: case, ё and runs of spaces left out."""
    return " ".join(text.casefold().replace("ё", "е").split())


def _picklist(options: Mapping[str, Any], field: Field) -> _Step:
    mapping: dict[str, str] = options.get("map", {})
    loose = {folded(key): target for key, target in mapping.items()}
    otherwise = options.get("otherwise", "reject")
    allowed = frozenset(field.values)

    def picklist(value: str) -> tuple[str | None, str | None]:
        text = value.strip()
        target = mapping.get(text)
        if target is None:
            target = loose.get(folded(text))
        if target is None:
            if otherwise == "reject":
                return None, NOT_MAPPED
            target = text if otherwise == "keep" else None
        if target and allowed and target not in allowed:
            return None, NOT_ALLOWED
        return target or None, None

    return picklist


def _split_name(part: str, order: str) -> _Step:
    def split_name(value: str) -> tuple[str | None, str | None]:
        words = value.split()
        if order == "last first middle":
            last, first, middle = words[:1], words[1:2], words[2:]
        elif order == "first last":
            first, middle, last = words[:1], [], words[1:]
        else:  # first middle last
            first, middle, last = words[:1], words[1:-1], words[1:][-1:]
        found = {"first": first, "last": last, "middle": middle}[part]
        return " ".join(found) or None, None

    return split_name
