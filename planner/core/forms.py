"""One home for validation: WTForms classes used by the HTML pages and the JSON API alike.

An HTML view instantiates a form from ``request.form`` (with CSRF); the API calls
:func:`form_from_json`, which feeds the same form the JSON body (without CSRF, since the API
authenticates by bearer token, never by cookie) and refuses what a form cannot express: a body
that is not an object, unknown fields, nested values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateTimeField,
    DecimalField,
    Field,
    FloatField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.validators import Optional as OptionalValidator
from wtforms.validators import ValidationError as WTFormsValidationError
from wtforms.widgets import HiddenInput

from planner.core.db import MAX_INT
from planner.core.errors import ValidationError
from planner.core.i18n import counted

F = TypeVar("F", bound=FlaskForm)


class VersionField(IntegerField):
    """The version of the record the user is editing, for refusing stale edits. A form shown
    again after a refusal keeps the version sent (WTForms renders the raw value): sent again
    as it is, the stale text would overwrite what someone saved meanwhile, so it is refused
    again until the page is reloaded."""

    widget = HiddenInput()


def finite(form: FlaskForm, field: Field) -> None:
    """A number field's value is a finite number (``1e999`` parses as infinity): a validator
    for every FloatField, beside the NumberRange that states its bounds."""
    if field.data is not None and not math.isfinite(field.data):
        raise WTFormsValidationError(_l("Must be a finite number."))


class ListLength:
    """A validator of a multiple choice: at most ``max`` values (the OpenAPI ``maxItems``)."""

    def __init__(self, max: int) -> None:
        self.max = max

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data and len(field.data) > self.max:
            raise WTFormsValidationError(f"At most {self.max} values.")


def form_errors(form: FlaskForm) -> dict[str, list[str]]:
    return {
        name: [str(m) for m in msgs] for name, msgs in form.errors.items() if name != "csrf_token"
    }


def optional_id(value: object) -> int | None:
    """Coerce a select's value to an id, or None for no choice; ValueError if it cannot be one.

    Numbers beyond what an id column holds are refused here rather than failing in the
    database.
    """
    if value in (None, ""):
        return None
    number = int(value)  # type: ignore[call-overload]
    if abs(number) > MAX_INT:
        raise ValueError("out of range")
    return number


def unusable_text(text: str) -> bool:
    """True for text no database can store: NUL characters (PostgreSQL) or lone surrogates."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# The JSON types each kind of field accepts, and the message when a value has another type.
_EXPECTED = {
    "boolean": "Must be true or false.",
    "list": "Must be a list of values.",
    "textlist": "Must be a list of texts.",
    "integer": "Must be a whole number.",
    "number": "Must be a number.",
    "date": "Must be a date written as text, like 2026-11-24.",
    "choice": "Must be one of the choices, as text or a number.",
    "text": "Must be text.",
}


def _kind(field: Field) -> str:
    if isinstance(field, BooleanField):
        return "boolean"
    if isinstance(field, SelectMultipleField):
        return "textlist" if field.coerce is str else "list"
    if isinstance(field, IntegerField):
        return "integer"
    if isinstance(field, FloatField | DecimalField):
        return "number"
    if isinstance(field, DateTimeField):
        return "date"
    if isinstance(field, SelectField | RadioField):
        return "choice"
    return "text"


def _json_value(kind: str, value: Any, strict: bool = False) -> list[str] | str:
    """The form values of one JSON value, or the message why it has the wrong type.

    ``strict``: numbers must be JSON numbers (``"3"`` is refused where 3 is meant)."""
    scalar = isinstance(value, str | int | float)
    if kind == "textlist":
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        return _EXPECTED[kind]
    if kind == "list":
        if isinstance(value, list) and all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in value
        ):
            return [str(v) for v in value]
        return _EXPECTED[kind]
    if not scalar:
        return f"Must be a single value, not a list or an object. {_EXPECTED[kind]}"
    if kind == "boolean":
        return (["y"] if value else []) if isinstance(value, bool) else _EXPECTED[kind]
    if isinstance(value, bool):
        return _EXPECTED[kind]
    if kind in ("text", "date") and not isinstance(value, str):
        return _EXPECTED[kind]
    if isinstance(value, float):
        if not math.isfinite(value):
            return "Must be a finite number."
        return [repr(value)]
    if strict and kind in ("integer", "number") and isinstance(value, str):
        return _EXPECTED[kind]
    if kind == "integer":
        try:
            number = int(value)
        except ValueError:
            return _EXPECTED[kind]  # "1.5", "abc"
        if abs(number) > MAX_INT:
            return f"Must be a whole number up to {MAX_INT}."
    return [str(value)]


