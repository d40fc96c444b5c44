"""A cleaning recipe: the JSON document of :mod:`planner.migration.fields` parsed and checked.

:func:`parse` turns the document into a :class:`Recipe` (its :class:`Rule` per field, its
optional :class:`Merge`) or raises ValidationError naming every error by its JSON path
("rules[2].transform"); ``Recipe.as_document`` writes it back. What each transformation does
is :mod:`planner.migration.transforms` (its catalogue :data:`TRANSFORMS`, the one
implementation :func:`clean_value`); applying a recipe to a file is
:mod:`planner.migration.cleaning` (:func:`check_columns`, :func:`clean`, :func:`preview`,
:func:`apply_file`). All of them are importable from here.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from planner.core.errors import ValidationError
from planner.core.i18n import counted, quoted
from planner.migration import transforms
from planner.migration.cleaning import (
    REJECT,
    WARNING,
    Cleaned,
    MergedGroup,
    Summary,
    apply_file,
    check_columns,
    clean,
    preview,
)
from planner.migration.fields import FORMAT, FORMAT_VERSION, PICKLIST, TEXT, TYPES, Field
from planner.migration.transforms import (
    NAME_MAX,
    NONE,
    ONE,
    TRANSFORMS,
    Outcome,
    catalogue,
    clean_value,
)
from planner.migration.writing import spreadsheet_safe

__all__ = [
    "REJECT",
    "WARNING",
    "TRANSFORMS",
    "Cleaned",
    "Merge",
    "MergedGroup",
    "Outcome",
    "Recipe",
    "Rule",
    "Summary",
    "apply_file",
    "catalogue",
    "check_columns",
    "clean",
    "clean_value",
    "make_rule",
    "parse",
    "preview",
    "spreadsheet_safe",
]

FIELDS_MAX = 200
RULES_MAX = 200
VALUES_MAX = 1000  # values of a picklist field
WINNERS = ("first", "last", "most_complete")
POLICIES = ("first_non_empty", "last_non_empty", "longest", "winner")


# --- the recipe ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """How one target ``field`` is filled: from the ``sources`` columns, by ``transform``
    with its ``options`` (every option of the transformation, defaults filled in)."""

    field: str
    sources: tuple[str, ...]
    transform: str
    options: dict[str, Any] = dataclass_field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The rule as the recipe document writes it."""
        return {
            "field": self.field,
            "from": list(self.sources),
            "transform": self.transform,
            "options": copy.deepcopy(self.options),
        }


def make_rule(field: str, sources: Sequence[str], transform: str, **options: Any) -> Rule:
    """A rule with the defaults of ``transform`` for the options not given."""
    return Rule(field, tuple(sources), transform, transforms.defaults(transform) | options)


