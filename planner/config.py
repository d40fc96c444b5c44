"""Settings read from the environment.

``PLANNER_ENV`` selects the profile: ``development`` (the default for ``planner run`` and the
quick start), ``test`` or ``production``. Outside development and tests the app refuses to start
without ``SECRET_KEY``.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Any

DEV_ENVS = {"development", "test"}
TEST_DATA_KEY = base64.urlsafe_b64encode(b"planner tests: not a secret key!").decode()


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app can safely start with."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _kept(instance_path: str, name: str, make: Any) -> str:
    """A development secret kept in the instance folder (mode 600): read if it is there, else
    made with ``make()`` and written."""
    path = Path(instance_path) / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value)
    path.chmod(0o600)
    return value


def _dev_secret(instance_path: str) -> str:
    """A per-checkout secret for development, kept in the instance folder."""
    return _kept(instance_path, "secret_key", lambda: secrets.token_urlsafe(48))


def _dev_data_key(instance_path: str) -> str:
    """A per-checkout key for the customer data kept encrypted, for development, kept in the
    instance folder beside the development database it protects."""
    return _kept(
        instance_path,
        "data_key",
        lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    )


def _data_key(env: str, instance_path: str, overrides: dict[str, Any]) -> str:
    """PLANNER_DATA_KEY: 32 bytes in URL-safe base64, the key customer data is encrypted with
    (an old CRM's exports). Production refuses to start without one; development keeps one
    in the instance folder; tests use a fixed key."""
    key = overrides.get("DATA_KEY") or os.environ.get("PLANNER_DATA_KEY")
    if not key:
        if env == "production":
            raise ConfigError(
                "PLANNER_DATA_KEY is not set: customer data is kept encrypted with it. Set it "
                "(for example: export PLANNER_DATA_KEY=$(python -c 'import base64, secrets; "
                "print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())')) and keep "
                "it apart from the database's backups."
            )
        key = _dev_data_key(instance_path) if env == "development" else TEST_DATA_KEY
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except (ValueError, TypeError) as exc:
        raise ConfigError("PLANNER_DATA_KEY must be 32 bytes in URL-safe base64") from exc
    if len(raw) != 32:
        raise ConfigError("PLANNER_DATA_KEY must be 32 bytes in URL-safe base64")
    return key


def load(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from the environment, then apply ``overrides``."""
    overrides = dict(overrides or {})
    env = overrides.get("PLANNER_ENV") or os.environ.get("PLANNER_ENV", "production")
    if env not in DEV_ENVS | {"production"}:
        raise ConfigError(f"PLANNER_ENV must be development, test or production, got {env!r}")

    secret = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY")
    if not secret:
        if env == "production":
            raise ConfigError(
                "SECRET_KEY is not set. Set it in the environment "
                "(for example: export SECRET_KEY=$(python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'))."
            )
        secret = _dev_secret(instance_path) if env == "development" else "test-secret-key"

    database_url = os.environ.get("DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "planner.sqlite3")
    )
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    max_upload = _int("PLANNER_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
    config: dict[str, Any] = {
        "PLANNER_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MAX_UPLOAD_BYTES": max_upload,
        # The whole request body: the file plus the form fields around it.
        "MAX_CONTENT_LENGTH": max_upload + 64 * 1024,
        "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env == "production",
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Failed logins a minute, per account and per client address. The address limit is
        # the looser one: it stops someone trying many accounts, while the failures of one
        # person at a shared address (an office behind one NAT) lock only the account tried.
        "LOGIN_ATTEMPTS_PER_MINUTE": _int("PLANNER_LOGIN_ATTEMPTS_PER_MINUTE", 5),
        "SIGNING_ATTEMPTS_PER_MINUTE": _int("PLANNER_SIGNING_ATTEMPTS_PER_MINUTE", 10),
        # the deployment's signing key (PKCS#12), its passphrase and its authority's certificate
        "SIGNING_P12": os.environ.get("PLANNER_SIGNING_P12"),
        "SIGNING_PASSPHRASE_FILE": os.environ.get("PLANNER_SIGNING_PASSPHRASE_FILE"),
        "SIGNING_CA": os.environ.get("PLANNER_SIGNING_CA"),
        # the key customer data (an old CRM's exports) is encrypted with, and how many days
        # after the migration gate passes the uploads are purged
        "DATA_KEY": _data_key(env, instance_path, overrides),
        "MIGRATION_PURGE_DAYS": _int("PLANNER_MIGRATION_PURGE_DAYS", 30),
        # an old CRM's export is larger than other uploads: its own limit (the uploads of the
        # data migration and the new CRM's exports reconciled with a pilot)
        "MIGRATION_MAX_UPLOAD_BYTES": _int("PLANNER_MIGRATION_MAX_UPLOAD_BYTES", 512 * 1024 * 1024),
        "LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE": _int(
            "PLANNER_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE", 30
        ),
        # The limiter's counters must be shared by every process serving the app: memory://
        # is per process, so production refuses it unless told there is only one process.
        "ONE_PROCESS": os.environ.get("PLANNER_ONE_PROCESS", "") == "1",
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host to trust
        # (werkzeug's ProxyFix); 0: none, the client address is the connection's.
        "TRUSTED_PROXIES": _int("PLANNER_TRUSTED_PROXIES", 0),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": ["en"],
        "PER_PAGE": _int("PLANNER_PER_PAGE", 25),
        "PREFERRED_URL_SCHEME": "https" if env == "production" else "http",
        # Background jobs (reports): run in the caller under test; otherwise a huey queue in a
        # SQLite file in the instance folder, or redis://... shared by several app servers.
        "JOBS_IMMEDIATE": env == "test",
        "JOBS_URL": os.environ.get("PLANNER_JOBS_URL", ""),
        # argon2id cost: the library's recommendation, or the cheapest parameters under test.
        "PASSWORD_HASH_PROFILE": "cheapest" if env == "test" else "default",
    }
    if env == "test":
        config["WTF_CSRF_ENABLED"] = True
    config.update(overrides)
    if config["PLANNER_ENV"] == "production" and config["SECRET_KEY"] in {"", None}:
        raise ConfigError("SECRET_KEY must not be empty")
    if config["PASSWORD_HASH_PROFILE"] not in {"default", "cheapest"}:
        raise ConfigError("PASSWORD_HASH_PROFILE must be default or cheapest")
    if config["PLANNER_ENV"] != "test" and config["PASSWORD_HASH_PROFILE"] != "default":  # noqa: S105
        raise ConfigError("the cheapest password hashing is for tests only (PLANNER_ENV=test)")
    if (
        config["PLANNER_ENV"] == "production"
        and str(config["RATELIMIT_STORAGE_URI"]).startswith("memory://")
        and not config["ONE_PROCESS"]
    ):
        raise ConfigError(
            "RATELIMIT_STORAGE_URI is memory://, which each process keeps for itself: with "
            "several app processes every one would allow the login attempts anew. Set it to a "
            "shared store (redis://host:6379/0), or PLANNER_ONE_PROCESS=1 if only one process "
            "serves the app."
        )
    if not 0 <= config["TRUSTED_PROXIES"] <= 10:
        raise ConfigError("PLANNER_TRUSTED_PROXIES must be a number of proxies from 0 to 10")
    return config
