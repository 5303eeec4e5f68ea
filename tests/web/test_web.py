"""The web page through Flask's test client: every route and every refusal."""

import difflib
import errno
import html
import json
import os
import re
import tempfile
from datetime import date, timedelta
from pathlib import Path

import icalendar
import pendulum
import pytest
from rosterkit import away, team, yaml_text

from scheduler.store import auditlog
from scheduler.store.editors import EditorStore
from web import create_app
from webkit import COMMENT, PASSWORD, change, csrf_of, sign_in, version_of


# -- reading ----------------------------------------------------------------------------
def test_the_page_shows_who_is_on_support_and_what_is_coming(client):
    page = client.get("/").get_data(as_text=True)
    assert "As of Tue 12 Jan 2027 10:00 EST." in page
    cards = re.findall(r'<div class="who">([^<]+)</div>\s*<div>Week (\d) of 2', page)
    assert cards == [("Cy", "1"), ("Bob", "2")]
    assert "Next handoff:</strong> Tue 19 Jan 2027 09:00 EST:\n    Di rotates in" in page
    assert len(re.findall(r'<tr class="(?:current)?">', page)) == 12
    assert "Martin Luther King Jr. Day: handoff moved" in page
    assert '<tr class="current">' in page and "2027-01-11 <span class=\"muted\">(now)</span>" in page



def test_the_page_names_a_support_team_once_and_says_who_stays_on(roster, client):
    roster.write_text(yaml_text(team("Ada", "Bob", team="Cloud Platform Support")))
    page = client.get("/").get_data(as_text=True)
    assert "<h1>Cloud Platform Support</h1>" in page and "support support" not in page.lower()
    # Two people: at each handoff the one rotating out goes straight back in.
    assert re.search(r"Next handoff:</strong> Mon 18 Jan 2027 09:00 EST:\s*Bob stays on for another stint\.", page)
    assert "rotates in" not in page and "rotates out" not in page

def test_the_page_highlights_gaps_and_covers(roster, client, app):
    data = json.loads(roster.read_text().split("\n", 1)[1])
    data["overrides"] = [{"from": "2027-01-13", "to": "2027-01-13", "replace": "bob@example.gov", "with": "ada@example.gov"}]
    data["members"][3]["away"] = [away("2027-01-18", "2027-02-26")]
    data["members"][0]["away"] = [away("2027-01-25", "2027-01-29")]
    data["members"][1]["away"] = [away("2027-01-27", "2027-01-27")]  # with Cy continuing, week 2 has nobody
    roster.write_text(yaml_text(data))
    page = client.get("/").get_data(as_text=True)
    assert '<span class="tag cover">Ada covers Bob 13 Jan–13 Jan</span>' in page
    assert '<span class="tag gap">GAP</span>' in page
    assert "Needs attention" in page and "has nobody" in page


def test_subscription_links_in_https_and_webcal_forms_for_the_team_and_each_member(client):
    site = "https://rota.example.gov"
    form = client.get("/signin", base_url=site).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    client.post("/signin", base_url=site, headers={"Referer": f"{site}/signin"},  # CSRF over https checks it
                data={"email": "ed@example.gov", "password": PASSWORD, "csrf_token": csrf})
    page = client.get("/", base_url=site).get_data(as_text=True)
    team_link = re.search(r'href="(https://rota\.example\.gov/feeds/team/[0-9a-f]{32}\.ics)"', page).group(1)
    assert team_link.replace("https://", "webcal://") in page
    for name in ("ada", "bob", "cy", "di"):
        assert re.search(rf'href="webcal://rota\.example\.gov/feeds/member/{name}@example\.gov/[0-9a-f]{{32}}\.ics"', page)
    feed = client.get(team_link.split("rota.example.gov")[1])
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert icalendar.Calendar.from_ical(feed.data)["X-WR-CALNAME"] == "Platform experts support"


def feed_url(client, who="team"):
    """A feed's link as a signed-in editor sees it (a calendar then fetches it without a session)."""
    editor = client.application.test_client()
    sign_in(editor)
    page = editor.get("/").get_data(as_text=True)
    if who == "team":
        return re.search(r'href="http://localhost(/feeds/team/[0-9a-f]+\.ics)"', page).group(1)
    return re.search(rf'href="http://localhost(/feeds/member/{who}/[0-9a-f]+\.ics)"', page).group(1)


