"""Pages of the technical specification: the working draft and its sections, the versions
submitted for review, and the comparison of two versions."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from planner.core import approvals
from planner.core.errors import DomainError
from planner.core.forms import ApprovalForm, ConfirmForm
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import confirm_page, flash_error, form_page, post_action
from planner.extensions import db
from planner.projects.access import project_view
from planner.projects.phases import SOLUTION_LABELS, register_phase_page, register_phase_panel
from planner.requirements.records import PRIORITY_LABELS
from planner.requirements.schemas import an_id
from planner.spec import document, seal, service, signoff
from planner.spec.schemas import CommentForm, SectionEditForm, SectionForm, SignersForm

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
        signers=signoff.signers(db.session, project_id),
        executives=signoff.executives(db.session, project_id),
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


def _version_page(v, *, approval_form=None, status: int = 200):
    latest = service.latest_version(db.session, g.project.id)
    st = signoff.state(db.session, v)
    sealed = seal.sealed(db.session, v) is not None
    if approval_form is None:
        approval_form = ApprovalForm(prefix="a", formdata=None)
    approval_form.digest.data = v.digest
    threads: dict = {}
    for c in signoff.comments(db.session, v):
        threads.setdefault(c.parent_id or c.id, []).append(c)
    return render_template(
        "spec/version.html",
        version=v,
        content=v.content,
        state=st,
        threads=threads,
        open_threads=signoff.open_threads(db.session, v),
        anchors=signoff.anchors(v),
        anchor_labels=dict(signoff.anchors(v)),
        comment_form=CommentForm(formdata=None),
        approval_form=approval_form,
        signer_names={u.id: u.name for u in signoff.signers(db.session, g.project.id)},
        may_comment=signoff.may_comment(g.access),
        may_sign=g.access.user.id in st.waiting_for
        and not st.superseded
        and (st.next_signer is None or st.next_signer == g.access.user.id),
        confirm=ConfirmForm(formdata=None),
        sealed=sealed,
        seal_attempt=None if sealed or not st.signed_off else seal.last_attempt(db.session, v),
        is_latest=latest is not None and latest.id == v.id,
        affected=service.affected_by_later_revisions(db.session, g.project.id, v),
        others=[
            x.number for x in service.versions(db.session, g.project.id) if x.number != v.number
        ],
    ), status


@bp.get("/versions/<int:number>")
@project_view()
def version(project_id: int, number: int):
    return _version_page(service.get_version(db.session, project_id, number))


@bp.get("/versions/<int:number>/compare")
@project_view()
def compare(project_id: int, number: int):
    try:
        against = an_id(request.args.get("against", max(1, number - 1)))
    except ValueError:
        abort(400, description=_("Compare with a version by its number."))
    a, b, changes = service.compare(db.session, project_id, against, number)
    return render_template("spec/compare.html", a=a, b=b, changes=changes)


# --- review and sign-off --------------------------------------------------------------------


def _version_back(project_id: int, number: int, anchor: str = "") -> str:
    return url_for("spec.version", project_id=project_id, number=number) + anchor


@bp.post("/versions/<int:number>/comments")
@project_view()
def comment(project_id: int, number: int):
    v = service.get_version(db.session, project_id, number)
    form = CommentForm()
    return post_action(
        lambda: signoff.add_comment(
            db.session,
            g.access,
            v,
            body=form.body.data or "",
            anchor=form.anchor.data or "",
            parent_id=form.parent_id.data,
        ),
        success=_("Comment added."),
        next_url=_version_back(project_id, number, "#review"),
        form=form,
        invalid=_("Write the comment."),
    )


@bp.post("/versions/<int:number>/comments/<int:comment_id>/resolve")
@project_view()
def comment_resolve(project_id: int, number: int, comment_id: int):
    v = service.get_version(db.session, project_id, number)
    thread = signoff.get_comment(db.session, v, comment_id)
    resolved = request.form.get("resolved") == "1"
    return post_action(
        lambda: signoff.set_resolved(db.session, g.access, v, thread, resolved),
        success=_("Comment resolved.") if resolved else _("Comment reopened."),
        next_url=_version_back(project_id, number, "#review"),
    )


@bp.post("/signers")
@project_view(Permission.EDIT)
def signers_set(project_id: int):
    # the order: each checked executive by the position typed beside them
    checked = request.form.getlist("signers")
    position = {uid: request.form.get(f"position-{uid}", "") for uid in checked}
    ordered = sorted(
        checked,
        key=lambda uid: (
            int(position[uid]) if position[uid].isdigit() else 999,
            checked.index(uid),
        ),
    )
    form = SignersForm()
    return post_action(
        lambda: signoff.set_signers(
            db.session,
            g.access,
            [an_id(uid) for uid in ordered],
            in_order=bool(form.in_order.data),
        ),
        success=_("The signers are named."),
        next_url=_back(project_id) + "#signers",
        form=form,
        invalid=_("Choose the executives who sign."),
    )


@bp.post("/versions/<int:number>/signoff")
@project_view(Permission.EDIT)
def put_up(project_id: int, number: int):
    v = service.get_version(db.session, project_id, number)
    return post_action(
        lambda: signoff.put_up_for_signoff(db.session, g.access, v),
        success=_("Version %(n)d is up for sign-off.", n=number),
        next_url=_version_back(project_id, number, "#signoff"),
    )


@bp.post("/versions/<int:number>/sign")
@approvals.limit_attempts
@project_view(Permission.APPROVE)
def sign(project_id: int, number: int):
    v = service.get_version(db.session, project_id, number)
    form = ApprovalForm(prefix="a")
    status = 422
    if form.validate_on_submit():
        try:
            with unit_of_work(db.session):
                signoff.sign(
                    db.session,
                    g.access,
                    v,
                    shown_digest=form.digest.data,
                    meaning=form.meaning.data,
                    conditions=form.conditions.data or "",
                    password=form.password.data,
                )
            seal.after_signature(db.session, g.access, v)
            flash(_("Your signature is recorded."), "success")
            return redirect(_version_back(project_id, number, "#signoff"))
        except DomainError as exc:
            flash_error(exc, form)
            status = exc.status
    form.password.data = ""  # never sent back
    return _version_page(v, approval_form=form, status=status)
