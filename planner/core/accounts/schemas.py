"""Valid input for accounts."""

from __future__ import annotations

import zoneinfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from planner.core.forms import choices

TIMEZONES = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=80)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class PreferencesForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=120)])
    locale = SelectField(
        _l("Language"), choices=choices([("en", "English")]), validators=[DataRequired()]
    )
    timezone = SelectField(
        _l("Time zone"), choices=choices((z, z) for z in TIMEZONES), validators=[DataRequired()]
    )


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=10, max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    revoke_tokens = BooleanField(
        _l("Also revoke my API tokens (scripts using them stop working)"), default=True
    )


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=80)])


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=2, max=80)])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=120)])
    email = StringField(
        _l("E-mail"), validators=[Optional(), Email(check_deliverability=False), Length(max=254)]
    )
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(), Length(min=10, max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    is_admin = BooleanField(_l("Site admin"))
