"""The rotation rule, one case at a time, as a team lead would check it."""

from datetime import date

from rosterkit import away, emails, member, record_of, schedule, team, utc

from scheduler.core import Window


def incoming(s, weeks):
    return [s.rotation.stint(k).member for k in range(weeks)]


def who_on(s, instant):
    return sorted(s.duty(utc(instant)).members)


def test_first_week_is_the_first_two_members_and_the_first_leaves_after_one_week():
    s = schedule(team("Ada", "Bob", "Cy", "Di"))
    week0 = s.rotation.week(0)
    assert week0.continuing.member == "ada@example.gov"
    assert week0.incoming.member == "bob@example.gov"
    assert week0.outgoing is None
    # Ada started "the week before", so she hands over at the second handoff.
    assert s.rotation.stint(-1).end.isoformat() == "2027-01-11T09:00:00-05:00"
    assert s.rotation.week(1).outgoing.member == "ada@example.gov"
    assert s.rotation.stint(0).end.isoformat() == "2027-01-18T09:00:00-05:00"


def test_longest_waiting_member_comes_in_each_week_in_a_steady_cycle():
    s = schedule(team("Ada", "Bob", "Cy", "Di"))
    # Ada (week -1), Bob, Cy, Di, then Ada again: she has waited since her
    # stint ended at the week-1 handoff.
    assert incoming(s, 8) == emails(["Bob", "Cy", "Di", "Ada", "Bob", "Cy", "Di", "Ada"])


def test_every_week_one_rotates_out_and_one_rotates_in():
    s = schedule(team("Ada", "Bob", "Cy", "Di", "Eve"))
    for k in range(1, 20):
        week = s.rotation.week(k)
        before = {s.rotation.stint(k - 1).member, s.rotation.stint(k - 2).member}
        after = {week.incoming.member, week.continuing.member}
        assert week.continuing.member == s.rotation.stint(k - 1).member
        assert before - after == {week.outgoing.member}
        assert after - before == {week.incoming.member}


def test_an_absence_on_a_business_day_of_the_stint_passes_the_member_over():
    data = team("Ada", "Bob", member("Cy", away=[away("2027-01-13", "2027-01-13", "dentist")]), "Di")
    s = schedule(data)
    week1 = s.rotation.stint(1)  # the stint from 2027-01-11 to 2027-01-25
    assert week1.member == "di@example.gov"
    assert "Cy (away 2027-01-13 (dentist))" in week1.reason
    # Cy is back in line the week after, having waited longest.
    assert s.rotation.stint(2).member == "cy@example.gov"


def test_an_absence_on_a_weekend_or_holiday_does_not_count():
    weekend = schedule(team("Ada", "Bob", member("Cy", away=[away("2027-01-16", "2027-01-17")]), "Di"))
    assert weekend.rotation.stint(1).member == "cy@example.gov"
    # 2027-01-18 is Martin Luther King Jr. Day: not a business day in the US.
    holiday = schedule(team("Ada", "Bob", member("Cy", away=[away("2027-01-18", "2027-01-18")]), "Di", holidays="US"))
    assert holiday.rotation.stint(1).member == "cy@example.gov"
    no_holidays = schedule(team("Ada", "Bob", member("Cy", away=[away("2027-01-18", "2027-01-18")]), "Di"))
    assert no_holidays.rotation.stint(1).member == "di@example.gov"


def test_the_last_day_of_a_stint_is_the_day_before_the_handoff_that_ends_it():
    # Cy's stint would run 2027-01-11 .. 2027-01-25 09:00; away on the 25th is fine.
    s = schedule(team("Ada", "Bob", member("Cy", away=[away("2027-01-25", "2027-01-29")]), "Di"))
    assert s.rotation.stint(1).member == "cy@example.gov"
    # but away on the 22nd (the Friday) is not.
    s = schedule(team("Ada", "Bob", member("Cy", away=[away("2027-01-22", "2027-01-22")]), "Di"))
    assert s.rotation.stint(1).member == "di@example.gov"


def test_members_serve_only_between_joining_and_leaving():
    data = team(
        "Ada", "Bob", "Cy",
        member("Di", left="2027-01-24"),  # cannot take the stint ending 2027-01-25
        member("Eve", joined="2027-02-01"),
    )
    s = schedule(data)
    assert s.rotation.stint(1).member == "cy@example.gov"
    assert s.rotation.stint(2).member != "di@example.gov"
    served = {s.rotation.stint(k).member for k in range(-1, 30)}
    assert "di@example.gov" not in served
    first_eve = min(k for k in range(30) if s.rotation.stint(k).member == "eve@example.gov")
    assert s.rotation.stint(first_eve).start.date() >= date(2027, 2, 1)
    assert "Di (leaves 2027-01-24)" in s.rotation.stint(2).reason


