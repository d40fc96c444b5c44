"""The one definition of valid input for rollouts, members and phases (pages and API)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from planner.core.forms import VersionField, choices, optional_id
from planner.core.permissions import Role
from planner.projects.phases import (
    SOLUTION_LABELS,
    STRATEGY_LABELS,
    GateOutcome,
    SolutionKind,
    Strategy,
)

ROLE_LABELS = {
    Role.LEAD: _l("Lead"),
    Role.REVIEWER: _l("Reviewer"),
    Role.EXECUTIVE: _l("Executive"),
    Role.VIEWER: _l("Viewer"),
}


def _choices(labels: dict, blank: bool = True) -> list:
    out: list[tuple[str, object]] = [("", _l("— not decided —"))] if blank else []
    return choices(out + [(k.value, v) for k, v in labels.items()])


class ProjectForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10_000)])
    solution_kind = SelectField(
        _l("Solution kind"),
        choices=_choices(SOLUTION_LABELS),
        validators=[Optional(), AnyOf([k.value for k in SolutionKind])],
        default="",
    )
    strategy = SelectField(
        _l("Rollout strategy"),
        choices=_choices(STRATEGY_LABELS),
        validators=[Optional(), AnyOf([k.value for k in Strategy])],
        default="",
    )


class ProjectEditForm(ProjectForm):
    version = VersionField(validators=[InputRequired()])


class VisionForm(FlaskForm):
    vision = TextAreaField(
        _l("Vision statement"),
        validators=[Optional(), Length(max=20_000)],
        description=_l("Markdown. Why the company wants a CRM, in a few sentences."),
    )
    strategy_text = TextAreaField(
        _l("Strategy"),
        validators=[Optional(), Length(max=20_000)],
        description=_l(
            "Markdown. How the rollout will get there, with input from every department."
        ),
    )
    version = VersionField(validators=[InputRequired()])


class MemberForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    role = SelectField(
        _l("Role"), choices=_choices(ROLE_LABELS, blank=False), validators=[DataRequired()]
    )
    department_id = SelectField(
        _l("Department"),
        coerce=optional_id,
        validate_choice=False,
        validators=[Optional()],
        description=_l("Required for reviewers."),
    )


class MemberEditForm(FlaskForm):
    role = SelectField(
        _l("Role"), choices=_choices(ROLE_LABELS, blank=False), validators=[DataRequired()]
    )
    department_id = SelectField(
        _l("Department"),
        coerce=optional_id,
        validate_choice=False,
        validators=[Optional()],
    )


class DepartmentForm(FlaskForm):
    name = StringField(_l("Department"), validators=[DataRequired(), Length(max=120)])


class DepartmentRenameForm(DepartmentForm):
    """A rename from the members page: ``was`` is the name the page showed, so that a rename
    made on a stale page is refused instead of overwriting someone else's."""

    was = HiddenField(validators=[Optional(), Length(max=120)])


class PhaseForm(FlaskForm):
    owner_id = SelectField(
        _l("Owner"),
        coerce=optional_id,
        validate_choice=False,
        validators=[Optional()],
    )
    planned_start = DateField(_l("Planned start"), validators=[Optional()])
    planned_end = DateField(_l("Planned end"), validators=[Optional()])
    actual_start = DateField(_l("Actual start"), validators=[Optional()])
    actual_end = DateField(_l("Actual end"), validators=[Optional()])
    version = VersionField(validators=[InputRequired()])


class GateForm(FlaskForm):
    outcome = SelectField(
        _l("Decision"),
        choices=choices(
            [
                ("", _l("— choose the decision —")),  # no default: a decision is a choice
                (GateOutcome.PASS.value, _l("Pass the gate")),
                (GateOutcome.SEND_BACK.value, _l("Send back")),
                (GateOutcome.SKIP.value, _l("Skip this phase")),
            ]
        ),
        validators=[DataRequired(message=_l("Required: choose the decision."))],
        default="",
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5_000)])
    risk_acknowledged = BooleanField(_l("I acknowledge the risk of skipping this phase"))


class ChecklistItemForm(FlaskForm):
    text = StringField(_l("Exit criterion"), validators=[DataRequired(), Length(max=300)])


class ChecklistToggleForm(FlaskForm):
    done = BooleanField(_l("Done"))


class ArchiveForm(FlaskForm):
    archived = BooleanField(_l("Archived"))


class ChecklistItemEditForm(FlaskForm):
    done = BooleanField(_l("Done"))


__all__ = [
    "ArchiveForm",
    "ChecklistItemEditForm",
    "ChecklistItemForm",
    "ChecklistToggleForm",
    "DepartmentForm",
    "GateForm",
    "MemberEditForm",
    "MemberForm",
    "PhaseForm",
    "ProjectEditForm",
    "ProjectForm",
    "VisionForm",
]
