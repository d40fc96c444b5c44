"""The rollout's pages show what each area registers (panels, overdue notices) without the
rollout importing the areas; the number of SQL statements does not grow with their data."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event

from planner.artifacts import service as artifacts
from planner.core.permissions import Role
from planner.extensions import db
from planner.goals import service as goals
from planner.projects.phases import overview_panels, phase_panels
from planner.vendors import service as vendors


def test_areas_register_their_panels_from_their_own_folders(app):
    assert [p.name for p in overview_panels()] == ["goals.overview", "artifacts.overview"]
    assert [p.name for p in phase_panels("vendors")] == ["vendors.phase", "artifacts.phase"]
    assert [p.name for p in phase_panels("training")] == ["artifacts.phase"]
    assert all(p.template.split("/")[0] == p.name.split(".")[0] for p in overview_panels())


def test_overview_shows_goals_artifacts_and_overdue_kpis(client, factory, login_as):
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead)
    access = factory.lead_access(project)
    goal = goals.create_goal(db.session, access, statement="Pipeline", department_id=None)
    goals.add_kpi(db.session, access, goal, name="Deals", due_date=date(2020, 1, 31))
    artifacts.upload(
        db.session,
        access,
        title="Interview minutes",
        phase_key="requirements",
        filename="m.txt",
        data=b"minutes\n",
        max_bytes=10_000,
    )
    db.session.commit()
    login_as("ana")
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "1 KPI is past its due date without a measurement." in html
    assert "1 goal." in html and "1 KPI lacks a baseline or a target." in html
    assert "Requirements</a>: 1" in html and "1 file in all" in html
    assert "Nothing is overdue." not in html


def test_an_empty_rollout_says_so_in_every_panel(client, factory, login_as):
    project = factory.project(factory.user("ana"))
    login_as("ana")
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "No goals yet" in html and "No files yet." in html and "Nothing is overdue." in html
    html = client.get(f"/projects/{project.id}/phases/vendors").get_data(as_text=True)
    assert "No vendors or criteria yet." in html and "No files yet: proposals" in html


def test_vendors_phase_page_shows_the_board_at_a_glance(client, factory, login_as):
    lead = factory.user("ana")
    project = factory.project(lead)
    factory.member(project, factory.user("rev"), Role.REVIEWER, "Sales")
    access = factory.lead_access(project)
    vendors.create_vendor(db.session, access, name="Salesforce", cost_3y=1000.0)
    vendors.create_criterion(db.session, access, name="Functionality", weight=1.0)
    vendors.set_round_state(db.session, access, action="open")
    db.session.commit()
    login_as("ana")
    html = client.get(f"/projects/{project.id}/phases/vendors").get_data(as_text=True)
    assert "1 vendor · 1 criterion · scoring round: open · 0 of 1 reviewers submitted" in " ".join(
        html.split()
    )


VENDOR_NAMES = [
    "Salesforce",
    "HubSpot",
    "Microsoft Dynamics",
    "Zoho",
    "Pipedrive",
    "Bitrix24",
    "amoCRM",
    "SugarCRM",
    "Freshworks",
    "Creatio",
    "Oracle CX",
    "SAP Sales Cloud",
]


def _statements(app, client, path: str) -> int:
    count = [0]

    def tick(*_a):
        count[0] += 1

    event.listen(db.engine, "before_cursor_execute", tick)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", tick)
    return count[0]


def test_panels_run_a_constant_number_of_statements(app, client, factory, login_as):
    """One of everything, then twelve: the statements stay the same. (From none to one, a
    panel may add a statement: an eager load runs only when there are rows to load for.)"""
    lead = factory.user("ana")
    project = factory.project(lead)
    login_as("ana")
    pages = [f"/projects/{project.id}", f"/projects/{project.id}/phases/vendors"]
    access = factory.lead_access(project)

    def add(i: int) -> None:
        goal = goals.create_goal(db.session, access, statement=f"Goal {i}", department_id=None)
        goals.add_kpi(db.session, access, goal, name="KPI", due_date=date(2020, 1, 1))
        artifacts.upload(
            db.session,
            access,
            title=f"File {i}",
            phase_key="vendors",
            filename=f"f{i}.txt",
            data=f"file {i}\n".encode(),
            max_bytes=10_000,
        )
        vendors.create_vendor(db.session, access, name=VENDOR_NAMES[i])
        db.session.commit()

    add(0)
    before = [_statements(app, client, p) for p in pages]
    for i in range(1, 12):
        add(i)
    assert [_statements(app, client, p) for p in pages] == before