def test_a_member_may_serve_a_stint_that_ends_on_their_last_day():
    s = schedule(team("Ada", "Bob", member("Cy", left="2027-01-25"), "Di"))
    assert s.rotation.stint(1).member == "cy@example.gov"


def test_a_new_member_waits_from_their_join_date():
    # Eve joins on 2027-02-08 and waits from then: whoever finished a stint
    # before that day goes first.
    data = team("Ada", "Bob", "Cy", member("Eve", joined="2027-02-08"))
    s = schedule(data)
    order = [s.rotation.stint(k).member for k in range(-1, 12)]
    eve = order.index("eve@example.gov") - 1  # week index
    assert s.rotation.stint(eve).start.date() >= date(2027, 2, 8)
    # Everyone who came in after Eve joined and before her had waited longer:
    # their previous stint ended on or before her join date (ties: roster order).
    for k in range(eve):
        stint = s.rotation.stint(k)
        if stint.start.date() >= date(2027, 2, 8):
            previous = max(j for j in range(-1, k) if s.rotation.stint(j).member == stint.member)
            assert s.rotation.stint(previous).end.date() <= date(2027, 2, 8)
    assert "never served (joined 2027-02-08)" in s.rotation.stint(eve).reason


def test_nobody_available_is_an_explicit_gap_with_the_reasons():
    # Week 1: Bob continues, Cy is on PTO, Ada is away one day of the stint.
    data = team(
        member("Ada", away=[away("2027-01-20", "2027-01-20")]),
        "Bob",
        member("Cy", away=[away("2027-01-11", "2027-01-22", "PTO")]),
    )
    s = schedule(data)
    gap = s.rotation.stint(1)
    assert gap.member is None
    assert "nobody available" in gap.reason
    assert "Bob (on support)" in gap.reason and "Cy (away 2027-01-11 to 2027-01-22 (PTO))" in gap.reason
    assert "Ada (away 2027-01-20)" in gap.reason
    week2 = s.rotation.week(2)
    assert week2.continuing.member is None  # the gap carries into its second week
    duty = s.duty(utc("2027-01-19T12:00:00-05:00"))
    assert duty.members == ["bob@example.gov"]
    assert [g.problem for g in duty.gaps] == ["no one was available for this stint"]


def test_handoff_moves_to_the_next_business_day_when_monday_is_a_holiday():
    s = schedule(team("Ada", "Bob", "Cy", "Di", holidays="US"))
    week2 = s.rotation.week(2)  # Monday 2027-01-18 is Martin Luther King Jr. Day
    assert week2.handoff.isoformat() == "2027-01-19T09:00:00-05:00"
    assert s.rotation.stint(0).end == week2.handoff
    assert who_on(s, "2027-01-18T12:00:00-05:00") == emails(["Bob", "Cy"])
    assert who_on(s, "2027-01-19T09:00:00-05:00") == emails(["Cy", "Di"])


def test_handoffs_stay_at_local_wall_clock_time_across_dst():
    s = schedule(team("Ada", "Bob", "Cy"))
    # DST starts in New York on 2027-03-14.
    assert s.rotation.week(9).handoff.isoformat() == "2027-03-08T09:00:00-05:00"
    assert s.rotation.week(10).handoff.isoformat() == "2027-03-15T09:00:00-04:00"
    # ... and ends on 2027-11-07.
    assert s.rotation.week(43).handoff.isoformat() == "2027-11-01T09:00:00-04:00"
    assert s.rotation.week(44).handoff.isoformat() == "2027-11-08T09:00:00-05:00"


def test_two_members_take_turns_and_are_always_on_together():
    s = schedule(team("Ada", "Bob"))
    assert incoming(s, 6) == emails(["Bob", "Ada", "Bob", "Ada", "Bob", "Ada"])
    assert who_on(s, "2027-02-03T12:00:00-05:00") == emails(["Ada", "Bob"])


def test_a_single_member_leaves_every_other_stint_a_gap():
    s = schedule(team("Ada"))
    stints = [s.rotation.stint(k).member for k in range(-1, 5)]
    assert stints == ["ada@example.gov", None, "ada@example.gov", None, "ada@example.gov", None]


