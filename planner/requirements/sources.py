"""Interview notes, and the sources a requirement is traced back to (a submitted answer or an
interview, with what it said); what of a department the intake keeps, so that the department
is not deleted under it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from planner.core import audit, references
from planner.core.errors import Conflict, NotFound, ValidationError
from planner.core.i18n import counted, quoted
from planner.core.permissions import Permission
from planner.core.versioning import ensure_version
from planner.projects.access import Access
from planner.projects.models import Department
from planner.requirements.intake_models import (  # noqa: F401 (QuestionKind: for callers)
    Answer,
    Interview,
    IntervieweeRole,
    Question,
    QuestionKind,
    Questionnaire,
    RequirementSource,
    Response,
    ResponseStatus,
)
from planner.requirements.models import Requirement

# --- interviews -----------------------------------------------------------------------------

INTERVIEW_FIELDS = ("department_id", "interviewee", "role", "held_on", "notes")


def interviews(session: Session, project_id: int) -> list[Interview]:
    """The rollout's interview notes, newest first, with their departments."""
    return list(
        session.scalars(
            select(Interview)
            .options(joinedload(Interview.department))
            .where(Interview.project_id == project_id)
            .order_by(Interview.held_on.desc(), Interview.id.desc())
        )
    )


def get_interview(session: Session, project_id: int, interview_id: int) -> Interview:
    """The interview of this rollout; NotFound else."""
    i = session.scalar(
        select(Interview)
        .options(joinedload(Interview.department))
        .where(Interview.id == interview_id, Interview.project_id == project_id)
    )
    if i is None:
        raise NotFound("No such interview in this rollout.")
    return i


def _interview_values(session: Session, project_id: int, values: dict[str, Any]) -> dict[str, Any]:
    dept = session.get(Department, values.get("department_id") or 0)
    if dept is None or dept.project_id != project_id:
        raise ValidationError(
            "Choose a department of this rollout.", {"department_id": ["Unknown department."]}
        )
    who = " ".join((values.get("interviewee") or "").split())
    if not who:
        raise ValidationError("Who was interviewed?", {"interviewee": ["Required."]})
    try:
        role = IntervieweeRole(values.get("role"))
    except ValueError:
        raise ValidationError(
            "Frontline or manager?", {"role": ["Frontline or manager."]}
        ) from None
    held_on = values.get("held_on")
    if not isinstance(held_on, date):
        raise ValidationError("When was it held?", {"held_on": ["Required."]})
    return {
        "department_id": dept.id,
        "interviewee": who,
        "role": role,
        "held_on": held_on,
        "notes": (values.get("notes") or "").strip(),
    }


def add_interview(session: Session, access: Access, **values: Any) -> Interview:
    """Note an interview (needs EDIT); ValidationError for a department of another rollout,
    no interviewee, an unknown role or no date."""
    access.require(Permission.EDIT)
    interview = Interview(
        project_id=access.project.id,
        updated_by_id=access.user.id,
        **_interview_values(session, access.project.id, values),
    )
    session.add(interview)
    session.flush()
    audit.log(
        session,
        access,
        "interview.create",
        interview,
        f"interview with {quoted(interview.interviewee)} noted",
        after=audit.snapshot(interview, INTERVIEW_FIELDS),
    )
    return interview


def update_interview(
    session: Session, access: Access, interview: Interview, *, version: int | None, **values: Any
) -> Interview:
    """Change an interview's notes (needs EDIT); StaleEdit if saved since ``version``."""
    access.require(Permission.EDIT)
    ensure_version(session, interview, version)
    before = audit.snapshot(interview, INTERVIEW_FIELDS)
    for k, v in _interview_values(session, access.project.id, values).items():
        setattr(interview, k, v)
    interview.updated_by_id = access.user.id
    session.flush()
    audit.log(
        session,
        access,
        "interview.update",
        interview,
        f"interview with {quoted(interview.interviewee)} changed",
        before=before,
        after=audit.snapshot(interview, INTERVIEW_FIELDS),
    )
    return interview


# --- sources of requirements -----------------------------------------------------------------


def get_answer(session: Session, project_id: int, answer_id: int) -> Answer:
    """A submitted answer of this rollout, with its question and response; NotFound else
    (a draft is not a source: it may still change)."""
    a = session.scalar(
        select(Answer)
        .join(Response, Response.id == Answer.response_id)
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .options(joinedload(Answer.question), joinedload(Answer.response).joinedload(Response.user))
        .where(
            Answer.id == answer_id,
            Questionnaire.project_id == project_id,
            Response.status == ResponseStatus.SUBMITTED,
        )
    )
    if a is None:
        raise NotFound("No such submitted answer in this rollout.")
    return a


