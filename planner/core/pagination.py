"""Pagination of long lists, the same for pages and the API."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from planner.core.db import MAX_INT
from planner.core.errors import ValidationError

T = TypeVar("T")
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    def meta(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "per_page": self.per_page,
            "total": self.total,
            "pages": self.pages,
        }


def page_args(args: Any, default_per_page: int) -> tuple[int, int]:
    """Read ``page`` and ``per_page`` from query arguments, refusing nonsense."""
    values: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    # The upper bound on page keeps the offset within what the database can count.
    for name, default, top in (("page", 1, MAX_INT), ("per_page", default_per_page, MAX_PER_PAGE)):
        try:
            values[name] = int(args.get(name, default))
        except (TypeError, ValueError):
            errors[name] = ["Not a whole number."]
            continue
        if not 1 <= values[name] <= top:
            errors[name] = [f"Between 1 and {top}."]
    if errors:
        raise ValidationError(
            f"page must be a whole number from 1, and per_page from 1 to {MAX_PER_PAGE}.", errors
        )
    return values["page"], values["per_page"]


def paginate(session: Session, stmt: Select[Any], page: int, per_page: int) -> Page[Any]:
    """Run ``stmt`` for one page: two statements whatever the size of the list."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, per_page=per_page, total=total)
