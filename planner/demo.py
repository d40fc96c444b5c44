"""A realistic demo rollout built from the source documents (see shared/DOMAIN.md).

Goals come from seed 000 (with the Romanian originals), the departments and review board from
seed 001, the vision from seeds 001/002, a Hebrew and a German note from seeds 002/003.
``size="large"`` adds the volume the benchmarks need.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from planner.core import audit
from planner.core.accounts.models import User
from planner.core.accounts.service import create_user, find_user
from planner.core.audit import AuditEvent
from planner.core.db import utcnow
from planner.core.encryption import from_config
from planner.core.permissions import Role
from planner.goals import service as goals
from planner.goals.models import KPI, Goal
from planner.migration import demo as migration_demo
from planner.projects import service as projects
from planner.projects.models import Department, Membership, Project
from planner.projects.phases import PhaseStatus, SolutionKind, Strategy
from planner.spec import demo as spec_demo

DEMO_PASSWORD = "demo-rollout-2026"  # noqa: S105 - printed to the user; demo data only

BOARD = [
    ("lead", "Ana Popescu (project lead)", Role.LEAD, None),
    ("ceo", "Li Wei (executive sponsor)", Role.EXECUTIVE, None),
    ("sales", "Mihai Ionescu (head of sales)", Role.REVIEWER, "Sales"),
    ("service", "张敏 (head of customer service)", Role.REVIEWER, "Customer service"),
    ("marketing", "Noa Levi (marketing)", Role.REVIEWER, "Marketing"),
    ("it", "Jonas Becker (IT)", Role.REVIEWER, "IT"),
    ("legal", "Ioana Dumitrescu (legal)", Role.REVIEWER, "Legal"),
    ("finance", "Wang Fang (finance)", Role.REVIEWER, "Finance"),
    ("staff", "Sales staff (viewer)", Role.VIEWER, None),
]

VISION = """\
We adopt a CRM so that every customer interaction is recorded, every manager sees their own
pipeline, and the client base belongs to the company, not to individual people.

> 实施CRM系统之前，进行详尽的需求调研与分析是至关重要的一步。

> קבל תמיכה מהמנהל העליון. זה יבטיח כי בניית מערכת CRM אינה נתפסת כפרויקט IT.
"""

STRATEGY = """\
1. Every department (sales, customer service, marketing, IT, legal, finance) states its needs
   through questionnaires and interviews, frontline staff and managers alike.
2. A cross-department board scores the vendors on a weighted matrix.
3. Phased introduction: sales first, then customer service, then marketing.
4. *Für viele Unternehmen ist der Umzug in ein neues CRM ein verantwortungsbewusster Schritt*:
   back up first, migrate a pilot group, verify, then the rest.
