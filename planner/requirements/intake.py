"""Rules of department intake: each department's questionnaire (from a default of seed 001's
examples, which the lead edits), its members' answers (a draft they save, then submit), the
interview notes, and the requirements made from them, traced back to their source.

Who sees what: the lead (EDIT) writes questionnaires and interviews and reads submitted
answers; a member of a department answers that department's questionnaire and sees their own
answers, never another department's, nor anyone's draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from planner.core import audit, references
from planner.core.accounts.models import User
from planner.core.db import utcnow
from planner.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from planner.core.i18n import counted, quoted
from planner.core.permissions import Permission
from planner.core.versioning import ensure_version
from planner.projects.access import Access
from planner.projects.models import Department, Membership
from planner.projects.phases import Criterion, register_criteria
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

IMPORTANCE = range(1, 6)
MAX_QUESTIONS = 100
MAX_OPTIONS = 30
OPTION_MAX = 200

# Seed 001: every department states its needs; sales needs real-time tracking of customer
# interactions, customer service the handling of complaints. (keyword in the department's name,
# questions as (kind, text, options)).
_COMMON = [
    (QuestionKind.TEXT, "Which tasks of your day would a CRM make easier or faster?", []),
    (QuestionKind.TEXT, "What information about customers do you miss today, and where is it?", []),
    (
        QuestionKind.TEXT,
        "Which reports or lists do you build by hand today (spreadsheets, e-mails)?",
        [],
    ),
]
DEFAULT_QUESTIONS: dict[str, list[tuple[QuestionKind, str, list[str]]]] = {
    "sales": [
        (
            QuestionKind.IMPORTANCE,
            "How important is real-time tracking of every interaction with a customer "
            "(calls, e-mails, meetings)?",
            [],
        ),
        (
            QuestionKind.MULTIPLE,
            "Which parts of the sales process should the CRM cover?",
            ["Leads", "Opportunities and pipeline", "Quotes", "Orders", "Forecasts"],
        ),
    ],
    "service": [
        (
            QuestionKind.IMPORTANCE,
            "How important is handling customer complaints in the CRM, with deadlines and "
            "escalation?",
            [],
        ),
        (
            QuestionKind.SINGLE,
            "How do complaints reach you today?",
            ["Phone", "E-mail", "Web form", "In person", "Several of these"],
        ),
    ],
    "marketing": [
        (
            QuestionKind.MULTIPLE,
            "What would you do with the customer records?",
            ["Segments for campaigns", "Campaign results per customer", "Newsletters", "Events"],
        ),
    ],
    "it": [
        (
            QuestionKind.TEXT,
            "Which systems must the CRM exchange data with (accounting, e-mail, telephony, "
            "website)?",
            [],
        ),
        (QuestionKind.IMPORTANCE, "How important is single sign-on with company accounts?", []),
    ],
    "legal": [
        (
            QuestionKind.TEXT,
            "Which personal data may the CRM hold, and who may see it (data classification)?",
            [],
        ),
        (
            QuestionKind.IMPORTANCE,
            "How important is preventing the bulk export of the client database?",
            [],
        ),
    ],
    "finance": [
        (
            QuestionKind.TEXT,
            "Which financial figures (invoices, payments, credit limits) should the CRM show?",
            [],
        ),
    ],
}
_KEYWORDS = {
    "sales": ("sales", "vânzări", "vertrieb", "销售"),
    "service": ("service", "support", "complaint", "客服", "kundendienst"),
    "marketing": ("marketing", "市场"),
    "it": ("it", "information", "technolog"),
    "legal": ("legal", "juridic", "recht", "法务"),
    "finance": ("finance", "financ", "accounting", "finanz", "财务"),
}


def default_questions(department: str) -> list[tuple[QuestionKind, str, list[str]]]:
    """The default questions for a department, by its name (pure): the department's own
    (sales: real-time tracking of interactions; customer service: complaint handling, …) and
    the questions every department is asked."""
    words = department.casefold().replace("-", " ").split()
    name = department.casefold()
    for key, hints in _KEYWORDS.items():
        if any((h in words) if h.isascii() and len(h) <= 3 else (h in name) for h in hints):
            return DEFAULT_QUESTIONS[key] + _COMMON
    return list(_COMMON)


# --- questionnaires -----------------------------------------------------------------------


def questionnaires(session: Session, project_id: int) -> list[Questionnaire]:
    """The rollout's questionnaires with their departments and questions, by department."""
    return list(
        session.scalars(
            select(Questionnaire)
            .join(Department, Department.id == Questionnaire.department_id)
            .options(joinedload(Questionnaire.department), selectinload(Questionnaire.questions))
            .where(Questionnaire.project_id == project_id)
            .order_by(Department.name)
        )
    )


