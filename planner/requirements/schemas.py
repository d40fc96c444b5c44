"""The one definition of valid requirements input: the pages, the API and the imported rows."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from planner.core.db import MAX_INT
from planner.core.forms import ListLength, VersionField, choices, optional_id
from planner.requirements.records import (
    MODULE_MAX,
    PRIORITY_LABELS,
    STATUS_LABELS,
    TEXT_MAX,
    TITLE_MAX,
    TYPE_LABELS,
    Priority,
    ReqStatus,
    ReqType,
)

MAX_TRACES = 200  # goals or departments one requirement names
SEARCH_MAX = 200
SORTS = ("key", "-key", "title", "priority", "status", "module", "-updated")


def an_id(value: object) -> int:
    """One id of a list of ids; ValueError unless a whole number an id column can hold."""
    number = int(value)  # type: ignore[call-overload]
    if not 1 <= number <= MAX_INT:
        raise ValueError("out of range")
    return number


def _enum_choices(labels: dict) -> list:
    return choices([(k.value, v) for k, v in labels.items()])


class RequirementForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(), Length(max=TITLE_MAX)],
        description=_l("What the business needs, in a line: “Track every customer call”."),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=TEXT_MAX)],
        description=_l("Markdown: **bold**, lists, links."),
    )
    type = SelectField(
        _l("Type"),
        choices=_enum_choices(TYPE_LABELS),
        validators=[InputRequired(), AnyOf([t.value for t in ReqType])],
        default=ReqType.FUNCTIONAL.value,
    )
    priority = SelectField(
        _l("Priority"),
        choices=_enum_choices(PRIORITY_LABELS),
        validators=[InputRequired(), AnyOf([p.value for p in Priority])],
        default=Priority.SHOULD.value,
    )
    module = StringField(
        _l("Module"),
        validators=[Optional(), Length(max=MODULE_MAX)],
        description=_l("Customer records, Sales process, … or a module of your own."),
    )
    acceptance_criterion = TextAreaField(
        _l("Acceptance criterion"),
        validators=[Optional(), Length(max=TEXT_MAX)],
        description=_l("How anyone can check that the CRM meets it."),
    )
    status = SelectField(
        _l("Status"),
        choices=_enum_choices(STATUS_LABELS),
        validators=[InputRequired(), AnyOf([s.value for s in ReqStatus])],
        default=ReqStatus.PROPOSED.value,
    )
    owner_id = SelectField(
        _l("Owner"), coerce=optional_id, validators=[Optional()], validate_choice=False
    )
    goal_ids = SelectMultipleField(
        _l("Goals it serves"),
        coerce=an_id,
        validate_choice=False,
        validators=[Optional(), ListLength(MAX_TRACES)],
    )
    department_ids = SelectMultipleField(
        _l("Source departments"),
        coerce=an_id,
        validate_choice=False,
        validators=[Optional(), ListLength(MAX_TRACES)],
    )

    def values(self) -> dict:
        """The requirement's fields as the service takes them."""
        return {
            "title": self.title.data,
            "description": self.description.data or "",
            "type": self.type.data,
            "priority": self.priority.data,
            "module": self.module.data or "",
            "acceptance_criterion": self.acceptance_criterion.data or "",
            "status": self.status.data,
            "owner_id": self.owner_id.data,
            "goal_ids": list(self.goal_ids.data or []),
            "department_ids": list(self.department_ids.data or []),
        }


class RequirementEditForm(RequirementForm):
    version = VersionField(validators=[InputRequired()])


class RegisterQueryForm(FlaskForm):
    """The register's filters, sort and search, from a page's or the API's query string."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=SEARCH_MAX)])
    department = IntegerField(_l("Department"), validators=[Optional(), NumberRange(1, MAX_INT)])
    module = StringField(_l("Module"), validators=[Optional(), Length(max=MODULE_MAX)])
    priority = SelectField(
        _l("Priority"),
        choices=choices(
            [("", _l("Any priority"))] + [(k.value, v) for k, v in PRIORITY_LABELS.items()]
        ),
        validators=[Optional(), AnyOf([p.value for p in Priority])],
        default="",
    )
    status = SelectField(
        _l("Status"),
        choices=choices(
            [("", _l("Any status"))] + [(k.value, v) for k, v in STATUS_LABELS.items()]
        ),
        validators=[Optional(), AnyOf([s.value for s in ReqStatus])],
        default="",
    )
    goal = IntegerField(_l("Goal"), validators=[Optional(), NumberRange(1, MAX_INT)])
    sort = SelectField(
        _l("Sort by"),
        choices=choices(
            [
                ("key", _l("Key")),
                ("-key", _l("Newest first")),
                ("title", _l("Title")),
                ("priority", _l("Priority")),
                ("status", _l("Status")),
                ("module", _l("Module")),
                ("-updated", _l("Last changed")),
            ]
        ),
        validators=[Optional(), AnyOf(SORTS)],
        default="key",
    )
