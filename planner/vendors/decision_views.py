"""Pages of the vendor decision: the choice, the contract checklist, the executives' approval.

Routes on the vendors blueprint (:mod:`planner.vendors.views`).
"""

from __future__ import annotations

from collections import Counter

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from planner.core import approvals
from planner.core.errors import DomainError
from planner.core.forms import ApprovalForm, choices
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import flash_error
from planner.extensions import db
from planner.projects.access import project_view
from planner.vendors import service
from planner.vendors.schemas import ContractForm, DecisionForm
from planner.vendors.views import bp


def _standings(project_id: int) -> dict:
    """The evaluation's vendor lines, best first (rank, knock-outs), and its first place
    (several vendors when tied; see :func:`planner.vendors.results.compute`); none of either
    for a board no evaluation can mean."""
    try:
        return service.evaluation(db.session, project_id)
    except ValueError:  # a board no evaluation can mean: offer the vendors as they are
        return {"vendors": [], "first_place": []}


def _decision_choices(project_id: int, lines: list[dict]) -> list:
    """The vendors to choose from: none chosen by default, the ranked ones first by rank, each
    said with its standing, so that a knocked-out or incomplete vendor is never picked by
    accident (choosing one needs a reason for the override). A shared rank is said as one."""
    names = {v.id: v.name for v in service.vendors(db.session, project_id)}
    standing = {v["vendor_id"]: v for v in lines}
    sharing = Counter(v["rank"] for v in lines if v["rank"] is not None)

    def label(vid: int) -> tuple[int, str]:
        line = standing.get(vid)
        if line is not None and line["rank"] is not None:
            rank = line["rank"]
            if sharing[rank] > 1:
                return rank, _("%(name)s — rank %(rank)d, tied", name=names[vid], rank=rank)
            return rank, _("%(name)s — rank %(rank)d", name=names[vid], rank=rank)
        if line is not None and line["knocked_out"]:
            return 10_000, _("%(name)s — knocked out (not ranked)", name=names[vid])
        return 10_001, _("%(name)s — incomplete (not ranked)", name=names[vid])

    ordered = sorted(names, key=lambda vid: (label(vid)[0], names[vid].casefold()))
    return choices([("", _("— choose a vendor —"))] + [(str(v), label(v)[1]) for v in ordered])


@bp.route("/decision", methods=["GET", "POST"])
@project_view(Permission.VIEW_COMMERCIAL)
def decision(project_id: int):
    row = service.decision(db.session, project_id)
    board = _standings(project_id)
    dform = DecisionForm(prefix="d", obj=row)
    dform.vendor_id.choices = _decision_choices(project_id, board["vendors"])
    cform = ContractForm(prefix="c", obj=row)
    status = 200
    if request.method == "POST":
        g.access.require(Permission.EDIT)
        which = request.form.get("form")
        form = dform if which == "decision" else cform
        if form.validate_on_submit():
            try:
                with unit_of_work(db.session):
                    if which == "decision":
                        service.record_decision(
                            db.session,
                            g.access,
                            vendor_id=dform.vendor_id.data,
                            rationale=dform.rationale.data,
                            version=dform.version.data,
                            override_reason=dform.override_reason.data or "",
                        )
                    else:
                        service.update_contract(
                            db.session,
                            g.access,
                            version=cform.version.data,
                            **cform.values(),
                        )
                flash(_("Saved."), "success")
                return redirect(url_for("vendors.decision", project_id=project_id))
            except DomainError as exc:
                flash_error(exc, form)
                status = exc.status
        else:
            status = 422
    aform = ApprovalForm(prefix="a", formdata=None)
    return _decision_page(row, dform, cform, aform, status, board)


def _decision_page(row, dform, cform, aform, status: int, board: dict):
    signed = service.decision_approvals(db.session, row) if row is not None else []
    digest = approvals.digest_of(service.decision_content(row)) if row is not None else ""
    aform.digest.data = digest
    return render_template(
        "vendors/decision.html",
        row=row,
        dform=dform,
        cform=cform,
        aform=aform,
        approvals=signed,
        digest=digest,
        board=board,  # the board's suggestion: its first place, several vendors when tied
        # an executive who has not signed this decision yet
        may_sign=g.access.can(Permission.APPROVE)
        and not any(a.signer_id == g.access.user.id for a in signed),
    ), status


@bp.post("/decision/approve")
@project_view(Permission.APPROVE)
@approvals.limit_attempts
def decision_approve(project_id: int):
    """An executive signs the decision: meaning, password again, the digest they were shown."""
    aform = ApprovalForm(prefix="a")
    status = 422
    if aform.validate_on_submit():
        try:
            with unit_of_work(db.session):
                service.approve_decision(
                    db.session,
                    g.access,
                    shown_digest=aform.digest.data,
                    meaning=aform.meaning.data,
                    conditions=aform.conditions.data or "",
                    password=aform.password.data,
                )
            flash(_("Your approval is recorded."), "success")
            return redirect(url_for("vendors.decision", project_id=project_id))
        except DomainError as exc:
            flash_error(exc, aform)
            status = exc.status
    aform.password.data = ""  # never sent back
    row = service.decision(db.session, project_id)
    board = _standings(project_id)
    dform = DecisionForm(prefix="d", obj=row, formdata=None)
    dform.vendor_id.choices = _decision_choices(project_id, board["vendors"])
    cform = ContractForm(prefix="c", obj=row, formdata=None)
    return _decision_page(row, dform, cform, aform, status, board)
