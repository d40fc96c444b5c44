"""JSON API of vendor selection."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from planner.core import approvals
from planner.core.api import api_blueprint, doc, json_body, validated
from planner.core.errors import PermissionDenied, ValidationError
from planner.core.forms import ApprovalForm
from planner.core.permissions import Permission, Role
from planner.core.versioning import unit_of_work
from planner.core.web import send_download
from planner.extensions import db
from planner.projects import reports
from planner.projects.access import api_access
from planner.vendors import scoring, service, sheets
from planner.vendors.models import Criterion, Vendor
from planner.vendors.schemas import (
    CONFLICTS,
    PAIRWISE,
    SCORES,
    ConsensusForm,
    ContractForm,
    CriterionEditForm,
    CriterionForm,
    DecisionForm,
    RecusalForm,
    RoundForm,
    VendorEditForm,
    VendorForm,
    conflict_items,
    judgements,
    score_inputs,
)

bp = api_blueprint("vendors_api", __name__)
SHEET_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv")


def vendor_json(v: Vendor, *, commercial: bool) -> dict[str, Any]:
    out = {
        "id": v.id,
        "name": v.name,
        "product": v.product,
        "service_scope": v.service_scope,
        "support": v.support,
        "update_frequency": v.update_frequency,
        "references": v.references,
        "solution_kind": v.solution_kind,
        "version": v.version,
    }
    if commercial:
        out["cost_3y"] = v.cost_3y
    return out


def criterion_json(c: Criterion) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "description": c.description,
        "scale_guide": c.scale_guide,
        "group": c.group,
        "weight": c.weight,
        "must_have": c.must_have,
        "min_score": c.min_score,
        "is_price": c.is_price,
        "version": c.version,
    }


@bp.get("/projects/<int:project_id>/vendors")
@doc("Candidate vendors; quoted costs only for the lead and executives", permission=Permission.VIEW)
def vendors_list(project_id: int):
    access = api_access(project_id)
    commercial = service.prices_visible(access)
    return jsonify(
        {
            "items": [
                vendor_json(v, commercial=commercial)
                for v in service.vendors(db.session, project_id)
            ]
        }
    )


@bp.post("/projects/<int:project_id>/vendors")
@doc(
    "Add a candidate vendor (near-duplicate names are refused with 409)",
    body=VendorForm,
    status=201,
    permission=Permission.EDIT,
)
def vendors_create(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(VendorForm)
    with unit_of_work(db.session):
        vendor = service.create_vendor(db.session, access, **form.values())
    return jsonify(vendor_json(vendor, commercial=service.prices_visible(access))), 201


@bp.get("/projects/<int:project_id>/criteria")
@doc("Evaluation criteria with weights", permission=Permission.VIEW)
def criteria_list(project_id: int):
    api_access(project_id)
    return jsonify({"items": [criterion_json(c) for c in service.criteria(db.session, project_id)]})


@bp.post("/projects/<int:project_id>/criteria")
@doc("Add a criterion", body=CriterionForm, status=201, permission=Permission.EDIT)
def criteria_create(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(CriterionForm)
    with unit_of_work(db.session):
        crit = service.create_criterion(db.session, access, **form.values())
    return jsonify(criterion_json(crit)), 201


@bp.put("/projects/<int:project_id>/conflicts")
@doc(
    'The calling reviewer\'s declaration of interest: {"conflicts": []} for none, or a list of '
    "{vendor_id, reason}",
    body=CONFLICTS,
    permission=Permission.SCORE,
)
def conflicts_put(project_id: int):
    access = api_access(project_id, Permission.SCORE)
    parsed = conflict_items(CONFLICTS.from_json(json_body()))
    with unit_of_work(db.session):
        service.declare_conflicts(db.session, access, parsed)
    return jsonify({"conflicts": [{"vendor_id": p.vendor_id, "reason": p.reason} for p in parsed]})


@bp.put("/projects/<int:project_id>/scores")
@doc(
    "The calling reviewer's scores: a list of {vendor_id, criterion_id, score 0..5, comment}; "
    "all or nothing; a repeat overwrites the reviewer's own score",
    body=SCORES,
    permission=Permission.SCORE,
)
def scores_put(project_id: int):
    access = api_access(project_id, Permission.SCORE)
    entries = score_inputs(SCORES.from_json(json_body()))
    with unit_of_work(db.session):
        changed = service.put_scores(db.session, access, entries)
    return jsonify({"saved": len(entries), "changed": changed})


@bp.post("/projects/<int:project_id>/scoresheet/submit")
@doc(
    "Submit the calling reviewer's complete scoresheet (then the board's scores are visible)",
    status=201,
    permission=Permission.SCORE,
)
def scoresheet_submit(project_id: int):
    access = api_access(project_id, Permission.SCORE)
    with unit_of_work(db.session):
        sub = service.submit_scoresheet(db.session, access)
    return jsonify({"submitted_at": sub.submitted_at.isoformat()}), 201


@bp.post("/projects/<int:project_id>/scoring-round")
@doc(
    "Open, close technical scoring, close or reopen the scoring round",
    body=RoundForm,
    permission=Permission.EDIT,
)
def round_action(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(RoundForm)
    with unit_of_work(db.session):
        rnd = service.set_round_state(
            db.session,
            access,
            action=form.action.data,
            two_envelopes=form.two_envelopes.data if form.action.data == "open" else None,
        )
    return jsonify(
        {
            "state": rnd.state.value,
            "two_envelopes": rnd.two_envelopes,
            "technical_closed": rnd.technical_closed,
        }
    )


@bp.post("/projects/<int:project_id>/consensus")
@doc(
    "Record the lead's consensus score for a vendor × criterion",
    body=ConsensusForm,
    status=201,
    permission=Permission.EDIT,
)
def consensus_set(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(ConsensusForm)
    with unit_of_work(db.session):
        row = service.set_consensus(
            db.session,
            access,
            vendor_id=form.vendor_id.data,
            criterion_id=form.criterion_id.data,
            score=form.score.data,
            rationale=form.rationale.data,
        )
    return jsonify(
        {
            "vendor_id": row.vendor_id,
            "criterion_id": row.criterion_id,
            "score": row.score,
            "rationale": row.rationale,
        }
    ), 201


@bp.get("/projects/<int:project_id>/vendor-evaluation")
@doc(
    "Per vendor: weighted total, rank (null when knocked out or incomplete), knock-outs, "
    "incompleteness; the vendors ranked first (`first_place`, several when tied); flagged "
    "disagreements, department totals, sensitivity, P(first) (a tie shared in each draw), "
    "`tie_breaks` when first place is shared, Kendall's W",
    permission="blind",
)
def evaluation_get(project_id: int):
    access = api_access(project_id)
    with unit_of_work(db.session):  # the cache may be refreshed
        body = service.evaluation_json_for(db.session, access)
    return Response(body, mimetype="application/json")


@bp.get("/projects/<int:project_id>/vendor-evaluation.pdf")
@doc(
    "The evaluation report (PDF): 200 with the file if this data's render is ready, otherwise "
    "202 with the report job and a Location to poll (rendered in the background)",
    binary=("application/pdf",),
    returns="The evaluation report (PDF/A-ready, rendered by WeasyPrint)",
    also={202: "The report job (JSON): its state and progress; poll the Location header"},
    permission="blind",
)
def evaluation_pdf(project_id: int):
    from planner.vendors.report import EVALUATION_REPORT

    return reports.start_api(EVALUATION_REPORT, api_access(project_id))


# --- vendors and criteria: change, delete ------------------------------------------------


@bp.patch("/projects/<int:project_id>/vendors/<int:vendor_id>")
@doc(
    "Change a vendor; send the `version` you read (409 if someone saved meanwhile)",
    body=VendorEditForm,
    permission=Permission.EDIT,
)
def vendors_update(project_id: int, vendor_id: int):
    access = api_access(project_id, Permission.EDIT)
    vendor = service.get_vendor(db.session, project_id, vendor_id)
    form = validated(VendorEditForm)
    with unit_of_work(db.session):
        service.update_vendor(
            db.session, access, vendor, version=form.version.data, **form.values()
        )
    return jsonify(vendor_json(vendor, commercial=service.prices_visible(access)))


@bp.delete("/projects/<int:project_id>/vendors/<int:vendor_id>")
@doc("Delete a vendor with every score given to it", status=204, permission=Permission.EDIT)
def vendors_delete(project_id: int, vendor_id: int):
    access = api_access(project_id, Permission.EDIT)
    vendor = service.get_vendor(db.session, project_id, vendor_id)
    with unit_of_work(db.session):
        service.delete_vendor(db.session, access, vendor)
    return "", 204


@bp.patch("/projects/<int:project_id>/criteria/<int:criterion_id>")
@doc(
    "Change a criterion; send the `version` you read",
    body=CriterionEditForm,
    permission=Permission.EDIT,
)
def criteria_update(project_id: int, criterion_id: int):
    access = api_access(project_id, Permission.EDIT)
    crit = service.get_criterion(db.session, project_id, criterion_id)
    form = validated(CriterionEditForm)
    with unit_of_work(db.session):
        service.update_criterion(
            db.session, access, crit, version=form.version.data, **form.values()
        )
    return jsonify(criterion_json(crit))


@bp.delete("/projects/<int:project_id>/criteria/<int:criterion_id>")
@doc("Delete a criterion with every score given on it", status=204, permission=Permission.EDIT)
def criteria_delete(project_id: int, criterion_id: int):
    access = api_access(project_id, Permission.EDIT)
    crit = service.get_criterion(db.session, project_id, criterion_id)
    with unit_of_work(db.session):
        service.delete_criterion(db.session, access, crit)
    return "", 204


@bp.post("/projects/<int:project_id>/criteria/defaults")
@doc(
    "Add the usual criteria of seed 001 (functionality, scalability, security, ...)",
    status=201,
    permission=Permission.EDIT,
)
def criteria_defaults(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    with unit_of_work(db.session):
        added = service.add_default_criteria(db.session, access)
    return jsonify({"items": [criterion_json(c) for c in added]}), 201


# --- AHP ---------------------------------------------------------------------------------


def _ahp_json(project_id: int, result: Any = None) -> dict[str, Any]:
    stored = service.pairwise(db.session, project_id)
    out: dict[str, Any] = {
        "comparisons": [{"a": a, "b": b, "value": v} for (a, b), v in sorted(stored.items())]
    }
    if result is not None:
        crits = [c for c in service.criteria(db.session, project_id) if not c.is_price]
        out |= {
            "consistency_ratio": result.cr,
            "inconsistent": result.inconsistent,
            "weights": {str(c.id): float(w) for c, w in zip(crits, result.weights, strict=False)},
            "random_index": {
                "source": scoring.RANDOM_INDEX_SOURCE,
                "criteria": len(result.weights),
                "value": result.random_index,
                "note": scoring.RANDOM_INDEX_NOTE,
            },
        }
    return out


@bp.get("/projects/<int:project_id>/ahp")
@doc(
    "The stored AHP pairwise judgements (criterion a over b, Saaty's scale)",
    permission=Permission.EDIT,
)
def ahp_get(project_id: int):
    api_access(project_id, Permission.EDIT)
    return jsonify(_ahp_json(project_id))


@bp.put("/projects/<int:project_id>/ahp")
@doc(
    'Judge every pair of the non-price criteria ({a, b, value: 3 or "1/3"}); with '
    "`?apply=true` the derived weights replace the criteria's when consistent (CR <= 0.10)",
    body=PAIRWISE,
    permission=Permission.EDIT,
)
def ahp_put(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    pairs = judgements(PAIRWISE.from_json(json_body()))
    apply = request.args.get("apply", "false").lower()
    if apply not in ("true", "false", "1", "0"):
        raise ValidationError("apply must be true or false.", {"apply": ["true or false."]})
    with unit_of_work(db.session):
        result = service.set_pairwise(db.session, access, pairs, apply=apply in ("true", "1"))
    return jsonify(_ahp_json(project_id, result))


# --- recusals ----------------------------------------------------------------------------


@bp.get("/projects/<int:project_id>/recusals")
@doc(
    "Reviewers recused from a vendor (their scores for it count nowhere)",
    permission=Permission.EDIT,
)
def recusals_list(project_id: int):
    api_access(project_id, Permission.EDIT)
    return jsonify(
        {
            "items": [
                {
                    "id": r.id,
                    "reviewer_id": r.reviewer_id,
                    "vendor_id": r.vendor_id,
                    "reason": r.reason,
                }
                for r in service.recusals(db.session, project_id)
            ]
        }
    )


@bp.post("/projects/<int:project_id>/recusals")
@doc("Recuse a reviewer from a vendor", body=RecusalForm, status=201, permission=Permission.EDIT)
def recusals_create(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(RecusalForm)
    with unit_of_work(db.session):
        rec = service.recuse(
            db.session,
            access,
            reviewer_id=form.reviewer_id.data,
            vendor_id=form.vendor_id.data,
            reason=form.reason.data,
        )
    body = {
        "id": rec.id,
        "reviewer_id": rec.reviewer_id,
        "vendor_id": rec.vendor_id,
        "reason": rec.reason,
    }
    return jsonify(body), 201


@bp.delete("/projects/<int:project_id>/recusals/<int:recusal_id>")
@doc("Lift a recusal", status=204, permission=Permission.EDIT)
def recusals_delete(project_id: int, recusal_id: int):
    access = api_access(project_id, Permission.EDIT)
    with unit_of_work(db.session):
        service.lift_recusal(db.session, access, recusal_id)
    return "", 204


# --- the decision and the contract checklist ---------------------------------------------


def _decision_json(project_id: int) -> dict[str, Any]:
    row = service.decision(db.session, project_id)
    if row is None:
        return {"decision": None}
    out = {
        "vendor_id": row.vendor_id,
        "vendor": row.vendor.name,
        "rationale": row.rationale,
        "override_reason": row.override_reason,
        "version": row.version,
    }
    out |= {k: _plain(getattr(row, k)) for k in service.CONTRACT_FIELDS}
    out["sha256"] = approvals.digest_of(service.decision_content(row))  # what an approval signs
    out["approvals"] = [
        approvals.approval_json(a) for a in service.decision_approvals(db.session, row)
    ]
    return {"decision": out}


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


@bp.get("/projects/<int:project_id>/decision")
@doc(
    "The selected vendor, the rationale and the contract checklist (null before the decision)",
    permission=Permission.VIEW_COMMERCIAL,
)
def decision_get(project_id: int):
    api_access(project_id, Permission.VIEW_COMMERCIAL)
    return jsonify(_decision_json(project_id))


@bp.put("/projects/<int:project_id>/decision")
@doc(
    "Record the selected vendor and why; a vendor the board does not rank needs "
    "`override_reason` (409 without); send `version` to change it",
    body=DecisionForm,
    permission=Permission.EDIT,
)
def decision_put(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(DecisionForm)
    with unit_of_work(db.session):
        service.record_decision(
            db.session,
            access,
            vendor_id=form.vendor_id.data,
            rationale=form.rationale.data,
            version=form.version.data,
            override_reason=form.override_reason.data or "",
        )
    return jsonify(_decision_json(project_id))


@bp.post("/projects/<int:project_id>/decision/approvals")
@doc(
    "An executive approves the recorded decision: `meaning`, `conditions` (with conditions), "
    "`password` again, and `digest`, the decision's `sha256` you read (409 if it changed)",
    body=ApprovalForm,
    status=201,
    permission=Permission.APPROVE,
)
@approvals.limit_attempts
def decision_approve(project_id: int):
    access = api_access(project_id, Permission.APPROVE)
    form = validated(ApprovalForm)
    with unit_of_work(db.session):
        service.approve_decision(
            db.session,
            access,
            shown_digest=form.digest.data,
            meaning=form.meaning.data,
            conditions=form.conditions.data or "",
            password=form.password.data,
        )
    return jsonify(_decision_json(project_id)), 201


@bp.put("/projects/<int:project_id>/decision/contract")
@doc(
    "The contract-negotiation checklist and the legal review; send the decision's `version`",
    body=ContractForm,
    permission=Permission.EDIT,
)
def contract_put(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(ContractForm)
    with unit_of_work(db.session):
        service.update_contract(
            db.session,
            access,
            version=form.version.data,
            **form.values(),
        )
    return jsonify(_decision_json(project_id))


# --- files: the scoresheet, the matrix ---------------------------------------------------


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/projects/<int:project_id>/scoresheet.<any(xlsx, csv):fmt>")
@doc(
    "The calling reviewer's scoresheet to fill in offline",
    binary=SHEET_TYPES,
    permission=Permission.SCORE,
)
def scoresheet_file(project_id: int, fmt: str):
    access = api_access(project_id, Permission.SCORE)
    if access.role != Role.REVIEWER:
        raise PermissionDenied("Only the board's reviewers have a scoresheet.")
    data = sheets.export_scoresheet(db.session, access, access.user, fmt)
    name = f"scoresheet-{access.user.username}.{fmt}"
    return send_download(data, name, XLSX if fmt == "xlsx" else "text/csv")


@bp.put("/projects/<int:project_id>/scoresheet")
@doc(
    "Upload the filled-in scoresheet (the XLSX or CSV file as the body, or multipart `file`); "
    "all or nothing, every bad row named",
    upload=SHEET_TYPES,
    permission=Permission.SCORE,
)
def scoresheet_upload(project_id: int):
    access = api_access(project_id, Permission.SCORE)
    upload = request.files.get("file")
    data = upload.read() if upload is not None else request.get_data()
    if not data:
        raise ValidationError(
            "Send the scoresheet file as the request body.", {"file": ["Required."]}
        )
    with unit_of_work(db.session):
        changed = sheets.import_scoresheet(db.session, access, data)
    return jsonify({"changed": changed})


@bp.get("/projects/<int:project_id>/vendor-evaluation.<any(xlsx, csv):fmt>")
@doc(
    "The scoring matrix as a spreadsheet (formulas neutralised)",
    binary=SHEET_TYPES,
    permission="blind",
)
def evaluation_export(project_id: int, fmt: str):
    access = api_access(project_id)
    with unit_of_work(db.session):
        data = sheets.export_matrix(db.session, access, fmt)
    return send_download(
        data, f"vendor-matrix-{project_id}.{fmt}", XLSX if fmt == "xlsx" else "text/csv"
    )
