"""The migration plan: written and changed through the page and the API, stale edits refused,
every bad input refused with a clear message and nothing saved, every change audited."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from planner.core.audit import AuditEvent
from planner.core.permissions import Role
from planner.extensions import db
from planner.migration.models import MigrationPlan
from tests.conftest import csrf_token, login

TODAY = dt.date.today()
GOOD = {
    "approach": "incremental",
    "batch_size": 5000,
    "entity_order": ["Компании", "Контакти", "Deals"],
    "backup_taken": True,
    "backup_location": "s3://backups/bitrix24-2026-11-30.tar.gz",
    "backup_taken_on": (TODAY - dt.timedelta(days=3)).isoformat(),
    "backup_verified": True,
    "backup_verified_on": (TODAY - dt.timedelta(days=1)).isoformat(),
    "access": "Ana (lead), the integrator's two engineers",
    "version": 0,
}


@pytest.fixture
def rollout(factory):
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead)
    viewer = factory.member(project, factory.user("vera"), Role.VIEWER)
    return project, lead, viewer


def _plans() -> list[MigrationPlan]:
    return list(db.session.scalars(select(MigrationPlan)))


def test_the_plan_is_written_read_and_changed_with_its_version(rollout, api_as):
    project, lead, viewer = rollout
    url = f"/projects/{project.id}/migration/plan"
    empty = api_as(viewer).get(url).get_json()
    assert empty["version"] == 0 and empty["approach"] == "" and empty["entity_order"] == []
    assert _plans() == []  # reading writes nothing
    saved = api_as(lead).put(url, json=GOOD)
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    assert body["version"] == 1 and body["entity_order"] == ["Компании", "Контакти", "Deals"]
    assert (
        body["backup_verified"] is True and body["backup_verified_on"] == GOOD["backup_verified_on"]
    )
    # a partial change keeps the rest
    changed = api_as(lead).put(url, json={"batch_size": 200, "version": 1}).get_json()
    assert changed["batch_size"] == 200 and changed["approach"] == "incremental"
    assert changed["version"] == 2 and changed["backup_verified"] is True
    stale = api_as(lead).put(url, json={"batch_size": 300, "version": 1})
    assert stale.status_code == 409
    assert api_as(viewer).get(url).get_json()["batch_size"] == 200
    missing_version = api_as(lead).put(url, json={"batch_size": 300})
    assert missing_version.status_code == 422 and "version" in missing_version.get_json()["errors"]
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.project_id == project.id)
    ).all()
    assert actions.count("migration.plan") == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"approach": "big bang"}, "approach"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": "many"}, "batch_size"),
        ({"entity_order": "Contacts"}, "entity_order"),
        ({"entity_order": ["x" * 81]}, "entity_order"),
        ({"backup_taken_on": (TODAY + dt.timedelta(days=2)).isoformat()}, "backup_taken_on"),
        ({"backup_taken_on": "31.02.2026"}, "backup_taken_on"),
        ({"backup_taken": False}, "backup_taken"),
        ({"backup_verified_on": None}, "backup_verified_on"),
        (
            {"backup_verified_on": (TODAY - dt.timedelta(days=10)).isoformat()},
            "backup_verified_on",
        ),
        ({"backup_verified": False}, "backup_verified"),
        ({"approach": ["bulk"]}, "approach"),
        ({"approach": "bulk"}, "batch_size"),  # a bulk move has no batches
        ({"unknown": 1}, "unknown"),
    ],
)
def test_a_bad_plan_is_refused_and_nothing_saved(rollout, api_as, change, field):
    project, lead, _viewer = rollout
    body = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    got = api_as(lead).put(f"/projects/{project.id}/migration/plan", json=body)
    assert got.status_code == 422, got.get_json()
    assert field in got.get_json()["errors"], got.get_json()
    assert _plans() == []


def test_only_editors_write_the_plan_and_strangers_get_404(rollout, api_as, factory):
    project, _lead, viewer = rollout
    url = f"/projects/{project.id}/migration/plan"
    assert api_as(viewer).put(url, json=GOOD).status_code == 403
    stranger = factory.user("stan")
    assert api_as(stranger).get(url).status_code == 404
    assert api_as(stranger).put(url, json=GOOD).status_code == 404
    assert _plans() == []


def test_the_plan_page_saves_and_says_what_is_wrong(rollout, client, factory):
    project, _lead, _viewer = rollout
    login(client, "ana")
    page = f"/projects/{project.id}/migration/plan"
    assert "No plan written yet." in client.get(page).get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(client, page),
        "approach": "bulk",
        "entity_order": "Companies\ncontacts, Deals\nCompanies",
        "backup_taken": "y",
        "backup_verified": "y",
        "version": "0",
    }
    refused = client.post(page, data=form)
    assert refused.status_code == 422
    said = refused.get_data(as_text=True)
    assert "Enter the day the restore was tried." in said
    summary = said.index("The plan is not saved: see the fields marked below.")
    assert summary < said.index('name="approach"')
    batch = client.post(page, data={**form, "batch_size": "-5"})
    assert batch.status_code == 422
    assert "The plan is not saved: see the fields marked below." in batch.get_data(as_text=True)
    assert _plans() == []
    form["backup_verified_on"] = TODAY.isoformat()
    saved = client.post(page, data=form)
    assert saved.status_code == 302
    (row,) = _plans()
    assert row.entity_order == ["Companies", "contacts", "Deals"]
    shown = client.get(page).get_data(as_text=True)
    assert "verified by a restore" in shown and "The migration plan is saved." in shown
    no_token = client.post(page, data={**form, "csrf_token": "", "version": "1"})
    assert no_token.status_code == 400
    # sent from a page opened before that save: refused, and refused again when the very same
    # form is sent again (it would put back what the other save changed)
    stale = client.post(page, data={**form, "batch_size": "300"})
    assert stale.status_code == 409
    assert 'name="version" type="hidden" value="0"' in stale.get_data(as_text=True)
    assert 'name="batch_size" type="number" value="300"' in stale.get_data(as_text=True)
    assert client.post(page, data={**form, "batch_size": "300"}).status_code == 409
    db.session.refresh(row)
    assert row.batch_size is None


def _migration_criteria(api, project) -> dict[str, dict]:
    phases = api.get(f"/projects/{project.id}/phases").get_json()["items"]
    (phase,) = [p for p in phases if p["key"] == "migration"]
    return {c["label"]: c for c in phase["criteria"] if c["computed"]}


def test_the_gate_asks_for_a_backup_verified_by_a_restore(rollout, api_as):
    project, lead, viewer = rollout
    backup = "A backup of the old CRM is verified by a restore"
    pilot = "A pilot batch is reconciled with the new CRM, every difference explained"
    before = _migration_criteria(api_as(viewer), project)
    assert before[backup]["met"] is False and before[pilot]["met"] is False
    assert before[pilot]["detail"] == "no recipe yet"
    unverified = {**GOOD, "backup_verified": False, "backup_verified_on": None}
    body = {k: v for k, v in unverified.items() if v is not None}
    assert api_as(lead).put(f"/projects/{project.id}/migration/plan", json=body).status_code == 200
    assert _migration_criteria(api_as(viewer), project)[backup]["met"] is False
    verified = {"backup_verified": True, "backup_verified_on": TODAY.isoformat(), "version": 1}
    assert (
        api_as(lead).put(f"/projects/{project.id}/migration/plan", json=verified).status_code == 200
    )
    assert _migration_criteria(api_as(viewer), project)[backup]["met"] is True


def test_two_first_saves_at_the_same_moment_give_409_not_500(rollout, api_as, monkeypatch):
    from planner.migration import plan as plans

    project, lead, _viewer = rollout
    url = f"/projects/{project.id}/migration/plan"
    assert api_as(lead).put(url, json=GOOD).status_code == 200

    def as_if_unsaved(session, project_id):  # the other request read before this one saved
        return plans.MigrationPlan(project_id=project_id, version=0, entity_order=[])

    monkeypatch.setattr(plans, "plan", as_if_unsaved)
    again = api_as(lead).put(
        url, json={**GOOD, "approach": "bulk", "batch_size": None, "version": 0}
    )
    assert again.status_code == 409, again.get_json()
    monkeypatch.undo()
    assert api_as(lead).get(url).get_json()["approach"] == "incremental"
