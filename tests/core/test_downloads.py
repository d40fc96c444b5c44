"""One download helper for every file the app hands out (artifacts, exports, PDFs)."""

from __future__ import annotations

import hashlib

import pytest

from planner.core.web import download_name, send_download


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("Ofertă finală.pdf", "Ofertă finală.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\contract.docx", "contract.docx"),
        ('evil"; filename="x.html', "evil_ filename=_x.html"),
        ("line\r\nX-Injected: 1.txt", "line_X-Injected_ 1.txt"),
        ("...", "download"),
        (".hidden", "hidden"),
        ("需求说明书.xlsx", "需求说明书.xlsx"),
        ("a" * 300 + ".xlsx", "a" * 145 + ".xlsx"),
    ],
)
def test_download_names_are_sanitised(given, safe):
    assert download_name(given) == safe


def test_send_download_headers_and_conditional_request(app):
    data = b"%PDF-1.7 the report"
    with app.test_request_context("/"):
        resp = send_download(data, "Raport de evaluare.pdf", "application/pdf")
    assert resp.status_code == 200 and resp.get_data() == data
    assert resp.headers["Content-Disposition"] == (
        'attachment; filename="Raport de evaluare.pdf"; '
        "filename*=UTF-8''Raport%20de%20evaluare.pdf"
    )
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    tag = hashlib.sha256(data).hexdigest()
    assert resp.headers["ETag"] == f'"{tag}"'
    with app.test_request_context("/", headers={"If-None-Match": f'"{tag}"'}):
        again = send_download(data, "Raport de evaluare.pdf", "application/pdf")
    assert again.status_code == 304 and again.get_data() == b""


def test_non_ascii_names_get_an_ascii_fallback(app):
    with app.test_request_context("/"):
        resp = send_download(b"x", "Ofertă.pdf", "application/pdf")
    assert resp.headers["Content-Disposition"] == (
        "attachment; filename=\"Ofert_.pdf\"; filename*=UTF-8''Ofert%C4%83.pdf"
    )


def test_numbers_for_people_round_half_up_in_the_readers_locale(app):
    from flask_babel import force_locale

    from planner.core.web import fixed

    with app.test_request_context():
        assert fixed(77.125) == "77.13"  # half up, though the float is 77.12499…
        assert fixed(1234.5, 2) == "1,234.50" and fixed(None) == "—"
        assert fixed(2.25, 1, sign=True) == "+2.3" and fixed(-0.04, 1) == "0.0"
        with force_locale("de"):
            assert fixed(1234.5, 2) == "1.234,50"
