"""The one PDF pipeline: real WeasyPrint output, read back."""

import io
import json
import re
import socket
import threading
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from weasyprint import HTML

from planner.core.reports import BASE_URL, StaticOnlyFetcher, render_pdf

SEEDS = json.loads((Path(__file__).parent.parent / "data" / "seed_excerpts.json").read_text())
LANGS = [
    ("ro", SEEDS["000"]),
    ("zh", SEEDS["001"]),
    ("he", SEEDS["002"]),
    ("de", SEEDS["003"]),
    ("ru", SEEDS["ru"]),
]


def words(text: str) -> set[str]:
    return set(re.findall(r"\w{4,}", text))


def embedded_chars(reader: PdfReader) -> set[str]:
    """Every character some embedded font program has a glyph for (its cmap)."""
    chars: set[str] = set()
    seen = set()
    for page in reader.pages:
        for ref in page["/Resources"].get("/Font", {}).values():
            font = ref.get_object()
            if id(font) in seen:
                continue
            seen.add(id(font))
            desc = font.get("/FontDescriptor")
            if desc is None:
                desc = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            desc = desc.get_object()
            stream = desc.get("/FontFile2") or desc.get("/FontFile3") or desc.get("/FontFile")
            tt = TTFont(io.BytesIO(stream.get_object().get_data()))
            chars |= {chr(c) for c in (tt.getBestCmap() or {})}
    return chars


@pytest.fixture
def specimen(app):
    pdf = render_pdf(
        "sample.html",
        {"paragraphs": LANGS, "rollout": "CRM rollout — Carpathia", "filler": 90},
        title="Font specimen",
        author="Ana Popescu",
        subject="Pipeline check",
    )
    return PdfReader(io.BytesIO(pdf))


def test_metadata_pages_and_running_headers(specimen):
    meta = specimen.metadata
    assert meta.title == "Font specimen" and meta.author == "Ana Popescu"
    assert meta.subject == "Pipeline check"
    n = len(specimen.pages)
    assert n >= 3
    for i, page in enumerate(specimen.pages, start=1):
        text = page.extract_text()
        assert f"Page {i} of {n}" in text
        if i > 1:  # the cover has no running header
            assert "Font specimen" in text and "CRM rollout — Carpathia" in text


def test_every_script_is_found_again_by_text_extraction(specimen):
    text = "\n".join(p.extract_text() for p in specimen.pages)
    flat = re.sub(r"\s+", "", text)
    for lang, source in LANGS:
        if lang == "he":  # extraction order of right-to-left text may be visual
            found = words(text) | {w[::-1] for w in words(text)}
            hebrew = {w for w in words(source) if re.match(r"[\u0590-\u05ff]", w)}
            assert len(hebrew & found) >= 0.8 * len(hebrew), lang
        else:
            assert re.sub(r"\s+", "", source)[:60] in flat, lang


def test_no_glyph_falls_back_to_a_box(specimen):
    covered = embedded_chars(specimen)
    needed = {ch for _, text in LANGS for ch in text if not ch.isspace()}
    missing = sorted(needed - covered)
    assert missing == [], f"characters without a glyph in any embedded font: {missing}"


class Listener:
    """A local TCP listener that records any connection, for a bounded time."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        for _ in range(100):  # at most 20 s
            if self.stop.is_set():
                break
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def test_fetcher_reads_no_file_and_no_network(app):
    listener = Listener()
    try:
        html = f"""<html><head>
        <link rel="stylesheet" href="http://127.0.0.1:{listener.port}/s.css">
        <link rel="stylesheet" href="/static/pdf.css">
        <style>body {{ background: url(http://127.0.0.1:{listener.port}/bg.png); }}</style>
        </head><body><p>Comment</p>
        <img src="file:///etc/passwd"><img src="http://127.0.0.1:{listener.port}/x.png">
        <img src="/static/../planner/config.py"><img src="/static/%2e%2e/pyproject.toml">
        <iframe src="file:///etc/hostname"></iframe>
        </body></html>"""
        fetcher = StaticOnlyFetcher(app.static_folder)
        pdf = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()
    finally:
        listener.close()
    assert listener.connections == 0
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "root:" not in text
    assert fetcher.served == [BASE_URL + "static/pdf.css"]
    assert any("passwd" in u for u in fetcher.refused)
    assert any("config.py" in u or "%2e%2e" in u for u in fetcher.refused)
    assert len(fetcher.refused) >= 5


def test_reports_load_the_print_stylesheet(app):
    fetcher = StaticOnlyFetcher(app.static_folder)
    pdf = render_pdf(
        "sample.html", {"paragraphs": [], "rollout": "x", "filler": 0}, title="t", fetcher=fetcher
    )
    assert fetcher.served == [BASE_URL + "static/pdf.css"]
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 from pdf.css
