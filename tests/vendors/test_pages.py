"""The vendor pages as people use them: forms keep input, errors sit beside fields."""

import io

from sqlalchemy import func, select

from planner.extensions import db
from planner.vendors import service
from planner.vendors.models import ConflictDeclaration, Criterion, Score, Vendor
from tests.conftest import csrf_token, login


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_lead_adds_vendor_and_near_duplicate_is_refused_beside_the_field(vboard, client):
    login(client, "lead")
    url = f"/projects/{vboard.project.id}/vendors/new"
    token = csrf_token(client, url)
    resp = client.post(
        url,
        data={
            "csrf_token": token,
            "name": "Microsoft",
            "product": "Dynamics 365",
            "cost_3y": "350000",
        },
    )
    assert resp.status_code == 302
    resp = client.post(
        url, data={"csrf_token": token, "name": "microsoft ", "product": "Dynamics again"}
    )
    assert resp.status_code == 409
    body = resp.get_data(as_text=True)
    assert "too close to the existing vendor" in body and 'value="Dynamics again"' in body
    resp = client.post(url, data={"csrf_token": token, "name": "Pipedrive", "cost_3y": "-5"})
    assert resp.status_code == 422 and 'aria-invalid="true"' in resp.get_data(as_text=True)
    assert count(Vendor) == 3


def test_criterion_form_refuses_zero_weight(vboard, client):
    login(client, "lead")
    url = f"/projects/{vboard.project.id}/vendors/criteria/new"
    resp = client.post(
        url, data={"csrf_token": csrf_token(client, url), "name": "Support", "weight": "0"}
    )
    assert resp.status_code == 422
    assert count(Criterion) == 2


def test_reviewer_declares_scores_on_the_page_and_submits(vboard, client):
    mihai = vboard.reviewers[0]
    login(client, mihai.username)
    base = f"/projects/{vboard.project.id}/vendors"
    resp = client.post(
        f"{base}/conflicts",
        data={
            "csrf_token": csrf_token(client, f"{base}/conflicts"),
            f"conflict_{vboard.vendors[1].id}": "1",
            f"reason_{vboard.vendors[1].id}": "Cousin",
        },
    )
    assert resp.status_code == 302
    assert count(ConflictDeclaration) == 1
    sheet = f"{base}/scoresheet"
    token = csrf_token(client, sheet)
    v0, v1 = (v.id for v in vboard.vendors)
    c0, c1 = (c.id for c in vboard.criteria)
    form = {"csrf_token": token, f"s_{v0}_{c0}": "4", f"s_{v0}_{c1}": "9", f"c_{v0}_{c1}": "typo"}
    resp = client.post(sheet, data=form)
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "whole number from 0 to 5" in body and 'value="9"' in body  # what was typed stays
    assert count(Score) == 0
    form.update({f"s_{v0}_{c1}": "3", f"s_{v1}_{c0}": "2", f"s_{v1}_{c1}": "5"})
    assert client.post(sheet, data=form).status_code == 302
    assert count(Score) == 4
    evaluation = client.get(f"{base}/evaluation")
    assert evaluation.status_code == 403  # blind until submitted
    assert client.post(f"{base}/scoresheet/submit", data={"csrf_token": token}).status_code == 302
    assert client.get(f"{base}/evaluation").status_code == 200


def test_scoresheet_download_and_upload_on_the_page(vboard, client):
    mihai = vboard.reviewers[0]
    service.declare_conflicts(db.session, vboard.access(mihai), [])
    db.session.commit()
    login(client, mihai.username)
    base = f"/projects/{vboard.project.id}/vendors"
    dl = client.get(f"{base}/scoresheet.csv")
    assert dl.status_code == 200 and dl.headers["Content-Disposition"].startswith("attachment")
    text = dl.data.decode("utf-8-sig").replace("\r\n", "\n")
    lines = text.strip().split("\n")
    filled = [lines[0]] + [
        line[: line.rindex(",", 0, line.rindex(","))] + ",4," for line in lines[1:]
    ]
    token = csrf_token(client, f"{base}/scoresheet")
    resp = client.post(
        f"{base}/scoresheet/upload",
        data={
            "csrf_token": token,
            "file": (io.BytesIO("\n".join(filled).encode()), "sheet.csv"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Scoresheet imported: 4 scores changed." in resp.get_data(as_text=True)
    resp = client.post(
        f"{base}/scoresheet/upload",
        data={
            "csrf_token": token,
            "file": (io.BytesIO(b"reviewer,vendor_id\nx,1\n"), "bad.csv"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "missing columns: criterion_id, score" in resp.get_data(as_text=True)
    assert count(Score) == 4


def test_ahp_page_derives_and_applies_weights(vboard, client):
    login(client, "lead")
    url = f"/projects/{vboard.project.id}/vendors/ahp"
    a, b = vboard.criteria
    resp = client.post(
        url, data={"csrf_token": csrf_token(client, url), f"p_{a.id}_{b.id}": "1/3", "apply": "y"}
    )
    assert resp.status_code == 200 and "consistent" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert round(db.session.get(Criterion, a.id).weight, 2) == 25.0
    resp = client.post(url, data={"csrf_token": csrf_token(client, url), f"p_{a.id}_{b.id}": "2.5"})
    assert resp.status_code == 422 and "Saaty" in resp.get_data(as_text=True)


def test_lead_pages_render_with_a_full_board(vboard, client):
    for r, vals in zip(vboard.reviewers, ((5, 4, 3, 5), (1, 4, 3, 4)), strict=True):
        service.declare_conflicts(db.session, vboard.access(r), [])
        cells = [(v, c) for v in vboard.vendors for c in vboard.criteria]
        service.put_scores(
            db.session,
            vboard.access(r),
            [service.ScoreInput(v.id, c.id, s, "") for (v, c), s in zip(cells, vals, strict=True)],
        )
    db.session.commit()
    vboard.submit(*vboard.reviewers)
    login(client, "lead")
    base = f"/projects/{vboard.project.id}/vendors"
    page = client.get(f"{base}/evaluation").get_data(as_text=True)
    for part in (
        "Ranking",
        "Disagreements",
        "Department view",
        "Reviewer calibration",
        "Sensitivity",
        "<svg",
        "Kendall",
    ):
        assert part in page, part
    assert client.get(f"{base}/evaluation.xlsx").status_code == 200
    decision = f"{base}/decision"
    resp = client.post(
        decision,
        data={
            "csrf_token": csrf_token(client, decision),
            "form": "decision",
            "d-vendor_id": vboard.vendors[1].id,
            "d-rationale": "Best value",
        },
    )
    assert resp.status_code == 302
    assert "Contract negotiation" in client.get(decision).get_data(as_text=True)


def test_the_final_submit_asks_first(vboard, client):
    mihai = vboard.reviewers[0]
    service.declare_conflicts(db.session, vboard.access(mihai), [])
    service.put_scores(
        db.session,
        vboard.access(mihai),
        [service.ScoreInput(v.id, c.id, 3, "") for v in vboard.vendors for c in vboard.criteria],
    )
    db.session.commit()
    login(client, "mihai")
    base = f"/projects/{vboard.project.id}/vendors/scoresheet"
    ask = client.get(f"{base}/submit")
    assert ask.status_code == 200 and "Submit your scoresheet?" in ask.get_data(as_text=True)
    assert mihai.id not in service.submitted(db.session, vboard.project.id)  # asking did not
    done = client.post(f"{base}/submit", data={"csrf_token": csrf_token(client, f"{base}/submit")})
    assert done.status_code == 302
    assert mihai.id in service.submitted(db.session, vboard.project.id)
