"""The model base, column types and mixins shared by every area."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Enum, ForeignKey, Integer, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest value an Integer column holds on every supported database (PostgreSQL's integer).
# Ids and numbers from users beyond it are refused before they reach the database, which would
# fail on them (OverflowError in SQLite, "integer out of range" in PostgreSQL).
MAX_INT = 2**31 - 1


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def str_enum(cls: type, name: str) -> Enum:
    """A Python StrEnum stored as its values in a VARCHAR with a CHECK (portable, migratable)."""
    return Enum(
        cls,
        name=name,
        values_callable=lambda e: [m.value for m in e],
        native_enum=False,
        length=20,
        validate_strings=True,
    )


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no zone, PostgreSQL keeps ``timestamptz``; either way the application sees an
    aware UTC datetime, and refuses naive ones so local times never slip in unnoticed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use planner.core.db.utcnow()")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Timestamped:
    """Creation and last-change times."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Versioned(Timestamped):
    """Optimistic locking: every update bumps ``version``; a stale update fails.

    Edit forms and API calls carry the version the user saw; the service compares it with the
    current one and raises :class:`planner.core.errors.StaleEdit` naming ``updated_by``.
    SQLAlchemy's ``version_id_col`` also guards the UPDATE itself, which catches two requests
    racing between their reads and their writes.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr
    def updated_by_id(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(ForeignKey("user.id", ondelete="SET NULL"), nullable=True)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.version}


_WRITING: ContextVar[bool] = ContextVar("planner_writing", default=False)


@contextmanager
def writing() -> Iterator[None]:
    """Transactions begun inside this block will write (SQLite: ``BEGIN IMMEDIATE``), as a
    request with a writing method does. For work outside a request that reads and then writes
    (a background job refreshing a cache): it queues behind other writers instead of failing
    with "database is locked" when its read snapshot has been outdated meanwhile."""
    token = _WRITING.set(True)
    try:
        yield
    finally:
        _WRITING.reset(token)


def commit_apart(session: Any, write: Callable[[], Any]) -> Any:
    """Run ``write()`` in a short transaction of its own that queues behind other writers, and
    commit it; what the session read before is rolled back first (it must hold no changes).

    For requests that only read but leave a trace (the audit row of a refused access, a token's
    last use): SQLite refuses to upgrade a read transaction to a write ("database is locked")
    once another request has written since it began, whatever the busy timeout; a transaction
    that begins as a writer waits its turn instead.
    """
    session.rollback()
    with writing():
        result = write()
        session.commit()
    return result


def request_writes() -> None:
    """Mark the current request as one that writes although its method is GET (an audited
    download): its transactions begin as writers (SQLite ``BEGIN IMMEDIATE``). Call it before
    the request's first statement; :func:`planner.core.web.writes` does, as a decorator."""
    from flask import g

    g.planner_writes = True


def writes_here() -> bool:
    """Whether transactions begun now are writers: inside :func:`writing`, or in a request
    whose method writes or that was marked with :func:`request_writes`."""
    from flask import g, has_request_context, request

    return _WRITING.get() or (
        has_request_context()
        and (request.method not in {"GET", "HEAD", "OPTIONS"} or g.get("planner_writes", False))
    )


def configure_engine(engine: Any) -> None:
    """SQLite: WAL, foreign keys on, a busy timeout, on every new connection.

    A request that may write (any method but GET/HEAD/OPTIONS, or one marked with
    :func:`request_writes`) opens its transaction with ``BEGIN IMMEDIATE``: writers queue behind
    each other (up to the busy timeout) instead of failing with "database is locked" when one
    upgrades a read transaction another has outdated. Reads run concurrently with everything (WAL).
    """
    from sqlalchemy import event as sa_event

    if engine.dialect.name != "sqlite" or getattr(engine, "_planner_configured", False):
        return
    engine._planner_configured = True

    @sa_event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writes_here() else "BEGIN")

    @sa_event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, see _begin
