"""The board reviews a specification version in comments; the executives named sign it, in
order if the lead wants; then it is signed off, and nothing of it changes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from planner.core.approvals import Approval
from planner.core.errors import Conflict, PermissionDenied, ValidationError
from planner.core.permissions import Role
from planner.extensions import db
from planner.projects.waiting import waiting_for
from planner.requirements import service as requirements
from planner.spec import service, signoff
from tests.conftest import csrf_token, login
from tests.factories import Factory


@pytest.fixture
def board(factory):
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead)
    access = factory.lead_access(project)
    requirements.create_requirement(
        db.session,
        access,
        title="Complaint handling",
        type="functional",
        priority="must",
        status="accepted",
        acceptance_criterion="24 h",
    )
    people = {
        name: factory.member(project, factory.user(name, name=full), role, dept)
        for name, full, role, dept in (
            ("mihai", "Mihai Ionescu", Role.REVIEWER, "Sales"),
            ("wei", "Li Wei", Role.EXECUTIVE, None),
            ("ioana", "Ioana Dumitrescu", Role.EXECUTIVE, None),
            ("vera", "Vera", Role.VIEWER, None),
        )
    }
    service.start(db.session, access)
    version = service.submit_version(db.session, access)
    db.session.commit()
    return project, access, version, {n: factory.access(project, u) for n, u in people.items()}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Approval))


def test_comments_are_threads_on_the_version_its_sections_and_requirements(board, api_as):
    project, access, version, people = board
    thread = signoff.add_comment(
        db.session, people["mihai"], version, body="Escalation to whom?", anchor="REQ-001"
    )
    signoff.add_comment(
        db.session, access, version, body="The head of service", parent_id=thread.id
    )
    signoff.add_comment(db.session, people["wei"], version, body="Costs?", anchor="section:9")
    db.session.commit()
    assert signoff.open_threads(db.session, version) == 2
    with pytest.raises(PermissionDenied):
        signoff.add_comment(db.session, people["vera"], version, body="I think…")
    with pytest.raises(ValidationError):
        signoff.add_comment(db.session, access, version, body="x", anchor="REQ-999")
    db.session.rollback()
    signoff.set_resolved(db.session, access, version, thread, True)
    db.session.commit()
    api = api_as(access.user)
    listed = api.get(f"/projects/{project.id}/spec/versions/1/comments").json
    assert listed["open"] == 1 and [c["parent_id"] for c in listed["items"]] == [
        None,
        thread.id,
        None,
    ]
    assert (
        api_as(people["vera"].user)
        .post(f"/projects/{project.id}/spec/versions/1/comments", json={"body": "hi"})
        .status_code
        == 403
    )


def test_open_comments_and_missing_signers_keep_a_version_from_sign_off(board):
    project, access, version, people = board
    thread = signoff.add_comment(db.session, people["mihai"], version, body="Unclear")
    db.session.commit()
    with pytest.raises(Conflict, match="1 open comment"):
        signoff.put_up_for_signoff(db.session, access, version)
    db.session.rollback()
    signoff.set_resolved(db.session, access, version, thread, True)
    db.session.commit()
    with pytest.raises(Conflict, match="Name the executives"):
        signoff.put_up_for_signoff(db.session, access, version)
    db.session.rollback()
    with pytest.raises(ValidationError, match="executives"):
        signoff.set_signers(db.session, access, [people["mihai"].user.id], in_order=False)
    db.session.rollback()


def test_signers_sign_in_order_and_the_version_is_signed_off(board, api_as):
    project, access, version, people = board
    wei, ioana = people["wei"], people["ioana"]
    signoff.set_signers(db.session, access, [wei.user.id, ioana.user.id], in_order=True)
    signoff.put_up_for_signoff(db.session, access, version)
    db.session.commit()
    assert [w.text for w in waiting_for(db.session, wei.user)] == [
        "Sign the technical specification, version 1"
    ]
    assert waiting_for(db.session, ioana.user) == []  # not her turn yet
    url = f"/projects/{project.id}/spec/versions/1/signoffs"
    early = api_as(ioana.user).post(
        url, json={"meaning": "approved", "password": Factory.PASSWORD, "digest": version.digest}
    )
    assert early.status_code == 409 and "Li Wei's turn" in early.json["detail"]
    stale = api_as(wei.user).post(
        url, json={"meaning": "approved", "password": Factory.PASSWORD, "digest": "0" * 64}
    )
    assert stale.status_code == 409 and _count() == 0
    wrong = api_as(wei.user).post(
        url, json={"meaning": "approved", "password": "nope", "digest": version.digest}
    )
    assert wrong.status_code == 422 and _count() == 0
    ok = api_as(wei.user).post(
        url, json={"meaning": "approved", "password": Factory.PASSWORD, "digest": version.digest}
    )
    assert ok.status_code == 201 and ok.json["sha256"] == version.digest
    assert not signoff.state(db.session, version).signed_off
    done = api_as(ioana.user).post(
        url,
        json={
            "meaning": "approved_with_conditions",
            "conditions": "Costs in EUR",
            "password": Factory.PASSWORD,
            "digest": version.digest,
        },
    )
    assert done.status_code == 201
    got = api_as(access.user).get(f"/projects/{project.id}/spec/versions/1").json
    assert got["status"] == "signed_off" and len(got["signoff"]["signatures"]) == 2
    (criterion,) = signoff._criteria(db.session, project)
    assert criterion.met
    # signed off: no comment, no resolution, no second signature
    with pytest.raises(Conflict, match="signed off"):
        signoff.add_comment(db.session, people["mihai"], version, body="late")
    db.session.rollback()
    # a requirement revised since names the signed-off version as affected
    req = requirements.get_requirement(
        db.session, project.id, version.content["requirements"][0]["id"]
    )
    requirements.update_requirement(
        db.session,
        access,
        req,
        version=None,
        title=req.title,
        description="",
        type="functional",
        priority="must",
        status="accepted",
        module="",
        acceptance_criterion="12 h",
        goal_ids=[],
        department_ids=[],
    )
    db.session.commit()
    assert api_as(access.user).get(f"/projects/{project.id}/spec/versions/1").json[
        "revised_since"
    ] == [{"key": "REQ-001", "revision": 1, "now": 2}]
    # the next version supersedes it; the old one can no longer be signed
    service.submit_version(db.session, access)
    db.session.commit()
    st = signoff.state(db.session, version)
    assert st.signed_off and st.superseded
    (criterion,) = signoff._criteria(db.session, project)
    assert not criterion.met and "not up for sign-off" in criterion.detail


def test_the_version_page_reviews_and_signs(board, client):
    project, access, version, people = board
    signoff.set_signers(db.session, access, [people["wei"].user.id], in_order=False)
    db.session.commit()
    base = f"/projects/{project.id}/spec/versions/1"
    assert login(client, "mihai").status_code == 302
    token = csrf_token(client, base)
    made = client.post(
        f"{base}/comments",
        data={"csrf_token": token, "body": "Who escalates?", "anchor": "REQ-001"},
    )
    assert made.status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert "Who escalates?" in page and "1 comment thread is open." in page
    lead = client.application.test_client()
    login(lead, "ana")
    refused = lead.post(f"{base}/signoff", data={"csrf_token": csrf_token(lead, base)})
    assert refused.status_code == 302
    assert "open comment" in lead.get(base).get_data(as_text=True)
    thread = signoff.comments(db.session, version)[0]
    lead.post(
        f"{base}/comments/{thread.id}/resolve",
        data={"csrf_token": csrf_token(lead, base), "resolved": "1"},
    )
    lead.post(f"{base}/signoff", data={"csrf_token": csrf_token(lead, base)})
    assert signoff.state(db.session, version).requested
    wei = client.application.test_client()
    login(wei, "wei")
    assert "Your password, to sign" in wei.get(base).get_data(as_text=True)
    wrong = wei.post(
        f"{base}/sign",
        data={
            "csrf_token": csrf_token(wei, base),
            "a-meaning": "approved",
            "a-password": "nope",
            "a-digest": version.digest,
        },
    )
    assert wrong.status_code == 422 and "Wrong password." in wrong.get_data(as_text=True)
    ok = wei.post(
        f"{base}/sign",
        data={
            "csrf_token": csrf_token(wei, base),
            "a-meaning": "approved",
            "a-password": Factory.PASSWORD,
            "a-digest": version.digest,
        },
    )
    assert ok.status_code == 302
    signed_page = wei.get(base).get_data(as_text=True)
    assert "signed off" in signed_page and "The signed PDF" in signed_page
    pdf = wei.get(f"{base}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_the_signed_off_version_is_sealed_once_and_verifies(board, api_as, app, runner, tmp_path):
    """The last signature seals the version: its PDF rendered once, signed by each signer
    with the deployment's key, stored, served as stored; `planner verify` finds it valid."""
    from planner.spec import pades, seal

    project, access, version, people = board
    signoff.set_signers(
        db.session, access, [people["wei"].user.id, people["ioana"].user.id], in_order=False
    )
    signoff.put_up_for_signoff(db.session, access, version)
    db.session.commit()
    url = f"/projects/{project.id}/spec/versions/1"
    lead = api_as(access.user)
    unsigned = lead.get(f"{url}.pdf")  # before sign-off: the version as it stands, unsigned
    assert unsigned.status_code == 200 and b"/ByteRange" not in unsigned.data
    assert seal.sealed(db.session, version) is None
    for who, meaning in (("wei", "approved"), ("ioana", "approved")):
        assert (
            api_as(people[who].user)
            .post(
                f"{url}/signoffs",
                json={"meaning": meaning, "password": Factory.PASSWORD, "digest": version.digest},
            )
            .status_code
            == 201
        )
    first = lead.get(f"{url}.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    second = lead.get(f"{url}.pdf")
    assert second.data == first.data  # the stored bytes, not a new render
    with open(app.config["SIGNING_CA"], "rb") as ca:
        result = pades.verify_pdf(first.data, ca.read(), expected_signers=2)
    assert result.valid, result.problems
    assert [s.claimed_name for s in result.signatures] == ["Li Wei", "Ioana Dumitrescu"]
    row = seal.sealed(db.session, version)
    assert row is not None and row.signed and row.data == first.data
    row.data = b"%PDF-1.7 something else"
    with pytest.raises(RuntimeError, match="immutable"):
        db.session.flush()
    db.session.rollback()
    path = tmp_path / "signed.pdf"
    path.write_bytes(first.data)
    verified = runner.invoke(args=["verify", str(path)])
    assert verified.exit_code == 0, verified.output
    assert f"specification version 1 of rollout {project.id}" in verified.output


def test_a_failed_seal_keeps_the_signatures_says_why_and_is_tried_again(
    board, api_as, client, app, tmp_path
):
    """Sealing runs after the last signature is committed: when it fails (here the signing
    key's file is damaged) the signatures stand, the version is signed off, its page says
    why the PDF is missing and offers to try again, and the API starts a new attempt; once
    the key is mended, the next attempt seals it."""
    from planner.core import jobs
    from planner.spec import pades, seal

    project, access, version, people = board
    signoff.set_signers(db.session, access, [people["wei"].user.id], in_order=False)
    signoff.put_up_for_signoff(db.session, access, version)
    db.session.commit()
    good_key = app.config["SIGNING_P12"]
    broken = tmp_path / "broken.p12"
    broken.write_bytes(b"not a PKCS#12 file")
    app.config["SIGNING_P12"] = str(broken)
    try:
        url = f"/projects/{project.id}/spec/versions/1"
        signed = api_as(people["wei"].user).post(
            f"{url}/signoffs",
            json={"meaning": "approved", "password": Factory.PASSWORD, "digest": version.digest},
        )
        assert signed.status_code == 201  # the signature does not wait for the seal
        db.session.expire_all()
        assert signoff.state(db.session, version).signed_off
        assert seal.sealed(db.session, version) is None
        attempt = seal.last_attempt(db.session, version)
        assert attempt.state == jobs.JobState.FAILED and "PKCS#12" in attempt.error
        login(client, "ana")
        page = client.get(f"/projects/{project.id}/spec/versions/1")
        text = page.get_data(as_text=True)
        assert "Sealing the signed PDF failed" in text and "Try sealing again" in text
        again = api_as(access.user).get(f"{url}.pdf")  # the API tries again: fails again
        assert again.status_code == 202 and again.get_json()["state"] == "failed"
        assert seal.last_attempt(db.session, version).id != attempt.id
    finally:
        app.config["SIGNING_P12"] = good_key
    token = csrf_token(client, f"/projects/{project.id}/spec/versions/1")
    retried = client.post(
        f"/projects/{project.id}/spec/versions/1.pdf/start", data={"csrf_token": token}
    )
    assert retried.status_code == 303  # to the job's page; in tests the job has run
    db.session.expire_all()
    row = seal.sealed(db.session, version)
    assert row is not None and row.signed
    with open(app.config["SIGNING_CA"], "rb") as ca:
        assert pades.verify_pdf(row.data, ca.read(), expected_signers=1).valid
    served = client.get(f"/projects/{project.id}/spec/versions/1.pdf")
    assert served.status_code == 200 and served.data == row.data
    assert "The signed PDF" in client.get(f"/projects/{project.id}/spec/versions/1").get_data(
        as_text=True
    )
