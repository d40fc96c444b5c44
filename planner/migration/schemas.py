"""The one definition of valid data-migration input: pages and API alike."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from planner.core.forms import VersionField, choices
from planner.migration.detection import ENCODINGS
from planner.migration.plan import APPROACHES, MAX_BATCH, PLAN_FIELDS, entities
from planner.migration.service import DELIMITERS, MAX_HEADER_ROW

ENCODING_LABELS = ENCODINGS  # how the engine names each encoding it reads
DELIMITER_LABELS = {
    ",": _l("comma ,"),
    ";": _l("semicolon ;"),
    "\t": _l("tab"),
    "|": _l("vertical bar |"),
}


class UploadForm(FlaskForm):
    """An export of the old CRM: CSV or XLSX."""

    file = FileField(
        _l("Export of the old CRM"),
        validators=[FileRequired(message=_l("Choose the file to upload."))],
        description=_l(
            "CSV (any of the usual encodings and delimiters) or XLSX, as Bitrix24, amoCRM, "
            "HubSpot or a spreadsheet exports it. It is kept encrypted; only you see its rows."
        ),
    )


class ReadAgainForm(FlaskForm):
    """How to read an upload instead of as detected: blank fields keep what was detected."""

    encoding = SelectField(
        _l("Encoding"),
        choices=choices([("", _l("as detected"))] + [(e, ENCODING_LABELS[e]) for e in ENCODINGS]),
        validators=[Optional()],
    )
    delimiter = SelectField(
        _l("Delimiter"),
        choices=choices([("", _l("as detected"))] + [(d, DELIMITER_LABELS[d]) for d in DELIMITERS]),
        validators=[Optional()],
    )
    header_row = IntegerField(
        _l("Header on line"),
        validators=[Optional(), NumberRange(1, MAX_HEADER_ROW + 1)],
        description=_l("The line that names the columns, counted from 1; blank: as detected."),
    )
    version = VersionField(validators=[InputRequired()])


APPROACH_LABELS = {
    "bulk": _l("Bulk: everything in one move"),
    "incremental": _l("Incremental: in batches, the old CRM still in use"),
}


class PlanForm(FlaskForm):
    """The migration plan (see :mod:`planner.migration.plan`)."""

    approach = SelectField(
        _l("Approach"),
        choices=choices(
            [("", _l("not decided yet"))] + [(a, APPROACH_LABELS[a]) for a in APPROACHES]
        ),
        validators=[Optional()],
    )
    batch_size = IntegerField(
        _l("Records per batch"),
        validators=[Optional(), NumberRange(1, MAX_BATCH)],
        description=_l("Blank: one batch."),
    )
    entity_order = TextAreaField(
        _l("Entities, in the order they move"),
        validators=[Optional(), Length(max=2000)],
        description=_l("One a line: companies before the contacts who work there, deals last."),
    )
    backup_taken = BooleanField(_l("A backup of the old CRM is taken"))
    backup_location = StringField(
        _l("Where the backup is kept"), validators=[Optional(), Length(max=255)]
    )
    backup_taken_on = DateField(_l("Backup taken on"), validators=[Optional()])
    backup_verified = BooleanField(_l("The backup was verified by restoring it"))
    backup_verified_on = DateField(_l("Restore tried on"), validators=[Optional()])
    access = TextAreaField(
        _l("Who has access to the data on the way"),
        validators=[Optional(), Length(max=5000)],
        description=_l("People and systems that see the exports and the new CRM's import."),
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10000)])
    version = VersionField(validators=[Optional()])

    def values(self) -> dict[str, object]:
        """The plan as :func:`planner.migration.plan.update_plan` takes it."""
        found: dict[str, object] = {name: getattr(self, name).data for name in PLAN_FIELDS}
        found["approach"] = found["approach"] or ""
        found["entity_order"] = entities(str(found["entity_order"] or ""))
        for name in ("backup_location", "access", "notes"):
            found[name] = str(found[name] or "")
        return found


class RecipeCreateForm(FlaskForm):
    """Draw up a recipe from a starter template, mapped to an export's columns."""

    entity = SelectField(_l("What the rows are"), choices=[])
    upload = SelectField(
        _l("The export it is for"),
        choices=[],
        validators=[Optional()],
        description=_l(
            "Its columns are mapped to the template's fields where their names are known."
        ),
    )
    region = StringField(
        _l("Country of phone numbers without a code"),
        default="RU",
        validators=[InputRequired(), Length(min=2, max=2)],
        description=_l("Two letters: RU, UA, DE, IL, CN…"),
    )


class RecipeForm(FlaskForm):
    """The recipe as one JSON document, as exported."""

    document = TextAreaField(
        _l("The recipe (JSON)"),
        validators=[InputRequired(), Length(max=512 * 1024)],
        description=_l("As exported; planner migrate apply reads the same document."),
        render_kw={"rows": 20, "spellcheck": "false", "class": "code"},
    )
    version = VersionField(validators=[InputRequired()])


class MappingForm(FlaskForm):
    """The mapping form's own fields (its rows are read by position: from-N, transform-N,
    required-N, sensitive-N for the recipe's field N)."""

    version = VersionField(validators=[InputRequired()])


class RecipeImportForm(FlaskForm):
    """A recipe exported before, as a JSON file."""

    file = FileField(
        _l("Recipe file (JSON)"),
        validators=[FileRequired(message=_l("Choose the recipe file."))],
    )
    version = VersionField(validators=[InputRequired()])


class PilotForm(FlaskForm):
    """How many records the pilot batch holds."""

    size = IntegerField(
        _l("Records in the pilot batch"),
        default=20,
        validators=[InputRequired(), NumberRange(1, 1000)],
        description=_l("Chosen across the file so that every kind of problem found appears."),
    )


class ReconcileForm(FlaskForm):
    """What the new CRM exported after importing the pilot."""

    file = FileField(
        _l("The new CRM's export of the pilot"),
        validators=[FileRequired(message=_l("Choose the file to upload."))],
        description=_l("CSV or XLSX: its records are matched to the pilot's by the recipe's key."),
    )


class ExplanationsForm(FlaskForm):
    """The lead's explanations of a reconciliation's differences, all in one form: the texts
    come as ``text-<difference id>`` fields beside its version."""

    version = VersionField(validators=[InputRequired()])


class GroupExplanationForm(FlaskForm):
    """One explanation for every unexplained difference of a kind and field (``group`` is
    "kind:field", the field empty for none)."""

    group = SelectField(_l("Differences"), validators=[InputRequired()], validate_choice=False)
    text = TextAreaField(
        _l("Explanation for all of them"),
        validators=[InputRequired(message=_l("Write the explanation.")), Length(max=2000)],
        description=_l(
            "Every unexplained difference of the kind and field chosen gets this explanation; "
            "each can be changed afterwards."
        ),
    )
    version = VersionField(validators=[InputRequired()])


class ExplainForm(FlaskForm):
    """The lead's explanation of one difference (empty: the explanation taken back)."""

    text = TextAreaField(_l("Explanation"), validators=[Optional(), Length(max=2000)])
    version = VersionField(validators=[InputRequired()])
