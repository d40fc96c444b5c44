"""The one PDF pipeline: a template in ``templates/pdf/`` and its data in, PDF bytes out.

Every report of the product (vendor evaluation, specification, test report, training plan,
executive summary) goes through :func:`render_pdf`. WeasyPrint renders it with a locked
``url_fetcher``: it serves the app's own static files and nothing else, so user text such as
``<img src="file:///etc/passwd">`` or a link to an internal address cannot read a file or
reach the network. Fonts come from the system's fontconfig (Noto for Latin, Cyrillic, Hebrew
and CJK; installed by ``.ci/setup``).

A report may ask for a PDF variant (``pdf_variant="pdf/a-3b"``, an archival PDF) and carry files
of its own inside the PDF (:class:`EmbeddedFile`, associated files of PDF/A-3): their bytes come
from the app, never from a URL, so they too fetch nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from flask import current_app, render_template

if TYPE_CHECKING:
    from weasyprint import Attachment
    from weasyprint.urls import URLFetcher

# A base URL that resolves nowhere: relative links in templates join onto it, and only the
# fetcher below knows how to answer for it.
BASE_URL = "https://planner.invalid/"
STATIC_PREFIX = "/static/"
EMBEDDED_PREFIX = "embedded/"  # where an embedded file's own fetcher answers (see EmbeddedFile)
# The colour profile of a PDF/A's output intent: WeasyPrint's own sRGB profile, under a name of
# ours (see _output_intent).
OUTPUT_INTENT = "planner-srgb"
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


@dataclass(frozen=True)
class EmbeddedFile:
    """A file the app puts inside a report's PDF (an associated file under PDF/A-3): its
    ``name`` in the PDF, its bytes, its MIME type, a description, and how it relates to the
    document (PDF/A-3's AFRelationship: "Source", "Data", "Alternative", "Supplement" or
    "Unspecified")."""

    name: str
    data: bytes
    media_type: str
    description: str = ""
    relationship: str = "Data"


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


@cache
def _embedded_fetcher_class() -> type[URLFetcher]:
    """The fetcher of one embedded file (made when the first report embeds one)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class EmbeddedFileFetcher(URLFetcher):
        """Answers for exactly one :class:`EmbeddedFile`, from its bytes and with its MIME type
        (WeasyPrint would otherwise guess the type from the name); refuses every other URL
        without opening anything."""

        def __init__(self, url: str, file: EmbeddedFile) -> None:
            super().__init__(allowed_protocols=set(), allow_redirects=False)
            self.url = url
            self.file = file

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            if url != self.url:
                raise RefusedURL(f"not this embedded file: {url[:200]}")
            return URLFetcherResponse(url, self.file.data, {"Content-Type": self.file.media_type})

    return EmbeddedFileFetcher


def _attachments(files: Sequence[EmbeddedFile], when: datetime) -> list[Attachment]:
    """WeasyPrint's attachments for ``files``, dated ``when`` (the report's time)."""
    from weasyprint import Attachment

    out = []
    for i, file in enumerate(files):
        url = f"{BASE_URL}{EMBEDDED_PREFIX}{i}/{quote(file.name)}"
        out.append(
            Attachment(
                url=url,
                url_fetcher=_embedded_fetcher_class()(url, file),
                name=file.name,
                description=file.description or None,
                relationship=file.relationship,
                created=when,
                modified=when,
            )
        )
    return out


@cache
def _srgb_icc() -> bytes:
    from importlib.resources import files

    return (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()


def _output_intent(pdf_variant: str | None) -> tuple[dict[str, Any], str | None]:
    """The colour profiles and output intent to render ``pdf_variant`` with.

    A PDF/A needs an output intent, and WeasyPrint 70 makes one from its bundled sRGB profile,
    which it opens and leaves to the garbage collector (a ResourceWarning each time). So the
    pipeline hands it that same profile itself, read once and closed, under a name of its own;
    the PDF is the same. Other variants and plain PDFs keep WeasyPrint's defaults."""
    if pdf_variant is None:
        return {}, None
    from weasyprint.css import ColorProfile
    from weasyprint.pdf import VARIANTS

    if VARIANTS[pdf_variant][1].get("output_intent") != "srgb":
        return {}, None
    profile = ColorProfile(
        io.BytesIO(_srgb_icc()), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"])
    )
    return {OUTPUT_INTENT: profile}, OUTPUT_INTENT


def _each_associated_file_once(document: Any, pdf: Any) -> None:
    """A finisher: WeasyPrint 70 lists each associated file of a PDF/A-3 twice in the
    catalog's /AF (once from the embedded files' name tree, once as a file specification);
    keep the first of each."""
    associated = pdf.catalog.get("AF")
    if associated:
        associated[:] = list(dict.fromkeys(associated))


def __getattr__(
    name: str,
) -> Any:  # PEP 562: ``from planner.core.reports import StaticOnlyFetcher``
    if name == "StaticOnlyFetcher":
        return _fetcher_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def static_url(filename: str) -> str:
    """The URL of a static file as a report template refers to it."""
    return BASE_URL + STATIC_PREFIX.lstrip("/") + filename


def report_html(
    template_name: str,
    context: dict[str, Any],
    *,
    title: str,
    author: str | None = None,
    subject: str | None = None,
    lang: str = "en",
    generated: datetime | None = None,
) -> str:
    """The HTML that :func:`render_pdf` hands to WeasyPrint: ``templates/pdf/<template_name>``
    with ``context`` and the report's metadata (a benchmark renders it alone to measure the
    pipeline's own cost)."""
    return render_template(
        f"pdf/{template_name}",
        **context,
        report_title=title,
        report_author=author,
        report_subject=subject,
        report_lang=lang,
        report_generated=generated or datetime.now(UTC),
        static_url=static_url,
    )


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
    pdf_variant: str | None = None,
    attachments: Sequence[EmbeddedFile] = (),
) -> bytes:
    """Render ``templates/pdf/<template_name>`` with ``context`` to PDF bytes.

    Needs an app context (a request context is not needed). ``title``, ``author`` and
    ``subject`` become the document's metadata and its running header. ``progress(percent,
    stage)`` is told when layout and writing start (a background job shows it).

    ``pdf_variant``: one of WeasyPrint's variants (e.g. ``"pdf/a-3b"``), None for a plain PDF.
    ``attachments``: files embedded in the PDF from their bytes (under PDF/A-3, associated
    files of the document with their relationship); the template's resources still come only
    through the locked fetcher. Raises KeyError for a variant WeasyPrint does not know.
    """
    generated = datetime.now(UTC)
    html = report_html(
        template_name,
        context,
        title=title,
        author=author,
        subject=subject,
        lang=lang,
        generated=generated,
    )
    from weasyprint import HTML

    fetcher = fetcher or _fetcher_class()(current_app.static_folder or "static")
    if progress:
        progress(40, "laying out the pages")
    profiles, intent = _output_intent(pdf_variant)
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(
        color_profiles=profiles, pdf_variant=pdf_variant, output_intent=intent
    )
    if progress:
        progress(85, f"writing {len(document.pages)} pages")
    return document.write_pdf(
        pdf_variant=pdf_variant,
        output_intent=intent,
        attachments=_attachments(attachments, generated) or None,
        finisher=_each_associated_file_once if attachments else None,
    )
