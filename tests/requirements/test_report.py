"""The requirements register as a PDF: rendered for real and read back with pypdf (metadata,
outline, text in every script, no user markup), in a fixed number of statements whatever the
register's size, and as a report job from the register's pages and from the API.

Under PLANNER_ENV=test report jobs run at once, in the caller.
"""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from planner.core import reports as core_reports
from planner.core.permissions import Role
from planner.extensions import db
from planner.goals import service as goals
from planner.projects import service as projects
from planner.requirements import intake, service
from planner.requirements.intake_models import Answer, QuestionKind, Response
from planner.requirements.report import REGISTER_REPORT, group_by_module, report_pdf
from tests.conftest import csrf_token, login
from tests.core.test_reports import embedded_chars
from tests.report_flow import (
    documented_like_a_report,
    fetch_through_the_api,
    job_count,
    prepare_on_the_page,
    render_measured,
)

RO = "Înregistrarea reclamațiilor și urmărirea lor până la închidere"
ZH = "客户投诉在48小时内处理"
HE = "ניהול תלונות לקוחות"
DE = "Kundenbeschwerden müssen binnen 48 Stunden bearbeitet werden"
UNSERVED = "Oferte trimise clienților în aceeași zi, fără întârzieri"
HOSTILE = (
    "**Escaladare** pentru reclamații.\n\n"
    "<script>alert('pwned')</script>\n\n"
    "<img src=file:///etc/passwd>\n\n"
    "![secret](file:///etc/passwd)\n\n"
    f"{DE}.\n"
)


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _outline(reader: PdfReader) -> list[tuple[int, str]]:
    """The PDF's bookmarks (WeasyPrint makes them from h1-h3) as (depth, title), in order."""
    out: list[tuple[int, str]] = []

    def walk(items, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                out.append((depth, item.title))

    walk(reader.outline, 1)
    return out


def _req(access, title: str, **kw):
    values = {"type": "functional", "priority": "should", "status": "proposed", **kw}
    return service.create_requirement(db.session, access, title=title, **values)


def _submitted_answer(project, access, member_access):
    """A submitted answer in words to the Sales questionnaire, by ``member_access``'s user."""
    intake.create_default_questionnaires(db.session, access)
    sales = next(
        q for q in intake.questionnaires(db.session, project.id) if q.department.name == "Sales"
    )
    answers = []
    for question in sales.questions:
        if question.kind == QuestionKind.IMPORTANCE:
            answers.append(intake.AnswerInput(question.id, importance=5))
        elif question.options:
            answers.append(intake.AnswerInput(question.id, choices=(question.options[0],)))
        else:
            answers.append(intake.AnswerInput(question.id, text="Fiecare apel pe fișa clientului"))
    intake.save_answers(db.session, member_access, sales, answers, submit=True)
    answer_id = db.session.scalar(
        select(Answer.id)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.user_id == member_access.user.id, Answer.text != "")
        .order_by(Answer.id)
        .limit(1)
    )
    return intake.get_answer(db.session, project.id, answer_id)


@pytest.fixture
def register(factory):
    """A rollout with a multilingual register: four requirements in two modules (one spelt
    twice) and none, goals served and one not, an interview and an answer as sources, and a
    second interview not yet traced to anything."""
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead, name="CRM rollout — Carpathia")
    access = factory.lead_access(project)
    mihai = factory.member(
        project, factory.user("mihai", name="Mihai Ionescu"), Role.VIEWER, "Sales"
    )
    mihai_access = factory.access(project, mihai)
    pipeline = goals.create_goal(
        db.session, access, statement="A transparent sales pipeline", department_id=None
    )
    complaints = goals.create_goal(db.session, access, statement=ZH, department_id=None)
    goals.create_goal(db.session, access, statement=UNSERVED, department_id=None)
    depts = {d.name: d for d in projects.departments(db.session, project.id)}
    long_notes = f"{HE}. " + "Reclamațiile ajung pe hârtie. " * 20 + "SFÂRȘITUL-NOTIȚELOR"
    interview = intake.add_interview(
        db.session,
        access,
        department_id=depts["Customer service"].id,
        interviewee="Radu Ene",
        role="frontline",
        held_on=date(2026, 11, 2),
        notes=long_notes,
    )
    later = intake.add_interview(
        db.session,
        access,
        department_id=depts["Marketing"].id,
        interviewee="Ioana Dumitrescu",
        role="manager",
        held_on=date(2026, 11, 9),
        notes="Campanii segmentate după istoricul clientului",
    )
    complaint = _req(
        access,
        ZH,
        module="Service and complaints",
        description=HOSTILE,
        priority="must",
        status="accepted",
        acceptance_criterion=RO,
        owner_id=lead.id,
        goal_ids=[complaints.id],
        department_ids=[depts["Customer service"].id],
    )
    calls = _req(
        access,
        "Track every customer call",
        module="Sales process",
        description=DE,
        owner_id=mihai.id,
        goal_ids=[pipeline.id],
        department_ids=[depts["Sales"].id],
    )
    hebrew = _req(access, HE, priority="could")
    _req(access, "Forecast by region", module="  sales   PROCESS ", goal_ids=[pipeline.id])
    intake.link_source(db.session, access, complaint.id, interview=interview)
    answer = _submitted_answer(project, access, mihai_access)
    intake.link_source(db.session, access, calls.id, answer=answer)
    db.session.commit()
    return {
        "project": project,
        "lead": lead,
        "mihai": mihai,
        "later": later.id,
        "hebrew": hebrew.id,
    }


