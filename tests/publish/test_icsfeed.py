"""ICS feeds as a calendar client reads them (parsed back with `icalendar`)."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
from rosterkit import away, member, record_of, schedule, team

from scheduler.publish import icsfeed
from scheduler.core import Window

STAMP = datetime(2027, 1, 1, 12, 0, tzinfo=timezone.utc)
NY = ZoneInfo("America/New_York")


def feed(s, window=Window(date(2027, 1, 4), 12), member=None, name="Platform experts support") -> bytes:
    return icsfeed.render(s.events(window, member=member), name=name, timezone=s.roster.timezone, stamp=STAMP)


def parse(data: bytes) -> list[icalendar.Event]:
    cal = icalendar.Calendar.from_ical(data)
    return list(cal.walk("VEVENT"))


def test_the_team_feed_has_stints_meetings_and_gaps_with_attendees():
    # In week 2 Cy continues and everyone else is away on some day of the stint.
    s = schedule(team(
        member("Ada", away=[away("2027-01-27", "2027-01-27")]),
        member("Bob", away=[away("2027-01-20", "2027-01-20")]),
        "Cy",
        member("Di", away=[away("2027-01-18", "2027-02-12")]),
    ))
    events = parse(feed(s, Window(date(2027, 1, 4), 4)))
    kinds = {}
    for e in events:
        kinds.setdefault(str(e["CATEGORIES"].cats[0]), []).append(e)
    assert len(kinds["stint"]) == 4  # weeks -1 (Ada, already on), 0, 1 and 3
    (gap,) = kinds["gap"]
    assert str(gap["SUMMARY"]) == "GAP: nobody on support (Platform experts)"
    assert gap["DTSTART"].dt == datetime(2027, 1, 18, 9, 0, tzinfo=NY)
    assert ("Why: nobody available: Di (away 2027-01-18 to 2027-02-12), Ada (away 2027-01-27), "
            "Bob (away 2027-01-20), Cy (on support)") in str(gap["DESCRIPTION"])
    assert len(kinds["triage"]) == 20 and len(kinds["review"]) == 4
    first = kinds["stint"][1]
    assert str(first["SUMMARY"]) == "Bob on support (Platform experts)"
    assert first["DTSTART"].dt == datetime(2027, 1, 4, 9, 0, tzinfo=NY)
    assert first["DTEND"].dt == datetime(2027, 1, 18, 9, 0, tzinfo=NY)
    review = kinds["review"][1]
    assert [str(a) for a in review.get("ATTENDEE")] == [
        "mailto:cy@example.gov", "mailto:bob@example.gov", "mailto:ada@example.gov"]
    assert [a.params["CN"] for a in review.get("ATTENDEE")] == ["Cy", "Bob", "Ada"]


def test_meetings_stay_at_local_time_when_expanded_across_dst():
    s = schedule(team("Ada", "Bob", "Cy"))
    events = parse(feed(s, Window(date(2027, 3, 8), 2)))
    triage = [e for e in events if e["CATEGORIES"].cats[0] == "triage"]
    local = [e["DTSTART"].dt.astimezone(NY) for e in triage]
    assert [t.strftime("%H:%M") for t in local] == ["10:00"] * 10
    utc_hours = {e["DTSTART"].dt.astimezone(timezone.utc).hour for e in triage}
    assert utc_hours == {15, 14}  # 10:00 EST and 10:00 EDT
    assert triage[0]["DTEND"].dt - triage[0]["DTSTART"].dt == timedelta(minutes=15)


def test_rfc5545_shape_dtstamp_uids_calname_and_crlf():
    s = schedule(team("Ada", "Bob", "Cy"))
    data = feed(s)
    text = data.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    cal = icalendar.Calendar.from_ical(data)
    assert str(cal["X-WR-CALNAME"]) == "Platform experts support"
    events = parse(data)
    assert all(e["DTSTAMP"].dt == STAMP for e in events)
    uids = [str(e["UID"]) for e in events]
    assert len(uids) == len(set(uids))


def test_lines_are_folded_at_75_octets_without_splitting_characters():
    long_name = "Zoë Ångström-Øverland " * 6
    s = schedule(team(member(long_name.strip()), "Bob", "Cy"))
    data = feed(s, Window(date(2027, 1, 4), 2))
    for line in data.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # each physical line is whole UTF-8
    names = {a.params["CN"] for e in parse(data) for a in (e.get("ATTENDEE") or [])}
    assert long_name.strip() in names


def test_names_and_notes_cannot_inject_properties():
    s = schedule(team(
        member("Mallory, \"The\" Admin; Jr:", email="mallory@example.gov", away=[away("2027-03-01", "2027-03-02", "note;with,commas\\and")]),
        "Bob", "Cy",
        overrides=[{"from": "2027-01-05", "to": "2027-01-05", "replace": "bob@example.gov",
                    "with": "cy@example.gov", "note": "x\\nATTENDEE:mailto:evil@example.com"}],
    ))
    data = feed(s, Window(date(2027, 1, 4), 2))
    events = parse(data)
    attendees = {str(a) for e in events for a in (e.get("ATTENDEE") or [])}
    assert "mailto:evil@example.com" not in attendees
    cns = {a.params["CN"] for e in events for a in (e.get("ATTENDEE") or [])}
    assert "Mallory, 'The' Admin; Jr:" in cns
    stint = next(e for e in events if str(e["UID"]).startswith("stint-20261228"))
    assert str(stint["SUMMARY"]) == "Mallory, \"The\" Admin; Jr: on support (Platform experts)"


def test_control_characters_are_dropped_from_text():
    assert icsfeed.escape_text("a\r\nb\x07c;d") == "a\\nbc\\;d"
    assert icsfeed.quote_param('x"y\x00z') == "\"x'yz\""


def test_same_input_gives_the_same_bytes():
    s1 = schedule(team("Ada", "Bob", "Cy", "Di"))
    s2 = schedule(team("Ada", "Bob", "Cy", "Di"))
    assert feed(s1) == feed(s2)


def test_a_reassigned_slot_keeps_its_uid_so_subscribers_update_it():
    before = {str(e["UID"]): e for e in parse(feed(schedule(team("Ada", "Bob", "Cy", "Di"))))}
    after_data = team("Ada", "Bob", member("Cy", away=[away("2027-01-12", "2027-01-12")]), "Di")
    after = {str(e["UID"]): e for e in parse(feed(schedule(after_data)))}
    uid = "stint-20270111-test@rota"
    assert str(before[uid]["SUMMARY"]).startswith("Cy on support")
    assert str(after[uid]["SUMMARY"]).startswith("Di on support")
    assert set(before) == set(after)


def test_renaming_the_team_keeps_every_uid():
    before = parse(feed(schedule(team("Ada", "Bob", "Cy", "Di"))))
    after = parse(feed(schedule(team("Ada", "Bob", "Cy", "Di", team="Platform support"))))
    assert [str(e["UID"]) for e in after] == [str(e["UID"]) for e in before]
    assert all("(Platform support)" in str(e["SUMMARY"]) for e in after)


def test_the_team_id_is_in_every_uid_so_the_old_slug_keeps_the_old_uids():
    events = parse(feed(schedule(team("Ada", "Bob", "Cy", "Di", id="platform-experts"))))
    assert "stint-20270104-platform-experts@rota" in {str(e["UID"]) for e in events}
    assert all(str(e["UID"]).endswith("-platform-experts@rota") for e in events)


def test_all_day_events_keep_their_local_date_east_of_utc():
    data = team("Ada", "Bob", "Cy", timezone="Asia/Tokyo",
                overrides=[{"from": "2027-01-05", "to": "2027-01-06", "replace": "bob@example.gov", "with": "cy@example.gov"}])
    events = parse(feed(schedule(data), Window(date(2027, 1, 4), 1)))
    cover = next(e for e in events if e["CATEGORIES"].cats[0] == "cover")
    assert cover["DTSTART"].dt == date(2027, 1, 5)
    assert cover["DTEND"].dt == date(2027, 1, 7)
    assert str(cover["SUMMARY"]) == "Cy covers for Bob (Platform experts)"


def test_absence_gaps_in_a_running_stint_appear_as_all_day_events():
    data = team("Ada", "Bob", "Cy", "Di")
    record = record_of(*((st.monday.isoformat(), st.member, st.start) for st in schedule(data).rotation.stints(-1, 2)))
    data["members"][2]["away"] = [away("2027-01-13", "2027-01-13", "sick")]
    events = parse(feed(schedule(data, record), Window(date(2027, 1, 11), 1)))
    gaps = [e for e in events if e["CATEGORIES"].cats[0] == "absence"]
    assert len(gaps) == 1
    assert gaps[0]["DTSTART"].dt == date(2027, 1, 13)
    assert str(gaps[0]["SUMMARY"]) == "GAP: Cy away, no cover (Platform experts)"


def test_a_member_feed_has_only_that_members_stints_and_meetings():
    s = schedule(team("Ada", "Bob", "Cy", "Di"))
    events = parse(feed(s, member="cy@example.gov", name="Cy"))
    assert events
    for e in events:
        kind = e["CATEGORIES"].cats[0]
        if kind == "stint":
            assert str(e["SUMMARY"]).startswith("Cy on support")
        else:
            assert "mailto:cy@example.gov" in [str(a) for a in e.get("ATTENDEE")]
    team_uids = {str(e["UID"]) for e in parse(feed(s))}
    assert {str(e["UID"]) for e in events} <= team_uids
