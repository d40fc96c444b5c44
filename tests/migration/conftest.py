"""What the tests of the pilot and reconciliation pages share: a rollout with its lead and a
viewer, and a pilot of four records made through the API."""

from __future__ import annotations

import io

import pytest

from planner.core.permissions import Role
from tests.migration import files


@pytest.fixture
def rollout(factory):
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead)
    viewer = factory.member(project, factory.user("vera"), Role.VIEWER)
    return project, lead, viewer


@pytest.fixture
def piloted(rollout, api_as, tmp_path):
    """An uploaded Bitrix24 export, its contacts recipe and a pilot of 4 records."""
    project, lead, _viewer = rollout
    base = f"/projects/{project.id}/migration"
    data = files.bitrix24(tmp_path).read_bytes()
    upload = (
        api_as(lead)
        .post(
            f"{base}/uploads",
            json=None,
            data={"file": (io.BytesIO(data), "bitrix24-contacts.csv")},
            content_type="multipart/form-data",
        )
        .get_json()
    )
    recipe = (
        api_as(lead)
        .post(f"{base}/recipes", json={"entity": "contacts", "upload_id": upload["id"]})
        .get_json()
    )
    pilot = api_as(lead).post(f"{base}/recipes/{recipe['id']}/pilots", json={"size": 4}).get_json()
    return base, upload, recipe, pilot