"""

# (statement, Romanian original from seed 000, department, [(kpi, unit, baseline, target, how)])
GOALS = [
    (
        "A sales pipeline that optimises the business processes",
        "un transportor de vânzări, optimizarea proceselor de afaceri",
        "Sales",
        [
            (
                "Deals tracked in the pipeline",
                "%",
                20,
                95,
                "Share of open deals with a pipeline stage",
            )
        ],
    ),
    (
        "A transparent sales management system",
        "un sistem de management de vânzări transparent",
        "Sales",
        [("Weekly pipeline review held", "reviews/month", 0, 4, "Count of review meetings")],
    ),
    (
        "Less dependence on the “human factor”",
        "reducerea influenței „factorului uman“ în activitatea companiei",
        "Customer service",
        [("Customer records with a named owner", "%", 55, 100, "Report of records without owner")],
    ),
    (
        "Safety of the client base",
        "siguranță a bazei de clienti",
        "IT",
        [("Restore rehearsals passed", "per quarter", 0, 1, "Backup restore drill log")],
    ),
    (
        "The whole client database moved into the CRM",
        "Transferul și eficientiza întreaga bază de date pentru clienți în CRM",
        "IT",
        [("Client records migrated", "%", 0, 100, "Rows in CRM / rows in the old system")],
    ),
    (
        "Each manager sees only their own clients",
        "Restricționarea accesului la managerii de date, astfel încât fiecare ar putea vedea doar "
        "clienții lor",
        "Legal",
        [("Managers with restricted visibility", "%", 0, 100, "Role audit of CRM accounts")],
    ),
    (
        "No bulk export of the client database",
        "Exclude posibilitatea de descărcare a unei baze de date",
        "Legal",
        [("Bulk exports by non-admins", "per month", 12, 0, "CRM export log")],
    ),
    (
        "The head can enable or disable access to individual blocks of information",
        "Se lasă capul în orice moment pentru a activa sau dezactiva accesul utilizatorilor la "
        "blocuri individuale de informații",
        "IT",
        [("Access changes done without a vendor ticket", "%", 0, 100, "Admin change log")],
    ),
    (
        "客服部门：优化客户投诉处理流程 (complaint handling)",
        "",
        "Customer service",
        [("Median complaint resolution time", "hours", 72, 24, "Ticket timestamps")],
    ),
]


# The register the departments' questionnaires and interviews produced (seed 001): title,
# type, priority, module, source department, goals served (their index in GOALS), acceptance
# criterion, description.
REQUIREMENTS = [
    (
        "Real-time tracking of every customer interaction",
        "functional",
        "must",
        "Sales process",
        "Sales",
        (0, 1),
        "A call, e-mail or meeting logged by a manager shows on the customer's card within "
        "one minute, for every manager of the pilot group.",
        "Sales needs to see **every** interaction as it happens, from frontline staff to the "
        "head of sales.\n\nRO: „urmărirea în timp real a interacțiunilor cu clienții”",
    ),
    (
        "A pipeline with stages the sales managers agreed",
        "functional",
        "must",
        "Sales process",
        "Sales",
        (0, 1),
        "Each open deal has one of the agreed stages; the weekly review reads the pipeline "
        "report without a spreadsheet.",
        "",
    ),
    (
        "Complaint handling with deadlines and escalation",
        "functional",
        "must",
        "Service and complaints",
        "Customer service",
        (8, 2),
        "A complaint gets an owner at once, a 24-hour deadline, and escalates to the head of "
        "customer service when the deadline passes.",
        "客服部门需要完善的客户投诉处理功能。",
    ),
    (
        "Every customer record has a named owner",
        "data",
        "must",
        "Customer records",
        "Customer service",
        (2,),
        "The report of records without an owner is empty after the migration.",
        "",
    ),
    (
        "Managers see only their own clients",
        "security",
        "must",
        "Customer records",
        "Legal",
        (5,),
        "A manager's search finds no client of another manager; checked with two test accounts.",
        "",
    ),
    (
        "No bulk export except by administrators",
        "security",
        "must",
        "Customer records",
        "Legal",
        (6,),
        "An export of more than 50 records by a non-administrator is refused and logged.",
        "",
    ),
    (
        "Access to blocks of information switched by the head",
        "security",
        "should",
        "Customer records",
        "IT",
        (7,),
        "The head of sales turns a block off for a manager without a vendor ticket.",
        "",
    ),
    (
        "Nightly backups with a quarterly restore rehearsal",
        "non_functional",
        "must",
        "Integrations",
        "IT",
        (3,),
        "The restore drill brings back yesterday's data in under four hours.",
        "",
    ),
    (
        "The old Bitrix24 export imported with phones and birthdays in one format",
        "data",
        "must",
        "Integrations",
        "IT",
        (4,),
        "Every migrated phone is in E.164 and every birthday in ISO 8601; the pilot group's "
        "records read correctly in the new CRM.",
        "",
    ),
    (
        "Campaign lists built from the customer records",
        "functional",
        "could",
        "Marketing",
        "Marketing",
        (0,),
        "",
        "",
    ),
    (
        "Invoices visible on the customer's card",
        "integration",
        "should",
        "Integrations",
        "Finance",
        (1,),
        "The card shows the last five invoices from the accounting system.",
        "",
    ),
]


@dataclass(frozen=True)
class DemoResult:
    project_id: int
    logins: list[tuple[str, str]]


def _user(session: Session, username: str, name: str, *, admin: bool = False) -> User:
    user = find_user(session, username)
    if user is None:
        user = create_user(session, username, DEMO_PASSWORD, display_name=name, is_admin=admin)
    return user


def load(session: Session, size: str = "small", seed: int = 2026) -> DemoResult:
    """Create the demo accounts and one demo rollout (another one on every call)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    _user(session, "admin", "Site admin", admin=True)
    users = {u: _user(session, u, n) for u, n, _, _ in BOARD}
    lead = users["lead"]
    project = projects.create_project(
        session,
        lead,
        name="CRM rollout — Carpathia Distribution" + (" (large)" if size == "large" else ""),
        company="Carpathia Distribution SRL",
        description="From spreadsheets and a legacy Bitrix24 export to one CRM for sales, "
        "customer service and marketing.",
        solution_kind=SolutionKind.OFF_THE_SHELF,
        strategy=Strategy.PHASED,
    )
    session.flush()
    access = projects.Access(project=project, user=lead, role=Role.LEAD)
    depts = {d.name: d for d in projects.departments(session, project.id)}
    for username, _, role, dept in BOARD:
        if role == Role.LEAD:
            continue
        projects.add_member(
            session,
            access,
            username=username,
            role=role,
            department_id=depts[dept].id if dept else None,
        )
    projects.update_project(session, access, version=None, vision=VISION, strategy_text=STRATEGY)
    today = utcnow().date()
    # The story: goals and requirements passed, the solution design passed, vendor selection
    # under way with its round open, the rest ahead; dates that agree with it.
    plan = {  # key: (planned start, planned end) in days from today
        "goals": (-84, -63),
        "requirements": (-63, -35),
        "design": (-42, -21),
        "vendors": (-21, 14),
        "spec": (14, 42),
        "migration": (42, 70),
        "testing": (63, 91),
        "training": (84, 105),
        "golive": (105, 119),
    }
    for key, (start, end) in plan.items():
        ph = projects.get_phase(session, project.id, key)
        projects.update_phase(
            session,
            access,
            ph,
            version=None,
            owner_id=lead.id,
            planned_start=today + timedelta(days=start),
            planned_end=today + timedelta(days=end),
        )
    goals_phase = projects.get_phase(session, project.id, "goals")
    projects.start_phase(session, access, goals_phase)
    item = projects.add_checklist_item(
        session, access, goals_phase, "Goals reviewed with every department head"
    )
    projects.set_checklist_item(session, access, goals_phase, item.id, True)
    made = []
    for statement, original, dept, kpis in GOALS:
        text = statement + (f"\n\nRO: „{original}“" if original else "")
        goal = goals.create_goal(session, access, statement=text, department_id=depts[dept].id)
        made.append(goal)
        for name, unit, baseline, target, how in kpis:
            goals.add_kpi(
                session,
                access,
                goal,
                name=name,
                unit=unit,
                baseline=baseline,
                target=target,
                measurement_method=how,
                due_date=today + timedelta(days=rng.randint(60, 240)),
            )
    _intake(session, access, depts, users, today)
    _requirements(session, access, depts, made, users)
    _design(session, access, users)
    _passed_phases(session, access, today)
    spec_demo.load(
        session,
        access,
        projects.Access(project=project, user=users["legal"], role=Role.REVIEWER),
        [users["ceo"].id],
    )
    migration_demo.load(session, access, from_config(current_app.config))
    if size == "large":
        _large(session, project, lead, depts, rng)
        _large_board(session, project, lead, rng)
    else:
        _vendors(session, access, users, rng)
    session.flush()
    _spread_history(session, project.id, today - timedelta(days=84))
    logins = [("admin", DEMO_PASSWORD)] + [(u, DEMO_PASSWORD) for u, *_ in BOARD]
    return DemoResult(project.id, logins)


