import pytest

from planner import create_app
from planner.config import ConfigError


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PLANNER_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("PLANNER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s3cret-from-the-environment")
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
