"""The one definition of valid requirements input: the pages, the API and the imported rows."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from planner.core.db import MAX_INT
from planner.core.forms import ListBody, ListLength, VersionField, choices, optional_id
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


class ImportForm(FlaskForm):
    """A file to import into the register: CSV, XLSX or ReqIF."""

    file = FileField(
        _l("File"),
        validators=[FileRequired(message=_l("Choose the file to import."))],
        description=_l(
            "A CSV or XLSX sheet with a Title column (Key, Description, Type, Priority, Module, "
            "Status, Acceptance criterion, Goals, Source departments as you have them), or a "
            "ReqIF file from a requirements tool."
        ),
    )


class ConfirmImportForm(FlaskForm):
    """The lead's confirmation of a previewed import: the plan's digest they saw."""

    digest = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


# --- intake: questionnaires, answers, interviews ---------------------------------------------

QUESTION_KIND_LABELS = {
    "text": _l("Free text"),
    "single": _l("One of several options"),
    "multiple": _l("Any of several options"),
    "importance": _l("Importance from 1 to 5"),
}


class QuestionForm(FlaskForm):
    text = TextAreaField(_l("Question"), validators=[DataRequired(), Length(max=2_000)])
    kind = SelectField(
        _l("Kind of answer"),
        choices=choices(QUESTION_KIND_LABELS.items()),
        validators=[InputRequired(), AnyOf(list(QUESTION_KIND_LABELS))],
        default="text",
    )
    options = TextAreaField(
        _l("Options"),
        validators=[Optional(), Length(max=7_000)],
        description=_l("For the kinds with options: one option a line."),
    )

    def option_list(self) -> list[str]:
        return [line for line in (self.options.data or "").splitlines() if line.strip()]


class AnswerRowForm(FlaskForm):
    """One answer (a row of the answers list): words, the options chosen, or 1–5."""

    question_id = IntegerField(
        _l("Question"), validators=[InputRequired(), NumberRange(1, MAX_INT)]
    )
    text = TextAreaField(_l("Answer"), validators=[Optional(), Length(max=10_000)])
    choices = SelectMultipleField(
        _l("Options chosen"), validate_choice=False, validators=[Optional(), ListLength(30)]
    )
    importance = IntegerField(_l("Importance"), validators=[Optional(), NumberRange(1, 5)])


ANSWERS = ListBody("answers", AnswerRowForm, max_items=200)


class AnswersSubmitForm(FlaskForm):
    """The answers page's buttons: save the draft, or submit (asked to confirm first)."""

    version = VersionField(validators=[Optional()])


class InterviewForm(FlaskForm):
    department_id = SelectField(
        _l("Department"), coerce=optional_id, validators=[InputRequired()], validate_choice=False
    )
    interviewee = StringField(
        _l("Who was interviewed"), validators=[DataRequired(), Length(max=120)]
    )
    role = SelectField(
        _l("Their role"),
        choices=choices([("frontline", _l("Frontline staff")), ("manager", _l("Manager"))]),
        validators=[InputRequired(), AnyOf(["frontline", "manager"])],
    )
    held_on = DateField(_l("Held on"), validators=[InputRequired()])
    notes = TextAreaField(
        _l("Notes"),
        validators=[Optional(), Length(max=TEXT_MAX)],
        description=_l("Markdown: what they need, in their words."),
    )

    def values(self) -> dict:
        return {
            "department_id": self.department_id.data,
            "interviewee": self.interviewee.data,
            "role": self.role.data,
            "held_on": self.held_on.data,
            "notes": self.notes.data or "",
        }


class InterviewEditForm(InterviewForm):
    version = VersionField(validators=[InputRequired()])


class SourceForm(FlaskForm):
    """Where a requirement came from: one submitted answer or one interview."""

    answer_id = IntegerField(_l("Answer"), validators=[Optional(), NumberRange(1, MAX_INT)])
    interview_id = IntegerField(_l("Interview"), validators=[Optional(), NumberRange(1, MAX_INT)])


class QuestionnaireOpenForm(FlaskForm):
    """Whether a questionnaire takes answers."""

    open = BooleanField(_l("Open to answers"))
