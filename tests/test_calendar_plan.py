"""The pure calendar plan: ids, event bodies, and what a sync would change."""

import re
from datetime import date

from rosters import schedule, team

from scheduler.core import Window
from scheduler.core.calendarplan import event_id, plan_calendar, resource

EVENTS = schedule(team("Ada", "Bob", "Cy", "Di")).events(Window(date(2027, 1, 4), 2))


def bodies(invite=False):
    return [resource(e, "platform-experts", "America/New_York", invite) for e in EVENTS]


def test_event_ids_are_valid_google_ids_and_stable_per_uid():
    ids = [event_id(e.uid) for e in EVENTS]
    assert all(re.fullmatch(r"[a-v0-9]{5,1024}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert event_id("stint-20270104-platform-experts@rota") == event_id("stint-20270104-platform-experts@rota")


def test_bodies_carry_local_times_the_zone_and_the_teams_mark():
    stint = next(b for b in bodies() if b["summary"].startswith("Bob on support"))
    assert stint["start"] == {"dateTime": "2027-01-04T09:00:00-05:00", "timeZone": "America/New_York"}
    assert stint["transparency"] == "transparent"
    assert stint["extendedProperties"]["private"] == {
        "rota": "platform-experts", "rotaUid": "stint-20270104-platform-experts@rota"}


def test_attendees_are_invited_with_a_delegate_and_named_without_one():
    triage_invite = next(b for b in bodies(invite=True) if b["summary"].startswith("Daily triage"))
    assert [a["email"] for a in triage_invite["attendees"]] == ["bob@example.gov", "ada@example.gov"]
    triage_named = next(b for b in bodies(invite=False) if b["summary"].startswith("Daily triage"))
    assert "attendees" not in triage_named
    assert triage_named["description"].endswith("Attendees: Bob <bob@example.gov>, Ada <ada@example.gov>")


def test_a_calendar_that_matches_plans_nothing_even_in_another_time_zone():
    stored = []
    for b in bodies():
        copy = dict(b)
        if "dateTime" in b["start"]:  # Google answers in the calendar's zone
            copy["start"] = {"dateTime": _in_los_angeles(b["start"]["dateTime"]), "timeZone": "America/New_York"}
        stored.append(copy)
    plan = plan_calendar(bodies(), stored)
    assert plan.changes == [] and plan.unchanged == len(stored)


def test_missing_changed_cancelled_and_unwanted_events():
    want = bodies()
    have = [dict(b) for b in want[1:]]  # the first is missing
    have[0] = {**have[0], "summary": "Someone else"}  # changed
    have[1] = {**have[1], "status": "cancelled"}  # rota deleted it once
    unwanted = {**want[0], "id": event_id("stint-20260101-platform-experts@rota")}
    plan = plan_calendar(want, have + [unwanted])
    assert [c.event_id for c in plan.inserts] == [want[0]["id"]]
    assert [(u.event_id, u.what) for u in plan.updates] == [(want[1]["id"], "summary"), (want[2]["id"], "restore")]
    assert [d.event_id for d in plan.deletes] == [unwanted["id"]]


def test_deleting_more_than_a_quarter_of_the_window_is_unsafe():
    want = bodies()
    assert not plan_calendar(want[:-1], want).unsafe
    assert plan_calendar(want[: len(want) // 2], want).unsafe


def _in_los_angeles(text):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).astimezone(ZoneInfo("America/Los_Angeles")).isoformat()
