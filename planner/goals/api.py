"""JSON API of the goals phase."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from planner.core.api import api_blueprint, doc, paged, paging, validated
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.extensions import db
from planner.goals import service
from planner.goals.models import KPI, Goal
from planner.goals.schemas import GoalEditForm, GoalForm, KPIEditForm, KPIForm, MeasurementForm
from planner.projects import service as projects
from planner.projects.access import api_access
from planner.projects.schemas import VisionForm

bp = api_blueprint("goals_api", __name__)


def kpi_json(k: KPI, measurements: bool = False) -> dict[str, Any]:
    out = {
        "id": k.id,
        "name": k.name,
        "unit": k.unit,
        "baseline": k.baseline,
        "target": k.target,
        "measurement_method": k.measurement_method,
        "due_date": k.due_date.isoformat() if k.due_date else None,
        "version": k.version,
    }
    if measurements:
        out["measurements"] = [
            {"value": m.value, "measured_on": m.measured_on.isoformat(), "note": m.note}
            for m in k.measurements
        ]
    return out


def goal_json(g: Goal, measurements: bool = False) -> dict[str, Any]:
    return {
        "id": g.id,
        "statement": g.statement,
        "department": g.department.name if g.department else None,
        "department_id": g.department_id,
        "version": g.version,
        "kpis": [kpi_json(k, measurements) for k in g.kpis],
    }


@bp.get("/projects/<int:project_id>/goals")
@doc("The rollout's goals with their KPIs", paginated=True, permission=Permission.VIEW)
def goals_list(project_id: int):
    api_access(project_id)
    page, per_page = paging()
    return paged(service.goals_page(db.session, project_id, page, per_page), goal_json)


@bp.post("/projects/<int:project_id>/goals")
@doc("Add a goal", body=GoalForm, status=201, permission=Permission.EDIT)
def goals_create(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(GoalForm)
    with unit_of_work(db.session):
        goal = service.create_goal(
            db.session, access, statement=form.statement.data, department_id=form.department_id.data
        )
    return jsonify(goal_json(service.get_goal(db.session, project_id, goal.id))), 201


@bp.get("/projects/<int:project_id>/goals/<int:goal_id>")
@doc("One goal with its KPIs and their measurements", permission=Permission.VIEW)
def goals_get(project_id: int, goal_id: int):
    api_access(project_id)
    return jsonify(goal_json(service.get_goal(db.session, project_id, goal_id), True))


@bp.patch("/projects/<int:project_id>/goals/<int:goal_id>")
@doc(
    "Change a goal; send the version you read (409 if someone saved since)",
    body=GoalEditForm,
    permission=Permission.EDIT,
)
def goals_update(project_id: int, goal_id: int):
    access = api_access(project_id, Permission.EDIT)
    goal = service.get_goal(db.session, project_id, goal_id)
    form = validated(GoalEditForm)
    with unit_of_work(db.session):
        service.update_goal(
            db.session,
            access,
            goal,
            version=form.version.data,
            statement=form.statement.data,
            department_id=form.department_id.data,
        )
    return jsonify(goal_json(service.get_goal(db.session, project_id, goal_id)))


@bp.post("/projects/<int:project_id>/goals/<int:goal_id>/kpis")
@doc("Add a KPI to a goal", body=KPIForm, status=201, permission=Permission.EDIT)
def kpis_create(project_id: int, goal_id: int):
    access = api_access(project_id, Permission.EDIT)
    goal = service.get_goal(db.session, project_id, goal_id)
    form = validated(KPIForm)
    with unit_of_work(db.session):
        kpi = service.add_kpi(
            db.session,
            access,
            goal,
            **form.values(),
        )
    return jsonify(kpi_json(kpi)), 201


@bp.post("/projects/<int:project_id>/kpis/<int:kpi_id>/measurements")
@doc(
    "Record a measured value of a KPI", body=MeasurementForm, status=201, permission=Permission.EDIT
)
def measurements_create(project_id: int, kpi_id: int):
    access = api_access(project_id, Permission.EDIT)
    kpi = service.get_kpi(db.session, project_id, kpi_id)
    form = validated(MeasurementForm)
    with unit_of_work(db.session):
        m = service.add_measurement(
            db.session,
            access,
            kpi,
            value=form.value.data,
            measured_on=form.measured_on.data,
            note=form.note.data or "",
        )
    return jsonify(
        {"id": m.id, "value": m.value, "measured_on": m.measured_on.isoformat(), "note": m.note}
    ), 201


@bp.delete("/projects/<int:project_id>/goals/<int:goal_id>")
@doc("Delete a goal with its KPIs and measurements", status=204, permission=Permission.EDIT)
def goals_delete(project_id: int, goal_id: int):
    access = api_access(project_id, Permission.EDIT)
    goal = service.get_goal(db.session, project_id, goal_id)
    with unit_of_work(db.session):
        service.delete_goal(db.session, access, goal)
    return "", 204


@bp.patch("/projects/<int:project_id>/kpis/<int:kpi_id>")
@doc(
    "Change a KPI (name, unit, baseline, target, method, due date); send the `version` you read",
    body=KPIEditForm,
    permission=Permission.EDIT,
)
def kpis_update(project_id: int, kpi_id: int):
    access = api_access(project_id, Permission.EDIT)
    kpi = service.get_kpi(db.session, project_id, kpi_id)
    form = validated(KPIEditForm)
    with unit_of_work(db.session):
        service.update_kpi(
            db.session,
            access,
            kpi,
            version=form.version.data,
            **form.values(),
        )
    return jsonify(kpi_json(service.get_kpi(db.session, project_id, kpi_id), True))


@bp.delete("/projects/<int:project_id>/kpis/<int:kpi_id>")
@doc("Delete a KPI with its measurements", status=204, permission=Permission.EDIT)
def kpis_delete(project_id: int, kpi_id: int):
    access = api_access(project_id, Permission.EDIT)
    kpi = service.get_kpi(db.session, project_id, kpi_id)
    with unit_of_work(db.session):
        service.delete_kpi(db.session, access, kpi)
    return "", 204


@bp.get("/projects/<int:project_id>/vision")
@doc("The vision statement and the strategy (Markdown)", permission=Permission.VIEW)
def vision_get(project_id: int):
    access = api_access(project_id)
    p = access.project
    return jsonify({"vision": p.vision, "strategy_text": p.strategy_text, "version": p.version})


@bp.put("/projects/<int:project_id>/vision")
@doc(
    "Write the vision statement and the strategy; send the rollout's `version` you read",
    body=VisionForm,
    permission=Permission.EDIT,
)
def vision_put(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = validated(VisionForm)
    with unit_of_work(db.session):
        p = projects.update_project(
            db.session,
            access,
            version=form.version.data,
            vision=form.vision.data or "",
            strategy_text=form.strategy_text.data or "",
        )
    return jsonify({"vision": p.vision, "strategy_text": p.strategy_text, "version": p.version})
