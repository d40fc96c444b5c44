"""Rules of department intake: each department's questionnaire (from a default of seed 001's
examples, which the lead edits), its members' answers (a draft they save, then submit), the
interview notes, and the requirements made from them, traced back to their source.

Who sees what: the lead (EDIT) writes questionnaires and interviews and reads submitted
answers; a member of a department answers that department's questionnaire and sees their own
answers, never another department's, nor anyone's draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from planner.core import audit
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
from planner.requirements.sources import (  # noqa: F401 (gathered here)
    INTERVIEW_FIELDS,
    _sources_statement,
    add_interview,
    get_answer,
    get_interview,
    interviews,
    link_source,
    source_words,
    sources_by_requirement,
    sources_of,
    update_interview,
)

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
    heard_in = dict(
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
                interviews=heard_in.get(d.id, 0),
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
