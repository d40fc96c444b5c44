"""Pages of department intake, on the requirements blueprint: where each department stands,
its questionnaire and answers, and the interview notes."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from planner.core.errors import DomainError, ValidationError
from planner.core.forms import ConfirmForm, choices
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.core.web import confirm_page, flash_error, form_page, post_action
from planner.extensions import db
from planner.projects import service as projects
from planner.projects.access import project_view
from planner.requirements import intake
from planner.requirements.intake_models import QuestionKind, ResponseStatus
from planner.requirements.schemas import (
    ANSWERS,
    QUESTION_KIND_LABELS,
    InterviewEditForm,
    InterviewForm,
    QuestionForm,
)
from planner.requirements.views import bp


@bp.get("/intake")
@project_view()
def intake_overview(project_id: int):
    return render_template(
        "requirements/intake.html",
        overview=intake.intake_overview(db.session, project_id),
        own=intake.own_questionnaire(db.session, g.access),
        interviews=intake.interviews(db.session, project_id),
        confirm=ConfirmForm(formdata=None),
    )


@bp.post("/intake/questionnaires")
@project_view(Permission.EDIT)
def make_questionnaires(project_id: int):
    made: list = []
    return post_action(
        lambda: made.extend(intake.create_default_questionnaires(db.session, g.access)),
        success=_("The departments' questionnaires are ready for their answers."),
        next_url=url_for("requirements.intake_overview", project_id=project_id),
    )


def _may_read_answers(q) -> bool:
    """Submitted answers are the lead's to read (each member reads their own on the answers
    page): colleagues do not read each other's candid answers, in the page as in the API."""
    return g.access.can(Permission.EDIT)


@bp.get("/questionnaires/<int:questionnaire_id>")
@project_view()
def questionnaire(project_id: int, questionnaire_id: int):
    q = intake.get_questionnaire(db.session, project_id, questionnaire_id)
    return render_template(
        "requirements/questionnaire.html",
        q=q,
        responses=intake.submitted_responses(db.session, q) if _may_read_answers(q) else None,
        may_answer=intake.may_answer(db.session, g.access, q),
        question_form=QuestionForm(formdata=None),
        kinds=QUESTION_KIND_LABELS,
        confirm=ConfirmForm(formdata=None),
    )


@bp.post("/questionnaires/<int:questionnaire_id>/questions")
@project_view(Permission.EDIT)
def question_add(project_id: int, questionnaire_id: int):
    q = intake.get_questionnaire(db.session, project_id, questionnaire_id)
    form = QuestionForm()
    status = 422
    if form.validate_on_submit():
        try:
            with unit_of_work(db.session):
                intake.add_question(
                    db.session,
                    g.access,
                    q,
                    text=form.text.data,
                    kind=form.kind.data,
                    options=form.option_list(),
                )
            flash(_("Question added."), "success")
            return redirect(
                url_for(
                    "requirements.questionnaire",
                    project_id=project_id,
                    questionnaire_id=questionnaire_id,
                )
            )
        except DomainError as exc:
            flash_error(exc, form)
            status = exc.status
    q = intake.get_questionnaire(db.session, project_id, questionnaire_id)
    return render_template(
        "requirements/questionnaire.html",
        q=q,
        responses=intake.submitted_responses(db.session, q),
        may_answer=intake.may_answer(db.session, g.access, q),
        question_form=form,
        kinds=QUESTION_KIND_LABELS,
        confirm=ConfirmForm(formdata=None),
    ), status


@bp.route(
    "/questionnaires/<int:questionnaire_id>/questions/<int:question_id>/delete",
    methods=["GET", "POST"],
)
@project_view(Permission.EDIT)
def question_delete(project_id: int, questionnaire_id: int, question_id: int):
    q = intake.get_questionnaire(db.session, project_id, questionnaire_id)
    question = next((x for x in q.questions if x.id == question_id), None)
    if question is None:
        abort(404)
    back = url_for(
        "requirements.questionnaire", project_id=project_id, questionnaire_id=questionnaire_id
    )
    return confirm_page(
        lambda: intake.remove_question(db.session, g.access, q, question_id),
        title=_("Remove this question?"),
        message=question.text,
        action=_("Remove question"),
        cancel=back,
        success=_("Question removed."),
        next_url=back,
    )


@bp.post("/questionnaires/<int:questionnaire_id>/open")
@project_view(Permission.EDIT)
def questionnaire_open(project_id: int, questionnaire_id: int):
    q = intake.get_questionnaire(db.session, project_id, questionnaire_id)
    open_ = request.form.get("open") == "1"
    return post_action(
        lambda: intake.set_open(db.session, g.access, q, open_=open_),
        success=_("The questionnaire is open to answers.")
        if open_
        else _("The questionnaire is closed to answers."),
        next_url=url_for(
            "requirements.questionnaire", project_id=project_id, questionnaire_id=questionnaire_id
        ),
    )


