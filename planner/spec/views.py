"""Pages of the technical specification: the working draft and its sections, the versions
submitted for review, and the comparison of two versions."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from planner.core.forms import ConfirmForm
from planner.core.permissions import Permission
from planner.core.web import confirm_page, form_page, post_action
from planner.extensions import db
from planner.projects.access import project_view
from planner.projects.phases import SOLUTION_LABELS, register_phase_page, register_phase_panel
from planner.requirements.records import PRIORITY_LABELS
from planner.requirements.schemas import an_id
from planner.spec import document, service
from planner.spec.schemas import SectionEditForm, SectionForm

bp = Blueprint("spec", __name__, url_prefix="/projects/<int:project_id>/spec")

register_phase_page("spec", "spec.index", _l("Open the specification"))


@register_phase_panel("spec.phase", "spec/_phase_panel.html", phases=("spec",), order=50)
def phase_panel(session, access, _phase) -> dict:
    """The latest version (one statement)."""
    return {"latest": service.latest_version(session, access.project.id)}


@bp.context_processor
def labels() -> dict:
    return {
        "SOLUTION_LABELS": SOLUTION_LABELS,
        "PRIORITY_LABELS": PRIORITY_LABELS,
        "GUIDANCE": document.GUIDANCE,
    }


@bp.get("")
@project_view()
def index(project_id: int):
    return render_template(
        "spec/index.html",
        spec=service.get_spec(db.session, g.access),
        draft=service.draft_content(db.session, g.access),
        versions=service.versions(db.session, project_id),
        confirm=ConfirmForm(formdata=None),
    )


def _back(project_id: int) -> str:
    return url_for("spec.index", project_id=project_id)


@bp.route("/sections/new", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def section_new(project_id: int):
    return form_page(
        SectionForm(),
        "spec/section_form.html",
        lambda f: service.add_section(
            db.session, g.access, title=f.title.data, body=f.body.data or ""
        ),
        success=_("Section added."),
        next_url=_back(project_id),
        section=None,
    )


@bp.route("/sections/<int:section_id>/edit", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def section_edit(project_id: int, section_id: int):
    section = service.get_section(db.session, g.access, section_id)
    return form_page(
        SectionEditForm(obj=section),
        "spec/section_form.html",
        lambda f: service.update_section(
            db.session,
            g.access,
            section,
            version=f.version.data,
            title=f.title.data,
            body=f.body.data or "",
        ),
        success=_("Section saved."),
        next_url=_back(project_id) + f"#section-{section.id}",
        section=section,
    )


@bp.post("/sections/<int:section_id>/move")
@project_view(Permission.EDIT)
def section_move(project_id: int, section_id: int):
    section = service.get_section(db.session, g.access, section_id)
    step = 1 if request.form.get("direction") == "down" else -1
    return post_action(
        lambda: service.move_section(db.session, g.access, section, step),
        success=_("Section moved."),
        next_url=_back(project_id),
    )


@bp.route("/sections/<int:section_id>/delete", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def section_delete(project_id: int, section_id: int):
    section = service.get_section(db.session, g.access, section_id)
    return confirm_page(
        lambda: service.delete_section(db.session, g.access, section),
        title=_("Remove the section %(title)s?", title=section.title),
        message=_("Submitted versions keep it; the draft no longer has it."),
        action=_("Remove section"),
        cancel=_back(project_id),
        success=_("Section removed."),
        next_url=_back(project_id),
    )


@bp.post("/start")
@project_view(Permission.EDIT)
def start(project_id: int):
    return post_action(
        lambda: service.start(db.session, g.access),
        success=_("The draft has its standard sections: write them."),
        next_url=_back(project_id),
    )


@bp.route("/submit", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def submit(project_id: int):
    latest = service.latest_version(db.session, project_id)
    number = (latest.number if latest else 0) + 1
    return confirm_page(
        lambda: service.submit_version(db.session, g.access),
        title=_("Submit the specification for review as version %(n)d?", n=number),
        message=_(
            "The version is frozen as the draft is now, with the goals, the approved design, the "
            "phases' dates and the exact revision of every accepted requirement; its SHA-256 "
            "identifies it. You can go on editing the draft for a next version."
        ),
        action=_("Submit version %(n)d", n=number),
        cancel=_back(project_id),
        success=_("Version %(n)d submitted for review.", n=number),
        next_url=url_for("spec.version", project_id=project_id, number=number),
    )


@bp.get("/versions/<int:number>")
@project_view()
def version(project_id: int, number: int):
    v = service.get_version(db.session, project_id, number)
    latest = service.latest_version(db.session, project_id)
    return render_template(
        "spec/version.html",
        version=v,
        content=v.content,
        is_latest=latest is not None and latest.id == v.id,
        affected=service.affected_by_later_revisions(db.session, project_id, v),
        others=[x.number for x in service.versions(db.session, project_id) if x.number != number],
    )


@bp.get("/versions/<int:number>/compare")
@project_view()
def compare(project_id: int, number: int):
    try:
        against = an_id(request.args.get("against", max(1, number - 1)))
    except ValueError:
        abort(400, description=_("Compare with a version by its number."))
    a, b, changes = service.compare(db.session, project_id, against, number)
    return render_template("spec/compare.html", a=a, b=b, changes=changes)
