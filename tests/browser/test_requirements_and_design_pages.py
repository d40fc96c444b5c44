"""The requirements, design and specification pages of the demo rollout, in Chromium: axe-core
finds no serious or critical accessibility violation, and a department member answers their
questionnaire with the keyboard alone."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from planner import demo
from planner.core.accounts.service import find_user
from planner.extensions import db
from planner.migration.models import (
    MigrationPilot,
    MigrationRecipe,
    MigrationReconciliation,
    MigrationUpload,
)
from planner.projects.models import Project
from planner.requirements.intake_models import Questionnaire
from planner.requirements.models import Requirement
from planner.spec import service as spec
from planner.spec import signoff

pytestmark = pytest.mark.browser


def _log_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Your CRM rollouts").wait_for()


def _serious(page) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_requirements_and_design_pages_are_accessible(app, browser_page, factory):
    result = demo.load(db.session)
    db.session.commit()
    pid = result.project_id
    lead = factory.access(db.session.get(Project, pid), find_user(db.session, "lead"))
    spec.start(db.session, lead)
    version = spec.submit_version(db.session, lead)
    signoff.add_comment(db.session, lead, version, body="Costs in EUR?", anchor="section:9")
    db.session.commit()
    req = db.session.scalar(select(Requirement.id).where(Requirement.project_id == pid).limit(1))
    upload_id = db.session.scalar(
        select(MigrationUpload.id).where(MigrationUpload.project_id == pid)
    )
    recipe_id, pilot_id, reconciliation_id = (
        db.session.scalar(select(model.id).where(model.project_id == pid))
        for model in (MigrationRecipe, MigrationPilot, MigrationReconciliation)
    )
    questionnaires = {
        q.department_id: q.id
        for q in db.session.scalars(select(Questionnaire).where(Questionnaire.project_id == pid))
    }
    page = browser_page
    _log_in(page, "lead")
    base = f"/projects/{pid}"
    found = {}
    for path in (
        f"{base}/requirements",
        f"{base}/requirements/{req}",
        f"{base}/requirements/{req}/edit",
        f"{base}/requirements/new",
        f"{base}/requirements/import",
        f"{base}/requirements/intake",
        f"{base}/requirements/questionnaires/{next(iter(questionnaires.values()))}",
        f"{base}/requirements/interviews/new",
        f"{base}/design",
        f"{base}/design/versions/1",
        f"{base}/design/modules/new",
        f"{base}/phases/requirements",
        f"{base}/phases/design",
        f"{base}/spec",
        f"{base}/spec/versions/1",
        "/verify",
        f"{base}/migration",
        f"{base}/migration/uploads/{upload_id}",
        f"{base}/migration/recipes/{recipe_id}",
        f"{base}/migration/recipes/{recipe_id}/preview",
        f"{base}/migration/pilots/{pilot_id}",
        f"{base}/migration/reconciliations/{reconciliation_id}",
        f"{base}/migration/plan",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        if serious := _serious(page):
            found[path] = serious
    assert found == {}
    # A file that is no signed specification gets a verdict in words, as accessible as the rest.
    page.goto("/verify")
    page.get_by_label("Signed PDF").set_input_files(
        {"name": "spec.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 not really"}
    )
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("heading", name="Verdict").wait_for()
    assert page.get_by_text("the file is not a readable PDF").count() == 1
    assert _serious(page) == []
    # The head of customer service finishes their draft with the keyboard alone.
    _log_in(page, "service")
    page.goto(f"{base}/requirements/intake")
    page.get_by_role("button", name="Answer it").or_(
        page.get_by_role("link", name="Answer it")
    ).click()
    page.get_by_role("heading", name="What Customer service needs from the CRM").wait_for()
    assert _serious(page) == []
    first = page.locator("textarea").first
    first.focus()
    page.keyboard.type("Complaints arrive by phone and e-mail; one record for each.")
    page.get_by_role("button", name="Submit…").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Submit your answers?").wait_for()
    page.get_by_role("button", name="Submit my answers").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Thank you: your answers are submitted.").wait_for()
