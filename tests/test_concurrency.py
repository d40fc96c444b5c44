"""Two real concurrent edits of one record: one wins, the other is refused with 409.

The app is served by a real threaded HTTP server on the session's test database: a SQLite
file, or PostgreSQL when TEST_DATABASE_URL is set (.ci/run does both). Two users, each with
their own token, read the same goal, then send their changes at the same moment.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from planner.artifacts import service as artifacts
from planner.core.accounts.models import User
from planner.core.audit import AuditEvent
from planner.core.errors import Conflict
from planner.core.permissions import Role
from planner.extensions import db
from planner.goals.models import Goal
from planner.projects import service as projects
from planner.vendors import service as vendors
from planner.vendors.models import BoardRevision, Score, ScoringRound
from tests.conftest import _app, login
from tests.live import serve

ROUNDS = 5


class Client:
    """One user's HTTP connection to the live server, with their bearer token."""

    def __init__(self, base: str, token: str) -> None:
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.token = token

    def connect(self) -> None:
        self.conn.connect()

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, "/api/v1" + path, body=data, headers=headers)
        resp = self.conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")

    def status(self, method: str, path: str) -> int:
        """Only the status (for answers that are files, not JSON)."""
        self.conn.request(
            method, "/api/v1" + path, headers={"Authorization": f"Bearer {self.token}"}
        )
        resp = self.conn.getresponse()
        resp.read()
        return resp.status

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def live(database_url: str) -> Iterator[str]:
    """The app served on 127.0.0.1 by a threaded server, on the test's database."""
    server_app: Flask = _app(database_url)
    try:
        with serve(server_app) as base:
            yield base
    finally:
        with server_app.app_context():
            db.engine.dispose()


@pytest.fixture
def two_leads(factory):
    ana = factory.user("ana", name="Ana Popescu")
    mihai = factory.user("mihai", name="Mihai Ionescu")
    project = factory.project(ana)
    factory.member(project, mihai, Role.LEAD)
    return project, {"Ana Popescu": factory.token(ana), "Mihai Ionescu": factory.token(mihai)}


def at_the_same_moment(clients: dict[str, Client], send) -> dict[str, tuple[int, Any]]:
    """Run ``send(name, client)`` for every client in its own thread, released together."""
    for c in clients.values():
        c.connect()  # connected beforehand: the requests leave as close together as can be
    barrier = threading.Barrier(len(clients))
    results: dict[str, tuple[int, Any]] = {}
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            barrier.wait(timeout=30)
            results[name] = send(name, clients[name])
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request did not finish"
    assert not errors, errors
    return results


def test_two_concurrent_edits_one_wins_the_other_gets_409(live, two_leads, factory):
    project, tokens = two_leads
    goal = factory.goal(project, "Original statement")
    path = f"/projects/{project.id}/goals/{goal.id}"
    updates_before = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "goal.update")
    )
    winners = set()
    for round_no in range(ROUNDS):
        clients = {name: Client(live, token) for name, token in tokens.items()}
        try:
            seen = {name: c.request("GET", path) for name, c in clients.items()}
            assert all(status == 200 for status, _ in seen.values()), seen
            versions = {name: body["version"] for name, (_, body) in seen.items()}
            assert len(set(versions.values())) == 1, versions  # both opened the same version
            version = versions["Ana Popescu"]
            results = at_the_same_moment(
                clients,
                lambda name, c, r=round_no, v=version: c.request(
                    "PATCH", path, {"statement": f"{name}, round {r}", "version": v}
                ),
            )
        finally:
            for c in clients.values():
                c.close()

        assert sorted(status for status, _ in results.values()) == [200, 409], results
        winner = next(name for name, (status, _) in results.items() if status == 200)
        loser = next(name for name, (status, _) in results.items() if status == 409)
        winners.add(winner)
        problem = results[loser][1]
        assert problem["status"] == 409 and problem["title"] == "Conflict"
        assert winner in problem["detail"], problem  # names who changed it
        assert "Reload" in problem["detail"]
        assert results[winner][1]["statement"] == f"{winner}, round {round_no}"
        assert results[winner][1]["version"] == version + 1

        db.session.rollback()  # read what the server committed
        stored = db.session.scalar(select(Goal).where(Goal.id == goal.id))
        assert stored.statement == f"{winner}, round {round_no}"
        assert stored.version == version + 1
    updates = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "goal.update")
    )
    assert updates - updates_before == ROUNDS  # one audited change per round, no more
    assert winners  # (which one wins is up to the race)


