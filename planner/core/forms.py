"""One home for validation: WTForms classes used by the HTML pages and the JSON API alike.

An HTML view instantiates a form from ``request.form`` (with CSRF); the API calls
:func:`form_from_json`, which feeds the same form the JSON body (without CSRF, since the API
authenticates by bearer token, never by cookie) and refuses what a form cannot express: a body
that is not an object, unknown fields, nested values.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Field, IntegerField, SelectChoice
from wtforms.validators import Optional as OptionalValidator
from wtforms.widgets import HiddenInput

from planner.core.errors import ValidationError

F = TypeVar("F", bound=FlaskForm)


class VersionField(IntegerField):
    """The version of the record the user is editing, for refusing stale edits."""

    widget = HiddenInput()


def form_errors(form: FlaskForm) -> dict[str, list[str]]:
    return {
        name: [str(m) for m in msgs] for name, msgs in form.errors.items() if name != "csrf_token"
    }


def _to_formdata(form_cls: type[FlaskForm], body: Any) -> MultiDict[str, str]:
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    fields = {f.name for f in form_cls(formdata=None, meta={"csrf": False})}
    unknown = sorted(set(body) - fields - {"csrf_token"})
    if unknown:
        raise ValidationError(
            "Unknown field(s): " + ", ".join(unknown),
            {k: ["Unknown field."] for k in unknown},
        )
    data: MultiDict[str, str] = MultiDict()
    errors: dict[str, list[str]] = {}
    for key, value in body.items():
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data.add(key, "y")
        elif isinstance(value, int | str):
            data.add(key, str(value))
        elif isinstance(value, float):
            if not math.isfinite(value):
                errors[key] = ["Must be a finite number."]
            else:
                data.add(key, repr(value))
        elif isinstance(value, list) and all(isinstance(v, int | str) for v in value):
            for v in value:
                data.add(key, str(v))
        else:
            errors[key] = ["Must be a single value (text, number or true/false)."]
    if errors:
        raise ValidationError("Some fields have values of the wrong type.", errors)
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


def is_optional(field: Field) -> bool:
    return any(isinstance(v, OptionalValidator) for v in field.validators)


class ConfirmForm(FlaskForm):
    """An empty form: a POST carrying only its CSRF token, for confirmed actions."""


def choices(pairs: Any) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(str(value), label) for value, label in pairs]
