"""The audit trail says what changed in words and names the thing."""

from __future__ import annotations

from planner.core.audit import changes_in_words
from planner.extensions import db
from planner.goals import service as goals


def test_changes_are_words_not_json():
    assert changes_in_words({"baseline": 20, "unit": "%"}, {"baseline": 25, "unit": "hours"}) == [
        "baseline 20 → 25",
        "unit “%” → “hours”",
    ]
    assert changes_in_words(None, {"must_have": True, "due_date": "2027-02-28"}) == [
        "must have: yes",
        "due date: 2027-02-28",
    ]
    assert changes_in_words({"name": "Vânzări", "target": None}, None) == [
        "name was “Vânzări”",
        "target was —",
    ]
    long = "客户" * 60
    (said,) = changes_in_words({"statement": long}, {"statement": "ok"})
    assert said.endswith("→ “ok”") and "…" in said and len(said) < 120


def test_the_audit_page_shows_words_and_names(client, factory, login_as):
    lead = factory.user("ana")
    project = factory.project(lead)
    goal = factory.goal(project, "Un pipeline de vânzări transparent", kpi=False)
    access = factory.lead_access(project)
    kpi = goals.add_kpi(db.session, access, goal, name="Deals", baseline=20, target=90)
    db.session.commit()
    goals.update_kpi(
        db.session,
        access,
        kpi,
        version=kpi.version,
        name="Deals",
        unit="%",
        baseline=25,
        target=90,
        measurement_method="",
        due_date=None,
    )
    db.session.commit()
    login_as("ana")
    html = client.get(f"/projects/{project.id}/audit").get_data(as_text=True)
    assert "baseline 20 → 25" in html and "unit — → “%”" in html
    assert "added to the goal “Un pipeline de vânzări transparent”" in html
    assert "\\u" not in html and '{"' not in html  # no JSON, no escapes


def test_summaries_quote_names_as_people_write_them_and_name_phases(app):
    """Every summary of the demo's trail: names in “…”, never Python's '…' or its escapes, and
    a phase by its title, never by its key."""
    import re

    from sqlalchemy import select

    from planner import demo
    from planner.core.audit import AuditEvent
    from planner.projects.phases import PHASE_KEYS

    demo.load(db.session)
    db.session.commit()
    summaries = db.session.scalars(select(AuditEvent.summary)).all()
    assert len(summaries) > 50
    keys = "|".join(PHASE_KEYS)
    phase_key = re.compile(rf"^({keys}):|(gate of |phase )({keys})\b")
    for summary in summaries:
        assert not re.search(r"(^|[\s(])'[^']*'", summary), summary
        assert "\\x" not in summary and "\\u" not in summary, summary
        assert not phase_key.search(summary), summary
    assert any(s.startswith("gate of Goals and KPIs: passed") for s in summaries)
    assert any("“" in s for s in summaries)
