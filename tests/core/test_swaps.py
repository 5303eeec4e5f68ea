"""Swaps: two members trade stints, and the rotation around them stays whole."""

import json
from dataclasses import replace
from datetime import date, time

from rosterkit import away, member, record_of, schedule, team, yaml_text

from scheduler.core import Meeting, Member, Roster, Schedule, Swap

SIX = [member(c, email=f"{c.lower()}@x.org") for c in "ABCDEF"]


def swap(week, who, with_week, other):
    return {"week": week, "member": who, "with_week": with_week, "with": other}


def incoming(s, weeks=14):
    return [s.rotation.stint(k).member for k in range(-1, weeks)]



def test_the_reported_swap_trades_two_stints_without_a_four_week_run(rota, roster_dir):
    path = roster_dir / "six.yaml"
    path.write_text(yaml_text(team(*SIX, swaps=[swap("2027-02-01", "f@x.org", "2027-02-22", "c@x.org")])))
    code, out, _ = rota("show", "--roster", path, "--from", "2027-01-04", "--weeks", "12", "--format", "json")
    assert code == 0
    weeks = json.loads(out)["weeks"]
    rows = {w["start"]: w for w in weeks}
    assert rows["2027-02-01"]["incoming"] == "c@x.org" and rows["2027-02-22"]["incoming"] == "f@x.org"
    assert rows["2027-02-01"]["reason"] == "swap with F (week of 2027-02-22)"
    assert rows["2027-02-22"]["reason"] == "swap with C (week of 2027-02-01)"
    for w in weeks:
        people = [p for p in (w["incoming"], w["continuing"], w["outgoing"]) if p]
        assert len(people) == len(set(people)), w
    # F is on support in exactly the two weeks of the stint F took, and C in its own two.
    on = {e: [w["start"] for w in weeks if e in (w["incoming"], w["continuing"])] for e in ("f@x.org", "c@x.org")}
    assert on["f@x.org"] == ["2027-02-22", "2027-03-01"]
    assert on["c@x.org"] == ["2027-01-11", "2027-01-18", "2027-02-01", "2027-02-08", "2027-03-15", "2027-03-22"]
    code, out, _ = rota("check", "--roster", path, "--weeks", "12", "--at", "2027-01-04T08:00")
    assert (code, out.splitlines()[-1]) == (0, "OK: the roster is valid and has no gaps in the next 12 weeks.")
    assert "swap" not in out


def test_a_swap_whose_member_does_not_hold_the_week_is_ignored_and_fails_check(rota, roster_dir):
    path = roster_dir / "six.yaml"
    path.write_text(yaml_text(team(*SIX, swaps=[swap("2027-02-01", "b@x.org", "2027-02-22", "c@x.org")])))
    code, out, _ = rota("check", "--roster", path, "--weeks", "12", "--at", "2027-01-04T08:00")
    assert code == 1
    assert (f"{path}: swap: swap of B (week of 2027-02-01) and C (week of 2027-02-22) ignored: "
            "B does not hold the week of 2027-02-01; F does") in out.splitlines()
    assert out.splitlines()[-1] == "1 swap(s) ignored."
    assert incoming(schedule(team(*SIX, swaps=[swap("2027-02-01", "b@x.org", "2027-02-22", "c@x.org")]))) == \
        incoming(schedule(team(*SIX)))


def test_a_swap_whose_other_member_does_not_hold_the_other_week_is_ignored():
    s = schedule(team(*SIX, swaps=[swap("2027-02-01", "f@x.org", "2027-02-15", "c@x.org")]))
    [outcome] = s.rotation.judge_swaps()
    assert not outcome.applied
    assert outcome.message.endswith("ignored: C does not hold the week of 2027-02-15; B does")
    assert incoming(s) == incoming(schedule(team(*SIX)))
    assert [f.is_problem for f in s.swap_findings()] == [True]


def test_a_swap_onto_a_gap_is_ignored():
    # In the stint of 2027-01-11 Bob continues, Cy is on PTO and Ada is away a day: a gap.
    data = team(member("Ada", away=[away("2027-01-20", "2027-01-20")]), "Bob",
                member("Cy", away=[away("2027-01-11", "2027-01-22", "PTO")]))
    assert schedule(data).rotation.stint(1).member is None
    data["swaps"] = [swap("2027-01-11", "ada@example.gov", "2027-01-25", "bob@example.gov")]
    [outcome] = schedule(data).rotation.judge_swaps()
    assert outcome.message.endswith("ignored: Ada does not hold the week of 2027-01-11; it is a gap")


def test_a_swap_on_a_day_that_is_not_a_rotation_monday_is_ignored():
    # The roster file refuses such a swap; a roster built some other way still cannot misplace stints.
    members = tuple(Member(n, f"{n.lower()}@example.gov", date(2027, 1, 4)) for n in ("Ada", "Bob", "Cy", "Di"))
    roster = Roster("T", "America/New_York", date(2027, 1, 4), time(9, 0), None, Meeting(time(10, 0), 15),
                    Meeting(time(11, 0), 15), members, id="t",
                    swaps=(Swap(date(2027, 1, 20), "cy@example.gov", date(2027, 2, 8), "ada@example.gov"),))
    s = Schedule(roster)
    [outcome] = s.rotation.judge_swaps()
    assert outcome.message.endswith("ignored: 2027-01-20 is not the Monday of a rotation week")
    assert incoming(s) == incoming(Schedule(replace(roster, swaps=())))