@pytest.fixture
def recorded_fetches(monkeypatch):
    """Every URL the PDF pipeline's fetcher is asked for during the test."""
    fetched: list[str] = []
    locked = core_reports._fetcher_class()

    class Recording(locked):  # type: ignore[misc, valid-type]
        def fetch(self, url, headers=None):
            fetched.append(url)
            return super().fetch(url, headers)

    monkeypatch.setattr(core_reports, "_fetcher_class", lambda: Recording)
    return fetched


# --- the document -------------------------------------------------------------------------


def test_the_register_reads_back_with_every_script_and_no_user_markup(
    register, factory, recorded_fetches
):
    access = factory.lead_access(register["project"])
    stages: list[tuple[int, str]] = []
    pdf = report_pdf(db.session, access, lambda p, s: stages.append((p, s)))
    reader = PdfReader(io.BytesIO(pdf))
    meta = reader.metadata
    assert meta.title == "Requirements register — CRM rollout — Carpathia"
    assert meta.author == "Ana Popescu" and meta.subject.startswith("Requirements by module")
    n = len(reader.pages)
    assert n >= 2  # the cover, then the register
    assert [p for p, _ in stages] == [10, 40, 85] and stages[0][1] == "4 requirements loaded"

    text = "\n".join(p.extract_text() for p in reader.pages)
    flat = _flat(text)
    assert f"Page {n} of {n}" in text
    # modules as headings, in order: named ones alphabetically (one spelling per module),
    # those without a module last, then the goals no requirement serves
    headings = [t for depth, t in _outline(reader) if depth == 2]
    assert headings == [
        "Sales process",
        "Service and complaints",
        "No module",
        "Goals without a requirement",
    ]
    keys = [t.split(" — ")[0] for depth, t in _outline(reader) if depth == 3]
    assert keys == ["REQ-002", "REQ-004", "REQ-001", "REQ-003"]
    for title in ("Track every customer call", "Forecast by region", ZH):
        assert _flat(title) in flat, title
    # traces: goal statements, departments, sources with their quotes shortened
    assert "A transparent sales pipeline" in text and _flat(ZH) in flat
    assert "Customer service" in text and "Sales" in text
    assert "Interview with Radu Ene (Customer service)" in text
    assert "Answer of Mihai Ionescu" in text and _flat("Fiecare apel pe fișa clientului") in flat
    assert "SFÂRȘITUL-NOTIȚELOR" not in flat and "…" in text  # the long quote is shortened
    assert _flat(UNSERVED) in flat.split("Goalswithoutarequirement")[-1]
    assert "Must have" in text and "Accepted" in text and "Ana Popescu" in text
    # every script, as text a reader can search and copy
    assert _flat(RO) in flat and _flat(DE) in flat
    hebrew_words = set(HE.split())
    found = set(re.findall(r"\w+", text))
    assert hebrew_words <= found | {w[::-1] for w in found}  # RTL may come out visual-order
    # ... and drawn with real glyphs, none a missing-glyph box
    needed = {ch for s in (RO, ZH, HE, DE, UNSERVED) for ch in s if not ch.isspace()}
    assert needed - embedded_chars(reader) == set()
    # the Markdown is sanitised: its text stays, its markup and what it points at do not
    assert "Escaladare" in text and "**" not in text
    assert "<script>" not in text and "alert" not in text and "pwned" not in text
    assert "passwd" not in text and "root:" not in text
    assert recorded_fetches == [core_reports.BASE_URL + "static/pdf.css"]


def test_an_empty_register_still_makes_a_report(factory):
    project = factory.project(factory.user("ana", name="Ana Popescu"), name="Empty rollout")
    goals.create_goal(
        db.session, factory.lead_access(project), statement="Fewer lost leads", department_id=None
    )
    db.session.commit()
    text = _text(report_pdf(db.session, factory.lead_access(project)))
    assert "No requirements yet." in text and "Fewer lost leads" in text


