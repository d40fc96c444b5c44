"""Twenty reviewers saving their scores at the same moment, against a real threaded server.

    .venv/bin/python -m benchmarks.bench_reviewers [--database-url URL] [--rounds N] [--json PATH]

Builds a fresh SQLite database (or migrates the empty one given: PostgreSQL), sets up a board
of 20 reviewers from four departments, 10 vendors and 20 criteria with the round open and every
reviewer's conflicts declared, and serves the app on 127.0.0.1 with Werkzeug's threaded server.
Then, for each round, all 20 reviewers are released together (a barrier) and each PUTs their
whole scoresheet (200 scores, new values every round) to ``/api/v1/projects/<id>/scores`` over
their own keep-alive connection.

Prints: requests, refusals (any answer but 200: a 409 for a save that did not conflict with
anyone is a refusal), lost scores (cells whose stored value is not the reviewer's last save),
and the request time (median, p95, max, in ms, measured by the client around each request).
For scale: ``alone_median_ms``, one save while nobody else saves (each reviewer once, one after
the other, before the rounds), and ``round_wall_ms``, from the release of a round until its last
answer: with one server process the twenty saves share its CPU (Python's GIL), so a round takes
about twenty times one save even when no save waits for another's lock.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from benchmarks.bench_pages import _normalise_url

REVIEWERS = 20
VENDORS = 10
CRITERIA = 20
DEPARTMENTS = ["Vânzări", "客户服务", "שיווק", "Finanzen"]  # sales, service, marketing, finance
VENDOR_NAMES = [
    "Salesforce", "HubSpot", "Bitrix24", "amoCRM", "Zoho", "Pipedrive", "Dynamics 365",
    "SugarCRM", "Freshsales", "Creatio",
]  # fmt: skip
CRITERION_NAMES = [
    "Contact management", "Sales pipeline", "Complaint handling", "Marketing campaigns",
    "Reporting", "Mobile access", "E-mail integration", "Telephony", "ERP integration",
    "Data migration tools", "Access control", "Audit trail", "Encryption", "Uptime",
    "Vendor support", "Training offer", "Localisation", "Customisation", "API quality",
    "Roadmap",
]  # fmt: skip


def _build(app: Any) -> tuple[int, list[int], list[int], dict[str, str]]:
    from planner.core.accounts.service import create_token, create_user
    from planner.core.permissions import Role
    from planner.extensions import db
    from planner.projects import service as projects
    from planner.vendors import service as vendors

    with app.app_context():
        s = db.session
        lead = create_user(s, "lead", "benchmark-password", display_name="Ana Popescu")
        project = projects.create_project(s, lead, name="Reviewers benchmark")
        s.commit()
        access = projects.load_access(s, project.id, lead)
        for d in projects.departments(s, project.id):
            projects.delete_department(s, access, d.id)
        depts = [projects.add_department(s, access, name).id for name in DEPARTMENTS]
        users = []
        for i in range(REVIEWERS):
            user = create_user(s, f"rev{i:02d}", "benchmark-password", display_name=f"Rev {i}")
            projects.add_member(
                s, access, username=user.username, role=Role.REVIEWER, department_id=depts[i % 4]
            )
            users.append(user)
        vendor_ids = [
            vendors.create_vendor(s, access, name=name).id for name in VENDOR_NAMES[:VENDORS]
        ]
        criterion_ids = [
            vendors.create_criterion(s, access, name=name, weight=1.0 + c % 4).id
            for c, name in enumerate(CRITERION_NAMES[:CRITERIA])
        ]
        vendors.set_round_state(s, access, action="open", two_envelopes=False)
        s.commit()
        tokens = {}
        for user in users:
            vendors.declare_conflicts(s, projects.load_access(s, project.id, user), [])
            tokens[user.username] = create_token(s, user, "benchmark")[1]
        s.commit()
        return project.id, vendor_ids, criterion_ids, tokens


def _sheet(reviewer: int, round_no: int, vendor_ids: list[int], criterion_ids: list[int]):
    return {
        "scores": [
            {"vendor_id": v, "criterion_id": c, "score": (reviewer + round_no + i + k) % 6}
            for i, v in enumerate(vendor_ids)
            for k, c in enumerate(criterion_ids)
        ]
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from flask_migrate import upgrade

    from planner import create_app
    from planner.extensions import db
    from planner.vendors.models import Score

    tmp = tempfile.TemporaryDirectory(prefix="planner-bench-reviewers-")
    url = _normalise_url(args.database_url or f"sqlite:///{tmp.name}/bench.sqlite3")
    app = create_app(
        {"PLANNER_ENV": "test", "SECRET_KEY": "benchmark-secret", "SQLALCHEMY_DATABASE_URI": url}
    )
    with app.app_context():
        upgrade()
    pid, vendor_ids, criterion_ids, tokens = _build(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    names = sorted(tokens)
    conns = {n: http.client.HTTPConnection("127.0.0.1", port, timeout=120) for n in names}
    times: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    alone: list[float] = []
    walls: list[float] = []
    try:
        # One after the other first: what one save costs when nobody else is saving.
        for i, name in enumerate(names):
            body = json.dumps(_sheet(i, -1, vendor_ids, criterion_ids)).encode()
            headers = {
                "Authorization": f"Bearer {tokens[name]}",
                "Content-Type": "application/json",
            }
            t = time.perf_counter()
            conns[name].request("PUT", f"/api/v1/projects/{pid}/scores", body, headers)
            resp = conns[name].getresponse()
            resp.read()
            alone.append((time.perf_counter() - t) * 1000)
            statuses.append(resp.status)
        for round_no in range(args.rounds):
            barrier = threading.Barrier(len(names))

            def save(i: int, name: str, r: int = round_no, b: threading.Barrier = barrier):
                body = json.dumps(_sheet(i, r, vendor_ids, criterion_ids)).encode()
                headers = {
                    "Authorization": f"Bearer {tokens[name]}",
                    "Content-Type": "application/json",
                }
                b.wait(timeout=60)
                t = time.perf_counter()
                conns[name].request("PUT", f"/api/v1/projects/{pid}/scores", body, headers)
                resp = conns[name].getresponse()
                resp.read()
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    times.append(ms)
                    statuses.append(resp.status)

            threads = [threading.Thread(target=save, args=(i, n)) for i, n in enumerate(names)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            walls.append((time.perf_counter() - started) * 1000)
    finally:
        for c in conns.values():
            c.close()
        server.shutdown()
    last = args.rounds - 1
    with app.app_context():
        stored = {
            (r, v, c): s
            for r, v, c, s in db.session.execute(
                db.select(
                    Score.reviewer_id, Score.vendor_id, Score.criterion_id, Score.score
                ).where(Score.project_id == pid)
            )
        }
        from planner.core.accounts.models import User

        ids = dict(db.session.execute(db.select(User.username, User.id)).all())
        lost = 0
        for i, name in enumerate(names):
            for e in _sheet(i, last, vendor_ids, criterion_ids)["scores"]:
                if stored.get((ids[name], e["vendor_id"], e["criterion_id"])) != e["score"]:
                    lost += 1
        db.engine.dispose()
    times.sort()
    return {
        "database": url.split(":", 1)[0],
        "reviewers": len(names),
        "scores_per_sheet": VENDORS * CRITERIA,
        "rounds": args.rounds,
        "requests": len(statuses),
        "refusals": sum(1 for s in statuses if s != 200),
        "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
        "lost_scores": lost,
        "alone_median_ms": round(statistics.median(alone), 1),
        "round_wall_ms": round(statistics.median(walls), 1),
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "max_ms": round(times[-1], 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="an empty database to use instead of SQLite")
    parser.add_argument("--rounds", type=int, default=5, help="saves per reviewer (default 5)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    figures = run(args)
    for key, value in figures.items():
        print(f"{key:18} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if figures["refusals"] == 0 and figures["lost_scores"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
