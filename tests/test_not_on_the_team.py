"""People who are not on the team (left, or not yet joined) are never put on
support: not by an override, not by a swap, not by a Roster built in code;
and the page neither offers them nor accepts them."""

import dataclasses
import io
import json
import re
from datetime import UTC, date, datetime

import icalendar
import pendulum
import pytest
from fakes.zendesk import FakeZendesk
from synckit import group_names, with_team, zendesk_client
from webkit import PASSWORD, Clock, csrf_of, sign_in, version_of

from scheduler.publish import icsfeed
from scheduler.roster import rosterfile
from scheduler.sync.zendesk import sync as zendesksync
from scheduler.core import Record, Window
from scheduler.core.model import Override
from scheduler.store.editors import EditorStore
from scheduler.team import Team
from web import create_app, feeds

# No holidays, so every week hands off on Monday at 09:00. Without a record the
# rotation runs Bob+Ada, Cy, Dan, Ada, Bob, Cy, Dan, ... in the autumn; Dan left
# on Friday 2026-11-13; from the week of 2026-11-30: Cy (in) with Bob, then Ada
# with Cy from 2026-12-07. Eve joins in the new year.
ROSTER = """\
# Platform experts: edited by hand and by rota
team: Platform experts
timezone: America/New_York
rotation:
  start: 2026-09-07
  handoff_time: "09:00"
  holidays: none
zendesk: {url: "https://acme.zendesk.com", group: Platform experts}
members:
  - name: Ada
    email: ada@example.gov
  - name: Bob
    email: bob@example.gov
  - name: Cy
    email: cy@example.gov
  - name: Dan
    email: dan@example.gov
    left: 2026-11-13            # moved to the data team
  - name: Eve
    email: eve@example.gov
    joined: 2027-01-04          # starts in the new year
"""
TUESDAY = "2026-12-01T15:00:00Z"  # 10:00 EST: Cy (week 1) and Bob (week 2)


def write(roster_dir, extra=""):
    path = roster_dir / "team.yaml"
    path.write_text(ROSTER + extra)
    return path


def line_of(path, text):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)



# -- the roster file -----------------------------------------------------------------
BAD_OVERRIDES = """\
overrides:
  # Dan offered to help out over the holidays
  - {from: 2026-12-02, to: 2026-12-03, replace: bob@example.gov, with: dan@example.gov}
  - {from: 2026-12-28, to: 2027-01-05, replace: ada@example.gov, with: eve@example.gov, note: keen}
  - {from: 2027-01-05, to: 2027-01-06, replace: bob@example.gov, with: eve@example.gov}
  - {from: 2026-12-02, to: 2026-12-02, replace: dan@example.gov, with: ada@example.gov}
"""


def test_an_override_whose_cover_is_not_a_member_on_every_day_is_refused_with_file_line_and_field(rota, roster_dir):
    path = write(roster_dir, BAD_OVERRIDES)
    dan, eve = line_of(path, "with: dan@"), line_of(path, "note: keen")
    dan_error = (f"{path}:{dan}: overrides[0].with: dan@example.gov left 2026-11-13: whoever covers must be "
                 "a member on every day from 2026-12-02 to 2026-12-03")
    eve_error = (f"{path}:{eve}: overrides[1].with: eve@example.gov joins 2027-01-04: whoever covers must be "
                 "a member on every day from 2026-12-28 to 2027-01-05")
    # `rota who` refuses to answer from such a roster rather than put Dan on.
    code, out, err = rota("who", "--roster", path, "--at", "2026-12-02T10:00")
    assert code == 2 and out == ""
    assert err == f"rota: {dan_error} (and 1 more: run `rota check` to see all)\n"
    # `rota check` lists both; Eve covering once she has joined, and an override
    # for the days after Dan left (a stint he began still needs a cover), are fine.
    code, out, err = rota("check", "--roster", path)
    assert code == 2
    assert err.splitlines() == [dan_error, eve_error, f"2 problem(s) in {path}."]


def app_for(path, **config):
    return create_app({"TESTING": True, "ROSTER": str(path), "SECRET_KEY": "k", "CLOCK": Clock(TUESDAY), **config})


def team_feed_url(app):
    with app.app_context():
        return f"/feeds/team/{feeds.token('team')}.ics"


def test_the_page_and_the_feeds_say_where_the_roster_is_wrong(roster_dir):
    path = write(roster_dir, BAD_OVERRIDES)
    app = app_for(path)
    client = app.test_client()
    problems = [f"{path}:{line_of(path, 'with: dan@')}: overrides[0].with: dan@example.gov left 2026-11-13",
                f"{path}:{line_of(path, 'note: keen')}: overrides[1].with: eve@example.gov joins 2027-01-04"]
    for url in ("/", team_feed_url(app)):
        response = client.get(url)
        assert response.status_code == 503
        assert all(p in response.get_data(as_text=True) for p in problems)


