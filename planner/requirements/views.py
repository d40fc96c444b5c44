"""Pages of the requirements register: the register, a requirement with its revisions, the
comparison of two revisions, and the forms that add and change requirements."""

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
from planner.core.forms import choices, form_errors
from planner.core.pagination import page_args
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import flash_error, form_page, send_download
from planner.extensions import db
from planner.projects import service as projects
from planner.projects.access import project_view
from planner.projects.phases import (
    register_phase_page,
    register_phase_panel,
)
from planner.requirements import imports, intake, interchange, service
from planner.requirements.intake_models import Answer
from planner.requirements.records import (
    DEFAULT_MODULES,
    PRIORITY_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
)
from planner.requirements.schemas import (
    ConfirmImportForm,
    ImportForm,
    RegisterQueryForm,
    RequirementEditForm,
    RequirementForm,
    an_id,
)

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


def _trace_choices(form: RequirementForm, req=None) -> None:
    form.goal_ids.choices = choices([(str(gid), text) for gid, text in _goals()])
    form.department_ids.choices = choices(
        [(str(d.id), d.name) for d in projects.departments(db.session, g.project.id)]
    )
    members = [(str(m.user.id), m.user.name) for m in projects.members(db.session, g.project.id)]
    if req is not None and req.owner and str(req.owner.id) not in dict(members):
        members.append((str(req.owner.id), _("%(name)s (left the rollout)", name=req.owner.name)))
    form.owner_id.choices = choices([("", _("— nobody yet —"))] + members)


def _modules() -> list[str]:
    return sorted(set(DEFAULT_MODULES) | set(service.modules_in_use(db.session, g.project.id)))


def _id_arg(name: str) -> int | None:
    """A query argument that names a record: a whole number an id column holds, else 404
    (nothing of that number exists), never a database error."""
    value = request.args.get(name)
    if value is None:
        return None
    try:
        return an_id(value)
    except ValueError:
        abort(404)


def _source():
    """The answer or interview a new requirement is made from (``?answer=`` or
    ``?interview=``), or None; 404 for one that is not this rollout's."""
    answer_id = _id_arg("answer")
    interview_id = _id_arg("interview")
    if answer_id:
        return intake.get_answer(db.session, g.project.id, answer_id)
    if interview_id:
        return intake.get_interview(db.session, g.project.id, interview_id)
    return None


def _prefill(form: RequirementForm, source) -> None:
    """A new requirement's form as its source suggests it: the department, a title and the
    source's words as the description (the lead rewrites them)."""
    if isinstance(source, Answer):
        words = source.as_text()
        form.title.data = (source.text.strip().splitlines() or [source.question.text])[0][:200]
        form.description.data = f"> {source.question.text}\n>\n> {words}"
        dept = intake.get_questionnaire(
            db.session, g.project.id, source.response.questionnaire_id
        ).department_id
    else:
        form.title.data = ""
        form.description.data = "\n".join(f"> {line}" for line in source.notes.splitlines())
        dept = source.department_id
    form.department_ids.data = [dept]


@bp.route("/new", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def create(project_id: int):
    source = _source()
    form = RequirementForm()
    _trace_choices(form)
    if source is not None and request.method == "GET":
        _prefill(form, source)

    def save(f):
        req = service.create_requirement(db.session, g.access, **f.values())
        if isinstance(source, Answer):
            intake.link_source(db.session, g.access, req.id, answer=source)
        elif source is not None:
            intake.link_source(db.session, g.access, req.id, interview=source)
        return req

    return form_page(
        form,
        "requirements/form.html",
        save,
        success=_("Requirement added."),
        next_url=lambda req: url_for(
            "requirements.detail", project_id=project_id, requirement_id=req.id
        ),
        req=None,
        source=source,
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
        sources=intake.sources_of(db.session, req.id),
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
    _trace_choices(form, req)
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
        before = an_id(request.args.get("a", max(1, req.revision - 1)))
        after = an_id(request.args.get("b", req.revision))
    except ValueError:
        abort(400, description=_("Choose two revisions by their numbers."))
    a, b, changes = service.compare_revisions(db.session, req, before, after)
    return render_template("requirements/compare.html", req=req, a=a, b=b, changes=changes)


# --- import and export ----------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_TYPES = {"csv": "text/csv", "xlsx": XLSX, "reqif": "application/xml"}


@bp.get("/export.<any(csv, xlsx, reqif):fmt>")
@project_view()
def export(project_id: int, fmt: str):
    _form, query = _query_form()
    data = interchange.export(db.session, g.access, query, fmt)
    return send_download(data, f"requirements-{project_id}.{fmt}", EXPORT_TYPES[fmt])


@bp.route("/import", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def import_file(project_id: int):
    form = ImportForm()
    problems: list = []
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 422
        else:
            upload = form.file.data
            data, filename = upload.read(), upload.filename or "upload"
            try:
                records, _kind = imports.read_file(data, filename)
                imports.plan_import(db.session, g.access, records)
                with unit_of_work(db.session):
                    draft = imports.keep_draft(db.session, g.access, data, filename)
                return redirect(
                    url_for("requirements.import_preview", project_id=project_id, draft_id=draft.id)
                )
            except imports.ImportRejected as exc:
                db.session.rollback()
                problems, status = exc.row_errors, 422
                flash(exc.detail.split(". ")[0] + ".", "error")
            except DomainError as exc:
                db.session.rollback()
                flash_error(exc, form)
                status = exc.status
    return render_template(
        "requirements/import.html", form=form, problems=problems[:200], more=len(problems) - 200
    ), status


@bp.route("/import/<int:draft_id>", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def import_preview(project_id: int, draft_id: int):
    draft = imports.get_draft(db.session, g.access, draft_id)
    form = ConfirmImportForm()
    upload = imports.read_upload(draft.data, draft.filename)
    records, kind = upload.records, upload.kind
    if form.validate_on_submit():
        try:
            with unit_of_work(db.session):
                plan = imports.apply_import(
                    db.session,
                    g.access,
                    records,
                    filename=draft.filename,
                    expected_digest=form.digest.data,
                )
                imports.discard_draft(db.session, draft)
        except DomainError as exc:
            flash_error(exc)
            return redirect(
                url_for("requirements.import_preview", project_id=project_id, draft_id=draft_id)
            )
        flash(
            _(
                "Imported: %(new)d new, %(updated)d revised, %(same)d unchanged.",
                new=plan.count("new"),
                updated=plan.count("update"),
                same=plan.count("same"),
            ),
            "success",
        )
        return redirect(url_for("requirements.index", project_id=project_id))
    try:
        plan = imports.plan_import(db.session, g.access, records)
    except imports.ImportRejected as exc:
        flash(exc.detail.split(". ")[0] + ".", "error")
        return render_template(
            "requirements/import.html",
            form=ImportForm(formdata=None),
            problems=exc.row_errors[:200],
            more=len(exc.row_errors) - 200,
        ), 409
    form.digest.data = plan.digest
    return render_template(
        "requirements/import_preview.html",
        draft=draft,
        kind=kind,
        upload=upload,
        plan=plan,
        form=form,
    )
