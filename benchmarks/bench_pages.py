"""Server time and SQL statements per request, small demo rollout against the large one.

    .venv/bin/python -m benchmarks.bench_pages [--requests 50] [--json PATH] [--pdf]

Builds a fresh SQLite database in a temporary folder (or uses --database-url), migrates it,
loads the demo rollout twice (``small``, and ``large`` as ``planner demo --size large`` does:
2,000 goals with 3 KPIs each, 20,000 audit events, 25 vendors x 40 criteria x 20 reviewers =
20,000 scores), logs in as the demo lead through the login form (and takes an API token for
/api/v1), then requests every page below: a few warm-up requests, then N timed ones.

For each page and rollout it reports the median and p95 server time (the WSGI call through
Flask's test client, no network) and the SQL statements one request executes (counted with a
``before_cursor_execute`` listener on the engine). The statement count of a page must not
grow with the size of the rollout (no N+1 query, long lists paginated): the script exits 1 if
it does. Target: a median under 50 ms on the large rollout (reported, not enforced).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

TARGET_MS = 50.0

# (name, route): the pages of the benchmark, then the vendor pages with the most data.
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

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Row:
    page: str
    route: str
    rollout: str
    rows: int
    median_ms: float
    p95_ms: float
    statements: int
    statements_min: int
    requests: int


class BenchError(RuntimeError):
    """The benchmark could not run (a page failed, the login was refused)."""


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_pages", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--requests", type=int, default=50, help="timed requests a page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests a page first")
    parser.add_argument(
        "--database-url",
        help="an empty database to use instead of a temporary SQLite file (it gets migrated "
        "and two demo rollouts are added to it)",
    )
    parser.add_argument("--env", choices=["test", "development"], default="test")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--pdf", action="store_true", help="also time the evaluation PDF")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.warmup < 0:
        parser.error("--requests must be at least 1 and --warmup not negative")
    return args


def _normalise_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _rollout_rows(session: Any, project_id: int) -> dict[str, int]:
    """Rows that belong to a rollout, by kind."""
    from planner.core.audit import AuditEvent
    from planner.goals.models import KPI, Goal
    from planner.projects.models import Membership
    from planner.vendors.models import Criterion, Score, Vendor

    def count(column: Any, *where: Any, join: Any = None) -> int:
        stmt = select(func.count(column))
        if join is not None:
            stmt = stmt.join(join)
        return int(session.scalar(stmt.where(*where)) or 0)

    return {
        "goals": count(Goal.id, Goal.project_id == project_id),
        "KPIs": count(KPI.id, Goal.project_id == project_id, join=Goal),
        "audit events": count(AuditEvent.id, AuditEvent.project_id == project_id),
        "members": count(Membership.id, Membership.project_id == project_id),
        "vendors": count(Vendor.id, Vendor.project_id == project_id),
        "criteria": count(Criterion.id, Criterion.project_id == project_id),
        "scores": count(Score.id, Score.project_id == project_id),
    }


def _login(client: Any, username: str, password: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    m = CSRF_RE.search(html)
    if m is None:
        raise BenchError("no CSRF token in the login form")
    resp = client.post(
        "/login", data={"csrf_token": m.group(1), "username": username, "password": password}
    )
    if resp.status_code != 302:
        raise BenchError(f"login as {username!r} failed: HTTP {resp.status_code}")


def _p95(times: list[float]) -> float:
    if len(times) < 2:
        return times[0]
    return statistics.quantiles(times, n=20, method="inclusive")[18]


def run(args: argparse.Namespace) -> int:
    from flask_migrate import upgrade

    from planner import create_app, demo
    from planner.core.accounts.service import create_token, find_user
    from planner.extensions import db

    tmp = tempfile.TemporaryDirectory(prefix="planner-bench-")
    url = _normalise_url(args.database_url or f"sqlite:///{tmp.name}/bench.sqlite3")
    app = create_app(
        {
            "PLANNER_ENV": args.env,
            "SECRET_KEY": "benchmark-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": True,
        }
    )
    with app.app_context():
        upgrade()
        t0 = time.perf_counter()
        rollouts = {}
        for size in ("small", "large"):
            rollouts[size] = demo.load(db.session, size=size).project_id
            db.session.commit()
        load_s = time.perf_counter() - t0
        lead = find_user(db.session, "lead")
        assert lead is not None
        _, token = create_token(db.session, lead, "benchmark")
        db.session.commit()
        sizes = {size: _rollout_rows(db.session, pid) for size, pid in rollouts.items()}
        db.session.remove()
        engine = db.engine

    statements = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args: object) -> None:
        statements[0] += 1

    client = app.test_client()
    _login(client, "lead", demo.DEMO_PASSWORD)
    bearer = {"Authorization": f"Bearer {token}"}

    print(
        f"{engine.dialect.name}, PLANNER_ENV={args.env}; demo rollouts loaded in {load_s:.1f} s; "
        f"{args.warmup} warm-up + {args.requests} timed requests a page"
    )
    for size, counts in sizes.items():
        detail = ", ".join(f"{n:,} {kind}" for kind, n in counts.items())
        print(f"  {size} rollout #{rollouts[size]}: {sum(counts.values()):,} rows ({detail})")
    print()
    header = (
        f"{'page':<15} {'route':<40} {'rollout':<7} {'rows':>7} {'median ms':>9} "
        f"{'p95 ms':>7} {'SQL':>4}"
    )
    print(header)
    print("-" * len(header))

    rows: list[Row] = []
    growing: list[str] = []
    for name, route in PAGES:
        per_size = {}
        for size, pid in rollouts.items():
            path = route.format(pid=pid)
            kw = {"headers": bearer} if path.startswith("/api/") else {}
            for _ in range(args.warmup):
                resp = client.get(path, **kw)
                if resp.status_code != 200:
                    raise BenchError(f"GET {path}: HTTP {resp.status_code}")
            times, counts = [], []
            for _ in range(args.requests):
                statements[0] = 0
                t = time.perf_counter()
                resp = client.get(path, **kw)
                times.append((time.perf_counter() - t) * 1000)
                counts.append(statements[0])
                if resp.status_code != 200:
                    raise BenchError(f"GET {path}: HTTP {resp.status_code}")
            row = Row(
                page=name,
                route=route.replace("{pid}", "<id>"),
                rollout=size,
                rows=sum(sizes[size].values()),
                median_ms=round(statistics.median(times), 2),
                p95_ms=round(_p95(times), 2),
                statements=max(counts),
                statements_min=min(counts),
                requests=args.requests,
            )
            rows.append(row)
            per_size[size] = (row.statements_min, row.statements)
            sql = str(row.statements)
            if row.statements_min != row.statements:
                sql = f"{row.statements_min}-{row.statements}"
            print(
                f"{name:<15} {row.route:<40} {size:<7} {row.rows:>7} {row.median_ms:>9.2f} "
                f"{row.p95_ms:>7.2f} {sql:>4}"
            )
        if per_size["small"] != per_size["large"]:
            growing.append(f"{name} {per_size['small']} -> {per_size['large']}")

    slow = [
        f"{r.page} ({r.median_ms:.1f} ms)"
        for r in rows
        if r.rollout == "large" and r.median_ms >= TARGET_MS
    ]
    print()
    print(
        "verdict: statements per request "
        + ("equal for small and large on every page" if not growing else "GROW WITH SIZE: ")
        + "; ".join(growing)
        + f"; large-rollout medians under {TARGET_MS:.0f} ms: "
        + ("yes, every page" if not slow else "NO: " + ", ".join(slow))
    )

    extra: dict[str, Any] = {}
    if args.pdf:
        extra["pdf"] = _time_pdf(client, rollouts["large"], bearer)

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "database": engine.dialect.name,
                    "requests": args.requests,
                    "warmup": args.warmup,
                    "rollouts": {
                        size: {"project_id": rollouts[size], "rows": sizes[size]}
                        for size in rollouts
                    },
                    "pages": [asdict(r) for r in rows],
                    "statements_grow": growing,
                    "slow_pages": slow,
                    **extra,
                },
                indent=2,
            )
            + "\n"
        )
        print(f"figures written to {args.json}")
    engine.dispose()
    tmp.cleanup()
    return 1 if growing else 0


def _time_pdf(client: Any, project_id: int, bearer: dict[str, str]) -> dict[str, Any]:
    import tracemalloc

    path = f"/api/v1/projects/{project_id}/vendor-evaluation.pdf"
    tracemalloc.start()
    t = time.perf_counter()
    resp = client.get(path, headers=bearer)
    secs = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    if resp.status_code != 200:
        raise BenchError(f"GET {path}: HTTP {resp.status_code}")
    print(
        f"evaluation PDF of the large board: {secs:.2f} s, {len(resp.data) / 1e3:.0f} kB, "
        f"peak Python memory {peak:.0f} MB"
    )
    return {"seconds": round(secs, 2), "peak_mb": round(peak, 1), "bytes": len(resp.data)}


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        return run(args)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
