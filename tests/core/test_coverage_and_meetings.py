"""Overrides, absences inside running stints, and the two meetings."""

from datetime import date

from scheduler.core.meetings import daily_triage, weekly_review

from rosterkit import away, emails, member, record_of, schedule, team, utc

# Ada, Bob, Cy, Di from 2027-01-04: week 0 Bob+Ada, week 1 Cy+Bob,
# week 2 Di+Cy, week 3 Ada+Di (handoffs on Mondays at 09:00 New York).
FOUR = ("Ada", "Bob", "Cy", "Di")


def cover(start, end, replace, with_, note=""):
    return {"from": start, "to": end, "replace": f"{replace}@example.gov", "with": f"{with_}@example.gov", "note": note}


def test_an_override_puts_the_cover_on_support_on_its_days_only():
    s = schedule(team(*FOUR, overrides=[cover("2027-01-13", "2027-01-14", "bob", "di", "Bob at a conference")]))
    assert sorted(s.duty(utc("2027-01-12T15:00:00-05:00")).members) == emails(["Bob", "Cy"])
    duty = s.duty(utc("2027-01-13T00:00:00-05:00"))  # from the start of the day
    assert sorted(duty.members) == emails(["Cy", "Di"])
    slot = next(sl for sl in duty.slots if sl.member == "di@example.gov")
    assert slot.scheduled == "bob@example.gov" and slot.override.note == "Bob at a conference"
    assert slot.stint_week == 2
    assert sorted(s.duty(utc("2027-01-14T23:59:00-05:00")).members) == emails(["Cy", "Di"])
    assert sorted(s.duty(utc("2027-01-15T00:00:00-05:00")).members) == emails(["Bob", "Cy"])


def test_an_override_covers_an_absence_in_a_running_stint():
    data = team(*FOUR)
    record = record_of(*((st.monday.isoformat(), st.member, st.start) for st in schedule(data).rotation.stints(-1, 2)))
    data["members"][2]["away"] = [away("2027-01-13", "2027-01-13", "sick")]
    assert [g.day for g in schedule(data, record).gaps(date(2027, 1, 11), date(2027, 1, 18))] == [date(2027, 1, 13)]
    data["overrides"] = [cover("2027-01-13", "2027-01-13", "cy", "ada")]
    s = schedule(data, record)
    assert s.gaps(date(2027, 1, 11), date(2027, 1, 18)) == []
    assert sorted(s.duty(utc("2027-01-13T11:00:00-05:00")).members) == emails(["Ada", "Bob"])


def test_a_cover_who_is_away_leaves_a_gap_that_says_so():
    data = team(*FOUR[:3], member("Di", away=[away("2027-01-13", "2027-01-13")]),
                overrides=[cover("2027-01-13", "2027-01-13", "bob", "di")])
    s = schedule(data)
    duty = s.duty(utc("2027-01-13T11:00:00-05:00"))
    assert duty.members == ["cy@example.gov"]
    assert duty.gaps[0].problem == "Di (covering) is away"
    assert [(g.day, g.scheduled) for g in s.gaps(date(2027, 1, 11), date(2027, 1, 18))] == [
        (date(2027, 1, 13), "bob@example.gov")
    ]


def test_an_override_never_puts_one_person_in_both_slots():
    s = schedule(team(*FOUR, overrides=[cover("2027-01-13", "2027-01-13", "bob", "cy")]))
    duty = s.duty(utc("2027-01-13T11:00:00-05:00"))
    assert duty.members == ["cy@example.gov"]
    assert duty.gaps[0].problem == "the cover is already on support"


def test_an_override_for_someone_not_on_support_is_reported_as_changing_nothing():
    s = schedule(team(*FOUR, overrides=[cover("2027-01-13", "2027-01-14", "di", "ada")]))
    assert sorted(s.duty(utc("2027-01-13T11:00:00-05:00")).members) == emails(["Bob", "Cy"])
    findings = s.check(utc("2027-01-05T00:00:00-05:00"), 4)
    assert any(f.kind == "override" and "changes nothing" in f.message for f in findings)


def test_who_is_on_before_the_rotation_starts_is_nobody():
    s = schedule(team(*FOUR))
    assert s.duty(utc("2027-01-04T08:59:00-05:00")) is None
    assert s.duty(utc("2027-01-04T09:00:00-05:00")) is not None


def test_daily_triage_runs_on_business_days_at_local_time_across_dst():
    s = schedule(team(*FOUR, holidays="US"))
    meetings = daily_triage(s.coverage, date(2027, 3, 8), date(2027, 3, 22))
    days = [m.day for m in meetings]
    assert len(days) == 10 and all(d.weekday() < 5 for d in days)
    assert {m.start.strftime("%H:%M") for m in meetings} == {"10:00"}
    assert meetings[0].start.utcoffset().total_seconds() == -5 * 3600
    assert meetings[-1].start.utcoffset().total_seconds() == -4 * 3600
    # Martin Luther King Jr. Day has no triage.
    assert date(2027, 1, 18) not in [m.day for m in daily_triage(s.coverage, date(2027, 1, 18), date(2027, 1, 20))]


def test_triage_attendees_are_the_pair_on_support_that_day_with_overrides():
    s = schedule(team(*FOUR, overrides=[cover("2027-01-13", "2027-01-13", "bob", "di")]))
    by_day = {m.day: m.attendees for m in daily_triage(s.coverage, date(2027, 1, 11), date(2027, 1, 16))}
    assert sorted(by_day[date(2027, 1, 12)]) == emails(["Bob", "Cy"])
    assert sorted(by_day[date(2027, 1, 13)]) == emails(["Cy", "Di"])


def test_weekly_review_on_each_handoff_day_with_incoming_continuing_and_outgoing():
    s = schedule(team(*FOUR, holidays="US"))
    reviews = weekly_review(s.coverage, 1, 3)
    assert [r.day for r in reviews] == [date(2027, 1, 11), date(2027, 1, 19)]  # MLK day moves it
    assert reviews[0].attendees == tuple(emails(["Cy", "Bob", "Ada"]))
    assert reviews[1].start.isoformat() == "2027-01-19T11:00:00-05:00"
    assert reviews[1].attendees == tuple(emails(["Di", "Cy", "Bob"]))


def test_an_outgoing_person_who_is_away_is_not_invited_to_the_review():
    s = schedule(team(member("Ada", away=[away("2027-01-11", "2027-01-11")]), *FOUR[1:]))
    assert weekly_review(s.coverage, 1, 2)[0].attendees == tuple(emails(["Cy", "Bob"]))
