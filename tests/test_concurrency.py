"""Two real concurrent edits of one record: one wins, the other is refused with 409.

Runs against the test database of the session: a SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set (.ci/run does both).
"""

import http.client
import json
import threading
from urllib.parse import urlsplit

from sqlalchemy import select

from planner.core.permissions import Role
from planner.extensions import db
from planner.goals.models import Goal
from tests.conftest import _app
from tests.live import serve


def _request(base: str, method: str, path: str, token: str, body=None):
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, "/api/v1" + path, body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def test_two_concurrent_edits_one_wins_one_gets_409(factory, database_url):
    lead = factory.user("ana")
    other = factory.user("mihai")
    project = factory.project(lead)
    factory.member(project, other, Role.LEAD)
    goal = factory.goal(project, "Original statement")
    tokens = {"ana": factory.token(lead), "mihai": factory.token(other)}
    server_app = _app(database_url)
    with serve(server_app) as base:
        for round_no in range(4):
            path = f"/projects/{project.id}/goals/{goal.id}"
            seen = {}
            for who, token in tokens.items():
                status, body = _request(base, "GET", path, token)
                assert status == 200
                seen[who] = body["version"]
            assert seen["ana"] == seen["mihai"]
            barrier = threading.Barrier(2)
            results: dict[str, tuple[int, dict]] = {}

            def edit(
                who: str,
                round_no=round_no,
                barrier=barrier,
                results=results,
                path=path,
                seen=seen,
            ) -> None:
                barrier.wait()
                results[who] = _request(
                    base,
                    "PATCH",
                    path,
                    tokens[who],
                    {"statement": f"{who} round {round_no}", "version": seen[who]},
                )

            threads = [threading.Thread(target=edit, args=(w,)) for w in tokens]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            statuses = sorted(s for s, _ in results.values())
            assert statuses == [200, 409], results
            winner = next(w for w, (s, _) in results.items() if s == 200)
            loser = next(w for w, (s, _) in results.items() if s == 409)
            problem = results[loser][1]
            assert "changed" in problem["detail"] or "same moment" in problem["detail"]
            db.session.rollback()
            stored = db.session.scalar(select(Goal).where(Goal.id == goal.id))
            assert stored.statement == f"{winner} round {round_no}"
            assert stored.version == seen[winner] + 1
    with server_app.app_context():
        db.engine.dispose()


def test_stale_edit_names_who_changed_it(factory, api_as):
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead)
    goal = factory.goal(project, "Original")
    api = api_as(lead)
    path = f"/projects/{project.id}/goals/{goal.id}"
    v = api.get(path).json["version"]
    assert api.patch(path, {"statement": "First edit", "version": v}).status_code == 200
    resp = api.patch(path, {"statement": "Edit on stale data", "version": v})
    assert resp.status_code == 409
    assert resp.mimetype == "application/problem+json"
    assert "Ana Popescu" in resp.json["detail"]
    assert api.get(path).json["statement"] == "First edit"
