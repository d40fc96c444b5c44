"""Server time and SQL statements per request, small demo rollout against the large one.

    .venv/bin/python -m benchmarks.bench_pages [--requests 50] [--json PATH]

Builds a fresh SQLite database in a temporary folder (or uses --database-url), migrates it,
loads the demo rollout twice (``small`` and ``large``: 2,000 goals with 3 KPIs each, 20,000
audit events, 25 vendors × 40 criteria × 20 reviewers = 20,000 scores), logs in as the demo
lead and requests every page below N times. The statement count of a page must not grow with
the size of the rollout; the script exits non-zero if it does.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, func, select

PAGES = [
    ("overview", "/projects/{pid}"),
    ("goals", "/projects/{pid}/goals"),
    ("audit", "/projects/{pid}/audit"),
    ("goals phase", "/projects/{pid}/phases/goals"),
    ("vendor board", "/projects/{pid}/vendors"),
    ("evaluation", "/projects/{pid}/vendors/evaluation"),
    ("API project", "/api/v1/projects/{pid}"),
    ("API goals", "/api/v1/projects/{pid}/goals"),
    ("API audit", "/api/v1/projects/{pid}/audit"),
    ("API evaluation", "/api/v1/projects/{pid}/vendor-evaluation"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database-url")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--pdf", action="store_true", help="also time the evaluation PDF")
    args = parser.parse_args(argv)

    from flask_migrate import upgrade

    from planner import create_app, demo
    from planner.core.accounts.service import create_token, find_user
    from planner.extensions import db
    from planner.goals.models import Goal
    from planner.vendors.models import Score

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{tmp.name}/bench.sqlite3"
    app = create_app(
        {
            "PLANNER_ENV": "test",
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": True,
        }
    )
    with app.app_context():
        upgrade()
        t0 = time.perf_counter()
        small = demo.load(db.session, size="small").project_id
        db.session.commit()
        large = demo.load(db.session, size="large").project_id
        db.session.commit()
        load_s = time.perf_counter() - t0
        lead = find_user(db.session, "lead")
        _, token = create_token(db.session, lead, "bench")
        db.session.commit()
        sizes = {
            pid: (
                db.session.scalar(select(func.count(Goal.id)).where(Goal.project_id == pid)),
                db.session.scalar(select(func.count(Score.id)).where(Score.project_id == pid)),
            )
            for pid in (small, large)
        }
        engine = db.engine

    statements = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_a: object) -> None:
        statements[0] += 1

    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    resp = client.post(
        "/login", data={"csrf_token": csrf, "username": "lead", "password": demo.DEMO_PASSWORD}
    )
    assert resp.status_code == 302, resp.status_code
    headers = {"Authorization": f"Bearer {token}"}

    rows = []
    ok = True
    print(f"demo data loaded in {load_s:.1f} s; {args.requests} requests per page\n")
    print(
        f"{'page':<16} {'rollout':<7} {'goals':>6} {'scores':>7} {'median ms':>10} "
        f"{'p95 ms':>8} {'SQL':>5}"
    )
    for name, template in PAGES:
        counts = {}
        for label, pid in (("small", small), ("large", large)):
            path = template.format(pid=pid)
            kw = {"headers": headers} if path.startswith("/api/") else {}
            for _ in range(3):
                r = client.get(path, **kw)
                assert r.status_code == 200, (path, r.status_code)
            times = []
            for _ in range(args.requests):
                statements[0] = 0
                t = time.perf_counter()
                r = client.get(path, **kw)
                times.append((time.perf_counter() - t) * 1000)
                r.close()
            n = statements[0]
            counts[label] = n
            times.sort()
            med = statistics.median(times)
            p95 = times[int(0.95 * (len(times) - 1))]
            rows.append(
                {
                    "page": name,
                    "rollout": label,
                    "goals": sizes[pid][0],
                    "scores": sizes[pid][1],
                    "median_ms": round(med, 2),
                    "p95_ms": round(p95, 2),
                    "statements": n,
                }
            )
            print(
                f"{name:<16} {label:<7} {sizes[pid][0]:>6} {sizes[pid][1]:>7} {med:>10.2f} "
                f"{p95:>8.2f} {n:>5}"
            )
        if counts["small"] != counts["large"]:
            ok = False
            print(f"  !! statements grow with the rollout: {counts}")
    large_rows = [r for r in rows if r["rollout"] == "large"]
    slow = [r["page"] for r in large_rows if r["median_ms"] >= 50]
    print()
    print("statements per request: " + ("constant across sizes" if ok else "GROW WITH SIZE"))
    print("large rollout medians under 50 ms: " + ("yes" if not slow else f"no: {slow}"))
    if args.pdf:
        import tracemalloc

        path = f"/api/v1/projects/{large}/vendor-evaluation.pdf"
        tracemalloc.start()
        t = time.perf_counter()
        r = client.get(path, headers=headers)
        secs = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        assert r.status_code == 200
        print(
            f"evaluation PDF of the large board: {secs:.2f} s, {len(r.data) / 1e3:.0f} kB, "
            f"peak Python memory {peak:.0f} MB"
        )
        rows.append(
            {
                "page": "evaluation PDF",
                "rollout": "large",
                "seconds": round(secs, 2),
                "peak_mb": round(peak, 1),
                "bytes": len(r.data),
            }
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
