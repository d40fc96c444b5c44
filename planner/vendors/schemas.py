"""The one definition of valid vendor-selection input (pages, API, scoresheet uploads).

Scores themselves are validated by :func:`planner.vendors.service.parse_score`, used by the
scoresheet page, the API and the XLSX/CSV import alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from planner.core.forms import ListBody, VersionField, choices, finite, optional_id
from planner.projects.phases import SOLUTION_LABELS, SolutionKind
from planner.vendors.ahp import SAATY_SCALE

# Limits shared by the forms, the services and the spreadsheet import.
SCORE_MESSAGE = "a score is a whole number from 0 to 5"
COMMENT_MAX = 5000  # a score's comment
CONFLICT_REASON_MAX = 2000
MAX_SCORES = 5000  # in one request or one uploaded sheet (25 vendors x 40 criteria = 1000)
COST_MIN, COST_MAX = 0.01, 1e13  # a quoted 3-year cost
WEIGHT_MIN, WEIGHT_MAX = 0.0001, 1e6  # a criterion's relative weight
RATIONALE_MAX = 5000  # a consensus score's rationale


class VendorForm(FlaskForm):
    name = StringField(_l("Vendor"), validators=[DataRequired(), Length(max=120)])
    product = StringField(_l("Product"), validators=[Optional(), Length(max=200)])
    service_scope = TextAreaField(_l("Service scope"), validators=[Optional(), Length(max=5000)])
    support = TextAreaField(_l("Support"), validators=[Optional(), Length(max=5000)])
    update_frequency = StringField(_l("Update frequency"), validators=[Optional(), Length(max=200)])
    references = TextAreaField(_l("References"), validators=[Optional(), Length(max=5000)])
    solution_kind = SelectField(
        _l("Solution kind"),
        choices=choices(
            [("", _l("— not stated —"))] + [(k.value, v) for k, v in SOLUTION_LABELS.items()]
        ),
        validators=[Optional(), AnyOf([k.value for k in SolutionKind])],
        default="",
    )
    cost_3y = FloatField(
        _l("Quoted 3-year cost"),
        validators=[Optional(), finite, NumberRange(min=COST_MIN, max=COST_MAX)],
        description=_l("Seen by the lead and executives only."),
    )

    def values(self) -> dict:
        """The vendor's fields as the service takes them."""
        return {
            "name": self.name.data,
            "product": self.product.data or "",
            "service_scope": self.service_scope.data or "",
            "support": self.support.data or "",
            "update_frequency": self.update_frequency.data or "",
            "references": self.references.data or "",
            "solution_kind": self.solution_kind.data or None,
            "cost_3y": self.cost_3y.data,
        }


class VendorEditForm(VendorForm):
    version = VersionField(validators=[InputRequired()])


class CriterionForm(FlaskForm):
    name = StringField(_l("Criterion"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    scale_guide = TextAreaField(
        _l("What 0 to 5 mean"),
        validators=[Optional(), Length(max=5000)],
        description=_l("E.g. 0 = absent, 3 = meets the need, 5 = best in class."),
    )
    group = StringField(_l("Group"), validators=[Optional(), Length(max=60)])
    weight = FloatField(
        _l("Weight"),
        validators=[InputRequired(), finite, NumberRange(min=WEIGHT_MIN, max=WEIGHT_MAX)],
    )
    must_have = BooleanField(_l("Must-have"))
    min_score = FloatField(
        _l("Minimum mean score (must-have)"),
        default=3.0,
        validators=[Optional(), finite, NumberRange(min=0, max=5)],
    )
    is_price = BooleanField(
        _l("Price criterion (scored by formula from the quoted costs)"),
    )

    def values(self) -> dict:
        """The criterion's fields as the service takes them."""
        return {
            "name": self.name.data,
            "description": self.description.data or "",
            "scale_guide": self.scale_guide.data or "",
            "group": (self.group.data or "").strip(),
            "weight": self.weight.data,
            "must_have": self.must_have.data,
            "min_score": self.min_score.data if self.min_score.data is not None else 3.0,
            "is_price": self.is_price.data,
        }


class CriterionEditForm(CriterionForm):
    version = VersionField(validators=[InputRequired()])


class RoundForm(FlaskForm):
    action = SelectField(
        _l("Round"),
        choices=choices(
            [
                ("open", _l("Open scoring")),
                ("close_technical", _l("Close technical scoring (reveal prices)")),
                ("close", _l("Close the round")),
                ("reopen", _l("Reopen the round")),
            ]
        ),
        validators=[DataRequired()],
    )
    two_envelopes = BooleanField(_l("Two envelopes: prices hidden until technical scoring closes"))


class ConsensusForm(FlaskForm):
    vendor_id = IntegerField(_l("Vendor"), validators=[InputRequired()])
    criterion_id = IntegerField(_l("Criterion"), validators=[InputRequired()])
    score = FloatField(
        _l("Consensus score"), validators=[InputRequired(), finite, NumberRange(min=0, max=5)]
    )
    rationale = TextAreaField(
        _l("Rationale"), validators=[DataRequired(), Length(max=RATIONALE_MAX)]
    )


class RecusalForm(FlaskForm):
    reviewer_id = IntegerField(_l("Reviewer"), validators=[InputRequired()])
    vendor_id = IntegerField(_l("Vendor"), validators=[InputRequired()])
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(), Length(max=CONFLICT_REASON_MAX)]
    )


