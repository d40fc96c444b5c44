"""Pages of the solution design: the working design and its modules, coverage, the versions
submitted for review, the board's review and the executives' approval."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from planner.core import approvals
from planner.core.errors import DomainError, ValidationError
from planner.core.forms import ConfirmForm, DecisionApprovalForm, choices
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import confirm_page, flash_error, form_page
from planner.design import service
from planner.design.schemas import (
    REVIEW_SCORES,
    DesignForm,
    IndicatorEditForm,
    IndicatorForm,
    ModuleEditForm,
    ModuleForm,
)
from planner.extensions import db
from planner.projects.access import project_view
from planner.projects.phases import SOLUTION_LABELS, register_phase_page, register_phase_panel

bp = Blueprint("design", __name__, url_prefix="/projects/<int:project_id>/design")

register_phase_page("design", "design.index", _l("Open the solution design"))


@register_phase_panel("design.phase", "design/_phase_panel.html", phases=("design",), order=50)
def phase_panel(session, access, _phase) -> dict:
    """The latest version and where it stands (three statements)."""
    latest = service.latest_version(session, access.project.id)
    return {
        "latest": latest,
        "standing": service.standing(session, latest) if latest else None,
    }


@bp.context_processor
def labels() -> dict:
    return {"SOLUTION_LABELS": SOLUTION_LABELS}


@bp.get("")
@project_view()
def index(project_id: int):
    design = service.get_design(db.session, g.access)
    latest = service.latest_version(db.session, project_id)
    return render_template(
        "design/index.html",
        design=design,
        uncovered=service.uncovered(db.session, project_id),
        versions=service.versions(db.session, project_id),
        latest=latest,
        standing=service.standing(db.session, latest) if latest else None,
        indicators=service.indicators(db.session, project_id),
        indicator_form=IndicatorForm(formdata=None),
        confirm=ConfirmForm(formdata=None),
    )


@bp.route("/edit", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def edit(project_id: int):
    design = service.get_design(db.session, g.access)
    form = DesignForm(obj=design)
    if request.method == "GET":
        form.solution_kind.data = design.solution_kind.value if design.solution_kind else ""
    return form_page(
        form,
        "design/form.html",
        lambda f: service.update_design(db.session, g.access, version=f.version.data, **f.values()),
        success=_("Solution design saved."),
        next_url=url_for("design.index", project_id=project_id),
    )


def _requirement_choices(form, module=None) -> None:
    form.requirement_ids.choices = choices(
        (str(rid), label) for rid, label in service.coverable(db.session, g.project.id, module)
    )


@bp.route("/modules/new", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def module_new(project_id: int):
    form = ModuleForm()
    _requirement_choices(form)
    return form_page(
        form,
        "design/module_form.html",
        lambda f: service.add_module(db.session, g.access, **f.values()),
        success=_("Module added."),
        next_url=url_for("design.index", project_id=project_id),
        module=None,
    )


@bp.route("/modules/<int:module_id>/edit", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def module_edit(project_id: int, module_id: int):
    module = service.get_module(db.session, g.access, module_id)
    form = ModuleEditForm(obj=module)
    if request.method == "GET":
        form.requirement_ids.data = [r.id for r in module.requirements]
    _requirement_choices(form, module)
    return form_page(
        form,
        "design/module_form.html",
        lambda f: service.update_module(
            db.session, g.access, module, version=f.version.data, **f.values()
        ),
        success=_("Module saved."),
        next_url=url_for("design.index", project_id=project_id),
        module=module,
    )


@bp.route("/modules/<int:module_id>/delete", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def module_delete(project_id: int, module_id: int):
    module = service.get_module(db.session, g.access, module_id)
    back = url_for("design.index", project_id=project_id)
    return confirm_page(
        lambda: service.delete_module(db.session, g.access, module),
        title=_("Remove the module %(name)s?", name=module.name),
        message=_("Submitted versions keep it; the working design no longer has it."),
        action=_("Remove module"),
        cancel=back,
        success=_("Module removed."),
        next_url=back,
    )


@bp.post("/indicators")
@project_view(Permission.EDIT)
def indicator_add(project_id: int):
    form = IndicatorForm()
    if not form.validate_on_submit():
        for field, messages in form.errors.items():
            if field != "csrf_token":
                flash(f"{form[field].label.text}: {messages[0]}", "error")
        if "csrf_token" in form.errors:
            abort(400, description=_("The form has expired or was altered; reload the page."))
        return redirect(url_for("design.index", project_id=project_id))
    try:
        with unit_of_work(db.session):
            service.add_indicator(
                db.session,
                g.access,
                name=form.name.data,
                guide=form.guide.data or "",
                weight=form.weight.data,
            )
        flash(_("Indicator added."), "success")
    except DomainError as exc:
        flash_error(exc)
    return redirect(url_for("design.index", project_id=project_id))


@bp.route("/indicators/<int:indicator_id>/edit", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def indicator_edit(project_id: int, indicator_id: int):
    indicator = service.get_indicator(db.session, project_id, indicator_id)
    frozen = service.frozen_in(db.session, indicator)
    return form_page(
        IndicatorEditForm(obj=indicator),
        "design/indicator_form.html",
        lambda f: service.update_indicator(
            db.session,
            g.access,
            indicator,
            version=f.version.data,
            name=f.name.data,
            guide=f.guide.data or "",
            weight=f.weight.data,
        ),
        success=_("Indicator saved."),
        next_url=url_for("design.index", project_id=project_id),
        indicator=indicator,
        frozen=frozen,
    )


@bp.route("/indicators/<int:indicator_id>/delete", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def indicator_delete(project_id: int, indicator_id: int):
    indicator = service.get_indicator(db.session, project_id, indicator_id)
    back = url_for("design.index", project_id=project_id)
    return confirm_page(
        lambda: service.delete_indicator(db.session, g.access, indicator),
        title=_("Remove the indicator %(name)s?", name=indicator.name),
        message=_("The board no longer scores the design on it, from the next version on."),
        action=_("Remove indicator"),
        cancel=back,
        success=_("Indicator removed."),
        next_url=back,
    )


@bp.route("/submit", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def submit(project_id: int):
    latest = service.latest_version(db.session, project_id)
    number = (latest.number if latest else 0) + 1
    replaces = ""
    if latest is not None and service.standing(db.session, latest).approved:
        replaces = " " + _(
            "Version %(n)d is approved; the new version replaces it, and the phase's gate then "
            "needs the new version approved.",
            n=latest.number,
        )
    return confirm_page(
        lambda: service.submit_version(db.session, g.access),
        title=_("Submit the design for review as version %(n)d?", n=number),
        message=_(
            "The version is frozen as it is now, with the revision of every requirement its "
            "modules cover; the board reviews it and an executive approves or rejects it. You "
            "can go on editing the working design for a next version."
        )
        + replaces,
        action=_("Submit version %(n)d", n=number),
        cancel=url_for("design.index", project_id=project_id),
        success=_("Version %(n)d submitted for review.", n=number),
        next_url=url_for("design.version", project_id=project_id, number=number),
    )


def _version_page(version, *, approval_form=None, status: int = 200, errors=None):
    latest = service.latest_version(db.session, g.project.id)
    standing = service.standing(db.session, version)
    covered = [r["id"] for m in version.content["modules"] for r in m["requirements"]]
    is_latest = latest is not None and latest.id == version.id
    own = (
        service.own_scores(db.session, version, g.access.user.id)
        if g.access.can(Permission.SCORE)
        else {}
    )
    done = service.submitted_by(db.session, version)
    if approval_form is None:
        approval_form = DecisionApprovalForm(prefix="a", formdata=None)
    approval_form.digest.data = service.digest_shown(version)
    return render_template(
        "design/version.html",
        version=version,
        is_latest=is_latest,
        standing=standing,
        uncovered=service.uncovered(db.session, g.project.id, covered),
        indicators=service.version_indicators(db.session, version),
        own=own,
        own_submitted=g.access.user.id in done,
        result=service.review_result(db.session, g.access, version)
        if service.may_see_results(db.session, g.access, version)
        else None,
        approval_form=approval_form,
        may_sign=is_latest
        and g.access.can(Permission.APPROVE)
        and not any(a.signer_id == g.access.user.id for a in standing.signatures),
        errors=errors or {},
        confirm=ConfirmForm(formdata=None),
    ), status


@bp.get("/versions/<int:number>")
@project_view()
def version(project_id: int, number: int):
    return _version_page(service.get_version(db.session, project_id, number))


def _typed_scores(inds) -> list[service.ScoreInput]:
    rows = []
    for i in inds:
        score = request.form.get(f"score-{i.id}", "").strip()
        if not score:
            if request.form.get(f"comment-{i.id}", "").strip():  # never dropped without a word
                raise ValidationError(
                    _("A comment needs its score: give %(name)s a score from 1 to 5.", name=i.name),
                    {f"scores.{i.id}": [_("Give a score from 1 to 5 with your comment.")]},
                )
            continue
        rows.append(
            (
                f"scores.{i.id}",
                {
                    "indicator_id": str(i.id),
                    "score": score,
                    "comment": request.form.get(f"comment-{i.id}", ""),
                },
            )
        )
    try:
        forms = REVIEW_SCORES.from_rows(rows)
    except ValidationError as exc:
        raise ValidationError(
            exc.detail, {k.rsplit(".", 1)[0]: v for k, v in exc.errors.items()}
        ) from None
    return [
        service.ScoreInput(f.indicator_id.data, f.score.data, f.comment.data or "") for f in forms
    ]


@bp.post("/versions/<int:number>/review")
@project_view(Permission.SCORE)
def review(project_id: int, number: int):
    version = service.get_version(db.session, project_id, number)
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form has expired or was altered; reload the page."))
    try:
        with unit_of_work(db.session):
            inds = service.version_indicators(db.session, version)
            service.save_scores(db.session, g.access, version, _typed_scores(inds))
    except DomainError as exc:
        flash_error(exc)
        return _version_page(version, status=exc.status, errors=getattr(exc, "errors", {}))
    if request.form.get("action") == "submit":
        return redirect(url_for("design.review_submit", project_id=project_id, number=number))
    flash(_("Your scores are saved; submit them when your review is complete."), "success")
    return redirect(url_for("design.version", project_id=project_id, number=number))


@bp.route("/versions/<int:number>/review/submit", methods=["GET", "POST"])
@project_view(Permission.SCORE)
def review_submit(project_id: int, number: int):
    version = service.get_version(db.session, project_id, number)
    back = url_for("design.version", project_id=project_id, number=number)
    own = service.own_scores(db.session, version, g.access.user.id)

    def perform() -> None:
        service.save_scores(
            db.session,
            g.access,
            version,
            [service.ScoreInput(s.indicator_id, s.score, s.comment) for s in own.values()],
            submit=True,
        )

    return confirm_page(
        perform,
        title=_("Submit your review of version %(n)d?", n=number),
        message=_(
            "Your scores then count in the board's results, and you see the others'; they can "
            "no longer change."
        ),
        action=_("Submit my review"),
        cancel=back,
        success=_("Your review is submitted."),
        next_url=back,
    )


@bp.post("/versions/<int:number>/approve")
@project_view(Permission.APPROVE)
@approvals.limit_attempts
def approve(project_id: int, number: int):
    version = service.get_version(db.session, project_id, number)
    form = DecisionApprovalForm(prefix="a")
    status = 422
    if form.validate_on_submit():
        try:
            with unit_of_work(db.session):
                service.approve(
                    db.session,
                    g.access,
                    version,
                    shown_digest=form.digest.data,
                    meaning=form.meaning.data,
                    conditions=form.conditions.data or "",
                    password=form.password.data,
                )
            flash(_("Your signature is recorded."), "success")
            return redirect(url_for("design.version", project_id=project_id, number=number))
        except DomainError as exc:
            flash_error(exc, form)
            status = exc.status
    form.password.data = ""  # never sent back
    return _version_page(version, approval_form=form, status=status)
