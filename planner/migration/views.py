"""Pages of the data migration: the old CRM's exports, uploaded and profiled; one upload's
profile, read again another way, or purged."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from planner.core.encryption import from_config
from planner.core.errors import DomainError
from planner.core.forms import ConfirmForm, choices
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import confirm_page, flash_error, upload_limit
from planner.extensions import db
from planner.migration import (
    gate,  # noqa: F401  (registers the gate criteria)
    pilots,
    recipes,
    service,
    targets,
)
from planner.migration import plan as plans
from planner.migration.schemas import (
    APPROACH_LABELS,
    DELIMITER_LABELS,
    ENCODING_LABELS,
    PlanForm,
    ReadAgainForm,
    RecipeCreateForm,
    UploadForm,
)
from planner.projects.access import project_view
from planner.projects.phases import register_phase_page, register_phase_panel

bp = Blueprint("migration", __name__, url_prefix="/projects/<int:project_id>/migration")

register_phase_page("migration", "migration.index", _l("Open the data migration"))

EXPORT_LIMIT = "MIGRATION_MAX_UPLOAD_BYTES"  # an export's size limit: larger than others'


@register_phase_panel("migration.phase", "migration/_phase_panel.html", phases=("migration",))
def phase_panel(session, access, _phase) -> dict:
    """The uploads (one statement)."""
    return {"uploads": service.uploads(session, access.project.id)}


@bp.context_processor
def labels() -> dict:
    return {
        "ENCODING_LABELS": ENCODING_LABELS,
        "DELIMITER_LABELS": DELIMITER_LABELS,
        "APPROACH_LABELS": APPROACH_LABELS,
    }


def recipe_create_form(formdata: Any = None) -> RecipeCreateForm:
    """The form that draws up a recipe: the templates, and the exports still holding rows."""
    form = RecipeCreateForm(formdata=formdata)
    form.entity.choices = choices([(e, e) for e in targets.TEMPLATES])
    form.upload.choices = choices(
        [("", _("none: the template alone"))]
        + [
            (str(u.id), u.filename)
            for u in service.uploads(db.session, g.project.id)
            if not u.purged
        ]
    )
    return form


def index_page(form: UploadForm, status: int = 200, recipe_form: Any = None):
    """The migration's index; ``recipe_form`` as it was sent when a recipe is refused."""
    if recipe_form is None and g.access.can(Permission.EDIT):
        recipe_form = recipe_create_form(None)
    return render_template(
        "migration/index.html",
        uploads=service.uploads(db.session, g.project.id),
        recipes=recipes.recipes(db.session, g.project.id),
        pilots=pilots.pilots(db.session, g.project.id),
        form=form,
        recipe_form=recipe_form,
        may_upload=service.may_see_rows(g.access) and g.access.can(Permission.EDIT),
    ), status


@bp.get("")
@project_view()
def index(project_id: int):
    """The exports, recipes and pilot batches, with the upload form for the lead."""
    return index_page(UploadForm(formdata=None))


@bp.post("/uploads")
@upload_limit(EXPORT_LIMIT)
@project_view(Permission.EDIT)
def upload(project_id: int):
    """Upload an export and show its profile; the form again with why if it is refused."""
    form = UploadForm()
    if not form.validate_on_submit():
        return index_page(form, 400 if "csrf_token" in form.errors else 422)
    try:
        with unit_of_work(db.session):
            row = service.upload(
                db.session,
                g.access,
                form.file.data.stream,
                form.file.data.filename or "",
                from_config(current_app.config),
            )
            upload_id = row.id
    except DomainError as exc:
        flash_error(exc, form)
        return index_page(form, exc.status)
    return redirect(url_for("migration.profile", project_id=project_id, upload_id=upload_id))


def _profile_page(upload, form: ReadAgainForm | None = None, status: int = 200):
    if form is None:
        form = ReadAgainForm(formdata=None)
        form.encoding.data = upload.chosen.get("encoding", "")
        form.delimiter.data = upload.chosen.get("delimiter", "")
        chosen_row = upload.chosen.get("header_row")
        form.header_row.data = None if chosen_row is None else chosen_row + 1
    form.version.data = upload.version
    public = recipes.public_columns(db.session, upload)
    return render_template(
        "migration/profile.html",
        upload=upload,
        public_columns=public,
        header_is_data=service.header_is_data(upload),
        profile=service.profile_for(
            g.access, upload, from_config(current_app.config), public_columns=public
        ),
        sees_values=service.may_see_rows(g.access),
        form=form,
        confirm=ConfirmForm(formdata=None),
    ), status


