"""Pages and JSON API of the recipes: drawn up from a starter template for an export, read as a
mapping, edited, imported and exported as the JSON document `planner migrate apply` reads,
previewed on the export's rows (the lead only), deleted behind a confirmation."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext

from planner.core.api import doc, json_body, unusable_text_at
from planner.core.encryption import from_config
from planner.core.errors import Conflict, DomainError, ValidationError
from planner.core.forms import ConfirmForm
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import confirm_page, flash_error, send_download
from planner.extensions import db
from planner.migration import preview as previews
from planner.migration import recipe as engine
from planner.migration import recipes, service, targets
from planner.migration.api import bp as api_bp
from planner.migration.models import MigrationRecipe
from planner.migration.recipes import MAX_DOCUMENT_BYTES
from planner.migration.schemas import (
    MappingForm,
    PilotForm,
    RecipeForm,
    RecipeImportForm,
    UploadForm,
)
from planner.migration.views import bp, index_page, recipe_create_form
from planner.projects.access import Access, api_access, project_view

PREVIEW_ROWS = 50


def document_text(row: MigrationRecipe) -> str:
    """The recipe as its JSON file reads (indented, keys in the engine's order)."""
    return json.dumps(row.document, ensure_ascii=False, indent=2)


def _loaded(text: str | bytes) -> Any:
    """A recipe file or the document field, parsed: ValidationError for what is no JSON, is
    nested too deeply, or holds text no database stores (NUL characters)."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise ValidationError(
            f"A recipe has at most {MAX_DOCUMENT_BYTES // 1024} KB.", {"document": ["Too long."]}
        )
    try:
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if hasattr(exc, "lineno") else ""
        raise ValidationError(
            f"The recipe is not JSON{where}.", {"document": ["Not JSON."]}
        ) from None
    except RecursionError:
        raise ValidationError(
            "The recipe is nested too deeply.", {"document": ["Nested too deeply."]}
        ) from None
    if found := unusable_text_at(document):
        raise ValidationError(
            f"{found[0] or 'The recipe'}: text must not contain NUL characters.",
            {"document": ["Contains a NUL character."]},
        )
    return document


def _place(exc: DomainError, form: Any) -> None:
    """The engine's errors (by JSON path) beside the document field, each with its path."""
    errors = getattr(exc, "errors", {}) or {}
    field = form.document if hasattr(form, "document") else form.file
    field.errors = list(field.errors) + [
        f"{path}: {message}" if path not in ("document", "file") else message
        for path, messages in errors.items()
        for message in messages
    ]
    flash_error(exc)


def _flash_all(exc: DomainError) -> None:
    """A refusal flashed with every error the engine named, each by its place."""
    errors = getattr(exc, "errors", {}) or {}
    named = [f"{path}: {m}" for path, messages in errors.items() for m in messages]
    flash_error(ValidationError(" ".join([exc.detail, *named])) if named else exc)


def _incomplete(row: MigrationRecipe, form: MappingForm):
    """The answer to a form without its token (400) or its version (422)."""
    if "csrf_token" in form.errors:
        abort(400, description=_("The form has expired; reload the page and try again."))
    flash_error(ValidationError(_("Reload the recipe: the form is incomplete.")))
    return recipe_page(row, status=422)


# --- pages -----------------------------------------------------------------------------------


@bp.post("/recipes")
@project_view(Permission.EDIT)
def recipe_create(project_id: int):
    """Draw up a recipe from its template for an export, then open it."""
    form = recipe_create_form(request.form)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400, description=_("The form has expired; reload the page and try again."))
        flash_error(ValidationError(_("The recipe is not drawn up: see the form.")))
        return index_page(UploadForm(formdata=None), 422, form)  # as chosen, with why
    upload = (
        service.get_upload(db.session, project_id, int(form.upload.data))
        if form.upload.data
        else None
    )
    try:
        with unit_of_work(db.session):
            row = recipes.create_recipe(
                db.session,
                g.access,
                entity=form.entity.data,
                upload=upload,
                region=form.region.data.upper(),
            )
            recipe_id = row.id
    except DomainError as exc:
        flash_error(exc, form)
        if getattr(exc, "errors", None):  # beside the form, far down the page: said on top too
            flash(exc.detail, "error")
        return index_page(UploadForm(formdata=None), exc.status, form)
    return redirect(url_for("migration.recipe", project_id=project_id, recipe_id=recipe_id))