def test_feeds_answer_304_when_nothing_changed_and_change_when_the_roster_does(client, roster):
    url = feed_url(client)
    first = client.get(url)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]}).status_code == 304
    assert client.get(url).data == first.data
    roster.write_text(roster.read_text().replace('"Di"', '"Diana"'))
    second = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
    assert b"Diana on support" in second.data


def test_member_feeds_hold_only_that_members_events(client):
    data = client.get(feed_url(client, "cy@example.gov")).data
    cal = icalendar.Calendar.from_ical(data)
    assert cal["X-WR-CALNAME"] == "Cy: Platform experts support"
    for event in cal.walk("VEVENT"):
        attendees = [str(a) for a in (event.get("ATTENDEE") or [])]
        assert str(event["SUMMARY"]).startswith("Cy on support") or "mailto:cy@example.gov" in attendees


def test_a_wrong_token_or_a_rotated_key_finds_no_feed(client, roster, clock):
    url = feed_url(client)
    assert client.get(url.replace(url[-10:-4], "000000")).status_code == 404
    rotated = create_app({"TESTING": True, "ROSTER": str(roster), "SECRET_KEY": "a new key", "CLOCK": clock})
    assert rotated.test_client().get(url).status_code == 404


def test_healthz(client, roster):
    assert client.get("/healthz").json["status"] == "ok"
    roster.write_text("team: [broken\n")
    response = client.get("/healthz")
    assert response.status_code == 503 and "not valid YAML" in response.json["error"]


def test_a_private_page_needs_sign_in_but_feeds_do_not(roster, clock):
    app = create_app({"TESTING": True, "ROSTER": str(roster), "SECRET_KEY": "k", "CLOCK": clock, "PRIVATE": True})
    client = app.test_client()
    assert client.get("/").status_code == 302
    sign_in(client)
    assert client.get("/").status_code == 200
    url = feed_url(client)
    assert app.test_client().get(url).status_code == 200


# -- signing in --------------------------------------------------------------------------
def test_editing_needs_a_signed_in_editor(client, roster):
    before = roster.read_text()
    response = client.get("/roster/")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]
    token = csrf_of(client)
    response = client.post("/roster/save", data={"kind": "add_member", "name": "Zed", "email": "zed@example.gov",
                                                 "csrf_token": token, "version": "x"})
    assert response.status_code == 302 and roster.read_text() == before


def test_sign_in_out_and_a_wrong_password_says_nothing_about_who_exists(client):
    assert sign_in(client, password="wrong password!!").status_code == 401
    unknown = sign_in(client, email="nobody@example.gov", password="whatever")
    assert unknown.status_code == 401 and "Wrong email or password." in unknown.get_data(as_text=True)
    assert sign_in(client).status_code == 302
    assert "Sign out Ed Itor" in client.get("/").get_data(as_text=True)
    client.post("/signout", data={"csrf_token": csrf_of(client, "/")})
    assert client.get("/roster/").status_code == 302


def test_failed_sign_ins_are_rate_limited(client, clock):
    for _ in range(5):
        assert sign_in(client, password="not the password").status_code == 401
    limited = sign_in(client)  # even the right password waits
    assert limited.status_code == 429 and "Too many failed sign-ins. Try again in 15 minute(s)." in limited.get_data(as_text=True)
    clock.at = clock.at + timedelta(minutes=16)
    assert sign_in(client).status_code == 302


def test_forms_without_a_valid_csrf_token_are_refused(client, roster):
    sign_in(client)
    before = roster.read_text()
    response = client.post("/roster/save", data={"kind": "add_member", "name": "Zed", "email": "zed@example.gov",
                                                 "csrf_token": "forged", "version": version_of(client)})
    assert response.status_code == 400 and "Form expired" in response.get_data(as_text=True)
    assert roster.read_text() == before
    assert client.post("/signin", data={"email": "ed@example.gov", "password": PASSWORD}).status_code == 400


def test_bodies_over_64_kib_are_refused(client):
    response = client.post("/signin", data={"email": "x" * (70 * 1024), "password": "p"})
    assert response.status_code == 413


