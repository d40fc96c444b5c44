"""The login limit holds across processes (a shared Redis store) and counts the real client
behind a trusted reverse proxy, and only then."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from planner import create_app
from planner.core.audit import AuditEvent
from planner.extensions import db
from tests.conftest import csrf_token
from tests.factories import Factory

ROOT = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379/0"
SERVE = """
import sys
from werkzeug.serving import run_simple
from planner import create_app
app = create_app({"RATELIMIT_KEY_PREFIX": sys.argv[2]})
run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=True)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the app on port {port} did not start")


@pytest.fixture
def two_processes(database_url: str) -> Iterator[list[str]]:
    """The app served by two separate processes on the test's database, sharing Redis as the
    limiter's store (under a key prefix of this test's own)."""
    env = {
        **os.environ,
        "PLANNER_ENV": "test",
        "SECRET_KEY": "one-secret-for-both-processes",
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": REDIS,
    }
    prefix = f"planner-test-{uuid.uuid4().hex}"
    ports = [_free_port(), _free_port()]
    procs = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", SERVE, str(port), prefix],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        for port, proc in zip(ports, procs, strict=True):
            _wait_for(port, proc)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
            if proc.stderr is not None:
                proc.stderr.close()


def _try_login(base: str, username: str, password: str) -> int:
    """A browser's login: the form (for its CSRF token and cookie), then the POST."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        _NoRedirect(),
    )
    html = opener.open(f"{base}/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert token, "no CSRF token on the login page"
    body = urllib.parse.urlencode(
        {"username": username, "password": password, "csrf_token": token.group(1)}
    ).encode()
    try:
        return opener.open(f"{base}/login", data=body, timeout=30).status
    except urllib.error.HTTPError as exc:
        return exc.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 302 after login is the answer we want
        return None


def test_the_limit_is_shared_by_every_process(factory, two_processes):
    """Wrong passwords sent to two processes in turn: the sixth is refused, wherever it
    lands (with a per-process store each process would allow five)."""
    factory.user("ana")
    limit = 5
    statuses = [_try_login(two_processes[i % 2], "ana", "wrong password") for i in range(limit + 1)]
    assert statuses == [401] * limit + [429]
    assert _try_login(two_processes[0], "ana", Factory.PASSWORD) == 429
    assert _try_login(two_processes[1], "ana", Factory.PASSWORD) == 429


def _fail_from(client, forwarded: str):
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"username": "ana", "password": "wrong", "csrf_token": token},
        headers={"X-Forwarded-For": forwarded},
        environ_overrides={"REMOTE_ADDR": "10.9.9.9"},  # the proxy
    )


@pytest.mark.parametrize("trusted", [0, 1])
def test_the_client_address_behind_a_trusted_proxy(database_url, factory, trusted):
    """With one trusted proxy the address it forwards is the client's (in the audit trail and
    for the address limit); with none, a forwarded address is ignored (anyone can send one)."""
    factory.user("ana")
    app = create_app(
        {
            "PLANNER_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TRUSTED_PROXIES": trusted,
            "LOGIN_ATTEMPTS_PER_MINUTE": 100,
            "LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE": 2,
        }
    )
    try:
        client = app.test_client()
        with app.app_context():
            statuses = [_fail_from(client, f"203.0.113.{i % 2}").status_code for i in range(4)]
            addresses = db.session.scalars(
                select(AuditEvent.remote_addr).where(AuditEvent.action == "login.failed")
            ).all()
    finally:
        with app.app_context():
            db.engine.dispose()
    if trusted:
        # two clients, two attempts each: within each one's limit
        assert statuses == [401] * 4
        assert sorted(addresses) == ["203.0.113.0"] * 2 + ["203.0.113.1"] * 2
    else:
        # one address (the proxy's) for all: the third is over the limit
        assert statuses == [401, 401, 429, 429]
        assert addresses == ["10.9.9.9"] * 2
