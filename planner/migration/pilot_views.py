"""Pages and JSON API of the pilot batches: made from a recipe (the lead), exported for the new
CRM (CSV or XLSX, audited), reconciled with what the new CRM exported after importing them,
and each difference explained. Other members see counts and kinds, never a record."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from planner.core.api import doc, json_body, validated
from planner.core.encryption import from_config
from planner.core.errors import DomainError, ValidationError
from planner.core.forms import ConfirmForm
from planner.core.pagination import Page, page_args
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import confirm_page, flash_error, send_download, upload_limit
from planner.extensions import db
from planner.migration import gate, pilots, recipes, service
from planner.migration.api import bp as api_bp
from planner.migration.models import MigrationPilot, MigrationReconciliation
from planner.migration.recipe_views import recipe_page
from planner.migration.schemas import (
    ExplainForm,
    ExplanationsForm,
    GroupExplanationForm,
    PilotForm,
    ReconcileForm,
)
from planner.migration.views import EXPORT_LIMIT, bp
from planner.projects.access import Access, api_access, project_view

TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _key():
    return from_config(current_app.config)


def _download(access: Access, pilot: MigrationPilot, fmt: str):
    with unit_of_work(db.session):
        data = pilots.pilot_file(db.session, access, pilot, fmt, _key())
    entity = pilot.recipe_document.get("entity", "records")
    return send_download(data, f"pilot-{pilot.id}-{entity}.{fmt}", TYPES[fmt])


# --- pages -----------------------------------------------------------------------------------


@bp.post("/recipes/<int:recipe_id>/pilots")
@project_view(Permission.EDIT)
def pilot_create(project_id: int, recipe_id: int):
    """Make a pilot batch from the recipe's export, then open it."""
    row = recipes.get_recipe(db.session, project_id, recipe_id)
    form = PilotForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400, description=_("The form has expired; reload the page and try again."))
        flash_error(ValidationError(_("The pilot is not made: choose 1 to 1000 records.")))
        return recipe_page(row, status=422, pilot_form=form)  # the number as typed, and why
    try:
        with unit_of_work(db.session):
            made = pilots.make_pilot(db.session, g.access, row, _key(), size=form.size.data)
            pilot_id = made.id
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for("migration.recipe", project_id=project_id, recipe_id=recipe_id))
    return redirect(url_for("migration.pilot", project_id=project_id, pilot_id=pilot_id))


def _pilot_page(pilot: MigrationPilot, form: ReconcileForm | None = None, status: int = 200):
    lead = service.may_see_rows(g.access)
    shown = pilots.records(g.access, pilot, _key()) if lead and pilot.sealed_records else None
    done = pilots.reconciliations(db.session, pilot.id)
    return render_template(
        "migration/pilot.html",
        pilot=pilot,
        fields=pilots.fields_of(pilot),
        records=shown,
        reconciliations=done,
        unexplained={r.id: len(gate.unexplained(r)) for r in done},
        form=form or ReconcileForm(formdata=None),
        confirm=ConfirmForm(formdata=None),
        lead=lead and g.access.can(Permission.EDIT),
    ), status


@bp.get("/pilots/<int:pilot_id>")
@project_view()
def pilot(project_id: int, pilot_id: int):
    """A pilot batch: what it shows, its records for the lead, its reconciliations."""
    return _pilot_page(pilots.get_pilot(db.session, project_id, pilot_id))


@bp.post("/pilots/<int:pilot_id>.<any(csv, xlsx):fmt>")
@project_view(Permission.EDIT)
def pilot_file(project_id: int, pilot_id: int, fmt: str):
    """The pilot as a CSV or XLSX file for the new CRM (audited)."""
    pilot = pilots.get_pilot(db.session, project_id, pilot_id)
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form has expired; reload the page and try again."))
    try:
        return _download(g.access, pilot, fmt)
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for("migration.pilot", project_id=project_id, pilot_id=pilot_id))


