"""Scores go through one row form (vendors.schemas.SCORES): page, API and sheet agree."""

from __future__ import annotations

import pytest


def test_page_api_and_sheet_say_the_same_of_a_bad_score(vboard, api_as, client, login_as):
    """Scores go through one row form wherever they come from."""
    from planner.extensions import db
    from planner.vendors import service, sheets
    from tests.conftest import csrf_token

    mihai = vboard.reviewers[0]
    service.declare_conflicts(db.session, vboard.access(mihai), [])
    db.session.commit()
    v, c = vboard.vendors[0].id, vboard.criteria[0].id
    api = api_as(mihai).put(
        f"/projects/{vboard.project.id}/scores",
        {"scores": [{"vendor_id": v, "criterion_id": c, "score": "9"}]},
    )
    message = "a score is a whole number from 0 to 5"
    assert api.status_code == 422 and api.json["errors"]["scores[0].score"] == [message]
    login_as("mihai")
    url = f"/projects/{vboard.project.id}/vendors/scoresheet"
    page = client.post(url, data={"csrf_token": csrf_token(client, url), f"s_{v}_{c}": "9"})
    assert page.status_code == 422 and message in page.get_data(as_text=True)
    csv = f"reviewer,vendor_id,vendor,criterion_id,criterion,score,comment\nmihai,{v},x,{c},y,9,\n"
    with pytest.raises(sheets.ImportRejected) as err:
        sheets.import_scoresheet(db.session, vboard.access(mihai), csv.encode())
    assert err.value.row_errors[0].message == f"{message} (got “9”)"
