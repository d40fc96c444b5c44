"""An executive approves the vendor decision through the one approval service: meaning,
password again, the digest they were shown; recorded once, immutable, shown with name, time
and meaning; an approved decision cannot change."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from planner.core import approvals
from planner.core.errors import Conflict
from planner.core.permissions import Role
from planner.extensions import db
from planner.vendors import service
from tests.conftest import csrf_token, login


@pytest.fixture
def decided(vboard, factory):
    """The board scored and submitted by both reviewers, HubSpot decided; an executive."""
    values = {(0, 0): 4, (0, 1): 4, (1, 0): 5, (1, 1): 5}
    for r in vboard.reviewers:
        service.declare_conflicts(db.session, vboard.access(r), [])
        service.put_scores(
            db.session,
            vboard.access(r),
            [
                service.ScoreInput(vboard.vendors[v].id, vboard.criteria[c].id, s, "")
                for (v, c), s in values.items()
            ],
        )
    db.session.commit()
    vboard.submit(*vboard.reviewers)
    service.record_decision(
        db.session, vboard.lead_access, vendor_id=vboard.vendors[1].id, rationale="Best ranked"
    )
    db.session.commit()
    ceo = factory.member(vboard.project, factory.user("ceo", name="Elena Dobre"), Role.EXECUTIVE)
    return vboard, ceo


def _signatures() -> int:
    return db.session.scalar(select(func.count()).select_from(approvals.Approval))


def _approve(client, pid, digest, **fields):
    page = f"/projects/{pid}/vendors/decision"
    data = {
        "csrf_token": csrf_token(client, page),
        "a-meaning": "approved",
        "a-password": "",
        "a-digest": digest,
    } | {f"a-{k}": v for k, v in fields.items()}
    return client.post(f"{page}/approve", data=data)


def test_an_executive_approves_the_decision_from_the_page(decided, client, factory):
    vb, ceo = decided
    pid = vb.project.id
    login(client, "ceo")
    page = client.get(f"/projects/{pid}/vendors/decision").get_data(as_text=True)
    assert "Sign the approval" in page
    digest = re.search(r'name="a-digest" type="hidden" value="([0-9a-f]{64})"', page).group(1)
    wrong = _approve(client, pid, digest, password="not my password")
    assert wrong.status_code == 422 and "Wrong password." in wrong.get_data(as_text=True)
    assert 'value="not my password"' not in wrong.get_data(as_text=True)
    stale = _approve(client, pid, "0" * 64, password=factory.PASSWORD)
    assert stale.status_code == 409 and "nothing was signed" in stale.get_data(as_text=True)
    no_conditions = _approve(
        client, pid, digest, password=factory.PASSWORD, meaning="approved_with_conditions"
    )
    assert no_conditions.status_code == 422
    assert _signatures() == 0
    ok = _approve(
        client,
        pid,
        digest,
        password=factory.PASSWORD,
        meaning="approved_with_conditions",
        conditions="Exit clause for the data within 30 days",
    )
    assert ok.status_code == 302
    shown = client.get(f"/projects/{pid}/vendors/decision").get_data(as_text=True)
    assert "Elena Dobre" in shown and "approved with conditions" in shown and " UTC" in shown
    assert digest in shown and "Sign the approval" not in shown  # signed once
    again = _approve(client, pid, digest, password=factory.PASSWORD)
    assert again.status_code == 409 and _signatures() == 1


def test_an_approved_decision_cannot_change_and_a_signature_is_immutable(decided, factory):
    vb, ceo = decided
    row = service.decision(db.session, vb.project.id)
    digest = approvals.digest_of(service.decision_content(row))
    signed = service.approve_decision(
        db.session,
        vb.access(ceo, Role.EXECUTIVE),
        shown_digest=digest,
        meaning="approved",
        password=factory.PASSWORD,
    )
    db.session.commit()
    assert (signed.printed_name, signed.role, signed.meaning.value) == (
        "Elena Dobre",
        "executive",
        "approved",
    )
    with pytest.raises(Conflict, match="approved by Elena Dobre"):
        service.record_decision(
            db.session,
            vb.lead_access,
            vendor_id=vb.vendors[0].id,
            rationale="Changed my mind",
            version=row.version,
        )
    db.session.rollback()
    # The contract checklist goes on after the approval; the signed content is unchanged.
    row = service.decision(db.session, vb.project.id)
    service.update_contract(db.session, vb.lead_access, version=row.version, scope_agreed=True)
    db.session.commit()
    assert approvals.digest_of(service.decision_content(row)) == digest
    signed = db.session.get(approvals.Approval, signed.id)
    signed.conditions = "tampered"
    with pytest.raises(Conflict, match="cannot be changed"):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(Conflict, match="cannot be deleted"):
        db.session.delete(db.session.get(approvals.Approval, signed.id))
        db.session.flush()
    db.session.rollback()


def test_only_an_executive_signs(decided, client, factory, api_as):
    vb, _ = decided
    login(client, "lead")
    assert "Sign the approval" not in client.get(
        f"/projects/{vb.project.id}/vendors/decision"
    ).get_data(as_text=True)
    assert _approve(client, vb.project.id, "0" * 64, password=factory.PASSWORD).status_code == 403
    lead_api = api_as(vb.lead)
    resp = lead_api.post(
        f"/projects/{vb.project.id}/decision/approvals",
        {"meaning": "approved", "password": factory.PASSWORD, "digest": "0" * 64},
    )
    assert resp.status_code == 403 and _signatures() == 0


def test_the_api_approves_what_it_showed(decided, api_as, factory):
    vb, ceo = decided
    api = api_as(ceo)
    shown = api.get(f"/projects/{vb.project.id}/decision").json["decision"]
    assert shown["approvals"] == [] and len(shown["sha256"]) == 64
    path = f"/projects/{vb.project.id}/decision/approvals"
    body = {"meaning": "approved", "password": factory.PASSWORD, "digest": shown["sha256"]}
    assert api.post(path, body | {"password": "wrong"}).status_code == 422
    assert api.post(path, body | {"meaning": "maybe"}).status_code == 422
    assert api.post(path, body | {"digest": "f" * 64}).status_code == 409
    done = api.post(path, body)
    assert done.status_code == 201
    (signature,) = done.json["decision"]["approvals"]
    assert signature["signer"] == "Elena Dobre" and signature["meaning"] == "approved"
    assert signature["sha256"] == shown["sha256"] and signature["signed_at"].endswith("+00:00")


def test_canonical_json_is_one_text_for_one_content():
    a = {"b": "Ana\u0301", "a": [1, {"y": True, "x": None}]}  # a decomposed accent
    b = {"a": [1, {"x": None, "y": True}], "b": "An\u00e1"}  # the composed one, other order
    assert approvals.canonical_json(a) == approvals.canonical_json(b)
    assert approvals.digest_of(a) == approvals.digest_of(b)
    with pytest.raises(TypeError, match="float"):
        approvals.canonical_json({"total": 77.125})


def test_nothing_to_approve_before_a_decision(vboard, factory, api_as):
    ceo = factory.member(vboard.project, factory.user("ceo", name="Elena Dobre"), Role.EXECUTIVE)
    resp = api_as(ceo).post(
        f"/projects/{vboard.project.id}/decision/approvals",
        {"meaning": "approved", "password": factory.PASSWORD, "digest": "0" * 64},
    )
    assert resp.status_code == 409 and "nothing to approve" in resp.json["detail"]
    assert _signatures() == 0
