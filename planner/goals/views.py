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
from flask_babel import ngettext

from planner.core.errors import DomainError
from planner.core.forms import ConfirmForm, choices
from planner.core.pagination import page_args
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import confirm_page, flash_error, form_page
from planner.extensions import db
from planner.goals import service
from planner.goals.progress import progress
from planner.goals.schemas import (
    GoalEditForm,
    GoalForm,
    KPIEditForm,
    KPIForm,
    MeasurementForm,
)
from planner.projects import service as projects
from planner.projects.access import project_view
from planner.projects.phases import (
    Notice,
    register_overdue,
    register_overview_panel,
    register_phase_page,
)
from planner.projects.schemas import VisionForm

bp = Blueprint("goals", __name__, url_prefix="/projects/<int:project_id>/goals")


@bp.context_processor
def kpi_helpers() -> dict:
    """``kpi_progress(kpi)``: how far its latest measurement has come (see goals.progress)."""
    return {
        "kpi_progress": lambda k: progress(
            k.baseline, k.target, [(m.measured_on, m.value) for m in k.measurements]
        )
    }


register_phase_page("goals", "goals.index", _l("Open the goals and KPIs"))


@register_overview_panel("goals.overview", "goals/_overview_panel.html", order=100)
def overview_panel(session, access, _phase) -> dict[str, int]:
    """Goals, goals without a KPI and KPIs without a baseline or a target (one statement)."""
    goals, without_kpi, incomplete = service.kpi_stats(session, access.project.id)
    return {"goals": goals, "without_kpi": without_kpi, "incomplete": incomplete}


@register_overdue
def overdue(session, project, today) -> list[Notice]:
    """KPIs past their due date without a measurement (one statement)."""
    late = service.overdue_kpis(session, project.id, today)
    if not late:
        return []
    text = ngettext(
        "%(num)d KPI is past its due date without a measurement.",
        "%(num)d KPIs are past their due date without a measurement.",
        late,
    )
    return [Notice(text, "goals.index")]


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
    return form_page(
        VisionForm(obj=g.project),
        "goals/vision.html",
        lambda f: projects.update_project(
            db.session,
            g.access,
            version=f.version.data,
            vision=f.vision.data or "",
            strategy_text=f.strategy_text.data or "",
        ),
        success=_("Vision and strategy saved."),
        next_url=url_for("goals.index", project_id=project_id),
    )


@bp.route("/new", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def create(project_id: int):
    form = GoalForm()
    _departments(form)
    return form_page(
        form,
        "goals/form.html",
        lambda f: service.create_goal(
            db.session, g.access, statement=f.statement.data, department_id=f.department_id.data
        ),
        success=_("Goal added. Now give it a KPI."),
        next_url=lambda goal: url_for("goals.detail", project_id=project_id, goal_id=goal.id),
        goal=None,
    )


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
    return form_page(
        form,
        "goals/form.html",
        lambda f: service.update_goal(
            db.session,
            g.access,
            goal,
            version=f.version.data,
            statement=f.statement.data,
            department_id=f.department_id.data,
        ),
        success=_("Goal saved."),
        next_url=url_for("goals.detail", project_id=project_id, goal_id=goal_id),
        goal=goal,
    )


@bp.route("/<int:goal_id>/delete", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def delete(project_id: int, goal_id: int):
    goal = service.get_goal(db.session, project_id, goal_id)
    return confirm_page(
        lambda: service.delete_goal(db.session, g.access, goal),
        title=ngettext(
            "Delete this goal and its %(num)d KPI?",
            "Delete this goal and its %(num)d KPIs?",
            len(goal.kpis),
        ),
        message=goal.statement,
        action=_("Delete goal"),
        cancel=url_for("goals.detail", project_id=project_id, goal_id=goal_id),
        success=_("Goal deleted."),
        next_url=url_for("goals.index", project_id=project_id),
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
                    **form.values(),
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
    return form_page(
        KPIEditForm(obj=kpi),
        "goals/kpi_form.html",
        lambda f: service.update_kpi(
            db.session,
            g.access,
            kpi,
            version=f.version.data,
            **f.values(),
        ),
        success=_("KPI saved."),
        next_url=url_for("goals.detail", project_id=project_id, goal_id=goal_id),
        kpi=kpi,
    )


@bp.route("/<int:goal_id>/kpis/<int:kpi_id>/delete", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def kpi_delete(project_id: int, goal_id: int, kpi_id: int):
    kpi = service.get_kpi(db.session, project_id, kpi_id)
    if kpi.goal_id != goal_id:
        abort(404)
    detail = url_for("goals.detail", project_id=project_id, goal_id=goal_id)
    return confirm_page(
        lambda: service.delete_kpi(db.session, g.access, kpi),
        title=ngettext(
            "Delete the KPI %(name)s and its %(num)d measurement?",
            "Delete the KPI %(name)s and its %(num)d measurements?",
            len(kpi.measurements),
            name=kpi.name,
        ),
        message="",
        action=_("Delete KPI"),
        cancel=detail,
        success=_("KPI deleted."),
        next_url=detail,
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