def get_questionnaire(session: Session, project_id: int, questionnaire_id: int) -> Questionnaire:
    """The questionnaire of this rollout with its department and questions; NotFound else."""
    q = session.scalar(
        select(Questionnaire)
        .options(joinedload(Questionnaire.department), selectinload(Questionnaire.questions))
        .where(Questionnaire.id == questionnaire_id, Questionnaire.project_id == project_id)
    )
    if q is None:
        raise NotFound("No such questionnaire in this rollout.")
    return q


def create_default_questionnaires(session: Session, access: Access) -> list[Questionnaire]:
    """A questionnaire with the default questions for every department that has none yet
    (needs EDIT); returns those made."""
    access.require(Permission.EDIT)
    pid = access.project.id
    have = set(
        session.scalars(select(Questionnaire.department_id).where(Questionnaire.project_id == pid))
    )
    made: list[tuple[Questionnaire, str]] = []
    for dept in session.scalars(
        select(Department).where(Department.project_id == pid).order_by(Department.name)
    ):
        if dept.id in have:
            continue
        q = Questionnaire(
            project_id=pid,
            department_id=dept.id,
            intro="Tell us what you need from the new CRM. Frontline staff and managers alike: "
            "every answer counts.",
            updated_by_id=access.user.id,
        )
        q.questions = [
            Question(position=i, kind=kind, text=text, options=list(options))
            for i, (kind, text, options) in enumerate(default_questions(dept.name), start=1)
        ]
        session.add(q)
        made.append((q, dept.name))
    session.flush()
    if made:
        audit.log(
            session,
            access,
            "questionnaire.create",
            summary=f"{counted(len(made), 'questionnaire')} made from the defaults: "
            + ", ".join(name for _q, name in made)[:200],
            entity_type="questionnaire",
        )
    return [q for q, _name in made]


def _options(kind: QuestionKind, options: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(" ".join(o.split()) for o in options if o and o.strip()))
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        if len(cleaned) < 2:
            raise ValidationError(
                "A choice question needs at least two options, one a line.",
                {"options": ["At least two options, one a line."]},
            )
        if len(cleaned) > MAX_OPTIONS or any(len(o) > OPTION_MAX for o in cleaned):
            raise ValidationError(
                f"At most {MAX_OPTIONS} options of {OPTION_MAX} characters each.",
                {"options": [f"At most {MAX_OPTIONS} options of {OPTION_MAX} characters."]},
            )
        return cleaned
    if cleaned:
        raise ValidationError(
            "Only choice questions have options.", {"options": ["Leave empty for this kind."]}
        )
    return []


def add_question(
    session: Session, access: Access, q: Questionnaire, *, text: str, kind: str, options: list[str]
) -> Question:
    """Add a question at the end (needs EDIT). ValidationError for empty text, an unknown kind,
    options that do not fit the kind; Conflict once someone has submitted answers (the
    questions they answered must stay as they were)."""
    access.require(Permission.EDIT)
    _unanswered(session, q)
    text = text.strip()
    if not text:
        raise ValidationError("A question needs its text.", {"text": ["Required."]})
    try:
        kind_ = QuestionKind(kind)
    except ValueError:
        raise ValidationError("Unknown kind of question.", {"kind": ["Unknown kind."]}) from None
    if len(q.questions) >= MAX_QUESTIONS:
        raise Conflict(f"A questionnaire has at most {MAX_QUESTIONS} questions.")
    question = Question(
        questionnaire_id=q.id,
        position=max((x.position for x in q.questions), default=0) + 1,
        text=text,
        kind=kind_,
        options=_options(kind_, options),
    )
    session.add(question)
    session.flush()
    audit.log(
        session,
        access,
        "question.create",
        question,
        f"question added to the questionnaire of {q.department.name}: {quoted(text)}",
    )
    return question


def _unanswered(session: Session, q: Questionnaire) -> None:
    submitted = session.scalar(
        select(func.count())
        .select_from(Response)
        .where(Response.questionnaire_id == q.id, Response.status == ResponseStatus.SUBMITTED)
    )
    if submitted:
        raise Conflict(
            f"{counted(submitted, 'person has', 'people have')} answered this questionnaire; "
            "its questions stay as they answered them. Note further questions in an interview."
        )