# -- a Roster built in code: coverage, feeds and the Zendesk sync still refuse -------
def built_with_override(roster_dir, cover="dan@example.gov"):
    """The file's roster plus an override the file would refuse, made in code."""
    roster_file = rosterfile.load(write(roster_dir))
    bad = Override(date(2026, 12, 2), date(2026, 12, 3), "bob@example.gov", cover)
    return Team(dataclasses.replace(roster_file, roster=dataclasses.replace(roster_file.roster, overrides=(bad,))),
                Record())


@pytest.mark.parametrize("cover, why", [
    ("dan@example.gov", "Dan (covering) left 2026-11-13"),
    ("eve@example.gov", "Eve (covering) joins 2027-01-04"),
    ("zed@example.gov", "zed@example.gov (covering) is not on the roster"),
])
def test_coverage_never_puts_a_non_member_on_even_from_a_roster_built_in_code(roster_dir, cover, why):
    schedule = built_with_override(roster_dir, cover).schedule()
    duty = schedule.duty(pendulum.parse("2026-12-02T10:00", tz="America/New_York"))
    assert duty.members == ["cy@example.gov"]
    (gap,) = duty.gaps
    assert (gap.scheduled, gap.problem) == ("bob@example.gov", why)
    # The feed: no cover event, a gap on Bob's slot, and the pair's meetings without the cover.
    feed = icsfeed.render(schedule.events(Window(date(2026, 11, 30), 2)), name="t", timezone=schedule.roster.timezone,
                          stamp=datetime(2026, 12, 1, tzinfo=UTC))
    events = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    assert not [e for e in events if f"mailto:{cover}" in attendees(e) or e["CATEGORIES"].cats[0] == "cover"]
    gaps = [e for e in events if str(e["SUMMARY"]).startswith("GAP: Bob")]
    assert [e["DTSTART"].dt for e in gaps] == [date(2026, 12, 2), date(2026, 12, 3)]
    assert why in str(gaps[0]["DESCRIPTION"])
    # The page's "what else happens this week" has no cover for that week either.
    assert schedule.notes(date(2026, 11, 30), date(2026, 12, 7)).covers == []


@pytest.fixture
def zd():
    with FakeZendesk() as fake:
        yield with_team(fake, ("Ada", "Bob", "Cy", "Dan", "Eve"))


def sync(zd, team, at):
    client = zendesk_client(zd)
    out = io.StringIO()
    result = zendesksync.sync(team, pendulum.parse(at, tz="America/New_York"), client, apply=True, force=False,
                              now=pendulum.parse(TUESDAY), out=out)
    return result.code, out.getvalue()


def test_the_zendesk_sync_never_adds_a_non_member_and_takes_one_out(zd, roster_dir):
    # Dan is still in the group from before he left; the override in code names him.
    for name in ("Bob", "Cy", "Dan"):
        zd.add_membership(zd.ids[name], zd.group)
    code, out = sync(zd, built_with_override(roster_dir), "2026-12-02T10:00")
    assert "- remove Dan <dan@example.gov>" in out and "+ add" not in out
    assert code == 0 and group_names(zd) == ["Cy"]


# -- swaps with someone who is not a member then ---------------------------------------
@pytest.mark.parametrize("who, name", [("dan", "Dan"), ("eve", "Eve")])
def test_a_swap_with_someone_not_on_the_team_never_puts_them_on(rota, zd, roster_dir, who, name):
    swap = f"{{week: 2026-12-07, member: ada@example.gov, with_week: 2026-12-21, with: {who}@example.gov}}"
    path = write(roster_dir, f"swaps:\n  # traded by mistake\n  - {swap}\n")
    code, out, _ = rota("who", "--roster", path, "--at", "2026-12-08T10:00", "--format", "json")
    assert code == 0
    on = [s["email"] for s in json.loads(out)["on_support"]]
    assert f"{who}@example.gov" not in on and "cy@example.gov" in on
    _, out, _ = rota("who", "--roster", path, "--at", "2026-12-08T10:00")
    assert f"<{who}@example.gov>" not in out
    # The team feed on the page has no stint, meeting or cover for them that week.
    app = app_for(path)
    events = icalendar.Calendar.from_ical(app.test_client().get(team_feed_url(app)).data).walk("VEVENT")
    week = [e for e in events if date(2026, 12, 7) <= _day(e["DTSTART"].dt) < date(2026, 12, 14)]
    assert week and not [e for e in week if f"mailto:{who}@example.gov" in attendees(e)]
    assert not [e for e in week if str(e["SUMMARY"]).startswith(f"{name} on support")]
    # `rota check` says the swap did not go through.
    code, out, _ = rota("check", "--roster", path, "--at", "2026-12-01T10:00", "--weeks", "4")
    assert code == 1 and [line for line in out.splitlines() if "swap" in line and name in line]
    # Zendesk: the pair `rota who` names, never the swapped-in person.
    zd.add_membership(zd.ids["Cy"], zd.group)
    code, out = sync(zd, Team.load(path), "2026-12-08T10:00")
    assert group_names(zd) == sorted(e.split("@")[0].capitalize() for e in on) and f"{who}@example.gov" not in out


