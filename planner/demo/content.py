"""The demo rollout's content, from the source documents (see shared/DOMAIN.md): the board,
the vision and strategy, the goals (seed 000, with the Romanian originals), the requirements,
the interviews, the design's modules, the files of the phases done, the vendors and their
scores."""

from __future__ import annotations

from planner.core.permissions import Role

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
