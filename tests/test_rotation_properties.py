"""Properties of the rotation that must hold for every roster (Hypothesis)."""

from collections import Counter
from dataclasses import replace
from datetime import date, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.core import Absence, Meeting, Member, Record, Roster, Schedule

START = date(2027, 1, 4)
WEEKS = 40
DAY = timedelta(days=1)


def roster_of(members, holidays=()) -> Schedule:
    roster = Roster(
        team="T", id="t", timezone="America/New_York", start=START, handoff_time=time(9, 0), holidays=None,
        daily_triage=Meeting(time(10, 0), 15), weekly_review=Meeting(time(11, 0), 15),
        members=tuple(members),
    )
    return Schedule(roster, frozenset(holidays))


@st.composite
def absences(draw):
    found = []
    for _ in range(draw(st.integers(0, 3))):
        first = START + draw(st.integers(-7, WEEKS * 7)) * DAY
        found.append(Absence(first, first + draw(st.integers(0, 20)) * DAY))
    return tuple(found)


@st.composite
def members(draw, with_absences=True, churn=True):
    n = draw(st.integers(1, 9))
    found = []
    for i in range(n):
        joined, left = START, None
        if churn and draw(st.booleans()):
            joined = START + draw(st.integers(0, WEEKS * 7)) * DAY
        if churn and draw(st.booleans()):
            left = joined + draw(st.integers(0, WEEKS * 7)) * DAY
        away = draw(absences()) if with_absences else ()
        found.append(Member(f"M{i}", f"m{i}@example.gov", joined, left, away))
    return found


def could_serve(s, m, stint) -> bool:
    """The availability rule, restated: joined, not left, no away business day."""
    first, stop = stint.start.date(), stint.end.date()
    return (
        m.joined <= first
        and (m.left is None or m.left >= stop)
        and not any(m.is_away(day) for day in s.calendar.business_days(first, stop))
    )


holiday_sets = st.frozensets(st.integers(0, WEEKS * 7).map(lambda d: START + d * DAY), max_size=15)


@settings(max_examples=150, deadline=None)
@given(members(), holiday_sets)
def test_every_stint_is_two_weeks_and_each_handoff_changes_one_slot(ms, holidays):
    s = roster_of(ms, holidays)
    for k in range(WEEKS):
        stint = s.rotation.stint(k)
        assert stint.start == s.rotation.handoff(k)
        assert stint.end == s.rotation.handoff(k + 2)
        week = s.rotation.week(k)
        # The pair at this handoff: the new stint and the one that began a week ago.
        assert week.continuing is s.rotation.stint(k - 1)
        if k >= 1:
            assert week.outgoing is s.rotation.stint(k - 2)
            assert week.outgoing.end == week.handoff


@settings(max_examples=150, deadline=None)
@given(members(), holiday_sets)
def test_nobody_is_paired_with_themselves_and_picks_respect_availability(ms, holidays):
    s = roster_of(ms, holidays)
    by_email = {m.email: m for m in ms}
    for k in range(-1, WEEKS):
        stint = s.rotation.stint(k)
        if k >= 0 and stint.member is not None:
            assert stint.member != s.rotation.stint(k - 1).member
        if stint.member is None:
            continue
        assert could_serve(s, by_email[stint.member], stint), (k, stint)


@settings(max_examples=150, deadline=None)
@given(members(), holiday_sets)
def test_a_gap_only_when_nobody_at_all_could_take_the_stint(ms, holidays):
    s = roster_of(ms, holidays)
    for k in range(WEEKS):
        stint = s.rotation.stint(k)
        if stint.member is not None:
            continue
        continuing = s.rotation.stint(k - 1).member
        for m in ms:
            assert m.email == continuing or not could_serve(s, m, stint), (k, m.email)


@settings(max_examples=150, deadline=None)
@given(members(), holiday_sets, st.integers(0, WEEKS * 7 * 24))
def test_two_people_are_on_at_every_instant_unless_a_gap_says_why(ms, holidays, hours):
    s = roster_of(ms, holidays)
    at = s.rotation.handoff(0) + timedelta(hours=hours)
    duty = s.duty(at)
    assert len(duty.slots) == 2
    assert all(slot.member or slot.problem for slot in duty.slots)
    present = duty.members
    assert len(present) == len(set(present))
    assert s.rotation.handoff(duty.week) <= at < s.rotation.handoff(duty.week + 1)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 12), holiday_sets, st.integers(0, 60), st.integers(1, 60))
def test_counts_are_fair_over_any_span_without_absences(n, holidays, first, length):
    ms = [Member(f"M{i}", f"m{i}@example.gov", START) for i in range(n)]
    s = roster_of(ms, holidays)
    counts = Counter({m.email: 0 for m in ms})
    counts.update(s.rotation.stint(k).member for k in range(first - 1, first - 1 + length))
    assert max(counts.values()) - min(counts.values()) <= 1
    if n >= 3:  # with three or more, the person coming in is never the one going out
        for k in range(1, 40):
            week = s.rotation.week(k)
            assert week.incoming.member != week.outgoing.member


@settings(max_examples=60, deadline=None)
@given(members(), holiday_sets, st.integers(0, WEEKS - 1))
def test_recording_the_past_never_changes_it_whatever_the_roster_becomes(ms, holidays, now_week):
    s = roster_of(ms, holidays)
    now = s.rotation.handoff(now_week)
    begun = s.begun(now)
    record = Record({r.week: r for r in begun})
    # The roster is rewritten: reversed, and everyone's absences dropped.
    edited = [Member(m.name, m.email, m.joined, m.left) for m in reversed(ms)]
    later = Schedule(replace(s.roster, members=tuple(edited)), frozenset(holidays), record)
    for k in range(-1, now_week + 1):
        assert later.rotation.stint(k).member == s.rotation.stint(k).member
