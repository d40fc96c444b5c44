"""Pages of the requirements register: the register, a requirement with its revisions, the
comparison of two revisions, and the forms that add and change requirements."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from planner.core.forms import choices, form_errors
from planner.core.pagination import page_args
from planner.core.permissions import Permission
from planner.core.web import form_page
from planner.extensions import db
from planner.projects import service as projects
from planner.projects.access import project_view
from planner.projects.phases import (
    register_phase_page,
    register_phase_panel,
)
from planner.requirements import service
from planner.requirements.records import (
    DEFAULT_MODULES,
    PRIORITY_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
)
from planner.requirements.schemas import RegisterQueryForm, RequirementEditForm, RequirementForm

bp = Blueprint("requirements", __name__, url_prefix="/projects/<int:project_id>/requirements")

register_phase_page("requirements", "requirements.index", _l("Open the requirements register"))


@bp.context_processor
def labels() -> dict:
    return {
        "TYPE_LABELS": TYPE_LABELS,
        "PRIORITY_LABELS": PRIORITY_LABELS,
        "REQ_STATUS_LABELS": STATUS_LABELS,
    }


@register_phase_panel(
    "requirements.register", "requirements/_phase_panel.html", phases=("requirements",), order=50
)
def phase_panel(session, access, _phase) -> service.RegisterCounts:
    """The register at a glance (three statements)."""
    return service.register_counts(session, access.project.id)


def _query_form() -> tuple[RegisterQueryForm, service.RegisterQuery]:
    form = RegisterQueryForm(formdata=request.args)
    if not form.validate():
        problems = "; ".join(f"{k}: {v[0]}" for k, v in form_errors(form).items())
        abort(400, description=_("The filter cannot be used: %(problems)s", problems=problems))
    return form, service.RegisterQuery(
        q=(form.q.data or "").strip(),
        department=form.department.data,
        module=form.module.data or "",
        priority=form.priority.data or "",
        status=form.status.data or "",
        goal=form.goal.data,
        sort=form.sort.data or "key",
    )


def _goals():
    return service.goal_choices(db.session, g.project.id)


@bp.get("")
@project_view()
def index(project_id: int):
    form, query = _query_form()
    page, per_page = page_args(request.args, current_app.config["PER_PAGE"])
    reqs = service.register_page(db.session, project_id, query, page, per_page)
    flags = service.flags_for(db.session, project_id, reqs.items)
    near_keys = service.keys_of(
        db.session, [f.near_identical_to for f in flags.values() if f.near_identical_to]
    )
    return render_template(
        "requirements/index.html",
        departments=projects.departments(db.session, project_id),
        goal_options=_goals(),
        reqs=reqs,
        form=form,
        query=query,
        flags=flags,
        near_keys=near_keys,
        counts=service.register_counts(db.session, project_id),
        unserved=service.goals_without_requirement(db.session, project_id),
        modules=_modules(),
    )


def _trace_choices(form: RequirementForm) -> None:
    form.goal_ids.choices = choices([(str(gid), text) for gid, text in _goals()])
    form.department_ids.choices = choices(
        [(str(d.id), d.name) for d in projects.departments(db.session, g.project.id)]
    )
    form.owner_id.choices = choices(
        [("", _("— nobody yet —"))]
        + [(str(m.user.id), m.user.name) for m in projects.members(db.session, g.project.id)]
    )


def _modules() -> list[str]:
    return sorted(set(DEFAULT_MODULES) | set(service.modules_in_use(db.session, g.project.id)))


@bp.route("/new", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def create(project_id: int):
    form = RequirementForm()
    _trace_choices(form)
    return form_page(
        form,
        "requirements/form.html",
        lambda f: service.create_requirement(db.session, g.access, **f.values()),
        success=_("Requirement added."),
        next_url=lambda req: url_for(
            "requirements.detail", project_id=project_id, requirement_id=req.id
        ),
        req=None,
        modules=_modules(),
    )


@bp.get("/<int:requirement_id>")
@project_view()
def detail(project_id: int, requirement_id: int):
    req = service.get_requirement(db.session, project_id, requirement_id)
    flags = service.flags_for(db.session, project_id, [req])[req.id]
    near_keys = service.keys_of(db.session, [flags.near_identical_to or 0])
    return render_template(
        "requirements/detail.html",
        req=req,
        flags=flags,
        near_keys=near_keys,
        revisions=service.revisions(db.session, req),
    )


@bp.route("/<int:requirement_id>/edit", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def edit(project_id: int, requirement_id: int):
    req = service.get_requirement(db.session, project_id, requirement_id)
    form = RequirementEditForm(obj=req)
    if request.method == "GET":
        form.type.data, form.priority.data = req.type.value, req.priority.value
        form.status.data = req.status.value
        form.goal_ids.data = [gl.id for gl in req.goals]
        form.department_ids.data = [d.id for d in req.departments]
    _trace_choices(form)
    return form_page(
        form,
        "requirements/form.html",
        lambda f: service.update_requirement(
            db.session, g.access, req, version=f.version.data, **f.values()
        ),
        success=_("Requirement saved."),
        next_url=url_for("requirements.detail", project_id=project_id, requirement_id=req.id),
        req=req,
        modules=_modules(),
    )


@bp.get("/<int:requirement_id>/compare")
@project_view()
def compare(project_id: int, requirement_id: int):
    req = service.get_requirement(db.session, project_id, requirement_id)
    try:
        before = int(request.args.get("a", max(1, req.revision - 1)))
        after = int(request.args.get("b", req.revision))
    except ValueError:
        abort(400, description=_("Choose two revisions by their numbers."))
    a, b, changes = service.compare_revisions(db.session, req, before, after)
    return render_template("requirements/compare.html", req=req, a=a, b=b, changes=changes)
