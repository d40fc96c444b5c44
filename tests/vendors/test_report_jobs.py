"""The evaluation PDF as a background job: offered, started, followed, cached, shared, failed.

Under PLANNER_ENV=test jobs run at once in the caller (huey's immediate mode); the last test
runs them on a real huey consumer with SQLite storage, as ``planner run`` does.
"""

from __future__ import annotations

import io
import re
import time

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from planner import create_app
from planner.core import jobs
from planner.core.permissions import Role
from planner.extensions import db
from planner.vendors import service
from tests.conftest import csrf_token


def _close_round(vboard):
    service.set_round_state(db.session, vboard.lead_access, action="close")
    db.session.commit()


def _job_count() -> int:
    return db.session.scalar(select(func.count(jobs.ReportJob.id))) or 0


def test_page_offers_then_prepares_then_serves_the_report(vboard, client, login_as):
    login_as("lead")
    pid = vboard.project.id
    offer = client.get(f"/projects/{pid}/vendors/evaluation.pdf")
    assert offer.status_code == 200 and "Prepare the report" in offer.get_data(as_text=True)
    assert _job_count() == 0  # a GET starts nothing
    token = csrf_token(client, f"/projects/{pid}/vendors/evaluation.pdf")
    started = client.post(f"/projects/{pid}/vendors/evaluation.pdf", data={"csrf_token": token})
    assert started.status_code == 303
    status_url = started.headers["Location"]
    assert re.fullmatch(rf"/projects/{pid}/reports/[0-9a-f]{{32}}", status_url)
    page = client.get(status_url).get_data(as_text=True)
    assert "The report is ready." in page and 'http-equiv="refresh"' not in page
    pdf = client.get(status_url + "/file")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(pdf.data))
    assert reader.metadata.title.startswith("Vendor evaluation")
    # The same data again: the cached file at once, no second render.
    again = client.get(f"/projects/{pid}/vendors/evaluation.pdf")
    assert again.status_code == 200 and again.data == pdf.data and _job_count() == 1


def test_a_change_of_the_data_makes_a_new_report(vboard, client, login_as):
    login_as("lead")
    pid = vboard.project.id
    token = csrf_token(client, f"/projects/{pid}/vendors/evaluation.pdf")
    first = client.post(f"/projects/{pid}/vendors/evaluation.pdf", data={"csrf_token": token})
    service.create_vendor(db.session, vboard.lead_access, name="Microsoft Dynamics")
    db.session.commit()
    offer = client.get(f"/projects/{pid}/vendors/evaluation.pdf")
    assert "Prepare the report" in offer.get_data(as_text=True)
    second = client.post(f"/projects/{pid}/vendors/evaluation.pdf", data={"csrf_token": token})
    assert second.headers["Location"] != first.headers["Location"] and _job_count() == 2
    text = "".join(
        p.extract_text()
        for p in PdfReader(io.BytesIO(client.get(second.headers["Location"] + "/file").data)).pages
    )
    assert "Microsoft Dynamics" in text


