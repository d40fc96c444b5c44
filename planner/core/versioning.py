"""Refusing edits made on stale data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from planner.core.errors import DomainError, StaleEdit


@event.listens_for(Session, "before_flush")
def _remember_versioned_edits(session: Session, flush_context: Any, instances: Any) -> None:
    """Note which versioned records this flush updates (class and primary key).

    A failed flush forgets its changes, so this is how a lost race learns which record it was
    and can then name who saved it (see :func:`unit_of_work`).
    """
    session.info["versioned_edits"] = [
        (type(obj), inspect(obj).identity)
        for obj in session.dirty
        if hasattr(obj, "updated_by_id") and session.is_modified(obj)
    ]


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
        raise _saved_at_the_same_moment(session) from exc
    except DomainError:
        session.rollback()
        raise
    except Exception:
        session.rollback()
        raise


def _saved_at_the_same_moment(session: Session) -> StaleEdit:
    """The StaleEdit for an UPDATE that lost a race, naming who saved the record first.

    The records the failed flush was updating are read again, in a new transaction.
    """
    from planner.core.accounts.models import User

    name, version = None, -1
    for cls, identity in session.info.pop("versioned_edits", []):
        obj = session.get(cls, identity, populate_existing=True)
        if obj is None:  # deleted meanwhile
            continue
        who = session.get(User, obj.updated_by_id) if obj.updated_by_id else None
        name, version = (who.name if who else None), obj.version
        break
    return StaleEdit(
        f"{name or 'Someone else'} saved this record at the same moment as you. Reload it to "
        "see their changes, then make your edit again.",
        changed_by=name,
        current_version=version,
    )
