"""One declaration of a list-shaped input (core.forms.ListBody) for the API, pages and
spreadsheets: every row checked, every problem named, nothing accepted half."""

from __future__ import annotations

import pytest
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from planner.core.errors import ValidationError
from planner.core.forms import ListBody
from planner.core.openapi import form_schema


class RowForm(FlaskForm):
    vendor_id = IntegerField(validators=[InputRequired()])
    score = IntegerField(validators=[InputRequired(), NumberRange(0, 5)])
    comment = StringField(validators=[Length(max=10)])


ROWS = ListBody("scores", RowForm, max_items=3, bare_list=True)


def test_valid_rows_come_back_as_forms(app):
    with app.test_request_context():
        forms = ROWS.from_json(
            {"scores": [{"vendor_id": 1, "score": 4}, {"vendor_id": 2, "score": 0}]}
        )
        assert [(f.vendor_id.data, f.score.data) for f in forms] == [(1, 4), (2, 0)]
        assert len(ROWS.from_json([{"vendor_id": 1, "score": 4}])) == 1  # bare list


def test_every_bad_row_and_field_is_named(app):
    body = {
        "scores": [
            {"vendor_id": 1, "score": 9},
            {"vendor_id": "1", "score": 2},  # a number as text: refused in JSON
            {"vendor_id": 1, "score": 2, "colour": "red"},
            "not an object",
            {"score": 3, "comment": "far too long a comment"},
        ]
    }
    with app.test_request_context(), pytest.raises(ValidationError) as err:
        ListBody("scores", RowForm, max_items=10).from_json(body)
    assert set(err.value.errors) == {
        "scores[1].vendor_id",
        "scores[2].colour",
        "scores[3]",
    }  # shape errors first; field rules once every row has the right shape
    with app.test_request_context(), pytest.raises(ValidationError) as err:
        ListBody("scores", RowForm, max_items=10).from_json(
            {"scores": [body["scores"][0], body["scores"][4]]}
        )
    assert set(err.value.errors) == {"scores[0].score", "scores[1].vendor_id", "scores[1].comment"}
    assert "nothing was saved" in err.value.detail


@pytest.mark.parametrize(
    "body",
    [{}, {"scores": "x"}, {"scores": [], "more": 1}, "scores", {"rows": []}],
)
def test_the_wrong_shape_is_refused(app, body):
    with app.test_request_context(), pytest.raises(ValidationError, match='Send {"scores"'):
        ListBody("scores", RowForm, max_items=3).from_json(body)


def test_the_number_of_rows_is_bounded(app):
    with app.test_request_context(), pytest.raises(ValidationError, match="At most 3 scores"):
        ROWS.from_json({"scores": [{"vendor_id": 1, "score": 1}] * 4})
    with app.test_request_context(), pytest.raises(ValidationError, match="At least 1"):
        ListBody("scores", RowForm, max_items=3, min_items=1).from_json({"scores": []})


def test_rows_of_text_use_the_callers_names(app):
    rows = [
        ("row 2", {"vendor_id": "1", "score": "4"}),
        ("row 3", {"vendor_id": "1", "score": "x"}),
    ]
    with app.test_request_context(), pytest.raises(ValidationError) as err:
        ROWS.from_rows(rows)
    assert list(err.value.errors) == ["row 3.score"]


def test_the_schema_is_the_row_forms_in_an_array(app):
    with app.test_request_context():
        schema = ROWS.schema(form_schema)
    assert schema["required"] == ["scores"] and schema["additionalProperties"] is False
    items = schema["properties"]["scores"]
    assert items["maxItems"] == 3 and items["items"]["required"] == ["vendor_id", "score"]
