"""Refusing edits made on stale data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from planner.core.errors import DomainError, StaleEdit


def ensure_version(session: Session, obj: Any, expected: int | None) -> None:
    """Raise StaleEdit unless ``obj.version`` is the version the user edited.

    The message names the user who saved the newer version, so the user knows whom to ask.
    """
    if expected is None or obj.version == expected:
        return
    from planner.core.accounts.models import User

    who = session.get(User, obj.updated_by_id) if obj.updated_by_id else None
    name = who.name if who else None
    by = f" by {name}" if name else ""
    raise StaleEdit(
        f"This record was changed{by} since you opened it (your version {expected}, "
        f"now {obj.version}). Reload it to see the changes, then make your edit again.",
        changed_by=name,
        current_version=obj.version,
    )


@contextmanager
def unit_of_work(session: Session) -> Iterator[None]:
    """Commit once at the end; roll back on any error.

    A concurrent update caught by the database (the row's version moved between our read and
    our write) becomes a StaleEdit, so the caller answers 409 as for any stale edit.
    """
    try:
        yield
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise StaleEdit(
            "Someone else saved this record at the same moment. Reload it to see their "
            "changes, then make your edit again.",
            changed_by=None,
            current_version=-1,
        ) from exc
    except DomainError:
        session.rollback()
        raise
    except Exception:
        session.rollback()
        raise