# -- editing ---------------------------------------------------------------------------------
def test_an_absence_is_previewed_then_saved_with_comments_audit_and_record(client, roster):
    sign_in(client)
    preview = change(client, "preview", "add_absence", email="di@example.gov", **{"from": "2027-01-20", "to": "2027-01-21"})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Preview: Di away 2027-01-20 to 2027-01-21" in text
    assert "This changes" in text and "2027-01-18" in text
    assert "away" not in roster.read_text()  # nothing written by a preview
    saved = change(client, "save", "add_absence", email="di@example.gov", **{"from": "2027-01-20", "to": "2027-01-21"})
    assert saved.status_code == 302
    assert "Saved: Di away 2027-01-20 to 2027-01-21." in client.get("/roster/").get_data(as_text=True)
    text = roster.read_text()
    assert text.startswith(COMMENT) and "2027-01-20" in text
    log = auditlog.read(roster.with_name("team.audit.jsonl"))
    assert (log[-1]["actor"], log[-1]["system"], log[-1]["action"], log[-1]["who"]) == (
        "ed@example.gov", "roster", "add_absence", "di@example.gov")
    assert log[-1]["detail"]["editor"] == "Ed Itor" and log[-1]["detail"]["change"] == "Di away 2027-01-20 to 2027-01-21"
    record = roster.with_name("team.record.jsonl").read_text().splitlines()
    assert [json.loads(line)["member"] for line in record] == ["ada@example.gov", "bob@example.gov", "cy@example.gov"]
    page = client.get("/").get_data(as_text=True)
    assert "Di rotates in" not in page  # she is away in her would-be stint: Ada comes in instead


def test_every_kind_of_change_lands_in_the_roster(client, roster):
    sign_in(client)
    assert change(client, "save", "add_member", name="Eve", email="eve@example.gov", joined="2027-02-01").status_code == 302
    assert change(client, "save", "retire_member", email="di@example.gov", left="2027-06-30").status_code == 302
    assert change(client, "save", "add_override", replace="bob@example.gov", **{"with": "ada@example.gov"},
                  **{"from": "2027-01-13", "to": "2027-01-14", "note": "dentist"}).status_code == 302
    assert change(client, "save", "add_absence", email="ada@example.gov", **{"from": "2027-03-01", "to": "2027-03-05"}).status_code == 302
    assert change(client, "save", "remove_absence", email="ada@example.gov", **{"from": "2027-03-01", "to": "2027-03-05"}).status_code == 302
    assert change(client, "save", "swap", week="2027-02-01", with_week="2027-02-15").status_code == 302
    from scheduler.roster.rosterfile import load

    r = load(roster).roster
    assert r.member("eve@example.gov").joined.isoformat() == "2027-02-01"
    assert r.member("di@example.gov").left.isoformat() == "2027-06-30"
    assert r.overrides[0].note == "dentist" and r.member("ada@example.gov").away == ()
    assert (r.swaps[0].week.isoformat(), r.swaps[0].other_week.isoformat()) == ("2027-02-01", "2027-02-15")
    log = auditlog.read(roster.with_name("team.audit.jsonl"))
    assert [e["action"] for e in log] == ["add_member", "retire_member", "add_override", "add_absence",
                                          "remove_absence", "swap"]


@pytest.mark.parametrize("kind, fields, message", [
    ("add_absence", {"email": "di@example.gov", "from": "2027-13-01", "to": "2027-01-21"}, "is not a date"),
    ("add_absence", {"email": "zed@example.gov", "from": "2027-01-20", "to": "2027-01-21"}, "zed@example.gov is not on the roster"),
    ("add_override", {"replace": "bob@example.gov", "with": "ada@example.gov", "from": "2027-01-04", "to": "2027-01-05"},
     "in the past"),
    ("add_override", {"replace": "bob@example.gov", "with": "bob@example.gov", "from": "2027-01-14", "to": "2027-01-15"},
     "cannot cover for themselves"),
    ("add_member", {"name": "Ada again", "email": "ADA@example.gov"}, "already on the roster"),
    ("retire_member", {"email": "ada@example.gov", "left": "2026-12-01"}, "the past is already recorded"),
    ("swap", {"week": "2027-01-11", "with_week": "2027-01-25"}, "has begun"),
])
def test_bad_input_is_explained_in_the_form_and_nothing_is_written(client, roster, kind, fields, message):
    sign_in(client)
    before = roster.read_text()
    for step in ("preview", "save"):
        response = change(client, step, kind, **fields)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert roster.read_text() == before


