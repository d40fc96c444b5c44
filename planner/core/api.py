"""The JSON API's conventions, shared by every area.

- ``/api/v1``, authenticated only by ``Authorization: Bearer <token>`` (never by the session
  cookie, so no CSRF exposure); the same permissions as the pages.
- Errors are ``application/problem+json`` with a readable ``detail`` (RFC 9457).
- Input is validated by the same WTForms classes as the pages (:func:`validated`).
- Lists are paginated: ``{"items": [...], "page": .., "per_page": .., "total": .., "pages": ..}``.
- Each endpoint declares its documentation with :func:`doc`; ``/api/v1/openapi.json`` is built
  from those declarations and the forms.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from flask_wtf import FlaskForm

from planner.core.accounts.models import User
from planner.core.accounts.service import note_token_use, token_row, token_use_due
from planner.core.db import commit_apart, request_writes
from planner.core.errors import ValidationError
from planner.core.forms import ListBody, form_from_json, unusable_text
from planner.core.pagination import Page, page_args
from planner.core.permissions import Permission
from planner.extensions import csrf, db

PREFIX = "/api/v1"


def problem(status: int, detail: str, errors: dict[str, list[str]] | None = None, **extra: Any):
    from werkzeug.http import HTTP_STATUS_CODES

    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="planner"'
    return resp


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /api/v1 whose every route requires a bearer token."""
    bp = Blueprint(name, import_name, url_prefix=PREFIX)
    csrf.exempt(bp)

    @bp.before_request
    def authenticate() -> Any:
        view = bp_view(request.endpoint) if request.endpoint else None
        if getattr(view, "public", False):
            return None
        if getattr(view, "writes_on_get", False):  # see planner.core.web.writes
            request_writes()
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return problem(401, "Send an API token: Authorization: Bearer <token>.")
        row = token_row(db.session, token.strip())
        if row is None:
            return problem(401, "The API token is unknown, revoked, or its account is inactive.")
        user_id, token_id = row.user_id, row.id
        if token_use_due(row):  # in a writing transaction of its own: a GET stays a reader
            commit_apart(db.session, lambda: note_token_use(db.session, token_id))
        g.api_user = db.session.get(User, user_id)
        return None

    return bp


def bp_view(endpoint: str) -> Callable[..., Any] | None:
    from flask import current_app

    return current_app.view_functions.get(endpoint)


def api_user() -> User:
    return g.api_user


def json_body() -> Any:
    """The parsed JSON body; a clear 422 for a missing, malformed or non-JSON body.

    Text no database can store (NUL characters, lone surrogates) is refused too, naming where.
    """
    if not request.is_json:
        raise ValidationError("Send a JSON body with Content-Type: application/json.")
    try:
        data = request.get_json(silent=True)
    except RecursionError as exc:
        raise ValidationError("The JSON body is nested too deeply.") from exc
    if data is None:
        raise ValidationError("The request body is not valid JSON.")
    found = unusable_text_at(data)
    if found:
        where = found[0]
        raise ValidationError(
            f"{where or 'The body'}: text must not contain NUL characters or lone surrogates.",
            {w: ["Contains a NUL character or a lone surrogate."] for w in found if w} or None,
        )
    return data


def unusable_text_at(data: Any) -> list[str]:
    """The paths (``statement``, ``scores[2].comment``) of every unusable string, in order."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if unusable_text(value):
                found.append(path)
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                if unusable_text(key):
                    found.append(path)
                    continue
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{path}[{i}]", item) for i, item in enumerate(value)]))
    return found


def validated(form_cls: type[FlaskForm], **kwargs: Any) -> Any:
    """Validate the JSON body with the same form the page uses."""
    return form_from_json(form_cls, json_body(), **kwargs)


def paged(page: Page[Any], serialise: Callable[[Any], dict[str, Any]]) -> Response:
    return jsonify({"items": [serialise(x) for x in page.items], **page.meta()})


def paging(default: int = 25) -> tuple[int, int]:
    return page_args(request.args, default)


def doc(
    summary: str,
    *,
    body: type[FlaskForm] | ListBody | None = None,
    query: type[FlaskForm] | None = None,
    multipart: bool = False,
    returns: str = "JSON object",
    status: int = 200,
    paginated: bool = False,
    binary: bool | tuple[str, ...] = False,
    also: dict[int, str] | None = None,
    upload: tuple[str, ...] = (),
    public: bool = False,
    permission: Permission | str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach OpenAPI documentation to an endpoint; it is read by /api/v1/openapi.json.

    ``binary``: the endpoint answers with a file; True for any type (an artifact as it was
    uploaded), or the media types it sends (``("application/pdf",)``).
    ``upload``: the request body is a file of one of these media types (or multipart ``file``).
    ``also``: other success answers, as status and description (a 202 for a job under way).
    ``query``: the form that validates the query string (a list's filters), documented as
    query parameters.
    ``permission`` is what the endpoint requires in the project ("login" for any account,
    "blind" for results under blind scoring, "board" for the board that reviews: reviewers,
    the lead, executives); the authorization test walks every route with every role against
    it.
    """

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*a: Any, **kw: Any) -> Any:
            return fn(*a, **kw)

        wrapper.openapi = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "query": query,
            "multipart": multipart,
            "returns": returns,
            "status": status,
            "paginated": paginated,
            "binary": binary,
            "also": also or {},
            "upload": upload,
            "permission": permission,
        }
        wrapper.public = public  # type: ignore[attr-defined]
        return wrapper

    return deco