def link_source(
    session: Session,
    access: Access,
    requirement_id: int,
    *,
    answer: Answer | None = None,
    interview: Interview | None = None,
) -> RequirementSource:
    """Trace a requirement to an answer or an interview, keeping what the source said (needs
    EDIT); Conflict if it is traced to that source already."""
    access.require(Permission.EDIT)
    if (answer is None) == (interview is None):
        raise ValueError("link_source() takes an answer or an interview")
    which = (
        RequirementSource.answer_id == answer.id
        if answer is not None
        else RequirementSource.interview_id == interview.id  # type: ignore[union-attr]
    )
    same = session.scalar(
        select(RequirementSource.id).where(
            RequirementSource.requirement_id == requirement_id, which
        )
    )
    if same is not None:
        raise Conflict("The requirement is traced to this source already.")
    quote = (
        f"{answer.question.text}\n{answer.as_text()}"
        if answer is not None
        else (interview.notes if interview is not None else "")
    )
    src = RequirementSource(
        requirement_id=requirement_id,
        answer_id=answer.id if answer else None,
        interview_id=interview.id if interview else None,
        quote=quote[:5000],
    )
    session.add(src)
    session.flush()
    key = session.scalar(select(Requirement.number).where(Requirement.id == requirement_id))
    audit.log(
        session,
        access,
        "requirement.source",
        entity_type="requirement",
        entity_id=requirement_id,
        summary=f"REQ-{key or 0:03d} traced to "
        + (
            f"an answer of the questionnaire ({quoted(answer.question.text, 80)})"
            if answer is not None
            else f"the interview with {quoted(interview.interviewee)}"  # type: ignore[union-attr]
        ),
    )
    return src


def _sources_statement():
    return select(RequirementSource).options(
        joinedload(RequirementSource.answer).joinedload(Answer.response).joinedload(Response.user),
        joinedload(RequirementSource.interview).joinedload(Interview.department),
    )


def sources_by_requirement(session: Session, project_id: int) -> dict[int, list[RequirementSource]]:
    """Requirement id -> where it came from, for the whole register (one statement)."""
    out: dict[int, list[RequirementSource]] = {}
    for src in session.scalars(
        _sources_statement()
        .join(Requirement, Requirement.id == RequirementSource.requirement_id)
        .where(Requirement.project_id == project_id)
        .order_by(RequirementSource.requirement_id, RequirementSource.id)
    ):
        out.setdefault(src.requirement_id, []).append(src)
    return out


def source_words(src: RequirementSource) -> str:
    """Where a requirement came from, in words, with what the source said (shortened): for a
    file that carries it to another tool."""
    if src.interview is not None:
        where = (
            f"Interview with {src.interview.interviewee} ({src.interview.department.name}), "
            f"{src.interview.held_on.isoformat()}"
        )
    elif src.answer is not None:
        where = f"Answer of {src.answer.response.user.name} to the questionnaire"
    else:
        where = "A source since removed"
    quote = " ".join(src.quote.split())
    return f"{where}: {quote[:400]}{'…' if len(quote) > 400 else ''}" if quote else where


def sources_of(session: Session, requirement_id: int) -> list[RequirementSource]:
    """Where a requirement came from, with the answers' questions and people and the
    interviews (three statements)."""
    return list(
        session.scalars(
            _sources_statement()
            .where(RequirementSource.requirement_id == requirement_id)
            .order_by(RequirementSource.id)
        )
    )


# --- what refers to an earlier area's records ------------------------------------------------


@references.register_reference("department")
def _department_in_intake(session: Session, department_id: int) -> list[str]:
    """A department's interviews and its questionnaire's submitted answers (two statements)."""
    interviews = session.scalar(
        select(func.count(Interview.id)).where(Interview.department_id == department_id)
    )
    answered = session.scalar(
        select(func.count(Response.id))
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .where(
            Questionnaire.department_id == department_id,
            Response.status == ResponseStatus.SUBMITTED,
        )
    )
    out = []
    if interviews:
        out.append(counted(interviews, "interview"))
    if answered:
        out.append(f"{counted(answered, 'submitted answer sheet')} of its questionnaire")
    return out
