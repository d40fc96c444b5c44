"""Locale and time zone of the current user (Flask-Babel selectors)."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_login import current_user


def locale() -> str | None:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    return request.accept_languages.best_match(current_app.config["LANGUAGES"]) or "en"


def timezone() -> str | None:
    if not has_request_context():
        return None
    if current_user and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return None


def counted(n: int, one: str, many: str | None = None) -> str:
    """``n`` with the noun in the right number: "1 goal", "9 goals", "2 KPIs lack…". For
    messages made outside a request (services, audit summaries); pages use ``ngettext``."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def quoted(text: object, limit: int = 120) -> str:
    """``text`` between typographic quotes, its whitespace collapsed and shortened to ``limit``
    characters with an ellipsis: “Transparent sales pipeline”. For names in messages and audit
    summaries (never Python's ``'…'`` with its escapes)."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return f"“{flat}”"
