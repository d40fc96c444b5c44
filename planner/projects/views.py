"""Pages of a rollout: the list, the overview, settings, members, phases and gates, audit."""

from __future__ import annotations

from datetime import date
from typing import Any

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
from flask_login import current_user, login_required

from planner.core import jobs
from planner.core.audit import AuditFilter, audit_query
from planner.core.db import utcnow
from planner.core.errors import DomainError
from planner.core.forms import ConfirmForm, choices
from planner.core.pagination import page_args, paginate
from planner.core.permissions import Permission, Role
from planner.core.versioning import unit_of_work
from planner.core.web import confirm_page, flash_error, form_page, post_action
from planner.extensions import db
from planner.projects import reports, service
from planner.projects.access import project_view
from planner.projects.phases import (
    PHASE_BY_KEY,
    PHASES,
    SHORT_TITLES,
    STATUS_LABELS,
    Panel,
    PhaseStatus,
    next_gate,
    overdue_providers,
    overview_panels,
    phase_page,
    phase_panels,
    progress,
)
from planner.projects.schemas import (
    ChecklistItemForm,
    ChecklistToggleForm,
    DepartmentForm,
    DepartmentRenameForm,
    GateForm,
    MemberEditForm,
    MemberForm,
    PhaseForm,
    ProjectEditForm,
    ProjectForm,
)
from planner.projects.waiting import waiting_for

bp = Blueprint("projects", __name__)


@bp.app_context_processor
def phase_helpers() -> dict[str, Any]:
    """The phases, their status labels and each phase's area page, for every template."""
    return {
        "PHASES": PHASES,
        "PHASE_BY_KEY": PHASE_BY_KEY,
        "SHORT_TITLES": SHORT_TITLES,
        "STATUS_LABELS": STATUS_LABELS,
        "phase_page": phase_page,
    }


def _today() -> date:
    return utcnow().date()


@bp.get("/")
@login_required
def index():
    page, per_page = page_args(request.args, current_app.config["PER_PAGE"])
    archived = request.args.get("archived") == "1"
    projects = paginate(
        db.session,
        service.projects_for(db.session, current_user, include_archived=archived),
        page,
        per_page,
    )
    return render_template(
        "projects/index.html",
        projects=projects,
        archived=archived,
        waiting=waiting_for(db.session, current_user),
    )


@bp.route("/projects/new", methods=["GET", "POST"])
@login_required
def create():
    return form_page(
        ProjectForm(),
        "projects/new.html",
        lambda f: service.create_project(
            db.session,
            current_user,
            name=f.name.data,
            company=f.company.data or "",
            description=f.description.data or "",
            solution_kind=f.solution_kind.data or None,
            strategy=f.strategy.data or None,
        ),
        success=_("Rollout created. Start with its goals."),
        next_url=lambda project: url_for("projects.overview", project_id=project.id),
    )


@bp.get("/projects/<int:project_id>")
@project_view()
def overview(project_id: int):
    today = _today()
    summaries = service.overview(db.session, g.project, today)
    statuses = {s.phase.key: s.phase.status for s in summaries}
    return render_template(
        "projects/overview.html",
        summaries=summaries,
        progress=progress(statuses),
        next_key=next_gate(statuses),
        notices=[n for fn in overdue_providers() for n in fn(db.session, g.project, today)],
        panels=_panels(overview_panels(), None),
        today=today,
    )


def _panels(panels: list[Panel], phase: Any) -> list[tuple[Panel, Any]]:
    """Each registered panel with its data; those with nothing to show left out."""
    loaded = [(p, p.load(db.session, g.access, phase)) for p in panels]
    return [(p, data) for p, data in loaded if data is not None]


