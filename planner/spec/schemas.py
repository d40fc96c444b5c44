"""The one definition of valid specification input: pages and API alike."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from planner.core.db import MAX_INT
from planner.core.forms import VersionField
from planner.spec.service import BODY_MAX, TITLE_MAX


class SectionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    body = TextAreaField(
        _l("Text"),
        validators=[Optional(), Length(max=BODY_MAX)],
        description=_l("Markdown. What the section draws from the other phases is added below it."),
    )


class SectionEditForm(SectionForm):
    version = VersionField(validators=[InputRequired()])


class DiffQueryForm(FlaskForm):
    """The version to compare with (by default the one before)."""

    class Meta:
        csrf = False

    against = IntegerField(
        _l("Compare with version"), validators=[Optional(), NumberRange(1, MAX_INT)]
    )
