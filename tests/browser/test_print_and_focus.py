"""Printing, keyboard focus and the data-migration pages at a phone's width, in Chromium, on the
demo rollout.

- Print shows what a form holds (a recipe's mapping table, the migration plan, a
  reconciliation's explanations) read-only, and leaves out what only acts: buttons, navigation,
  a form that is only a "Delete" button, the filters of a list.
- The keyboard focus ring is a solid outline of at least 2 px with at least 3:1 contrast against
  white; a mouse click on a button shows no ring.
- At 375 px every select of the recipe's mapping is wide enough to read its choice, the row's
  field stays in view while the table scrolls, the reconciliation's explanation can be reached and
  the document is never wider than the screen.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from planner import demo
from planner.extensions import db
from planner.goals.models import Goal
from planner.migration.models import MigrationRecipe, MigrationReconciliation

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def _log_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Your CRM rollouts").wait_for()


def _demo() -> dict[str, str]:
    """The demo rollout; the addresses of the pages looked at."""
    pid = demo.load(db.session).project_id
    db.session.commit()
    recipe = db.session.scalar(
        select(MigrationRecipe.id).where(MigrationRecipe.project_id == pid).limit(1)
    )
    reconciliation = db.session.scalar(
        select(MigrationReconciliation.id).where(MigrationReconciliation.project_id == pid).limit(1)
    )
    goal = db.session.scalar(select(Goal.id).where(Goal.project_id == pid).limit(1))
    assert recipe and reconciliation and goal
    base = f"/projects/{pid}"
    return {
        "recipe": f"{base}/migration/recipes/{recipe}",
        "preview": f"{base}/migration/recipes/{recipe}/preview",
        "reconciliation": f"{base}/migration/reconciliations/{reconciliation}",
        "plan": f"{base}/migration/plan",
        "delete_goal": f"{base}/goals/{goal}/delete",
        "audit": f"{base}/audit",
    }


def _luminance(rgb: str) -> float:
    """Relative luminance of a computed colour such as "rgb(0, 0, 0)"."""
    parts = [int(float(p)) for p in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [
        c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in parts
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast_with_white(rgb: str) -> float:
    return 1.05 / (_luminance(rgb) + 0.05)


def _focus_ring(page) -> dict:
    return page.evaluate(
        """() => { const e = document.activeElement, s = getComputedStyle(e);
        return {tag: e.tagName, visible: e.matches(':focus-visible'), style: s.outlineStyle,
                width: parseFloat(s.outlineWidth), color: s.outlineColor}; }"""
    )


def test_print_shows_what_forms_hold_and_hides_what_only_acts(app, browser_page):
    pages = _demo()
    page = browser_page
    _log_in(page, "lead")

    page.goto(pages["recipe"])
    page.emulate_media(media="print")
    mapping = page.locator(".table-wrap[aria-labelledby=mapping-caption]")
    assert mapping.is_visible()
    assert mapping.locator("select").first.is_visible()
    assert mapping.locator("input[type=checkbox]").first.is_visible()
    # the selects read as text: no box, no arrow
    select_box = mapping.locator("select").first.evaluate(
        "e => { e.getAnimations().forEach(a => a.finish()); const s = getComputedStyle(e);"
        " return [s.borderTopColor, s.backgroundImage]; }"
    )
    assert select_box == ["rgba(0, 0, 0, 0)", "none"]
    assert page.get_by_role("button", name="Save the mapping").is_hidden()
    assert page.get_by_role("button", name="Log out").is_hidden()
    assert page.locator(".site-header").is_hidden()
    assert page.locator(".phase-nav").is_hidden()
    assert page.locator("input[type=file]").first.is_hidden()
    # the whole table fits the sheet (A4 less its margins is about 680 px wide)
    page.set_viewport_size({"width": 680, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 680
    page.set_viewport_size({"width": 1280, "height": 900})

    page.emulate_media(media="screen")
    page.goto(pages["plan"])
    page.emulate_media(media="print")
    for label in ("Approach", "Records per batch", "Who has access to the data on the way"):
        assert page.get_by_label(label, exact=True).is_visible(), label
    assert page.get_by_label("Records per batch", exact=True).input_value() != ""
    assert page.get_by_role("button", name="Save the plan").is_hidden()

    page.emulate_media(media="screen")
    page.goto(pages["reconciliation"])
    page.emulate_media(media="print")
    assert page.locator("table textarea").first.is_visible()
    assert page.get_by_role("button", name="Save the explanations").is_hidden()

    # a form that is only a button leaves nothing behind, not an empty box
    page.emulate_media(media="screen")
    page.goto(pages["delete_goal"])
    assert page.locator("main form").first.is_visible()
    page.emulate_media(media="print")
    assert (
        page.locator("main form").evaluate_all(
            "forms => forms.filter(f => f.getClientRects().length > 0).length"
        )
        == 0
    )
    assert page.get_by_role("heading", level=1).is_visible()

    # a list's filters are not what the page holds: hidden as before; its table prints
    page.emulate_media(media="screen")
    page.goto(pages["audit"])
    page.emulate_media(media="print")
    assert page.locator("main form[method=get]").first.is_hidden()
    assert page.locator("main table").first.is_visible()
    assert page.problems == []  # type: ignore[attr-defined]


def test_keyboard_focus_ring_is_solid_and_clear_and_a_click_shows_none(app, browser_page):
    pages = _demo()
    page = browser_page
    _log_in(page, "lead")
    page.goto(pages["recipe"])

    page.keyboard.press("Tab")  # the skip link
    ring = _focus_ring(page)
    assert ring["tag"] == "A" and ring["visible"]
    assert ring["style"] == "solid" and ring["width"] >= 2, ring
    assert _contrast_with_white(ring["color"]) >= 3, ring

    seen = {ring["tag"]}
    for _ in range(60):  # on to a button (the header's "Log out") and a select of the mapping
        page.keyboard.press("Tab")
        ring = _focus_ring(page)
        if ring["tag"] in ("BUTTON", "SELECT") and ring["tag"] not in seen:
            seen.add(ring["tag"])
            assert ring["style"] == "solid" and ring["width"] >= 2, ring
            assert _contrast_with_white(ring["color"]) >= 3, ring
        if {"BUTTON", "SELECT"} <= seen:
            break
    assert {"A", "BUTTON", "SELECT"} <= seen

    # a mouse click on a button looks as it did: no ring
    page.goto(pages["recipe"])
    button = page.get_by_role("button", name="Save the mapping")
    button.evaluate("b => b.form.addEventListener('submit', e => e.preventDefault())")
    button.click()
    clicked = _focus_ring(page)
    assert clicked["tag"] == "BUTTON" and not clicked["visible"]
    assert clicked["style"] == "none", clicked


def test_migration_pages_are_usable_at_375_px(app, browser_page):
    pages = _demo()
    page = browser_page
    page.set_viewport_size(PHONE)
    _log_in(page, "lead")

    page.goto(pages["recipe"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    selects = page.evaluate(
        """() => { const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
        const ctx = document.createElement('canvas').getContext('2d');
        return [...document.querySelectorAll('.table-wrap select')].map(s => {
          const cs = getComputedStyle(s); ctx.font = cs.font;
          const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
          const text = ctx.measureText(s.selectedOptions[0].text).width;
          return {id: s.id, rem: s.getBoundingClientRect().width / rem, cut: text > room + 1};
        }); }"""
    )
    assert len(selects) >= 10
    assert [s for s in selects if s["rem"] < 8] == []
    assert [s for s in selects if s["cut"]] == []
    # scrolled to its far end, the table still shows which field a row is for
    region = page.locator(".table-wrap[aria-labelledby=mapping-caption]")
    region.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    offsets = region.evaluate(
        """e => { const th = e.querySelector('tbody th[scope=row]');
        const left = th.getBoundingClientRect().left - e.getBoundingClientRect().left;
        return [e.scrollLeft, left]; }"""
    )
    assert offsets[0] > 0 and abs(offsets[1]) <= 1, offsets
    last = page.locator(".table-wrap select").last
    last.scroll_into_view_if_needed()
    box = last.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]

    page.goto(pages["reconciliation"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    explanation = page.locator("table textarea").first
    explanation.focus()
    explanation.scroll_into_view_if_needed()
    box = explanation.bounding_box()
    assert box and box["width"] >= 12 * 16
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]

    page.goto(pages["preview"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # at a desktop's width the preview's first cleaned column is on the first screen, and the
    # recipe's table fits without scrolling
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(pages["preview"])
    start, room = page.evaluate(
        """() => { const c = document.querySelector('th.cleaned'), w = c.closest('.table-wrap');
        const left = c.getBoundingClientRect().left - w.getBoundingClientRect().left;
        return [left, w.clientWidth]; }"""
    )
    assert start < room
    page.goto(pages["recipe"])
    region = page.locator(".table-wrap[aria-labelledby=mapping-caption]")
    assert region.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert page.problems == []  # type: ignore[attr-defined]