@bp.post("/pilots/<int:pilot_id>/reconciliations")
@upload_limit(EXPORT_LIMIT)
@project_view(Permission.EDIT)
def reconcile(project_id: int, pilot_id: int):
    """Reconcile the pilot with the new CRM's export, then show the differences."""
    pilot = pilots.get_pilot(db.session, project_id, pilot_id)
    form = ReconcileForm()
    if not form.validate_on_submit():
        return _pilot_page(pilot, form, 400 if "csrf_token" in form.errors else 422)
    try:
        with unit_of_work(db.session):
            row = pilots.reconcile(
                db.session,
                g.access,
                pilot,
                form.file.data.stream,
                form.file.data.filename or "",
                _key(),
            )
            row_id = row.id
    except DomainError as exc:
        flash_error(exc, form)
        if getattr(exc, "errors", None):  # beside the file field, far down: said on top too
            flash(exc.detail, "error")
        return _pilot_page(pilot, form, exc.status)
    return redirect(
        url_for("migration.reconciliation", project_id=project_id, reconciliation_id=row_id)
    )


PER_PAGE = 50  # differences a page of the reconciliation lists
SHOWN = ("all", "unexplained")


def _listing() -> tuple[str, int]:
    """Which differences the page lists ("all" or "unexplained") and its page number, from
    the query (a refused form sends them back as it got them)."""
    show = request.values.get("show", "all")
    page, _per_page = page_args({"page": request.values.get("page", 1)}, PER_PAGE)
    return (show if show in SHOWN else "all"), page


