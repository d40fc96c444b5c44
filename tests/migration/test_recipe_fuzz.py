"""Every value of a recipe document replaced by a value of another JSON type: the parser
refuses it with a ValidationError naming where, never another exception (a 500 in the app)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from planner.core.errors import ValidationError
from planner.migration import recipe as engine
from planner.migration import targets

HOSTILE: list[Any] = [[], {}, [[]], [{}], {"a": 1}, 1.5, -1, True, None, "", "x" * 500, "\x00"]


def _document() -> dict[str, Any]:
    columns = ["ФИО", "Телефон", "E-mail", "Дата рождения", "Статус", "Компания"]
    document = targets.suggest(columns, "contacts").as_document()
    document["merge"] = {"by": ["email"], "winner": "first", "fields": {"phone": "longest"}}
    return document


def _places(value: Any, path: tuple = ()) -> list[tuple]:
    """Every path to a value inside the document (keys of objects and places in lists)."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _places(inner, (*path, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value[:3]):
            found += _places(inner, (*path, i))
    return found


def _replaced(document: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def test_the_document_itself_parses():
    assert engine.parse(_document()).as_document() == engine.parse(_document()).as_document()


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_any_value_of_another_type_is_refused_in_words(value):
    document = _document()
    crashed = []
    for path in _places(document):
        try:
            engine.parse(_replaced(document, path, value))
        except ValidationError as exc:
            assert exc.errors or exc.detail
        except Exception as exc:  # noqa: BLE001 - any other exception is the failure sought
            crashed.append((path, type(exc).__name__, str(exc)[:80]))
    assert crashed == []
