"""Every page a person can reach in the demo rollout, at a phone's width (390 px): each answers
200 and none is wider than the screen. The pages are found by following the links of the pages
themselves (as the lead, a reviewer and an executive), one page per route, so a new page is
walked without being listed here."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from planner import demo
from planner.extensions import db

pytestmark = pytest.mark.browser

# Links that are not pages: files, leaving, the API's JSON.
NOT_PAGES = re.compile(
    r"^/(api/|static/|logout)|/(download|file|export|pdf|sheet)(\b|\.|/)|\.(pdf|xlsx|csv|json)$"
)


def _shape(path: str) -> str:
    """One page per route: ids replaced, so /goals/7 and /goals/9 are one shape."""
    return re.sub(r"/\d+(?=/|$)", "/N", path)


def _log_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Your CRM rollouts").wait_for()


def _walk(page, base: str, limit: int = 120) -> tuple[dict[str, int], dict[str, int]]:
    seen: set[str] = set()
    queue = ["/"]
    statuses: dict[str, int] = {}
    too_wide: dict[str, int] = {}
    host = urlsplit(base).netloc
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if _shape(path) in seen:
            continue
        seen.add(_shape(path))
        response = page.goto(path)
        statuses[path] = response.status if response else 0
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            too_wide[path] = width
        hrefs = page.eval_on_selector_all(
            "a[href]", "els => els.map(e => new URL(e.getAttribute('href'), document.baseURI).href)"
        )
        for href in hrefs:
            url = urlsplit(href)
            if url.netloc != host or NOT_PAGES.search(url.path):
                continue
            link = url.path + (f"?{url.query}" if url.query else "")
            if _shape(url.path) not in seen:
                queue.append(link)
    return statuses, too_wide


def test_every_page_fits_a_phone_screen(app, browser_page, live_server):
    demo.load(db.session)
    db.session.commit()
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    walked: dict[str, int] = {}
    for username in ("lead", "sales", "ceo", "admin"):
        _log_in(page, username)
        statuses, too_wide = _walk(page, live_server)
        assert too_wide == {}, username
        assert {p: s for p, s in statuses.items() if s != 200} == {}, username
        walked |= statuses
    # the walk reached the rollout's areas, not just the home page
    shapes = {_shape(p) for p in walked}
    assert {"/projects/N/goals", "/projects/N/vendors", "/projects/N/audit"} <= shapes
    assert len(shapes) >= 45