def _day(value):
    return value.date() if isinstance(value, datetime) else value


def attendees(event) -> list[str]:
    value = event.get("ATTENDEE")
    return [str(a) for a in (value if isinstance(value, list) else [value] if value else [])]


def test_a_recorded_stint_before_its_member_joined_puts_nobody_on(rota, roster_dir):
    # Eve's start was moved to the new year after a stint of hers was recorded.
    path = write(roster_dir)
    path.with_name("team.record.jsonl").write_text(json.dumps({
        "week": "2026-11-30", "member": "eve@example.gov", "handoff": "2026-11-30T09:00:00-05:00",
        "recorded_at": "2026-11-30T09:05:00-05:00"}) + "\n")
    _, out, _ = rota("who", "--roster", path, "--at", "2026-12-01T10:00")
    assert "<eve@example.gov>" not in out and "GAP (Eve's slot): Eve joins 2027-01-04" in out
    app = app_for(path)
    events = icalendar.Calendar.from_ical(app.test_client().get(team_feed_url(app)).data).walk("VEVENT")
    (stint,) = [e for e in events if e["UID"].startswith("stint-20261130-")]
    assert str(stint["SUMMARY"]).startswith("GAP: nobody on support")
    assert "Why: Eve joins 2027-01-04." in str(stint["DESCRIPTION"])
    assert not [e for e in events if "mailto:eve@example.gov" in attendees(e) and _day(e["DTSTART"].dt) < date(2027, 1, 4)]


# -- the page's forms ------------------------------------------------------------------
@pytest.fixture
def page(roster_dir):
    path = write(roster_dir)
    EditorStore(roster_dir / "team.editors.json").add("ed@example.gov", PASSWORD, "Ed Itor")
    clock = Clock(TUESDAY)
    client = create_app({"TESTING": True, "ROSTER": str(path), "SECRET_KEY": "k", "CLOCK": clock}).test_client()
    sign_in(client)
    client.path, client.clock = path, clock
    return client


def options(html, select_id):
    select = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]+)"', select)


def test_the_forms_offer_only_people_who_are_members_then(page):
    html = page.get("/roster/").get_data(as_text=True)
    current = ["ada@example.gov", "bob@example.gov", "cy@example.gov", "eve@example.gov"]
    for select in ("add_absence-email", "add_override-replace", "add_override-with", "retire_member-email"):
        assert options(html, select) == current
    assert "Eve (eve@example.gov), joins 2027-01-04</option>" in html
    assert "Dan &lt;dan@example.gov&gt;, joined 2026-09-07, left 2026-11-13" in html


@pytest.mark.parametrize("kind, fields, message", [
    ("add_override", {"replace": "bob@example.gov", "with": "dan@example.gov", "from": "2026-12-02", "to": "2026-12-03"},
     "Dan left on 2026-11-13, so is not a member for all of 2026-12-02 to 2026-12-03"),
    ("add_override", {"replace": "ada@example.gov", "with": "eve@example.gov", "from": "2026-12-28", "to": "2027-01-05"},
     "Eve joins on 2027-01-04, so is not a member for all of 2026-12-28 to 2027-01-05"),
    ("add_override", {"replace": "dan@example.gov", "with": "ada@example.gov", "from": "2026-12-02", "to": "2026-12-03"},
     "Dan left on 2026-11-13"),
    ("add_absence", {"email": "dan@example.gov", "from": "2026-12-10", "to": "2026-12-11"},
     "Dan left on 2026-11-13"),
    ("add_absence", {"email": "eve@example.gov", "from": "2026-12-28", "to": "2027-01-08"},
     "Eve joins on 2027-01-04"),
    ("retire_member", {"email": "dan@example.gov", "left": "2026-12-04"}, "Dan left on 2026-11-13: already retired"),
])
def test_a_change_naming_someone_not_on_the_team_then_is_refused(page, kind, fields, message):
    before = page.path.read_text()
    for step in ("preview", "save"):
        response = page.post(f"/roster/{step}", data=_form(page, kind, fields))
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert page.path.read_text() == before
    # Dan's last day stays as it was: nothing puts him back on support.
    assert rosterfile.load(page.path).roster.member("dan@example.gov").left == date(2026, 11, 13)


