"""The one definition of valid data-migration input: pages and API alike."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from planner.core.forms import VersionField, choices
from planner.migration.detection import ENCODINGS
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