@dataclass(frozen=True)
class Merge:
    """Rows that share the normalised value (trimmed, lower-cased) of any ``by`` field are
    one record: the ``winner`` (the first row, the last, or the most complete: most fields
    filled, the first of equals) is its base; ``fields`` says per field which row's value
    is kept instead (first_non_empty, last_non_empty, longest, winner)."""

    by: tuple[str, ...]
    winner: str = "most_complete"
    fields: dict[str, str] = dataclass_field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The merge as the recipe document writes it."""
        return {"by": list(self.by), "winner": self.winner, "fields": dict(self.fields)}


@dataclass(frozen=True)
class Recipe:
    """A parsed recipe (see :mod:`planner.migration.fields` for the document)."""

    entity: str
    region: str
    key: str
    fields: tuple[Field, ...]
    rules: tuple[Rule, ...]
    merge: Merge | None = None

    def as_document(self) -> dict[str, Any]:
        """The JSON document: ``parse(recipe.as_document()) == recipe``."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "entity": self.entity,
            "region": self.region,
            "key": self.key,
            "fields": [field.as_dict() for field in self.fields],
            "rules": [rule.as_dict() for rule in self.rules],
            "merge": self.merge.as_dict() if self.merge else None,
        }

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the rules read, each once, in the order of the rules."""
        return tuple(dict.fromkeys(source for rule in self.rules for source in rule.sources))


class _Errors(dict[str, list[str]]):
    def add(self, path: str, text: str) -> None:
        self.setdefault(path, []).append(text)

    def check(self, what: str) -> None:
        if self:
            path, texts = next(iter(self.items()))
            more = sum(len(texts) for texts in self.values()) - 1
            also = f" ({counted(more, 'more error')})" if more else ""
            raise ValidationError(f"{what} is not valid: {path}: {texts[0]}{also}", dict(self))


_TOP = ("format", "format_version", "entity", "region", "key", "fields", "rules", "merge")
_FIELD_KEYS = ("name", "label", "type", "required", "sensitive", "values")
_RULE_KEYS = ("field", "from", "transform", "options")
_MERGE_KEYS = ("by", "winner", "fields")


def parse(document: Any) -> Recipe:
    """The recipe of a JSON ``document`` (already decoded), every part checked.

    Raises ValidationError whose ``errors`` map JSON paths ("format_version", "fields[0].type",
    "rules[2].transform", "rules[2].options.region", "merge.winner", "document" for a document
    that is no object) to messages: a wrong format or version, unknown keys, names empty or
    over 120 characters, unknown types, transformations, options or regions, options of a
    wrong type or value, a rule for a field the recipe lacks or a second rule for one field,
    a transformation that cannot fill its field's type, a key that is no field, more than 200
    fields or rules, a picklist of more than 1000 values."""
    if not isinstance(document, dict):
        raise ValidationError(
            "The recipe is not valid: it is not a JSON object.",
            {"document": ["The recipe is not a JSON object."]},
        )
    errors = _Errors()
    _unknown(document, _TOP, "", errors)
    if document.get("format") != FORMAT:
        errors.add("format", f"The format of a recipe is {quoted(FORMAT)}.")
    version = document.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        errors.add("format_version", f"The recipe's format version is {FORMAT_VERSION}.")
    entity = _name(document.get("entity"), "entity", errors)
    region = document.get("region")
    if wrong := transforms.region_error(region):
        errors.add("region", wrong)
        region = "RU"  # to check the rest
    region = str(region).upper()
    fields = _fields(document.get("fields"), errors)
    rules = _rules(document.get("rules"), {f.name: f for f in fields}, region, errors)
    key = document.get("key")
    if not isinstance(key, str) or not key:
        errors.add("key", "The recipe names no key: the name of the field records are matched by.")
    elif key not in {f.name for f in fields}:
        errors.add("key", f"The key {quoted(key)} is not one of the recipe's fields.")
    merge = _merge(document.get("merge"), {f.name for f in fields}, errors)
    errors.check("The recipe")
    return Recipe(str(entity), region, str(key), tuple(fields), tuple(rules), merge)


def _unknown(found: dict[str, Any], known: tuple[str, ...], at: str, errors: _Errors) -> None:
    for key in found:
        if key not in known:
            path = f"{at}.{key}" if at else str(key)
            errors.add(path, f"Unknown key {quoted(key)}: one of {', '.join(known)}.")


def _name(value: Any, path: str, errors: _Errors) -> str | None:
    """``value`` when it is a name: text, not blank, at most :data:`NAME_MAX` characters."""
    if not isinstance(value, str) or not value.strip():
        errors.add(path, "A name is text that is not empty.")
        return None
    if len(value) > NAME_MAX:
        errors.add(path, f"A name has at most {NAME_MAX} characters.")
        return None
    return value


def _list(value: Any, path: str, limit: int, errors: _Errors) -> list[Any]:
    if not isinstance(value, list):
        errors.add(path, "A list is expected here.")
        return []
    if len(value) > limit:
        errors.add(path, f"At most {limit} entries.")
        return []
    return value


def _flag(item: dict[str, Any], key: str, path: str, errors: _Errors) -> bool:
    value = item.get(key, False)
    if not isinstance(value, bool):
        errors.add(f"{path}.{key}", f"{quoted(key)} is true or false.")
        return False
    return value


def _fields(value: Any, errors: _Errors) -> list[Field]:
    found: list[Field] = []
    items = _list(value, "fields", FIELDS_MAX, errors)
    if isinstance(value, list) and not value:
        errors.add("fields", "A recipe has at least one field.")
    names: set[str] = set()
    for i, item in enumerate(items):
        at = f"fields[{i}]"
        if not isinstance(item, dict):
            errors.add(at, "A field is an object.")
            continue
        _unknown(item, _FIELD_KEYS, at, errors)
        name = _name(item.get("name"), f"{at}.name", errors)
        if name in names:
            errors.add(f"{at}.name", f"Two fields are named {quoted(name)}.")
        elif name and name.startswith("__"):
            errors.add(f"{at}.name", "Names that start with __ are reserved.")
        label = _name(item.get("label", name), f"{at}.label", errors)
        kind = item.get("type", TEXT)
        if kind not in TYPES:
            errors.add(f"{at}.type", f"Unknown type {quoted(kind)}: one of {', '.join(TYPES)}.")
        required = _flag(item, "required", at, errors)
        sensitive = _flag(item, "sensitive", at, errors)
        values = _values(item.get("values", []), kind, f"{at}.values", errors)
        if name and label and kind in TYPES and values is not None:
            names.add(name)
            found.append(Field(name, label, kind, required, sensitive, values))
    return found


def _values(value: Any, kind: Any, path: str, errors: _Errors) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        errors.add(path, "The values are a list.")
        return None
    if value and kind != PICKLIST:
        errors.add(path, "Only a picklist field lists values.")
        return None
    if len(value) > VALUES_MAX:
        errors.add(path, f"A picklist has at most {VALUES_MAX} values.")
        return None
    if not all(isinstance(v, str) and v.strip() and len(v) <= NAME_MAX for v in value):
        errors.add(path, f"A value is text that is not empty, of at most {NAME_MAX} characters.")
        return None
    if len(set(value)) < len(value):
        errors.add(path, "A value is listed twice.")
        return None
    return tuple(value)


def _rules(value: Any, fields: dict[str, Field], region: str, errors: _Errors) -> list[Rule]:
    found: list[Rule] = []
    filled: dict[str, int] = {}
    for i, item in enumerate(_list(value, "rules", RULES_MAX, errors)):
        at = f"rules[{i}]"
        if not isinstance(item, dict):
            errors.add(at, "A rule is an object.")
            continue
        _unknown(item, _RULE_KEYS, at, errors)
        name = item.get("field")
        field = fields.get(name) if isinstance(name, str) else None
        if field is None:
            errors.add(f"{at}.field", f"No field {quoted(name)} among the recipe's fields.")
        elif name in filled:
            errors.add(f"{at}.field", f"rules[{filled[name]}] fills {quoted(name)} already.")
        else:
            filled[name] = i
        sources = [_name(s, f"{at}.from", errors) for s in _list(item.get("from"), at, 50, errors)]
        transform = item.get("transform")
        if not isinstance(transform, str) or transform not in TRANSFORMS:
            errors.add(
                f"{at}.transform",
                f"Unknown transformation {quoted(transform)}: one of {', '.join(TRANSFORMS)}.",
            )
            continue
        spec = TRANSFORMS[transform]
        wanted = {ONE: len(sources) == 1, NONE: not sources}.get(spec.sources, bool(sources))
        if not wanted:
            many = {ONE: "one column", NONE: "no column"}.get(spec.sources, "one column or more")
            errors.add(f"{at}.from", f"{quoted(transform)} reads {many}.")
        options, wrong = transforms.check_options(transform, item.get("options", {}))
        if field:
            if field.type not in spec.fills:
                errors.add(
                    f"{at}.transform",
                    f"{quoted(transform)} cannot fill {quoted(field.name)}, a {field.type} "
                    f"field: it fills {', '.join(spec.fills)} fields.",
                )
            elif not wrong:
                wrong = transforms.field_errors(transform, options, field, region)
        for option, texts in wrong.items():
            for text in texts:
                errors.add(f"{at}.options.{option}" if option else f"{at}.options", text)
        if field and all(sources):
            found.append(Rule(field.name, tuple(str(s) for s in sources), transform, options))
    return found


def _merge(value: Any, names: set[str], errors: _Errors) -> Merge | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add("merge", "The merge is an object, or null.")
        return None
    _unknown(value, _MERGE_KEYS, "merge", errors)
    by = _list(value.get("by"), "merge.by", FIELDS_MAX, errors)
    if isinstance(value.get("by"), list) and not by:
        errors.add("merge.by", "Name the fields that make rows one record.")
    for name in by:
        if not isinstance(name, str) or name not in names:
            errors.add("merge.by", f"No field {quoted(name)} among the recipe's fields.")
    winner = value.get("winner", "most_complete")
    if not isinstance(winner, str) or winner not in WINNERS:
        errors.add("merge.winner", f"Unknown winner {quoted(winner)}: one of {', '.join(WINNERS)}.")
    policies = value.get("fields", {})
    if not isinstance(policies, dict):
        errors.add("merge.fields", "The fields of a merge are an object of field to policy.")
        policies = {}
    for name, policy in policies.items():
        if name not in names:
            errors.add(
                f"merge.fields.{name}", f"No field {quoted(name)} among the recipe's fields."
            )
        elif not isinstance(policy, str) or policy not in POLICIES:
            errors.add(
                f"merge.fields.{name}",
                f"Unknown policy {quoted(policy)}: one of {', '.join(POLICIES)}.",
            )
    return Merge(tuple(by), str(winner), dict(policies))
