"""How a member gets a report rendered in the background, the same for every report: the
page's offer, "Prepare the report", the status page and the file; the API's 202 and the job
to poll, then 200 with the file. Each report's tests add what is particular to it."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from sqlalchemy import func, select

from planner.core import jobs
from planner.extensions import db
from tests.conftest import csrf_token


def job_count() -> int:
    """How many report jobs exist (a second request of the same data must start none)."""
    return db.session.scalar(select(func.count(jobs.ReportJob.id))) or 0


def prepare_on_the_page(client, url: str, project_id: int, title: str) -> Any:
    """Follow the page's way: a GET offers and starts nothing, the POST needs its CSRF token,
    the status page says it is ready, the file is a PDF whose title starts with ``title``,
    and a second GET gives the cached file without a second render. Returns the file's
    response."""
    offer = client.get(url)
    assert offer.status_code == 200 and "Prepare the report" in offer.get_data(as_text=True)
    before = job_count()
    assert before == 0  # a GET starts nothing
    assert client.post(url + "/start").status_code == 400  # no CSRF token: not started
    started = client.post(url + "/start", data={"csrf_token": csrf_token(client, url)})
    assert started.status_code == 303
    status_url = started.headers["Location"]
    assert re.fullmatch(rf"/projects/{project_id}/reports/[0-9a-f]{{32}}", status_url)
    assert "The report is ready." in client.get(status_url).get_data(as_text=True)
    pdf = client.get(status_url + "/file")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert PdfReader(io.BytesIO(pdf.data)).metadata.title.startswith(title)
    again = client.get(url)  # the same data: the cached file at once, no second render
    assert again.status_code == 200 and again.data == pdf.data and job_count() == 1
    return pdf


def fetch_through_the_api(api, path: str, monkeypatch, report_name: str) -> Any:
    """Follow the API's way: 202 with the job to poll while no worker has come, the job done
    once one has, then 200 with the PDF. Returns the file's response."""
    queued: list[str] = []
    monkeypatch.setattr(jobs, "enqueue", queued.append)  # a worker that has not come yet
    waiting = api.get(path)
    assert waiting.status_code == 202 and waiting.json["state"] == "queued"
    assert waiting.headers["Location"] == waiting.json["status_url"]
    assert waiting.json["report"] == report_name and len(queued) == 1
    monkeypatch.undo()
    jobs.enqueue(queued[0])  # the worker comes
    status = api.get(waiting.headers["Location"].removeprefix("/api/v1")).json
    assert status["state"] == "done" and status["progress"] == 100
    pdf = api.get(path)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF") and len(pdf.data) == status["size"]
    return pdf


def documented_like_a_report(api, path: str, permission: str) -> None:
    """The OpenAPI document gives the file or the job to poll, and the permission."""
    spec = api.client.get("/api/v1/openapi.json").json
    route = re.sub(r"/projects/\d+", "/projects/{project_id}", f"/api/v1{path}")
    op = spec["paths"][route]["get"]
    assert "application/pdf" in op["responses"]["200"]["content"] and "202" in op["responses"]
    assert op["description"] == f"Requires: {permission}."


def render_measured(render, factory, project) -> tuple[int, int, float]:
    """Render a report of ``project`` as its lead with ``render(session, access)``: the SQL
    statements it ran, its pages and its seconds (for "statements do not grow" checks)."""
    import time

    from sqlalchemy import event

    access = factory.lead_access(project)
    db.session.expire_all()
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    started = time.perf_counter()
    try:
        pdf = render(db.session, access)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen), len(PdfReader(io.BytesIO(pdf)).pages), time.perf_counter() - started