def test_concurrent_edits_of_different_records_both_succeed(live, two_leads, factory):
    """No false conflicts: the 409 comes from the versions, not from the locking."""
    project, tokens = two_leads
    # Plain ids: the threads have no app context to load ORM attributes in.
    goal_ids = {name: factory.goal(project, f"Goal of {name}", kpi=False).id for name in tokens}
    paths = {name: f"/projects/{project.id}/goals/{gid}" for name, gid in goal_ids.items()}
    clients = {name: Client(live, token) for name, token in tokens.items()}
    try:
        results = at_the_same_moment(
            clients,
            lambda name, c: c.request(
                "PATCH", paths[name], {"statement": f"Changed by {name}", "version": 1}
            ),
        )
    finally:
        for c in clients.values():
            c.close()
    assert {name: status for name, (status, _) in results.items()} == {n: 200 for n in tokens}
    db.session.rollback()
    for name, gid in goal_ids.items():
        assert db.session.get(Goal, gid).statement == f"Changed by {name}"


def test_many_concurrent_creations_are_all_saved(live, two_leads):
    """Writers queue behind each other: no 'database is locked', no lost insert."""
    project, tokens = two_leads
    path = f"/projects/{project.id}/goals"
    clients = {
        f"{name} #{i}": Client(live, token) for name, token in tokens.items() for i in range(4)
    }
    try:
        results = at_the_same_moment(
            clients, lambda name, c: c.request("POST", path, {"statement": f"Goal by {name}"})
        )
    finally:
        for c in clients.values():
            c.close()
    assert sorted(status for status, _ in results.values()) == [201] * len(clients), results
    db.session.rollback()
    statements = db.session.scalars(select(Goal.statement).where(Goal.project_id == project.id))
    assert sorted(statements) == sorted(f"Goal by {name}" for name in clients)


# --- reads that write, while others write -------------------------------------------------


AGENT = "planner-concurrency-test"


class Page:
    """A logged-in browser's cookie on the live server: pages, not the API."""

    def __init__(self, base: str, cookie: str) -> None:
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.cookie = cookie

    def get(self, path: str) -> int:
        self.conn.request("GET", path, headers={"Cookie": self.cookie, "User-Agent": AGENT})
        resp = self.conn.getresponse()
        resp.read()
        return resp.status


def _session_cookie(server_app: Flask, username: str) -> str:
    """Log in through the server's own app and hand its session cookie to a raw connection."""
    client = server_app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = AGENT  # sessions are bound to the browser
    assert login(client, username).status_code == 302
    cookie = client.get_cookie("session")
    assert cookie is not None
    return f"session={cookie.value}"


def _hammer(jobs: dict[str, Any], seconds: float) -> dict[str, list[int]]:
    """Run each job (a function returning a status) in its own thread, over and over, for
    ``seconds``; the statuses each got."""
    stop = threading.Event()
    statuses: dict[str, list[int]] = {name: [] for name in jobs}
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            while not stop.is_set():
                statuses[name].append(jobs[name]())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in jobs]
    for t in threads:
        t.start()
    stop.wait(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads) and not errors, errors
    return statuses


