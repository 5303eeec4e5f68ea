"""End to end in a real headless Chromium (Debian's), driven by Playwright:
sign in, add an absence, see the coming weeks change, subscribe."""

import icalendar
import pytest
from browserkit import artifact, chromium, needs_chromium, serving
from rosterkit import team, yaml_text

from scheduler.store.editors import EditorStore
from web import create_app

PASSWORD = "correct horse battery staple"

pytestmark = needs_chromium


@pytest.fixture
def site(roster_dir):
    import pendulum

    path = roster_dir / "team.yaml"
    path.write_text(yaml_text(team("Ada Lovelace", "Bob Kahn", "Cy Young", "Di Fox", holidays="US")))
    EditorStore(roster_dir / "team.editors.json").add("ed@example.gov", PASSWORD, "Ed Itor")
    now = pendulum.datetime(2027, 1, 12, 15, tz="UTC")
    app = create_app({"ROSTER": str(path), "SECRET_KEY": "browser-test", "CLOCK": lambda: now})
    with serving(app) as url:
        yield url, path


@pytest.fixture
def page():
    with chromium() as browser:
        context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
        yield context.new_page()
        context.close()


def coming_weeks(page) -> dict[str, str]:
    """Week of -> incoming, as the table shows it."""
    rows = page.locator("section#coming tbody tr, section:has(h2#coming) tbody tr")
    found = {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("th, td")
        found[cells.nth(0).inner_text().split()[0]] = cells.nth(2).inner_text()
    return found


def test_sign_in_add_an_absence_see_the_weeks_change_and_subscribe(site, page, tmp_path):
    url, roster = site
    page.goto(url + "/")
    assert page.locator("h1").inner_text() == "Platform experts support"
    assert page.locator(".card .who").all_inner_texts() == ["Cy Young", "Bob Kahn"]
    before = coming_weeks(page)
    assert before["2027-01-18"] == "Di Fox"
    page.screenshot(path=artifact("index.png"), full_page=True)

    page.get_by_role("navigation").get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill("ed@example.gov")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert "Signed in as Ed Itor." in page.locator(".flash").inner_text()

    page.get_by_role("link", name="Edit the roster").click()
    form = page.locator("form", has=page.get_by_role("heading", name="Add an absence"))
    form.get_by_label("Who is away").select_option("di@example.gov")
    form.get_by_label("First day away").fill("2027-01-20")
    form.get_by_label("Last day away").fill("2027-01-21")
    form.get_by_role("button", name="Preview").click()
    assert page.locator("h1").inner_text() == "Preview: Di Fox away 2027-01-20 to 2027-01-21"
    assert "2027-01-18" in page.locator("table").inner_text()
    assert "2027-01-20" not in roster.read_text()  # previewing writes nothing
    page.get_by_role("button", name="Save this change").click()
    assert "Saved: Di Fox away 2027-01-20 to 2027-01-21." in page.locator(".flash").inner_text()
    assert "2027-01-20" in roster.read_text()

    page.get_by_role("link", name="Who is on support").click()
    after = coming_weeks(page)
    assert after["2027-01-18"] != "Di Fox" and after != before

    with page.expect_download() as download:
        page.locator("section.feeds a[download]").click()
    saved = tmp_path / "team.ics"
    download.value.save_as(saved)
    calendar = icalendar.Calendar.from_ical(saved.read_bytes())
    summaries = [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")]
    assert "Platform experts support" == str(calendar["X-WR-CALNAME"])
    assert any(s.startswith("Cy Young on support") for s in summaries)


def test_the_page_reads_on_a_phone(site, page):
    url, _ = site
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url + "/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing but the table scrolls sideways
    assert page.locator(".card").first.is_visible()
    page.screenshot(path=artifact("index-phone.png"), full_page=True)


def test_an_anonymous_visitor_sees_the_rotation_but_no_feed_links(site, page):
    url, _ = site
    page.goto(url + "/")
    assert page.locator(".card .who").all_inner_texts() == ["Cy Young", "Bob Kahn"]
    assert page.locator("a[href*='/feeds/'], a[href^='webcal:']").count() == 0
    assert "/feeds/" not in page.content()
    subscribe = page.locator("section.feeds")
    assert "ask an editor to send you your link" in subscribe.inner_text()
    subscribe.get_by_role("link", name="sign in").click()
    page.get_by_label("Email").fill("ed@example.gov")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.locator("section.feeds a[href^='webcal:']").count() == 5  # back on the page, links and all


@pytest.mark.parametrize("how", ["link", "form"])
def test_signing_in_with_a_tab_in_next_ends_on_the_site(site, page, how):
    url, _ = site
    page.goto(url + "/signin?next=%2F%09%2Fevil.example%2F")
    if how == "form":  # the attacker's own form posts the trick straight to /signin
        page.locator("input[name=next]").evaluate("(el) => { el.value = '/\\t/evil.example/'; }")
        assert page.locator("input[name=next]").input_value() == "/\t/evil.example/"
    page.get_by_label("Email").fill("ed@example.gov")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.url == url + "/"
    assert "Signed in as Ed Itor." in page.locator(".flash").inner_text()


def test_signing_in_and_out_through_the_organisations_provider(sso_site, page, oidc_provider):
    from oidckit import log_in_on_page

    url, path = sso_site
    page.goto(url + "/")
    page.get_by_role("navigation").get_by_role("link", name="Sign in").click()
    assert page.get_by_label("Password").count() == 0  # local passwords are off
    page.get_by_role("link", name="Sign in with your organisation's account").click()
    assert page.url.startswith(oidc_provider.issuer + "/interaction/")
    log_in_on_page(page, "ada@example.gov")
    assert page.url == url + "/"
    assert "Signed in as ada@example.gov." in page.locator(".flash").inner_text()
    assert page.get_by_role("button", name="Sign out Ada Lovelace").is_visible()
    assert page.locator("section.mine li").first.inner_text().startswith("From Mon 25 Jan 2027")

    # her own absence, through the editors' preview and save
    page.get_by_role("navigation").get_by_role("link", name="My absences").click()
    form = page.locator("form", has=page.get_by_role("heading", name="Add an absence"))
    form.get_by_label("First day away").fill("2027-01-20")
    form.get_by_label("Last day away").fill("2027-01-21")
    form.get_by_role("button", name="Preview").click()
    assert page.locator("h1").inner_text() == "Preview: Ada Lovelace away 2027-01-20 to 2027-01-21"
    page.get_by_role("button", name="Save this change").click()
    assert "Saved: Ada Lovelace away 2027-01-20 to 2027-01-21." in page.locator(".flash").inner_text()
    assert "2027-01-20" in path.read_text()

    page.get_by_role("button", name="Sign out Ada Lovelace").click()
    assert page.url.startswith(oidc_provider.issuer + "/session/end")
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(url + "/**")
    assert page.get_by_role("navigation").get_by_role("link", name="Sign in").is_visible()
    assert "Signed out." in page.locator(".flash").inner_text()
