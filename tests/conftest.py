"""Fixtures: a real database per test (SQLite file, or PostgreSQL from TEST_DATABASE_URL)."""

from __future__ import annotations

import contextvars
import functools
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

from planner import create_app
from planner.extensions import db
from tests.factories import Factory

BASE_PG_URL = os.environ.get("TEST_DATABASE_URL")
# Under pytest-xdist each worker gets a database of its own beside the one given, made at the
# start of the session and dropped at its end: workers must not empty each other's tables.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
PG_URL = (
    make_url(BASE_PG_URL)
    .set(database=f"{make_url(BASE_PG_URL).database}_{WORKER}")
    .render_as_string(hide_password=False)
    if BASE_PG_URL and WORKER
    else BASE_PG_URL
)
SEEDS = Path(__file__).parent / "data" / "seeds"


@functools.cache
def signing_files() -> dict[str, str]:
    """A deployment's signing key, its passphrase and its authority, made once per test
    process (what `planner init-signing` writes), for the specification's sign-off."""
    from planner.spec import pades

    identity = pades.make_signing_identity("planner tests")
    folder = Path(tempfile.mkdtemp(prefix="planner-signing-"))
    files = {
        "SIGNING_P12": (folder / "signing.p12", identity.p12),
        "SIGNING_PASSPHRASE_FILE": (folder / "passphrase", identity.passphrase),
        "SIGNING_CA": (folder / "ca.pem", identity.ca_cert_pem),
    }
    for path, data in files.values():
        path.write_bytes(data)
    return {key: str(path) for key, (path, _data) in files.items()}


def _app(url: str, **extra: Any) -> Flask:
    return create_app(
        {
            **signing_files(),
            "PLANNER_ENV": "test",
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            "MAX_UPLOAD_BYTES": 256 * 1024,
            "MAX_CONTENT_LENGTH": 256 * 1024 + 64 * 1024,
            "PER_PAGE": 10,
            **extra,
        }
    )


def _migrate(app: Flask) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head once per session: a file to copy, or the PG URL."""
    if PG_URL:
        if PG_URL != BASE_PG_URL:
            _worker_database("create")
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        _migrate(_app(PG_URL))
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    _migrate(_app(f"sqlite:///{path}"))
    return str(path)


def _worker_database(action: str) -> None:
    """Create (dropping a leftover first) or drop this xdist worker's PostgreSQL database."""
    name = make_url(PG_URL).database
    engine = create_engine(BASE_PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if action == "create":
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if PG_URL and PG_URL != BASE_PG_URL:
        _worker_database("drop")


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ]
        if tables:
            conn.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
            )
    engine.dispose()


@pytest.fixture(scope="session")
def _database_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one SQLite file the session's tests run on, restored from the template each time."""
    return tmp_path_factory.mktemp("db") / "planner.sqlite3"


@pytest.fixture
def database_url(database_template: str, _database_path: Path) -> Iterator[str]:
    """A database at the latest schema with no rows, for this test alone.

    SQLite: the migrated template copied over the session's file (a copy is much cheaper than
    migrating); PostgreSQL: the session's database, emptied after the test.
    """
    if PG_URL:
        yield PG_URL
        _truncate_pg(PG_URL)
        return
    for suffix in ("-wal", "-shm"):
        Path(f"{_database_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(database_template, _database_path)
    yield f"sqlite:///{_database_path}"


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    Without this, requests would share the test's app context: one ``g`` (CSRF token cache,
    flags) and one database session across requests, hiding real bugs. After each request the
    test's own session is rolled back, so it reads what the request committed.
    """

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        try:
            return contextvars.Context().run(super().open, *args, **kwargs)
        finally:
            if has_app_context():  # not inside a redirect the client follows itself
                db.session.rollback()


@pytest.fixture(scope="session")
def _shared_app(database_template: str, _database_path: Path) -> Flask:
    """One application for the whole session: building one compiles every route and template
    again (about 0.2 s), so tests share it; each gets its own empty database (the app's URL
    is the session's file, restored before every test) and empty rate-limit counters."""
    app = _app(PG_URL or f"sqlite:///{_database_path}")
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def app(_shared_app: Flask, database_url: str) -> Iterator[Flask]:
    from planner.extensions import limiter

    with _shared_app.app_context():
        db.engine.dispose()  # no connection survives into this test's fresh database file
        limiter.reset()
        yield _shared_app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def factory(app: Flask) -> Factory:
    return Factory(db.session)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token from a rendered form, as a browser would get it."""
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert m, f"no CSRF token in {path}"
    return m.group(1)


def login(client: FlaskClient, username: str, password: str = Factory.PASSWORD):
    token = csrf_token(client, "/login")
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


@pytest.fixture
def login_as(client: FlaskClient):
    def do(username: str, password: str = Factory.PASSWORD) -> FlaskClient:
        resp = login(client, username, password)
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return client

    return do


class Api:
    """A bearer-token client for /api/v1."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client, self.token = client, token

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, **kw: Any):
        return self.client.get("/api/v1" + path, headers=self._headers(), **kw)

    def post(self, path: str, json: Any = None, **kw: Any):
        return self.client.post("/api/v1" + path, json=json, headers=self._headers(), **kw)

    def patch(self, path: str, json: Any = None, **kw: Any):
        return self.client.patch("/api/v1" + path, json=json, headers=self._headers(), **kw)

    def put(self, path: str, json: Any = None, **kw: Any):
        return self.client.put("/api/v1" + path, json=json, headers=self._headers(), **kw)

    def raw(self, method: str, path: str, **kw: Any):
        headers = self._headers(kw.pop("headers", None))
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kw)


@pytest.fixture
def api_as(client: FlaskClient, factory: Factory):
    def make(user) -> Api:
        return Api(client, factory.token(user))

    return make
