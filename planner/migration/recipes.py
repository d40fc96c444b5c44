"""The rules of a rollout's recipes: one per entity (contacts, companies, deals...), drawn up
for an export from a starter template, edited as a whole document with its version, imported
and exported as JSON, every change audited. The recipe itself (what it may say, how it cleans)
is :mod:`planner.migration.recipe`'s; this module keeps it and says who may change it.

A recipe holds no customer value: column names, field names, transformations and their
options. Whoever may edit the rollout may change one; only the lead previews it on rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from planner.core import audit
from planner.core.errors import Conflict, NotFound, ValidationError
from planner.core.i18n import counted, quoted
from planner.core.permissions import Permission
from planner.core.versioning import ensure_version
from planner.migration import recipe as recipes_engine
from planner.migration import targets
from planner.migration.models import MigrationPilot, MigrationRecipe, MigrationUpload
from planner.migration.service import header_is_data, lock, require_header
from planner.migration.transforms import NATURAL
from planner.projects.access import Access

MAX_DOCUMENT_BYTES = 512 * 1024


def recipes(session: Session, project_id: int) -> list[MigrationRecipe]:
    """The rollout's recipes by entity (one statement)."""
    return list(
        session.scalars(
            select(MigrationRecipe)
            .where(MigrationRecipe.project_id == project_id)
            .order_by(MigrationRecipe.entity)
        )
    )


def get_recipe(session: Session, project_id: int, recipe_id: int) -> MigrationRecipe:
    """Recipe ``recipe_id`` of the rollout; NotFound else."""
    row = session.get(MigrationRecipe, recipe_id)
    if row is None or row.project_id != project_id:
        raise NotFound("No such recipe.")
    return row


def column_names(upload: MigrationUpload) -> list[str]:
    """The upload's columns as its profile names them (no customer value)."""
    return [str(c.get("name", "")) for c in (upload.aggregates or {}).get("columns", [])]


def parsed(row: MigrationRecipe) -> recipes_engine.Recipe:
    """The stored document as a recipe (it was checked when it was saved)."""
    return recipes_engine.parse(row.document)


def _summary(recipe: recipes_engine.Recipe) -> str:
    return (
        f"{recipe.entity}: {counted(len(recipe.fields), 'field')}, "
        f"{counted(len(recipe.rules), 'rule')}"
    )


def taken(session: Session, project_id: int, entity: str) -> bool:
    """Whether the rollout has a recipe of ``entity`` (one statement)."""
    return (
        session.scalar(
            select(MigrationRecipe.id).where(
                MigrationRecipe.project_id == project_id, MigrationRecipe.entity == entity
            )
        )
        is not None
    )


def create_recipe(
    session: Session,
    access: Access,
    *,
    entity: str,
    upload: MigrationUpload | None,
    region: str = "RU",
) -> MigrationRecipe:
    """Draw up the recipe of ``entity`` from its starter template, its columns mapped to
    ``upload``'s where their names are known (Bitrix24, amoCRM, HubSpot). Conflict if the
    rollout has a recipe of that entity; ValidationError for an unknown entity or region."""
    access.require(Permission.EDIT)
    if entity not in targets.TEMPLATES:
        raise ValidationError(
            f"No template for {quoted(entity)}: one of {', '.join(targets.TEMPLATES)}.",
            {"entity": ["Not one offered."]},
        )
    if taken(session, access.project.id, entity):
        raise _taken(entity)
    if upload is not None:
        if upload.purged:
            raise Conflict(
                f"{quoted(upload.filename)} was purged: choose an export with its rows.",
                {"upload_id": ["Purged."]},
            )
        require_header(upload)
    columns = column_names(upload) if upload is not None else []
    profile = upload.aggregates if upload is not None else None
    drawn = targets.suggest(columns, entity, region=region, profile=profile)
    row = MigrationRecipe(
        project_id=access.project.id,
        entity=entity,
        document=drawn.as_document(),
        upload_id=upload.id if upload is not None else None,
        created_by_name=access.user.name,
        updated_by_id=access.user.id,
    )
    try:
        with session.begin_nested():  # another lead's recipe of the entity, saved meanwhile
            session.add(row)
            session.flush()
    except IntegrityError:
        raise _taken(entity) from None
    audit.log(
        session,
        access,
        "migration.recipe.create",
        row,
        f"recipe drawn up: {_summary(drawn)}"
        + (f", for export {quoted(upload.filename)}" if upload is not None else ""),
    )
    return row