@bp.get("/uploads/<int:upload_id>")
@project_view()
def profile(project_id: int, upload_id: int):
    """An upload's profile, with the values it quotes for the lead alone."""
    return _profile_page(service.get_upload(db.session, project_id, upload_id))


@bp.post("/uploads/<int:upload_id>/read")
@project_view(Permission.EDIT)
def read_again(project_id: int, upload_id: int):
    """Profile the upload again, read with the encoding, delimiter or header line chosen."""
    upload = service.get_upload(db.session, project_id, upload_id)
    form = ReadAgainForm()
    if not form.validate_on_submit():
        return _profile_page(upload, form, 400 if "csrf_token" in form.errors else 422)
    try:
        with unit_of_work(db.session):
            service.read_again(
                db.session,
                g.access,
                upload,
                version=form.version.data,
                encoding=form.encoding.data or None,
                delimiter=form.delimiter.data or None,
                header_row=None if form.header_row.data is None else form.header_row.data - 1,
                key=from_config(current_app.config),
            )
    except DomainError as exc:
        db.session.refresh(upload)
        flash_error(exc, form)
        return _profile_page(upload, form, exc.status)
    return redirect(url_for("migration.profile", project_id=project_id, upload_id=upload_id))


@bp.route("/uploads/<int:upload_id>/purge", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def purge(project_id: int, upload_id: int):
    """Ask, then purge the upload's rows (its counts stay)."""
    upload = service.get_upload(db.session, project_id, upload_id)
    made = [p.id for p in service.pilots_of(db.session, upload)]
    message = _(
        "Its encrypted file and the values its profile quotes are deleted for good; its "
        "name, size and counts stay. This cannot be undone: to profile it again, upload "
        "the export again."
    )
    if made:
        message += " " + ngettext(
            "Pilot batch %(ids)s was made from it: its records and downloads go too (its "
            "reconciliations keep their counts, not their values).",
            "Pilot batches %(ids)s were made from it: their records and downloads go too (their "
            "reconciliations keep their counts, not their values).",
            len(made),
            ids=", ".join(str(i) for i in made),
        )
    return confirm_page(
        lambda: service.purge(db.session, g.access, upload),
        title=_("Purge the rows of %(name)s?", name=upload.filename),
        message=message,
        action=_("Purge the rows"),
        cancel=url_for("migration.profile", project_id=project_id, upload_id=upload_id),
        success=_("The rows of %(name)s are purged.", name=upload.filename),
        next_url=url_for("migration.profile", project_id=project_id, upload_id=upload_id),
    )


def _plan_page(form: PlanForm | None = None, status: int = 200):
    row = plans.plan(db.session, g.project.id)
    if form is None:
        form = PlanForm(formdata=None, obj=row)
        form.entity_order.data = "\n".join(row.entity_order or [])
    form.version.data = row.version
    return render_template(
        "migration/plan.html",
        plan=row,
        form=form,
        may_edit=g.access.can(Permission.EDIT),
    ), status


@bp.get("/plan")
@project_view()
def plan(project_id: int):
    """The migration plan, and its form for those who may edit."""
    return _plan_page()


@bp.post("/plan")
@project_view(Permission.EDIT)
def plan_save(project_id: int):
    """Save the migration plan; the form again with why if it is refused."""
    form = PlanForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            return _plan_page(form, 400)
        flash(_("The plan is not saved: see the fields marked below."), "error")
        return _plan_page(form, 422)
    try:
        with unit_of_work(db.session):
            plans.update_plan(db.session, g.access, form.values(), version=form.version.data)
    except DomainError as exc:
        flash_error(exc, form)
        if getattr(exc, "errors", None):
            flash(_("The plan is not saved: see the fields marked below."), "error")
        return _plan_page(form, exc.status)
    flash(_("The migration plan is saved."), "success")
    return redirect(url_for("migration.plan", project_id=project_id))
