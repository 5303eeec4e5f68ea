"""The pure calendar plan: ids, event bodies, and what a sync would change."""

import base64
import re
from datetime import date

from rosterkit import away, record_of, schedule, team

from scheduler.core import Window
from scheduler.sync.google.plan import Marks, event_id, plan_calendar, resource

EVENTS = schedule(team("Ada", "Bob", "Cy", "Di", id="ops")).events(Window(date(2027, 1, 4), 2))
MARKS = Marks("ops", legacy="platform-experts")


def bodies(invite=False):
    return [resource(e, "ops", "America/New_York", invite) for e in EVENTS]


def as_before_team_ids(body, slug="platform-experts"):
    """The event the release before team ids wrote for the same slot."""
    uid = body["extendedProperties"]["private"]["rotaUid"].replace("-ops@rota", f"-{slug}@rota")
    return {**body, "id": base64.b32hexencode(uid.encode()).decode().rstrip("=").lower(),
            "extendedProperties": {"private": {"rota": slug, "rotaUid": uid}}}


def uid_of(body):
    return body["extendedProperties"]["private"]["rotaUid"]


def test_event_ids_are_valid_google_ids_and_stable_per_uid():
    ids = [event_id(e.uid) for e in EVENTS]
    assert all(re.fullmatch(r"[a-v0-9]{5,1024}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert event_id("stint-20270104-ops@rota") == event_id("stint-20270104-ops@rota")
    # Never an id that the release before team ids gave some team's event.
    assert not set(ids) & {as_before_team_ids(b, "ops")["id"] for b in bodies()}


def test_bodies_carry_local_times_the_zone_and_the_teams_mark():
    stint = next(b for b in bodies() if b["summary"].startswith("Bob on support"))
    assert stint["start"] == {"dateTime": "2027-01-04T09:00:00-05:00", "timeZone": "America/New_York"}
    assert stint["transparency"] == "transparent"
    assert stint["extendedProperties"]["private"] == {
        "rota": "ops", "rotaVersion": "2", "rotaUid": "stint-20270104-ops@rota"}


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
    plan = plan_calendar(bodies(), stored, MARKS)
    assert plan.changes == [] and plan.unchanged == len(stored)


def test_missing_changed_cancelled_and_unwanted_events():
    want = bodies()
    have = [dict(b) for b in want[1:]]  # the first is missing
    have[0] = {**have[0], "summary": "Someone else"}  # changed
    have[1] = {**have[1], "status": "cancelled"}  # rota deleted it once
    gone = "stint-20260101-ops@rota"
    unwanted = {**want[0], "id": event_id(gone), "extendedProperties": {"private": {
        "rota": "ops", "rotaVersion": "2", "rotaUid": gone}}}
    plan = plan_calendar(want, have + [unwanted], MARKS)
    assert [c.event_id for c in plan.inserts] == [want[0]["id"]]
    assert [(u.event_id, u.what) for u in plan.updates] == [(want[1]["id"], "summary"), (want[2]["id"], "restore")]
    assert [d.event_id for d in plan.deletes] == [unwanted["id"]]


def test_deleting_more_than_a_quarter_of_the_window_is_unsafe():
    want = bodies()
    assert not plan_calendar(want[:-1], want, MARKS).unsafe
    assert plan_calendar(want[: len(want) // 2], want, MARKS).unsafe


def test_events_of_the_release_before_team_ids_are_adopted_in_place():
    data = team("Ada", "Bob", "Cy", "Di", id="ops",
                overrides=[{"from": "2027-01-06", "to": "2027-01-07", "replace": "bob@example.gov", "with": "di@example.gov"}])
    record = record_of(*((st.monday.isoformat(), st.member, st.start) for st in schedule(data).rotation.stints(-1, 2)))
    data["members"][2]["away"] = [away("2027-01-13", "2027-01-13")]  # after her stint began: a gap day
    events = schedule(data, record).events(Window(date(2027, 1, 4), 2))
    assert {e.kind for e in events} == {"stint", "absence", "cover", "triage", "review"}
    want = [resource(e, "ops", "America/New_York", False) for e in events]
    old = [as_before_team_ids(b) for b in want]
    plan = plan_calendar(want, old, MARKS)
    assert plan.inserts == [] and plan.deletes == [] and plan.unchanged == 0
    assert [(u.event_id, u.what) for u in plan.updates] == [(o["id"], "adopt") for o in old]
    assert [uid_of(u.body) for u in plan.updates] == [uid_of(b) for b in want]
    # Once written, the next plan finds every slot held and changes nothing.
    assert plan_calendar(want, [u.body for u in plan.updates], MARKS).changes == []


def test_a_slot_held_twice_keeps_one_event():
    want = bodies()
    plan = plan_calendar(want[:1], [want[0], as_before_team_ids(want[0])], MARKS)
    assert plan.updates == [] and plan.unchanged == 1
    assert [d.event_id for d in plan.deletes] == [as_before_team_ids(want[0])["id"]]


def test_only_the_teams_own_events_are_planned_for():
    want = bodies()
    foreign = [
        # another team whose id is this team's old slug: same UIDs, newer scheme
        {**as_before_team_ids(want[0]), "extendedProperties": {"private": {
            "rota": "platform-experts", "rotaVersion": "2", "rotaUid": "stint-20270104-platform-experts@rota"}}},
        # a team whose old slug is this team's id, not yet adopted by its own roster
        {**want[1], "id": "x" * 20, "extendedProperties": {"private": {"rota": "ops", "rotaUid": uid_of(want[1])}}},
        # this team's old mark on a UID that is not in the old form
        {**want[2], "id": "y" * 20, "extendedProperties": {"private": {
            "rota": "platform-experts", "rotaUid": "stint-20270104-data-team@rota"}}},
        # a newer scheme rota does not know
        {**want[3], "id": "z" * 20, "extendedProperties": {"private": {
            "rota": "ops", "rotaVersion": "3", "rotaUid": uid_of(want[3])}}},
    ]
    plan = plan_calendar(want, foreign, MARKS)
    assert len(plan.inserts) == len(want) and plan.updates == [] and plan.deletes == []
    assert plan.owned == 0


def _in_los_angeles(text):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).astimezone(ZoneInfo("America/Los_Angeles")).isoformat()