def _to_formdata(form_cls: type[FlaskForm], body: Any, strict: bool = False) -> MultiDict[str, str]:
    """The JSON object as form data, refusing unknown fields and values of the wrong type.

    A form would turn ``true`` into ``"y"`` and keep only the first item of a list; the API
    refuses such values instead of saving something the caller did not mean.
    """
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    fields = {f.name: f for f in form_cls(formdata=None, meta={"csrf": False})}
    unknown = sorted(set(body) - set(fields) - {"csrf_token"})
    if unknown:
        raise ValidationError(
            ("Unknown field: " if len(unknown) == 1 else "Unknown fields: ") + ", ".join(unknown),
            {k: ["Unknown field."] for k in unknown},
        )
    data: MultiDict[str, str] = MultiDict()
    errors: dict[str, list[str]] = {}
    for key, value in body.items():
        if value is None or key == "csrf_token":
            continue
        values = _json_value(_kind(fields[key]), value, strict)
        if isinstance(values, str):  # a field may say in its own words what it takes
            errors[key] = [str(getattr(fields[key], "type_message", None) or values)]
        else:
            for v in values:
                data.add(key, v)
    if errors:
        raise ValidationError(
            "Some fields have values of the wrong type: " + ", ".join(sorted(errors)) + ".",
            errors,
        )
    return data


def form_from_json(form_cls: type[F], body: Any, **kwargs: Any) -> F:
    """Validate a JSON body with ``form_cls``; return the form or raise ValidationError (422)."""
    formdata = _to_formdata(form_cls, body)
    form = form_cls(formdata=formdata, meta={"csrf": False}, **kwargs)
    if not form.validate():
        errors = form_errors(form)
        first = next(iter(errors.items()), ("", ["invalid"]))
        raise ValidationError(
            f"{first[0]}: {first[1][0]}" if first[0] else "Invalid input.", errors
        )
    return form


