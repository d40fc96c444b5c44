"""Pages of the goals phase: vision and strategy, goals, KPIs and measurements."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from planner.core.errors import DomainError
from planner.core.forms import ConfirmForm, choices
from planner.core.pagination import page_args
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import flash_error, project_view
from planner.extensions import db
from planner.goals import service
from planner.goals.schemas import (
    GoalEditForm,
    GoalForm,
    KPIEditForm,
    KPIForm,
    MeasurementForm,
)
from planner.projects import service as projects
from planner.projects.phases import register_phase_page
from planner.projects.schemas import VisionForm

bp = Blueprint("goals", __name__, url_prefix="/projects/<int:project_id>/goals")
register_phase_page("goals", "goals.index", _l("Open the goals and KPIs"))


def _departments(form) -> None:
    form.department_id.choices = choices(
        [("", _("— none —"))]
        + [(str(d.id), d.name) for d in projects.departments(db.session, g.project.id)]
    )


@bp.get("")
@project_view()
def index(project_id: int):
    page, per_page = page_args(request.args, current_app.config["PER_PAGE"])
    goals = service.goals_page(db.session, project_id, page, per_page)
    return render_template("goals/index.html", goals=goals)


@bp.route("/vision", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def vision(project_id: int):
    form = VisionForm(obj=g.project)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with unit_of_work(db.session):
                    projects.update_project(
                        db.session,
                        g.access,
                        version=form.version.data,
                        vision=form.vision.data or "",
                        strategy_text=form.strategy_text.data or "",
                    )
                flash(_("Vision and strategy saved."), "success")
                return redirect(url_for("goals.index", project_id=project_id))
            except DomainError as exc:
                flash_error(exc, form)
                status = exc.status
        else:
            status = 422
    return render_template("goals/vision.html", form=form), status


@bp.route("/new", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def create(project_id: int):
    form = GoalForm()
    _departments(form)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with unit_of_work(db.session):
                    goal = service.create_goal(
                        db.session,
                        g.access,
                        statement=form.statement.data,
                        department_id=form.department_id.data,
                    )
                flash(_("Goal added. Now give it a KPI."), "success")
                return redirect(url_for("goals.detail", project_id=project_id, goal_id=goal.id))
            except DomainError as exc:
                flash_error(exc, form)
                status = exc.status
        else:
            status = 422
    return render_template("goals/form.html", form=form, goal=None), status


@bp.get("/<int:goal_id>")
@project_view()
def detail(project_id: int, goal_id: int):
    goal = service.get_goal(db.session, project_id, goal_id)
    return render_template(
        "goals/detail.html",
        goal=goal,
        kpi_form=KPIForm(formdata=None),
        measurement_form=MeasurementForm(formdata=None),
        confirm=ConfirmForm(formdata=None),
    )


@bp.route("/<int:goal_id>/edit", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def edit(project_id: int, goal_id: int):
    goal = service.get_goal(db.session, project_id, goal_id)
    form = GoalEditForm(obj=goal)
    _departments(form)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with unit_of_work(db.session):
                    service.update_goal(
                        db.session,
                        g.access,
                        goal,
                        version=form.version.data,
                        statement=form.statement.data,
                        department_id=form.department_id.data,
                    )
                flash(_("Goal saved."), "success")
                return redirect(url_for("goals.detail", project_id=project_id, goal_id=goal_id))
            except DomainError as exc:
                flash_error(exc, form)
                status = exc.status
        else:
            status = 422
    return render_template("goals/form.html", form=form, goal=goal), status


@bp.route("/<int:goal_id>/delete", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def delete(project_id: int, goal_id: int):
    goal = service.get_goal(db.session, project_id, goal_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with unit_of_work(db.session):
            service.delete_goal(db.session, g.access, goal)
        flash(_("Goal deleted."), "success")
        return redirect(url_for("goals.index", project_id=project_id))
    return render_template(
        "confirm.html",
        form=form,
        title=_("Delete this goal and its %(n)d KPI(s)?", n=len(goal.kpis)),
        message=goal.statement,
        action=_("Delete goal"),
        cancel=url_for("goals.detail", project_id=project_id, goal_id=goal_id),
    )


@bp.post("/<int:goal_id>/kpis")
@project_view(Permission.EDIT)
def kpi_add(project_id: int, goal_id: int):
    goal = service.get_goal(db.session, project_id, goal_id)
    form = KPIForm()
    if form.validate_on_submit():
        try:
            with unit_of_work(db.session):
                service.add_kpi(
                    db.session,
                    g.access,
                    goal,
                    name=form.name.data,
                    unit=form.unit.data or "",
                    baseline=form.baseline.data,
                    target=form.target.data,
                    measurement_method=form.measurement_method.data or "",
                    due_date=form.due_date.data,
                )
            flash(_("KPI added."), "success")
            return redirect(url_for("goals.detail", project_id=project_id, goal_id=goal_id))
        except DomainError as exc:
            flash_error(exc, form)
            status = exc.status
    else:
        status = 422
    return render_template(
        "goals/detail.html",
        goal=goal,
        kpi_form=form,
        measurement_form=MeasurementForm(formdata=None),
        confirm=ConfirmForm(formdata=None),
    ), status


@bp.route("/<int:goal_id>/kpis/<int:kpi_id>/edit", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def kpi_edit(project_id: int, goal_id: int, kpi_id: int):
    kpi = service.get_kpi(db.session, project_id, kpi_id)
    if kpi.goal_id != goal_id:
        abort(404)
    form = KPIEditForm(obj=kpi)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with unit_of_work(db.session):
                    service.update_kpi(
                        db.session,
                        g.access,
                        kpi,
                        version=form.version.data,
                        name=form.name.data,
                        unit=form.unit.data or "",
                        baseline=form.baseline.data,
                        target=form.target.data,
                        measurement_method=form.measurement_method.data or "",
                        due_date=form.due_date.data,
                    )
                flash(_("KPI saved."), "success")
                return redirect(url_for("goals.detail", project_id=project_id, goal_id=goal_id))
            except DomainError as exc:
                flash_error(exc, form)
                status = exc.status
        else:
            status = 422
    return render_template("goals/kpi_form.html", form=form, kpi=kpi), status


@bp.route("/<int:goal_id>/kpis/<int:kpi_id>/delete", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def kpi_delete(project_id: int, goal_id: int, kpi_id: int):
    kpi = service.get_kpi(db.session, project_id, kpi_id)
    if kpi.goal_id != goal_id:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        with unit_of_work(db.session):
            service.delete_kpi(db.session, g.access, kpi)
        flash(_("KPI deleted."), "success")
        return redirect(url_for("goals.detail", project_id=project_id, goal_id=goal_id))
    return render_template(
        "confirm.html",
        form=form,
        title=_(
            "Delete the KPI %(name)s and its %(n)d measurement(s)?",
            name=kpi.name,
            n=len(kpi.measurements),
        ),
        message="",
        action=_("Delete KPI"),
        cancel=url_for("goals.detail", project_id=project_id, goal_id=goal_id),
    )


@bp.post("/<int:goal_id>/kpis/<int:kpi_id>/measurements")
@project_view(Permission.EDIT)
def measurement_add(project_id: int, goal_id: int, kpi_id: int):
    kpi = service.get_kpi(db.session, project_id, kpi_id)
    if kpi.goal_id != goal_id:
        abort(404)
    form = MeasurementForm()
    if form.validate_on_submit():
        try:
            with unit_of_work(db.session):
                service.add_measurement(
                    db.session,
                    g.access,
                    kpi,
                    value=form.value.data,
                    measured_on=form.measured_on.data,
                    note=form.note.data or "",
                )
            flash(_("Measurement recorded."), "success")
            return redirect(url_for("goals.detail", project_id=project_id, goal_id=goal_id))
        except DomainError as exc:
            flash_error(exc, form)
            status = exc.status
    else:
        status = 422
    goal = service.get_goal(db.session, project_id, goal_id)
    return render_template(
        "goals/detail.html",
        goal=goal,
        kpi_form=KPIForm(formdata=None),
        measurement_form=form,
        measurement_kpi=kpi_id,
        confirm=ConfirmForm(formdata=None),
    ), status
