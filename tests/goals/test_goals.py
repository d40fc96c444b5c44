from sqlalchemy import func, select

from planner.extensions import db
from planner.goals.models import KPI, Goal, Measurement
from tests.conftest import csrf_token


def test_lead_adds_goal_kpi_and_measurement_through_pages(client, factory, login_as):
    lead = factory.user("lead")
    project = factory.project(lead)
    login_as("lead")
    base = f"/projects/{project.id}/goals"
    resp = client.post(
        f"{base}/new",
        data={
            "csrf_token": csrf_token(client, f"{base}/new"),
            "statement": "Restricționarea accesului: fiecare manager vede doar clienții lui",
            "department_id": "",
        },
    )
    assert resp.status_code == 302
    goal = db.session.scalar(select(Goal))
    detail = f"{base}/{goal.id}"
    resp = client.post(
        f"{detail}/kpis",
        data={
            "csrf_token": csrf_token(client, detail),
            "name": "Managers restricted",
            "unit": "%",
            "baseline": "0",
            "target": "100",
            "measurement_method": "Role audit",
            "due_date": "2027-03-01",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    kpi = db.session.scalar(select(KPI))
    assert (kpi.baseline, kpi.target) == (0, 100)
    resp = client.post(
        f"{detail}/kpis/{kpi.id}/measurements",
        data={
            "csrf_token": csrf_token(client, detail),
            "value": "42.5",
            "measured_on": "2026-11-01",
            "note": "pilot group",
        },
    )
    assert resp.status_code == 302
    page = client.get(detail).get_data(as_text=True)
    assert "42.5" in page and 'dir="auto"' in page and "Restricționarea" in page


def test_invalid_kpi_keeps_what_the_user_typed(client, factory, login_as):
    lead = factory.user("lead")
    project = factory.project(lead)
    goal = factory.goal(project, kpi=False)
    login_as("lead")
    detail = f"/projects/{project.id}/goals/{goal.id}"
    resp = client.post(
        f"{detail}/kpis",
        data={
            "csrf_token": csrf_token(client, detail),
            "name": "Response time",
            "unit": "hours",
            "baseline": "seventy",
            "target": "24",
        },
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert 'value="Response time"' in body and 'value="hours"' in body
    assert 'aria-invalid="true"' in body and "Not a valid float value" in body
    assert db.session.scalar(select(func.count()).select_from(KPI)) == 0


def test_deleting_a_goal_asks_first_and_removes_its_kpis(client, factory, login_as):
    lead = factory.user("lead")
    project = factory.project(lead)
    goal = factory.goal(project)
    login_as("lead")
    url = f"/projects/{project.id}/goals/{goal.id}/delete"
    page = client.get(url)
    assert page.status_code == 200 and "Delete this goal" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Goal)) == 1
    assert client.post(url, data={"csrf_token": csrf_token(client, url)}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Goal)) == 0
    assert db.session.scalar(select(func.count()).select_from(KPI)) == 0
    assert db.session.scalar(select(func.count()).select_from(Measurement)) == 0


def test_goals_list_is_paginated(client, factory, login_as):
    lead = factory.user("lead")
    project = factory.project(lead)
    for i in range(12):
        factory.goal(project, f"Goal number {i:02d}", kpi=False)
    login_as("lead")
    first = client.get(f"/projects/{project.id}/goals").get_data(as_text=True)
    assert "Goal number 00" in first and "Goal number 11" not in first
    assert "Page 1 of 2" in first
    second = client.get(f"/projects/{project.id}/goals?page=2").get_data(as_text=True)
    assert "Goal number 11" in second


def test_times_are_shown_in_the_users_time_zone(client, factory, login_as):
    from datetime import UTC, datetime

    from planner.core.audit import AuditEvent

    lead = factory.user("lead")
    lead.timezone = "Asia/Shanghai"
    db.session.commit()
    project = factory.project(lead)
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.project_id == project.id))
    assert ev.at.tzinfo is not None and ev.at.utcoffset() == datetime.now(UTC).utcoffset()
    login_as("lead")
    body = client.get(f"/projects/{project.id}/audit").get_data(as_text=True)
    shanghai = ev.at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert f"{shanghai.hour % 12 or 12}:{shanghai.minute:02d}" in body


def test_two_kpis_of_one_goal_cannot_share_a_name(client, factory, login_as, api_as):
    lead = factory.user("lead")
    project = factory.project(lead)
    goal = factory.goal(project, kpi=False)
    other = factory.goal(project, "Faster complaint handling", kpi=False)
    login_as("lead")
    detail = f"/projects/{project.id}/goals/{goal.id}"

    def add(name: str, goal_id: int = goal.id):
        page = f"/projects/{project.id}/goals/{goal_id}"
        return client.post(
            f"{page}/kpis",
            data={"csrf_token": csrf_token(client, page), "name": name, "unit": "zile"},
        )

    assert add("Ofertă → contract").status_code == 302
    dup = add("  ofertă   → CONTRACT ")
    body = dup.get_data(as_text=True)
    assert dup.status_code == 409
    assert "Another KPI of this goal is named" in body and "Ofertă → contract" in body
    assert 'value="  ofertă   → CONTRACT "' in body  # what was typed is kept
    assert add("Ofertă → contract", other.id).status_code == 302  # another goal may
    assert db.session.scalar(select(func.count()).select_from(KPI)) == 2
    # Renaming one KPI to its sibling's name is refused too, in the API as on the page.
    api = api_as(lead)
    second = api.post(f"/projects/{project.id}/goals/{goal.id}/kpis", {"name": "Lead time"})
    assert second.status_code == 201
    renamed = api.patch(
        f"/projects/{project.id}/kpis/{second.json['id']}",
        {"name": "OFERTĂ → CONTRACT", "version": second.json["version"]},
    )
    assert renamed.status_code == 409, renamed.json
    assert renamed.json["errors"] == {
        "name": ["Another KPI of this goal is named “Ofertă → contract”."]
    }
    assert detail
