"""Everything a page can do, the API can do: a rollout and its vendor board run through the
API alone, from the lead's first department to the contract's legal review."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from planner.core.audit import AuditEvent
from planner.extensions import db


def ok(resp, status=200):
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    return resp.json if resp.data and resp.mimetype.endswith("json") else resp


def test_a_vendor_board_set_up_and_decided_through_the_api_alone(client, factory, api_as):
    lead = factory.user("ana", name="Ana Popescu")
    rev = factory.user("mihai", name="Mihai Ionescu")
    api = api_as(lead)
    pid = ok(api.post("/projects", {"name": "CRM rollout"}), 201)["id"]

    # departments: a reviewer needs one, and the API can list, add, rename and delete them
    depts = ok(api.get(f"/projects/{pid}/departments"))["items"]
    assert {d["name"] for d in depts} >= {"Sales", "IT", "Legal"}
    board = ok(api.post(f"/projects/{pid}/departments", {"name": "Procurement"}), 201)
    member = ok(
        api.post(
            f"/projects/{pid}/members",
            {"username": "mihai", "role": "reviewer", "department_id": board["id"]},
        ),
        201,
    )
    assert member["department"] == "Procurement"
    renamed = ok(api.patch(f"/projects/{pid}/departments/{board['id']}", {"name": "Purchasing"}))
    assert renamed["name"] == "Purchasing"
    taken = api.patch(f"/projects/{pid}/departments/{board['id']}", {"name": "sales"})
    assert taken.status_code == 409 and "exists already" in taken.json["detail"]
    busy = api.raw("DELETE", f"/projects/{pid}/departments/{board['id']}")
    assert busy.status_code == 409 and "move them" in busy.json["detail"]
    ok(
        api.patch(
            f"/projects/{pid}/members/{member['id']}",
            {"role": "reviewer", "department_id": depts[0]["id"]},
        )
    )
    ok(api.raw("DELETE", f"/projects/{pid}/departments/{board['id']}"), 204)
    left = {d["id"] for d in ok(api.get(f"/projects/{pid}/departments"))["items"]}
    assert board["id"] not in left

    # settings, vision, phases, checklist
    project = ok(api.get(f"/projects/{pid}"))
    changed = ok(
        api.patch(f"/projects/{pid}", {"name": "CRM rollout 2027", "version": project["version"]})
    )
    assert changed["name"] == "CRM rollout 2027"
    stale = api.patch(f"/projects/{pid}", {"name": "Lost edit", "version": project["version"]})
    assert stale.status_code == 409
    vision = ok(
        api.put(
            f"/projects/{pid}/vision",
            {"vision": "Why we need a CRM", "version": changed["version"]},
        )
    )
    assert vision["vision"] == "Why we need a CRM"
    phase = next(
        p for p in ok(api.get(f"/projects/{pid}/phases"))["items"] if p["key"] == "vendors"
    )
    ok(
        api.patch(
            f"/projects/{pid}/phases/vendors",
            {
                "owner_id": lead.id,
                "planned_start": "2027-01-04",
                "planned_end": "2027-02-26",
                "version": phase["version"],
            },
        )
    )
    assert ok(api.post(f"/projects/{pid}/phases/vendors/start"))["status"] == "in_progress"
    item = ok(api.post(f"/projects/{pid}/phases/vendors/checklist", {"text": "Legal read it"}), 201)
    assert ok(api.patch(f"/projects/{pid}/phases/vendors/checklist/{item['id']}", {"done": True}))[
        "done"
    ]
    assert ok(api.get(f"/projects/{pid}/phases/vendors/checklist"))["items"][0]["done"] is True

    # vendors and criteria, changed and deleted; AHP weights
    sf = ok(api.post(f"/projects/{pid}/vendors", {"name": "Salesforce", "cost_3y": 410000}), 201)
    hs = ok(api.post(f"/projects/{pid}/vendors", {"name": "HubSpot", "cost_3y": 190000}), 201)
    gone = ok(api.post(f"/projects/{pid}/vendors", {"name": "Zoho"}), 201)
    ok(api.raw("DELETE", f"/projects/{pid}/vendors/{gone['id']}"), 204)
    renamed = ok(
        api.patch(
            f"/projects/{pid}/vendors/{hs['id']}",
            {"name": "HubSpot CRM", "cost_3y": 180000, "version": hs["version"]},
        )
    )
    assert renamed["name"] == "HubSpot CRM" and renamed["cost_3y"] == 180000
    crits = ok(api.post(f"/projects/{pid}/criteria/defaults"), 201)["items"]
    assert len(crits) == 5
    price = next(c for c in crits if c["name"] == "Cost-effectiveness")
    ok(api.raw("DELETE", f"/projects/{pid}/criteria/{price['id']}"), 204)
    crits = ok(api.get(f"/projects/{pid}/criteria"))["items"]
    pairs = [
        {"a": a["id"], "b": b["id"], "value": "3" if i == 0 else "1"}
        for i, (a, b) in enumerate((a, b) for n, a in enumerate(crits) for b in crits[n + 1 :])
    ]
    ahp = ok(api.put(f"/projects/{pid}/ahp?apply=true", {"comparisons": pairs}))
    assert ahp["consistency_ratio"] < 0.1 and len(ahp["weights"]) == 4
    assert len(ok(api.get(f"/projects/{pid}/ahp"))["comparisons"]) == 6
    bad = api.put(f"/projects/{pid}/ahp", {"comparisons": [{"a": 1, "b": 2, "value": "4/7"}]})
    assert bad.status_code == 422 and "Saaty" in str(bad.json["errors"])

    # the round: the reviewer scores through the API, also as a spreadsheet
    ok(api.post(f"/projects/{pid}/scoring-round", {"action": "open", "two_envelopes": False}))
    mihai = api_as(rev)
    ok(mihai.put(f"/projects/{pid}/conflicts", {"conflicts": []}))
    sheet = ok(mihai.get(f"/projects/{pid}/scoresheet.csv"))
    assert sheet.headers["Content-Disposition"].startswith("attachment")
    scores = [
        {"vendor_id": v["id"], "criterion_id": c["id"], "score": 4 if v is sf else 3}
        for v in (sf, hs)
        for c in crits
    ]
    ok(mihai.put(f"/projects/{pid}/scores", {"scores": scores}))
    ok(mihai.post(f"/projects/{pid}/scoresheet/submit"), 201)
    ok(api.post(f"/projects/{pid}/scoring-round", {"action": "close"}))
    matrix = ok(api.get(f"/projects/{pid}/vendor-evaluation.xlsx"))
    assert matrix.data[:2] == b"PK"

    # recusal, decision, contract
    rec = ok(
        api.post(
            f"/projects/{pid}/recusals",
            {"reviewer_id": rev.id, "vendor_id": hs["id"], "reason": "Former employer"},
        ),
        201,
    )
    assert ok(api.get(f"/projects/{pid}/recusals"))["items"][0]["reason"] == "Former employer"
    ok(api.raw("DELETE", f"/projects/{pid}/recusals/{rec['id']}"), 204)
    decided = ok(
        api.put(f"/projects/{pid}/decision", {"vendor_id": sf["id"], "rationale": "Best fit"})
    )["decision"]
    contract = ok(
        api.put(
            f"/projects/{pid}/decision/contract",
            {
                "scope_agreed": True,
                "legal_reviewed_by": "Ioana Dumitrescu",
                "legal_reviewed_on": "2026-11-30",
                "version": decided["version"],
            },
        )
    )["decision"]
    assert contract["scope_agreed"] is True and contract["legal_reviewed_on"] == "2026-11-30"

    # the audit trail names the lead and the reviewer for what they did through the API
    actors = set(
        db.session.scalars(select(AuditEvent.actor_name).where(AuditEvent.project_id == pid))
    )
    assert {"ana", "mihai"} <= actors


def test_kpis_goals_artifacts_and_tokens_through_the_api(client, factory, api_as):
    lead = factory.user("ana")
    project = factory.project(lead)
    api = api_as(lead)
    pid = project.id
    goal = ok(api.post(f"/projects/{pid}/goals", {"statement": "A transparent pipeline"}), 201)
    kpi = ok(
        api.post(
            f"/projects/{pid}/goals/{goal['id']}/kpis",
            {"name": "Deals", "baseline": 10, "target": 90},
        ),
        201,
    )
    changed = ok(
        api.patch(
            f"/projects/{pid}/kpis/{kpi['id']}",
            {"name": "Deals in the pipeline", "target": 95, "version": kpi["version"]},
        )
    )
    assert changed["target"] == 95
    assert (
        api.patch(
            f"/projects/{pid}/kpis/{kpi['id']}", {"name": "x", "version": kpi["version"]}
        ).status_code
        == 409
    )
    ok(api.raw("DELETE", f"/projects/{pid}/kpis/{kpi['id']}"), 204)
    ok(api.raw("DELETE", f"/projects/{pid}/goals/{goal['id']}"), 204)
    assert ok(api.get(f"/projects/{pid}/goals"))["items"] == []

    art = ok(
        api.raw(
            "POST",
            f"/projects/{pid}/artifacts",
            data={"title": "Minutes", "phase": "goals", "file": (io.BytesIO(b"first\n"), "m.txt")},
            content_type="multipart/form-data",
        ),
        201,
    )
    again = ok(
        api.raw(
            "POST",
            f"/projects/{pid}/artifacts/{art['id']}/versions",
            data={"file": (io.BytesIO(b"second\n"), "m2.txt")},
            content_type="multipart/form-data",
        ),
        201,
    )
    assert len(again["versions"]) == 2
    assert api.get(f"/projects/{pid}/artifacts/{art['id']}").data == b"second\n"
    ok(api.raw("DELETE", f"/projects/{pid}/artifacts/{art['id']}"), 204)

    ok(api.post(f"/projects/{pid}/archive", {"archived": True}))
    assert ok(api.get(f"/projects/{pid}"))["archived"] is True

    new = ok(api.post("/tokens", {"name": "CI"}), 201)
    assert new["token"].startswith("pln_") and new["name"] == "CI"
    listed = ok(api.get("/tokens"))["items"]
    assert "token" not in listed[0] and {t["name"] for t in listed} >= {"CI"}
    ok(api.raw("DELETE", f"/tokens/{new['id']}"), 204)
    revoked = client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {new['token']}"})
    assert revoked.status_code == 401
    events = db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "token.revoke")
    )
    assert events == 1


def test_a_member_cannot_change_what_their_role_does_not_allow(factory, api_as):
    lead = factory.user("ana")
    project = factory.project(lead)
    from planner.core.permissions import Role

    viewer = factory.member(project, factory.user("vera"), Role.VIEWER)
    api = api_as(viewer)
    pid = project.id
    for method, path, body in [
        ("POST", f"/projects/{pid}/departments", {"name": "Ops"}),
        ("PATCH", f"/projects/{pid}/phases/goals", {"version": 1}),
        ("POST", f"/projects/{pid}/phases/goals/start", None),
        ("PUT", f"/projects/{pid}/vision", {"vision": "x", "version": 1}),
        ("POST", f"/projects/{pid}/criteria/defaults", None),
    ]:
        resp = api.raw(method, path, json=body)
        assert resp.status_code == 403, (method, path, resp.status_code)