INTERVIEWS = [
    (
        "Sales",
        "Radu Marin",
        "frontline",
        "I keep my calls in a notebook; my manager asks me "
        "every Friday what happened with each client. I need to log a call in seconds.",
    ),
    (
        "Customer service",
        "王丽",
        "frontline",
        "投诉通过电话和电子邮件进来，没有统一的记录。"
        "\n\nComplaints come by phone and e-mail, with no single record.",
    ),
    (
        "Marketing",
        "Noa Levi",
        "manager",
        "נרצה רשימות קמפיין מתוך רשומות הלקוחות.\n\nCampaign lists from the customer records.",
    ),
    (
        "IT",
        "Jonas Becker",
        "manager",
        "The old Bitrix24 export has phones in five formats. "
        "**Backups** nightly, and a restore drill each quarter.",
    ),
    (
        "Legal",
        "Ioana Dumitrescu",
        "manager",
        "No bulk export of the client base; each manager sees only their own clients.",
    ),
    (
        "Finance",
        "Wang Fang",
        "manager",
        "Invoices on the customer's card would save the sales team many calls to accounting.",
    ),
]


def _intake(session, access, depts, users, today) -> None:
    """The intake as it went: the departments' questionnaires, the head of sales' answers
    submitted, the head of customer service's still a draft, an interview with each
    department."""
    from planner.requirements import intake

    intake.create_default_questionnaires(session, access)
    for dept, who, role, notes in INTERVIEWS:
        intake.add_interview(
            session,
            access,
            department_id=depts[dept].id,
            interviewee=who,
            role=role,
            held_on=today - timedelta(days=60),
            notes=notes,
        )
    for username, submit in (("sales", True), ("service", False)):
        member = projects.load_access(session, access.project.id, users[username])
        q = intake.own_questionnaire(session, member)
        answers = []
        for question in q.questions:
            if question.kind == intake.QuestionKind.IMPORTANCE:
                answers.append(intake.AnswerInput(question.id, importance=5))
            elif question.options:
                answers.append(intake.AnswerInput(question.id, choices=(question.options[0],)))
            else:
                answers.append(
                    intake.AnswerInput(question.id, text="Every call and e-mail on the card.")
                )
        intake.save_answers(session, member, q, answers, submit=submit)


