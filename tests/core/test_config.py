import base64
import stat

import pytest

from planner import create_app
from planner.config import ConfigError, load

A_DATA_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


@pytest.fixture(autouse=True)
def _data_key(monkeypatch):
    """Production needs a data key; the tests of other settings have one."""
    monkeypatch.setenv("PLANNER_DATA_KEY", A_DATA_KEY)


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PLANNER_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("PLANNER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s3cret-from-the-environment")
    monkeypatch.setenv("PLANNER_ONE_PROCESS", "1")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["SECRET_KEY"] == "s3cret-from-the-environment"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("PLANNER_ENV", "staging")
    with pytest.raises(ConfigError, match="PLANNER_ENV"):
        create_app()


def test_postgres_url_gets_the_psycopg_driver(monkeypatch, tmp_path):
    from planner.config import load

    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    cfg = load(str(tmp_path), {"PLANNER_ENV": "test"})
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path):
    from planner.extensions import db

    app = create_app(
        {"PLANNER_ENV": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/wal.db"}
    )
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
        db.engine.dispose()


def test_password_hashing_is_cheap_only_under_test(monkeypatch, tmp_path):
    from planner.core.accounts import service as accounts

    monkeypatch.setenv("SECRET_KEY", "s3cret-from-the-environment")
    monkeypatch.setenv("PLANNER_ONE_PROCESS", "1")
    url = f"sqlite:///{tmp_path}/x.db"
    with pytest.raises(ConfigError, match="tests only"):
        create_app(
            {
                "PLANNER_ENV": "production",
                "SQLALCHEMY_DATABASE_URI": url,
                "PASSWORD_HASH_PROFILE": "cheapest",
            }
        )
    with pytest.raises(ConfigError, match="PASSWORD_HASH_PROFILE"):
        create_app(
            {"PLANNER_ENV": "test", "SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_PROFILE": "md5"}
        )

    create_app({"PLANNER_ENV": "production", "SQLALCHEMY_DATABASE_URI": url})
    strong = accounts.hash_password("correct horse battery")
    assert "m=65536,t=3,p=4" in strong  # RFC 9106 low-memory, argon2id
    create_app({"PLANNER_ENV": "test", "SQLALCHEMY_DATABASE_URI": url})
    cheap = accounts.hash_password("correct horse battery")
    assert cheap.startswith("$argon2id$") and "m=8,t=1,p=1" in cheap
    # A hash carries its parameters: one made at full cost still verifies under the cheap one.
    assert accounts._hasher.verify(strong, "correct horse battery")


def test_production_refuses_a_per_process_login_limiter(monkeypatch, tmp_path):
    """memory:// counts each process's attempts apart: with four workers, four times the
    attempts. Production needs a shared store, or to be told that one process serves it."""
    from planner.config import load

    monkeypatch.setenv("SECRET_KEY", "s3cret-from-the-environment")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("PLANNER_ONE_PROCESS", raising=False)
    with pytest.raises(ConfigError, match="memory://.*PLANNER_ONE_PROCESS=1"):
        load(str(tmp_path), {"PLANNER_ENV": "production"})
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    assert load(str(tmp_path), {"PLANNER_ENV": "production"})["RATELIMIT_STORAGE_URI"].startswith(
        "redis://"
    )
    monkeypatch.delenv("RATELIMIT_STORAGE_URI")
    monkeypatch.setenv("PLANNER_ONE_PROCESS", "1")
    assert load(str(tmp_path), {"PLANNER_ENV": "production"})["ONE_PROCESS"] is True
    # development (the quick start: one process) and tests keep memory://
    assert load(str(tmp_path), {"PLANNER_ENV": "development"})["RATELIMIT_STORAGE_URI"] == (
        "memory://"
    )


@pytest.mark.parametrize("value", ["-1", "11", "two"])
def test_trusted_proxies_must_be_a_small_number(monkeypatch, tmp_path, value):
    from planner.config import load

    monkeypatch.setenv("PLANNER_TRUSTED_PROXIES", value)
    with pytest.raises(ConfigError, match="PLANNER_TRUSTED_PROXIES"):
        load(str(tmp_path), {"PLANNER_ENV": "test"})


def test_production_refuses_to_start_without_a_data_key(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s3cret-from-the-environment")
    monkeypatch.setenv("PLANNER_ONE_PROCESS", "1")
    monkeypatch.delenv("PLANNER_DATA_KEY")
    with pytest.raises(ConfigError, match="PLANNER_DATA_KEY is not set"):
        load(str(tmp_path), {"PLANNER_ENV": "production"})
    for bad in ("not base64 at all!", base64.urlsafe_b64encode(b"short").decode()):
        monkeypatch.setenv("PLANNER_DATA_KEY", bad)
        with pytest.raises(ConfigError, match="32 bytes in URL-safe base64"):
            load(str(tmp_path), {"PLANNER_ENV": "production"})
    monkeypatch.setenv("PLANNER_DATA_KEY", A_DATA_KEY)
    assert load(str(tmp_path), {"PLANNER_ENV": "production"})["DATA_KEY"] == A_DATA_KEY


def test_development_keeps_a_data_key_of_its_own_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("PLANNER_DATA_KEY")
    first = load(str(tmp_path), {"PLANNER_ENV": "development"})["DATA_KEY"]
    assert len(base64.urlsafe_b64decode(first)) == 32
    assert load(str(tmp_path), {"PLANNER_ENV": "development"})["DATA_KEY"] == first
    kept = tmp_path / "data_key"
    assert kept.read_text() == first and stat.S_IMODE(kept.stat().st_mode) == 0o600