def remove_question(session: Session, access: Access, q: Questionnaire, question_id: int) -> None:
    """Remove a question (needs EDIT): NotFound for another questionnaire's, Conflict once
    someone has submitted answers. Drafts lose their answer to it."""
    access.require(Permission.EDIT)
    question = next((x for x in q.questions if x.id == question_id), None)
    if question is None:
        raise NotFound("No such question in this questionnaire.")
    _unanswered(session, q)
    audit.log(
        session,
        access,
        "question.delete",
        question,
        f"question removed from the questionnaire of {q.department.name}: {quoted(question.text)}",
    )
    session.delete(question)


def set_open(session: Session, access: Access, q: Questionnaire, *, open_: bool) -> None:
    """Open or close a questionnaire to answers (needs EDIT)."""
    access.require(Permission.EDIT)
    if q.open == open_:
        return
    q.open = open_
    q.updated_by_id = access.user.id
    audit.log(
        session,
        access,
        "questionnaire.open" if open_ else "questionnaire.close",
        q,
        f"questionnaire of {q.department.name} {'opened' if open_ else 'closed'} to answers",
    )


# --- answering ------------------------------------------------------------------------------


def department_of(session: Session, access: Access) -> int | None:
    """The caller's department in this rollout (None: none)."""
    return session.scalar(
        select(Membership.department_id).where(
            Membership.project_id == access.project.id, Membership.user_id == access.user.id
        )
    )


def own_questionnaire(session: Session, access: Access) -> Questionnaire | None:
    """The questionnaire of the caller's department, if it has one."""
    dept = department_of(session, access)
    if dept is None:
        return None
    qid = session.scalar(
        select(Questionnaire.id).where(
            Questionnaire.project_id == access.project.id, Questionnaire.department_id == dept
        )
    )
    return get_questionnaire(session, access.project.id, qid) if qid else None


def may_answer(session: Session, access: Access, q: Questionnaire) -> bool:
    """Whether the caller belongs to the questionnaire's department (and so answers it)."""
    return department_of(session, access) == q.department_id


def own_response(session: Session, access: Access, q: Questionnaire) -> Response | None:
    """The caller's response to ``q`` with its answers, or None."""
    return session.scalar(
        select(Response)
        .options(selectinload(Response.answers))
        .where(Response.questionnaire_id == q.id, Response.user_id == access.user.id)
    )


@dataclass(frozen=True)
class AnswerInput:
    """An answer as typed: ``value`` is text, the options chosen, or 1–5."""

    question_id: int
    text: str = ""
    choices: tuple[str, ...] = ()
    importance: int | None = None


def save_answers(
    session: Session,
    access: Access,
    q: Questionnaire,
    answers: list[AnswerInput],
    *,
    submit: bool,
    version: int | None = None,
) -> Response:
    """Save the caller's answers as their draft, or submit them (then they are final).

    PermissionDenied unless the caller belongs to the department; Conflict when the
    questionnaire is closed or the answers were submitted already; StaleEdit when the draft
    was saved elsewhere since ``version``; ValidationError naming every bad answer (an option
    not offered, an importance outside 1–5, a question of another questionnaire). Submitting
    needs an answer to every question.
    """
    if not may_answer(session, access, q):
        raise PermissionDenied("Only the members of this department answer its questionnaire.")
    if not q.open:
        raise Conflict("This questionnaire is closed to answers.")
    response = own_response(session, access, q)
    if response is not None and response.status == ResponseStatus.SUBMITTED:
        raise Conflict("You have submitted your answers; they can no longer change.")
    if response is not None:
        ensure_version(session, response, version)
    by_id = {x.id: x for x in q.questions}
    errors: dict[str, list[str]] = {}
    clean: dict[int, AnswerInput] = {}
    for a in answers:
        question = by_id.get(a.question_id)
        where = f"answers.{a.question_id}"
        if question is None:
            errors[where] = ["Not a question of this questionnaire."]
            continue
        problem = _check_answer(question, a)
        if problem:
            errors[where] = [problem]
        elif _answered(a):
            clean[question.id] = a
    if errors:
        raise ValidationError(
            f"{counted(len(errors), 'answer')} cannot be taken; nothing was saved.", errors
        )
    if submit:
        missing = [x for x in q.questions if x.id not in clean]
        if missing:
            raise ValidationError(
                f"Answer every question before you submit ({counted(len(missing), 'question')} "
                "without an answer); or save your draft.",
                {f"answers.{x.id}": ["Required to submit."] for x in missing},
            )
    if response is None:
        response = Response(questionnaire_id=q.id, user_id=access.user.id, answers=[])
        session.add(response)
    response.updated_by_id = access.user.id
    response.updated_at = utcnow()  # the row changes with its answers: its version moves
    existing = {a.question_id: a for a in response.answers}
    for qid, a in clean.items():
        row = existing.pop(qid, None) or Answer(question_id=qid)
        row.text, row.choices, row.importance = a.text.strip(), list(a.choices), a.importance
        if row not in response.answers:
            response.answers.append(row)
    for row in existing.values():  # answers taken back
        response.answers.remove(row)
    if submit:
        response.status = ResponseStatus.SUBMITTED
        response.submitted_at = utcnow()
    session.flush()
    audit.log(
        session,
        access,
        "response.submit" if submit else "response.save",
        response,
        f"answers to the questionnaire of {q.department.name} "
        + ("submitted" if submit else "saved as a draft"),
    )
    return response


