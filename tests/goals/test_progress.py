"""A KPI's progress from baseline to target, and the bar the goal page draws of it."""

from __future__ import annotations

from datetime import date

import pytest

from planner.extensions import db
from planner.goals import service as goals
from planner.goals.progress import progress

D1, D2, D3 = date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 30)


@pytest.mark.parametrize(
    ("baseline", "target", "points", "share", "raw"),
    [
        (40, 90, [(D1, 50), (D3, 65)], 0.5, 0.5),  # the latest by date counts
        (40, 90, [(D3, 65), (D1, 50)], 0.5, 0.5),  # whatever the order given
        (48, 24, [(D2, 36)], 0.5, 0.5),  # a KPI that aims down (hours to close)
        (40, 90, [(D2, 30)], 0.0, -0.2),  # the wrong way: clipped, said
        (40, 90, [(D2, 100)], 1.0, 1.2),  # past the target
        (40, 90, [(D2, 60), (D2, 70)], 0.6, 0.6),  # two on one day: the later entry
    ],
)
def test_progress_from_baseline_to_target(baseline, target, points, share, raw):
    p = progress(baseline, target, points)
    assert p is not None
    assert p.share == pytest.approx(share) and p.raw == pytest.approx(raw)


@pytest.mark.parametrize(
    ("baseline", "target", "points"),
    [(None, 90, [(D1, 50)]), (40, None, [(D1, 50)]), (40, 40, [(D1, 50)]), (40, 90, [])],
)
def test_no_progress_without_a_way_or_a_measurement(baseline, target, points):
    assert progress(baseline, target, points) is None


def test_the_goal_page_draws_the_bar(client, factory, login_as):
    lead = factory.user("ana")
    project = factory.project(lead)
    goal = factory.goal(project, kpi=False)
    access = factory.lead_access(project)
    kpi = goals.add_kpi(
        db.session,
        access,
        goal,
        name="Reclamații închise în 48 h",
        unit="%",
        baseline=40,
        target=90,
    )
    goals.add_kpi(db.session, access, goal, name="Not measured yet", baseline=1, target=2)
    goals.add_measurement(db.session, access, kpi, value=65, measured_on=D3)
    db.session.commit()
    login_as("ana")
    html = client.get(f"/projects/{project.id}/goals/{goal.id}").get_data(as_text=True)
    assert html.count('class="kpi-progress"') == 1  # only the measured KPI has a bar
    assert 'role="img"' in html and "50% of the way from the baseline 40 to the target 90" in html
    assert 'width="100.0"' in html  # half of the 200-unit track