def _requirements(session, access, depts, made, users) -> None:
    """The register as the requirements phase left it: accepted, traced to the goals and the
    departments, one requirement revised after the board's review."""
    from planner.requirements import service as requirements

    owners = {"Sales": "sales", "Customer service": "service", "Legal": "legal", "IT": "it"}
    for title, kind, priority, module, dept, served, criterion, text in REQUIREMENTS:
        owner = users.get(owners.get(dept, "lead"))
        req = requirements.create_requirement(
            session,
            access,
            title=title,
            description=text,
            type=kind,
            priority=priority,
            module=module,
            acceptance_criterion=criterion,
            status="proposed",
            owner_id=owner.id if owner else None,
            goal_ids=[made[i].id for i in served],
            department_ids=[depts[dept].id],
        )
        requirements.update_requirement(
            session,
            access,
            req,
            version=None,
            **{**_values(req), "status": "accepted" if priority != "could" else "deferred"},
        )


DESIGN_MODULES = [
    (
        "Customer records",
        "One card per customer: owner, interactions, invoices.",
        ("Customer records", "Integrations"),
    ),
    ("Sales process", "Leads, the agreed pipeline stages, the weekly review.", ("Sales process",)),
    (
        "Service and complaints",
        "Complaints with a 24-hour deadline and escalation.",
        ("Service and complaints",),
    ),
]


def _design(session, access, users) -> None:
    """The solution design as the board left it: an off-the-shelf CRM in three modules that
    cover every accepted requirement, version 1 reviewed by the board and approved by the
    executive sponsor."""
    from planner.design import service as design
    from planner.requirements import service as requirements

    design.update_design(
        session,
        access,
        version=None,
        solution_kind="off_the_shelf",
        summary="An off-the-shelf CRM, customised in three modules; marketing follows later.",
        processes="Lead to order; complaint to resolution; the weekly pipeline review.",
        integrations="Accounting (invoices on the card), e-mail, telephony.",
        organisational_fit="Managers see their own clients; the heads of department see all.",
        growth_plans="Marketing campaigns in the second year; a second sales office.",
        cost_estimate="Licences for 40 users, the vendor's setup and two months of support.",
        risks="Staff resistance (training early); messy Bitrix24 data (clean before moving).",
    )
    by_module: dict[str, list[int]] = {}
    for r in requirements.register_page(
        session, access.project.id, requirements.RegisterQuery(), 1, 1000
    ).items:
        if r.status.value == "accepted":
            by_module.setdefault(r.module, []).append(r.id)
    for name, text, modules in DESIGN_MODULES:
        design.add_module(
            session,
            access,
            name=name,
            description=text,
            requirement_ids=[rid for m in modules for rid in by_module.get(m, [])],
        )
    version = design.submit_version(session, access)
    indicators = design.indicators(session, access.project.id)
    for username, scores in (("sales", (5, 4, 4)), ("it", (4, 3, 2)), ("legal", (4, 4, 5))):
        member = projects.load_access(session, access.project.id, users[username])
        design.save_scores(
            session,
            member,
            version,
            [design.ScoreInput(i.id, s) for i, s in zip(indicators, scores, strict=True)],
            submit=True,
        )
    ceo = projects.load_access(session, access.project.id, users["ceo"])
    design.approve(
        session,
        ceo,
        version,
        shown_digest=design.digest_shown(version),
        meaning="approved_with_conditions",
        conditions="Marketing's campaign module is designed before the second year starts.",
        password=DEMO_PASSWORD,
    )


