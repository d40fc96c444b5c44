"""Department intake: questionnaires answered in the app (a draft, then submitted), interview
notes, requirements made from them and traced back, and the gate's criterion."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from planner.core.errors import Conflict, PermissionDenied, ValidationError
from planner.core.permissions import Role
from planner.extensions import db
from planner.projects import service as projects
from planner.projects.waiting import waiting_for
from planner.requirements import intake
from planner.requirements import service as requirements
from planner.requirements.intake_models import Answer, QuestionKind, Response, ResponseStatus
from tests.conftest import csrf_token, login


def test_default_questions_follow_the_department():
    sales = [text for _k, text, _o in intake.default_questions("Sales")]
    service = [text for _k, text, _o in intake.default_questions("Customer service")]
    assert any("real-time tracking" in t for t in sales)
    assert any("complaints" in t for t in service)
    assert any("complaints" in t for t in [t for _k, t, _o in intake.default_questions("客服部门")])
    assert intake.default_questions("Purchasing") == intake._COMMON
    assert not any("complaints" in t for _k, t, _o in intake.default_questions("Digital sales"))


class Questionnaires:
    """The rollout's questionnaires by department, read afresh each time (a commit expires
    what was read)."""

    def __init__(self, project_id: int) -> None:
        self.project_id = project_id

    def __getitem__(self, name: str):
        return next(
            q
            for q in intake.questionnaires(db.session, self.project_id)
            if q.department.name == name
        )

    def __iter__(self):
        return iter(q.department.name for q in intake.questionnaires(db.session, self.project_id))


@pytest.fixture
def intake_world(factory):
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead)
    access = factory.lead_access(project)
    mihai = factory.member(
        project, factory.user("mihai", name="Mihai Ionescu"), Role.VIEWER, "Sales"
    )
    zhang = factory.member(
        project, factory.user("zhang", name="张敏"), Role.REVIEWER, "Customer service"
    )
    made = intake.create_default_questionnaires(db.session, access)
    db.session.commit()
    by_dept = {q.department.name: q for q in intake.questionnaires(db.session, project.id)}
    return (
        project,
        access,
        by_dept,
        factory.access(project, mihai),
        factory.access(project, zhang),
        made,
    )


def _answers(q, **override):
    q = intake.get_questionnaire(db.session, q.project_id, q.id)  # a commit expired it
    out = []
    for question in q.questions:
        if question.kind == QuestionKind.IMPORTANCE:
            out.append(intake.AnswerInput(question.id, importance=5))
        elif question.options:
            out.append(intake.AnswerInput(question.id, choices=(question.options[0],)))
        else:
            out.append(intake.AnswerInput(question.id, text="Every call on the customer's card"))
    return out


def test_each_department_gets_its_questionnaire_once(intake_world, factory):
    project, access, by_dept, *_ = intake_world
    assert set(by_dept) == {d.name for d in projects.departments(db.session, project.id)}
    assert intake.create_default_questionnaires(db.session, access) == []


def test_a_member_saves_a_draft_then_submits_and_only_submitted_answers_are_read(intake_world):
    project, access, by_dept, mihai, zhang, _ = intake_world
    sales = by_dept["Sales"]
    draft = intake.save_answers(db.session, mihai, sales, _answers(sales)[:2], submit=False)
    db.session.commit()
    sales = by_dept["Sales"]
    assert draft.status == ResponseStatus.DRAFT
    # the lead sees that a draft exists, not what it says
    overview = {d.department.name: d for d in intake.intake_overview(db.session, project.id)}
    assert overview["Sales"].drafts == 1 and overview["Sales"].submitted == []
    assert intake.submitted_responses(db.session, sales) == []
    with pytest.raises(ValidationError, match="Answer every question"):
        intake.save_answers(db.session, mihai, sales, _answers(sales)[:2], submit=True)
    db.session.rollback()
    sales = by_dept["Sales"]
    # someone of another department may not answer for Sales
    with pytest.raises(PermissionDenied):
        intake.save_answers(db.session, zhang, sales, _answers(sales), submit=False)
    done = intake.save_answers(
        db.session, mihai, sales, _answers(sales), submit=True, version=draft.version
    )
    db.session.commit()
    sales = by_dept["Sales"]
    assert done.status == ResponseStatus.SUBMITTED and done.submitted_at is not None
    overview = {d.department.name: d for d in intake.intake_overview(db.session, project.id)}
    assert overview["Sales"].submitted == ["Mihai Ionescu"] and overview["Sales"].heard
    with pytest.raises(Conflict, match="can no longer change"):
        intake.save_answers(db.session, mihai, sales, _answers(sales), submit=False)
    db.session.rollback()
    sales = by_dept["Sales"]
    # the questions answered stay as they were
    with pytest.raises(Conflict, match="1 person has answered"):
        intake.add_question(db.session, access, sales, text="One more?", kind="text", options=[])
    db.session.rollback()
    sales = by_dept["Sales"]


def test_bad_answers_are_named_and_nothing_is_saved(intake_world):
    project, access, by_dept, mihai, zhang, _ = intake_world
    sales, service = by_dept["Sales"], by_dept["Customer service"]
    importance = next(x for x in sales.questions if x.kind == QuestionKind.IMPORTANCE)
    multiple = next(x for x in sales.questions if x.kind == QuestionKind.MULTIPLE)
    with pytest.raises(ValidationError) as err:
        intake.save_answers(
            db.session,
            mihai,
            sales,
            [
                intake.AnswerInput(importance.id, importance=9),
                intake.AnswerInput(multiple.id, choices=("Teleportation",)),
                intake.AnswerInput(service.questions[0].id, text="not my questionnaire"),
            ],
            submit=False,
        )
    assert set(err.value.errors) == {
        f"answers.{importance.id}",
        f"answers.{multiple.id}",
        f"answers.{service.questions[0].id}",
    }
    assert (
        "Not one of the options: “Teleportation”" in err.value.errors[f"answers.{multiple.id}"][0]
    )
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_a_stale_draft_is_refused(intake_world):
    project, access, by_dept, mihai, *_ = intake_world
    sales = by_dept["Sales"]
    first = intake.save_answers(db.session, mihai, sales, _answers(sales)[:1], submit=False)
    db.session.commit()
    sales = by_dept["Sales"]
    seen = first.version
    intake.save_answers(db.session, mihai, sales, _answers(sales)[:2], submit=False, version=seen)
    db.session.commit()
    sales = by_dept["Sales"]
    with pytest.raises(Conflict):
        intake.save_answers(
            db.session, mihai, sales, _answers(sales)[:3], submit=False, version=seen
        )
    db.session.rollback()
    sales = by_dept["Sales"]


def test_questions_of_the_kinds_with_options_need_options(intake_world):
    project, access, by_dept, *_ = intake_world
    q = by_dept["IT"]
    with pytest.raises(ValidationError, match="at least two options"):
        intake.add_question(db.session, access, q, text="Which?", kind="single", options=["A"])
    with pytest.raises(ValidationError, match="Only choice questions"):
        intake.add_question(db.session, access, q, text="Why?", kind="text", options=["A", "B"])
    added = intake.add_question(
        db.session,
        access,
        q,
        text="Which e-mail?",
        kind="single",
        options=["Outlook", " Gmail ", "Outlook"],
    )
    assert added.options == ["Outlook", "Gmail"]


def test_the_gate_needs_every_department_heard(intake_world):
    project, access, by_dept, mihai, *_ = intake_world

    def heard():
        (c,) = intake._heard(db.session, project)
        return c

    assert not heard().met and "Sales" in heard().detail
    for d in projects.departments(db.session, project.id):
        if d.name != "Sales":
            intake.add_interview(
                db.session,
                access,
                department_id=d.id,
                interviewee="Someone",
                role="manager",
                held_on=date(2026, 11, 2),
            )
    db.session.commit()
    assert not heard().met and heard().detail == "not yet: Sales"
    intake.save_answers(
        db.session, mihai, by_dept["Sales"], _answers(by_dept["Sales"]), submit=True
    )
    db.session.commit()
    assert heard().met


def test_waiting_on_you_lists_the_questionnaire_until_submitted(intake_world):
    project, access, by_dept, mihai, *_ = intake_world
    texts = [w.text for w in waiting_for(db.session, mihai.user)]
    assert texts == ["Answer the questionnaire of Sales"]
    intake.save_answers(
        db.session, mihai, by_dept["Sales"], _answers(by_dept["Sales"]), submit=True
    )
    db.session.commit()
    assert waiting_for(db.session, mihai.user) == []


# --- pages ---------------------------------------------------------------------------------


def test_answering_in_the_page_keeps_what_was_typed_and_asks_before_submitting(
    intake_world, client, login_as
):
    project, access, by_dept, mihai, *_ = intake_world
    sales = by_dept["Sales"]
    importance = next(x for x in sales.questions if x.kind == QuestionKind.IMPORTANCE)
    text_q = next(x for x in sales.questions if x.kind == QuestionKind.TEXT)
    login_as("mihai")
    url = f"/projects/{project.id}/requirements/questionnaires/{sales.id}/answer"
    token = csrf_token(client, url)
    bad = client.post(
        url,
        data={
            "csrf_token": token,
            "action": "save",
            f"q{importance.id}": "9",
            f"q{text_q.id}": "Urmărirea apelurilor în timp real",
        },
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Urmărirea apelurilor în timp real" in html
    assert 'aria-invalid="true"' not in html or "field-error" in html
    data = {"csrf_token": token, "action": "submit"}
    for a in _answers(sales):
        key = f"q{a.question_id}"
        data[key] = (
            str(a.importance) if a.importance else (list(a.choices) if a.choices else a.text)
        )
    to_confirm = client.post(url, data=data)
    assert to_confirm.status_code == 302 and to_confirm.headers["Location"].endswith(
        "/answer/submit"
    )
    assert db.session.scalar(select(Response.status)) == ResponseStatus.DRAFT
    confirm_page = client.get(to_confirm.headers["Location"])
    assert "Submit your answers?" in confirm_page.get_data(as_text=True)
    done = client.post(to_confirm.headers["Location"], data={"csrf_token": token})
    assert done.status_code == 302
    assert db.session.scalar(select(Response.status)) == ResponseStatus.SUBMITTED
    # another department's member is refused the Sales questionnaire's answer page
    other = client.application.test_client()
    login(other, "zhang")
    assert other.get(url).status_code == 403


def test_a_requirement_made_from_an_answer_keeps_its_source(intake_world, client, login_as):
    project, access, by_dept, mihai, *_ = intake_world
    sales = by_dept["Sales"]
    intake.save_answers(db.session, mihai, sales, _answers(sales), submit=True)
    db.session.commit()
    sales = by_dept["Sales"]
    answer = db.session.scalar(
        select(Answer).where(Answer.text == "Every call on the customer's card").limit(1)
    )
    login_as("ana")
    page = client.get(f"/projects/{project.id}/requirements/questionnaires/{sales.id}")
    assert "make a requirement" in page.get_data(as_text=True)
    url = f"/projects/{project.id}/requirements/new?answer={answer.id}"
    form = client.get(url).get_data(as_text=True)
    assert "Every call on the customer&#39;s card" in form and "keeps the link back" in form
    sales_id = sales.department_id
    resp = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "title": "Every call on the customer's card",
            "type": "functional",
            "priority": "must",
            "status": "proposed",
            "department_ids": [str(sales_id)],
        },
    )
    assert resp.status_code == 302
    detail = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Answer of Mihai Ionescu" in detail
    # a draft is not a source; neither is another rollout's answer
    assert client.get(f"/projects/{project.id}/requirements/new?answer=999999").status_code == 404


def test_interviews_in_the_page_and_the_api(intake_world, client, login_as, api_as):
    project, access, by_dept, *_ = intake_world
    api = api_as(access.user)
    sales = projects.department_by_name(db.session, project.id, "Sales")
    made = api.post(
        f"/projects/{project.id}/interviews",
        json={
            "department_id": sales.id,
            "interviewee": "Radu Marin",
            "role": "frontline",
            "held_on": "2026-11-02",
            "notes": "Calls in a **notebook** <script>alert(1)</script>",
        },
    )
    assert made.status_code == 201, made.json
    iid = made.json["id"]
    login_as("ana")
    html = client.get(f"/projects/{project.id}/requirements/interviews/{iid}").get_data(
        as_text=True
    )
    assert "<strong>notebook</strong>" in html and "<script>alert" not in html
    stale = api.raw(
        "PUT",
        f"/projects/{project.id}/interviews/{iid}",
        json={
            "version": made.json["version"] + 5,
            "department_id": sales.id,
            "interviewee": "Radu",
            "role": "manager",
            "held_on": "2026-11-02",
        },
    )
    assert stale.status_code == 409
    bad = api.post(
        f"/projects/{project.id}/interviews",
        json={"department_id": 999999, "interviewee": "X", "role": "boss", "held_on": "2026-02-30"},
    )
    assert bad.status_code == 422 and {"role", "held_on"} <= set(bad.json["errors"])
    overview = client.get(f"/projects/{project.id}/requirements/intake").get_data(as_text=True)
    assert "Radu Marin" in overview


def test_answers_through_the_api(intake_world, api_as):
    project, access, by_dept, mihai, zhang, _ = intake_world
    sales = by_dept["Sales"]
    api = api_as(mihai.user)
    url = f"/projects/{project.id}/questionnaires/{sales.id}/answers"
    rows = [
        {
            "question_id": a.question_id,
            **({"importance": a.importance} if a.importance else {}),
            **({"choices": list(a.choices)} if a.choices else {}),
            **({"text": a.text} if a.text else {}),
        }
        for a in _answers(sales)
    ]
    saved = api.put(url, json={"answers": rows[:1]})
    assert saved.status_code == 200 and saved.json["status"] == "draft"
    refused = api.put(f"{url}?submit=true", json={"answers": rows[:1]})
    assert refused.status_code == 422
    done = api.put(f"{url}?submit=true&version={saved.json['version']}", json={"answers": rows})
    assert done.status_code == 200 and done.json["status"] == "submitted"
    assert api_as(zhang.user).get(url).status_code == 403
    lead = api_as(access.user)
    listed = lead.get(f"/projects/{project.id}/questionnaires/{sales.id}/responses").json
    assert [r["by"] for r in listed["items"]] == ["Mihai Ionescu"]
    req = requirements.create_requirement(
        db.session,
        access,
        title="Track calls",
        type="functional",
        priority="must",
        status="proposed",
    )
    db.session.commit()
    sales = by_dept["Sales"]
    answer_id = listed["items"][0]["answers"][0]["id"]
    base = f"/projects/{project.id}/requirements/{req.id}/sources"
    assert lead.post(base, json={"answer_id": answer_id}).status_code == 201
    assert lead.post(base, json={"answer_id": answer_id}).status_code == 409
    assert lead.post(base, json={}).status_code == 422
    assert lead.get(base).json["items"][0]["answer_id"] == answer_id


def test_the_intake_through_the_api(intake_world, api_as):
    project, access, by_dept, mihai, *_ = intake_world
    api = api_as(access.user)
    sales = by_dept["Sales"]
    closed = api.put(f"/projects/{project.id}/questionnaires/{sales.id}/open", json={"open": False})
    assert closed.status_code == 200 and closed.json["open"] is False
    refused = api_as(mihai.user).put(
        f"/projects/{project.id}/questionnaires/{sales.id}/answers", json={"answers": []}
    )
    assert refused.status_code == 409 and "closed" in refused.json["detail"]
    overview = {
        d["department"]["name"]: d for d in api.get(f"/projects/{project.id}/intake").json["items"]
    }
    assert overview["Sales"]["open"] is False and overview["Sales"]["heard"] is False
    assert (
        api_as(mihai.user)
        .put(f"/projects/{project.id}/questionnaires/{sales.id}/open", json={"open": True})
        .status_code
        == 403
    )
