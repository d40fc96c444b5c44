"""What every area's pages share: project access, error pages, headers, template helpers."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote

import markdown as md
import nh3
from flask import Flask, Response, current_app, flash, render_template, request
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from planner.core.db import request_writes
from planner.core.errors import DomainError
from planner.core.i18n import quoted
from planner.core.permissions import Permission
from planner.extensions import db

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

MARKDOWN_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


class IdConverter(IntegerConverter):
    """``<int:...>`` in routes: a whole number an id column can hold; a bigger one is not found.

    Without the bound, /projects/99999999999999999999 reached the database and failed there
    (a 500) instead of answering 404.
    """

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        from planner.core.db import MAX_INT

        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


def render_markdown(text: str | None) -> Markup:
    """User-written Markdown as sanitised HTML (nh3 allow-list; links get rel=noopener)."""
    if not text:
        return Markup("")
    html = md.markdown(text, extensions=["tables", "sane_lists"], output_format="html")
    clean = nh3.clean(
        html,
        tags=MARKDOWN_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


DOWNLOAD_CSP = "default-src 'none'; sandbox"
_UNSAFE_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


def download_name(filename: str) -> str:
    """A file name safe in a Content-Disposition header and on any disk: NFC, no path, no
    control or reserved characters, no leading dots, at most 150 characters."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_IN_FILENAME.sub("_", name).strip(" .") or "download"
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 150 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:150]
    return name


def fixed(value: Any, places: int = 2, *, sign: bool = False) -> str:
    """A number with ``places`` decimals for people: halves away from zero (as a report's
    reader rounds, and as ``core.scoring.round_total`` does), binary noise trimmed first,
    and the separators of the reader's locale (1,234.50 in English, 1.234,50 in German); a
    dash for none. ``sign``: "+" in front of a positive number (a change)."""
    if value is None:
        return "—"
    number = Decimal(f"{float(value):.12g}").quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
    )
    if number == 0:
        number = abs(number)  # no "-0.0"
    text = format_decimal(number, format="#,##0" + ("." + "0" * places if places else ""))
    return ("+" if sign and number > 0 else "") + text


