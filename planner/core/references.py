"""What refers to a record of an earlier area, asked before it is deleted.

A later area may hold records that refer to an earlier area's (a requirement serves a goal, an
interview was held with a department). The earlier area cannot import the later one, so the
later one registers a check here, and the earlier area's delete asks :func:`refuse_if_referred`
first: nothing the later area keeps is lost, or changed without a revision, by a cascade.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from planner.core.errors import Conflict

# (session, id) -> what refers to it, in words ("2 requirements: REQ-001, REQ-004")
ReferenceCheck = Callable[[Any, int], list[str]]
_CHECKS: dict[str, list[ReferenceCheck]] = {}


def register_reference(target: str) -> Callable[[ReferenceCheck], ReferenceCheck]:
    """Decorator: ``fn(session, target_id) -> [what refers, in words]`` for records of kind
    ``target`` ("goal", "department"); one statement or two, whatever the data."""

    def deco(fn: ReferenceCheck) -> ReferenceCheck:
        checks = _CHECKS.setdefault(target, [])
        if fn not in checks:
            checks.append(fn)
        return fn

    return deco


def referred_by(session: Any, target: str, target_id: int) -> list[str]:
    """Everything that refers to record ``target_id`` of kind ``target``, in words."""
    return [text for check in _CHECKS.get(target, []) for text in check(session, target_id)]


def refuse_if_referred(session: Any, target: str, target_id: int, what: str) -> None:
    """Raise Conflict naming what refers to the record, so that it is not deleted under it
    (``what`` names the record: "this goal")."""
    found = referred_by(session, target, target_id)
    if found:
        raise Conflict(
            f"{what[:1].upper()}{what[1:]} cannot be deleted: "
            + "; ".join(found)
            + " refer to it. Remove those references first, or keep it."
        )
