"""A trade end to end in a real headless Chromium (Debian's), two people in
two browser sessions signed in through a real OpenID Provider: Ada offers
Bob a swap, Bob previews it and accepts, and the page's coming weeks show it."""


import pytest
from browserkit import artifact, chromium, needs_chromium
from oidckit import log_in_on_page



pytestmark = needs_chromium


@pytest.fixture
def browser():
    with chromium() as browser:
        yield browser


def signed_in(browser, url, email):
    """A browser session of its own (cookies and all), signed in at the provider's form."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(url + "/trades/")
    page.get_by_role("link", name="Sign in with your organisation's account").click()
    log_in_on_page(page, email)
    page.wait_for_url(url + "/trades/")
    return page


def test_ada_offers_bob_a_swap_and_bob_previews_and_accepts_it(sso_site, browser):
    url, roster = sso_site
    ada = signed_in(browser, url, "ada@example.gov")
    ada.screenshot(path=artifact("trades.png"), full_page=True)
    form = ada.get_by_role("form", name="Offer the week of 2027-01-25 for trade")
    form.get_by_label("For").select_option(label="Bob Kahn's stint of the week of 2027-02-01")
    form.get_by_label("Note (optional)").fill("my sister's wedding")
    form.get_by_role("button", name="Offer for trade").click()
    assert "Offered your stint of the week of 2027-01-25 to Bob Kahn." in ada.locator(".flash").inner_text()
    assert "swaps:" not in roster.read_text()

    bob = signed_in(browser, url, "bob@example.gov")
    offered = bob.locator("section", has=bob.get_by_role("heading", name="Swaps offered to you"))
    assert "Ada Lovelace's stint of the week of 2027-01-25 for Bob Kahn's of the week of 2027-02-01" in \
        offered.inner_text()
    offered.get_by_role("link", name="Preview and accept").click()
    assert bob.locator("h1").inner_text() == \
        "Preview: Ada Lovelace (week of 2027-01-25) and Bob Kahn (week of 2027-02-01) trade stints"
    table = bob.locator("table").inner_text()
    assert "2027-01-25" in table and "2027-02-01" in table
    assert "swaps:" not in roster.read_text()  # previewing writes nothing
    bob.screenshot(path=artifact("trade-preview.png"), full_page=True)
    bob.get_by_role("button", name="Accept this swap").click()
    assert "Swap accepted: you now have the stint of the week of 2027-01-25." in bob.locator(".flash").inner_text()
    assert "with_week: 2027-02-01, with: bob@example.gov" in roster.read_text()

    bob.get_by_role("link", name="Who is on support").click()
    rows = bob.locator("section#coming tbody tr, section:has(h2#coming) tbody tr")
    incoming = {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("th, td")
        incoming[cells.nth(0).inner_text().split()[0]] = cells.nth(2).inner_text()
    assert (incoming["2027-01-25"], incoming["2027-02-01"]) == ("Bob Kahn", "Ada Lovelace")
    ada.reload()
    assert "Your offers" in ada.content() and "2027-01-25" not in \
        ada.locator("section", has=ada.get_by_role("heading", name="Your offers")).inner_text()
