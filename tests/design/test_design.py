"""The solution design: modules covering requirements, versions frozen for review, the board's
blind review with the scoring board's maths, the executives' approval, and the gate."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from planner.core.approvals import Approval
from planner.core.audit import AuditEvent
from planner.core.errors import Conflict, PermissionDenied, ValidationError
from planner.core.permissions import Role
from planner.design import service as design
from planner.design.models import DesignVersion
from planner.extensions import db
from planner.goals import service as goals
from planner.projects.waiting import waiting_for
from planner.requirements import service as requirements
from tests.conftest import csrf_token, login
from tests.factories import Factory


@pytest.fixture
def board(factory):
    """A rollout with two requirements (a must and a could), three reviewers, an executive."""
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead)
    access = factory.lead_access(project)
    goal = goals.create_goal(db.session, access, statement="Pipeline", department_id=None)
    must = requirements.create_requirement(
        db.session,
        access,
        title="Track every call",
        type="functional",
        priority="must",
        status="accepted",
        acceptance_criterion="Within a minute",
        goal_ids=[goal.id],
    )
    could = requirements.create_requirement(
        db.session,
        access,
        title="Campaign lists",
        type="functional",
        priority="could",
        status="proposed",
    )
    people = {
        name: factory.member(project, factory.user(name, name=full), role, dept)
        for name, full, role, dept in (
            ("mihai", "Mihai Ionescu", Role.REVIEWER, "Sales"),
            ("jonas", "Jonas Becker", Role.REVIEWER, "IT"),
            ("ioana", "Ioana Dumitrescu", Role.REVIEWER, "Legal"),
            ("wei", "Li Wei", Role.EXECUTIVE, None),
        )
    }
    db.session.commit()
    return project, access, must, could, {n: factory.access(project, u) for n, u in people.items()}


def _submit(access, req_ids):
    design.add_module(db.session, access, name="Customer records", requirement_ids=req_ids)
    version = design.submit_version(db.session, access)
    db.session.commit()
    return version


def test_a_version_freezes_the_design_with_the_requirements_revisions(board):
    project, access, must, could, people = board
    with pytest.raises(Conflict, match="at least one module"):
        design.submit_version(db.session, access)
    db.session.rollback()
    version = _submit(access, [must.id])
    (module,) = version.content["modules"]
    assert module["requirements"] == [
        {
            "id": must.id,
            "key": "REQ-001",
            "revision": 1,
            "title": "Track every call",
            "priority": "must",
        }
    ]
    assert len(version.digest) == 64 and version.number == 1
    with pytest.raises(Conflict, match="has not changed since version 1"):
        design.submit_version(db.session, access)
    db.session.rollback()
    version = db.session.get(DesignVersion, version.id)
    version.content = {"tampered": True}
    with pytest.raises(RuntimeError, match="immutable"):
        db.session.flush()
    db.session.rollback()


def test_coverage_lists_what_no_module_covers_musts_first(board):
    project, access, must, could, _ = board
    assert [u.key for u in design.uncovered(db.session, project.id)] == ["REQ-001", "REQ-002"]
    design.add_module(db.session, access, name="Marketing", requirement_ids=[could.id])
    db.session.commit()
    assert [u.key for u in design.uncovered(db.session, project.id)] == ["REQ-001"]
    with pytest.raises(Conflict, match="named “Marketing” already"):
        design.add_module(db.session, access, name=" marketing ")
    db.session.rollback()


def test_the_review_is_blind_and_computed_with_the_boards_maths(board, api_as):
    project, access, must, could, people = board
    version = _submit(access, [must.id])
    inds = design.indicators(db.session, project.id)
    assert [i.name for i in inds] == ["Feasibility", "Cost-effectiveness", "Risk control"]
    scores = {"mihai": (5, 4, 4), "jonas": (2, 3, 4), "ioana": (5, 4, 3)}
    for name, row in scores.items():
        design.save_scores(
            db.session,
            people[name],
            version,
            [design.ScoreInput(i.id, s) for i, s in zip(inds, row, strict=True)],
        )
    db.session.commit()
    # drafts count nowhere, and a reviewer sees nothing before submitting
    assert not design.may_see_results(db.session, people["mihai"], version)
    assert (
        api_as(people["mihai"].user)
        .get(f"/projects/{project.id}/design/versions/1/review")
        .status_code
        == 403
    )
    assert design.review_result(db.session, access, version).submitted == 0
    with pytest.raises(ValidationError):
        design.save_scores(db.session, people["jonas"], version, [design.ScoreInput(inds[0].id, 7)])
    db.session.rollback()
    for name in scores:
        design.save_scores(db.session, people[name], version, [], submit=True)
    db.session.commit()
    assert design.may_see_results(db.session, people["mihai"], version)
    result = design.review_result(db.session, access, version)
    by_name = {r.indicator.name: r for r in result.indicators}
    assert by_name["Feasibility"].mean == pytest.approx(4.0)
    assert by_name["Feasibility"].spread == 3 and by_name["Feasibility"].disagreement
    assert (
        by_name["Cost-effectiveness"].spread == 1 and not by_name["Cost-effectiveness"].disagreement
    )
    # weighted total = 100 × mean of the means / 5 with equal weights
    assert result.total == pytest.approx(100 * (4.0 + 11 / 3 + 11 / 3) / 3 / 5)
    # Kendall's W over the reviewers' rankings of the indicators, worked by hand:
    # ranks (1 = best) mihai 1, 2.5, 2.5; jonas 3, 2, 1; ioana 1, 2, 3 → sums 5, 6.5, 6.5
    # around their mean 6: S = 1 + 0.25 + 0.25 = 1.5; ties: mihai's (2³ − 2) = 6;
    # W = 12·S / (m²(n³ − n) − m·ΣT) = 18 / (9·24 − 3·6) = 18/198
    assert result.kendalls_w == pytest.approx(18 / 198)
    assert [r.indicator.name for r in result.disagreements] == ["Feasibility"]
    with pytest.raises(Conflict, match="can no longer change"):
        design.save_scores(db.session, people["mihai"], version, [])
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        design.save_scores(db.session, access, version, [])
    db.session.rollback()


def test_the_executive_approves_or_rejects_exactly_the_version_shown(board, api_as):
    project, access, must, could, people = board
    version = _submit(access, [must.id])
    wei = people["wei"]
    api = api_as(wei.user)
    url = f"/projects/{project.id}/design/versions/1/approve"
    shown = api.get(f"/projects/{project.id}/design/versions/1").json["digest_to_sign"]

    def count() -> int:
        return db.session.scalar(select(func.count()).select_from(Approval))

    wrong = api.post(url, json={"meaning": "approved", "password": "nope", "digest": shown})
    assert wrong.status_code == 422 and "password" in wrong.json["errors"] and count() == 0
    no_reason = api.post(
        url, json={"meaning": "rejected", "password": Factory.PASSWORD, "digest": shown}
    )
    assert no_reason.status_code == 422 and "conditions" in no_reason.json["errors"]
    stale = api.post(
        url, json={"meaning": "approved", "password": Factory.PASSWORD, "digest": "0" * 64}
    )
    assert stale.status_code == 409 and count() == 0
    lead = api_as(access.user).post(
        url, json={"meaning": "approved", "password": Factory.PASSWORD, "digest": shown}
    )
    assert lead.status_code == 403
    rejected = api.post(
        url,
        json={
            "meaning": "rejected",
            "conditions": "Cost estimate missing",
            "password": Factory.PASSWORD,
            "digest": shown,
        },
    )
    assert rejected.status_code == 201, rejected.json
    assert rejected.json["meaning"] == "rejected" and rejected.json["signer"] == "Li Wei"
    status = api.get(f"/projects/{project.id}/design/versions/1").json
    assert status["status"] == "rejected"
    crit = {c.label: c for c in design._criteria(db.session, project)}
    assert not crit["The latest version of the design is approved by an executive"].met
    # a new version replaces it; the old one can no longer be signed
    design.update_design(db.session, access, version=None, cost_estimate="40 licences")
    v2 = design.submit_version(db.session, access)
    db.session.commit()
    late = api.post(
        url, json={"meaning": "approved", "password": Factory.PASSWORD, "digest": shown}
    )
    assert late.status_code == 409 and "no longer up for approval" in late.json["detail"]
    ok = api.post(
        f"/projects/{project.id}/design/versions/2/approve",
        json={
            "meaning": "approved",
            "password": Factory.PASSWORD,
            "digest": design.digest_shown(db.session.get(DesignVersion, v2.id)),
        },
    )
    assert ok.status_code == 201
    crit = {c.label: c for c in design._criteria(db.session, project)}
    assert all(c.met for c in crit.values())
    assert version.number == 1


def test_the_gate_needs_every_must_covered(board):
    project, access, must, could, people = board
    version = _submit(access, [could.id])
    design.approve(
        db.session,
        people["wei"],
        version,
        shown_digest=design.digest_shown(version),
        meaning="approved",
        conditions="",
        password=Factory.PASSWORD,
    )
    db.session.commit()
    crit = {c.label: c for c in design._criteria(db.session, project)}
    covered = crit["Every must-have requirement is covered by a module of the design"]
    assert not covered.met and covered.detail == "REQ-001 uncovered"


def test_waiting_on_the_executive_and_the_reviewers(board):
    project, access, must, could, people = board
    _submit(access, [must.id])
    assert [w.text for w in waiting_for(db.session, people["wei"].user)] == [
        "Approve or reject the solution design, version 1"
    ]
    assert [w.text for w in waiting_for(db.session, people["jonas"].user)] == [
        "Review the solution design, version 1"
    ]


def test_the_pages_of_the_design(board, client, login_as):
    project, access, must, could, people = board
    login_as("ana")
    base = f"/projects/{project.id}/design"
    empty = client.get(base).get_data(as_text=True)
    assert "Nothing written yet" in empty and "REQ-001" in empty  # uncovered
    token = csrf_token(client, f"{base}/edit")
    saved = client.post(
        f"{base}/edit",
        data={
            "csrf_token": token,
            "solution_kind": "off_the_shelf",
            "summary": "**Off-the-shelf** <script>alert(1)</script>",
        },
    )
    assert saved.status_code == 302
    bad = client.post(f"{base}/edit", data={"csrf_token": token, "solution_kind": "magic"})
    assert bad.status_code == 422
    module = client.post(
        f"{base}/modules/new",
        data={
            "csrf_token": token,
            "name": "Customer records",
            "requirement_ids": [str(must.id), "999999"],
        },
    )
    assert module.status_code == 422 and "No requirement 999999" in module.get_data(as_text=True)
    module = client.post(
        f"{base}/modules/new",
        data={"csrf_token": token, "name": "Customer records", "requirement_ids": [str(must.id)]},
    )
    assert module.status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert "<strong>Off-the-shelf</strong>" in page and "<script>alert" not in page
    assert "Submit for review" in page
    confirm = client.get(f"{base}/submit").get_data(as_text=True)
    assert "Submit the design for review as version 1?" in confirm
    assert client.post(f"{base}/submit", data={"csrf_token": token}).status_code == 302
    version_page = client.get(f"{base}/versions/1").get_data(as_text=True)
    assert "REQ-001 (revision 1)" in version_page and "No executive has signed" in version_page

    def statements(path):
        n = [0]

        def tick(*_a):
            n[0] += 1

        event.listen(db.engine, "before_cursor_execute", tick)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", tick)
        return n[0]

    before = [statements(base), statements(f"{base}/versions/1")]
    for i in range(20):
        requirements.create_requirement(
            db.session,
            access,
            title=f"Need {i}",
            type="data",
            priority="should",
            status="proposed",
        )
    db.session.commit()
    assert [statements(base), statements(f"{base}/versions/1")] == before


def test_a_reviewer_scores_in_the_page_and_the_executive_signs(board, client, login_as):
    project, access, must, could, people = board
    version = _submit(access, [must.id])
    inds = design.indicators(db.session, project.id)
    login_as("jonas")
    base = f"/projects/{project.id}/design/versions/1"
    token = csrf_token(client, base)
    bad = client.post(
        f"{base}/review",
        data={
            "csrf_token": token,
            "action": "save",
            f"score-{inds[0].id}": "9",
            f"comment-{inds[0].id}": "Risky: the Bitrix24 export",
        },
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Risky: the Bitrix24 export" in html
    data = {"csrf_token": token, "action": "submit"}
    data |= {f"score-{i.id}": "4" for i in inds}
    to_confirm = client.post(f"{base}/review", data=data)
    assert to_confirm.headers["Location"].endswith("/review/submit")
    assert (
        client.post(to_confirm.headers["Location"], data={"csrf_token": token}).status_code == 302
    )
    assert design.submitted_by(db.session, version) == {people["jonas"].user.id}
    # one reviewer in, the board's scores show to him (the others have not submitted)
    assert "1 of 3 reviewers submitted." in client.get(base).get_data(as_text=True)
    other = client.application.test_client()
    login(other, "wei")
    sign = other.get(base).get_data(as_text=True)
    assert "Your password, to sign" in sign
    wrong = other.post(
        f"{base}/approve",
        data={
            "csrf_token": csrf_token(other, base),
            "a-meaning": "approved",
            "a-password": "nope",
            "a-digest": design.digest_shown(version),
        },
    )
    assert wrong.status_code == 422 and "Wrong password." in wrong.get_data(as_text=True)
    ok = other.post(
        f"{base}/approve",
        data={
            "csrf_token": csrf_token(other, base),
            "a-meaning": "approved",
            "a-password": Factory.PASSWORD,
            "a-digest": design.digest_shown(version),
        },
    )
    assert ok.status_code == 302
    assert "approved" in other.get(base).get_data(as_text=True)


def test_the_design_is_not_overwritten_blindly_and_keeps_what_a_put_leaves_out(board, api_as):
    project, access, must, could, people = board
    api = api_as(access.user)
    url = f"/projects/{project.id}/design"
    first = api.put(url, json={"summary": "A modular design", "risks": "Messy data"})
    assert first.status_code == 200, first.json
    blind = api.put(url, json={"summary": "Overwritten"})
    assert blind.status_code == 422 and "version" in blind.json["errors"]
    kept = api.put(url, json={"version": first.json["version"], "summary": "Second"})
    assert kept.status_code == 200 and kept.json["risks"] == "Messy data"
    stale = api.put(url, json={"version": first.json["version"], "summary": "Third"})
    assert stale.status_code == 409


def test_an_indicator_added_after_a_review_counts_from_the_next_version(board):
    project, access, must, could, people = board
    v1 = _submit(access, [must.id])
    inds = design.version_indicators(db.session, v1)
    design.save_scores(
        db.session, people["mihai"], v1, [design.ScoreInput(i.id, 4) for i in inds], submit=True
    )
    db.session.commit()
    design.add_indicator(db.session, access, name="Usability", weight=2.0)
    db.session.commit()
    v1 = db.session.get(DesignVersion, v1.id)
    assert [i.name for i in design.version_indicators(db.session, v1)] == [
        "Feasibility",
        "Cost-effectiveness",
        "Risk control",
    ]
    assert design.review_result(db.session, access, v1).total == pytest.approx(80.0)
    design.add_module(db.session, access, name="Marketing", requirement_ids=[could.id])
    v2 = design.submit_version(db.session, access)
    db.session.commit()
    assert [i.name for i in design.version_indicators(db.session, v2)][-1] == "Usability"
    assert design.version_indicators(db.session, v2)[-1].weight == 2.0


def test_a_comment_without_a_score_is_not_dropped(board, client, login_as):
    project, access, must, could, people = board
    _submit(access, [must.id])
    inds = design.indicators(db.session, project.id)
    login_as("jonas")
    base = f"/projects/{project.id}/design/versions/1"
    resp = client.post(
        f"{base}/review",
        data={
            "csrf_token": csrf_token(client, base),
            "action": "save",
            f"comment-{inds[1].id}": "Too expensive for year one",
        },
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Too expensive for year one" in html
    assert "Give a score from 1 to 5 with your comment." in html


def test_a_password_cannot_be_guessed_through_signing(board, api_as, app):
    """Wrong passwords are audited, and an account gets SIGNING_ATTEMPTS_PER_MINUTE tries a
    minute before 429, whatever they send."""
    from planner.core.audit import AuditEvent

    project, access, must, could, people = board
    _submit(access, [must.id])
    api = api_as(people["wei"].user)
    url = f"/projects/{project.id}/design/versions/1/approve"
    limit = app.config["SIGNING_ATTEMPTS_PER_MINUTE"]
    statuses = [
        api.post(
            url, json={"meaning": "approved", "password": f"guess {n}", "digest": "0" * 64}
        ).status_code
        for n in range(limit + 1)
    ]
    assert statuses[:limit] == [422] * limit and statuses[-1] == 429
    failed = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "approval.failed")
    )
    assert failed == limit and db.session.scalar(select(func.count()).select_from(Approval)) == 0


def test_an_indicator_is_changed_or_removed_from_the_next_version_on(board, api_as, factory):
    """A version keeps the name and weight it was submitted with; an indicator a version is
    scored on stays; one added since goes; stale edits and names taken are refused."""
    project, access, must, could, people = board
    v1 = _submit(access, [must.id])
    feasibility = design.indicators(db.session, project.id)[0]
    api = api_as(access.user)
    url = f"/projects/{project.id}/design/indicators"
    changed = api.put(
        f"{url}/{feasibility.id}",
        json={"name": "Machbarkeit", "guide": "Wer baut es?", "weight": 3, "version": 1},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json() | {"version": 0} == {
        "id": feasibility.id, "name": "Machbarkeit", "guide": "Wer baut es?", "weight": 3.0,
        "version": 0,
    }  # fmt: skip
    stale = api.put(f"{url}/{feasibility.id}", json={"name": "X", "weight": 1, "version": 1})
    assert stale.status_code == 409
    taken = api.put(
        f"{url}/{feasibility.id}", json={"name": "risk CONTROL", "weight": 1, "version": 2}
    )
    assert taken.status_code == 409
    for bad in ({"name": "", "weight": 1, "version": 2}, {"name": "Y", "weight": 0, "version": 2}):
        assert api.put(f"{url}/{feasibility.id}", json=bad).status_code == 422
    reviewer = api_as(people["mihai"].user)
    refused = reviewer.put(f"{url}/{feasibility.id}", json={"name": "Z", "weight": 1, "version": 2})
    assert refused.status_code == 403
    stranger = api_as(factory.user("eve"))
    assert stranger.raw("DELETE", f"{url}/{feasibility.id}").status_code == 404
    db.session.expire_all()
    v1 = db.session.get(DesignVersion, v1.id)
    assert [i.name for i in design.version_indicators(db.session, v1)][0] == "Feasibility"
    assert design.version_indicators(db.session, v1)[0].weight == 1.0
    kept = api.raw("DELETE", f"{url}/{feasibility.id}")
    assert kept.status_code == 409
    assert "the board scores version 1 on it" in kept.get_json()["detail"]
    usability = api.post(url, json={"name": "Usability", "weight": 2}).get_json()
    assert api.raw("DELETE", f"{url}/{usability['id']}").status_code == 204
    assert api.raw("DELETE", f"{url}/{usability['id']}").status_code == 404
    design.add_module(db.session, access, name="Marketing", requirement_ids=[could.id])
    v2 = design.submit_version(db.session, access)
    db.session.commit()
    assert [(i.name, i.weight) for i in design.version_indicators(db.session, v2)] == [
        ("Machbarkeit", 3.0), ("Cost-effectiveness", 1.0), ("Risk control", 1.0),
    ]  # fmt: skip
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("design.indicator.%"))
    ).all()
    assert sorted(actions) == [
        "design.indicator.create",
        "design.indicator.delete",
        "design.indicator.update",
    ]


def test_the_pages_edit_and_remove_an_indicator(board, client, login_as):
    project, access, _must, _could, _people = board
    login_as("ana")
    base = f"/projects/{project.id}/design"
    assert client.get(base).status_code == 200  # the defaults are made on first use
    design.ensure_indicators(db.session, access)
    db.session.commit()
    cost, risk = design.indicators(db.session, project.id)[1:]
    risk_id = risk.id
    page = client.get(base).get_data(as_text=True)
    assert f"{base}/indicators/{cost.id}/edit" in page
    assert f"{base}/indicators/{cost.id}/delete" in page
    edit = f"{base}/indicators/{cost.id}/edit"
    shown = client.get(edit).get_data(as_text=True)
    assert "No version was submitted with this indicator yet." in shown
    token = csrf_token(client, edit)
    form = {"csrf_token": token, "name": "Kosten", "guide": "", "weight": "2", "version": "1"}
    assert client.post(edit, data=form | {"weight": "-1"}).status_code == 422
    assert client.post(edit, data=form).status_code == 302
    stale = client.post(edit, data=form | {"name": "Kosten 2"})
    assert stale.status_code == 409 and 'value="2"' in stale.get_data(as_text=True)
    db.session.refresh(cost)
    assert (cost.name, cost.weight, cost.version) == ("Kosten", 2.0, 2)
    remove = f"{base}/indicators/{risk_id}/delete"
    asked = client.get(remove).get_data(as_text=True)
    assert "Remove the indicator Risk control?" in asked
    assert client.post(remove).status_code == 400  # no CSRF token
    done = client.post(remove, data={"csrf_token": csrf_token(client, remove)})
    assert done.status_code == 302
    db.session.expire_all()
    assert [i.name for i in design.indicators(db.session, project.id)] == ["Feasibility", "Kosten"]
    assert client.get(f"{base}/indicators/{risk_id}/edit").status_code == 404
    assert client.get(f"{base}/indicators/99999999999/edit").status_code == 404
    last = design.indicators(db.session, project.id)
    design.delete_indicator(db.session, access, last[0])
    with pytest.raises(Conflict, match="at least one indicator"):
        design.delete_indicator(db.session, access, last[1])
