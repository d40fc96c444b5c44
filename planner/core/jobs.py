"""Reports as background jobs: start a render, poll its progress, fetch the file.

A report can take long (the evaluation PDF of a large board takes tens of seconds), longer than
a web server's worker may hold a request. So a page or an API call only *starts* a job (a row
of ``report_job`` and a message on the queue) and answers at once; a worker renders it and
records its progress (0-100 with a stage name) on the row, which the status page and the API
read. The queue is huey's: SQLite storage beside the app's database by default (embedded, no
broker to run), Redis with one setting (``PLANNER_JOBS_URL=redis://...``) when several app
servers share the work. ``planner run`` and ``planner quickstart`` start a worker thread in
their own process; ``planner worker`` runs one on its own. Under ``PLANNER_ENV=test`` jobs run
immediately, in the caller.

Jobs are shared and cached: a request for the same report of the same data (its *revision*)
for the same *audience* (what this reader may see of it) returns the job already queued,
running or done, so a second download is instant and an identical request while a render runs
waits for that render instead of starting another. A job that fails records why and is not
reused: asking again starts a new one.

An area registers a report with :func:`register_report`; see :class:`ReportKind`.
"""

from __future__ import annotations

import contextvars
import enum
import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import MemoryHuey
from huey.storage import RedisStorage, SqliteStorage
from sqlalchemy import ForeignKey, LargeBinary, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from planner.core.db import Base, UTCDateTime, str_enum, utcnow
from planner.core.errors import DomainError
from planner.extensions import db

log = logging.getLogger(__name__)

# A queued or running job whose row has not moved for this long is taken for lost (its worker
# died): an identical request then starts a new one instead of waiting for it forever.
ABANDONED_AFTER = timedelta(minutes=10)