def recipe_page(
    row: MigrationRecipe,
    form: RecipeForm | None = None,
    import_form: RecipeImportForm | None = None,
    status: int = 200,
    pilot_form: PilotForm | None = None,
    mapping: list[dict[str, Any]] | None = None,
):
    """The recipe's page, with the forms as they were sent when one is refused (``mapping``:
    the mapping form's choices, field by field)."""
    if form is None:
        form = RecipeForm(formdata=None)
        form.document.data = document_text(row)
    form.version.data = row.version
    import_form = import_form or RecipeImportForm(formdata=None)
    import_form.version.data = row.version
    upload = (
        service.get_upload(db.session, row.project_id, row.upload_id) if row.upload_id else None
    )
    recipe = recipes.parsed(row)
    columns = recipes.column_names(upload) if upload is not None else []
    return render_template(
        "migration/recipe.html",
        row=row,
        recipe=recipe,
        rules={r.field: r for r in recipe.rules},
        upload=upload,
        unmapped=targets.unmapped(recipe, columns) if columns else [],
        transforms=engine.TRANSFORMS,
        form=form,
        import_form=import_form,
        pilot_form=pilot_form or PilotForm(formdata=None),
        columns=columns,
        exports=[u for u in service.uploads(db.session, row.project_id) if not u.purged],
        choosable={
            f.name: [
                t for t in engine.TRANSFORMS.values() if f.type in t.fills and t.sources == "one"
            ]
            for f in recipe.fields
        },
        sees_rows=service.may_see_rows(g.access),
        may_edit=g.access.can(Permission.EDIT),
        piloted=recipes.piloted(db.session, row),
        mapping=mapping,
    ), status


@bp.get("/recipes/<int:recipe_id>")
@project_view()
def recipe(project_id: int, recipe_id: int):
    """A recipe: its mapping (a form for editors), the document, the pilot form."""
    return recipe_page(recipes.get_recipe(db.session, project_id, recipe_id))


@bp.post("/recipes/<int:recipe_id>")
@project_view(Permission.EDIT)
def recipe_save(project_id: int, recipe_id: int):
    """Replace the recipe's document; every mistake named by its place."""
    row = recipes.get_recipe(db.session, project_id, recipe_id)
    form = RecipeForm()
    if not form.validate_on_submit():
        return recipe_page(row, form, status=400 if "csrf_token" in form.errors else 422)
    try:
        with unit_of_work(db.session):
            recipes.save_recipe(
                db.session, g.access, row, _loaded(form.document.data), version=form.version.data
            )
    except DomainError as exc:
        db.session.refresh(row)
        _place(exc, form)
        return recipe_page(row, form, status=exc.status)
    flash(_("The recipe is saved: version %(n)d.", n=row.version), "success")
    return redirect(url_for("migration.recipe", project_id=project_id, recipe_id=recipe_id))


@bp.post("/recipes/<int:recipe_id>/mapping")
@project_view(Permission.EDIT)
def recipe_mapping(project_id: int, recipe_id: int):
    """Save the mapping form: a column and a transformation per field, and its flags."""
    row = recipes.get_recipe(db.session, project_id, recipe_id)
    form = MappingForm()
    if not form.validate_on_submit():
        return _incomplete(row, form)
    recipe = recipes.parsed(row)
    choices = [
        {
            "from": request.form.get(f"from-{i}") or None,
            "transform": request.form.get(f"transform-{i}") or None,
            "required": bool(request.form.get(f"required-{i}")),
            "sensitive": bool(request.form.get(f"sensitive-{i}")),
        }
        for i in range(len(recipe.fields))
    ]
    try:
        with unit_of_work(db.session):
            recipes.save_recipe(
                db.session,
                g.access,
                row,
                recipes.remapped(recipe, choices),
                version=form.version.data,
            )
    except DomainError as exc:
        db.session.refresh(row)
        _flash_all(exc)
        return recipe_page(row, status=exc.status, mapping=choices)  # the choices as sent
    flash(_("The mapping is saved."), "success")
    return redirect(url_for("migration.recipe", project_id=project_id, recipe_id=recipe_id))


