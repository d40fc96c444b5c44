"""The one definition of valid goals, KPIs and measurements (pages and API)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FloatField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from planner.core.forms import VersionField, finite, optional_id

NUMBER_LIMIT = 1e15  # a KPI's values: larger numbers are typing mistakes, not measurements
_number = [finite, NumberRange(min=-NUMBER_LIMIT, max=NUMBER_LIMIT)]


class GoalForm(FlaskForm):
    statement = TextAreaField(
        _l("Goal"),
        validators=[DataRequired(), Length(max=2_000)],
        description=_l("A measurable goal, e.g. “A transparent sales pipeline for every manager”."),
    )
    department_id = SelectField(
        _l("Asked for by"), coerce=optional_id, validators=[Optional()], validate_choice=False
    )


class GoalEditForm(GoalForm):
    version = VersionField(validators=[InputRequired()])


class KPIForm(FlaskForm):
    name = StringField(_l("KPI"), validators=[DataRequired(), Length(max=200)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=40)])
    baseline = FloatField(_l("Baseline"), validators=[Optional(), *_number])
    target = FloatField(_l("Target"), validators=[Optional(), *_number])
    measurement_method = TextAreaField(
        _l("How it is measured"), validators=[Optional(), Length(max=2_000)]
    )
    due_date = DateField(_l("Due date"), validators=[Optional()])

    def values(self) -> dict:
        """The KPI's fields as the service takes them."""
        return {
            "name": self.name.data,
            "unit": self.unit.data or "",
            "baseline": self.baseline.data,
            "target": self.target.data,
            "measurement_method": self.measurement_method.data or "",
            "due_date": self.due_date.data,
        }


class KPIEditForm(KPIForm):
    version = VersionField(validators=[InputRequired()])


class MeasurementForm(FlaskForm):
    value = FloatField(_l("Value"), validators=[InputRequired(), *_number])
    measured_on = DateField(_l("Measured on"), validators=[InputRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