def test_modules_group_case_and_spacing_aside_with_no_module_last():
    class R:
        def __init__(self, module: str, n: int) -> None:
            self.module, self.n = module, n

    reqs = [R("", 1), R("Sales process", 2), R("Marketing", 3), R(" sales  PROCESS", 4)]
    sections = group_by_module(reqs)  # type: ignore[arg-type]
    assert [(s.name, [r.n for r in s.requirements]) for s in sections] == [
        ("Marketing", [3]),
        ("Sales process", [2, 4]),
        ("", [1]),
    ]


def _rollout_of(factory, n: int):
    """A rollout of ``n`` requirements, each with an owner, two goals, two departments, a
    module of three and an interview as its source."""
    project = factory.project(factory.user(f"lead{n}", name=f"Lead {n}"), name=f"Rollout {n}")
    access = factory.lead_access(project)
    depts = projects.departments(db.session, project.id)
    goal_ids = [
        goals.create_goal(db.session, access, statement=f"Goal {i} 目标", department_id=None).id
        for i in range(3)
    ]
    interview = intake.add_interview(
        db.session,
        access,
        department_id=depts[0].id,
        interviewee="Radu Ene",
        role="frontline",
        held_on=date(2026, 11, 2),
        notes="Notițe",
    )
    for i in range(n):
        req = _req(
            access,
            f"Requirement {i} — cerință",
            module=("Sales process", "Reporting", "")[i % 3],
            description=f"**{i}** {DE}",
            owner_id=access.user.id,
            goal_ids=goal_ids[:2],
            department_ids=[depts[i % 2].id, depts[2].id],
            acceptance_criterion=RO,
        )
        intake.link_source(db.session, access, req.id, interview=interview)
    db.session.commit()
    return project


def test_the_statements_do_not_grow_with_the_register(factory):
    def statements(project) -> tuple[int, int, float]:
        return render_measured(report_pdf, factory, project)

    small, small_pages, _ = statements(_rollout_of(factory, 5))
    large, large_pages, seconds = statements(_rollout_of(factory, 25))
    assert small == large <= 12, (small, large)
    assert large_pages > small_pages
    print(f"25 requirements: {large_pages} pages in {seconds:.2f} s, {large} statements")


# --- the pages and the API ----------------------------------------------------------------


def test_the_page_offers_then_prepares_then_serves_the_register(register, client, login_as):
    login_as("ana")
    pid = register["project"].id
    pdf = prepare_on_the_page(
        client, f"/projects/{pid}/requirements/report.pdf", pid, "Requirements register"
    )
    assert "requirements-register-" in pdf.headers["Content-Disposition"]


def test_the_api_answers_202_while_rendering_then_200_with_the_file(register, api_as, monkeypatch):
    api = api_as(register["lead"])
    path = f"/projects/{register['project'].id}/requirements/report.pdf"
    pdf = fetch_through_the_api(api, path, monkeypatch, REGISTER_REPORT.name)
    # every member reads the same register: a viewer gets the same render, not a new one
    viewer = api_as(register["mihai"]).get(path)
    assert viewer.status_code == 200 and viewer.data == pdf.data and job_count() == 1
    # documented as the vendors' report is: the file, or the job to poll
    documented_like_a_report(api, path, "view")


def test_a_source_traced_later_makes_a_new_report(register, factory, api_as):
    """Tracing a requirement to a source is an audited change, and it changes the register's
    report: the cached one is not served for it."""
    api = api_as(register["lead"])
    path = f"/projects/{register['project'].id}/requirements/report.pdf"
    first = api.get(path)
    assert first.status_code == 200
    access = factory.lead_access(register["project"])
    interview = intake.get_interview(db.session, register["project"].id, register["later"])
    intake.link_source(db.session, access, register["hebrew"], interview=interview)
    db.session.commit()
    second = api.get(path)
    assert second.status_code == 200 and second.data != first.data and job_count() == 2
    assert "Interview with Ioana Dumitrescu (Marketing)" in _text(second.data)


def test_a_non_member_gets_404_from_the_page_and_the_api(register, factory, client, api_as):
    olga = factory.user("olga")
    pid = register["project"].id
    assert login(client, "olga").status_code == 302
    assert client.get(f"/projects/{pid}/requirements/report.pdf").status_code == 404
    token = csrf_token(client, "/profile")
    start = client.post(
        f"/projects/{pid}/requirements/report.pdf/start", data={"csrf_token": token}
    )
    assert start.status_code == 404
    assert api_as(olga).get(f"/projects/{pid}/requirements/report.pdf").status_code == 404
    assert job_count() == 0
