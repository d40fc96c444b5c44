"""JSON API of vendor selection."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from planner.core.api import api_blueprint, doc, json_body, validated
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.extensions import db
from planner.projects import reports
from planner.projects.access import api_access
from planner.vendors import service
from planner.vendors.models import Criterion, Vendor
from planner.vendors.schemas import (
    CONFLICTS,
    SCORES,
    ConsensusForm,
    CriterionForm,
    RoundForm,
    VendorForm,
    conflict_items,
    score_inputs,
)

bp = api_blueprint("vendors_api", __name__)


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
    commercial = access.can(Permission.VIEW_COMMERCIAL)
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
    return jsonify(vendor_json(vendor, commercial=True)), 201


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
    "incompleteness; flagged disagreements, department totals, sensitivity, Kendall's W",
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
    binary=True,
    permission="blind",
)
def evaluation_pdf(project_id: int):
    from planner.vendors.report import EVALUATION_REPORT

    return reports.start_api(EVALUATION_REPORT, api_access(project_id))
