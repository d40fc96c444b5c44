"""The main pages, in Chromium: axe-core finds no serious or critical accessibility violation,
and at a phone's width (390 px) no page is wider than the screen (wide tables scroll inside
their own box)."""

from __future__ import annotations

from datetime import date

import pytest
from axe_playwright_python.sync_playwright import Axe

from planner.core.permissions import Role
from planner.extensions import db
from planner.goals import service as goals
from planner.vendors import service as vendors
from tests.factories import Factory

pytestmark = pytest.mark.browser


def _rollout(factory) -> int:
    """A rollout with a goal and KPI, departments, a reviewer, and a vendor board."""
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead, name="CRM-Einführung — Carpathia")
    access = factory.lead_access(project)
    goal = goals.create_goal(
        db.session, access, statement="客户投诉在48小时内处理", department_id=None
    )
    goals.add_kpi(
        db.session,
        access,
        goal,
        name="Complaints closed within 48 h",
        unit="%",
        baseline=40,
        target=90,
        due_date=date(2027, 6, 30),
    )
    mihai = factory.member(
        project, factory.user("mihai", name="Mihai Ionescu"), Role.REVIEWER, "Sales"
    )
    for name, cost in (("Salesforce", 410_000.0), ("HubSpot", 190_000.0), ("Bitrix24", 90_000.0)):
        vendors.create_vendor(db.session, access, name=name, cost_3y=cost)
    for name, weight in (("Functionality", 3.0), ("Security", 2.0), ("Support", 1.0)):
        vendors.create_criterion(db.session, access, name=name, weight=weight)
    vendors.set_round_state(db.session, access, action="open", two_envelopes=True)
    vendors.declare_conflicts(db.session, factory.access(project, mihai), [])
    db.session.commit()
    return project.id


def _pages(pid: int) -> list[str]:
    return [
        "/",
        f"/projects/{pid}",
        f"/projects/{pid}/goals",
        f"/projects/{pid}/members",
        f"/projects/{pid}/phases/goals",
        f"/projects/{pid}/phases/vendors",
        f"/projects/{pid}/vendors",
        f"/projects/{pid}/vendors/evaluation",
        f"/projects/{pid}/vendors/decision",
        f"/projects/{pid}/audit",
        "/profile",
    ]


def _log_in(page, username: str = "ana") -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(Factory.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Your CRM rollouts").wait_for()


def test_main_pages_are_accessible_and_fit_a_phone_screen(browser_page, factory):
    """One rollout, one browser: the axe pass at desktop width, the phone pass, then the
    reviewer's scoresheet grid with the keyboard."""
    page = browser_page
    pid = _rollout(factory)
    _log_in(page)
    axe = Axe()
    found: dict[str, list[str]] = {}
    # every kind of page once (the vendors phase page is the goals phase page's template)
    for path in [p for p in _pages(pid) if not p.endswith("/phases/vendors")]:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        results = axe.run(page)
        serious = [
            f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if serious:
            found[path] = serious
    assert found == {}
    page.set_viewport_size({"width": 390, "height": 844})
    too_wide = {}
    for path in _pages(pid):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            too_wide[path] = width
    assert too_wide == {}
    # The reviewer's scoresheet grid: vendors across, the arrow keys, a refused 2.5 kept.
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    _log_in(page, "mihai")
    page.goto(f"/projects/{pid}/vendors/scoresheet")
    headers = page.locator("table.score-grid thead th").all_inner_texts()
    assert headers[2:] == ["Bitrix24", "HubSpot", "Salesforce"]  # vendors across
    first = page.get_by_label("Score of Bitrix24 on Functionality")
    first.focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == page.get_by_label(
        "Score of HubSpot on Functionality"
    ).get_attribute("id")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == page.get_by_label(
        "Score of HubSpot on Security"
    ).get_attribute("id")
    page.keyboard.type("2.5")  # nothing cuts it to 2
    assert page.get_by_label("Score of HubSpot on Security").input_value() == "2.5"
    page.get_by_role("button", name="Save scores").click()
    page.get_by_text("A whole number from 0 to 5.", exact=True).wait_for()
    marked = page.get_by_label("Score of HubSpot on Security")
    assert marked.get_attribute("aria-invalid") == "true" and marked.input_value() == "2.5"
    results = Axe().run(page)
    assert [
        v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ] == []
