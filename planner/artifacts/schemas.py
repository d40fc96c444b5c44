"""The one definition of a valid upload (pages and API)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Length

from planner.core.forms import choices
from planner.projects.phases import PHASE_KEYS, PHASES


class UploadForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("Uploading a file with the same title again adds a new version."),
    )
    phase = SelectField(
        _l("Phase"),
        choices=choices((p.key, p.title) for p in PHASES),
        validators=[DataRequired(), AnyOf(PHASE_KEYS)],
    )
    file = FileField(_l("File"), validators=[FileRequired()])


class VersionUploadForm(FlaskForm):
    """A new version of an existing artifact: the file alone (title and phase stay)."""

    file = FileField(_l("File"), validators=[FileRequired()])
