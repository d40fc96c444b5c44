"""`planner init-signing` makes a deployment's signing files (`planner verify` is tested with
the verification page and API, in test_verify.py)."""

from __future__ import annotations

import os

from planner.spec import pades


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
