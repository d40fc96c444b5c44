"""Rules of the technical specification: the working draft's sections (standard ones by
default, editable, reorderable, the lead's own added), versions frozen for review with what
they draw from the other phases and every requirement's exact revision (canonical JSON and
its SHA-256), and the comparison of any two versions.

Functions take a Session and plain values, flush, write the audit record, and raise
:mod:`planner.core.errors`; the view or the API commits once per unit of work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from planner.core import approvals, audit
from planner.core.errors import Conflict, NotFound, ValidationError
from planner.core.i18n import quoted
from planner.core.permissions import Permission
from planner.core.versioning import ensure_version
from planner.design import service as design
from planner.goals import service as goals
from planner.projects import service as projects
from planner.projects.access import Access
from planner.projects.phases import PHASE_BY_KEY, phase_name
from planner.requirements import service as requirements
from planner.requirements.models import Requirement
from planner.requirements.records import ReqStatus
from planner.spec import document
from planner.spec.models import Spec, SpecSection, SpecVersion

TITLE_MAX = 200
BODY_MAX = 100_000


def _text(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def get_spec(session: Session, access: Access) -> Spec:
    """The rollout's specification with its sections: the standard sections, unsaved, until
    its first change."""
    spec = session.scalar(
        select(Spec)
        .options(selectinload(Spec.sections))
        .where(Spec.project_id == access.project.id)
    )
    if spec is None:
        spec = Spec(
            project_id=access.project.id,
            sections=[
                SpecSection(key=key, title=title, body="", position=i)
                for i, (key, title, _guide) in enumerate(document.DEFAULT_SECTIONS, start=1)
            ],
        )
    return spec


def saved_spec(session: Session, access: Access) -> Spec:
    """The specification, saved with its standard sections if it was not yet (by a change)."""
    spec = get_spec(session, access)
    if spec.id is None:
        spec.updated_by_id = access.user.id
        for section in spec.sections:
            section.updated_by_id = access.user.id
        session.add(spec)
        session.flush()
    return spec


def get_section(session: Session, access: Access, section_id: int) -> SpecSection:
    """A section of this rollout's specification; NotFound else."""
    section = session.scalar(
        select(SpecSection)
        .join(Spec, Spec.id == SpecSection.spec_id)
        .where(SpecSection.id == section_id, Spec.project_id == access.project.id)
    )
    if section is None:
        raise NotFound("No such section in this specification.")
    return section


def start(session: Session, access: Access) -> Spec:
    """Make the draft with the standard sections if it has not been made (needs EDIT)."""
    access.require(Permission.EDIT)
    return saved_spec(session, access)


def _title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError("A section needs a title.", {"title": ["Required."]})
    if len(title) > TITLE_MAX:
        raise ValidationError(
            f"A title of at most {TITLE_MAX} characters.", {"title": ["Too long."]}
        )
    return title


def update_section(
    session: Session,
    access: Access,
    section: SpecSection,
    *,
    version: int | None,
    title: str,
    body: str,
) -> SpecSection:
    """Change a section's title and text (needs EDIT); StaleEdit if someone saved it since
    ``version``."""
    access.require(Permission.EDIT)
    ensure_version(session, section, version)
    before = {"title": section.title, "body": section.body}
    section.title, section.body = _title(title), _text(body)
    section.updated_by_id = access.user.id
    session.flush()
    audit.log(
        session,
        access,
        "spec.section.update",
        section,
        f"specification section {quoted(section.title)} changed",
        before=before,
        after={"title": section.title, "body": section.body},
    )
    return section


def add_section(session: Session, access: Access, *, title: str, body: str = "") -> SpecSection:
    """Add a section of the lead's own at the end (needs EDIT)."""
    access.require(Permission.EDIT)
    spec = saved_spec(session, access)
    section = SpecSection(
        spec_id=spec.id,
        key="custom",
        title=_title(title),
        body=_text(body),
        position=max((s.position for s in spec.sections), default=0) + 1,
        updated_by_id=access.user.id,
    )
    spec.sections.append(section)  # the draft read in this session has it too
    session.flush()
    audit.log(
        session, access, "spec.section.create", section, f"section {quoted(section.title)} added"
    )
    return section


def delete_section(session: Session, access: Access, section: SpecSection) -> None:
    """Remove a section of the lead's own (needs EDIT); Conflict for a standard section (its
    text can be emptied, it stays in its place)."""
    access.require(Permission.EDIT)
    if section.key != "custom":
        raise Conflict(
            f"{quoted(section.title)} is a standard section of the specification; empty its "
            "text instead."
        )
    audit.log(
        session,
        access,
        "spec.section.delete",
        section,
        f"section {quoted(section.title)} removed",
        before={"title": section.title, "body": section.body},
    )
    session.delete(section)


def move_section(session: Session, access: Access, section: SpecSection, step: int) -> None:
    """Move a section one place up (-1) or down (+1) (needs EDIT); at either end, nothing."""
    access.require(Permission.EDIT)
    spec = saved_spec(session, access)
    order = list(spec.sections)
    i = next(n for n, s in enumerate(order) if s.id == section.id)
    j = i + (1 if step > 0 else -1)
    if not 0 <= j < len(order):
        return
    order[i], order[j] = order[j], order[i]
    for position, s in enumerate(order, start=1):
        s.position = position
    spec.updated_by_id = access.user.id
    audit.log(
        session,
        access,
        "spec.section.move",
        section,
        f"section {quoted(section.title)} moved {'down' if step > 0 else 'up'}",
    )


# --- what a version draws from the other phases --------------------------------------------