@dataclass(frozen=True)
class ListBody(Generic[F]):
    """A list-shaped input: ``{"<key>": [row, ...]}``, each row validated by the form ``row``.

    One declaration serves every way a list arrives, so that they cannot disagree: the API's
    JSON body (:meth:`from_json`, numbers must be JSON numbers), a page's or a spreadsheet's
    rows of text (:meth:`from_rows`), and the OpenAPI document (:meth:`schema`). Every row is
    checked and every problem reported, named ``<key>[i].<field>`` (or by the caller's own
    name for a row, e.g. a spreadsheet's row number); nothing is returned unless all rows are
    valid. Rules that span records (unknown ids, duplicates, permissions) stay in the service.
    """

    key: str
    row: type[F]
    max_items: int
    min_items: int = 0
    bare_list: bool = False  # also accept the list itself as the body

    def _check_count(self, n: int) -> None:
        if n > self.max_items:
            raise ValidationError(
                f"At most {self.max_items} {self.key} in one request (got {n}).",
                {self.key: [f"At most {self.max_items} items."]},
            )
        if n < self.min_items:
            raise ValidationError(
                f"At least {self.min_items} {self.key}.",
                {self.key: [f"At least {self.min_items} items."]},
            )

    def _validate(self, rows: list[tuple[str, MultiDict[str, str]]]) -> list[F]:
        forms, errors = [], {}
        for where, formdata in rows:
            form = self.row(formdata=formdata, meta={"csrf": False})
            if not form.validate():
                for name, messages in form_errors(form).items():
                    errors[f"{where}.{name}"] = messages
            forms.append(form)
        if errors:
            raise ValidationError(
                f"{counted(len(errors), 'problem')} in the {self.key}; nothing was saved. "
                + "; ".join(f"{k}: {v[0]}" for k, v in list(errors.items())[:3]),
                errors,
            )
        return forms

    def from_json(self, body: Any) -> list[F]:
        """Validate an API body; raise ValidationError (422) naming every bad row and field."""
        if self.bare_list and isinstance(body, list):
            body = {self.key: body}
        if (
            not isinstance(body, dict)
            or set(body) != {self.key}
            or not isinstance(body[self.key], list)
        ):
            raise ValidationError(
                f'Send {{"{self.key}": [...]}}: a list of objects.',
                {self.key: ["Required: a list of objects."]},
            )
        items = body[self.key]
        self._check_count(len(items))
        rows, errors = [], {}
        for i, item in enumerate(items):
            where = f"{self.key}[{i}]"
            if not isinstance(item, dict):
                errors[where] = ["Must be an object."]
                continue
            try:
                rows.append((where, _to_formdata(self.row, item, strict=True)))
            except ValidationError as exc:
                for name, messages in (exc.errors or {where: [exc.detail]}).items():
                    errors[f"{where}.{name}" if name != where else where] = messages
        if errors:
            raise ValidationError(
                f"{counted(len(errors), 'problem')} in the {self.key}; nothing was saved. "
                + "; ".join(f"{k}: {v[0]}" for k, v in list(errors.items())[:3]),
                errors,
            )
        return self._validate(rows)

    def from_rows(self, rows: list[tuple[str, dict[str, str]]]) -> list[F]:
        """Validate rows of text (a page's fields, a spreadsheet's cells), each with the name
        its errors go by; raise ValidationError naming every bad row and field."""
        self._check_count(len(rows))
        return self._validate(
            [
                (where, MultiDict({k: v for k, v in row.items() if v is not None}))
                for where, row in rows
            ]
        )

    def schema(self, form_schema: Callable[[type[FlaskForm]], dict[str, Any]]) -> dict[str, Any]:
        """The body's JSON schema, given the function that makes a form's (OpenAPI)."""
        items: dict[str, Any] = {
            "type": "array",
            "items": form_schema(self.row),
            "maxItems": self.max_items,
        }
        if self.min_items:
            items["minItems"] = self.min_items
        return {
            "type": "object",
            "properties": {self.key: items},
            "required": [self.key],
            "additionalProperties": False,
        }


def is_optional(field: Field) -> bool:
    return any(isinstance(v, OptionalValidator) for v in field.validators)


class ConfirmForm(FlaskForm):
    """An empty form: a POST carrying only its CSRF token, for confirmed actions."""


def choices(pairs: Any) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class ApprovalForm(FlaskForm):
    """An executive's signature (see :mod:`planner.core.approvals`): what it means, the
    conditions if any, the password again, and the digest of what they were shown."""

    meaning = RadioField(
        _l("Your signature means"),
        choices=[
            SelectChoice("approved", _l("Approved")),
            SelectChoice("approved_with_conditions", _l("Approved with conditions")),
        ],
        validators=[InputRequired()],
    )
    conditions = TextAreaField(_l("Conditions"), validators=[OptionalValidator(), Length(max=5000)])
    password = PasswordField(
        _l("Your password, to sign"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    digest = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


class DecisionApprovalForm(ApprovalForm):
    """A signature of a record that may also be rejected (a design): the reasons go where the
    conditions would."""

    meaning = RadioField(
        _l("Your signature means"),
        choices=[
            SelectChoice("approved", _l("Approved")),
            SelectChoice("approved_with_conditions", _l("Approved with conditions")),
            SelectChoice("rejected", _l("Rejected")),
        ],
        validators=[InputRequired()],
    )
    conditions = TextAreaField(
        _l("Conditions, or why you reject it"),
        validators=[OptionalValidator(), Length(max=5000)],
    )
