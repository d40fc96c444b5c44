"""Everyone's home page lists what waits for them, across rollouts: an executive the decisions
to approve, a reviewer the scoresheets to submit, a lead the gates to decide."""

from __future__ import annotations

from sqlalchemy import event

from planner.core.permissions import Role
from planner.extensions import db
from planner.projects import service as projects
from planner.vendors import service as vendors
from tests.conftest import login


def _board(factory, name: str, lead, reviewer, ceo):
    project = factory.project(lead, name=name)
    access = factory.lead_access(project)
    factory.member(project, reviewer, Role.REVIEWER, "Sales")
    factory.member(project, ceo, Role.EXECUTIVE)
    vendor = vendors.create_vendor(db.session, access, name="HubSpot")
    crit = vendors.create_criterion(db.session, access, name="Functionality", weight=1.0)
    vendors.set_round_state(db.session, access, action="open", two_envelopes=False)
    db.session.commit()
    return project, access, vendor, crit


def test_each_role_sees_what_waits_for_it(client, factory, api_as):
    lead = factory.user("ana", name="Ana Popescu")
    mihai = factory.user("mihai")
    ceo = factory.user("ceo", name="Elena Dobre")
    first, access, vendor, crit = _board(factory, "Rollout Nord", lead, mihai, ceo)
    second, *_ = _board(factory, "Rollout Süd", lead, mihai, ceo)

    login(client, "mihai")
    home = client.get("/").get_data(as_text=True)
    assert home.count("Score the vendors and submit your scoresheet") == 2
    assert "Rollout Nord" in home and "Rollout Süd" in home

    # Mihai submits in the first rollout; the lead decides there; the goals gate is put up.
    r_access = projects.load_access(db.session, first.id, mihai)
    vendors.declare_conflicts(db.session, r_access, [])
    vendors.put_scores(db.session, r_access, [vendors.ScoreInput(vendor.id, crit.id, 4, "")])
    vendors.submit_scoresheet(db.session, r_access)
    vendors.record_decision(db.session, access, vendor_id=vendor.id, rationale="Fits")
    projects.request_gate(db.session, access, projects.get_phase(db.session, first.id, "goals"))
    db.session.commit()

    items = api_as(mihai).get("/waiting").json["items"]
    assert [(i["project"], i["what"]) for i in items] == [
        ("Rollout Süd", "Score the vendors and submit your scoresheet")
    ]
    assert items[0]["url"] == f"/projects/{second.id}/vendors/scoresheet"
    ceo_items = api_as(ceo).get("/waiting").json["items"]
    assert [(i["project"], i["what"]) for i in ceo_items] == [
        ("Rollout Nord", "Approve the vendor decision (HubSpot)")
    ]
    lead_items = api_as(lead).get("/waiting").json["items"]
    assert [i["what"] for i in lead_items] == ["Decide the gate of “Goals and KPIs”"]


def test_nothing_waiting_says_so_and_costs_a_constant_number_of_statements(app, client, factory):
    lead = factory.user("ana")
    factory.project(lead, name="Only rollout")
    login(client, "ana")
    assert "Nothing waits for you right now." in client.get("/").get_data(as_text=True)

    def statements() -> int:
        count = [0]

        def tick(*_a):
            count[0] += 1

        event.listen(db.engine, "before_cursor_execute", tick)
        try:
            assert client.get("/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", tick)
        return count[0]

    one = statements()
    for i in range(8):
        factory.project(lead, name=f"Rollout {i}")
    assert statements() == one
