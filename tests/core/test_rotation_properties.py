"""Properties of the rotation that must hold for every roster (Hypothesis)."""

from collections import Counter
from dataclasses import replace
from datetime import date, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.core import Absence, Meeting, Member, Record, Roster, Schedule, Swap

START = date(2027, 1, 4)
WEEKS = 40
DAY = timedelta(days=1)


def roster_of(members, holidays=(), swaps=()) -> Schedule:
    roster = Roster(
        name="T", id="t", timezone="America/New_York", start=START, handoff_time=time(9, 0), holidays=None,
        daily_triage=Meeting(time(10, 0), 15), weekly_review=Meeting(time(11, 0), 15),
        members=tuple(members), swaps=tuple(swaps),
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
def members(draw, with_absences=True, churn=True, smallest=1, largest=9):
    n = draw(st.integers(smallest, largest))
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


# -- swaps -----------------------------------------------------------------------------------
def draw_swaps(data, ms, holidays) -> list[Swap]:
    """Up to four swaps: some of stints as the rotation (with the swaps so far)
    gives them, as an editor would pick them; some of anyone's weeks at random.
    Some are handovers (no `other_week`: an open offer someone took)."""
    emails = [m.email for m in ms]
    found = []
    for _ in range(data.draw(st.integers(1, 4), label="swaps")):
        week, other_week = data.draw(st.lists(st.integers(0, WEEKS - 4), min_size=2, max_size=2, unique=True))
        one_way = data.draw(st.booleans(), label="handover")
        if data.draw(st.booleans(), label="as the rotation stands"):
            now = roster_of(ms, holidays, found).rotation
            member = now.stint(week).member
            other = data.draw(st.sampled_from(emails)) if one_way else now.stint(other_week).member
        else:
            member, other = data.draw(st.sampled_from(emails)), data.draw(st.sampled_from(emails))
        if member is None or other is None or member == other:
            continue
        found.append(Swap(START + week * 7 * DAY, member, None if one_way else START + other_week * 7 * DAY, other))
    return found


def halves(s, sw) -> list[tuple[int, str, str]]:
    """(week, holder, taker) of each stint `sw` trades."""
    found = [(index_of(s, sw.week), sw.member, sw.other)]
    if not sw.one_way:
        found.append((index_of(s, sw.other_week), sw.other, sw.member))
    return found


def index_of(s, monday) -> int:
    return s.calendar.week_index(monday)


def touches_pin(s, email, k) -> bool:
    """`email` holds, by a swap, a stint that one of week k would overlap or touch."""
    return any(s.rotation.stint(j).pinned and s.rotation.stint(j).member == email for j in (k + 1, k + 2))


@settings(max_examples=150, deadline=None)
@given(members(smallest=3, largest=8), holiday_sets, st.data())
def test_swaps_apply_only_where_they_hold_and_trade_exactly_two_stints(ms, holidays, data):
    swaps = draw_swaps(data, ms, holidays)
    s = roster_of(ms, holidays, swaps)
    outcomes = s.rotation.judge_swaps()
    assert sorted(map(id, (o.swap for o in outcomes))) == sorted(map(id, swaps))
    applied = []
    for outcome in outcomes:  # in the order they were judged: by week
        sw = outcome.swap
        traded = halves(s, sw)
        weeks = [w for w, _, _ in traded]
        before = roster_of(ms, holidays, applied).rotation
        held = all(before.stint(w).member == holder for w, holder, _ in traded)
        if outcome.applied:
            assert held, outcome
            applied.append(sw)
            after = roster_of(ms, holidays, applied).rotation
            assert [after.stint(w).member for w in weeks] == [taker for _, _, taker in traded]
            assert all(after.stint(w).pinned for w in weeks)
        else:
            # Not held, or one of the two would be on twice next to a stint another swap fixed.
            clash = any(
                before.stint(near).pinned and before.stint(near).member == taker
                for w, _, taker in traded
                for near in (w - 1, w + 1) if near not in weeks and near >= -1
            )
            # or the trade would keep someone on four weeks running while four or more could serve
            assert not held or clash or "four weeks running" in outcome.message, outcome
            kind = "handover of" if sw.one_way else "swap of"
            assert outcome.message.startswith(f"{kind} {sw.member.split('@')[0].upper()}")
    # The swaps that are ignored change nothing, and each is a problem for `rota check`.
    without = roster_of(ms, holidays, applied)
    assert [(t.member, t.pinned, t.reason) for t in s.rotation.stints(-1, WEEKS)] == \
        [(t.member, t.pinned, t.reason) for t in without.rotation.stints(-1, WEEKS)]
    ignored = [o for o in outcomes if not o.applied]
    assert [f.message for f in s.swap_findings() if f.is_problem] == [o.message for o in ignored]


@settings(max_examples=150, deadline=None)
@given(members(smallest=3, largest=8), holiday_sets, st.data())
def test_with_swaps_nobody_is_on_twice_and_runs_happen_only_when_forced(ms, holidays, data):
    s = roster_of(ms, holidays, draw_swaps(data, ms, holidays))
    s.rotation.judge_swaps()
    by_email = {m.email: m for m in ms}
    reported = " ".join(f.message for f in s.swap_findings())
    for k in range(0, WEEKS):
        stint, week = s.rotation.stint(k), s.rotation.week(k)
        assert stint.start == s.rotation.handoff(k) and stint.end == s.rotation.handoff(k + 2)
        if stint.member is None:
            continue
        assert stint.member != week.continuing.member, k  # never on twice in one week
        if not stint.pinned:
            assert could_serve(s, by_email[stint.member], stint), (k, stint)
        before = s.rotation.stint(k - 2).member if k >= 1 else None
        later = s.rotation.stint(k + 2)
        if stint.member not in (before, later.member if later.pinned else None):
            continue
        # A run of more than two weeks. A pick makes one only when every other member who could
        # serve was on support, just rotating out, or held a swapped stint right after it; so with
        # four or more members free of swapped stints nearby nobody serves more than two weeks
        # running, and no row names one person twice.
        if not stint.pinned:
            free = [m.email for m in ms if could_serve(s, m, stint)
                    and m.email not in (week.continuing.member, before) and not touches_pin(s, m.email, k)]
            assert free == [], (k, stint, free)
        if stint.member == before and (stint.pinned or s.rotation.stint(k - 2).pinned):
            name = by_email[stint.member].name
            first = s.rotation.stint(k - 2).monday if k >= 2 else START
            assert f"{name} is on support" in reported and f"weeks of {first.isoformat()} and {stint.monday.isoformat()}" in reported


@settings(max_examples=100, deadline=None)
@given(st.integers(4, 9), holiday_sets, st.data())
def test_with_four_or_more_members_one_swap_never_keeps_anyone_on_more_than_two_weeks(n, holidays, data):
    ms = [Member(f"M{i}", f"m{i}@example.gov", START) for i in range(n)]
    base = roster_of(ms, holidays).rotation
    week, other_week = data.draw(st.lists(st.integers(0, WEEKS - 4), min_size=2, max_size=2, unique=True))
    member, other = base.stint(week).member, base.stint(other_week).member
    if member == other:
        return
    s = roster_of(ms, holidays, [Swap(START + week * 7 * DAY, member, START + other_week * 7 * DAY, other)])
    assert [o.applied for o in s.rotation.judge_swaps()] == [True]
    assert (s.rotation.stint(week).member, s.rotation.stint(other_week).member) == (other, member)
    for k in range(1, WEEKS):
        row = s.rotation.week(k)
        people = [row.incoming.member, row.continuing.member, row.outgoing.member]
        assert len(set(people)) == 3, (k, people)
    assert s.swap_findings() == []


@settings(max_examples=100, deadline=None)
@given(st.integers(4, 9), holiday_sets, st.data())
def test_with_four_or_more_members_no_set_of_swaps_keeps_anyone_on_more_than_two_weeks(n, holidays, data):
    ms = [Member(f"M{i}", f"m{i}@example.gov", START) for i in range(n)]
    swaps = draw_swaps(data, ms, holidays)
    s = roster_of(ms, holidays, swaps)
    s.rotation.judge_swaps()
    for k in range(1, WEEKS):
        row = s.rotation.week(k)
        people = [row.incoming.member, row.continuing.member, row.outgoing.member]
        assert len(set(people)) == 3, (k, people, swaps)


@settings(max_examples=100, deadline=None)
@given(st.integers(4, 9), holiday_sets, st.data())
def test_with_four_or_more_members_a_taken_stint_moves_and_the_rule_stays_fair(n, holidays, data):
    ms = [Member(f"M{i}", f"m{i}@example.gov", START) for i in range(n)]
    base = roster_of(ms, holidays).rotation
    week = data.draw(st.integers(0, WEEKS - 8))
    member = base.stint(week).member
    taker = data.draw(st.sampled_from([m.email for m in ms if m.email != member]))
    s = roster_of(ms, holidays, [Swap(START + week * 7 * DAY, member, None, taker)])
    assert [o.applied for o in s.rotation.judge_swaps()] == [True]
    assert s.rotation.stint(week).member == taker and s.rotation.stint(week).pinned
    assert s.rotation.stint(week).reason == f"took over the stint from {member.split('@')[0].upper()}"
    for k in range(1, WEEKS):
        row = s.rotation.week(k)
        people = [row.incoming.member, row.continuing.member, row.outgoing.member]
        assert len(set(people)) == 3, (k, people)
    assert s.swap_findings() == []

    def next_after(rotation, email):
        return next(k for k in range(week + 1, WEEKS + 2 * n) if rotation.stint(k).member == email)

    # The one who gave the stint away has now waited longer, the taker less.
    assert next_after(s.rotation, member) <= next_after(base, member)
    assert next_after(s.rotation, taker) >= next_after(base, taker) or next_after(base, taker) < week