def save_recipe(
    session: Session,
    access: Access,
    row: MigrationRecipe,
    document: Any,
    *,
    version: int | None,
) -> MigrationRecipe:
    """Replace the recipe's document (needs EDIT; an imported file goes the same way).
    ``version`` is the one read: StaleEdit if someone saved it since. ValidationError, nothing
    changed, for a document the engine refuses, one of another entity, or one reading a column
    the recipe's export lacks."""
    access.require(Permission.EDIT)
    if version is None:
        raise ValidationError(
            "Send the version of the recipe you read, so that nobody's edit is overwritten.",
            {"version": ["Required."]},
        )
    ensure_version(session, row, version)
    recipe = recipes_engine.parse(document)
    if recipe.entity != row.entity:
        raise ValidationError(
            f"This is a recipe for {recipe.entity}, not for {row.entity}.",
            {"entity": [f"Must be {row.entity}."]},
        )
    upload = session.get(MigrationUpload, row.upload_id) if row.upload_id else None
    if upload is not None:
        recipes_engine.check_columns(recipe, column_names(upload))
    before = {"document": row.document}
    row.document = recipe.as_document()
    row.updated_by_id = access.user.id
    session.flush()
    audit.log(
        session,
        access,
        "migration.recipe.update",
        row,
        f"recipe changed: {_summary(recipe)}",
        before=before,
        after={"document": row.document},
    )
    return row


SPLIT_PARTS = {"first_name": "first", "last_name": "last", "middle_name": "middle"}


def remapped(recipe: recipes_engine.Recipe, choices: list[dict[str, Any]]) -> dict[str, Any]:
    """The recipe's document with each field's mapping as chosen on the mapping form:
    ``choices[i]`` for field i holds ``from`` (one column, or None: not mapped),
    ``transform``, ``required`` and ``sensitive``. A rule kept as it was keeps its options;
    a new or changed one gets its transformation's defaults. A rule reading several columns
    or none (join, constant) is kept as it is: the document edits those."""
    if len(choices) != len(recipe.fields):
        raise ValidationError("The mapping does not match the recipe's fields: reload it.")
    document = recipe.as_document()
    rules = {r.field: r for r in recipe.rules}
    kept = []
    for i, (field, chosen) in enumerate(zip(recipe.fields, choices, strict=True)):
        document["fields"][i]["required"] = bool(chosen.get("required"))
        document["fields"][i]["sensitive"] = bool(chosen.get("sensitive"))
        rule = rules.get(field.name)
        if rule is not None and len(rule.sources) != 1:
            kept.append(rule.as_dict())
            continue
        column, transform = chosen.get("from") or None, chosen.get("transform") or None
        if column is None:
            continue
        transform = transform or NATURAL.get(field.type, "text")
        if rule is not None and rule.sources == (column,) and rule.transform == transform:
            kept.append(rule.as_dict())
            continue
        options = {}
        if transform == "split_name" and field.name in SPLIT_PARTS:
            options["part"] = SPLIT_PARTS[field.name]
        kept.append(
            {"field": field.name, "from": [column], "transform": transform, "options": options}
        )
    document["rules"] = kept
    return document