@bp.route("/projects/<int:project_id>/settings", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def settings(project_id: int):
    project = g.project
    form = ProjectEditForm(obj=project)
    if request.method == "GET":
        form.solution_kind.data = project.solution_kind.value if project.solution_kind else ""
        form.strategy.data = project.strategy.value if project.strategy else ""
    return form_page(
        form,
        "projects/settings.html",
        lambda f: service.update_project(
            db.session,
            g.access,
            version=f.version.data,
            name=f.name.data,
            company=f.company.data or "",
            description=f.description.data or "",
            solution_kind=f.solution_kind.data or None,
            strategy=f.strategy.data or None,
        ),
        success=_("Settings saved."),
        next_url=url_for("projects.overview", project_id=project_id),
        confirm=ConfirmForm(),
    )


@bp.post("/projects/<int:project_id>/archive")
@project_view(Permission.EDIT)
def archive(project_id: int):
    archived = request.form.get("archived") == "1"
    return post_action(
        lambda: service.set_archived(db.session, g.access, archived),
        success=_("Rollout archived.") if archived else _("Rollout restored."),
        next_url=url_for("projects.overview", project_id=project_id),
    )


def _department_choices(project_id: int) -> list:
    return choices(
        [("", _("— none —"))]
        + [(str(d.id), d.name) for d in service.departments(db.session, project_id)]
    )


@bp.route("/projects/<int:project_id>/members", methods=["GET", "POST"])
@project_view()
def members(project_id: int):
    form = MemberForm()
    form.department_id.choices = _department_choices(project_id)
    dept_form = DepartmentForm(prefix="dept")
    status = 200
    if request.method == "POST":
        g.access.require(Permission.MANAGE_MEMBERS)
        if request.form.get("form") == "dept":
            if dept_form.validate_on_submit():
                try:
                    with unit_of_work(db.session):
                        service.add_department(db.session, g.access, dept_form.name.data)
                    flash(_("Department added."), "success")
                    return redirect(url_for("projects.members", project_id=project_id))
                except DomainError as exc:
                    flash_error(exc, dept_form)
                    status = exc.status
            else:
                status = 422
        elif form.validate_on_submit():
            try:
                with unit_of_work(db.session):
                    service.add_member(
                        db.session,
                        g.access,
                        username=form.username.data,
                        role=form.role.data,
                        department_id=form.department_id.data,
                    )
                flash(_("Member added."), "success")
                return redirect(url_for("projects.members", project_id=project_id))
            except DomainError as exc:
                flash_error(exc, form)
                status = exc.status
        else:
            status = 422
    rows = service.members(db.session, project_id)
    edit_forms = {}
    for m in rows:
        f = MemberEditForm(
            prefix=f"m{m.id}", formdata=None, role=m.role.value, department_id=m.department_id
        )
        f.department_id.choices = _department_choices(project_id)
        edit_forms[m.id] = f
    departments = service.departments(db.session, project_id)
    return render_template(
        "projects/members.html",
        form=form,
        dept_form=dept_form,
        members=rows,
        edit_forms=edit_forms,
        departments=departments,
        rename_forms={
            d.id: DepartmentRenameForm(prefix=f"d{d.id}", formdata=None, name=d.name, was=d.name)
            for d in departments
        },
    ), status


@bp.post("/projects/<int:project_id>/departments/<int:department_id>")
@project_view(Permission.MANAGE_MEMBERS)
def department_rename(project_id: int, department_id: int):
    form = DepartmentRenameForm(prefix=f"d{department_id}")
    return post_action(
        lambda: service.rename_department(
            db.session, g.access, department_id, form.name.data, was=form.was.data or None
        ),
        form=form,
        invalid=_("A department needs a name of at most 120 characters."),
        success=_("Department renamed."),
        next_url=url_for("projects.members", project_id=project_id),
    )


@bp.route(
    "/projects/<int:project_id>/departments/<int:department_id>/delete", methods=["GET", "POST"]
)
@project_view(Permission.MANAGE_MEMBERS)
def department_delete(project_id: int, department_id: int):
    dept = service.get_department(db.session, project_id, department_id)
    back = url_for("projects.members", project_id=project_id)
    return confirm_page(
        lambda: service.delete_department(db.session, g.access, department_id),
        title=_("Delete the department %(name)s?", name=dept.name),
        message=_(
            "Only a department nobody belongs to can be deleted. Goals it asked for keep "
            "their text."
        ),
        action=_("Delete department"),
        cancel=back,
        success=_("Department deleted."),
        next_url=back,
    )


@bp.post("/projects/<int:project_id>/members/<int:membership_id>")
@project_view(Permission.MANAGE_MEMBERS)
def member_edit(project_id: int, membership_id: int):
    form = MemberEditForm(prefix=f"m{membership_id}")
    form.department_id.choices = _department_choices(project_id)
    return post_action(
        lambda: service.change_member(
            db.session,
            g.access,
            membership_id,
            role=form.role.data,
            department_id=form.department_id.data,
        ),
        form=form,
        invalid=_("Choose a valid role and department."),
        success=_("Member updated."),
        next_url=url_for("projects.members", project_id=project_id),
    )


@bp.route("/projects/<int:project_id>/members/<int:membership_id>/remove", methods=["GET", "POST"])
@project_view(Permission.MANAGE_MEMBERS)
def member_remove(project_id: int, membership_id: int):
    membership = next(
        (m for m in service.members(db.session, project_id) if m.id == membership_id), None
    )
    if membership is None:
        abort(404)
    back = url_for("projects.members", project_id=project_id)
    return confirm_page(
        lambda: service.remove_member(db.session, g.access, membership_id),
        title=_("Remove %(name)s from this rollout?", name=membership.user.name),
        message=_("They will no longer see anything of this rollout. Their past work stays."),
        action=_("Remove member"),
        cancel=back,
        success=_("Member removed."),
        next_url=back,
    )


def _phase_or_404(project_id: int, key: str):
    if key not in PHASE_BY_KEY:
        abort(404, description=_("There is no phase %(key)s.", key=key))
    return service.get_phase(db.session, project_id, key)


def _phase_page(phase, *, plan_form=None, gate_form=None, item_form=None, status=200):
    project = g.project
    if plan_form is None:
        plan_form = PhaseForm(obj=phase, formdata=None)
    plan_form.owner_id.choices = choices(
        [("", _("— nobody —"))]
        + [(str(m.user_id), m.user.name) for m in service.members(db.session, project.id)]
    )
    criteria = service.criteria(db.session, project, phase)
    return render_template(
        "projects/phase.html",
        phase=phase,
        pdef=PHASE_BY_KEY[phase.key],
        criteria=criteria,
        unmet=[c for c in criteria if not c.met],
        checklist=service.checklist(db.session, phase.id),
        history=service.gate_history(db.session, phase.id),
        plan_form=plan_form,
        gate_form=gate_form or GateForm(formdata=None),
        item_form=item_form or ChecklistItemForm(formdata=None),
        toggle_form=ChecklistToggleForm(formdata=None),
        confirm=ConfirmForm(formdata=None),
        panels=_panels(phase_panels(phase.key), phase),
        PhaseStatus=PhaseStatus,
    ), status


@bp.get("/projects/<int:project_id>/phases/<key>")
@project_view()
def phase(project_id: int, key: str):
    return _phase_page(_phase_or_404(project_id, key))


@bp.post("/projects/<int:project_id>/phases/<key>/plan")
@project_view(Permission.EDIT)
def phase_plan(project_id: int, key: str):
    phase = _phase_or_404(project_id, key)
    form = PhaseForm()
    if form.validate_on_submit():
        try:
            with unit_of_work(db.session):
                service.update_phase(
                    db.session,
                    g.access,
                    phase,
                    version=form.version.data,
                    owner_id=form.owner_id.data,
                    planned_start=form.planned_start.data,
                    planned_end=form.planned_end.data,
                    actual_start=form.actual_start.data,
                    actual_end=form.actual_end.data,
                )
            flash(_("Phase planning saved."), "success")
            return redirect(url_for("projects.phase", project_id=project_id, key=key))
        except DomainError as exc:
            flash_error(exc, form)
            phase = _phase_or_404(project_id, key)
            return _phase_page(phase, plan_form=form, status=exc.status)
    return _phase_page(phase, plan_form=form, status=422)


@bp.post("/projects/<int:project_id>/phases/<key>/<any(start, 'request-gate'):step>")
@project_view(Permission.EDIT)
def phase_step(project_id: int, key: str, step: str):
    phase = _phase_or_404(project_id, key)
    start = step == "start"
    return post_action(
        lambda: (service.start_phase if start else service.request_gate)(
            db.session, g.access, phase
        ),
        success=_("Phase started.") if start else _("Gate requested."),
        next_url=url_for("projects.phase", project_id=project_id, key=key),
    )


@bp.post("/projects/<int:project_id>/phases/<key>/gate")
@project_view(Permission.DECIDE_GATE)
def gate(project_id: int, key: str):
    phase = _phase_or_404(project_id, key)
    form = GateForm()
    if not form.validate_on_submit():
        return _phase_page(phase, gate_form=form, status=422)
    try:
        with unit_of_work(db.session):
            service.decide_gate(
                db.session,
                g.access,
                phase,
                outcome=form.outcome.data,
                comment=form.comment.data or "",
                risk_acknowledged=form.risk_acknowledged.data,
            )
    except DomainError as exc:
        flash_error(exc, form)
        phase = _phase_or_404(project_id, key)
        return _phase_page(phase, gate_form=form, status=exc.status)
    flash(_("Gate decision recorded."), "success")
    return redirect(url_for("projects.phase", project_id=project_id, key=key))


@bp.post("/projects/<int:project_id>/phases/<key>/checklist")
@project_view(Permission.EDIT)
def checklist_add(project_id: int, key: str):
    phase = _phase_or_404(project_id, key)
    form = ChecklistItemForm()
    if not form.validate_on_submit():
        return _phase_page(phase, item_form=form, status=422)
    try:
        with unit_of_work(db.session):
            service.add_checklist_item(db.session, g.access, phase, form.text.data)
    except DomainError as exc:
        flash_error(exc, form)
        return _phase_page(_phase_or_404(project_id, key), item_form=form, status=exc.status)
    return redirect(url_for("projects.phase", project_id=project_id, key=key))


@bp.post("/projects/<int:project_id>/phases/<key>/checklist/<int:item_id>")
@project_view(Permission.EDIT)
def checklist_toggle(project_id: int, key: str, item_id: int):
    phase = _phase_or_404(project_id, key)
    form = ChecklistToggleForm()
    return post_action(
        lambda: service.set_checklist_item(db.session, g.access, phase, item_id, form.done.data),
        form=form,
        success=_("Checklist updated."),
        next_url=url_for("projects.phase", project_id=project_id, key=key),
    )


@bp.post("/projects/<int:project_id>/phases/<key>/checklist/<int:item_id>/delete")
@project_view(Permission.EDIT)
def checklist_delete(project_id: int, key: str, item_id: int):
    phase = _phase_or_404(project_id, key)
    return post_action(
        lambda: service.delete_checklist_item(db.session, g.access, phase, item_id),
        success=_("Criterion removed."),
        next_url=url_for("projects.phase", project_id=project_id, key=key),
    )


@bp.get("/projects/<int:project_id>/audit")
@project_view(Permission.VIEW_AUDIT)
def audit_log(project_id: int):
    since = until = None
    try:
        if request.args.get("since"):
            since = date.fromisoformat(request.args["since"])
        if request.args.get("until"):
            until = date.fromisoformat(request.args["until"])
    except ValueError:
        abort(400, description=_("Dates must look like 2026-11-24."))
    flt = AuditFilter(
        action=request.args.get("action") or None,
        actor=request.args.get("actor") or None,
        entity_type=request.args.get("entity_type") or None,
        since=since,
        until=until,
    )
    page, per_page = page_args(request.args, current_app.config["PER_PAGE"])
    events = paginate(db.session, audit_query(project_id, flt), page, per_page)
    return render_template("projects/audit.html", events=events, flt=flt)


__all__ = ["bp", "Role"]


# --- report jobs: the status page every area's reports lead to ----------------------------


def _job_or_404(project_id: int, job_id: str) -> jobs.ReportJob:
    job = jobs.get_job(db.session, project_id, job_id)
    if job is None or not jobs.may_fetch(db.session, job, g.access):
        abort(404, description=_("There is no such report, or it is not yours to read."))
    return job


@bp.get("/projects/<int:project_id>/reports/<job_id>")
@project_view()
def report_job(project_id: int, job_id: str):
    """Progress of a render; refreshes itself until the file is ready (no JavaScript)."""
    job = _job_or_404(project_id, job_id)
    kind = jobs.report_kind(job.kind)
    return render_template(
        "projects/report_job.html", job=job, title=kind.title, JobState=jobs.JobState
    )


@bp.get("/projects/<int:project_id>/reports/<job_id>/file")
@project_view()
def report_file(project_id: int, job_id: str):
    job = _job_or_404(project_id, job_id)
    if job.state != jobs.JobState.DONE:
        return redirect(url_for("projects.report_job", project_id=project_id, job_id=job_id))
    return reports.send_job_file(job)
