"""JSON API of the solution design."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from planner.core import approvals
from planner.core.api import api_blueprint, doc, json_body, validated
from planner.core.errors import PermissionDenied, ValidationError
from planner.core.forms import DecisionApprovalForm, form_from_json
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.design import service
from planner.design.models import Design, DesignModule, DesignVersion
from planner.design.schemas import (
    REVIEW_SCORES,
    DesignForm,
    IndicatorEditForm,
    IndicatorForm,
    ModuleEditForm,
    ModuleForm,
)
from planner.extensions import db
from planner.projects.access import api_access

bp = api_blueprint("design_api", __name__)


def module_json(m: DesignModule) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "description": m.description,
        "requirements": [
            {"id": r.id, "key": r.key, "revision": r.revision} for r in m.requirements
        ],
        "version": m.version,
    }


def design_json(d: Design, project_id: int) -> dict[str, Any]:
    return {
        "solution_kind": d.solution_kind.value if d.solution_kind else None,
        **{name: getattr(d, name) or "" for name in service.DESIGN_FIELDS[1:]},
        "modules": [module_json(m) for m in d.modules],
        "version": d.version,
        "uncovered": [
            {"key": u.key, "title": u.title, "priority": u.priority.value}
            for u in service.uncovered(db.session, project_id)
        ],
    }


def version_json(v: DesignVersion, standing: service.Standing) -> dict[str, Any]:
    return {
        "number": v.number,
        "submitted_by": v.submitted_by_name,
        "submitted_at": v.submitted_at.isoformat(),
        "sha256": v.digest,
        "status": standing.label,
        "approvals": [approvals.approval_json(a) for a in standing.signatures],
        "content": v.content,
    }


@bp.get("/projects/<int:project_id>/design")
@doc(
    "The working solution design, its modules and the requirements no module covers",
    permission=Permission.VIEW,
)
def design_get(project_id: int):
    access = api_access(project_id)
    return jsonify(design_json(service.get_design(db.session, access), project_id))


@bp.put("/projects/<int:project_id>/design")
@doc(
    "Write the design's texts and kind of solution: the fields sent change, the others stay; "
    "send the `version` you read (409 if saved since; required once the design exists)",
    body=DesignForm,
    permission=Permission.EDIT,
)
def design_put(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    current = service.get_design(db.session, access)
    kept = {name: getattr(current, name) or "" for name in service.DESIGN_FIELDS[1:]}
    kept["solution_kind"] = current.solution_kind.value if current.solution_kind else ""
    form = form_from_json(DesignForm, {**kept, **body})
    with unit_of_work(db.session):
        service.update_design(db.session, access, version=form.version.data, **form.values())
    return jsonify(design_json(service.get_design(db.session, access), project_id))


@bp.post("/projects/<int:project_id>/design/modules")
@doc(
    "Add a module with the requirements it covers",
    body=ModuleForm,
    status=201,
    permission=Permission.EDIT,
)
def modules_create(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(ModuleForm)
    with unit_of_work(db.session):
        m = service.add_module(db.session, access, **form.values())
    return jsonify(module_json(service.get_module(db.session, access, m.id))), 201


@bp.put("/projects/<int:project_id>/design/modules/<int:module_id>")
@doc(
    "Change a module; send the `version` you read", body=ModuleEditForm, permission=Permission.EDIT
)
def modules_update(project_id: int, module_id: int):
    access = api_access(project_id, Permission.EDIT)
    m = service.get_module(db.session, access, module_id)
    form = validated(ModuleEditForm)
    with unit_of_work(db.session):
        service.update_module(db.session, access, m, version=form.version.data, **form.values())
    return jsonify(module_json(service.get_module(db.session, access, module_id)))


@bp.delete("/projects/<int:project_id>/design/modules/<int:module_id>")
@doc("Remove a module from the working design", status=204, permission=Permission.EDIT)
def modules_delete(project_id: int, module_id: int):
    access = api_access(project_id, Permission.EDIT)
    m = service.get_module(db.session, access, module_id)
    with unit_of_work(db.session):
        service.delete_module(db.session, access, m)
    return "", 204


@bp.get("/projects/<int:project_id>/design/versions")
@doc(
    "The versions submitted for review, newest first, with their status", permission=Permission.VIEW
)
def versions_list(project_id: int):
    api_access(project_id)
    return jsonify(
        {
            "items": [
                version_json(v, service.standing(db.session, v))
                for v in service.versions(db.session, project_id)
            ]
        }
    )


@bp.post("/projects/<int:project_id>/design/versions")
@doc(
    "Submit the working design for review as the next version (frozen, with its SHA-256)",
    status=201,
    permission=Permission.EDIT,
)
def versions_create(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    with unit_of_work(db.session):
        v = service.submit_version(db.session, access)
    return jsonify(version_json(v, service.standing(db.session, v))), 201


@bp.get("/projects/<int:project_id>/design/versions/<int:number>")
@doc(
    "One version: its content, status, signatures and the SHA-256 an approver signs",
    permission=Permission.VIEW,
)
def versions_get(project_id: int, number: int):
    api_access(project_id)
    v = service.get_version(db.session, project_id, number)
    return jsonify(
        {
            **version_json(v, service.standing(db.session, v)),
            "digest_to_sign": service.digest_shown(v),
        }
    )


@bp.put("/projects/<int:project_id>/design/versions/<int:number>/review")
@doc(
    "The calling reviewer's scores of the version: a list of {indicator_id, score 1..5, "
    "comment}; `?submit=true` submits the review (every indicator scored; then final)",
    body=REVIEW_SCORES,
    permission=Permission.SCORE,
)
def review_put(project_id: int, number: int):
    access = api_access(project_id, Permission.SCORE)
    v = service.get_version(db.session, project_id, number)
    submit = request.args.get("submit", "false").lower()
    if submit not in ("true", "false"):
        raise ValidationError("submit: true or false.", {"submit": ["true or false."]})
    rows = REVIEW_SCORES.from_json(json_body())
    scores = [
        service.ScoreInput(f.indicator_id.data, f.score.data, f.comment.data or "") for f in rows
    ]
    with unit_of_work(db.session):
        changed = service.save_scores(db.session, access, v, scores, submit=submit == "true")
    return jsonify({"saved": len(scores), "changed": changed, "submitted": submit == "true"})


@bp.get("/projects/<int:project_id>/design/versions/<int:number>/review")
@doc(
    "The board's review of the version: per indicator the mean, the spread and the scores, the "
    "weighted total and Kendall's W (blind: a reviewer sees it once they submitted, a viewer "
    "once the whole board has)",
    permission="blind",
)
def review_get(project_id: int, number: int):
    access = api_access(project_id)
    v = service.get_version(db.session, project_id, number)
    if not service.may_see_results(db.session, access, v):
        raise PermissionDenied("The board's scores are shown once you have submitted your review.")
    r = service.review_result(db.session, access, v)
    return jsonify(
        {
            "submitted": r.submitted,
            "board": r.board,
            "weighted_total": r.total,
            "kendalls_w": r.kendalls_w,
            "indicators": [
                {
                    "id": i.indicator.id,
                    "name": i.indicator.name,
                    "weight": i.indicator.weight,
                    "mean": i.mean,
                    "spread": i.spread,
                    "disagreement": i.disagreement,
                    "scores": [{"reviewer": n, "score": s, "comment": c} for n, s, c in i.scores],
                }
                for i in r.indicators
            ],
        }
    )


@bp.post("/projects/<int:project_id>/design/indicators")
@doc(
    "Add an indicator the board scores the design on",
    body=IndicatorForm,
    status=201,
    permission=Permission.EDIT,
)
def indicators_create(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(IndicatorForm)
    with unit_of_work(db.session):
        i = service.add_indicator(
            db.session,
            access,
            name=form.name.data,
            guide=form.guide.data or "",
            weight=form.weight.data,
        )
    return jsonify({"id": i.id, "name": i.name, "weight": i.weight}), 201


@bp.put("/projects/<int:project_id>/design/indicators/<int:indicator_id>")
@doc(
    "Change an indicator, from the next submitted version on (a version keeps the name and "
    "weight it was submitted with); send its `version` (409 if changed since, or for a name "
    "another indicator has)",
    body=IndicatorEditForm,
    permission=Permission.EDIT,
)
def indicators_update(project_id: int, indicator_id: int):
    access = api_access(project_id, Permission.EDIT)
    indicator = service.get_indicator(db.session, project_id, indicator_id)
    form = validated(IndicatorEditForm)
    with unit_of_work(db.session):
        i = service.update_indicator(
            db.session,
            access,
            indicator,
            version=form.version.data,
            name=form.name.data,
            guide=form.guide.data or "",
            weight=form.weight.data,
        )
    return jsonify(_indicator_json(i))


@bp.delete("/projects/<int:project_id>/design/indicators/<int:indicator_id>")
@doc(
    "Remove an indicator no version was submitted with (409 for one the board scores a "
    "version on, or the last one)",
    status=204,
    permission=Permission.EDIT,
)
def indicators_delete(project_id: int, indicator_id: int):
    access = api_access(project_id, Permission.EDIT)
    indicator = service.get_indicator(db.session, project_id, indicator_id)
    with unit_of_work(db.session):
        service.delete_indicator(db.session, access, indicator)
    return "", 204


def _indicator_json(i: Any) -> dict[str, Any]:
    return {"id": i.id, "name": i.name, "guide": i.guide, "weight": i.weight, "version": i.version}


@bp.get("/projects/<int:project_id>/design/indicators")
@doc("The indicators the board scores the design on", permission=Permission.VIEW)
def indicators_list(project_id: int):
    api_access(project_id)
    return jsonify(
        {"items": [_indicator_json(i) for i in service.indicators(db.session, project_id)]}
    )


@bp.post("/projects/<int:project_id>/design/versions/<int:number>/approve")
@doc(
    "An executive approves or rejects the latest version: `meaning` (approved, "
    "approved_with_conditions, rejected), `conditions` (the conditions, or why rejected), "
    "`password`, and `digest` (the version's digest_to_sign); 409 if it changed",
    body=DecisionApprovalForm,
    status=201,
    permission=Permission.APPROVE,
)
@approvals.limit_attempts
def versions_approve(project_id: int, number: int):
    access = api_access(project_id, Permission.APPROVE)
    v = service.get_version(db.session, project_id, number)
    form = validated(DecisionApprovalForm)
    with unit_of_work(db.session):
        row = service.approve(
            db.session,
            access,
            v,
            shown_digest=form.digest.data,
            meaning=form.meaning.data,
            conditions=form.conditions.data or "",
            password=form.password.data,
        )
    return jsonify(approvals.approval_json(row)), 201