def test_a_swap_of_a_stint_that_began_without_it_is_ignored():
    data = team("Ada", "Bob", "Cy", "Di")
    record = record_of(*((st.monday.isoformat(), st.member, st.start) for st in schedule(data).rotation.stints(-1, 2)))
    data["swaps"] = [swap("2027-01-11", "cy@example.gov", "2027-01-25", "ada@example.gov")]
    s = schedule(data, record)
    [outcome] = s.rotation.judge_swaps()
    assert outcome.message.endswith("the stint of the week of 2027-01-11 has begun with Cy; the record keeps it")


def test_a_swap_half_done_keeps_its_second_half_after_the_first_is_recorded():
    data = team(*SIX, swaps=[swap("2027-02-01", "f@x.org", "2027-02-22", "c@x.org")])
    swapped = schedule(data)
    # Everything up to the week of 2027-02-08 has begun, C's traded stint included.
    record = record_of(*((st.monday.isoformat(), st.member, st.start) for st in swapped.rotation.stints(-1, 6)))
    later = schedule(data, record)
    assert later.rotation.stint(7).member == "f@x.org" and later.rotation.stint(7).pinned
    assert incoming(later, 20) == incoming(swapped, 20)
    assert later.swap_findings() == []


def test_a_later_swap_is_judged_with_the_earlier_ones_applied():
    data = team("Ada", "Bob", "Cy", "Di", "Eve")
    data["swaps"] = [swap("2027-01-11", "cy@example.gov", "2027-01-25", "eve@example.gov")]
    first = schedule(data)
    assert first.rotation.stint(3).member == "cy@example.gov"  # Cy now holds the week of 2027-01-25
    assert first.rotation.stint(5).member == "bob@example.gov"
    data["swaps"].append(swap("2027-01-25", "cy@example.gov", "2027-02-08", "bob@example.gov"))
    both = schedule(data)
    assert all(o.applied for o in both.rotation.judge_swaps())
    assert (both.rotation.stint(3).member, both.rotation.stint(5).member) == ("bob@example.gov", "cy@example.gov")
    assert both.rotation.stint(1).member == "eve@example.gov"


def test_three_members_a_swap_can_force_four_weeks_running_and_check_says_so(rota, roster_dir):
    path = roster_dir / "three.yaml"
    path.write_text(yaml_text(team("Ada", "Bob", "Cy",
                                   swaps=[swap("2027-01-25", "bob@example.gov", "2027-02-01", "cy@example.gov")])))
    code, out, _ = rota("check", "--roster", path, "--weeks", "12", "--at", "2027-01-04T08:00")
    assert code == 0  # the team asked for it: a warning, not a failure
    assert (f"{path}: warning (swap): Cy is on support four weeks running (stints of the weeks of 2027-01-11 and "
            "2027-01-25): with the swaps, nobody else is available") in out.splitlines()
    s = schedule(team("Ada", "Bob", "Cy", swaps=[swap("2027-01-25", "bob@example.gov", "2027-02-01", "cy@example.gov")]))
    assert (s.rotation.stint(3).member, s.rotation.stint(4).member) == ("cy@example.gov", "bob@example.gov")
    for k in range(1, 14):
        week = s.rotation.week(k)
        assert week.incoming.member != week.continuing.member
    runs = [k for k in range(1, 14) if s.rotation.stint(k).member == s.rotation.stint(k - 2).member]
    assert runs == [3]


def test_with_four_members_the_picks_before_a_swapped_stint_make_room_for_it():
    # Without the swap: Bob, Cy, Di, Ada (01-25), Bob, Cy (02-08), Di, Ada (02-22). Ada takes
    # Cy's stint of 02-08, so she must not also take the one of 01-25: it would end as hers begins.
    data = team("Ada", "Bob", "Cy", "Di", swaps=[swap("2027-02-08", "cy@example.gov", "2027-02-22", "ada@example.gov")])
    s = schedule(data)
    assert all(o.applied for o in s.rotation.judge_swaps())
    assert (s.rotation.stint(5).member, s.rotation.stint(7).member) == ("ada@example.gov", "cy@example.gov")
    assert s.rotation.stint(3).member != "ada@example.gov"
    assert "Ada (swapped into the week of 2027-02-08)" in s.rotation.stint(3).reason
    for k in range(1, 30):
        week = s.rotation.week(k)
        people = [week.incoming.member, week.continuing.member, week.outgoing.member]
        assert len(set(people)) == 3, (k, people)
    assert s.swap_findings() == []



