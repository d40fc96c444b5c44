"""Pages of vendor selection: the board, scoresheets, the evaluation (the decision's pages are
in :mod:`planner.vendors.decision_views`)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
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
from flask_babel import ngettext

from planner.core.errors import DomainError, NotFound
from planner.core.forms import ConfirmForm
from planner.core.pagination import Page, page_args
from planner.core.permissions import Permission, Role
from planner.core.versioning import unit_of_work
from planner.core.web import confirm_page, flash_error, form_page, send_download
from planner.extensions import db
from planner.projects import reports
from planner.projects.access import project_view
from planner.projects.phases import (
    register_phase_page,
    register_phase_panel,
)
from planner.vendors import scoring, service, sheets
from planner.vendors.report import EVALUATION_REPORT
from planner.vendors.schemas import (
    CONFLICTS,
    PAIRWISE,
    SCORES,
    AHPForm,
    ConsensusForm,
    CriterionEditForm,
    CriterionForm,
    RecusalForm,
    RoundForm,
    VendorEditForm,
    VendorForm,
    conflict_items,
    judgements,
    score_inputs,
)

bp = Blueprint("vendors", __name__, url_prefix="/projects/<int:project_id>/vendors")


@bp.app_context_processor
def chart_helpers() -> dict:
    from planner.vendors.charts import heat_cells

    return {"heat_cells": heat_cells}


register_phase_page("vendors", "vendors.board", _l("Open the vendor board"))


@register_phase_panel("vendors.phase", "vendors/_phase_panel.html", phases=("vendors",), order=100)
def phase_panel(session, access, phase) -> service.BoardSummary:
    """The board at a glance: vendors, criteria, reviewers who submitted, the decision."""
    return service.board_summary(session, access.project.id)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _board_url():
    return url_for("vendors.board", project_id=g.project.id)


@bp.get("")
@project_view()
def board(project_id: int):
    with unit_of_work(db.session):  # the round row is created on first use
        rnd = service.get_round(db.session, project_id)
    reviewers = service.reviewers(db.session, project_id)
    decls = service.declarations(db.session, project_id)
    done = service.submitted(db.session, project_id)
    crits = service.criteria(db.session, project_id)
    return render_template(
        "vendors/board.html",
        rnd=rnd,
        vendors=service.vendors(db.session, project_id),
        criteria=crits,
        shares=scoring.weight_shares({c.id: c.weight for c in crits}),
        may_read_reasons=lambda reviewer_id: service.may_read_conflict_reasons(
            g.access, reviewer_id
        ),
        reviewers=reviewers,
        declarations=decls,
        submitted=done,
        recusals=service.recusals(db.session, project_id),
        commercial=service.prices_visible(g.access),
        round_form=RoundForm(formdata=None, two_envelopes=rnd.two_envelopes),
        recusal_form=RecusalForm(formdata=None),
        confirm=ConfirmForm(formdata=None),
        is_reviewer=g.access.role == Role.REVIEWER,
        can_see=service.can_see_board(db.session, g.access),
    )


@bp.route("/new", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def vendor_new(project_id: int):
    return form_page(
        VendorForm(),
        "vendors/vendor_form.html",
        lambda f: service.create_vendor(db.session, g.access, **f.values()),
        success=_("Vendor added."),
        next_url=_board_url(),
        vendor=None,
    )


@bp.route("/<int:vendor_id>/edit", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def vendor_edit(project_id: int, vendor_id: int):
    vendor = service.get_vendor(db.session, project_id, vendor_id)
    form = VendorEditForm(obj=vendor)
    if request.method == "GET":
        form.solution_kind.data = vendor.solution_kind or ""
    return form_page(
        form,
        "vendors/vendor_form.html",
        lambda f: service.update_vendor(
            db.session, g.access, vendor, version=f.version.data, **f.values()
        ),
        success=_("Vendor saved."),
        next_url=_board_url(),
        vendor=vendor,
    )


@bp.route("/<int:vendor_id>/delete", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def vendor_delete(project_id: int, vendor_id: int):
    vendor = service.get_vendor(db.session, project_id, vendor_id)
    return confirm_page(
        lambda: service.delete_vendor(db.session, g.access, vendor),
        title=_("Delete the vendor %(name)s?", name=vendor.name),
        message=_("Every score given to this vendor is deleted with it."),
        action=_("Delete vendor"),
        cancel=_board_url(),
        success=_("Vendor deleted."),
        next_url=_board_url(),
    )


@bp.route("/criteria/new", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def criterion_new(project_id: int):
    return form_page(
        CriterionForm(),
        "vendors/criterion_form.html",
        lambda f: service.create_criterion(db.session, g.access, **f.values()),
        success=_("Criterion added."),
        next_url=_board_url(),
        criterion=None,
    )


@bp.post("/criteria/defaults")
@project_view(Permission.EDIT)
def criteria_defaults(project_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with unit_of_work(db.session):
            added = service.add_default_criteria(db.session, g.access)
        flash(_("%(n)d criteria added.", n=len(added)), "success")
    except DomainError as exc:
        flash_error(exc)
    return redirect(_board_url())


@bp.route("/criteria/<int:criterion_id>/edit", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def criterion_edit(project_id: int, criterion_id: int):
    crit = service.get_criterion(db.session, project_id, criterion_id)
    return form_page(
        CriterionEditForm(obj=crit),
        "vendors/criterion_form.html",
        lambda f: service.update_criterion(
            db.session, g.access, crit, version=f.version.data, **f.values()
        ),
        success=_("Criterion saved."),
        next_url=_board_url(),
        criterion=crit,
    )


@bp.route("/criteria/<int:criterion_id>/delete", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def criterion_delete(project_id: int, criterion_id: int):
    crit = service.get_criterion(db.session, project_id, criterion_id)
    return confirm_page(
        lambda: service.delete_criterion(db.session, g.access, crit),
        title=_("Delete the criterion %(name)s?", name=crit.name),
        message=_("Every score given on this criterion is deleted with it."),
        action=_("Delete criterion"),
        cancel=_board_url(),
        success=_("Criterion deleted."),
        next_url=_board_url(),
    )


@bp.route("/ahp", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def ahp(project_id: int):
    crits = [c for c in service.criteria(db.session, project_id) if not c.is_price]
    stored = service.pairwise(db.session, project_id)
    form = AHPForm()
    result = None
    status = 200
    values: dict[tuple[int, int], str] = {k: f"{v:g}" for k, v in stored.items()}
    if request.method == "POST" and form.validate_on_submit():
        rows, labels = [], {}
        for i, a in enumerate(crits):
            for b in crits[i + 1 :]:
                raw = (request.form.get(f"p_{a.id}_{b.id}") or "").strip()
                values[(a.id, b.id)] = raw
                where = f"comparisons[{len(rows)}]"
                labels[where] = f"{a.name} / {b.name}"
                rows.append((where, {"a": str(a.id), "b": str(b.id), "value": raw}))
        errors = []
        try:
            judged = judgements(PAIRWISE.from_rows(rows))
        except DomainError as exc:
            errors = sorted({labels[k.split(".")[0]] for k in getattr(exc, "errors", {})})
        if errors:
            flash(
                _(
                    "Use Saaty's scale (1 to 9, or 1/2 to 1/9) for: %(pairs)s",
                    pairs=", ".join(errors),
                ),
                "error",
            )
            status = 422
        else:
            try:
                with unit_of_work(db.session):
                    result = service.set_pairwise(
                        db.session, g.access, judged, apply=form.apply.data
                    )
                if result.inconsistent:
                    flash(
                        _(
                            "The judgements are inconsistent (CR %(cr).2f > 0.10); weights not "
                            "applied.",
                            cr=result.cr,
                        ),
                        "warning",
                    )
                    status = 422
                elif form.apply.data:
                    flash(_("Weights derived and applied (CR %(cr).2f).", cr=result.cr), "success")
            except DomainError as exc:
                flash_error(exc)
                status = exc.status
    elif request.method == "POST":
        status = 422
    names = {c.id: c.name for c in crits}
    return render_template(
        "vendors/ahp.html",
        weighted=list(zip(crits, result.weights, strict=False)) if result else [],
        form=form,
        crits=crits,
        values=values,
        result=result,
        names=names,
        random_index_source=scoring.RANDOM_INDEX_SOURCE,
    ), status


@bp.post("/round")
@project_view(Permission.EDIT)
def round_action(project_id: int):
    form = RoundForm()
    if not form.validate_on_submit():
        flash(_("Choose a valid round action."), "error")
        return redirect(_board_url())
    try:
        with unit_of_work(db.session):
            service.set_round_state(
                db.session,
                g.access,
                action=form.action.data,
                two_envelopes=form.two_envelopes.data if form.action.data == "open" else None,
            )
        flash(_("Scoring round updated."), "success")
    except DomainError as exc:
        flash_error(exc)
    return redirect(_board_url())


@bp.route("/conflicts", methods=["GET", "POST"])
@project_view(Permission.SCORE)
def conflicts(project_id: int):
    vendors = service.vendors(db.session, project_id)
    mine = [d for d in service.declarations(db.session, project_id).get(g.access.user.id, [])]
    form = ConfirmForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        rows = [
            (
                f"conflicts[{i}]",
                {"vendor_id": str(v.id), "reason": request.form.get(f"reason_{v.id}", "")},
            )
            for i, v in enumerate(v for v in vendors if request.form.get(f"conflict_{v.id}"))
        ]
        try:
            items = conflict_items(CONFLICTS.from_rows(rows))
            with unit_of_work(db.session):
                service.declare_conflicts(db.session, g.access, items)
            flash(_("Declaration recorded."), "success")
            return redirect(_board_url())
        except DomainError as exc:
            flash_error(exc)
            status = exc.status
    return render_template(
        "vendors/conflicts.html",
        vendors=vendors,
        mine={d.vendor_id: d for d in mine},
        declared=bool(mine),
        form=form,
    ), status


@bp.post("/recusals")
@project_view(Permission.EDIT)
def recusal_add(project_id: int):
    form = RecusalForm()
    if not form.validate_on_submit():
        flash(_("Choose a reviewer and a vendor, and give the reason."), "error")
        return redirect(_board_url())
    try:
        with unit_of_work(db.session):
            service.recuse(
                db.session,
                g.access,
                reviewer_id=form.reviewer_id.data,
                vendor_id=form.vendor_id.data,
                reason=form.reason.data,
            )
        flash(_("Reviewer recused."), "success")
    except NotFound:
        raise
    except DomainError as exc:
        flash_error(exc)
    return redirect(_board_url())


@bp.post("/recusals/<int:recusal_id>/delete")
@project_view(Permission.EDIT)
def recusal_delete(project_id: int, recusal_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work(db.session):
        service.lift_recusal(db.session, g.access, recusal_id)
    flash(_("Recusal lifted."), "success")
    return redirect(_board_url())


@bp.route("/scoresheet", methods=["GET", "POST"])
@project_view(Permission.SCORE)
def scoresheet(project_id: int):
    """The reviewer's scoresheet as a grid, criteria down and vendors across, as the
    spreadsheet a board would otherwise pass round; a refused save marks the bad cells and
    keeps everything typed (``2.5`` stays ``2.5``, refused, never cut to ``2``)."""
    if g.access.role != Role.REVIEWER:
        abort(403, description=_("Only the board's reviewers have a scoresheet."))
    user = g.access.user
    form = ConfirmForm()
    status = 200
    typed: dict[str, str] = {}
    bad: set[str] = set()
    rows = sheets.scoresheet_rows(db.session, g.access, user)[1:]
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        filled, keys = [], []
        for row in rows:
            vid, cid = row[1], row[3]
            raw = (request.form.get(f"s_{vid}_{cid}") or "").strip()
            comment = request.form.get(f"c_{vid}_{cid}") or ""
            typed[f"s_{vid}_{cid}"], typed[f"c_{vid}_{cid}"] = raw, comment
            if raw:
                filled.append(
                    {
                        "vendor_id": str(vid),
                        "criterion_id": str(cid),
                        "score": raw,
                        "comment": comment,
                    }
                )
                keys.append(f"s_{vid}_{cid}")
        try:
            entries = score_inputs(
                SCORES.from_rows([(f"scores[{i}]", r) for i, r in enumerate(filled)])
            )
            with unit_of_work(db.session):
                n = service.put_scores(db.session, g.access, entries)
            flash(ngettext("%(num)d score saved.", "%(num)d scores saved.", n), "success")
            return redirect(url_for("vendors.scoresheet", project_id=project_id))
        except DomainError as exc:
            flash_error(exc)
            status = exc.status
            for where in getattr(exc, "errors", {}):
                index = where.removeprefix("scores[").split("]", 1)[0]
                if index.isdigit() and int(index) < len(keys):
                    bad.add(keys[int(index)])
    rnd = service.get_round(db.session, project_id)
    done = user.id in service.submitted(db.session, project_id)
    declared = user.id in service.declarations(db.session, project_id)
    crits = [c for c in service.criteria(db.session, project_id) if not c.is_price]
    shares = scoring.weight_shares(
        {c.id: c.weight for c in service.criteria(db.session, project_id)}
    )
    return render_template(
        "vendors/scoresheet.html",
        rows=rows,
        grid_vendors=list(dict.fromkeys((r[1], r[2]) for r in rows)),
        cells={(r[1], r[3]): r for r in rows},
        crits=crits,
        shares=shares,
        typed=typed,
        bad=bad,
        form=form,
        rnd=rnd,
        done=done,
        declared=declared,
        upload_form=ConfirmForm(formdata=None),
    ), status


@bp.route("/scoresheet/submit", methods=["GET", "POST"])
@project_view(Permission.SCORE)
def scoresheet_submit(project_id: int):
    """Ask first (GET), then submit the scoresheet for good (POST)."""
    back = url_for("vendors.scoresheet", project_id=project_id)
    return confirm_page(
        lambda: service.submit_scoresheet(db.session, g.access),
        title=_("Submit your scoresheet?"),
        message=_(
            "After this your scores are final and count in the results; you can no longer "
            "change them. You will then see the board's scores."
        ),
        action=_("Submit my scoresheet"),
        cancel=back,
        success=_("Scoresheet submitted. You can now see the board's scores."),
        next_url=back,
    )


@bp.get("/scoresheet.<any(xlsx, csv):fmt>")
@project_view(Permission.SCORE)
def scoresheet_download(project_id: int, fmt: str):
    if g.access.role != Role.REVIEWER:
        abort(403, description=_("Only the board's reviewers have a scoresheet."))
    data = sheets.export_scoresheet(db.session, g.access, g.access.user, fmt)
    return _download(data, f"scoresheet-{g.access.user.username}.{fmt}", fmt)


def _download(data: bytes, filename: str, fmt: str) -> Response:
    mime = XLSX if fmt == "xlsx" else "text/csv" if fmt == "csv" else "application/pdf"
    return send_download(data, filename, mime)


@bp.post("/scoresheet/upload")
@project_view(Permission.SCORE)
def scoresheet_upload(project_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    f = request.files.get("file")
    if f is None or not f.filename:
        flash(_("Choose the filled-in scoresheet to upload."), "error")
        return redirect(url_for("vendors.scoresheet", project_id=project_id))
    try:
        with unit_of_work(db.session):
            n = sheets.import_scoresheet(db.session, g.access, f.read())
        flash(
            ngettext(
                "Scoresheet imported: %(num)d score changed.",
                "Scoresheet imported: %(num)d scores changed.",
                n,
            ),
            "success",
        )
    except DomainError as exc:
        flash(exc.detail, "error")
        for where, msgs in list(getattr(exc, "errors", {}).items())[:50]:
            flash(f"{where}: {'; '.join(msgs)}", "error")
    return redirect(url_for("vendors.scoresheet", project_id=project_id))


@bp.get("/evaluation")
@project_view()
def evaluation(project_id: int):
    with unit_of_work(db.session):
        result = service.evaluation_summary_for(db.session, g.access)
    reviewers = service.reviewers(db.session, project_id)
    page, per_page = page_args(request.args, 10)
    flagged = result["disagreements"][(page - 1) * per_page : page * per_page]
    entries = service.disagreement_entries(
        db.session, project_id, [(d["vendor_id"], d["criterion_id"]) for d in flagged]
    )
    for d in flagged:
        d["entries"] = entries[(d["vendor_id"], d["criterion_id"])]
    disagreements = Page(flagged, page, per_page, len(result["disagreements"]))
    return render_template(
        "vendors/evaluation.html",
        result=result,
        disagreements=disagreements,
        reviewer_names={u.id: u.name for u, _ in reviewers},
        consensus_form=ConsensusForm(formdata=None),
        consensus={
            (c.vendor_id, c.criterion_id): c for c in service.consensus_rows(db.session, project_id)
        },
        rnd=service.get_round(db.session, project_id),
    )


@bp.get("/evaluation.<any(xlsx, csv):fmt>")
@project_view()
def evaluation_export(project_id: int, fmt: str):
    with unit_of_work(db.session):
        data = sheets.export_matrix(db.session, g.access, fmt)
    return _download(data, f"vendor-matrix-{project_id}.{fmt}", fmt)


@bp.get("/evaluation.pdf")
@project_view()
def evaluation_pdf(project_id: int):
    """The report if this data's render is ready, else a page offering to prepare it."""
    return reports.cached_or_offer(EVALUATION_REPORT, g.access, "vendors.evaluation_pdf_start")


@bp.post("/evaluation.pdf")
@project_view()
def evaluation_pdf_start(project_id: int):
    """Prepare the report in the background, then follow its progress."""
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form has expired; reload the page and try again."))
    return reports.start_page(EVALUATION_REPORT, g.access)


@bp.post("/consensus")
@project_view(Permission.EDIT)
def consensus(project_id: int):
    form = ConsensusForm()
    if not form.validate_on_submit():
        for name, msgs in form.errors.items():
            flash(f"{name}: {'; '.join(str(m) for m in msgs)}", "error")
        return redirect(url_for("vendors.evaluation", project_id=project_id))
    try:
        with unit_of_work(db.session):
            service.set_consensus(
                db.session,
                g.access,
                vendor_id=form.vendor_id.data,
                criterion_id=form.criterion_id.data,
                score=form.score.data,
                rationale=form.rationale.data,
            )
        flash(_("Consensus recorded."), "success")
    except NotFound:
        raise
    except DomainError as exc:
        flash_error(exc)
    return redirect(url_for("vendors.evaluation", project_id=project_id))