def test_names_are_escaped_everywhere(client, roster):
    sign_in(client)
    evil = '<script>alert("x")</script>'
    assert change(client, "save", "add_member", name=evil, email="eve@example.gov", joined="2027-01-12").status_code == 302
    for url in ("/", "/roster/"):
        page = client.get(url).get_data(as_text=True)
        assert evil not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    events = icalendar.Calendar.from_ical(client.get(feed_url(client)).data).walk("VEVENT")
    assert any(str(e["SUMMARY"]) == f"{evil} on support (Platform experts)" for e in events)


def test_a_stale_version_is_refused_with_a_message(client, roster):
    sign_in(client)
    old = version_of(client)
    roster.write_text(roster.read_text().replace('"Bob"', '"Robert"'))  # someone else saved meanwhile
    response = change(client, "save", "add_absence", version=old, email="di@example.gov", **{"from": "2027-01-20", "to": "2027-01-21"})
    assert response.status_code == 409
    assert "Someone else changed the roster since you loaded it" in response.get_data(as_text=True)
    assert "Robert" in roster.read_text() and "2027-01-20" not in roster.read_text()


def test_two_editors_racing_both_see_a_clear_outcome_and_nothing_is_lost(app, roster):
    ed, flo = app.test_client(), app.test_client()
    sign_in(ed)
    sign_in(flo, email="flo@example.gov")
    v_ed, v_flo = version_of(ed), version_of(flo)
    assert v_ed == v_flo
    first = change(ed, "save", "add_absence", version=v_ed, email="di@example.gov", **{"from": "2027-02-01", "to": "2027-02-02"})
    second = change(flo, "save", "add_absence", version=v_flo, email="ada@example.gov", **{"from": "2027-03-01", "to": "2027-03-02"})
    assert first.status_code == 302 and second.status_code == 409
    assert "2027-02-01" in roster.read_text() and "2027-03-01" not in roster.read_text()
    again = change(flo, "save", "add_absence", email="ada@example.gov", **{"from": "2027-03-01", "to": "2027-03-02"})
    assert again.status_code == 302
    text = roster.read_text()
    assert "2027-02-01" in text and "2027-03-01" in text
    log = auditlog.read(roster.with_name("team.audit.jsonl"))
    assert [e["actor"] for e in log] == ["ed@example.gov", "flo@example.gov"]


def test_signed_in_editors_see_the_tickets_that_break_the_rules(roster, clock, monkeypatch):
    from fakes.zendesk import FakeZendesk

    data = json.loads(roster.read_text().split("\n", 1)[1])
    data["zendesk"] = {"url": "https://acme.zendesk.com", "group": "Platform experts"}
    roster.write_text(yaml_text(data))
    with FakeZendesk() as zd:
        group = zd.add_group("Platform experts")
        zd.add_ticket('Printer <on> fire', status="new", group_id=group, created_at="2027-01-11T14:00:00Z")
        for key, value in {"ZENDESK_URL": zd.url, "ZENDESK_EMAIL": zd.email, "ZENDESK_API_TOKEN": zd.token}.items():
            monkeypatch.setenv(key, value)
        app = create_app({"TESTING": True, "ROSTER": str(roster), "SECRET_KEY": "k", "CLOCK": clock})
        client = app.test_client()
        assert "Tickets that break" not in client.get("/").get_data(as_text=True)  # not for everyone
        sign_in(client)
        page = client.get("/").get_data(as_text=True)
        assert "Tickets that break the support rules" in page
        assert "#9001</a> Printer &lt;on&gt; fire" in page and "not acknowledged by 5:00 PM" in page
        requests_so_far = len(zd.requests)
        client.get("/")
        assert len(zd.requests) == requests_so_far  # checked at most every few minutes
        clock.at = clock.at + timedelta(minutes=6)
        zd.fail_next(401, count=10)
        page = client.get("/").get_data(as_text=True)
        assert "Could not read the tickets from Zendesk: Zendesk refused the credentials (401)" in page


def test_the_feed_follows_the_kept_ticket_count(client, roster):
    from scheduler.store.folder import FolderStore

    url = feed_url(client)
    first = client.get(url)
    FolderStore(roster).keep_ticket_count(date(2027, 1, 11), 4, pendulum.datetime(2027, 1, 11, 14, tz="UTC"))
    second = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    reviews = [e for e in icalendar.Calendar.from_ical(second.data).walk("VEVENT") if str(e["UID"]).startswith("review-20270111")]
    assert "Unresolved tickets from the week before: 4" in str(reviews[0]["DESCRIPTION"])