def use_upload(
    session: Session,
    access: Access,
    row: MigrationRecipe,
    upload: MigrationUpload,
    *,
    version: int | None,
    document: Any = None,
) -> MigrationRecipe:
    """Preview and pilot the recipe on ``upload`` from now on (a newer export of the old
    CRM), with ``document`` as its recipe if one is sent; else the fields it does not fill
    yet are mapped to the export's columns where the template knows their names. The export
    it reads already changes nothing. ValidationError if the recipe reads a column the export
    lacks or the export has no header line; Conflict for a purged export."""
    access.require(Permission.EDIT)
    ensure_version(session, row, version)
    if upload.project_id != row.project_id:
        raise NotFound("No such upload.")
    if upload.purged:
        raise Conflict(f"{quoted(upload.filename)} was purged: choose an export with its rows.")
    require_header(upload)
    recipe = recipes_engine.parse(document) if document is not None else parsed(row)
    try:
        recipes_engine.check_columns(recipe, column_names(upload))
    except ValidationError as exc:  # say the way out: the fields of those columns go first
        fields = ", ".join(
            dict.fromkeys(
                r.field
                for r in recipe.rules
                if any(c not in column_names(upload) for c in r.sources)
            )
        )
        raise ValidationError(
            f"{exc.detail} Map the fields they fill ({fields}) to columns "
            f"{quoted(upload.filename)} has, or to none, save the mapping, then choose the "
            "export again.",
            exc.errors,
        ) from exc
    if upload.id == row.upload_id:  # the export it reads already: nothing changes
        return row
    mapped = _mapped_by_name(recipe, upload) if document is None else None
    before = {"upload": row.upload_id}
    row.upload_id = upload.id
    if mapped is not None:
        row.document = mapped.as_document()
    row.updated_by_id = access.user.id
    session.flush()
    added = len(mapped.rules) - len(recipe.rules) if mapped is not None else 0
    audit.log(
        session,
        access,
        "migration.recipe.update",
        row,
        f"recipe of {row.entity} now previewed on export {quoted(upload.filename)}"
        + (f"; {counted(added, 'field')} mapped by the column's name" if added else ""),
        before=before,
        after={"upload": upload.id},
    )
    return row


def _mapped_by_name(
    recipe: recipes_engine.Recipe, upload: MigrationUpload
) -> recipes_engine.Recipe | None:
    """The recipe with a rule for each field it does not fill yet whose column ``upload``
    names as its template knows it (as a recipe drawn up for that export would map it); None
    when there is none, or the result would not be a valid recipe."""
    drawn = targets.suggest(
        column_names(upload), recipe.entity, region=recipe.region, profile=upload.aggregates
    )
    filled = {r.field for r in recipe.rules}
    known = {f.name for f in recipe.fields}
    extra = tuple(r for r in drawn.rules if r.field not in filled and r.field in known)
    if not extra:
        return None
    document = recipe.as_document()
    document["rules"] = [*document["rules"], *(r.as_dict() for r in extra)]
    try:
        return recipes_engine.parse(document)
    except ValidationError:  # a field of this recipe the template's rule does not fit
        return None


def piloted(session: Session, row: MigrationRecipe) -> int:
    """How many pilot batches the recipe made (it cannot be deleted once it made one)."""
    found = select(func.count()).select_from(MigrationPilot)
    return session.scalar(found.where(MigrationPilot.recipe_id == row.id)) or 0


def delete_recipe(session: Session, access: Access, row: MigrationRecipe) -> None:
    """Delete the recipe (needs EDIT). Conflict once a pilot was made with it: the pilot and
    its reconciliation are the gate's evidence and keep the recipe they were made with."""
    access.require(Permission.EDIT)
    lock(session, row, f"The recipe of {row.entity} was deleted already.")  # a pilot waits
    if made := piloted(session, row):
        raise Conflict(
            f"The recipe of {row.entity} made {counted(made, 'pilot batch', 'pilot batches')}: "
            "it stays with them."
        )
    entity = row.entity
    audit.log(session, access, "migration.recipe.delete", row, f"recipe of {entity} deleted")
    session.delete(row)
    session.flush()


def public_columns(session: Session, upload: MigrationUpload) -> frozenset[str]:
    """The upload's columns whose most frequent values every member may see: read by the
    recipes drawn up for this very export into fields not marked sensitive, and into no
    sensitive one. None while its header looks like data (see :func:`header_is_data`)."""
    if header_is_data(upload):
        return frozenset()
    public: set[str] = set()
    private: set[str] = set()
    for row in recipes(session, upload.project_id):
        if row.upload_id != upload.id:
            continue
        recipe = parsed(row)
        sensitive = {f.name for f in recipe.fields if f.sensitive}
        for rule in recipe.rules:
            (private if rule.field in sensitive else public).update(rule.sources)
    return frozenset(public - private)


def _taken(entity: str) -> Conflict:
    """A second recipe of ``entity``: one recipe an entity, moved from export to export."""
    said = (
        f"The rollout has a recipe for {entity} already: open it and choose this export there "
        "(“Use this export”); the recipe keeps its mapping for the columns both exports share."
    )
    return Conflict(said, {"entity": [said]})