def _values(req) -> dict:
    return {
        "title": req.title,
        "description": req.description,
        "type": req.type.value,
        "priority": req.priority.value,
        "module": req.module,
        "acceptance_criterion": req.acceptance_criterion,
        "status": req.status.value,
        "owner_id": req.owner_id,
        "goal_ids": [g.id for g in req.goals],
        "department_ids": [d.id for d in req.departments],
    }


# Files of the phases that are done, as the lead would have kept them.
PHASE_FILES = {
    "goals": (
        "Goals workshop minutes",
        "goals-workshop.txt",
        "Workshop with the department heads: the goals and their KPIs agreed.\n",
    ),
    "requirements": (
        "Department interviews",
        "interviews.txt",
        "Interviews with sales, customer service, marketing, IT, legal and finance.\n",
    ),
    "design": (
        "Solution design, approved",
        "solution-design.txt",
        "Modules: customer records, sales process, service and complaints, reporting.\n",
    ),
}


def _passed_phases(session: Session, access: projects.Access, today) -> None:
    """Goals, requirements and design: started, their files kept, their gates passed; the
    vendor selection started. Actual dates as the plan had them."""
    from planner.artifacts import service as artifacts

    dates = {"goals": (-84, -63), "requirements": (-63, -35), "design": (-42, -21)}
    for key, (start, end) in dates.items():
        ph = projects.get_phase(session, access.project.id, key)
        if ph.status == PhaseStatus.NOT_STARTED:
            projects.start_phase(session, access, ph)
        title, filename, text = PHASE_FILES[key]
        artifacts.upload(
            session,
            access,
            title=title,
            phase_key=key,
            filename=filename,
            data=text.encode(),
            max_bytes=1_000_000,
        )
        projects.request_gate(session, access, ph)
        projects.decide_gate(session, access, ph, outcome="pass", comment="Reviewed by the board")
        ph.actual_start = today + timedelta(days=start)
        ph.actual_end = today + timedelta(days=end)


def _spread_history(session: Session, project_id: int, since) -> None:
    """Date the rollout's audit events over the weeks the story took, in their order (the demo
    is made in one go; its trail should read as twelve weeks of work). Demo data only: a
    direct UPDATE, as the audit trail's ORM guard refuses changes to events."""
    from datetime import datetime, time

    from sqlalchemy import update

    ids = list(
        session.scalars(
            select(AuditEvent.id).where(AuditEvent.project_id == project_id).order_by(AuditEvent.id)
        )
    )
    if not ids:
        return
    start = datetime.combine(since, time(9, 0), tzinfo=utcnow().tzinfo)
    span = utcnow() - start
    session.execute(  # one executemany, by primary key
        update(AuditEvent),
        [{"id": event_id, "at": start + span * (i / len(ids))} for i, event_id in enumerate(ids)],
    )