# -- handovers: a swap without `with_week`, an open offer someone took ------------------------
def handover(week, who, taker):
    return {"week": week, "member": who, "with": taker}


def test_a_handover_gives_one_stint_and_the_rule_re_picks_the_later_weeks_fairly(rota, roster_dir):
    plain = schedule(team(*SIX))
    assert plain.rotation.stint(4).member == "f@x.org"  # the week of 2027-02-01
    path = roster_dir / "six.yaml"
    path.write_text(yaml_text(team(*SIX, swaps=[handover("2027-02-01", "f@x.org", "c@x.org")])))
    code, out, _ = rota("show", "--roster", path, "--from", "2027-01-04", "--weeks", "14", "--format", "json")
    assert code == 0
    weeks = json.loads(out)["weeks"]
    rows = {w["start"]: w for w in weeks}
    assert rows["2027-02-01"]["incoming"] == "c@x.org"
    assert rows["2027-02-01"]["reason"] == "took over the stint from F"
    for w in weeks:
        people = [p for p in (w["incoming"], w["continuing"], w["outgoing"]) if p]
        assert len(people) == len(set(people)), w
    starts = {e: [w["start"] for w in weeks if w["incoming"] == e] for e in ("f@x.org", "c@x.org")}
    before = {e: [st.monday.isoformat() for st in plain.rotation.stints(0, 14) if st.member == e]
              for e in ("f@x.org", "c@x.org")}
    assert before == {"f@x.org": ["2027-02-01", "2027-03-15"], "c@x.org": ["2027-01-11", "2027-02-22", "2027-04-05"]}
    # F gave the stint away and, never having served, has waited longest: F comes in at the next
    # handoff C is not continuing from. C served it and waits again from its end.
    assert starts == {"f@x.org": ["2027-02-08", "2027-03-22"], "c@x.org": ["2027-01-11", "2027-02-01", "2027-03-15"]}
    code, out, _ = rota("check", "--roster", path, "--weeks", "12", "--at", "2027-01-04T08:00")
    assert (code, out.splitlines()[-1]) == (0, "OK: the roster is valid and has no gaps in the next 12 weeks.")


def test_a_handover_of_a_stint_the_member_does_not_hold_is_ignored_and_fails_check(rota, roster_dir):
    path = roster_dir / "six.yaml"
    path.write_text(yaml_text(team(*SIX, swaps=[handover("2027-02-01", "b@x.org", "c@x.org")])))
    code, out, _ = rota("check", "--roster", path, "--weeks", "12", "--at", "2027-01-04T08:00")
    assert code == 1
    assert (f"{path}: swap: handover of B's stint (week of 2027-02-01) to C ignored: "
            "B does not hold the week of 2027-02-01; F does") in out.splitlines()
    assert incoming(schedule(team(*SIX, swaps=[handover("2027-02-01", "b@x.org", "c@x.org")]))) == \
        incoming(schedule(team(*SIX)))


def test_a_handover_next_to_a_stint_the_taker_has_begun_is_refused_with_the_reason():
    data = team(*SIX)
    plain = schedule(data)
    # B holds the stint of 2027-01-04, which has begun; C's of 2027-01-11 would put B on twice in a week.
    assert (plain.rotation.stint(0).member, plain.rotation.stint(1).member) == ("b@x.org", "c@x.org")
    record = record_of(*((st.monday.isoformat(), st.member, st.start) for st in plain.rotation.stints(-1, 1)))
    data["swaps"] = [handover("2027-01-11", "c@x.org", "b@x.org")]
    [outcome] = schedule(data, record).rotation.judge_swaps()
    assert not outcome.applied
    assert outcome.message == ("handover of C's stint (week of 2027-01-11) to B ignored: B would be on support "
                               "twice in the week of 2027-01-11: their stint of the week of 2027-01-04 has begun")


def test_a_handover_that_would_keep_someone_on_four_weeks_running_is_refused():
    # C took F's stint of 2027-02-01 by a swap; a handover to C of the stint right after
    # C's (2027-02-15) would keep C on four weeks running while three others are free.
    data = team(*SIX, swaps=[handover("2027-02-01", "f@x.org", "c@x.org")])
    after = schedule(data)
    holder = after.rotation.stint(6).member
    data["swaps"].append(handover("2027-02-15", holder, "c@x.org"))
    outcomes = schedule(data).rotation.judge_swaps()
    assert [o.applied for o in outcomes] == [True, False]
    assert outcomes[1].message.endswith(
        "ignored: C would be on support four weeks running (stints of the weeks of 2027-02-01 and 2027-02-15) "
        "while others are free")


def test_the_taker_must_be_able_to_serve_the_whole_stint():
    data = team(*SIX)
    data["members"][2]["away"] = [away("2027-02-03", "2027-02-03", "dentist")]
    s = schedule(data)
    assert s.rotation.unavailable("c@x.org", 4) == "away 2027-02-03 (dentist)"
    assert s.rotation.unavailable("d@x.org", 4) is None
    assert s.rotation.unavailable("nobody@x.org", 4) == "not on the roster"
