"""The requirements register at the size of issue #9: server time and SQL statements per
request, a small register against a large one, and the import and exports of 2,000 requirements.

    .venv/bin/python -m benchmarks.bench_requirements [--requests 50] [--json PATH]
        [--database-url URL] [--requirements 2000]

Builds a fresh SQLite database in a temporary folder (or migrates the empty database given with
--database-url) and, as a lead of its own (``bench-lead``, with five reviewers who own
requirements), four rollouts, each with the six usual departments and two more
("Achiziții", "לוגיסטיקה"):

- ``import`` and its twin ``import (traced)``: 50 goals, an empty register. An XLSX of 2,000 new
  requirements is made with ``sheets.export_register`` (keys empty, goals by the first line of
  their statement, departments by name, all of the rollout) and imported as the import pages
  do it: ``imports.read_file`` (parse), ``imports.plan_import`` (the dry run, the preview),
  ``imports.apply_import`` with the preview's digest and a commit (the import; it plans again
  first). Each step's wall time and statements, and the process's max RSS before and after
  (``ru_maxrss``, a high-water mark: it only grows). The twin gets the same import under
  ``tracemalloc`` for the peak of traced Python allocations; tracemalloc slows Python down,
  so that pass's times are not the ones reported. The imports run first, before the big
  register exists, so that the max RSS says something about them.
- ``small``: 10 goals, 20 requirements with 2 revisions each;
- ``large``: 50 goals, 2,000 requirements with 20 revisions each (40,000 revisions).

How the registers are built: every requirement is created through
``service.create_requirement`` (its key from the sequence, its goal and department links,
revision 1 and its audit event); its later revisions are then inserted in bulk
(``session.execute(insert(RequirementRevision), rows)``, snapshots in which title, priority,
status, description, module and acceptance criterion change one at a time, as a review
changes them, a few days apart), and its row is brought to its last revision with one
executemany UPDATE (the fields, ``search_text`` from ``service.search_key``, ``revision``,
``version``, ``updated_at``). Only the creation is audited: the later revisions have no audit
events (none of the pages measured reads the trail).

The data: titles in English, Romanian, German, Chinese and Hebrew (the demo's register, then
phrases composed from a vocabulary per language), Markdown descriptions mixing the languages,
every type, priority and status, the usual modules and three of the lead's own, one to three
goals (5% none), one or two departments, must-haves without an acceptance criterion (15% of
them), near-identical titles (2% made so; with the titles that share all but one of their
words, about 14% of the large register is flagged by the register's 90% threshold), and the
word "omnichannel" in 5% of the titles (the search). In both registers REQ-017 and REQ-018
are near-identical accepted must-haves from Sales with the search word, changed last: every
view measured then shows a flagged requirement in both, and their statements compare like for
like (a page reads the keys its flags name in one more statement, made only when a flag names
one).

Then, as the lead (logged in through the form; an API token for /api/v1), for each rollout,
a few warm-up requests and N timed ones through Flask's test client of: the register
(unfiltered; ``?priority=must&status=accepted&department=<Sales>``; ``?q=omnichannel``;
``?sort=-updated``), REQ-001's page and its comparison of revision 1 with its last, the API's
list (unfiltered and ``?q=``) and REQ-001's revisions. Median and p95 server time (the WSGI
call, no network) and the statements of one request (a ``before_cursor_execute`` listener).
Last, the XLSX, CSV and ReqIF exports of the large register (``interchange.export``, 3 runs
each, the median).

Exit status: 1 if a page's statement count differs between the small and the large register
(an N+1 query, a list not paginated), 2 if a page or the import fails; a large-register median
over 50 ms is reported but does not fail the run (timings depend on the machine).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, event, insert

from benchmarks.bench_pages import BenchError, _login, _normalise_url, _p95

TARGET_MS = 50.0
SEARCH_WORD = "omnichannel"  # in 5% of the titles, in no description
LEAD = ("bench-lead", "Ana Popescu (project lead)")
# (username, name, department): the reviewers who own requirements
OWNERS = [
    ("bench-sales", "Mihai Ionescu", "Sales"),
    ("bench-service", "张敏", "Customer service"),
    ("bench-it", "Jonas Becker", "IT"),
    ("bench-legal", "Ioana Dumitrescu", "Legal"),
    ("bench-marketing", "Noa Levi", "Marketing"),
]
EXTRA_DEPARTMENTS = ("Achiziții", "לוגיסטיקה")  # purchasing (Romanian), logistics (Hebrew)
DEPARTMENT_NAMES = (
    "Sales",
    "Customer service",
    "Marketing",
    "IT",
    "Legal",
    "Finance",
    *EXTRA_DEPARTMENTS,
)
MODULES = (
    "Customer records",
    "Sales process",
    "Service and complaints",
    "Marketing",
    "Reporting",
    "Integrations",
    "Logistică",
    "Kundenportal",
    "移动端",
)
BRANCHES = ("", " (Cluj)", " (Iași)", " (München)", " (上海)", " (חיפה)")
# REQ-017 and REQ-018, in both registers: near-identical titles with the search word, must-haves
# accepted from Sales, the last changed. Every register view measured shows a flagged
# requirement in both registers, so that its statements compare like for like (the page reads
# the keys that flags name in one statement, made only when a flag names one).
TWINS = (16, 17)

# (name, route): {pid} the rollout, {rid} REQ-001, {dept} its Sales department, {last} the
# last revision of REQ-001.
PAGES = [
    ("register", "/projects/{pid}/requirements"),
    (
        "register filtered",
        "/projects/{pid}/requirements?priority=must&status=accepted&department={dept}",
    ),
    ("register search", "/projects/{pid}/requirements?q=" + SEARCH_WORD),
    ("register by date", "/projects/{pid}/requirements?sort=-updated"),
    ("requirement", "/projects/{pid}/requirements/{rid}"),
    ("compare", "/projects/{pid}/requirements/{rid}/compare?a=1&b={last}"),
    ("API list", "/api/v1/projects/{pid}/requirements"),
    ("API search", "/api/v1/projects/{pid}/requirements?q=" + SEARCH_WORD),
    ("API revisions", "/api/v1/projects/{pid}/requirements/{rid}/revisions"),
]

# Title vocabularies: (verbs, objects, contexts, details, joiner). A title is a verb, an
# object, a context and a detail; no two titles of a language share their object, context and
# detail (titles that differ in their verb alone would be near-identical).
VOCABULARY = {
    "en": (
        [
            "Track", "Report on", "Export", "Approve", "Archive", "Search", "Merge duplicate",
            "Notify owners about", "Assign", "Review", "Import", "Tag",
        ],
        [
            "customer calls", "complaints", "invoices", "open deals", "campaign lists",
            "delivery addresses", "contracts", "phone numbers and birthdays", "service tickets",
            "price quotes", "key accounts", "meeting notes", "refund requests",
            "leads from the web form",
        ],
        [
            "in real time", "per branch", "every night", "for the pilot group", "by region",
            "with an audit trail", "on the customer's card", "from the mobile app",
            "before the weekly review", "within 24 hours", "for the head of sales",
            "without a vendor ticket",
        ],
        [
            "so that managers stop keeping notebooks", "as the legal department asked",
            "including the Bitrix24 history", "for customers who buy on credit",
            "with the manager's name shown", "for wholesale and retail clients alike",
            "in Romanian and in English", "without opening a spreadsheet", "once the deal is won",
            "for clients served by two branches", "when a complaint is escalated",
            "after the migration weekend",
        ],
        " ",
    ),
    "ro": (
        [
            "Urmărirea", "Raportarea", "Exportul", "Aprobarea", "Arhivarea", "Căutarea",
            "Unificarea",
        ],
        [
            "apelurilor clienților", "reclamațiilor", "facturilor", "ofertelor de preț",
            "contractelor", "adreselor de livrare", "oportunităților deschise",
        ],
        [
            "în timp real", "pe fiecare filială", "în fiecare noapte", "pentru grupul pilot",
            "pe regiuni", "cu jurnal de audit", "pe fișa clientului",
        ],
        [
            "la cererea departamentului juridic", "inclusiv istoricul din Bitrix24",
            "pentru clienții cu plată la termen", "fără foi de calcul", "după migrarea datelor",
            "pentru clienții en-gros", "cu numele managerului", "la escaladarea unei reclamații",
        ],
        " ",
    ),
    "de": (
        [
            "Erfassung", "Auswertung", "Export", "Freigabe", "Archivierung", "Suche",
            "Zusammenführung",
        ],
        [
            "der Kundenanrufe", "der Reklamationen", "der Rechnungen", "der Angebote",
            "der Verträge", "der Lieferadressen", "offener Verkaufschancen",
        ],
        [
            "in Echtzeit", "pro Niederlassung", "jede Nacht", "für die Pilotgruppe", "nach Region",
            "mit Prüfprotokoll", "auf der Kundenkarte",
        ],
        [
            "auf Wunsch der Rechtsabteilung", "einschließlich der Bitrix24-Historie",
            "für Kunden mit Zahlungsziel", "ohne Tabellenkalkulation", "nach der Datenmigration",
            "für Groß- und Einzelhandelskunden", "mit dem Namen des Betreuers",
            "bei Eskalation einer Reklamation",
        ],
        " ",
    ),
    "zh": (
        ["实时跟踪", "统计", "导出", "审批", "归档", "搜索", "合并"],
        ["客户来电", "客户投诉", "发票", "报价单", "合同", "送货地址", "销售机会"],
        ["（按分公司）", "（每晚）", "（试点小组）", "（按地区）", "（含审计记录）",
         "（在客户卡片上）", "（48小时内）"],
        ["，应法务部门要求", "，包括Bitrix24历史记录", "，适用于赊账客户", "，无需电子表格",
         "，数据迁移之后", "，批发和零售客户", "，显示客户经理姓名", "，投诉升级时"],
        "",
    ),
    "he": (
        ["מעקב אחר", "דוח על", "ייצוא של", "אישור", "ארכוב", "חיפוש", "איחוד"],
        ["שיחות לקוחות", "תלונות", "חשבוניות", "הצעות מחיר", "חוזים", "כתובות משלוח",
         "הזדמנויות מכירה"],
        ["בזמן אמת", "לפי סניף", "בכל לילה", "לקבוצת הפיילוט", "לפי אזור", "עם יומן ביקורת",
         "בכרטיס הלקוח"],
        ["לבקשת המחלקה המשפטית", "כולל ההיסטוריה מ-Bitrix24", "ללקוחות באשראי",
         "ללא גיליון אלקטרוני", "אחרי הסבת הנתונים", "ללקוחות סיטונאיים וקמעונאיים",
         "עם שם מנהל הלקוח", "כאשר תלונה מוסלמת"],
        " ",
    ),
}  # fmt: skip
LANGUAGE_WEIGHTS = {"en": 55, "ro": 15, "de": 15, "zh": 8, "he": 7}

DESCRIPTIONS = [
    "Sales needs to see **every** interaction as it happens, from frontline staff to the head "
    "of sales.\n\nRO: „urmărirea în timp real a interacțiunilor cu clienții”",
    "客服部门需要完善的客户投诉处理功能。\n\nComplaints come by phone and e-mail, with no "
    "single record.",
    "נרצה רשימות קמפיין מתוך רשומות הלקוחות.\n\nCampaign lists from the customer records.",
    "The old Bitrix24 export has phones in five formats. **Backups** nightly, and a restore "
    "drill each quarter.",
    "*Für viele Unternehmen ist der Umzug in ein neues CRM ein verantwortungsbewusster "
    "Schritt*: first a pilot group, then the rest.",
    "From the interview with the branch managers:\n\n- one list per manager\n- no export of "
    "the whole client base\n- the head decides who sees what",
    "Restricționarea accesului la managerii de date, astfel încât fiecare ar putea vedea doar "
    "clienții lor.",
    "实施CRM系统之前，进行详尽的需求调研与分析是至关重要的一步。",
    "Finance asks for it: invoices on the customer's card would save the sales team many calls "
    "to accounting.",
    "Die Vertriebsleitung möchte die Pipeline wöchentlich ohne Tabellenkalkulation prüfen.",
]
NOTES = [
    "Changed after the board's review.",
    "RO: modificat după interviul cu departamentul de vânzări.",
    "DE: nach Rücksprache mit der IT angepasst.",
    "根据客服部门的反馈修改。",
    "עודכן לאחר הפגישה עם המחלקה המשפטית.",
]
CRITERIA = [
    "A manager's search finds no client of another manager; checked with two test accounts.",
    "The report of records without an owner is empty after the migration.",
    "A complaint gets an owner at once, a 24-hour deadline, and escalates when it passes.",
    "Every migrated phone is in E.164 and every birthday in ISO 8601.",
    "The weekly review reads the pipeline report without a spreadsheet.",
    "Testat cu grupul pilot: fiecare apel apare pe fișa clientului în cel mult un minut.",
    "Mit zwei Testkonten geprüft: kein Export über 50 Datensätze ohne Administratorrechte.",
]
PRIORITIES = {"must": 35, "should": 30, "could": 20, "wont": 15}
STATUSES = {"accepted": 50, "proposed": 30, "deferred": 12, "rejected": 8}
TYPES = {"functional": 50, "non_functional": 12, "data": 15, "integration": 13, "security": 10}


@dataclass
class Row:
    page: str
    route: str
    rollout: str
    requirements: int
    revisions: int
    median_ms: float
    p95_ms: float
    statements: int
    statements_min: int
    requests: int


@dataclass
class Step:
    step: str
    seconds: float
    statements: int
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rollout:
    project_id: int
    goal_ids: list[int]
    goal_first_lines: list[str]
    departments: dict[str, int]
    owners: dict[str, int]  # username -> user id


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_requirements", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--requests", type=int, default=50, help="timed requests a page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests a page first")
    parser.add_argument(
        "--requirements",
        type=int,
        default=2000,
        help="requirements in the large register and in the imported XLSX (issue #9: 2000)",
    )
    parser.add_argument(
        "--database-url",
        help="an empty database to use instead of a temporary SQLite file (it gets migrated "
        "and the benchmark's rollouts are added to it)",
    )
    parser.add_argument("--env", choices=["test", "development"], default="test")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.warmup < 0 or args.requirements < 20:
        parser.error("--requests at least 1, --warmup not negative, --requirements at least 20")
    return args


# --- the data ------------------------------------------------------------------------------


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _titles(n: int, rng: random.Random) -> list[str]:
    """``n`` titles: the demo's register first, then composed ones in five languages; every
    20th (from the 4th) and the twins with the search word, every 50th (from the 18th) nearly
    the same as the one before it."""
    from planner.demo import REQUIREMENTS

    pools = {}
    for lang, (verbs, objects, contexts, details, joiner) in VOCABULARY.items():
        combos = [
            joiner.join((rng.choice(verbs), o, c + ("," if lang != "he" else ""), d))
            if joiner
            else rng.choice(verbs) + o + c + d
            for o in objects
            for c in contexts
            for d in details
        ]
        rng.shuffle(combos)
        pools[lang] = combos
    titles = [r[0] for r in REQUIREMENTS][:n]
    while len(titles) < n:
        lang = _weighted(rng, LANGUAGE_WEIGHTS)
        if not pools[lang]:
            lang = "en"
        titles.append(pools[lang].pop())
    for i in range(n):
        if i % 50 == 17:  # near-identical to the one before: a hyphen and a full stop
            before = titles[i - 1]
            titles[i] = (before.replace(" ", "-", 1) if " " in before else before) + "."
    for i in range(n):
        if i % 20 == 3 or i in TWINS:
            titles[i] = f"{SEARCH_WORD.capitalize()}: {titles[i]}"
    return titles


def _specs(n: int, n_goals: int, seed: int) -> list[dict[str, Any]]:
    """The last revision of ``n`` requirements: their fields, owner (a username or None), goals
    (indexes into the rollout's goals) and departments (names)."""
    from planner.demo import REQUIREMENTS

    rng = random.Random(seed)
    titles = _titles(n, rng)
    owners = [u for u, _, _ in OWNERS]
    demo_owner = {dept: u for u, _, dept in OWNERS}
    specs = []
    for i, title in enumerate(titles):
        if i < len(REQUIREMENTS):
            _t, kind, priority, module, dept, served, criterion, text = REQUIREMENTS[i]
            specs.append(
                {
                    "title": title,
                    "description": text,
                    "type": kind,
                    "priority": priority,
                    "module": module,
                    "acceptance_criterion": criterion,
                    "status": "accepted" if priority != "could" else "deferred",
                    "owner": demo_owner.get(dept),
                    "goals": tuple(sorted({s % n_goals for s in served})),
                    "departments": (dept,),
                }
            )
            continue
        priority = _weighted(rng, PRIORITIES)
        with_criterion = rng.random() < (0.85 if priority == "must" else 0.6)
        n_goal_links = rng.choices([0, 1, 2, 3], weights=[5, 50, 30, 15])[0]
        description = ""
        if rng.random() < 0.85:
            parts = rng.sample(DESCRIPTIONS, k=rng.choice([1, 1, 2]))
            description = "\n\n".join(parts)
        specs.append(
            {
                "title": title,
                "description": description,
                "type": _weighted(rng, TYPES),
                "priority": priority,
                "module": rng.choice(MODULES),
                "acceptance_criterion": rng.choice(CRITERIA) if with_criterion else "",
                "status": _weighted(rng, STATUSES),
                "owner": rng.choice(owners) if rng.random() < 0.8 else None,
                "goals": tuple(sorted(rng.sample(range(n_goals), k=n_goal_links))),
                "departments": tuple(rng.sample(DEPARTMENT_NAMES, k=rng.choice([1, 1, 2]))),
            }
        )
    for i in TWINS:
        if i < n:
            specs[i].update(
                priority="must",
                status="accepted",
                departments=("Sales", "Customer service"),
                recent=True,
            )
    return specs


FIELDS = ("title", "description", "type", "priority", "module", "acceptance_criterion", "status")


def _history(final: dict[str, Any], n: int, rng: random.Random) -> list[dict[str, str]]:
    """The fields of ``n`` revisions ending with ``final``'s, oldest first: going back, each
    earlier revision differs from the next in one field, as a review changes a requirement."""
    current = {f: final[f] for f in FIELDS}
    revisions = [current]
    for _ in range(n - 1):
        earlier = dict(current)
        change = rng.choice(["status", "priority", "title", "description", "criterion", "module"])
        if change == "status":
            earlier["status"] = "proposed" if current["status"] != "proposed" else "deferred"
        elif change == "priority":
            earlier["priority"] = rng.choice([p for p in PRIORITIES if p != current["priority"]])
        elif change == "title":
            title = current["title"]
            earlier["title"] = (
                title.removesuffix(" (draft)") if title.endswith(" (draft)") else title + " (draft)"
            )
        elif change == "description":
            text = current["description"]
            earlier["description"] = (
                text.rsplit("\n\n", 1)[0]
                if "\n\n" in text
                else (text + "\n\n" + rng.choice(NOTES)).strip()
            )
        elif change == "criterion":
            earlier["acceptance_criterion"] = (
                "" if current["acceptance_criterion"] else rng.choice(CRITERIA)
            )
        else:
            earlier["module"] = rng.choice([m for m in MODULES if m != current["module"]])
        revisions.append(earlier)
        current = earlier
    return revisions[::-1]


def _users(session: Any) -> dict[str, int]:
    """The lead and the owners: username -> user id."""
    from planner.core.accounts.service import create_user
    from planner.demo import DEMO_PASSWORD

    people = [LEAD] + [(u, name) for u, name, _ in OWNERS]
    return {u: create_user(session, u, DEMO_PASSWORD, display_name=name).id for u, name in people}


def _rollout(session: Any, users: dict[str, int], name: str, n_goals: int) -> Rollout:
    """A rollout with the usual departments and two more, the owners as reviewers, and
    ``n_goals`` goals from the demo's (a branch in brackets: their first lines are unique)."""
    from planner.core.accounts.models import User
    from planner.core.permissions import Role
    from planner.demo import GOALS
    from planner.goals import service as goals
    from planner.projects import service as projects

    lead = session.get(User, users[LEAD[0]])
    project = projects.create_project(
        session,
        lead,
        name=f"CRM rollout — {name}",
        company="Carpathia Distribution SRL",
        solution_kind="off_the_shelf",
        strategy="phased",
    )
    access = projects.Access(project=project, user=lead, role=Role.LEAD)
    for dept in EXTRA_DEPARTMENTS:
        projects.add_department(session, access, dept)
    depts = {d.name: d.id for d in projects.departments(session, project.id)}
    for username, _name, dept in OWNERS:
        projects.add_member(
            session, access, username=username, role=Role.REVIEWER, department_id=depts[dept]
        )
    goal_ids, first_lines = [], []
    for j in range(n_goals):
        statement, original, dept, _kpis = GOALS[j % len(GOALS)]
        first = statement + BRANCHES[(j // len(GOALS)) % len(BRANCHES)]
        text = first + (f"\n\nRO: „{original}“" if original else "")
        goal_ids.append(
            goals.create_goal(session, access, statement=text, department_id=depts[dept]).id
        )
        first_lines.append(first)
    owners = {u: users[u] for u, _, _ in OWNERS}
    return Rollout(project.id, goal_ids, first_lines, depts, owners)


def _access(session: Any, project_id: int, users: dict[str, int]) -> Any:
    """The lead's access to the rollout, loaded in ``session``."""
    from planner.core.accounts.models import User
    from planner.core.permissions import Role
    from planner.projects import service as projects
    from planner.projects.models import Project

    project = session.get(Project, project_id)
    lead = session.get(User, users[LEAD[0]])
    return projects.Access(project=project, user=lead, role=Role.LEAD)


def _register(
    session: Any,
    users: dict[str, int],
    rollout: Rollout,
    specs: list[dict[str, Any]],
    n_revisions: int,
    seed: int,
) -> None:
    """The register of ``specs``, each requirement at revision ``n_revisions`` (see the
    module's docstring: created through the service, later revisions in bulk)."""
    from planner.core.db import utcnow
    from planner.requirements import service
    from planner.requirements.models import Requirement, RequirementRevision
    from planner.requirements.records import key_of

    rng = random.Random(seed)
    access = _access(session, rollout.project_id, users)
    lead = access.user
    now = utcnow()
    revision_rows: list[dict[str, Any]] = []
    requirement_rows: list[dict[str, Any]] = []
    first_rows: list[dict[str, Any]] = []
    for spec in specs:
        history = _history(spec, n_revisions, rng)
        owner = spec["owner"]
        req = service.create_requirement(
            session,
            access,
            **history[0],
            owner_id=rollout.owners[owner] if owner else None,
            goal_ids=[rollout.goal_ids[g] for g in spec["goals"]],
            department_ids=[rollout.departments[d] for d in spec["departments"]],
        )
        base = service.snapshot(req)
        at = now - timedelta(days=110) + timedelta(hours=rng.uniform(0, 240))
        first_rows.append({"b_rid": req.id, "b_at": at})
        for number, fields in enumerate(history[1:], start=2):
            at += timedelta(hours=rng.uniform(12, 110))
            revision_rows.append(
                {
                    "requirement_id": req.id,
                    "number": number,
                    "snapshot": {**base, **fields},
                    "changed_by_id": lead.id,
                    "changed_by_name": lead.name,
                    "changed_at": at,
                }
            )
        if spec.get("recent"):  # changed last, minutes ago
            at = now - timedelta(minutes=rng.uniform(5, 60))
            if revision_rows and revision_rows[-1]["requirement_id"] == req.id:
                revision_rows[-1]["changed_at"] = at
        last = history[-1]
        requirement_rows.append(
            {
                "b_id": req.id,
                **{f"b_{f}": last[f] for f in FIELDS},
                "b_search_text": service.search_key(
                    f"{key_of(req.number)} {last['title']}\n{last['description']}"
                ),
                "b_revision": n_revisions,
                "b_version": n_revisions,
                "b_created_at": first_rows[-1]["b_at"],
                "b_updated_at": at,
            }
        )
    session.flush()
    for start in range(0, len(revision_rows), 5000):
        session.execute(insert(RequirementRevision), revision_rows[start : start + 5000])
    table = Requirement.__table__
    session.execute(
        table.update()
        .where(table.c.id == bindparam("b_id"))
        .values(
            {
                **{f: bindparam(f"b_{f}") for f in FIELDS},
                "search_text": bindparam("b_search_text"),
                "revision": bindparam("b_revision"),
                "version": bindparam("b_version"),
                "created_at": bindparam("b_created_at"),
                "updated_at": bindparam("b_updated_at"),
            }
        ),
        requirement_rows,
    )
    revisions = RequirementRevision.__table__
    session.execute(
        revisions.update()
        .where(revisions.c.requirement_id == bindparam("b_rid"), revisions.c.number == 1)
        .values(changed_at=bindparam("b_at")),
        first_rows,
    )
    session.commit()


def _import_records(rollout: Rollout, n: int) -> list[Any]:
    """``n`` new requirements as a sheet carries them: no key, goals by their statement's first
    line, departments by name."""
    from planner.requirements.records import RequirementRecord

    return [
        RequirementRecord(
            key="",
            title=spec["title"],
            description=spec["description"],
            type=spec["type"],
            priority=spec["priority"],
            module=spec["module"],
            status=spec["status"],
            acceptance_criterion=spec["acceptance_criterion"],
            goals=tuple(rollout.goal_first_lines[g] for g in spec["goals"]),
            departments=spec["departments"],
        )
        for spec in _specs(n, len(rollout.goal_ids), seed=909)
    ]


# --- measuring -----------------------------------------------------------------------------


class Counter:
    """Statements executed on an engine since the last reset."""

    def __init__(self, engine: Any) -> None:
        self.n = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: object) -> None:
        self.n += 1

    def reset(self) -> None:
        self.n = 0


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def _import(
    session: Any, access: Any, data: bytes, counter: Counter, *, traced: bool
) -> tuple[list[Step], dict[str, Any]]:
    """Parse, plan and apply ``data`` as the import pages do; each step's time and statements,
    and the memory figures."""
    from planner.requirements import imports

    steps: list[Step] = []
    rss_before = _max_rss_mb()
    if traced:
        tracemalloc.start()

    def timed(name: str, work: Callable[[], Any]) -> Any:
        counter.reset()
        t = time.perf_counter()
        out = work()
        steps.append(Step(name, round(time.perf_counter() - t, 3), counter.n))
        return out

    def apply() -> Any:
        done = imports.apply_import(
            session, access, records, filename="register.xlsx", expected_digest=plan.digest
        )
        session.commit()
        return done

    try:
        records, kind = timed("parse (read_file)", lambda: imports.read_file(data, "x.xlsx"))
        plan = timed("dry run (plan_import)", lambda: imports.plan_import(session, access, records))
        done = timed("import (apply_import + commit)", apply)
    except imports.ImportRejected as exc:
        raise BenchError(f"the import was refused: {exc.detail}") from exc
    memory: dict[str, Any] = {}
    if traced:
        memory["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 1e6, 1)
        tracemalloc.stop()
    memory["max_rss_before_mb"] = round(rss_before, 1)
    memory["max_rss_after_mb"] = round(_max_rss_mb(), 1)
    if kind != "xlsx" or done.count("new") != len(records):
        raise BenchError(f"the import read {kind!r} and made {done.count('new')} requirements")
    return steps, memory


def _exports(session: Any, access: Any, counter: Counter, runs: int = 3) -> list[Step]:
    from planner.requirements import interchange, service

    out = []
    for fmt in ("xlsx", "csv", "reqif"):
        times, size = [], 0
        for _ in range(runs):
            session.expunge_all()
            session.add(access.project)
            counter.reset()
            t = time.perf_counter()
            size = len(interchange.export(session, access, service.RegisterQuery(), fmt))
            times.append(time.perf_counter() - t)
        out.append(
            Step(
                f"export {fmt.upper()} (interchange.export)",
                round(statistics.median(times), 3),
                counter.n,
                {"bytes": size, "runs": runs},
            )
        )
    return out


def _time_page(
    client: Any, path: str, headers: dict[str, str], counter: Counter, warmup: int, n: int
) -> tuple[list[float], list[int]]:
    for _ in range(warmup):
        resp = client.get(path, headers=headers)
        if resp.status_code != 200:
            raise BenchError(f"GET {path}: HTTP {resp.status_code}")
    times, counts = [], []
    for _ in range(n):
        counter.reset()
        t = time.perf_counter()
        resp = client.get(path, headers=headers)
        times.append((time.perf_counter() - t) * 1000)
        counts.append(counter.n)
        if resp.status_code != 200:
            raise BenchError(f"GET {path}: HTTP {resp.status_code}")
    return times, counts


def _sql(lo: int, hi: int) -> str:
    return str(hi) if lo == hi else f"{lo}-{hi}"


def run(args: argparse.Namespace) -> int:
    from flask_migrate import upgrade

    from planner import create_app, demo
    from planner.core.accounts.models import User
    from planner.core.accounts.service import create_token
    from planner.extensions import db
    from planner.requirements import sheets
    from planner.requirements.models import Requirement

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
    n = args.requirements
    sizes = {"small": (20, 2, 10), "large": (n, 20, 50)}  # requirements, revisions, goals
    with app.test_request_context():
        upgrade()
        session = db.session
        counter = Counter(db.engine)
        engine = db.engine
        users = _users(session)
        twins = {
            "import": _rollout(session, users, "import", 50),
            "import (traced)": _rollout(session, users, "import (traced)", 50),
        }
        session.commit()

        # The import first: max RSS is a high-water mark, the big register would hide it.
        records = _import_records(twins["import"], n)
        t = time.perf_counter()
        xlsx = sheets.export_register(records, "xlsx")
        make_s = time.perf_counter() - t
        imported: dict[str, Any] = {"rows": len(records), "xlsx_bytes": len(xlsx)}
        access = _access(session, twins["import"].project_id, users)
        steps, memory = _import(session, access, xlsx, counter, traced=False)
        session.remove()
        access = _access(session, twins["import (traced)"].project_id, users)
        traced_steps, traced_memory = _import(session, access, xlsx, counter, traced=True)
        session.remove()
        imported.update(
            memory,
            tracemalloc_peak_mb=traced_memory["tracemalloc_peak_mb"],
            traced_seconds={s.step: s.seconds for s in traced_steps},
        )

        t = time.perf_counter()
        rollouts: dict[str, Rollout] = {}
        for size, (count, revisions, n_goals) in sizes.items():
            rollouts[size] = _rollout(session, users, size, n_goals)
            session.commit()
            _register(
                session, users, rollouts[size], _specs(count, n_goals, seed=2026), revisions, 9
            )
        build_s = time.perf_counter() - t
        exports = _exports(session, _access(session, rollouts["large"].project_id, users), counter)
        first = {
            size: session.execute(
                db.select(Requirement.id, Requirement.revision).where(
                    Requirement.project_id == r.project_id, Requirement.number == 1
                )
            ).one()
            for size, r in rollouts.items()
        }
        _, token = create_token(session, session.get(User, users[LEAD[0]]), "benchmark")
        session.commit()
        session.remove()

    client = app.test_client()
    _login(client, LEAD[0], demo.DEMO_PASSWORD)
    bearer = {"Authorization": f"Bearer {token}"}

    print(
        f"{engine.dialect.name}, PLANNER_ENV={args.env}; registers built in {build_s:.1f} s "
        f"(small: 20 requirements x 2 revisions, 10 goals; large: {n:,} x 20 = "
        f"{n * 20:,} revisions, 50 goals); {args.warmup} warm-up + {args.requests} timed "
        "requests a page"
    )
    print()
    print("| page | route | register | median ms | p95 ms | SQL |")
    print("|---|---|---|---:|---:|---:|")
    rows: list[Row] = []
    growing: list[str] = []
    for name, route in PAGES:
        per_size = {}
        for size, r in rollouts.items():
            rid, last = first[size]
            path = route.format(pid=r.project_id, rid=rid, last=last, dept=r.departments["Sales"])
            headers = bearer if path.startswith("/api/") else {}
            times, counts = _time_page(client, path, headers, counter, args.warmup, args.requests)
            count, revisions, _goals = sizes[size]
            row = Row(
                page=name,
                route=route.format(pid="<id>", rid="<rid>", last="<last>", dept="<dept>"),
                rollout=size,
                requirements=count,
                revisions=count * revisions,
                median_ms=round(statistics.median(times), 2),
                p95_ms=round(_p95(times), 2),
                statements=max(counts),
                statements_min=min(counts),
                requests=args.requests,
            )
            rows.append(row)
            per_size[size] = (row.statements_min, row.statements)
            print(
                f"| {name} | `{row.route}` | {size} | {row.median_ms:.2f} | {row.p95_ms:.2f} "
                f"| {_sql(row.statements_min, row.statements)} |"
            )
        if per_size["small"] != per_size["large"]:
            growing.append(f"{name} {per_size['small']} -> {per_size['large']}")

    print()
    print(f"| import and export of {n:,} requirements | seconds | SQL | |")
    print("|---|---:|---:|---|")
    print(f"| make the XLSX (sheets.export_register) | {make_s:.3f} | 0 | {len(xlsx):,} bytes |")
    for s in steps:
        print(f"| {s.step} | {s.seconds:.3f} | {s.statements:,} | |")
    print(
        f"| whole import | {sum(s.seconds for s in steps):.3f} | "
        f"{sum(s.statements for s in steps):,} | tracemalloc peak "
        f"{imported['tracemalloc_peak_mb']:.1f} MB (a twin import, traced: "
        f"{sum(s.seconds for s in traced_steps):.1f} s); max RSS {memory['max_rss_before_mb']:.0f}"
        f" -> {memory['max_rss_after_mb']:.0f} MB |"
    )
    for s in exports:
        print(
            f"| {s.step} | {s.seconds:.3f} | {s.statements} | {s.detail['bytes']:,} bytes, "
            f"median of {s.detail['runs']} |"
        )

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
        + f"; large-register medians under {TARGET_MS:.0f} ms: "
        + ("yes, every page" if not slow else "NO: " + ", ".join(slow))
    )

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "database": engine.dialect.name,
                    "requests": args.requests,
                    "warmup": args.warmup,
                    "build_seconds": round(build_s, 1),
                    "rollouts": {
                        size: {
                            "project_id": rollouts[size].project_id,
                            "requirements": count,
                            "revisions": count * revisions,
                            "goals": n_goals,
                        }
                        for size, (count, revisions, n_goals) in sizes.items()
                    },
                    "pages": [asdict(r) for r in rows],
                    "import": {
                        **imported,
                        "make_xlsx_seconds": round(make_s, 3),
                        "steps": [asdict(s) for s in steps],
                    },
                    "exports": [asdict(s) for s in exports],
                    "statements_grow": growing,
                    "slow_pages": slow,
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
        print(f"figures written to {args.json}")
    engine.dispose()
    tmp.cleanup()
    return 1 if growing else 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        return run(args)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