def _large(
    session: Session, project: Project, lead: User, depts: dict[str, Department], rng: random.Random
) -> None:
    """Bulk volume for benchmarks: 20 reviewers, 2,000 goals with 3 KPIs each, 20,000 events."""
    dept_ids = [d.id for d in depts.values()]
    for i in range(20):
        username = f"reviewer{i:02d}"
        user = _user(session, username, f"Reviewer {i:02d}")
        exists = session.scalar(
            select(Membership.id).where(
                Membership.project_id == project.id, Membership.user_id == user.id
            )
        )
        if not exists:
            session.add(
                Membership(
                    project_id=project.id,
                    user_id=user.id,
                    role=Role.REVIEWER,
                    department_id=dept_ids[i % len(dept_ids)],
                )
            )
    session.flush()
    now = utcnow()
    goal_rows = [
        {
            "project_id": project.id,
            "statement": f"Goal {i}: {GOALS[i % len(GOALS)][0]}",
            "department_id": dept_ids[i % len(dept_ids)],
            "position": 100 + i,
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "updated_by_id": lead.id,
        }
        for i in range(2000)
    ]
    session.execute(insert(Goal), goal_rows)
    goal_ids = session.scalars(
        select(Goal.id).where(Goal.project_id == project.id, Goal.position >= 100)
    ).all()
    kpi_rows = [
        {
            "goal_id": gid,
            "name": f"KPI {j + 1}",
            "unit": "%",
            "baseline": float(rng.randint(0, 50)),
            "target": float(rng.randint(60, 100)),
            "measurement_method": "Monthly report",
            "due_date": now.date() + timedelta(days=rng.randint(-30, 300)),
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "updated_by_id": lead.id,
        }
        for gid in goal_ids
        for j in range(3)
    ]
    session.execute(insert(KPI), kpi_rows)
    actions = ["goal.update", "kpi.update", "phase.update", "artifact.download", "member.update"]
    events = [
        {
            "at": now - timedelta(minutes=20000 - i),
            "project_id": project.id,
            "actor_id": lead.id,
            "actor_name": lead.username,
            "action": actions[i % len(actions)],
            "entity_type": actions[i % len(actions)].split(".")[0],
            "entity_id": rng.choice(goal_ids),
            "summary": f"bulk demo event {i}",
        }
        for i in range(20000)
    ]
    session.execute(insert(AuditEvent), events)
    audit.record(
        session,
        actor=lead,
        action="demo.large",
        entity_type="project",
        entity_id=project.id,
        project_id=project.id,
        summary="large demo volume loaded",
    )


VENDORS = [
    # (name, product, scope, support, updates, cost_3y) — market research as in seed 000 step 2
    (
        "Salesforce",
        "Sales Cloud Enterprise",
        "Sales, service, marketing; large app ecosystem",
        "24/7 premier support, named success manager",
        "Three major releases a year",
        410_000,
    ),
    (
        "Microsoft",
        "Dynamics 365 Sales",
        "Sales and service; Office 365 and Teams integration",
        "Partner-led support, business hours",
        "Monthly updates, two waves a year",
        350_000,
    ),
    (
        "HubSpot",
        "Sales Hub Professional",
        "Sales and marketing for mid-size teams",
        "Phone and chat support",
        "Continuous delivery",
        190_000,
    ),
    (
        "Bitrix24",
        "Bitrix24 Enterprise",
        "CRM with intranet and tasks; on-premise edition",
        "E-mail support, partner network",
        "Quarterly",
        95_000,
    ),
]

# Reviewer scores 0..5 per vendor, per default criterion (functionality, scalability,
# security, user experience, cost-effectiveness): a board that mostly agrees, with one clash.
DEMO_SCORES = {
    "Salesforce": [5, 5, 4, 4, 2],
    "Microsoft": [4, 4, 5, 3, 3],
    "HubSpot": [4, 3, 3, 5, 4],
    "Bitrix24": [3, 2, 2, 3, 5],
}