def test_the_record_fixes_the_past_even_after_the_roster_changes():
    original = team("Ada", "Bob", "Cy", "Di")
    s = schedule(original)
    record = record_of(*(
        (st.monday.isoformat(), st.member, st.start) for st in s.rotation.stints(-1, 3)
    ))
    # Later the roster is reordered, Cy is removed and Eve added at the top.
    edited = team("Eve", "Di", "Bob", "Ada")
    later = schedule(edited, record)
    assert [later.rotation.stint(k).member for k in range(-1, 3)] == emails(["Ada", "Bob", "Cy", "Di"])
    assert later.rotation.stint(1).recorded
    # From week 3 the rule decides again, with waiting counted from the record:
    # Eve has never served (waiting since the start), Ada since 2027-01-11.
    assert later.rotation.stint(3).member == "eve@example.gov"
    assert later.rotation.stint(4).member == "ada@example.gov"
    # Cy, no longer on the roster, still shows in the past by email.
    assert later.roster.name_of("cy@example.gov") == "cy@example.gov"


def test_an_absence_added_after_a_stint_began_is_a_gap_not_a_reshuffle():
    base = team("Ada", "Bob", "Cy", "Di")
    s = schedule(base)
    record = record_of(*((st.monday.isoformat(), st.member, st.start) for st in s.rotation.stints(-1, 2)))
    # Cy's stint began 2027-01-11; then Cy reports sick for two days.
    base["members"][2]["away"] = [away("2027-01-13", "2027-01-14", "sick")]
    later = schedule(base, record)
    assert later.rotation.stint(1).member == "cy@example.gov"
    gaps = later.gaps(date(2027, 1, 11), date(2027, 1, 18))
    assert [(g.day.isoformat(), g.scheduled) for g in gaps] == [
        ("2027-01-13", "cy@example.gov"), ("2027-01-14", "cy@example.gov"),
    ]
    assert gaps[0].reason == "Cy is away: sick"
    assert later.duty(utc("2027-01-13T12:00:00-05:00")).members == ["bob@example.gov"]
    # Without the record, the same roster would have moved the stint to Di.
    assert schedule(base).rotation.stint(1).member == "di@example.gov"


def test_a_swap_trades_two_stints_and_the_rest_stays_fair():
    base = team("Ada", "Bob", "Cy", "Di", "Eve")
    before = incoming(schedule(base), 5)
    assert before == emails(["Bob", "Cy", "Di", "Eve", "Ada"])
    # Cy (week of 2027-01-11) and Eve (week of 2027-01-25) trade stints.
    base["swaps"] = [{"week": "2027-01-11", "member": "cy@example.gov", "with_week": "2027-01-25", "with": "eve@example.gov"}]
    s = schedule(base)
    assert incoming(s, 5) == emails(["Bob", "Eve", "Di", "Cy", "Ada"])
    assert s.rotation.stint(1).pinned and s.rotation.stint(1).reason == "swap with Cy (week of 2027-01-25)"
    assert s.rotation.stint(3).reason == "swap with Eve (week of 2027-01-11)"
    counts = {}
    for k in range(-1, 49):
        counts[s.rotation.stint(k).member] = counts.get(s.rotation.stint(k).member, 0) + 1
    assert max(counts.values()) - min(counts.values()) <= 1


def test_a_swap_that_would_pair_someone_with_themselves_is_ignored_and_reported():
    base = team("Ada", "Bob", "Cy", "Di", "Eve")
    started = schedule(base)
    record = record_of(*((st.monday.isoformat(), st.member, st.start) for st in started.rotation.stints(-1, 1)))
    # Bob's week-0 stint has begun; taking Cy's week-1 stint would put him on twice.
    assert started.rotation.stint(5).member == "bob@example.gov"
    base["swaps"] = [{"week": "2027-01-11", "member": "cy@example.gov", "with_week": "2027-02-08", "with": "bob@example.gov"}]
    s = schedule(base, record)
    assert incoming(s, 12) == incoming(started, 12)
    [outcome] = s.rotation.judge_swaps()
    assert not outcome.applied
    assert outcome.message == ("swap of Cy (week of 2027-01-11) and Bob (week of 2027-02-08) ignored: Bob would be on "
                               "support twice in the week of 2027-01-11: their stint of the week of 2027-01-04 has begun")


def test_weeks_in_a_window_and_reasons_explain_each_pick():
    s = schedule(team("Ada", "Bob", "Cy"))
    weeks = s.weeks(Window(date(2027, 1, 13), 3))  # any day of the week selects it
    assert [w.monday.isoformat() for w in weeks] == ["2027-01-11", "2027-01-18", "2027-01-25"]
    assert weeks[0].incoming.reason == "waited longest, never served (joined 2027-01-04)"
    assert weeks[1].incoming.reason.startswith("waited longest, since 2027-01-11")
    assert s.weeks(Window(date(2026, 12, 1), 4)) == []  # before the rotation
