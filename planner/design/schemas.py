"""The one definition of valid solution-design input: pages and API alike."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from planner.core.db import MAX_INT
from planner.core.forms import ListBody, ListLength, VersionField, choices, finite
from planner.projects.phases import SOLUTION_LABELS, SolutionKind

TEXT_MAX = 20_000


def _an_id(value: object) -> int:
    number = int(value)  # type: ignore[call-overload]
    if not 1 <= number <= MAX_INT:
        raise ValueError("out of range")
    return number


def _md(label, description=None):
    return TextAreaField(
        label,
        validators=[Optional(), Length(max=TEXT_MAX)],
        description=description or _l("Markdown."),
    )


class DesignForm(FlaskForm):
    solution_kind = SelectField(
        _l("Kind of solution"),
        choices=choices(
            [("", _l("— not decided —"))] + [(k.value, v) for k, v in SOLUTION_LABELS.items()]
        ),
        validators=[Optional(), AnyOf([k.value for k in SolutionKind])],
        default="",
        description=_l(
            "Outsourced, off-the-shelf (cheapest), custom (fits best, costs most), or managed "
            "(a rented, customised chain of CRM applications)."
        ),
    )
    summary = _md(_l("Summary"))
    processes = _md(_l("Business processes covered"))
    integrations = _md(_l("Integrations"))
    organisational_fit = _md(_l("Fit with the organisation"))
    growth_plans = _md(_l("Growth plans"))
    cost_estimate = _md(_l("Cost estimate"))
    risks = _md(_l("Risks"))
    version = VersionField(validators=[Optional()])

    def values(self) -> dict:
        return {
            f.short_name: f.data or ""
            for f in self
            if f.short_name not in ("version", "csrf_token")
        }


class ModuleForm(FlaskForm):
    name = StringField(_l("Module"), validators=[DataRequired(), Length(max=120)])
    description = _md(_l("What it does"))
    requirement_ids = SelectMultipleField(
        _l("Requirements it covers"),
        coerce=_an_id,
        validate_choice=False,
        validators=[Optional(), ListLength(5000)],
    )

    def values(self) -> dict:
        return {
            "name": self.name.data,
            "description": self.description.data or "",
            "requirement_ids": list(self.requirement_ids.data or []),
        }


class ModuleEditForm(ModuleForm):
    version = VersionField(validators=[InputRequired()])


class IndicatorForm(FlaskForm):
    name = StringField(_l("Indicator"), validators=[DataRequired(), Length(max=120)])
    guide = TextAreaField(_l("What a 5 means"), validators=[Optional(), Length(max=2_000)])
    weight = FloatField(
        _l("Weight"), default=1.0, validators=[InputRequired(), finite, NumberRange(0.01, 100)]
    )


class IndicatorEditForm(IndicatorForm):
    version = VersionField(validators=[InputRequired()])


class ReviewScoreRowForm(FlaskForm):
    """One score of the calling reviewer: an indicator, 1 to 5, a comment."""

    indicator_id = IntegerField(
        _l("Indicator"), validators=[InputRequired(), NumberRange(1, MAX_INT)]
    )
    score = IntegerField(
        _l("Score"),
        validators=[InputRequired(), NumberRange(1, 5, message=_l("A whole number from 1 to 5."))],
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5_000)])


REVIEW_SCORES = ListBody("scores", ReviewScoreRowForm, max_items=100)