@bp.post("/recipes/<int:recipe_id>/upload")
@project_view(Permission.EDIT)
def recipe_use_upload(project_id: int, recipe_id: int):
    """Preview and pilot the recipe on another export (a newer one of the old CRM)."""
    row = recipes.get_recipe(db.session, project_id, recipe_id)
    form = MappingForm()  # its version alone
    if not form.validate_on_submit():
        return _incomplete(row, form)
    raw = request.form.get("upload", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        flash_error(ValidationError(_("Choose one of the exports.")))
        return recipe_page(row, status=422)
    try:
        upload = service.get_upload(db.session, project_id, int(raw))
        with unit_of_work(db.session):
            before = len(recipes.parsed(row).rules)
            recipes.use_upload(db.session, g.access, row, upload, version=form.version.data)
            added = len(recipes.parsed(row).rules) - before
    except DomainError as exc:
        db.session.refresh(row)
        _flash_all(exc)
        return recipe_page(row, status=exc.status)
    said = _("The recipe is now for %(name)s.", name=upload.filename)
    if added:
        said += " " + ngettext(
            "%(num)d field is mapped to its column by the column's name.",
            "%(num)d fields are mapped to their columns by the columns' names.",
            added,
        )
    flash(said, "success")
    return redirect(url_for("migration.recipe", project_id=project_id, recipe_id=recipe_id))


@bp.post("/recipes/<int:recipe_id>/import")
@project_view(Permission.EDIT)
def recipe_import(project_id: int, recipe_id: int):
    """Replace the recipe by an exported JSON file."""
    row = recipes.get_recipe(db.session, project_id, recipe_id)
    form = RecipeImportForm()
    if not form.validate_on_submit():
        return recipe_page(
            row, import_form=form, status=400 if "csrf_token" in form.errors else 422
        )
    try:
        data = form.file.data.stream.read(MAX_DOCUMENT_BYTES + 1)
        with unit_of_work(db.session):
            recipes.save_recipe(db.session, g.access, row, _loaded(data), version=form.version.data)
    except DomainError as exc:
        db.session.refresh(row)
        _place(exc, form)
        return recipe_page(row, import_form=form, status=exc.status)
    flash(_("The recipe is imported: version %(n)d.", n=row.version), "success")
    return redirect(url_for("migration.recipe", project_id=project_id, recipe_id=recipe_id))


@bp.get("/recipes/<int:recipe_id>.json")
@project_view()
def recipe_file(project_id: int, recipe_id: int):
    """The recipe as its JSON file (no customer value in it)."""
    row = recipes.get_recipe(db.session, project_id, recipe_id)
    return send_download(
        (document_text(row) + "\n").encode(), f"recipe-{row.entity}.json", "application/json"
    )


@bp.route("/recipes/<int:recipe_id>/delete", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def recipe_delete(project_id: int, recipe_id: int):
    """Ask, then delete a recipe that made no pilot."""
    row = recipes.get_recipe(db.session, project_id, recipe_id)
    return confirm_page(
        lambda: recipes.delete_recipe(db.session, g.access, row),
        title=_("Delete the recipe of %(entity)s?", entity=row.entity),
        message=_(
            "Its mapping and transformations are deleted; export it first to keep a copy. A "
            "recipe that made a pilot batch stays with it and cannot be deleted."
        ),
        action=_("Delete the recipe"),
        cancel=url_for("migration.recipe", project_id=project_id, recipe_id=recipe_id),
        success=_("The recipe of %(entity)s is deleted.", entity=row.entity),
        next_url=url_for("migration.index", project_id=project_id),
    )


@bp.get("/recipes/<int:recipe_id>/preview")
@project_view(Permission.EDIT)
def recipe_preview(project_id: int, recipe_id: int):
    """The recipe applied to its export: original and cleaned rows (the lead)."""
    row = recipes.get_recipe(db.session, project_id, recipe_id)
    try:
        shown = previews.preview(
            db.session, g.access, row, from_config(current_app.config), limit=PREVIEW_ROWS
        )
    except Conflict as exc:  # no export, or its rows purged: back to the recipe, told why
        flash_error(exc)
        return redirect(url_for("migration.recipe", project_id=project_id, recipe_id=recipe_id))
    return render_template(
        "migration/preview.html", row=row, shown=shown, confirm=ConfirmForm(formdata=None)
    )


# --- API -------------------------------------------------------------------------------------


def recipe_json(row: MigrationRecipe) -> dict[str, Any]:
    """A recipe as the API shows it: its document, the export it is previewed on, version."""
    return {
        "id": row.id,
        "entity": row.entity,
        "upload_id": row.upload_id,
        "document": row.document,
        "created_by": row.created_by_name,
        "created_at": row.created_at.isoformat(),
        "version": row.version,
    }


@api_bp.get("/projects/<int:project_id>/migration/targets")
@doc(
    "The starter templates of the new CRM's fields (contacts, companies, deals: name, type, "
    "required, sensitive, picklist values) and the transformations a recipe may use",
    permission=Permission.VIEW,
)
def targets_get(project_id: int):
    api_access(project_id)
    return jsonify(
        {
            "templates": {
                entity: [f.as_dict() for f in fields]
                for entity, fields in targets.TEMPLATES.items()
            },
            "transforms": engine.catalogue(),
        }
    )


@api_bp.get("/projects/<int:project_id>/migration/recipes")
@doc("The rollout's recipes, one per entity", permission=Permission.VIEW)
def recipes_list(project_id: int):
    api_access(project_id)
    return jsonify({"items": [recipe_json(r) for r in recipes.recipes(db.session, project_id)]})


@api_bp.post("/projects/<int:project_id>/migration/recipes")
@doc(
    "Draw up the recipe of an `entity` (contacts, companies, deals) from its starter template, "
    "mapped to the columns of `upload_id` where their names are known; `region`: the country "
    "of phone numbers without a code (RU)",
    status=201,
    permission=Permission.EDIT,
)
def recipes_create(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    unknown = sorted(set(body) - {"entity", "upload_id", "region"})
    if unknown:
        raise ValidationError(
            f"Unknown field {unknown[0]}.", {name: ["Unknown field."] for name in unknown}
        )
    entity, upload_id, region = body.get("entity"), body.get("upload_id"), body.get("region", "RU")
    if not isinstance(entity, str):
        raise ValidationError("Name the entity.", {"entity": ["Required: a text."]})
    if not isinstance(region, str):
        raise ValidationError("The region is two letters.", {"region": ["Must be a text."]})
    if upload_id is not None and (isinstance(upload_id, bool) or not isinstance(upload_id, int)):
        raise ValidationError("upload_id is a number.", {"upload_id": ["Must be a number."]})
    upload = (
        service.get_upload(db.session, project_id, upload_id) if upload_id is not None else None
    )
    with unit_of_work(db.session):
        row = recipes.create_recipe(
            db.session, access, entity=entity, upload=upload, region=region.upper()
        )
    return jsonify(recipe_json(row)), 201


@api_bp.get("/projects/<int:project_id>/migration/recipes/<int:recipe_id>")
@doc("A recipe: its JSON document and version", permission=Permission.VIEW)
def recipes_get(project_id: int, recipe_id: int):
    api_access(project_id)
    return jsonify(recipe_json(recipes.get_recipe(db.session, project_id, recipe_id)))


@api_bp.put("/projects/<int:project_id>/migration/recipes/<int:recipe_id>")
@doc(
    "Replace the recipe's `document` (the JSON recipe, as exported) and, with `upload_id`, "
    "the export it is previewed on; send the `version` you read (409 if saved since); a "
    "document the engine refuses is answered 422 with every error by its JSON path",
    permission=Permission.EDIT,
)
def recipes_put(project_id: int, recipe_id: int):
    access = api_access(project_id, Permission.EDIT)
    row = recipes.get_recipe(db.session, project_id, recipe_id)
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    unknown = sorted(set(body) - {"document", "version", "upload_id"})
    if unknown:
        raise ValidationError(
            f"Unknown field {unknown[0]}.", {name: ["Unknown field."] for name in unknown}
        )
    version = body.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValidationError(
            "Send the version of the recipe you read.", {"version": ["Required: a number."]}
        )
    if "document" not in body and "upload_id" not in body:
        raise ValidationError(
            "Send the document, the upload_id or both.", {"document": ["Required."]}
        )
    upload_id = body.get("upload_id")
    if "upload_id" in body and (isinstance(upload_id, bool) or not isinstance(upload_id, int)):
        raise ValidationError("upload_id is a number.", {"upload_id": ["Must be a number."]})
    with unit_of_work(db.session):
        if "upload_id" in body:
            upload = service.get_upload(db.session, project_id, upload_id)
            recipes.use_upload(
                db.session, access, row, upload, version=version, document=body.get("document")
            )
            version = row.version
        if "document" in body:
            recipes.save_recipe(db.session, access, row, body["document"], version=version)
    return jsonify(recipe_json(row))


@api_bp.delete("/projects/<int:project_id>/migration/recipes/<int:recipe_id>")
@doc("Delete a recipe (409 once it made a pilot batch)", status=204, permission=Permission.EDIT)
def recipes_delete(project_id: int, recipe_id: int):
    access = api_access(project_id, Permission.EDIT)
    row = recipes.get_recipe(db.session, project_id, recipe_id)
    with unit_of_work(db.session):
        recipes.delete_recipe(db.session, access, row)
    return "", 204


@api_bp.get("/projects/<int:project_id>/migration/recipes/<int:recipe_id>/preview")
@doc(
    "The recipe applied to its export: the cleaning's counts, and the first `limit` rows "
    "(at most 200) with the original cells beside the cleaned fields and every problem by "
    "row; the project lead only (409 without an export or once it is purged)",
    permission=Permission.EDIT,
)
def recipes_preview(project_id: int, recipe_id: int):
    access: Access = api_access(project_id, Permission.EDIT)
    row = recipes.get_recipe(db.session, project_id, recipe_id)
    raw = request.args.get("limit", str(PREVIEW_ROWS))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= previews.MAX_PREVIEW:
        raise ValidationError(
            f"limit is a number from 1 to {previews.MAX_PREVIEW}.", {"limit": ["Out of range."]}
        )
    shown = previews.preview(
        db.session, access, row, from_config(current_app.config), limit=int(raw)
    )
    return jsonify(shown)
