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
from sqlalchemy.orm import Session

from planner.core.db import utcnow
from planner.core.encryption import from_config
from planner.core.permissions import Role
from planner.demo.board import account, large_board, large_volume, vendor_board
from planner.demo.content import BOARD, DEMO_PASSWORD, GOALS, REQUIREMENTS, STRATEGY, VISION
from planner.demo.phases import (
    design_work,
    interviews,
    passed_phases,
    requirements_work,
    spread_history,
)
from planner.goals import service as goals
from planner.migration import demo as migration_demo
from planner.projects import service as projects
from planner.projects.phases import SolutionKind, Strategy
from planner.spec import demo as spec_demo

__all__ = ["DEMO_PASSWORD", "GOALS", "REQUIREMENTS", "DemoResult", "load"]


@dataclass(frozen=True)
class DemoResult:
    project_id: int
    logins: list[tuple[str, str]]


def load(session: Session, size: str = "small", seed: int = 2026) -> DemoResult:
    """Create the demo accounts and one demo rollout (another one on every call)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    account(session, "admin", "Site admin", admin=True)
    users = {u: account(session, u, n) for u, n, _, _ in BOARD}
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
    interviews(session, access, depts, users, today)
    requirements_work(session, access, depts, made, users)
    design_work(session, access, users)
    passed_phases(session, access, today)
    spec_demo.load(
        session,
        access,
        projects.Access(project=project, user=users["legal"], role=Role.REVIEWER),
        [users["ceo"].id],
    )
    migration_demo.load(session, access, from_config(current_app.config))
    if size == "large":
        large_volume(session, project, lead, depts, rng)
        large_board(session, project, lead, rng)
    else:
        vendor_board(session, access, users, rng)
    session.flush()
    spread_history(session, project.id, today - timedelta(days=84))
    logins = [("admin", DEMO_PASSWORD)] + [(u, DEMO_PASSWORD) for u, *_ in BOARD]
    return DemoResult(project.id, logins)
