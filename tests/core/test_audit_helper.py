"""audit.log: one event of a change made through an access, its entity read from the object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from planner.core import audit
from planner.core.audit import AuditEvent
from planner.extensions import db


@dataclass
class StandIn:
    """A domain object: a table name and an id are all the helper reads."""

    __tablename__ = "widget"
    id: int


@dataclass
class User:
    id: int
    username: str


@dataclass
class Project:
    id: int


@dataclass(frozen=True)
class StandInAccess:
    user: Any
    project: Any


def _stored(ev: AuditEvent) -> AuditEvent:
    """The event as read back from the database, not the object in the session."""
    db.session.flush()
    event_id = ev.id
    db.session.expire_all()
    stored = db.session.scalar(select(AuditEvent).where(AuditEvent.id == event_id))
    assert stored is not None
    return stored


@pytest.fixture
def access(factory) -> StandInAccess:
    # actor_id is a foreign key to user.id: the stand-in carries the id of a real account.
    real = factory.user("lena")
    db.session.flush()
    return StandInAccess(user=User(id=real.id, username="lena"), project=Project(id=42))


def test_log_derives_type_id_project_and_actor(app, access: StandInAccess) -> None:
    ev = audit.log(db.session, access, "widget.create", StandIn(id=7), "widget 7 added")
    stored = _stored(ev)
    assert stored.action == "widget.create"
    assert stored.entity_type == "widget"
    assert stored.entity_id == 7
    assert stored.project_id == 42
    assert stored.actor_id == access.user.id
    assert stored.actor_name == "lena"
    assert stored.summary == "widget 7 added"
    assert stored.before is None and stored.after is None


def test_explicit_entity_type_and_id_win(app, access: StandInAccess) -> None:
    ev = audit.log(
        db.session,
        access,
        "scoresheet.submit",
        StandIn(id=7),
        entity_type="scoresheet",
        entity_id=99,
    )
    stored = _stored(ev)
    assert (stored.entity_type, stored.entity_id, stored.project_id) == ("scoresheet", 99, 42)


def test_without_an_object_the_type_is_given(app, access: StandInAccess) -> None:
    stored = _stored(
        audit.log(db.session, access, "score.put", summary="3 saved", entity_type="score")
    )
    assert (stored.entity_type, stored.entity_id, stored.summary) == ("score", None, "3 saved")


def test_without_an_object_or_a_type_it_refuses(app, access: StandInAccess) -> None:
    with pytest.raises(ValueError):
        audit.log(db.session, access, "score.put")


def test_a_summary_in_the_place_of_the_object_is_refused(app, access: StandInAccess) -> None:
    with pytest.raises(TypeError):
        audit.log(db.session, access, "score.put", "3 saved", entity_type="score")


def test_before_and_after_keep_only_changed_keys(app, access: StandInAccess) -> None:
    ev = audit.log(
        db.session,
        access,
        "widget.update",
        StandIn(id=7),
        before={"name": "old", "size": 3, "gone": 1},
        after={"name": "new", "size": 3, "added": 2},
    )
    stored = _stored(ev)
    assert stored.before == {"name": "old", "gone": 1}
    assert stored.after == {"name": "new", "added": 2}


def test_after_alone_is_kept_whole(app, access: StandInAccess) -> None:
    after = {"name": "new", "size": 3}
    stored = _stored(audit.log(db.session, access, "widget.create", StandIn(id=7), after=after))
    assert stored.after == after
    assert stored.before is None
