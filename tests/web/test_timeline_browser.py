"""The timeline in a real headless Chromium at a laptop's and a phone's width:
what a person sees, kept as screenshots in $ROTA_TEST_ARTIFACTS (default
test-artifacts/ at the top of the repository)."""


from datetime import date

import pendulum
import pytest
from browserkit import artifact, chromium, needs_chromium, serving
from rosterkit import away, member, team, yaml_text

from scheduler.core import Window
from scheduler.team import Team
from web import create_app


pytestmark = needs_chromium


@pytest.fixture
def site(roster_dir):
    path = roster_dir / "team.yaml"
    data = team(
        member("Ada Lovelace", away=[away("2027-02-08", "2027-02-19", "PTO")]),
        member("Grace Hopper", email="grace@example.gov"),
        member("Alan Turing", email="alan@example.gov"),
        member("Katherine Johnson", email="katherine@example.gov", away=[away("2027-03-29", "2027-04-02")]),
        member("Edsger Dijkstra", email="edsger@example.gov", left="2027-05-28"),
        member("Margaret Hamilton", email="margaret@example.gov", joined="2027-03-01"),
        holidays="US",
    )
    data["overrides"] = [{"from": "2027-01-13", "to": "2027-01-15", "replace": "alan@example.gov",
                          "with": "katherine@example.gov", "note": "Alan at a workshop"}]
    path.write_text(yaml_text(data))
    now = pendulum.datetime(2027, 1, 12, 15, tz="UTC")
    # Alan and Margaret trade stints in the spring: two bars drawn as swapped.
    weeks = Team.load(path).schedule().weeks(Window(date(2027, 3, 15), 12))
    alan = next(w for w in weeks if w.incoming.member == "alan@example.gov")
    margaret = next(w for w in weeks if w.incoming.member == "margaret@example.gov")
    data["swaps"] = [{"week": alan.monday.isoformat(), "member": "alan@example.gov", "with": "margaret@example.gov",
                      "with_week": margaret.monday.isoformat()}]
    path.write_text(yaml_text(data))
    app = create_app({"ROSTER": str(path), "SECRET_KEY": "browser-test", "CLOCK": lambda: now})
    with serving(app) as url:
        yield url


@pytest.fixture
def browser():
    with chromium() as browser:
        yield browser


def shoot(page, name):
    page.locator("section.timeline").screenshot(path=artifact(name))


def test_on_a_laptop_the_coming_weeks_fit_and_hovering_a_bar_says_who_and_why(site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(site + "/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    scroller = page.locator(".tl-scroll")
    assert scroller.evaluate("el => el.scrollWidth <= el.clientWidth")  # all 26 weeks at once, no scrolling
    assert page.locator(".tl-stint").count() > 20

    bar = page.locator(".tl-stint[data-member='ada@example.gov']").first
    bar.hover()
    tip = page.locator("#tl-tip")
    assert tip.is_visible()
    assert tip.inner_text() == bar.locator("title").text_content()
    assert tip.inner_text().startswith("Ada Lovelace: stint from ") and "Why: " in tip.inner_text()
    box, bar_box = tip.bounding_box(), bar.bounding_box()
    assert box["y"] >= bar_box["y"] + bar_box["height"] and box["x"] + box["width"] <= 1280  # beside it, on screen
    page.mouse.move(5, 5)
    assert tip.is_hidden()
    # A swapped stint has a dashed edge; its week numbers stay plain figures.
    swapped = page.locator(".tl-stint.swapped").first
    assert swapped.locator("rect.w2").evaluate("el => getComputedStyle(el).strokeDasharray") != "none"
    assert [t.evaluate("el => getComputedStyle(el).stroke") for t in swapped.locator("text").all()] == ["none"] * 2
    assert errors == []  # the script ran under the CSP and nothing failed
    page.locator("section.timeline").scroll_into_view_if_needed()
    bar.hover()
    shoot(page, "timeline-desktop.png")

    page.locator(".tl-labels a", has_text="Grace Hopper").click()
    assert page.locator("h1").inner_text() == "Grace Hopper"
    assert page.locator(".tl-stint").count() == page.locator(".tl-stint[data-member='grace@example.gov']").count() > 0
    shoot(page, "timeline-member-desktop.png")


def test_on_a_phone_the_picture_scrolls_sideways_and_the_lanes_stay_labelled(site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                  device_scale_factor=2)
    page = context.new_page()
    page.goto(site + "/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the page itself does not scroll sideways
    scroller = page.locator(".tl-scroll")
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth")  # the picture does
    label = page.locator(".tl-name", has_text="Ada Lovelace")
    before = label.bounding_box()
    shoot(page, "timeline-phone.png")

    scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    assert scroller.evaluate("el => el.scrollLeft") > 0
    after = label.bounding_box()
    assert (after["x"], after["width"]) == (before["x"], before["width"])  # still there, still whole
    assert 0 <= after["x"] and after["x"] + after["width"] <= 390
    last = page.locator(".tl-stint").last
    box = last.bounding_box()
    assert box["x"] < 390  # the far end is in view now
    last.tap()
    tip = page.locator("#tl-tip")
    assert tip.is_visible() and tip.inner_text() == last.locator("title").text_content()
    tip_box = tip.bounding_box()
    assert tip_box["x"] >= 0 and tip_box["x"] + tip_box["width"] <= 390
    shoot(page, "timeline-phone-scrolled.png")
    context.close()