def _reconciliation_page(
    row: MigrationReconciliation,
    status: int = 200,
    typed: dict[str, str] | None = None,
    group_form: GroupExplanationForm | None = None,
):
    """The reconciliation's page: :data:`PER_PAGE` differences at a time, all or the
    unexplained ones; ``typed`` keeps the explanations as they were sent when they are
    refused (a stale version: someone explained meanwhile), listing those differences alone,
    wherever the others' explanations moved them."""
    pilot = pilots.get_pilot(db.session, row.project_id, row.pilot_id)
    details = pilots.details_for(g.access, row, _key())
    left = gate.unexplained(row)
    show, number = _listing()
    listed = details.get("differences", [])
    if typed:
        listed = [d for d in listed if d["id"] in typed]
        number = 1
    elif show == "unexplained":
        waiting = set(left)
        listed = [d for d in listed if d["id"] in waiting]
    size = max(PER_PAGE, len(listed)) if typed else PER_PAGE
    number = min(number, max(1, -(-len(listed) // size)))
    page = Page(listed[(number - 1) * size : number * size], number, size, len(listed))
    lead = service.may_see_rows(g.access) and g.access.can(Permission.EDIT)
    groups = [group for group in pilots.groups(row) if len(group["ids"]) > 1] if lead else []
    if lead and group_form is None:
        group_form = GroupExplanationForm(formdata=None, version=row.version)
    if group_form is not None:
        # A group explanation fills only what nobody explained: the current version is safe.
        group_form.version.data, group_form.version.raw_data = row.version, [str(row.version)]
        group_form.group.choices = [(_group_value(group), _group_label(group)) for group in groups]
    return render_template(
        "migration/reconciliation.html",
        row=row,
        pilot=pilot,
        details=details,
        unexplained=set(left),
        page=page,
        show=show,
        typed=typed or {},
        with_values=any("key" in d for d in details.get("differences", [])),
        lead=lead,
        groups=groups,
        group_form=group_form,
    ), status


def _group_value(group: dict[str, Any]) -> str:
    """ "kind:field" (the field empty for none), or "kind" for every field of the kind."""
    return group["kind"] if group["every_field"] else f"{group['kind']}:{group['field'] or ''}"


def _group_label(group: dict[str, Any]) -> str:
    if group["every_field"]:
        return _(
            "%(kind)s, all %(fields)d fields: %(n)d",
            kind=group["kind"],
            fields=group["fields"],
            n=len(group["ids"]),
        )
    field = group["field"]
    if field:
        return _("%(kind)s, %(field)s: %(n)d", kind=group["kind"], field=field, n=len(group["ids"]))
    return _("%(kind)s: %(n)d", kind=group["kind"], n=len(group["ids"]))


def _back(row: MigrationReconciliation, **anchor: Any):
    """To the reconciliation's page, the list as it was."""
    show, number = _listing()
    listing = {"show": show} if show != "all" else {}
    if number > 1:
        listing["page"] = number
    return redirect(
        url_for(
            "migration.reconciliation",
            project_id=row.project_id,
            reconciliation_id=row.id,
            **listing,
            **anchor,
        )
    )


@bp.get("/reconciliations/<int:reconciliation_id>")
@project_view()
def reconciliation(project_id: int, reconciliation_id: int):
    """A reconciliation: its differences and their explanations."""
    return _reconciliation_page(
        pilots.get_reconciliation(db.session, project_id, reconciliation_id)
    )


@bp.post("/reconciliations/<int:reconciliation_id>/explanations")
@project_view(Permission.EDIT)
def explain_all(project_id: int, reconciliation_id: int):
    """Save every explanation of the page at once (typing in one box and saving another
    lost the first); refused, the page keeps what was typed."""
    row = pilots.get_reconciliation(db.session, project_id, reconciliation_id)
    _listing()  # a page number that is none is refused before anything is saved
    form = ExplanationsForm()
    typed = {
        name.removeprefix("text-"): value
        for name, value in request.form.items()
        if name.startswith("text-")
    }
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400, description=_("The form has expired; reload the page and try again."))
        flash_error(ValidationError(_("Reload the reconciliation: the form is incomplete.")))
        return _reconciliation_page(row, 422, typed)
    try:
        with unit_of_work(db.session):
            pilots.explain_all(
                db.session, g.access, row, typed, version=form.version.data, key=_key()
            )
    except DomainError as exc:
        db.session.refresh(row)
        flash_error(exc)
        return _reconciliation_page(row, exc.status, typed)
    flash(_("The explanations are saved."), "success")
    return _back(row)


@bp.post("/reconciliations/<int:reconciliation_id>/explanations/group")
@project_view(Permission.EDIT)
def explain_group(project_id: int, reconciliation_id: int):
    """One explanation for every unexplained difference of a kind and field."""
    row = pilots.get_reconciliation(db.session, project_id, reconciliation_id)
    _listing()  # a page number that is none is refused before anything is saved
    form = GroupExplanationForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400, description=_("The form has expired; reload the page and try again."))
        flash_error(ValidationError(_("Nothing is explained: see the form below.")))
        return _reconciliation_page(row, 422, group_form=form)
    kind, colon, field = (form.group.data or "").partition(":")  # no colon: every field
    try:
        with unit_of_work(db.session):
            n = pilots.explain_group(
                db.session,
                g.access,
                row,
                kind,
                field or None,
                form.text.data or "",
                version=form.version.data,
                every_field=not colon,
                key=_key(),
            )
    except DomainError as exc:
        db.session.refresh(row)
        flash_error(exc, form)
        return _reconciliation_page(row, exc.status, group_form=form)
    flash(
        ngettext("%(num)d difference is explained.", "%(num)d differences are explained.", n),
        "success",
    )
    return _back(row)


@bp.route("/reconciliations/<int:reconciliation_id>/delete", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def reconciliation_delete(project_id: int, reconciliation_id: int):
    """Ask, then delete a reconciliation (a wrong file uploaded) with its explanations."""
    row = pilots.get_reconciliation(db.session, project_id, reconciliation_id)
    service.require_rows(g.access)
    explained = pilots.explained_count(row)
    message = _(
        "Its differences go, and with them %(n)s. The trail keeps that it was uploaded and "
        "deleted. The pilot's previous reconciliation, if it has one, counts for the "
        "migration gate again.",
        n=ngettext("%(num)d explanation", "%(num)d explanations", explained),
    )
    pilot_url = url_for("migration.pilot", project_id=project_id, pilot_id=row.pilot_id)
    return confirm_page(
        lambda: pilots.delete_reconciliation(db.session, g.access, row),
        title=_("Delete reconciliation %(n)d of %(name)s?", n=row.id, name=row.filename),
        message=message,
        action=_("Delete the reconciliation"),
        cancel=url_for("migration.reconciliation", project_id=project_id, reconciliation_id=row.id),
        success=_("Reconciliation %(n)d is deleted.", n=row.id),
        next_url=pilot_url,
    )


@bp.post("/reconciliations/<int:reconciliation_id>/differences/<difference_id>")
@project_view(Permission.EDIT)
def explain(project_id: int, reconciliation_id: int, difference_id: str):
    """Save (or take back) the explanation of one difference."""
    row = pilots.get_reconciliation(db.session, project_id, reconciliation_id)
    form = ExplainForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400, description=_("The form has expired; reload the page and try again."))
        flash_error(ValidationError(" ".join(str(m) for ms in form.errors.values() for m in ms)))
        return _reconciliation_page(row, 422)
    try:
        with unit_of_work(db.session):
            pilots.explain(
                db.session,
                g.access,
                row,
                difference_id,
                form.text.data or "",
                version=form.version.data,
                key=_key(),
            )
    except DomainError as exc:
        db.session.refresh(row)
        flash_error(exc)
        return _reconciliation_page(row, exc.status)
    return redirect(
        url_for(
            "migration.reconciliation",
            project_id=project_id,
            reconciliation_id=reconciliation_id,
            _anchor=f"d-{difference_id}",
        )
    )


# --- API -------------------------------------------------------------------------------------


def pilot_json(access: Access, pilot: MigrationPilot) -> dict[str, Any]:
    """A pilot as the API shows it; its records for the lead and a site admin only."""
    body: dict[str, Any] = {
        "id": pilot.id,
        "recipe_id": pilot.recipe_id,
        "recipe_version": pilot.recipe_version,
        "upload_id": pilot.upload_id,
        "entity": pilot.recipe_document.get("entity"),
        "size": pilot.size,
        "rows": list(pilot.rows),
        "kinds": dict(pilot.kinds),
        "summary": pilot.summary,
        "created_by": pilot.created_by_name,
        "created_at": pilot.created_at.isoformat(),
        "purged": pilot.purged_at is not None,
        "reconciliations": [r.id for r in pilots.reconciliations(db.session, pilot.id)],
    }
    if service.may_see_rows(access) and pilot.sealed_records is not None:
        body["records"] = pilots.records(access, pilot, _key())
    return body


def reconciliation_json(access: Access, row: MigrationReconciliation) -> dict[str, Any]:
    """A reconciliation; the differences' values for the lead and a site admin only."""
    return {
        "id": row.id,
        "pilot_id": row.pilot_id,
        "filename": row.filename,
        "size": row.size,
        "sha256": row.sha256,
        "created_by": row.created_by_name,
        "created_at": row.created_at.isoformat(),
        "result": pilots.details_for(access, row, _key()),
        "explanations": row.explanations or {},
        "unexplained": gate.unexplained(row),
        "version": row.version,
    }


@api_bp.get("/projects/<int:project_id>/migration/pilots")
@doc("The pilot batches, newest first (without their records)", permission=Permission.VIEW)
def pilots_list(project_id: int):
    api_access(project_id)
    return jsonify(
        {
            "items": [
                {
                    "id": p.id,
                    "recipe_id": p.recipe_id,
                    "entity": p.recipe_document.get("entity"),
                    "size": p.size,
                    "created_at": p.created_at.isoformat(),
                }
                for p in pilots.pilots(db.session, project_id)
            ]
        }
    )


@api_bp.post("/projects/<int:project_id>/migration/recipes/<int:recipe_id>/pilots")
@doc(
    "Make a pilot batch of `size` records (1 to 1000, default 20) with the recipe from its "
    "export, chosen so that every kind of problem found appears; the project lead only",
    status=201,
    permission=Permission.EDIT,
)
def pilots_create(project_id: int, recipe_id: int):
    access = api_access(project_id, Permission.EDIT)
    row = recipes.get_recipe(db.session, project_id, recipe_id)
    body = json_body() if request.get_data() else {}
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    unknown = sorted(set(body) - {"size"})
    if unknown:
        raise ValidationError(
            f"Unknown field {unknown[0]}.", {name: ["Unknown field."] for name in unknown}
        )
    size = body.get("size", 20)
    if isinstance(size, bool) or not isinstance(size, int):
        raise ValidationError("size is a number of records.", {"size": ["Must be a number."]})
    with unit_of_work(db.session):
        made = pilots.make_pilot(db.session, access, row, _key(), size=size)
    return jsonify(pilot_json(access, made)), 201


@api_bp.get("/projects/<int:project_id>/migration/pilots/<int:pilot_id>")
@doc(
    "A pilot batch: its rows, the kinds of problem it shows, the cleaning's counts, its "
    "records (the project lead only) and its reconciliations",
    permission=Permission.VIEW,
)
def pilots_get(project_id: int, pilot_id: int):
    access = api_access(project_id)
    return jsonify(pilot_json(access, pilots.get_pilot(db.session, project_id, pilot_id)))


@api_bp.post("/projects/<int:project_id>/migration/pilots/<int:pilot_id>.<any(csv, xlsx):fmt>")
@doc(
    "The pilot as a file for the new CRM's import (formulas neutralised; the export is "
    "audited); the project lead only",
    binary=tuple(TYPES.values()),
    permission=Permission.EDIT,
)
def pilots_file(project_id: int, pilot_id: int, fmt: str):
    access = api_access(project_id, Permission.EDIT)
    return _download(access, pilots.get_pilot(db.session, project_id, pilot_id), fmt)


@api_bp.post("/projects/<int:project_id>/migration/pilots/<int:pilot_id>/reconciliations")
@doc(
    "Reconcile the pilot with what the new CRM exported after importing it (multipart `file`, "
    "CSV or XLSX): records matched by the recipe's key; missing records, duplicates, emptied "
    "and changed fields, unexpected records; the project lead only",
    multipart=True,
    status=201,
    permission=Permission.EDIT,
)
@upload_limit(EXPORT_LIMIT)
def reconciliations_create(project_id: int, pilot_id: int):
    access = api_access(project_id, Permission.EDIT)
    pilot = pilots.get_pilot(db.session, project_id, pilot_id)
    file = request.files.get("file")
    if file is None:
        raise ValidationError(
            "Send the new CRM's export as multipart/form-data with the field file.",
            {"file": ["Required."]},
        )
    with unit_of_work(db.session):
        row = pilots.reconcile(db.session, access, pilot, file.stream, file.filename or "", _key())
    return jsonify(reconciliation_json(access, row)), 201


@api_bp.get("/projects/<int:project_id>/migration/reconciliations/<int:reconciliation_id>")
@doc(
    "A reconciliation: counts by kind, the differences (with the values for the project lead "
    "only), the explanations and the differences not explained yet",
    permission=Permission.VIEW,
)
def reconciliations_get(project_id: int, reconciliation_id: int):
    access = api_access(project_id)
    row = pilots.get_reconciliation(db.session, project_id, reconciliation_id)
    return jsonify(reconciliation_json(access, row))


@api_bp.put(
    "/projects/<int:project_id>/migration/reconciliations/<int:reconciliation_id>"
    "/differences/<difference_id>"
)
@doc(
    "Explain a difference (`text`; empty takes the explanation back); send the "
    "reconciliation's `version` (409 if changed since); the project lead only",
    body=ExplainForm,
    permission=Permission.EDIT,
)
def differences_explain(project_id: int, reconciliation_id: int, difference_id: str):
    access = api_access(project_id, Permission.EDIT)
    row = pilots.get_reconciliation(db.session, project_id, reconciliation_id)
    form = validated(ExplainForm)
    text, version = form.text.data or "", form.version.data
    with unit_of_work(db.session):
        pilots.explain(db.session, access, row, difference_id, text, version=version, key=_key())
    return jsonify(reconciliation_json(access, row))


@api_bp.delete("/projects/<int:project_id>/migration/reconciliations/<int:reconciliation_id>")
@doc(
    "Delete a reconciliation (a wrong file uploaded) with its explanations; the pilot's "
    "previous one counts again; the project lead only",
    status=204,
    permission=Permission.EDIT,
)
def reconciliations_delete(project_id: int, reconciliation_id: int):
    access = api_access(project_id, Permission.EDIT)
    row = pilots.get_reconciliation(db.session, project_id, reconciliation_id)
    with unit_of_work(db.session):
        pilots.delete_reconciliation(db.session, access, row)
    return "", 204


@api_bp.put(
    "/projects/<int:project_id>/migration/reconciliations/<int:reconciliation_id>/explanations"
)
@doc(
    "Explain several differences at once: `texts` maps difference ids to explanations (empty "
    "takes one back), all or nothing; send the reconciliation's `version` (409 if changed "
    "since); the project lead only",
    permission=Permission.EDIT,
)
def explanations_put(project_id: int, reconciliation_id: int):
    access = api_access(project_id, Permission.EDIT)
    row = pilots.get_reconciliation(db.session, project_id, reconciliation_id)
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    unknown = sorted(set(body) - {"texts", "version"})
    if unknown:
        raise ValidationError(
            f"Unknown field {unknown[0]}.", {name: ["Unknown field."] for name in unknown}
        )
    texts, version = body.get("texts"), body.get("version")
    if not isinstance(texts, dict) or not all(isinstance(t, str) for t in texts.values()):
        raise ValidationError(
            "texts maps difference ids to explanations (text).", {"texts": ["Not an object."]}
        )
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValidationError(
            "Send the reconciliation's version you read.", {"version": ["Required: a number."]}
        )
    with unit_of_work(db.session):
        pilots.explain_all(db.session, access, row, texts, version=version, key=_key())
    return jsonify(reconciliation_json(access, row))
