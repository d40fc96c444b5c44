"""JSON API of department intake: questionnaires, answers, interviews, and the sources of
requirements. On the requirements API blueprint."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from planner.core.api import doc, json_body
from planner.core.errors import PermissionDenied, ValidationError
from planner.core.forms import form_from_json
from planner.core.permissions import Permission
from planner.core.versioning import unit_of_work
from planner.extensions import db
from planner.projects.access import api_access
from planner.requirements import intake, service
from planner.requirements.api import bp
from planner.requirements.intake_models import Interview, Questionnaire, Response
from planner.requirements.schemas import (
    ANSWERS,
    InterviewEditForm,
    InterviewForm,
    QuestionForm,
    QuestionnaireOpenForm,
    SourceForm,
)


def questionnaire_json(q: Questionnaire) -> dict[str, Any]:
    return {
        "id": q.id,
        "department": {"id": q.department.id, "name": q.department.name},
        "open": q.open,
        "intro": q.intro,
        "questions": [
            {"id": x.id, "text": x.text, "kind": x.kind.value, "options": list(x.options)}
            for x in q.questions
        ],
    }


def response_json(r: Response, who: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "status": r.status.value,
        "version": r.version,
        "submitted_at": r.submitted_at.isoformat() if r.submitted_at else None,
        "answers": [
            {
                "id": a.id,
                "question_id": a.question_id,
                "text": a.text,
                "choices": list(a.choices),
                "importance": a.importance,
            }
            for a in sorted(r.answers, key=lambda a: a.question_id)
        ],
    }
    if who:
        out["by"] = r.user.name
    return out


def interview_json(i: Interview) -> dict[str, Any]:
    return {
        "id": i.id,
        "department": {"id": i.department.id, "name": i.department.name},
        "interviewee": i.interviewee,
        "role": i.role.value,
        "held_on": i.held_on.isoformat(),
        "notes": i.notes,
        "version": i.version,
    }


@bp.get("/projects/<int:project_id>/questionnaires")
@doc("The departments' questionnaires with their questions", permission=Permission.VIEW)
def questionnaires_list(project_id: int):
    api_access(project_id)
    return jsonify(
        {"items": [questionnaire_json(q) for q in intake.questionnaires(db.session, project_id)]}
    )


@bp.post("/projects/<int:project_id>/questionnaires")
@doc(
    "Make a questionnaire from the defaults for every department that has none",
    status=201,
    permission=Permission.EDIT,
)
def questionnaires_create(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    with unit_of_work(db.session):
        made = intake.create_default_questionnaires(db.session, access)
    ids = {q.id for q in made}
    return jsonify(
        {
            "items": [
                questionnaire_json(q)
                for q in intake.questionnaires(db.session, project_id)
                if q.id in ids
            ]
        }
    ), 201


@bp.get("/projects/<int:project_id>/intake")
@doc(
    "Where each department stands: its questionnaire, who submitted, how many drafts, its "
    "interviews, and whether it has been heard",
    permission=Permission.VIEW,
)
def intake_get(project_id: int):
    api_access(project_id)
    return jsonify(
        {
            "items": [
                {
                    "department": {"id": d.department.id, "name": d.department.name},
                    "questionnaire_id": d.questionnaire_id,
                    "open": d.open,
                    "members": d.members,
                    "submitted_by": d.submitted,
                    "drafts": d.drafts,
                    "interviews": d.interviews,
                    "heard": d.heard,
                }
                for d in intake.intake_overview(db.session, project_id)
            ]
        }
    )


@bp.put("/projects/<int:project_id>/questionnaires/<int:questionnaire_id>/open")
@doc(
    "Open or close a questionnaire to answers",
    body=QuestionnaireOpenForm,
    permission=Permission.EDIT,
)
def questionnaire_open(project_id: int, questionnaire_id: int):
    access = api_access(project_id, Permission.EDIT)
    q = intake.get_questionnaire(db.session, project_id, questionnaire_id)
    form = form_from_json(QuestionnaireOpenForm, json_body())
    with unit_of_work(db.session):
        intake.set_open(db.session, access, q, open_=form.open.data)
    return jsonify(questionnaire_json(intake.get_questionnaire(db.session, project_id, q.id)))


@bp.post("/projects/<int:project_id>/questionnaires/<int:questionnaire_id>/questions")
@doc(
    "Add a question (options one a line, for the kinds with options); 409 once answers are in",
    body=QuestionForm,
    status=201,
    permission=Permission.EDIT,
)
def questions_create(project_id: int, questionnaire_id: int):
    access = api_access(project_id, Permission.EDIT)
    q = intake.get_questionnaire(db.session, project_id, questionnaire_id)
    form = form_from_json(QuestionForm, json_body())
    with unit_of_work(db.session):
        intake.add_question(
            db.session,
            access,
            q,
            text=form.text.data,
            kind=form.kind.data,
            options=form.option_list(),
        )
    return jsonify(questionnaire_json(intake.get_questionnaire(db.session, project_id, q.id))), 201


@bp.delete(
    "/projects/<int:project_id>/questionnaires/<int:questionnaire_id>/questions/<int:question_id>"
)
@doc("Remove a question; 409 once answers are in", status=204, permission=Permission.EDIT)
def questions_delete(project_id: int, questionnaire_id: int, question_id: int):
    access = api_access(project_id, Permission.EDIT)
    q = intake.get_questionnaire(db.session, project_id, questionnaire_id)
    with unit_of_work(db.session):
        intake.remove_question(db.session, access, q, question_id)
    return "", 204


@bp.get("/projects/<int:project_id>/questionnaires/<int:questionnaire_id>/responses")
@doc("The submitted answers to a questionnaire (drafts stay private)", permission=Permission.EDIT)
def responses_list(project_id: int, questionnaire_id: int):
    api_access(project_id, Permission.EDIT)
    q = intake.get_questionnaire(db.session, project_id, questionnaire_id)
    return jsonify({"items": [response_json(r) for r in intake.submitted_responses(db.session, q)]})


def _own_questionnaire(project_id: int, questionnaire_id: int):
    access = api_access(project_id)
    q = intake.get_questionnaire(db.session, project_id, questionnaire_id)
    if not intake.may_answer(db.session, access, q):
        raise PermissionDenied("Only the members of this department answer its questionnaire.")
    return access, q


@bp.get("/projects/<int:project_id>/questionnaires/<int:questionnaire_id>/answers")
@doc("The caller's own answers to their department's questionnaire", permission=Permission.VIEW)
def answers_get(project_id: int, questionnaire_id: int):
    access, q = _own_questionnaire(project_id, questionnaire_id)
    r = intake.own_response(db.session, access, q)
    return jsonify(
        response_json(r, who=False) if r else {"status": None, "version": None, "answers": []}
    )


@bp.put("/projects/<int:project_id>/questionnaires/<int:questionnaire_id>/answers")
@doc(
    "Save the caller's answers as their draft: a list of {question_id, text | choices | "
    "importance 1..5}; `?submit=true` submits them (every question answered; then final); "
    "`?version=` the draft's version you read (409 if saved since)",
    body=ANSWERS,
    permission=Permission.VIEW,
)
def answers_put(project_id: int, questionnaire_id: int):
    access, q = _own_questionnaire(project_id, questionnaire_id)
    submit = request.args.get("submit", "false").lower()
    if submit not in ("true", "false"):
        raise ValidationError("submit: true or false.", {"submit": ["true or false."]})
    version = request.args.get("version")
    if version is not None and not version.isdigit():
        raise ValidationError("version: a whole number.", {"version": ["A whole number."]})
    forms = ANSWERS.from_json(json_body())
    answers = [
        intake.AnswerInput(
            question_id=f.question_id.data,
            text=f.text.data or "",
            choices=tuple(f.choices.data or ()),
            importance=f.importance.data,
        )
        for f in forms
    ]
    with unit_of_work(db.session):
        intake.save_answers(
            db.session,
            access,
            q,
            answers,
            submit=submit == "true",
            version=int(version) if version is not None else None,
        )
    return jsonify(response_json(intake.own_response(db.session, access, q), who=False))


@bp.get("/projects/<int:project_id>/interviews")
@doc("The interview notes, newest first", permission=Permission.VIEW)
def interviews_list(project_id: int):
    api_access(project_id)
    return jsonify(
        {"items": [interview_json(i) for i in intake.interviews(db.session, project_id)]}
    )


@bp.post("/projects/<int:project_id>/interviews")
@doc("Note an interview", body=InterviewForm, status=201, permission=Permission.EDIT)
def interviews_create(project_id: int):
    access = api_access(project_id, Permission.EDIT)
    form = form_from_json(InterviewForm, json_body())
    with unit_of_work(db.session):
        i = intake.add_interview(db.session, access, **form.values())
    return jsonify(interview_json(intake.get_interview(db.session, project_id, i.id))), 201


@bp.get("/projects/<int:project_id>/interviews/<int:interview_id>")
@doc("One interview's notes", permission=Permission.VIEW)
def interviews_get(project_id: int, interview_id: int):
    api_access(project_id)
    return jsonify(interview_json(intake.get_interview(db.session, project_id, interview_id)))


@bp.put("/projects/<int:project_id>/interviews/<int:interview_id>")
@doc(
    "Change an interview's notes; send the `version` you read (409 if saved since)",
    body=InterviewEditForm,
    permission=Permission.EDIT,
)
def interviews_update(project_id: int, interview_id: int):
    access = api_access(project_id, Permission.EDIT)
    i = intake.get_interview(db.session, project_id, interview_id)
    form = form_from_json(InterviewEditForm, json_body())
    with unit_of_work(db.session):
        intake.update_interview(db.session, access, i, version=form.version.data, **form.values())
    return jsonify(interview_json(intake.get_interview(db.session, project_id, interview_id)))


def source_json(s) -> dict[str, Any]:
    return {
        "id": s.id,
        "answer_id": s.answer_id,
        "interview_id": s.interview_id,
        "quote": s.quote,
    }


@bp.get("/projects/<int:project_id>/requirements/<int:requirement_id>/sources")
@doc("Where a requirement came from: answers and interviews", permission=Permission.VIEW)
def sources_list(project_id: int, requirement_id: int):
    api_access(project_id)
    req = service.get_requirement(db.session, project_id, requirement_id)
    return jsonify({"items": [source_json(s) for s in intake.sources_of(db.session, req.id)]})


@bp.post("/projects/<int:project_id>/requirements/<int:requirement_id>/sources")
@doc(
    "Trace a requirement to a submitted answer or an interview (one of answer_id, interview_id)",
    body=SourceForm,
    status=201,
    permission=Permission.EDIT,
)
def sources_create(project_id: int, requirement_id: int):
    access = api_access(project_id, Permission.EDIT)
    req = service.get_requirement(db.session, project_id, requirement_id)
    form = form_from_json(SourceForm, json_body())
    if (form.answer_id.data is None) == (form.interview_id.data is None):
        raise ValidationError(
            "Name one source: answer_id or interview_id.",
            {"answer_id": ["One of answer_id, interview_id."]},
        )
    with unit_of_work(db.session):
        if form.answer_id.data is not None:
            src = intake.link_source(
                db.session,
                access,
                req.id,
                answer=intake.get_answer(db.session, project_id, form.answer_id.data),
            )
        else:
            src = intake.link_source(
                db.session,
                access,
                req.id,
                interview=intake.get_interview(db.session, project_id, form.interview_id.data),
            )
    return jsonify(source_json(src)), 201