def _vendors(
    session: Session, access: projects.Access, users: dict[str, User], rng: random.Random
) -> None:
    """Vendors from the market research, seed 001's criteria, an open round, a busy board."""
    from planner.vendors import service as vendors
    from planner.vendors.models import Submission

    project = access.project
    ids = {}
    for name, product, scope, support, updates, cost in VENDORS:
        v = vendors.create_vendor(
            session,
            access,
            name=name,
            product=product,
            service_scope=scope,
            support=support,
            update_frequency=updates,
            cost_3y=float(cost),
            solution_kind="off_the_shelf",
        )
        ids[name] = v.id
    crits = vendors.add_default_criteria(session, access)
    vendors.set_round_state(session, access, action="open", two_envelopes=True)
    reviewer_names = [u for u, _, role, _ in BOARD if role == Role.REVIEWER]
    for i, username in enumerate(reviewer_names):
        reviewer = users[username]
        r_access = projects.Access(project=project, user=reviewer, role=Role.REVIEWER)
        items = []
        if username == "it":
            items = [vendors.ConflictItem(ids["Bitrix24"], "Former employer (until 2024)")]
        vendors.declare_conflicts(session, r_access, items)
        if i >= 5:  # the last reviewer has not started
            continue
        entries = []
        for name, base in DEMO_SCORES.items():
            for crit, b in zip(crits, base, strict=True):
                score = max(0, min(5, b + rng.choice([-1, 0, 0, 1])))
                if username == "legal" and name == "HubSpot" and crit.name == "Security":
                    score = 0  # the clash the board must settle
                entries.append(
                    vendors.ScoreInput(
                        ids[name], crit.id, score, "Data residency unclear" if score == 0 else ""
                    )
                )
        vendors.put_scores(session, r_access, entries)
        if username != "marketing":  # marketing's sheet is still a draft: it counts nowhere yet
            session.add(Submission(project_id=project.id, reviewer_id=reviewer.id))
    it = users["it"]
    vendors.recuse(
        session,
        access,
        reviewer_id=it.id,
        vendor_id=ids["Bitrix24"],
        reason="Declared conflict: former employer",
    )
    session.flush()


def _large_board(session: Session, project: Project, lead: User, rng: random.Random) -> None:
    """25 vendors × 40 criteria × 20 reviewers: 20,000 scores, inserted in bulk."""
    from planner.vendors.models import Criterion, Score, Submission, Vendor
    from planner.vendors.service import bump_revision, name_key

    now = utcnow()
    session.execute(
        insert(Vendor),
        [
            {
                "project_id": project.id,
                "name": f"Vendor {i:02d}",
                "name_key": name_key(f"Vendor {i:02d}"),
                "product": f"CRM suite {i}",
                "cost_3y": float(rng.randint(80, 600) * 1000),
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "updated_by_id": lead.id,
            }
            for i in range(25)
        ],
    )
    groups = ["functionality", "scalability", "security", "user experience", "cost-effectiveness"]
    session.execute(
        insert(Criterion),
        [
            {
                "project_id": project.id,
                "name": f"Criterion {i:02d}",
                "name_key": name_key(f"Criterion {i:02d}"),
                "group": groups[i % 5],
                "weight": float(rng.randint(1, 10)),
                "must_have": i % 13 == 0,
                "min_score": 2.0,
                "is_price": False,
                "position": 100 + i,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "updated_by_id": lead.id,
            }
            for i in range(40)
        ],
    )
    vendor_ids = session.scalars(
        select(Vendor.id).where(Vendor.project_id == project.id, Vendor.name.like("Vendor %"))
    ).all()
    crit_ids = session.scalars(
        select(Criterion.id).where(Criterion.project_id == project.id, Criterion.position >= 100)
    ).all()
    reviewer_ids = session.scalars(
        select(User.id).where(User.username.like("reviewer%")).order_by(User.username)
    ).all()
    quality = {vid: rng.uniform(1.5, 4.0) for vid in vendor_ids}
    session.execute(
        insert(Score),
        [
            {
                "project_id": project.id,
                "reviewer_id": rid,
                "vendor_id": vid,
                "criterion_id": cid,
                "score": max(0, min(5, round(quality[vid] + rng.gauss(0, 1)))),
                "comment": "",
                "updated_at": now,
            }
            for rid in reviewer_ids
            for vid in vendor_ids
            for cid in crit_ids
        ],
    )
    # every sheet submitted: only submitted scoresheets count in the results
    session.execute(
        insert(Submission),
        [
            {"project_id": project.id, "reviewer_id": rid, "submitted_at": now}
            for rid in reviewer_ids
        ],
    )
    bump_revision(session, projects.Access(project=project, user=lead, role=Role.LEAD))
