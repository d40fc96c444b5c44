"""The one PDF pipeline: a template in ``templates/pdf/`` and its data in, PDF bytes out.

Every report of the product (vendor evaluation, specification, test report, training plan,
executive summary) goes through :func:`render_pdf`. WeasyPrint renders it with a locked
``url_fetcher``: it serves the app's own static files and nothing else, so user text such as
``<img src="file:///etc/passwd">`` or a link to an internal address cannot read a file or
reach the network. Fonts come from the system's fontconfig (Noto for Latin, Cyrillic, Hebrew
and CJK; installed by ``.ci/setup``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcher

# A base URL that resolves nowhere: relative links in templates join onto it, and only the
# fetcher below knows how to answer for it.
BASE_URL = "https://planner.invalid/"
STATIC_PREFIX = "/static/"
TYPES = {
    ".css": "text/css",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}


class RefusedURL(ValueError):
    """The report asked for something outside the app's static files."""


@cache
def _fetcher_class() -> type[URLFetcher]:
    """WeasyPrint is imported when the first report is rendered, not when the app starts (it
    takes most of a second): the class that subclasses its fetcher is made then."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serves files under ``static_folder`` for ``https://planner.invalid/static/...``;
        refuses every other URL without opening it (WeasyPrint then skips the resource)."""

        def __init__(self, static_folder: str | Path) -> None:
            super().__init__(allowed_protocols=set(), allow_redirects=False)
            self.root = Path(static_folder).resolve()
            self.served: list[str] = []
            self.refused: list[str] = []

        def resolve(self, url: str) -> Path:
            parts = urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}/" != BASE_URL or not parts.path.startswith(
                STATIC_PREFIX
            ):
                raise RefusedURL(f"not an app asset: {url[:200]}")
            relative = unquote(parts.path[len(STATIC_PREFIX) :])
            path = (self.root / relative).resolve()
            if not path.is_relative_to(self.root) or not path.is_file():
                raise RefusedURL(f"no such app asset: {url[:200]}")
            if path.suffix.lower() not in TYPES:
                raise RefusedURL(f"not an asset type a report may load: {url[:200]}")
            return path

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            try:
                path = self.resolve(url)
            except RefusedURL:
                self.refused.append(url)
                raise
            self.served.append(url)
            return URLFetcherResponse(
                url, path.read_bytes(), {"Content-Type": TYPES[path.suffix.lower()]}
            )

    return StaticOnlyFetcher


def __getattr__(
    name: str,
) -> Any:  # PEP 562: ``from planner.core.reports import StaticOnlyFetcher``
    if name == "StaticOnlyFetcher":
        return _fetcher_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def static_url(filename: str) -> str:
    """The URL of a static file as a report template refers to it."""
    return BASE_URL + STATIC_PREFIX.lstrip("/") + filename


def render_pdf(
    template_name: str,
    context: dict[str, Any],
    *,
    title: str,
    author: str | None = None,
    subject: str | None = None,
    lang: str = "en",
    fetcher: URLFetcher | None = None,
    progress: Callable[[int, str], None] | None = None,
) -> bytes:
    """Render ``templates/pdf/<template_name>`` with ``context`` to PDF bytes.

    Needs an app context (a request context is not needed). ``title``, ``author`` and
    ``subject`` become the document's metadata and its running header. ``progress(percent,
    stage)`` is told when layout and writing start (a background job shows it).
    """
    html = render_template(
        f"pdf/{template_name}",
        **context,
        report_title=title,
        report_author=author,
        report_subject=subject,
        report_lang=lang,
        report_generated=datetime.now(UTC),
        static_url=static_url,
    )
    from weasyprint import HTML

    fetcher = fetcher or _fetcher_class()(current_app.static_folder or "static")
    if progress:
        progress(40, "laying out the pages")
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render()
    if progress:
        progress(85, f"writing {len(document.pages)} pages")
    return document.write_pdf()