def _goals(session: Session, project_id: int) -> list[dict[str, Any]]:
    page = goals.goals_page(session, project_id, 1, 10_000)
    return [
        {
            "statement": g.statement,
            "kpis": [
                {
                    "name": k.name,
                    "unit": k.unit,
                    "baseline": None if k.baseline is None else f"{k.baseline:g}",
                    "target": None if k.target is None else f"{k.target:g}",
                    "due": k.due_date.isoformat() if k.due_date else None,
                }
                for k in g.kpis
            ],
        }
        for g in page.items
    ]


def _design(session: Session, project_id: int) -> dict[str, Any] | None:
    latest = design.latest_version(session, project_id)
    if latest is None or not design.standing(session, latest).approved:
        return None
    return {
        "version": latest.number,
        "sha256": latest.digest,
        "solution_kind": latest.content.get("solution_kind"),
        "summary": latest.content.get("summary", ""),
        "modules": [
            {"name": m["name"], "requirements": [r["key"] for r in m["requirements"]]}
            for m in latest.content.get("modules", [])
        ],
    }


def _requirements(session: Session, project_id: int) -> list[dict[str, Any]]:
    query = requirements.RegisterQuery(status=ReqStatus.ACCEPTED.value)
    page = requirements.register_page(session, project_id, query, 1, 100_000)
    return [
        {
            "id": r.id,
            "key": r.key,
            "revision": r.revision,
            "title": r.title,
            "description": r.description,
            "type": r.type.value,
            "priority": r.priority.value,
            "module": r.module,
            "status": r.status.value,
            "acceptance_criterion": r.acceptance_criterion,
            "goals": [g.statement for g in r.goals],
        }
        for r in page.items
    ]


def _phases(session: Session, project_id: int) -> list[dict[str, Any]]:
    return [
        {
            "phase": phase_name(p.key),
            "planned_start": p.planned_start.isoformat() if p.planned_start else None,
            "planned_end": p.planned_end.isoformat() if p.planned_end else None,
            "status": p.status.value,
        }
        for p in projects.phases(session, project_id)
        if p.key in PHASE_BY_KEY
    ]


def draft_content(session: Session, access: Access) -> dict[str, Any]:
    """What a version submitted now would hold (the draft's sections, what they draw, the
    accepted requirements at their revisions)."""
    pid = access.project.id
    spec = get_spec(session, access)
    return document.version_content(
        [{"key": s.key, "title": s.title, "text": s.body} for s in spec.sections],
        goals=_goals(session, pid),
        design=_design(session, pid),
        requirements=_requirements(session, pid),
        phases=_phases(session, pid),
    )


# --- versions ---------------------------------------------------------------------------------


def submit_version(session: Session, access: Access) -> SpecVersion:
    """Freeze the draft as the next numbered version for review (needs EDIT); Conflict if
    nothing changed since the latest version."""
    access.require(Permission.EDIT)
    saved_spec(session, access)
    content = draft_content(session, access)
    latest = latest_version(session, access.project.id)
    if latest is not None and latest.content == content:
        raise Conflict(f"Nothing has changed since version {latest.number}; nothing to submit.")
    number = (latest.number if latest else 0) + 1
    version = SpecVersion(
        project_id=access.project.id,
        number=number,
        content=content,
        digest=approvals.digest_of(content),
        submitted_by_id=access.user.id,
        submitted_by_name=access.user.name,
    )
    session.add(version)
    session.flush()
    audit.log(
        session,
        access,
        "spec.version.submit",
        version,
        f"specification version {number} submitted for review "
        f"({len(content['requirements'])} requirements)",
        after={"sha256": version.digest},
    )
    return version


def latest_version(session: Session, project_id: int) -> SpecVersion | None:
    """The newest version, or None."""
    return session.scalar(
        select(SpecVersion)
        .where(SpecVersion.project_id == project_id)
        .order_by(SpecVersion.number.desc())
        .limit(1)
    )


def versions(session: Session, project_id: int) -> list[SpecVersion]:
    """Every version, newest first."""
    return list(
        session.scalars(
            select(SpecVersion)
            .where(SpecVersion.project_id == project_id)
            .order_by(SpecVersion.number.desc())
        )
    )


def get_version(session: Session, project_id: int, number: int) -> SpecVersion:
    """Version ``number`` of the rollout's specification; NotFound else."""
    v = session.scalar(
        select(SpecVersion).where(
            SpecVersion.project_id == project_id, SpecVersion.number == number
        )
    )
    if v is None:
        raise NotFound(f"The specification has no version {number}.")
    return v


def version_by_digest(session: Session, digest: str) -> SpecVersion | None:
    """The version whose canonical JSON has this SHA-256, in any rollout, or None."""
    return session.scalar(select(SpecVersion).where(SpecVersion.digest == digest).limit(1))


def compare(
    session: Session, project_id: int, before: int, after: int
) -> tuple[SpecVersion, SpecVersion, list[document.Change]]:
    """Versions ``before`` and ``after`` and what differs between them; NotFound for a
    version the specification does not have."""
    a, b = get_version(session, project_id, before), get_version(session, project_id, after)
    return a, b, document.diff(a.content, b.content)


def affected_by_later_revisions(
    session: Session, project_id: int, version: SpecVersion
) -> list[tuple[str, int, int]]:
    """The requirements of ``version`` revised since it was frozen: (key, its revision in the
    version, its revision now) (one statement)."""
    frozen = {r["id"]: (r["key"], r["revision"]) for r in version.content.get("requirements", [])}
    if not frozen:
        return []
    now = dict(
        session.execute(
            select(Requirement.id, Requirement.revision).where(Requirement.id.in_(list(frozen)))
        ).all()
    )
    return [
        (key, rev, now[rid]) for rid, (key, rev) in frozen.items() if rid in now and now[rid] != rev
    ]