class DecisionForm(FlaskForm):
    vendor_id = SelectField(
        _l("Selected vendor"),
        coerce=optional_id,
        validators=[InputRequired()],
        validate_choice=False,
    )
    rationale = TextAreaField(
        _l("Decision rationale"), validators=[DataRequired(), Length(max=10000)]
    )
    override_reason = TextAreaField(
        _l("Reason for overriding the board's result"),
        validators=[Optional(), Length(max=5000)],
        description=_l(
            "Only to choose a vendor that is knocked out or incomplete: why, for the record."
        ),
    )
    version = VersionField(validators=[Optional()])


class ContractForm(FlaskForm):
    scope_agreed = BooleanField(_l("Scope agreed"))
    service_levels_agreed = BooleanField(_l("Service levels agreed"))
    data_ownership_exit_agreed = BooleanField(_l("Data ownership and exit agreed"))
    price_payment_agreed = BooleanField(_l("Price and payment terms agreed"))
    support_agreed = BooleanField(_l("Support agreed"))
    contract_notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10000)])
    legal_reviewed_by = StringField(
        _l("Legal review done by"), validators=[Optional(), Length(max=120)]
    )
    legal_reviewed_on = DateField(_l("Legal review date"), validators=[Optional()])
    version = VersionField(validators=[InputRequired()])

    def values(self) -> dict[str, Any]:
        """The checklist as the service takes it (text left out is empty text)."""
        out = {f.short_name: f.data for f in self if f.short_name not in ("version", "csrf_token")}
        for name in ("contract_notes", "legal_reviewed_by"):
            out[name] = (out[name] or "").strip()
        return out


class AHPForm(FlaskForm):
    apply = BooleanField(_l("Apply the derived weights (if consistent)"))


# --- lists: a reviewer's scores and declaration of interest -------------------------------


class ScoreField(IntegerField):
    """A score as a reviewer types it: a whole number 0..5 (no "3.0", no "2.5")."""

    type_message = _l(SCORE_MESSAGE)  # for a JSON value of the wrong type

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or valuelist[0].strip() == "":
            self.data = None
            return
        text = valuelist[0].strip()
        if not text.isdigit() or len(text) > 1:
            self.data = None
            raise ValueError(_l(SCORE_MESSAGE))
        self.data = int(text)


class ScoreRowForm(FlaskForm):
    """One score of the calling reviewer (a row of the scoresheet, the API or the upload)."""

    vendor_id = IntegerField(_l("Vendor"), validators=[InputRequired()])
    criterion_id = IntegerField(_l("Criterion"), validators=[InputRequired()])
    score = ScoreField(
        _l("Score (0-5)"),
        validators=[InputRequired(_l(SCORE_MESSAGE)), NumberRange(0, 5, _l(SCORE_MESSAGE))],
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=COMMENT_MAX)])


class ConflictRowForm(FlaskForm):
    """One vendor the calling reviewer declares a conflict of interest with."""

    vendor_id = IntegerField(_l("Vendor"), validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=CONFLICT_REASON_MAX)])


SCORES = ListBody("scores", ScoreRowForm, max_items=MAX_SCORES, bare_list=True)
CONFLICTS = ListBody("conflicts", ConflictRowForm, max_items=500)


@dataclass(frozen=True)
class ScoreInput:
    """One score as the service takes it (``score`` is checked again there)."""

    vendor_id: int
    criterion_id: int
    score: Any
    comment: str = ""


@dataclass(frozen=True)
class ConflictItem:
    vendor_id: int
    reason: str


def score_inputs(forms: list[ScoreRowForm]) -> list[ScoreInput]:
    """Validated score rows as the service takes them."""
    return [
        ScoreInput(f.vendor_id.data, f.criterion_id.data, f.score.data, f.comment.data or "")
        for f in forms
    ]


def conflict_items(forms: list[ConflictRowForm]) -> list[ConflictItem]:
    """Validated conflict rows as the service takes them."""
    return [ConflictItem(f.vendor_id.data, (f.reason.data or "").strip()) for f in forms]


# --- AHP: pairwise comparisons of the criteria -------------------------------------------

SAATY_MESSAGE = "use Saaty's scale: 1 to 9, or 1/2 to 1/9"


def parse_saaty(raw: str) -> float:
    """A judgement on Saaty's scale, written 3, 1/3 or 0.333...; ValueError otherwise."""
    text = raw.strip()
    try:
        if "/" in text:
            num, _, den = text.partition("/")
            value = float(num) / float(den)
        else:
            value = float(text)
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError(SAATY_MESSAGE) from exc
    for allowed in SAATY_SCALE:
        if abs(value - allowed) < 1e-3 * allowed:
            return allowed
    raise ValueError(SAATY_MESSAGE)


class SaatyField(StringField):
    """A pairwise judgement: how much more the first criterion matters than the second."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if valuelist and valuelist[0].strip():
            self.data = parse_saaty(valuelist[0])


class PairwiseRowForm(FlaskForm):
    """One judgement: criterion ``a`` over criterion ``b`` on Saaty's scale."""

    a = IntegerField(_l("Criterion"), validators=[InputRequired()])
    b = IntegerField(_l("Compared with"), validators=[InputRequired()])
    value = SaatyField(_l("Judgement (1/9 to 9)"), validators=[InputRequired(_l(SAATY_MESSAGE))])


PAIRWISE = ListBody("comparisons", PairwiseRowForm, max_items=780)  # 40 criteria: 780 pairs


def judgements(forms: list[PairwiseRowForm]) -> dict[tuple[int, int], float]:
    """Validated judgements as the service takes them."""
    return {(f.a.data, f.b.data): f.value.data for f in forms}
