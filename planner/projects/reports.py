"""Report jobs as a rollout's pages and API show them: the helpers every area's report routes
use (start a render or serve the cached file), and the JSON of a job.

The job API itself (queue, cache, progress) is :mod:`planner.core.jobs`; the status page and
the job endpoints are in this area's ``views.py`` and ``api.py``.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, redirect, render_template, url_for

from planner.core import jobs
from planner.core.api import PREFIX
from planner.core.versioning import unit_of_work
from planner.core.web import send_download
from planner.extensions import db
from planner.projects.access import Access


def job_json(job: jobs.ReportJob) -> dict[str, Any]:
    """A job as the API shows it; ``file`` is where to fetch the result once it is done."""
    base = f"{PREFIX}/projects/{job.project_id}/reports/{job.id}"
    return {
        "id": job.id,
        "report": job.kind,
        "state": job.state.value,
        "progress": job.progress,
        "stage": job.stage,
        "error": job.error or None,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "file": f"{base}/file" if job.state == jobs.JobState.DONE else None,
        "filename": job.filename or None,
        "size": job.size if job.state == jobs.JobState.DONE else None,
        "status_url": base,
    }


def _start(
    kind: jobs.ReportKind, access: Access, params: dict[str, Any] | None = None
) -> jobs.ReportJob:
    with unit_of_work(db.session):
        job, created = jobs.start(db.session, kind, access, params)
        job_id = job.id
    if created:
        jobs.enqueue(job_id)
    # as the worker left it (in test mode: finished already)
    return db.session.get(jobs.ReportJob, job_id, populate_existing=True)


def send_job_file(job: jobs.ReportJob) -> Response:
    """The file of a done job, through the one download helper."""
    return send_download(
        jobs.result(db.session, job), job.filename, job.content_type, etag=job.sha256
    )


def start_page(kind: jobs.ReportKind, access: Access, params: dict[str, Any] | None = None) -> Any:
    """POST of a page's "prepare the report" button: start (or join) the render (of the report
    with ``params``, if it takes any), then show its status page, which offers the file once it
    is ready."""
    job = _start(kind, access, params)
    return redirect(
        url_for("projects.report_job", project_id=access.project.id, job_id=job.id), 303
    )


def cached_or_offer(
    kind: jobs.ReportKind,
    access: Access,
    start_endpoint: str,
    params: dict[str, Any] | None = None,
    **endpoint_args: Any,
) -> Any:
    """GET of a report's address on a page: the file if this data's render is done already,
    otherwise a page that offers to prepare it (a GET starts nothing). ``params`` are the
    report's, ``endpoint_args`` what ``start_endpoint`` needs besides the project."""
    job = jobs.find(db.session, kind, access, params)
    if job is not None:
        if job.state == jobs.JobState.DONE:
            return send_job_file(job)
        return redirect(url_for("projects.report_job", project_id=access.project.id, job_id=job.id))
    return render_template(
        "projects/report_start.html",
        title=kind.title,
        action=url_for(start_endpoint, project_id=access.project.id, **endpoint_args),
    )


def start_api(kind: jobs.ReportKind, access: Access, params: dict[str, Any] | None = None) -> Any:
    """An API request for a report (with ``params``, if it takes any): 200 with the file if
    this data's render is done (cached), otherwise 202 with the job and a Location to poll."""
    job = _start(kind, access, params)
    if job.state == jobs.JobState.DONE:
        return send_job_file(job)
    resp = jsonify(job_json(job))
    resp.status_code = 202
    resp.headers["Location"] = job_json(job)["status_url"]
    resp.headers["Retry-After"] = "2"
    return resp