# -- never a bare 500 ----------------------------------------------------------------------
def test_a_tab_typed_into_the_roster_is_explained_on_every_page_and_feed_with_503(client, app, roster):
    team_feed, member_feed = feed_url(client), feed_url(client, "ada@example.gov")  # subscribed earlier
    editor = app.test_client()
    sign_in(editor)
    good = roster.read_text()
    example = (Path(__file__).parents[2] / "rosters" / "example.yaml").read_text()
    roster.write_text(example.replace("    email: alan@example.gov", "    email:\talan@example.gov"))
    where = f"{roster}:23: email: not valid YAML: a tab character"
    for who, url in ((client, "/"), (editor, "/"), (editor, "/roster/")):
        page = who.get(url)
        assert page.status_code == 503 and page.headers["Retry-After"]
        assert where in page.get_data(as_text=True) and "The roster cannot be read" in page.get_data(as_text=True)
    for url in (team_feed, member_feed):
        feed = client.get(url)
        assert feed.status_code == 503 and feed.mimetype == "text/plain"
        assert where in feed.get_data(as_text=True)
    assert client.get("/feeds/team/" + "0" * 32 + ".ics").status_code == 404  # no token, no news
    roster.write_text(good)
    assert client.get("/").status_code == 200 and client.get(team_feed).status_code == 200


def test_anything_unexpected_answers_with_a_page_that_says_what_failed(app, client, caplog):
    def broken():
        raise KeyError("the thing that was not there")

    app.add_url_rule("/broken", view_func=broken)
    page = client.get("/broken")
    text = page.get_data(as_text=True)
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "Something went wrong" in text and "KeyError: &#39;the thing that was not there&#39;" in text
    assert "Back to the rotation" in text
    assert "Traceback" in caplog.text and "GET /broken failed" in caplog.text
    assert client.post("/").status_code == 405 and "Method Not Allowed" in client.post("/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/feeds/team/%C3%A9.ics", "/feeds/member/ada@example.gov/%C3%A9.ics",
                                  "/feeds/member/%C3%A9/%C3%A9.ics", "/feeds/team/%00.ics",
                                  "/feeds/team/" + "A" * 32 + ".ics", "/feeds/team/" + "a" * 4000 + ".ics"])
def test_a_feed_token_of_any_shape_or_alphabet_finds_no_feed(client, path):
    answer = client.get(path)
    assert answer.status_code == 404 and "There is no such page." in answer.get_data(as_text=True)


# -- secret links stay secret ------------------------------------------------------------
def test_only_signed_in_editors_see_the_feed_links(app, client):
    editor = app.test_client()
    sign_in(editor)
    signed_in = editor.get("/").get_data(as_text=True)
    tokens = set(re.findall(r"/feeds/(?:team|member/[^/]+)/([0-9a-f]{32})\.ics", signed_in))
    assert len(tokens) == 5  # the team's and each of the four members'
    anonymous = client.get("/").get_data(as_text=True)
    assert "/feeds/" not in anonymous and "webcal" not in anonymous
    assert not any(token in anonymous for token in tokens)
    assert "only signed-in members (their own) and editors see them" in anonymous and "ask an editor to send you your link" in anonymous
    assert '<a href="/signin?next=/">sign in</a>' in anonymous


# -- the ticket panel never holds the page -----------------------------------------------
@pytest.fixture
def zendesk(roster, monkeypatch):
    """A roster that names a Zendesk, and a fake Zendesk with a ticket that breaks a rule."""
    from fakes.zendesk import FakeZendesk

    data = json.loads(roster.read_text().split("\n", 1)[1])
    data["zendesk"] = {"url": "https://acme.zendesk.com", "group": "Platform experts"}
    roster.write_text(yaml_text(data))
    with FakeZendesk() as zd:
        group = zd.add_group("Platform experts")
        zd.add_ticket("Printer on fire", status="new", group_id=group, created_at="2027-01-11T14:00:00Z")
        for key, value in {"ZENDESK_URL": zd.url, "ZENDESK_EMAIL": zd.email, "ZENDESK_API_TOKEN": zd.token}.items():
            monkeypatch.setenv(key, value)
        yield zd


