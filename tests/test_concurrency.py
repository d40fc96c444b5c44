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
from sqlalchemy import func, select

from planner.core.audit import AuditEvent
from planner.core.permissions import Role
from planner.extensions import db
from planner.goals.models import Goal
from tests.conftest import _app
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