def _audited(action: str) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def test_reads_that_write_queue_behind_writers_and_never_fail(app, factory, database_url):
    """Downloads (audited) and refused visits (audited) while four clients keep writing: every
    one answers as it should, none 'database is locked', and every audit row is there."""
    lead = factory.user("ana", name="Ana Popescu")
    outsider = factory.user("eve", name="Eve Outsider")
    project = factory.project(lead)
    version = artifacts.upload(
        db.session,
        factory.lead_access(project),
        title="Interview minutes",
        phase_key="requirements",
        filename="minutes.txt",
        data="Procesul de vânzări, 销售流程\n".encode(),
        max_bytes=10_000,
    )
    db.session.commit()
    pid, aid = project.id, version.artifact_id
    lead_token, outsider_token = factory.token(lead), factory.token(outsider)
    server_app: Flask = _app(database_url)
    try:
        with serve(server_app) as base:
            lead_page = _session_cookie(server_app, "ana")
            outsider_page = _session_cookie(server_app, "eve")
            writers = {f"writer {i}": Client(base, lead_token) for i in range(4)}
            api_reader, api_denied = Client(base, lead_token), Client(base, outsider_token)
            page_reader, page_denied = Page(base, lead_page), Page(base, outsider_page)
            counter = iter(range(1_000_000))
            jobs: dict[str, Any] = {
                name: (
                    lambda c=c: c.request(
                        "POST", f"/projects/{pid}/goals", {"statement": f"Goal {next(counter)}"}
                    )[0]
                )
                for name, c in writers.items()
            }
            jobs |= {
                "api download": lambda: api_reader.status(
                    "GET", f"/projects/{pid}/artifacts/{aid}"
                ),
                "api denied": lambda: api_denied.request("GET", f"/projects/{pid}")[0],
                "page download": lambda: page_reader.get(
                    f"/projects/{pid}/artifacts/{aid}/download"
                ),
                "page denied": lambda: page_denied.get(f"/projects/{pid}"),
            }
            downloads_before = _audited("artifact.download")
            denied_before = _audited("access.denied")
            statuses = _hammer(jobs, seconds=1.5)
    finally:
        with server_app.app_context():
            db.engine.dispose()
    expected = {"api download": 200, "page download": 200, "api denied": 404, "page denied": 404}
    for name, got in statuses.items():
        want = expected.get(name, 201)
        assert got and set(got) == {want}, (name, sorted(set(got)))
    downloads = len(statuses["api download"]) + len(statuses["page download"])
    denied = len(statuses["api denied"]) + len(statuses["page denied"])
    assert _audited("artifact.download") - downloads_before == downloads
    assert _audited("access.denied") - denied_before == denied
    written = sum(len(v) for k, v in statuses.items() if k.startswith("writer"))
    assert (
        db.session.scalar(select(func.count()).select_from(Goal).where(Goal.project_id == pid))
        == written
    )


# --- twenty reviewers -----------------------------------------------------------------------

REVIEWERS = 20


@pytest.fixture
def scoring_board(factory):
    """A board of 20 reviewers from four departments, three vendors, three criteria, the
    round open and every reviewer's conflicts declared (none); each reviewer's token."""
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead)
    access = factory.lead_access(project)
    departments = ["Vânzări", "客户服务", "שיווק", "Finanzen"]
    for name in departments:
        projects.add_department(db.session, access, name)
    db.session.commit()
    reviewers = [
        factory.member(project, factory.user(f"rev{i}"), Role.REVIEWER, departments[i % 4])
        for i in range(REVIEWERS)
    ]
    vendor_ids = [
        vendors.create_vendor(db.session, access, name=n).id
        for n in ("Salesforce", "HubSpot", "Bitrix24")
    ]
    criterion_ids = [
        vendors.create_criterion(db.session, access, name=n, weight=w).id
        for n, w in (("Functionality", 3.0), ("Security", 2.0), ("Support", 1.0))
    ]
    vendors.set_round_state(db.session, access, action="open", two_envelopes=False)
    db.session.commit()
    for user in reviewers:
        vendors.declare_conflicts(
            db.session, projects.load_access(db.session, project.id, user), []
        )
    db.session.commit()
    tokens = {user.username: factory.token(user) for user in reviewers}
    return project.id, vendor_ids, criterion_ids, tokens