def test_api_returns_the_file_when_ready_and_the_job_can_be_polled(vboard, api_as):
    api = api_as(vboard.lead)
    pid = vboard.project.id
    pdf = api.get(f"/projects/{pid}/vendor-evaluation.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    job = db.session.scalars(select(jobs.ReportJob)).one()
    body = api.get(f"/projects/{pid}/reports/{job.id}").json
    assert body["state"] == "done" and body["progress"] == 100 and body["size"] == len(pdf.data)
    assert api.get(body["file"].removeprefix("/api/v1")).data == pdf.data


def test_only_readers_of_the_same_report_may_fetch_a_job(vboard, factory, api_as, client, login_as):
    _close_round(vboard)
    pid = vboard.project.id
    lead_api = api_as(vboard.lead)
    assert lead_api.get(f"/projects/{pid}/vendor-evaluation.pdf").status_code == 200
    job_id = db.session.scalars(select(jobs.ReportJob.id)).one()
    viewer = factory.member(vboard.project, factory.user("vera"), Role.VIEWER)
    outsider = factory.user("olga")
    for user in (viewer, outsider):  # the lead's report shows prices: not theirs to read
        resp = api_as(user).get(f"/projects/{pid}/reports/{job_id}")
        assert resp.status_code == 404, user.username
        assert api_as(user).get(f"/projects/{pid}/reports/{job_id}/file").status_code == 404
    # A job id of one rollout is not found under another the user leads.
    other = factory.project(vboard.lead, name="Another rollout")
    assert lead_api.get(f"/projects/{other.id}/reports/{job_id}").status_code == 404
    # The viewer gets a report of their own, without prices.
    vera = api_as(viewer).get(f"/projects/{pid}/vendor-evaluation.pdf")
    assert vera.status_code == 200 and _job_count() == 2
    login_as("vera")
    assert client.get(f"/projects/{pid}/reports/{job_id}").status_code == 404


def test_blind_scoring_applies_to_the_report(vboard, api_as):
    mihai = vboard.reviewers[0]
    resp = api_as(mihai).get(f"/projects/{vboard.project.id}/vendor-evaluation.pdf")
    assert resp.status_code == 403 and "Blind scoring" in resp.json["detail"] and _job_count() == 0


def test_a_failed_render_says_why_and_asking_again_retries(vboard, api_as, monkeypatch):
    from planner.vendors import report

    def broken(*_a, **_k):
        raise RuntimeError("the renderer fell over")

    monkeypatch.setattr(report, "report_pdf", broken)
    api = api_as(vboard.lead)
    pid = vboard.project.id
    resp = api.get(f"/projects/{pid}/vendor-evaluation.pdf")
    assert resp.status_code == 202 and resp.json["state"] == "failed"
    assert resp.json["error"] == "The report could not be made: an unexpected error; it is logged"
    assert "the renderer fell over" not in resp.json["error"]  # no internals shown
    assert api.get(f"/projects/{pid}/reports/{resp.json['id']}/file").status_code == 409
    monkeypatch.undo()
    retry = api.get(f"/projects/{pid}/vendor-evaluation.pdf")
    assert retry.status_code == 200 and _job_count() == 2


def test_identical_requests_share_one_queued_job(vboard, monkeypatch, api_as):
    """While a render waits or runs, asking again joins it instead of starting another."""
    queued = []
    monkeypatch.setattr(jobs, "enqueue", queued.append)  # a worker that never comes
    api = api_as(vboard.lead)
    first = api.get(f"/projects/{vboard.project.id}/vendor-evaluation.pdf")
    second = api.get(f"/projects/{vboard.project.id}/vendor-evaluation.pdf")
    assert first.status_code == second.status_code == 202
    assert first.json["id"] == second.json["id"] and len(queued) == 1
    assert first.headers["Location"] == first.json["status_url"]
    assert second.json["state"] == "queued" and second.json["file"] is None


@pytest.fixture
def consumer_app(database_url, tmp_path):
    """An app whose jobs go through huey's SQLite queue to a real consumer thread."""
    from tests.conftest import _app

    app = _app(database_url, JOBS_IMMEDIATE=False, JOBS_URL=str(tmp_path / "jobs.sqlite3"))
    worker = jobs.InProcessWorker()
    worker.start()
    try:
        yield app
    finally:
        worker.stop()
        with app.app_context():
            db.engine.dispose()
        create_app(
            {"PLANNER_ENV": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
        )  # immediate again


def test_a_real_worker_renders_in_the_background(vboard, factory, consumer_app):
    token = factory.token(vboard.lead)
    pid = vboard.project.id
    client = consumer_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    t = time.perf_counter()
    started = client.get(f"/api/v1/projects/{pid}/vendor-evaluation.pdf", headers=headers)
    assert started.status_code == 202 and time.perf_counter() - t < 5
    location = started.headers["Location"]
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = client.get(location, headers=headers).json
        seen.add(body["state"])
        if body["state"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert body["state"] == "done", body
    assert seen <= {"queued", "running", "done"}
    pdf = client.get(body["file"], headers=headers)
    assert pdf.status_code == 200 and PdfReader(io.BytesIO(pdf.data)).pages
    cached = client.get(f"/api/v1/projects/{pid}/vendor-evaluation.pdf", headers=headers)
    assert cached.status_code == 200 and cached.data == pdf.data


def test_conflict_reasons_are_in_the_leads_report_only(vboard, factory, api_as):
    """As on the board page: the board sees that a conflict was declared, the lead reads why."""
    mihai = vboard.reviewers[0]
    service.declare_conflicts(
        db.session,
        vboard.access(mihai),
        [service.ConflictItem(vboard.vendors[1].id, "Brother-in-law works there")],
    )
    db.session.commit()
    _close_round(vboard)
    ceo = factory.member(vboard.project, factory.user("ceo"), Role.EXECUTIVE)

    def text(user) -> str:
        pdf = api_as(user).get(f"/projects/{vboard.project.id}/vendor-evaluation.pdf")
        assert pdf.status_code == 200
        return " ".join(
            " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split()
        )

    assert "Brother-in-law works there" in text(vboard.lead)
    executive = text(ceo)
    assert "Brother-in-law" not in executive and "HubSpot" in executive
    assert _job_count() == 2  # two audiences, two renders


def test_another_apps_queue_settings_do_not_change_how_this_app_runs_jobs(vboard, api_as, tmp_path):
    """huey is one per process; whether a job runs at once is the asking app's own setting."""
    from tests.conftest import _app

    _app("sqlite://", JOBS_IMMEDIATE=False, JOBS_URL=str(tmp_path / "other.sqlite3"))
    pdf = api_as(vboard.lead).get(f"/projects/{vboard.project.id}/vendor-evaluation.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