huey = MemoryHuey("planner")  # storage and mode are set by configure() from the settings


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ReportJob(Base):
    """One render of one report, for one audience, of one revision of the data."""

    __tablename__ = "report_job"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random: not guessable
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(80))
    params: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    audience: Mapped[str] = mapped_column(String(80), default="")
    cache_key: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[JobState] = mapped_column(str_enum(JobState, "job_state"))
    progress: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str] = mapped_column(String(120), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(default=0)
    result: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def parameters(self) -> dict[str, Any]:
        return json.loads(self.params or "{}")


Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class Rendered:
    """What a render hands back: the file."""

    data: bytes
    filename: str
    content_type: str = "application/pdf"


@dataclass(frozen=True)
class ReportKind:
    """A report an area offers, registered with :func:`register_report`.

    - ``audience(session, access) -> (revision, audience)``: checks that this reader may have
      the report (raising a DomainError such as PermissionDenied if not) and says which data it
      shows: ``revision`` changes whenever that data changes, ``audience`` names what this
      reader may see of it (e.g. with or without prices). Both make the cache key.
    - ``render(session, job, progress) -> Rendered``: runs in the worker, without a request;
      it loads what it needs for ``job.project_id`` as ``job.requested_by_id`` would see it,
      and may call ``progress(percent, stage)``. It only reads in ``session``; a write (a
      cache) goes in a short transaction of its own inside ``core.db.writing()``.
    - ``title``: what the status page calls the report.
    """

    name: str
    title: Any
    audience: Callable[[Session, Any], tuple[str, str]]
    render: Callable[[Session, ReportJob, Progress], Rendered]


_KINDS: dict[str, ReportKind] = {}


def register_report(kind: ReportKind) -> ReportKind:
    """Make a report kind known to the job API; raises ValueError for a name taken."""
    known = _KINDS.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(f"a report named {kind.name!r} is registered already")
    _KINDS[kind.name] = kind
    return kind


def report_kind(name: str) -> ReportKind:
    """The registered kind; KeyError if there is none of that name."""
    return _KINDS[name]


def _cache_key(project_id: int, kind: str, params: str, revision: str, audience: str) -> str:
    raw = json.dumps([project_id, kind, params, revision, audience], ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def _key(session: Session, kind: ReportKind, access: Any, params: dict[str, Any] | None):
    revision, audience = kind.audience(session, access)
    canonical = json.dumps(params or {}, sort_keys=True, ensure_ascii=False)
    return (
        canonical,
        audience,
        _cache_key(access.project.id, kind.name, canonical, revision, audience),
    )


def find(
    session: Session, kind: ReportKind, access: Any, params: dict[str, Any] | None = None
) -> ReportJob | None:
    """The job queued, running or done for this report of the current data for this reader,
    if there is one (a lost job, see ``ABANDONED_AFTER``, does not count).

    Raises what ``kind.audience`` raises when the reader may not have the report.
    """
    _canonical, _audience, key = _key(session, kind, access, params)
    live = utcnow() - ABANDONED_AFTER
    candidates = session.scalars(
        select(ReportJob)
        .where(
            ReportJob.project_id == access.project.id,
            ReportJob.cache_key == key,
            ReportJob.state != JobState.FAILED,
        )
        .order_by(ReportJob.created_at.desc())
        .limit(5)
    ).all()
    for job in candidates:
        if job.state == JobState.DONE or job.updated_at >= live:
            return job
    return None


def start(
    session: Session,
    kind: ReportKind,
    access: Any,
    params: dict[str, Any] | None = None,
) -> tuple[ReportJob, bool]:
    """The job for this report of the current data for this reader: the one :func:`find`
    finds (shared, cached), or a new one. Returns (job, created); the caller commits, then
    calls :func:`enqueue` for a created job.

    Raises what ``kind.audience`` raises when the reader may not have the report.
    """
    existing = find(session, kind, access, params)
    if existing is not None:
        return existing, False
    canonical, audience, key = _key(session, kind, access, params)
    job = ReportJob(
        id=uuid.uuid4().hex,
        project_id=access.project.id,
        kind=kind.name,
        params=canonical,
        audience=audience,
        cache_key=key,
        state=JobState.QUEUED,
        stage="waiting for a worker",
        requested_by_id=access.user.id,
    )
    session.add(job)
    session.flush()
    return job, True


def enqueue(job_id: str) -> None:
    """Put a committed job on the queue; with ``JOBS_IMMEDIATE`` (tests) run it now instead,
    in a context of its own, as a worker would.

    The app's own setting decides, not huey's process-wide mode, so that one app's settings
    cannot change how another app in the same process runs its jobs. Takes the id, not the
    row: touching the committed row would open a new read transaction in the caller's
    session, whose snapshot would then hide what the job writes.
    """
    app = current_app._get_current_object()
    if app.config["JOBS_IMMEDIATE"]:
        contextvars.Context().run(_run_in, app, job_id)
    else:
        _render_task(job_id)


def get_job(session: Session, project_id: int, job_id: str) -> ReportJob | None:
    """The job of this project, or None (a job id of another project is not found)."""
    job = session.get(ReportJob, job_id)
    return job if job is not None and job.project_id == project_id else None


def may_fetch(session: Session, job: ReportJob, access: Any) -> bool:
    """Whether this reader may see this job's file: the report kind must still let them have
    it, for the same audience the job was rendered for."""
    try:
        _revision, audience = report_kind(job.kind).audience(session, access)
    except (DomainError, KeyError):
        return False
    return audience == job.audience


def result(session: Session, job: ReportJob) -> bytes:
    """The file of a done job."""
    data = session.scalar(select(ReportJob.result).where(ReportJob.id == job.id))
    return data or b""


def _set(job_id: str, **values: Any) -> None:
    """Write the job's row in a transaction of its own (progress shows while a render runs)."""
    with Session(db.engine) as s:
        s.execute(
            update(ReportJob).where(ReportJob.id == job_id).values(updated_at=utcnow(), **values)
        )
        s.commit()


def run(job_id: str) -> None:
    """Render one job (what the worker does). Needs an app context."""
    session = db.session
    job = session.get(ReportJob, job_id)
    if job is None or job.state != JobState.QUEUED:
        return  # gone with its project, or taken by another worker
    _set(job_id, state=JobState.RUNNING, progress=5, stage="loading the data")
    session.rollback()  # the render reads with a fresh snapshot

    def progress(percent: int, stage: str) -> None:
        _set(job_id, progress=max(0, min(99, int(percent))), stage=stage[:120])

    try:
        out = report_kind(job.kind).render(session, job, progress)
    except Exception as exc:  # the job records why; the worker goes on
        session.rollback()
        detail = exc.detail if isinstance(exc, DomainError) else "an unexpected error; it is logged"
        if not isinstance(exc, DomainError):
            log.exception("report job %s (%s) failed", job_id, job.kind)
        _set(
            job_id,
            state=JobState.FAILED,
            stage="failed",
            error=f"The report could not be made: {detail}",
            finished_at=utcnow(),
        )
        return
    session.rollback()
    _set(
        job_id,
        state=JobState.DONE,
        progress=100,
        stage="done",
        result=out.data,
        filename=out.filename,
        content_type=out.content_type,
        sha256=hashlib.sha256(out.data).hexdigest(),
        size=len(out.data),
        finished_at=utcnow(),
    )


@huey.task(name="planner.render_report")
def _render_task(job_id: str) -> None:
    _run_in(huey.flask_app, job_id)  # on a worker: the app the worker was started with


def _run_in(app: Flask, job_id: str) -> None:
    """Run a job in an app context of its own (so a database session of its own); called in a
    fresh ``contextvars`` context it also has no request context, so no writing transaction
    is inherited from the request that asked for it."""
    with app.app_context():
        try:
            run(job_id)
        finally:
            db.session.remove()


def configure(app: Flask) -> None:
    """Set huey's storage and mode from the app's settings (called by the factory).

    ``JOBS_IMMEDIATE``: jobs run in the caller (tests), huey is left alone; otherwise ``JOBS_URL``: ``redis://``
    for a shared Redis, or a SQLite file path (default: ``jobs.sqlite3`` in the instance
    folder, beside the default database).
    """
    if app.config["JOBS_IMMEDIATE"]:
        return  # jobs run in the caller (see enqueue); huey is not used
    huey.flask_app = app  # type: ignore[attr-defined]
    huey.immediate = False
    url = app.config["JOBS_URL"] or str(Path(app.instance_path) / "jobs.sqlite3")
    if url.startswith(("redis://", "rediss://", "unix://")):
        huey.storage = RedisStorage("planner", url=url)
    else:
        huey.storage = SqliteStorage("planner", filename=url.removeprefix("sqlite:///"))


@huey.on_startup()
def _fresh_connections() -> None:
    """A forked worker process must not use the database connections of its parent."""
    app = getattr(huey, "flask_app", None)
    if app is not None:
        with app.app_context():
            db.engine.dispose(close=False)


class InProcessWorker:
    """A huey consumer in a thread of this process, for the one-command set-ups (``planner
    run``, ``planner quickstart``); the command's own signal handlers stay its own. A render
    then shares the interpreter with the web requests (they slow down while it runs):
    deployments run ``planner worker`` as a process of its own instead."""

    def __init__(self, workers: int = 1, worker_type: str = "thread") -> None:
        self.consumer = huey.create_consumer(
            workers=workers, worker_type=worker_type, periodic=False
        )

    def start(self) -> None:
        import signal

        if threading.current_thread() is threading.main_thread():
            saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
            self.consumer.start()
            for s, handler in saved.items():
                signal.signal(s, handler)
        else:  # signal handlers can only be set from the main thread
            self.consumer._set_signal_handlers = lambda: None  # type: ignore[method-assign]
            self.consumer.start()

    def stop(self) -> None:
        self.consumer.stop(graceful=True)
