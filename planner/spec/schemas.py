"""The one definition of valid specification input: pages and API alike."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from planner.core.db import MAX_INT
from planner.core.forms import ListLength, VersionField
from planner.requirements.schemas import an_id
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


class CommentForm(FlaskForm):
    """A comment on a version (``anchor``: "", "section:3" or "REQ-007"), or a reply."""

    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=10_000)])
    anchor = StringField(_l("On"), validators=[Optional(), Length(max=60)])
    parent_id = IntegerField(_l("In reply to"), validators=[Optional(), NumberRange(1, MAX_INT)])


class ResolveForm(FlaskForm):
    """Resolve (true) or reopen (false) a thread."""

    resolved = BooleanField(_l("Resolved"))


class SignersForm(FlaskForm):
    """The executives who sign, in their order, and whether they sign in that order."""

    signers = SelectMultipleField(
        _l("Signers"), coerce=an_id, validate_choice=False, validators=[Optional(), ListLength(50)]
    )
    in_order = BooleanField(_l("They sign in this order"))


class VerifyForm(FlaskForm):
    """A signed specification's PDF to verify."""

    file = FileField(
        _l("Signed PDF"),
        validators=[FileRequired(message=_l("Choose the PDF to verify."))],
        description=_l(
            "A specification PDF as someone handed it to you: it is checked against what this "
            "deployment stored and signed, and kept nowhere."
        ),
    )