def _typed_answers(q) -> list[intake.AnswerInput]:
    """The answers page's fields (``q<id>``) as answers, through the one answers list form;
    ValidationError naming every bad answer."""
    rows = []
    for question in q.questions:
        name = f"q{question.id}"
        row: dict = {"question_id": str(question.id)}
        if question.kind == QuestionKind.IMPORTANCE:
            row["importance"] = request.form.get(name, "")
        elif question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            row["choices"] = request.form.getlist(name)
        else:
            row["text"] = request.form.get(name, "")
        rows.append((f"answers.{question.id}", row))
    try:
        forms = ANSWERS.from_rows(rows)
    except ValidationError as exc:
        raise ValidationError(
            exc.detail, {k.rsplit(".", 1)[0]: v for k, v in exc.errors.items()}
        ) from None
    return [
        intake.AnswerInput(
            question_id=f.question_id.data,
            text=f.text.data or "",
            choices=tuple(f.choices.data or ()),
            importance=f.importance.data,
        )
        for f in forms
    ]


@bp.route("/questionnaires/<int:questionnaire_id>/answer", methods=["GET", "POST"])
@project_view()
def answer(project_id: int, questionnaire_id: int):
    q = intake.get_questionnaire(db.session, project_id, questionnaire_id)
    if not intake.may_answer(db.session, g.access, q):
        abort(403, description=_("Only the members of this department answer its questionnaire."))
    response = intake.own_response(db.session, g.access, q)
    form = ConfirmForm()
    errors: dict = {}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400, description=_("The form has expired or was altered; reload the page."))
        submit = request.form.get("action") == "submit"
        version = request.form.get("version", type=int)
        try:
            with unit_of_work(db.session):
                intake.save_answers(
                    db.session, g.access, q, _typed_answers(q), submit=False, version=version
                )
        except DomainError as exc:
            flash_error(exc)
            errors = getattr(exc, "errors", {}) or {}
            status = exc.status
        else:
            if submit:
                return redirect(
                    url_for(
                        "requirements.answer_submit",
                        project_id=project_id,
                        questionnaire_id=questionnaire_id,
                    )
                )
            flash(
                _("Your answers are saved as a draft; submit them when they are complete."),
                "success",
            )
            return redirect(request.path)
        response = intake.own_response(db.session, g.access, q)
    typed = request.form if request.method == "POST" else None
    return render_template(
        "requirements/answer.html",
        q=q,
        response=response,
        answers={a.question_id: a for a in (response.answers if response else [])},
        typed=typed,
        errors=errors,
        form=form,
        submitted=response is not None and response.status == ResponseStatus.SUBMITTED,
    ), status


@bp.route("/questionnaires/<int:questionnaire_id>/answer/submit", methods=["GET", "POST"])
@project_view()
def answer_submit(project_id: int, questionnaire_id: int):
    q = intake.get_questionnaire(db.session, project_id, questionnaire_id)
    if not intake.may_answer(db.session, g.access, q):
        abort(403, description=_("Only the members of this department answer its questionnaire."))
    response = intake.own_response(db.session, g.access, q)
    back = url_for("requirements.answer", project_id=project_id, questionnaire_id=questionnaire_id)
    if response is None:
        return redirect(back)
    answers = {a.question_id: a for a in response.answers}

    def submit() -> None:
        intake.save_answers(
            db.session,
            g.access,
            q,
            [
                intake.AnswerInput(a.question_id, a.text, tuple(a.choices), a.importance)
                for a in answers.values()
            ],
            submit=True,
            version=response.version,
        )

    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            with unit_of_work(db.session):
                submit()
        except DomainError as exc:
            flash_error(exc)
            return redirect(back)
        flash(_("Thank you: your answers are submitted."), "success")
        return redirect(url_for("requirements.intake_overview", project_id=project_id))
    return render_template(
        "requirements/answer_submit.html", q=q, answers=answers, form=form, back=back
    )


# --- interviews ---------------------------------------------------------------------------


def _interview_departments(form) -> None:
    form.department_id.choices = choices(
        [("", _("— choose —"))]
        + [(str(d.id), d.name) for d in projects.departments(db.session, g.project.id)]
    )


@bp.route("/interviews/new", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def interview_new(project_id: int):
    form = InterviewForm()
    _interview_departments(form)
    return form_page(
        form,
        "requirements/interview_form.html",
        lambda f: intake.add_interview(db.session, g.access, **f.values()),
        success=_("Interview noted."),
        next_url=lambda i: url_for(
            "requirements.interview", project_id=project_id, interview_id=i.id
        ),
        interview=None,
    )


@bp.get("/interviews/<int:interview_id>")
@project_view()
def interview(project_id: int, interview_id: int):
    return render_template(
        "requirements/interview.html",
        interview=intake.get_interview(db.session, project_id, interview_id),
    )


@bp.route("/interviews/<int:interview_id>/edit", methods=["GET", "POST"])
@project_view(Permission.EDIT)
def interview_edit(project_id: int, interview_id: int):
    i = intake.get_interview(db.session, project_id, interview_id)
    form = InterviewEditForm(obj=i)
    if request.method == "GET":
        form.role.data = i.role.value
    _interview_departments(form)
    return form_page(
        form,
        "requirements/interview_form.html",
        lambda f: intake.update_interview(
            db.session, g.access, i, version=f.version.data, **f.values()
        ),
        success=_("Interview saved."),
        next_url=url_for("requirements.interview", project_id=project_id, interview_id=i.id),
        interview=i,
    )