def _form(client, kind, fields):
    return {"kind": kind, "csrf_token": csrf_of(client, "/roster/"), "version": version_of(client), **fields}


def test_members_are_accepted_on_the_days_they_are_on_the_team(page):
    fields = {"replace": "bob@example.gov", "with": "eve@example.gov", "from": "2027-01-05", "to": "2027-01-06"}
    assert page.post("/roster/save", data=_form(page, "add_override", fields)).status_code == 302
    fields = {"email": "eve@example.gov", "from": "2027-02-01", "to": "2027-02-05"}
    assert page.post("/roster/save", data=_form(page, "add_absence", fields)).status_code == 302
    roster = rosterfile.load(page.path).roster
    assert roster.overrides[0].cover == "eve@example.gov" and roster.member("eve@example.gov").away
    assert page.path.read_text().startswith("# Platform experts: edited by hand and by rota\n")
    assert "# moved to the data team" in page.path.read_text()


def test_a_stint_that_outlives_its_member_can_be_covered_from_the_page(page):
    # Dan's stint from 2026-11-09 was recorded before he left mid-way; Ada is
    # not on support that week (Cy and Dan would have been), so she can cover.
    page.path.with_name("team.record.jsonl").write_text(json.dumps({
        "week": "2026-11-09", "member": "dan@example.gov", "handoff": "2026-11-09T09:00:00-05:00",
        "recorded_at": "2026-11-09T09:05:00-05:00"}) + "\n")
    page.clock.at = pendulum.parse("2026-11-17T15:00:00Z")
    html = page.get("/roster/").get_data(as_text=True)
    assert "dan@example.gov" in options(html, "add_override-replace")
    assert "Dan (dan@example.gov), left 2026-11-13</option>" in html
    assert "dan@example.gov" not in options(html, "add_override-with")
    schedule = Team.load(page.path).schedule()
    on = schedule.duty(pendulum.parse("2026-11-18T15:00:00Z")).members
    assert "ada@example.gov" not in on and "dan@example.gov" not in on
    fields = {"replace": "dan@example.gov", "with": "ada@example.gov", "from": "2026-11-17", "to": "2026-11-20"}
    assert page.post("/roster/save", data=_form(page, "add_override", fields)).status_code == 302
    team = Team.load(page.path)
    assert "ada@example.gov" in team.schedule().duty(pendulum.parse("2026-11-18T15:00:00Z")).members


def test_a_swap_that_would_give_a_stint_to_someone_after_their_last_day_is_refused(page):
    # Ada leaves on 2026-12-31: the stint from 2026-12-07 is still hers; the
    # one from 2026-12-21 runs past her last day.
    assert page.post("/roster/save", data=_form(page, "retire_member",
                                                {"email": "ada@example.gov", "left": "2026-12-31"})).status_code == 302
    schedule = Team.load(page.path).schedule()
    assert schedule.rotation.stint(schedule.calendar.week_index(date(2026, 12, 7))).member == "ada@example.gov"
    later = schedule.rotation.stint(schedule.calendar.week_index(date(2026, 12, 21))).member
    assert later not in (None, "ada@example.gov")
    before = page.path.read_text()
    response = page.post("/roster/preview", data=_form(page, "swap", {"week": "2026-12-07", "with_week": "2026-12-21"}))
    assert response.status_code == 400
    assert ("Ada leaves on 2026-12-31, so is not a member for all of the stint of the week of 2026-12-21"
            in response.get_data(as_text=True))
    assert page.path.read_text() == before


def test_retiring_someone_before_a_day_they_cover_is_refused_with_the_override_named(page):
    fields = {"replace": "bob@example.gov", "with": "cy@example.gov", "from": "2026-12-15", "to": "2026-12-16"}
    assert page.post("/roster/save", data=_form(page, "add_override", fields)).status_code == 302
    before = page.path.read_text()
    fields = {"email": "cy@example.gov", "left": "2026-12-10"}
    response = page.post("/roster/save", data=_form(page, "retire_member", fields))
    assert response.status_code == 400
    assert ("overrides[0].with: cy@example.gov left 2026-12-10: whoever covers must be a member on every day "
            "from 2026-12-15 to 2026-12-16") in response.get_data(as_text=True)
    assert page.path.read_text() == before
