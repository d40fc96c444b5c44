"""The demo's accounts and the vendor board: the board's scores of the small demo, and the
volume the benchmarks need (``size="large"``: many goals, reviewers, vendors and criteria)."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from planner.core import audit
from planner.core.accounts.models import User
from planner.core.accounts.service import create_user, find_user
from planner.core.audit import AuditEvent
from planner.core.db import utcnow
from planner.core.permissions import Role
from planner.demo.content import BOARD, DEMO_PASSWORD, DEMO_SCORES, GOALS, VENDORS
from planner.goals.models import KPI, Goal
from planner.projects import service as projects
from planner.projects.models import Department, Membership, Project


def account(session: Session, username: str, name: str, *, admin: bool = False) -> User:
    user = find_user(session, username)
    if user is None:
        user = create_user(session, username, DEMO_PASSWORD, display_name=name, is_admin=admin)
    return user


def large_volume(
    session: Session, project: Project, lead: User, depts: dict[str, Department], rng: random.Random
) -> None:
    """Bulk volume for benchmarks: 20 reviewers, 2,000 goals with 3 KPIs each, 20,000 events."""
    dept_ids = [d.id for d in depts.values()]
    for i in range(20):
        username = f"reviewer{i:02d}"
        user = account(session, username, f"Reviewer {i:02d}")
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


def vendor_board(
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


def large_board(session: Session, project: Project, lead: User, rng: random.Random) -> None:
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
