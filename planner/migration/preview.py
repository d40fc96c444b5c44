"""A recipe previewed on its export's rows (the lead only): the first rows with their original
cells beside the cleaned fields and their problems, the cleaning's counts over the file (its
first :data:`SCAN_ROWS` rows, so that the page answers in seconds whatever its length),
and the rows it rejects with why, none dropped silently. The same functions clean the pilot
and ``planner migrate apply``'s file (:mod:`planner.migration.recipe`)."""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from planner.core.encryption import DataKey
from planner.core.errors import Conflict
from planner.core.i18n import quoted
from planner.migration import recipe as engine
from planner.migration.models import MigrationRecipe, MigrationUpload
from planner.migration.reading import ROW, read_table
from planner.migration.service import decrypted, require_rows
from planner.projects.access import Access

MAX_PREVIEW = 200  # rows shown side by side, at most
MAX_LISTED = 500  # rejected rows and merged groups listed, at most (all are counted)
SCAN_ROWS = 100_000  # rows the page cleans to count; planner migrate apply cleans them all


def preview(
    session: Session, access: Access, row: MigrationRecipe, key: DataKey, *, limit: int = 50
) -> dict[str, Any]:
    """The recipe applied to its export (see the module): ``rows`` (the first ``limit``),
    ``counts`` (of the first :data:`SCAN_ROWS` rows: ``scanned``), ``rejected`` (row, field,
    kind, message; the first :data:`MAX_LISTED`) and ``merges``. Conflict without an export
    or once it is purged; ValidationError if the recipe reads a column the export lacks."""
    require_rows(access)
    upload = session.get(MigrationUpload, row.upload_id) if row.upload_id else None
    if upload is None:
        raise Conflict("Choose the export the recipe is for: there is nothing to preview.")
    if upload.purged:
        raise Conflict(f"{quoted(upload.filename)} was purged: there is nothing to preview.")
    recipe = engine.parse(row.document)
    limit = max(1, min(limit, MAX_PREVIEW))
    with (
        decrypted(session, upload, key) as path,
        read_table(path, upload.filename, **upload.chosen) as table,
    ):
        engine.check_columns(recipe, table.columns)
        shown = engine.preview(recipe, table.frame, limit=limit)
        scanned = min(table.rows, SCAN_ROWS)
        frame = table.frame
        if table.rows > SCAN_ROWS:
            frame = frame.filter(pl.col(ROW) <= SCAN_ROWS)
        cleaned = engine.clean(recipe, frame)
        rejected = cleaned.problems.filter(pl.col("severity") == engine.REJECT)
        listed = rejected.head(MAX_LISTED).to_dicts()
    return {
        "upload": {"id": upload.id, "filename": upload.filename, "rows": upload.rows},
        "recipe_version": row.version,
        "fields": [f.name for f in recipe.fields],
        "sources": list(recipe.columns),
        "from": {rule.field: list(rule.sources) for rule in recipe.rules},
        "counts": cleaned.counts,
        "scanned": scanned,
        "rows": shown,
        "rejected": listed,
        "rejected_listed": len(listed),
        "merges": [g.as_dict() for g in cleaned.merges[:MAX_LISTED]],
    }
