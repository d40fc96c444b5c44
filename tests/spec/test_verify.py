"""Verifying a signed specification handed in as a file: `planner verify`, the page and
POST /api/v1/verify say which rollout and version it is, whether it is the sealed PDF stored
here, whether each signature is intact and the deployment's, whether anything changed after
the last signature, and whether the JSON it carries is what was signed; every kind of
tampering is named."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from planner.core.permissions import Role
from planner.extensions import db
from planner.requirements import service as requirements
from planner.spec import pades, seal, service, signoff
from tests.conftest import csrf_token, login
from tests.factories import Factory
from tests.spec import tamper


@pytest.fixture
def sealed(factory):
    """A rollout whose specification version 1 two executives signed, sealed by the job."""
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead, name="Rollout Ιάσιο 技术")
    access = factory.lead_access(project)
    requirements.create_requirement(
        db.session,
        access,
        title="Reclamații în 24 h — 投诉处理 — טיפול בתלונות",
        type="functional",
        priority="must",
        status="accepted",
        acceptance_criterion="24 h",
    )
    service.start(db.session, access)
    version = service.submit_version(db.session, access)
    execs = [
        factory.access(project, factory.member(project, factory.user(n, name=full), Role.EXECUTIVE))
        for n, full in (("wei", "Li Wei"), ("ioana", "Ioana Dumitrescu"))
    ]
    signoff.set_signers(db.session, access, [e.user.id for e in execs], in_order=True)
    signoff.put_up_for_signoff(db.session, access, version)
    for e in execs:
        signoff.sign(
            db.session,
            e,
            version,
            shown_digest=version.digest,
            meaning="approved",
            conditions="",
            password=Factory.PASSWORD,
        )
    db.session.commit()
    seal.after_signature(db.session, access, version)  # the job runs now, in tests
    row = seal.sealed(db.session, version)
    assert row is not None and row.signed
    return project, version, row.data


def _verify(runner, app, tmp_path, data: bytes):
    path = tmp_path / "handed-in.pdf"
    path.write_bytes(data)
    return runner.invoke(args=["verify", str(path), "--ca", app.config["SIGNING_CA"]])


def _end_of_first_signature(data: bytes) -> int:
    first = PdfFileReader(io.BytesIO(data)).embedded_regular_signatures[0]
    return first.byte_range[2] + first.byte_range[3]


def test_the_sealed_pdf_verifies_and_names_its_rollout_and_version(sealed, runner, app, tmp_path):
    project, version, data = sealed
    result = _verify(runner, app, tmp_path, data)
    assert result.exit_code == 0, result.output
    assert f"specification version 1 of rollout {project.id} (Rollout Ιάσιο 技术)" in result.output
    assert "compared with the stored signed PDF: identical" in result.output
    assert "signature 1: Li Wei" in result.output and "signature 2: Ioana Dumitrescu" in (
        result.output
    )
    assert result.output.strip().endswith("valid")


def test_a_flipped_byte_is_named(sealed, runner, app, tmp_path):
    _project, _version, data = sealed
    result = _verify(runner, app, tmp_path, tamper.flip_in_page_content(data))
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith("problem:")]
    assert any(
        line.startswith("problem: signature 1 for Li Wei (certificate ")
        and line.endswith("is not intact: the bytes it signed were changed")
        for line in problems
    ), problems
    assert "not byte for byte the stored signed PDF" in result.output
    assert result.output.strip().endswith("NOT valid")


def test_an_appended_update_is_named(sealed, runner, app, tmp_path):
    _project, _version, data = sealed
    changed = tamper.update(data, tamper.draw_on_page)
    result = _verify(runner, app, tmp_path, changed)
    assert result.exit_code == 1
    assert "the file was changed after the last signature" in result.output
    assert f"{len(changed) - len(data)} bytes were appended to the stored signed PDF" in (
        result.output
    )


def test_a_stripped_signature_is_named(sealed, runner, app, tmp_path):
    _project, _version, data = sealed
    cut = data[: _end_of_first_signature(data)]
    ca = Path(app.config["SIGNING_CA"]).read_bytes()
    assert pades.verify_pdf(cut, ca).valid  # a valid file on its own: one signature short
    result = _verify(runner, app, tmp_path, cut)
    assert result.exit_code == 1
    assert "the file has 1 of 2 expected signatures" in result.output
    assert "the stored signed PDF cut short" in result.output


def test_a_pdf_of_a_version_in_review_is_not_a_signed_one(factory, runner, app, tmp_path):
    from planner.spec.report import report_pdf

    lead = factory.user("ana")
    project = factory.project(lead)
    access = factory.lead_access(project)
    service.start(db.session, access)
    service.submit_version(db.session, access)
    db.session.commit()
    result = _verify(runner, app, tmp_path, report_pdf(db.session, access))
    assert result.exit_code == 1
    assert "version 1 is not signed off" in result.output
    assert "the file has no signature" in result.output


def test_the_api_answers_the_verdict_to_members_only(sealed, api_as, factory):
    project, version, data = sealed
    member = api_as(factory.member(project, factory.user("vera"), Role.VIEWER))
    answer = member.post("/verify", data={"file": (io.BytesIO(data), "spec.pdf")})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["valid"] is True and body["problems"] == []
    assert body["rollout"] == {"id": project.id, "name": "Rollout Ιάσιο 技术"}
    assert body["version"] == {"number": 1, "sha256": version.digest}
    assert body["stored"] == "identical" and body["json"]["matches_signed_hash"] is True
    assert [s["name"] for s in body["signatures"]] == ["Li Wei", "Ioana Dumitrescu"]
    assert all(s["intact"] and s["trusted"] and not s["modified_after"] for s in body["signatures"])
    # the same file as the raw body
    raw = member.post("/verify", data=data, content_type="application/pdf")
    assert raw.get_json()["valid"] is True
    # a signed-in stranger learns the signatures hold, never whose rollout it is
    stranger = api_as(factory.user("mallory")).post(
        "/verify", data={"file": (io.BytesIO(data), "spec.pdf")}
    )
    verdict = stranger.get_json()
    assert stranger.status_code == 200 and verdict["valid"] is False
    assert verdict["rollout"] is None and verdict["version"] is None
    assert verdict["stored"] == "unknown"
    assert "Rollout" not in stranger.get_data(as_text=True)
    assert any(
        "no specification version of a rollout you can see" in p for p in verdict["problems"]
    )


@pytest.mark.parametrize(
    ("payload", "status", "named"),
    [
        (b"", 422, "Send the PDF to verify"),
        (b"%PDF-1.7\nnot really", 200, "the file is not a readable PDF"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, 200, "the file is not a readable PDF"),
    ],
)
def test_the_api_answers_bad_files_in_words(sealed, api_as, factory, payload, status, named):
    project, _version, _data = sealed
    member = api_as(factory.member(project, factory.user("vera"), Role.VIEWER))
    answer = member.post("/verify", data={"file": (io.BytesIO(payload), "x.pdf")})
    assert answer.status_code == status
    assert named in answer.get_data(as_text=True)


def test_the_page_verifies_an_upload(sealed, client, factory):
    project, _version, data = sealed
    factory.member(project, factory.user("vera"), Role.VIEWER)
    db.session.commit()
    login(client, "vera")
    empty = client.post("/verify", data={"csrf_token": csrf_token(client, "/verify")})
    assert empty.status_code == 422 and "Choose the PDF to verify." in empty.get_data(as_text=True)
    page = client.post(
        "/verify",
        data={"csrf_token": csrf_token(client, "/verify"), "file": (io.BytesIO(data), "s.pdf")},
        content_type="multipart/form-data",
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Valid." in text and "identical, byte for byte" in text
    assert "Li Wei" in text and "Rollout Ιάσιο 技术" in text
    cut = data[: _end_of_first_signature(data)]
    bad = client.post(
        "/verify",
        data={"csrf_token": csrf_token(client, "/verify"), "file": (io.BytesIO(cut), "s.pdf")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Not valid." in bad and "the file has 1 of 2 expected signatures" in bad
    expired = client.post("/verify", data={"file": (io.BytesIO(data), "s.pdf")})
    assert expired.status_code == 400


def test_the_sealed_pdf_embeds_every_font_as_pdffonts_reads_it(sealed, tmp_path):
    """poppler's pdffonts, an independent reader, lists every font of the signed PDF as
    embedded (PDF/A): the fonts of the multilingual text, and no font the signatures added."""
    import subprocess

    _project, _version, data = sealed
    path = tmp_path / "signed.pdf"
    path.write_bytes(data)
    listing = subprocess.run(  # noqa: S603 - poppler's tool on a file this test wrote
        ["/usr/bin/pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    # name, type (words), encoding, then emb, sub, uni and the object's number and generation
    assert listing[0].split()[-5:] == ["emb", "sub", "uni", "object", "ID"], listing[0]
    rows = listing[2:]
    assert rows, listing
    assert [r for r in rows if r.split()[-5] != "yes"] == [], listing
    names = " ".join(r.split()[0] for r in rows)
    assert "Noto-Sans-CJK" in names and "Noto-Sans-Hebrew" in names, names
