"""The register in the files other tools read: CSV and XLSX sheets, ReqIF 1.2."""

from __future__ import annotations

from sqlalchemy.orm import Session

from planner.core.db import utcnow
from planner.projects.access import Access
from planner.requirements import reqif, service, sheets


def export(session: Session, access: Access, query: service.RegisterQuery, fmt: str) -> bytes:
    """The register (filtered as ``query`` says) as ``fmt``: "csv" or "xlsx" (formulas
    neutralised, one goal a line by its statement's first line), or "reqif" (goals whole)."""
    pid = access.project.id
    if fmt == "reqif":
        return reqif.export_reqif(
            service.records(session, pid, query),
            title=f"{access.project.name}: requirements",
            identifier=f"planner-project-{pid}-requirements",
            created=utcnow(),
        )
    return sheets.export_register(service.records(session, pid, query, first_lines=True), fmt)