def writes(view: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a GET view that writes (an audited download), above the access decorator: the
    request's transactions begin as writers (:func:`planner.core.db.request_writes`), so that
    it queues behind other writers instead of failing to upgrade a read."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request_writes()
        return view(*args, **kwargs)

    wrapper.writes_on_get = True  # type: ignore[attr-defined]  # the API's auth hook reads it
    return wrapper


def upload_limit(config_key: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a view (right under its route) that takes larger files than the app's limit:
    its requests may be as large as ``config[config_key]`` bytes (plus room for the form's
    other fields), 413 above that before anything is read."""

    def deco(view: Callable[..., Any]) -> Callable[..., Any]:
        view.upload_limit = config_key  # type: ignore[attr-defined]  # read before a request
        return view

    return deco


def _apply_upload_limit() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    key = getattr(view, "upload_limit", None)
    if key is not None:
        request.max_content_length = current_app.config[key] + 64 * 1024


def send_download(
    data: bytes, filename: str, content_type: str, *, etag: str | None = None
) -> Response:
    """Bytes as a file download, the same for every area, page and API alike.

    Always an attachment (never rendered by the browser), with the name sanitised and given
    both as ASCII and as UTF-8 (RFC 6266), ``nosniff``, a sandbox CSP and an ETag (the SHA-256
    of the bytes unless given); a request whose If-None-Match holds that ETag gets 304.
    """
    name = download_name(filename)
    tag = etag or hashlib.sha256(data).hexdigest()
    if request.if_none_match.contains(tag):
        resp = Response(status=304)
    else:
        resp = Response(data, mimetype=content_type)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    resp.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    resp.headers["ETag"] = f'"{tag}"'
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp


def flash_error(exc: DomainError, form: Any | None = None) -> None:
    """Show a domain error beside the fields it names, or as a flash message."""
    errors = getattr(exc, "errors", {}) or {}
    placed = False
    if form is not None:
        for name, messages in errors.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = list(field.errors) + list(messages)
                placed = True
    if not placed or not errors:
        flash(exc.detail, "error")


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def register(app: Flask) -> None:
    """Error pages, security headers and template helpers."""

    @app.after_request
    def security_headers(response: Any) -> Any:
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["PLANNER_ENV"] == "production":
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint and not request.endpoint.endswith("static"):
            h.setdefault("Cache-Control", "no-store")
        return response

    @app.before_request
    def refuse_unusable_text() -> None:
        """Form fields and query arguments with NUL characters: 422, not a database error.
        (First, a view's own upload limit: the form is read here.)"""
        from planner.core.errors import ValidationError
        from planner.core.forms import unusable_text

        _apply_upload_limit()
        for source in (request.args, request.form):
            for key, value in source.items(multi=True):
                if unusable_text(key) or unusable_text(value):
                    raise ValidationError(
                        f"{quoted(key)}: text must not contain NUL characters.",
                        {key: ["Contains a NUL character."]},
                    )

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Any:
        db.session.rollback()
        if _wants_json():
            from planner.core.api import problem

            return problem(exc.status, exc.detail, errors=getattr(exc, "errors", None))
        return render_template("error.html", status=exc.status, detail=exc.detail), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if exc.code == 413:  # the limit that applied, in words
            limit = max((request.max_content_length or 0) - 64 * 1024, 1024)
            size = f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit // 1024} KB"
            exc.description = f"The upload is too large: at most {size} here. Nothing was stored."
        if _wants_json():
            from planner.core.api import problem

            resp = problem(exc.code or 500, exc.description or exc.name)
            if exc.code == 405 and exc.valid_methods:
                resp.headers["Allow"] = ", ".join(exc.valid_methods)
            return resp
        if exc.code and exc.code < 400:
            return exc
        return (
            render_template("error.html", status=exc.code, detail=exc.description),
            exc.code or 500,
        )

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        db.session.rollback()
        app.logger.exception("unhandled error")
        if app.config.get("PROPAGATE_EXCEPTIONS") and app.testing:
            raise exc
        if _wants_json():
            from planner.core.api import problem

            return problem(500, "An unexpected error occurred; it has been logged.")
        return render_template("error.html", status=500, detail=None), 500

    @app.template_filter("dt")
    def _dt(value: Any, fmt: str = "medium") -> str:
        return format_datetime(value, fmt) if value else ""

    @app.template_filter("d")
    def _d(value: Any, fmt: str = "medium") -> str:
        return format_date(value, fmt) if value else ""

    @app.template_filter("num")
    def _num(value: Any) -> str:
        return "" if value is None else format_decimal(value)

    @app.template_filter("fixed")
    def _fixed(value: Any, places: int = 2, sign: bool = False) -> str:
        return fixed(value, places, sign=sign)

    @app.template_filter("markdown")
    def _markdown(value: str | None) -> Markup:
        return render_markdown(value)

    @app.context_processor
    def helpers() -> dict[str, Any]:
        return {"Permission": Permission, "locale_code": str(get_locale() or "en")}


def form_page(
    form: Any,
    template: str,
    save: Callable[[Any], Any],
    *,
    success: str,
    next_url: str | Callable[[Any], str],
    **context: Any,
) -> Any:
    """The life of an edit page, the same in every area.

    GET renders the form. POST validates it, runs ``save(form)`` as one unit of work, flashes
    ``success`` and redirects; or renders the form again with what the user typed and the
    errors beside the fields (422 for invalid input, the domain error's status otherwise:
    409 for a stale edit or a duplicate).
    """
    from flask import redirect

    from planner.core.versioning import unit_of_work

    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 422
        else:
            try:
                with unit_of_work(db.session):
                    result = save(form)
            except DomainError as exc:
                flash_error(exc, form)
                status = exc.status
            else:
                flash(success, "success")
                return redirect(next_url(result) if callable(next_url) else next_url)
    return render_template(template, form=form, **context), status


def post_action(
    perform: Callable[[], Any],
    *,
    success: str,
    next_url: str,
    form: Any | None = None,
    invalid: str | None = None,
) -> Any:
    """A POST button's action, the same in every area: check the form (by default just its
    CSRF token: 400 if it is missing or expired), run ``perform()`` as one unit of work, flash
    ``success`` or the domain error, and go back to ``next_url``. A record that does not exist
    is still a 404. ``invalid`` is flashed when ``form`` has invalid fields (else 400).
    """
    from flask import abort, redirect

    from planner.core.errors import NotFound
    from planner.core.forms import ConfirmForm
    from planner.core.versioning import unit_of_work

    form = form if form is not None else ConfirmForm()
    if not form.validate_on_submit():
        if invalid is None or "csrf_token" in form.errors:
            abort(400, description="The form has expired or was altered; reload the page.")
        flash(invalid, "error")
        return redirect(next_url)
    try:
        with unit_of_work(db.session):
            perform()
    except NotFound:
        raise
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(success, "success")
    return redirect(next_url)


def confirm_page(
    perform: Callable[[], Any],
    *,
    title: str,
    message: str,
    action: str,
    cancel: str,
    success: str,
    next_url: str,
) -> Any:
    """Ask before a destructive action (GET), then do it (POST with the CSRF token)."""
    from flask import redirect

    from planner.core.forms import ConfirmForm
    from planner.core.versioning import unit_of_work

    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            with unit_of_work(db.session):
                perform()
            flash(success, "success")
        except DomainError as exc:
            flash_error(exc)
        return redirect(next_url)
    return render_template(
        "confirm.html", form=form, title=title, message=message, action=action, cancel=cancel
    )