def test_zendesk_answering_with_something_not_json_is_shown_in_the_panel_and_kept_a_minute(zendesk, roster, clock):
    app = create_app({"TESTING": True, "ROSTER": str(roster), "SECRET_KEY": "k", "CLOCK": clock})
    client = app.test_client()
    sign_in(client)
    zendesk.garble_next()  # one answer: a check that asked again would see the good ones
    page = client.get("/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and '<div class="who">Cy</div>' in text
    assert "Could not read the tickets from Zendesk: unexpected answer" in text
    asked = len(zendesk.requests)
    assert "Could not read the tickets from Zendesk" in client.get("/").get_data(as_text=True)
    assert len(zendesk.requests) == asked  # the failure is kept: a broken Zendesk is not asked on every page
    clock.at = clock.at + timedelta(seconds=61)
    assert "#9001</a> Printer on fire" in client.get("/").get_data(as_text=True)
    assert len(zendesk.requests) > asked


def test_a_hanging_zendesk_holds_the_page_only_briefly_and_only_once(zendesk, roster, clock):
    app = create_app({"TESTING": True, "ROSTER": str(roster), "SECRET_KEY": "k", "CLOCK": clock, "TICKETS_WAIT": 0.5})
    zendesk.hang_next(count=100)
    ed, flo = app.test_client(), app.test_client()
    sign_in(ed)
    sign_in(flo, "flo@example.gov")
    page = ed.get("/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and '<div class="who">Cy</div>' in text
    assert "Could not read the tickets from Zendesk: Zendesk did not answer within 0.5 s" in text
    assert len(zendesk.requests) == 1
    assert "Zendesk did not answer within 0.5 s" in flo.get("/").get_data(as_text=True)
    assert len(zendesk.requests) == 1  # the next editor's page does not ask (nor wait) again


# -- saving safely -------------------------------------------------------------------------------
HAND_WRITTEN = """\
# Platform experts: edited by hand and by rota
team: Platform experts  # display name
timezone: America/New_York
rotation:
  start: 2027-01-04
  handoff_time: "09:00"
  holidays: US
meetings:
  weekly_review: {time: "11:00",  # after the stand-up
    minutes: 15}
members:
  # order matters
  - name: Ada
    email: ada@example.gov
    away:  # trips
      # booked
      - {from: 2027-03-01, to: 2027-03-05}  # Lisbon
  # Bob joined late
  - name: Bob
    email: bob@example.gov
  - name: Cy
    email: cy@example.gov
  - name: Di
    email: di@example.gov
overrides:
  # who covers whom
swaps:
  # nothing yet
# end of file
"""


def hidden_fields(page: str) -> dict:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


def preview_then_save(client, kind, **fields):
    """Submit the form the preview page shows, as a browser would."""
    preview = change(client, "preview", kind, **fields)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    form = {k: html.unescape(v) for k, v in hidden_fields(preview.get_data(as_text=True)).items()}
    return preview, form, client.post("/roster/save", data=form)


def test_a_hand_written_roster_with_comments_takes_every_kind_of_change(client, roster):
    roster.write_text(HAND_WRITTEN)
    sign_in(client)
    steps = [
        ("add_member", {"name": "Eve", "email": "eve@example.gov", "joined": "2027-02-01"}),
        ("retire_member", {"email": "di@example.gov", "left": "2027-06-30"}),
        ("add_absence", {"email": "bob@example.gov", "from": "2027-04-05", "to": "2027-04-09", "note": "? - : # \" '"}),
        ("add_override", {"replace": "bob@example.gov", "with": "ada@example.gov", "from": "2027-01-13",
                          "to": "2027-01-14", "note": "? dentist"}),
        ("swap", {"week": "2027-02-01", "with_week": "2027-02-15"}),
        ("remove_absence", {"email": "ada@example.gov", "from": "2027-03-01", "to": "2027-03-05"}),
    ]
    for kind, fields in steps:
        before = roster.read_text()
        preview, _form, saved = preview_then_save(client, kind, **fields)
        assert saved.status_code == 302, saved.get_data(as_text=True)
        after = roster.read_text()
        for line in before.splitlines():  # every comment is still there
            if "#" in line and "? - :" not in line:
                assert line.split("#", 1)[1] in after
        shown = [html.unescape(s) for s in re.findall(r'<span class="(?:added|removed)">([^<]*)</span>',
                                                      preview.get_data(as_text=True))]
        changed = [line[1:] for line in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0,
                                                             lineterm="") if line[:1] in "+-"][2:]
        assert [s[1:] for s in shown] == changed  # the preview showed exactly what was written
    from scheduler.roster.rosterfile import load

    r = load(roster).roster
    assert r.member("bob@example.gov").away[0].note == "? - : # \" '" and r.overrides[0].note == "? dentist"
    assert r.member("ada@example.gov").away == () and r.member("eve@example.gov") and len(r.swaps) == 1
    assert [e["action"] for e in auditlog.read(roster.with_name("team.audit.jsonl"))] == [k for k, _ in steps]


def test_a_form_sent_twice_is_saved_once(client, roster):
    sign_in(client)
    _preview, form, first = preview_then_save(client, "add_absence", email="di@example.gov",
                                              **{"from": "2027-02-01", "to": "2027-02-02"})
    assert first.status_code == 302
    saved = roster.read_text()
    again = client.post("/roster/save", data=form, follow_redirects=True)
    assert again.status_code == 200 and "Already saved" in again.get_data(as_text=True)
    assert roster.read_text() == saved and saved.count("2027-02-01") == 1
    assert len(auditlog.read(roster.with_name("team.audit.jsonl"))) == 1


def test_an_unwritable_audit_log_saves_nothing_and_says_so_then_a_retry_saves_once(client, roster):
    sign_in(client)
    log = roster.with_name("team.audit.jsonl")
    log.mkdir()  # something that cannot be appended to stands where the log goes
    before = roster.read_text()
    _preview, form, refused = preview_then_save(client, "add_absence", email="di@example.gov",
                                                **{"from": "2027-02-01", "to": "2027-02-02"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 503
    assert "the audit log" in text and "Nothing was changed" in text
    assert roster.read_text() == before
    log.rmdir()
    assert client.post("/roster/save", data=form).status_code == 302
    assert client.post("/roster/save", data=form).status_code == 302  # the retry of the retry
    assert roster.read_text().count("2027-02-01") == 1 and len(auditlog.read(log)) == 1


@pytest.mark.parametrize("code, words", [(errno.EROFS, "is read-only"), (errno.ENOSPC, "the disk is full")])
def test_a_roster_directory_that_refuses_the_write_gives_a_clear_page(client, roster, monkeypatch, code, words):
    sign_in(client)
    assert change(client, "save", "add_absence", email="di@example.gov",
                  **{"from": "2027-02-01", "to": "2027-02-02"}).status_code == 302  # the record is written
    before = roster.read_text()

    def refuse(*_args, **_kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)  # the file system refuses new files
    response = change(client, "save", "add_absence", email="ada@example.gov", **{"from": "2027-03-01", "to": "2027-03-02"})
    text = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Could not save: the roster directory" in text and words in text and "Nothing was changed" in text
    assert roster.read_text() == before
    assert len(auditlog.read(roster.with_name("team.audit.jsonl"))) == 1


def test_a_change_that_no_longer_matches_its_preview_is_shown_again_not_saved(client, roster, clock):
    clock.at = pendulum.parse("2027-01-13T04:30:00Z")  # 23:30 on the 12th in New York
    sign_in(client)
    preview = change(client, "preview", "add_member", name="Eve", email="eve@example.gov")  # joins "today"
    form = {k: html.unescape(v) for k, v in hidden_fields(preview.get_data(as_text=True)).items()}
    before = roster.read_text()
    clock.at = clock.at.add(hours=1)  # the day turns before the editor saves
    response = client.post("/roster/save", data=form)
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "no longer gives the roster you previewed" in text
    assert "2027-01-13" in text and roster.read_text() == before


def test_saving_through_a_symlinked_roster_changes_its_target(roster_dir, clock):
    real = roster_dir.parent / "checkout" / "team.yaml"
    real.parent.mkdir()
    real.write_text(COMMENT + yaml_text(team("Ada", "Bob", "Cy", "Di", holidays="US")))
    link = roster_dir / "linked.yaml"
    link.symlink_to(real)
    EditorStore(roster_dir / "linked.editors.json").add("ed@example.gov", PASSWORD, "Ed Itor")
    client = create_app({"TESTING": True, "ROSTER": str(link), "SECRET_KEY": "test-secret", "CLOCK": clock}).test_client()
    sign_in(client)
    assert change(client, "save", "add_absence", email="di@example.gov",
                  **{"from": "2027-02-01", "to": "2027-02-02"}).status_code == 302
    assert link.is_symlink() and "2027-02-01" in real.read_text()