def _answered(a: AnswerInput) -> bool:
    return bool(a.text.strip() or a.choices or a.importance is not None)


def _check_answer(question: Question, a: AnswerInput) -> str | None:
    if question.kind == QuestionKind.IMPORTANCE:
        if a.importance is not None and a.importance not in IMPORTANCE:
            return "An importance from 1 (nice to have) to 5 (essential)."
        if a.text.strip() or a.choices:
            return "Answer with an importance from 1 to 5."
    elif question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        unknown = [c for c in a.choices if c not in question.options]
        if unknown:
            return f"Not one of the options: {quoted(unknown[0])}."
        if question.kind == QuestionKind.SINGLE and len(a.choices) > 1:
            return "Choose one option."
        if a.importance is not None:
            return "Choose among the options."
    else:
        if a.choices or a.importance is not None:
            return "Answer in words."
        if len(a.text) > 10_000:
            return "At most 10,000 characters."
    return None


# --- what the lead sees ----------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentIntake:
    """Where one department stands: its questionnaire, who submitted, its interviews."""

    department: Department
    questionnaire_id: int | None
    open: bool
    members: int
    submitted: list[str]  # names of those who submitted
    drafts: int  # how many have a draft (not who: drafts are private)
    interviews: int

    @property
    def heard(self) -> bool:
        return bool(self.submitted) or self.interviews > 0


def intake_overview(session: Session, project_id: int) -> list[DepartmentIntake]:
    """Every department of the rollout and how far its intake is (four statements)."""
    depts = list(
        session.scalars(
            select(Department).where(Department.project_id == project_id).order_by(Department.name)
        )
    )
    qs = {
        q.department_id: q
        for q in session.scalars(
            select(Questionnaire).where(Questionnaire.project_id == project_id)
        )
    }
    members = dict(
        session.execute(
            select(Membership.department_id, func.count())
            .where(Membership.project_id == project_id, Membership.department_id.is_not(None))
            .group_by(Membership.department_id)
        ).all()
    )
    responses = session.execute(
        select(Questionnaire.department_id, Response.status, User.display_name, User.username)
        .join(Response, Response.questionnaire_id == Questionnaire.id)
        .join(User, User.id == Response.user_id)
        .where(Questionnaire.project_id == project_id)
    ).all()
    interviews = dict(
        session.execute(
            select(Interview.department_id, func.count())
            .where(Interview.project_id == project_id)
            .group_by(Interview.department_id)
        ).all()
    )
    out = []
    for d in depts:
        q = qs.get(d.id)
        submitted = [
            shown or username
            for dept_id, status, shown, username in responses
            if dept_id == d.id and status == ResponseStatus.SUBMITTED
        ]
        drafts = sum(
            1
            for dept_id, status, _n, _u in responses
            if dept_id == d.id and status == ResponseStatus.DRAFT
        )
        out.append(
            DepartmentIntake(
                department=d,
                questionnaire_id=q.id if q else None,
                open=bool(q and q.open),
                members=members.get(d.id, 0),
                submitted=sorted(submitted),
                drafts=drafts,
                interviews=interviews.get(d.id, 0),
            )
        )
    return out


def submitted_responses(session: Session, q: Questionnaire) -> list[Response]:
    """The submitted responses to ``q`` with their answers and people (drafts are private)."""
    return list(
        session.scalars(
            select(Response)
            .options(joinedload(Response.user), selectinload(Response.answers))
            .where(Response.questionnaire_id == q.id, Response.status == ResponseStatus.SUBMITTED)
            .order_by(Response.submitted_at)
        )
    )


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


@register_criteria("requirements")
def _heard(session: Session, project) -> list[Criterion]:
    """Every department answered its questionnaire or was interviewed (four statements)."""
    unheard = [d.department.name for d in intake_overview(session, project.id) if not d.heard]
    return [
        Criterion(
            "Every department has answered its questionnaire or been interviewed",
            met=not unheard,
            detail=("not yet: " + ", ".join(unheard)) if unheard else "",
        )
    ]


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
