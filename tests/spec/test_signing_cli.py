"""`planner init-signing` makes a deployment's signing files; `planner verify` checks a signed
specification: its signatures, what changed after them, and which version it carries."""

from __future__ import annotations

import os

from planner.extensions import db
from planner.spec import pades
from planner.spec import service as spec
from planner.spec.report import report_pdf


def test_init_signing_writes_the_files_once(runner, tmp_path):
    folder = tmp_path / "signing"
    result = runner.invoke(args=["init-signing", "--directory", str(folder), "--name", "Carpathia"])
    assert result.exit_code == 0, result.output
    assert "PLANNER_SIGNING_P12=" in result.output and "your organisation's own" in result.output
    assert oct(os.stat(folder / "signing.p12").st_mode & 0o777) == "0o600"
    signer = pades.load_signer(
        (folder / "signing.p12").read_bytes(), (folder / "passphrase").read_bytes()
    )
    assert signer is not None
    again = runner.invoke(args=["init-signing", "--directory", str(folder)])
    assert again.exit_code != 0 and "nothing was written" in again.output


def test_verify_names_the_version_and_what_was_tampered_with(runner, factory, tmp_path):
    runner.invoke(args=["init-signing", "--directory", str(tmp_path)])
    signer = pades.load_signer(
        (tmp_path / "signing.p12").read_bytes(), (tmp_path / "passphrase").read_bytes()
    )
    lead = factory.user("ana", name="Ana Popescu")
    project = factory.project(lead)
    access = factory.lead_access(project)
    spec.start(db.session, access)
    version = spec.submit_version(db.session, access)
    db.session.commit()
    pdf = report_pdf(db.session, access)
    signed = pades.sign_pdf(
        pdf, signer, field_name="Signature1", signer_name="Li Wei", reason="approved"
    )
    good = tmp_path / "spec.pdf"
    good.write_bytes(signed)
    ca = str(tmp_path / "ca.pem")
    result = runner.invoke(args=["verify", str(good), "--ca", ca])
    assert result.exit_code == 0, result.output
    assert f"specification version {version.number} of rollout {project.id}" in result.output
    assert "Li Wei" in result.output and result.output.strip().endswith("valid")
    bad = tmp_path / "tampered.pdf"
    flipped = bytearray(signed)
    flipped[len(pdf) // 2] ^= 0x01
    bad.write_bytes(bytes(flipped))
    tampered = runner.invoke(args=["verify", str(bad), "--ca", ca])
    assert tampered.exit_code == 1 and "NOT valid" in tampered.output
    unsigned = tmp_path / "unsigned.pdf"
    unsigned.write_bytes(pdf)
    assert runner.invoke(args=["verify", str(unsigned), "--ca", ca]).exit_code == 1