def test_twenty_reviewers_saving_their_own_scores_at_once_are_all_saved(live, scoring_board):
    """Independent writers are not refused: no 409, no lost score (PostgreSQL and SQLite)."""
    pid, vendor_ids, criterion_ids, tokens = scoring_board
    clients = {name: Client(live, token) for name, token in tokens.items()}

    def sheet(name: str) -> dict[str, Any]:
        n = int(name.removeprefix("rev"))
        return {
            "scores": [
                {"vendor_id": v, "criterion_id": c, "score": (n + i + k) % 6, "comment": ""}
                for i, v in enumerate(vendor_ids)
                for k, c in enumerate(criterion_ids)
            ]
        }

    try:
        results = at_the_same_moment(
            clients, lambda name, c: c.request("PUT", f"/projects/{pid}/scores", sheet(name))
        )
    finally:
        for c in clients.values():
            c.close()
    assert {name: status for name, (status, _) in results.items()} == {n: 200 for n in tokens}
    db.session.rollback()
    stored = db.session.execute(
        select(Score.vendor_id, Score.criterion_id, Score.score, User.username)
        .join(User, User.id == Score.reviewer_id)
        .where(Score.project_id == pid)
    ).all()
    expected = {
        (e["vendor_id"], e["criterion_id"], e["score"], name)
        for name in tokens
        for e in sheet(name)["scores"]
    }
    assert set(map(tuple, stored)) == expected and len(stored) == len(expected)
    counted = dict(
        db.session.execute(
            select(User.username, BoardRevision.changes)
            .join(User, User.id == BoardRevision.writer_id)
            .where(BoardRevision.project_id == pid)
        ).all()
    )
    assert set(counted) == {"ana"}  # drafts move no result: only the lead's set-up counted
    # Then all twenty submit at once: each submission counts on its own row, none refused.
    clients = {name: Client(live, token) for name, token in tokens.items()}
    try:
        results = at_the_same_moment(
            clients, lambda name, c: c.request("POST", f"/projects/{pid}/scoresheet/submit")
        )
    finally:
        for c in clients.values():
            c.close()
    assert {name: status for name, (status, _) in results.items()} == {n: 201 for n in tokens}
    db.session.rollback()
    counted = dict(
        db.session.execute(
            select(User.username, BoardRevision.changes)
            .join(User, User.id == BoardRevision.writer_id)
            .where(BoardRevision.project_id == pid)
        ).all()
    )
    assert {n: counted.get(n) for n in tokens} == {n: 1 for n in tokens}


def test_a_score_saved_as_the_round_closes_is_refused_not_kept(scoring_board):
    """The round's state is checked again when the save lands (a lead closing the round in
    between wins; the reviewer is told, and nothing of the save is kept)."""
    pid, vendor_ids, criterion_ids, _ = scoring_board
    from planner.projects.models import Project

    project = db.session.get(Project, pid)
    reviewer = db.session.scalar(select(User).where(User.username == "rev0"))
    access = projects.load_access(db.session, pid, reviewer)
    rnd = vendors.get_round(db.session, pid)
    assert rnd.is_open
    # The round is closed after this transaction read it as open (as another transaction
    # committing in between would, on PostgreSQL): the row changes, the object read does not.
    db.session.execute(
        update(ScoringRound)
        .where(ScoringRound.project_id == pid)
        .values(state="closed")
        .execution_options(synchronize_session=False)
    )
    assert rnd.is_open
    with pytest.raises(Conflict, match="opened or closed while you worked"):
        vendors.put_scores(
            db.session, access, [vendors.ScoreInput(vendor_ids[0], criterion_ids[0], 4, "")]
        )
    db.session.rollback()
    assert (
        db.session.scalar(select(func.count()).select_from(Score).where(Score.project_id == pid))
        == 0
    )
    assert project.id == pid
