"""SQLite transactions: work outside a request that will write begins as a writer."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from planner.core.db import writing
from planner.extensions import db


def _begins(app, inside_writing: bool) -> list[str]:
    seen: list[str] = []

    def log(_conn, _cursor, statement, *_a):
        if statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", log)
    try:
        if inside_writing:
            with writing(), Session(db.engine) as s:
                s.execute(text("SELECT 1"))
        with Session(db.engine) as s:
            s.execute(text("SELECT 1"))
    finally:
        event.remove(db.engine, "before_cursor_execute", log)
    return seen


def test_writing_begins_immediate_and_only_inside_the_block(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("BEGIN IMMEDIATE is how SQLite queues writers; PostgreSQL locks rows")
    assert _begins(app, inside_writing=True) == ["BEGIN IMMEDIATE", "BEGIN"]
    assert _begins(app, inside_writing=False) == ["BEGIN"]
