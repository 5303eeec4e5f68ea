"""The fairness figures against an example worked out by hand, and `rota
check`'s warning when the coming months are unfair while someone else could
have served.

Every expected number below was computed on paper from the roster, the
rotation rule and the 2027 US calendar, not by running the code; the
comments show the working."""

from datetime import date, datetime

import pytest
from rosterkit import member, record_of, schedule, team, utc

from scheduler.core.fairness import add_months

# Ada, Bob, Cy (left 2027-02-14), Di (joined 2027-01-25), US holidays; Ada
# covers Bob from Tuesday 2 to Thursday 4 February.
EXAMPLE = team(
    "Ada", "Bob", member("Cy", left="2027-02-14"), member("Di", joined="2027-01-25"), holidays="US",
    overrides=[{"from": "2027-02-02", "to": "2027-02-04", "replace": "bob@example.gov", "with": "ada@example.gov"}],
)
NOW = utc("2027-02-10T12:00:00-05:00")  # Wednesday of week 5
FIRST, LAST = date(2027, 1, 4), date(2027, 2, 28)  # 56 days

# The rotation, by hand (handoffs: Mondays, but MLK Day 18 Jan and
# Washington's Birthday 15 Feb move weeks 2 and 6 to Tuesday):
#   pre-seat  Ada  (first in roster order)             holds Jan 4-10   (7 days)
#   week 0    Bob  (Jan 4, roster order)               holds Jan 4-18   (15: ends Tue 19)
#   week 1    Cy   (Bob, Cy waited since Jan 4; Bob on) holds Jan 11-24 (14)
#   week 2    Ada  (waited since Jan 11)               holds Jan 19-31  (13: starts Tue)
#   week 3    Bob  (since Jan 19)                      holds Jan 25-Feb 7 (14)
#   week 4    Di   (Cy leaves Feb 14, before Feb 16)   holds Feb 1-15   (15: ends Tue 16)
#   week 5    Ada  (Cy still leaves; Ada since Feb 1)  holds Feb 8-21   (14)
#   week 6    Bob  (Cy gone: not on the team)          holds Feb 16-28  (13: starts Tue)
#   week 7    Di   (since Feb 16)                      holds Feb 22-28  (7 in the span)
# 7+15+14+13+14+15+14+13+7 = 112 = 56 days x 2 slots.
# The record keeps the weeks begun before week 5 as the rotation gave them.
RECORD = record_of(
    ("2026-12-28", "ada@example.gov", utc("2027-01-04T09:00:00-05:00")),
    ("2027-01-04", "bob@example.gov", utc("2027-01-04T09:00:00-05:00")),
    ("2027-01-11", "cy@example.gov", utc("2027-01-11T09:00:00-05:00")),
    ("2027-01-18", "ada@example.gov", utc("2027-01-19T09:00:00-05:00")),
    ("2027-01-25", "bob@example.gov", utc("2027-01-25T09:00:00-05:00")),
    ("2027-02-01", "di@example.gov", utc("2027-02-01T09:00:00-05:00")),
)


@pytest.fixture
def report():
    found = schedule(EXAMPLE, RECORD).fairness(FIRST, LAST, NOW)
    return {s.email.split("@")[0]: s for s in found.shares}, found


def test_support_stints_weekends_and_holidays_per_member(report):
    shares, _ = report
    # support days: Ada 7 + 13 + 14 + 3 covering Bob = 37;
    #               Bob 15 + 14 + 13 - 3 covered by Ada = 39; Cy 14; Di 15 + 7 = 22
    assert {k: s.days.support for k, s in shares.items()} == {"ada": 37, "bob": 39, "cy": 14, "di": 22}
    # stints begun in the span: Ada pre-seat, 2, 5; Bob 0, 3, 6; Cy 1; Di 4, 7
    assert {k: s.stints for k, s in shares.items()} == {"ada": 3, "bob": 3, "cy": 1, "di": 2}
    # weekends (Sat/Sun) held: Ada Jan 9-10, 23-24, 30-31, Feb 13-14, 20-21 = 10 (her cover days are Tue-Thu);
    # Bob Jan 9-10, 16-17, 30-31, Feb 6-7, 20-21, 27-28 = 12; Cy Jan 16-17, 23-24 = 4; Di Feb 6-7, 13-14, 27-28 = 6
    assert {k: s.days.weekend for k, s in shares.items()} == {"ada": 10, "bob": 12, "cy": 4, "di": 6}
    # weekday holidays: Mon 18 Jan is still week 1's (Cy and Bob), Mon 15 Feb still week 5's (Ada and Di)
    assert {k: s.days.holiday for k, s in shares.items()} == {"ada": 1, "bob": 1, "cy": 1, "di": 1}
    # business days: support - weekend - holiday
    assert {k: s.days.business for k, s in shares.items()} == {"ada": 26, "bob": 26, "cy": 9, "di": 15}


def test_holiday_handoffs_and_overrides(report):
    shares, _ = report
    # Tue 19 Jan: Ada in, Bob out; Tue 16 Feb: Bob in, Di out
    assert {k: s.holiday_handoffs for k, s in shares.items()} == {"ada": 1, "bob": 2, "cy": 0, "di": 1}
    # Feb 2-4 lie in rotation week 4 (Feb 1-7): one week, three days
    assert (shares["ada"].days.covering, shares["ada"].covering_weeks) == (3, 1)
    assert (shares["bob"].days.covered, shares["bob"].covered_weeks) == (3, 1)
    assert sum(s.days.covering + s.covering_weeks for k, s in shares.items() if k != "ada") == 0
    assert sum(s.days.covered + s.covered_weeks for k, s in shares.items() if k != "bob") == 0


def test_the_mean_counts_only_days_of_membership(report):
    shares, found = report
    # days of membership in the span: Ada, Bob 56; Cy Jan 4-Feb 14 = 28 + 14 = 42; Di Jan 25-Feb 28 = 7 + 28 = 35
    assert {k: s.member_days for k, s in shares.items()} == {"ada": 56, "bob": 56, "cy": 42, "di": 35}
    # rate = 112 support days / 189 days of membership = 16/27
    assert found.rate == pytest.approx(16 / 27)
    # expected = 16/27 x days: Ada, Bob 896/27; Cy 672/27; Di 560/27; difference = support - expected:
    # Ada (999 - 896)/27 = 103/27; Bob (1053 - 896)/27 = 157/27; Cy (378 - 672)/27 = -294/27; Di (594 - 560)/27 = 34/27
    expected = {"ada": 896 / 27, "bob": 896 / 27, "cy": 672 / 27, "di": 560 / 27}
    differences = {"ada": 103 / 27, "bob": 157 / 27, "cy": -294 / 27, "di": 34 / 27}
    for k, s in shares.items():
        assert s.expected == pytest.approx(expected[k]) and s.difference == pytest.approx(differences[k])
    # Di joined late and is ahead (+1.3), though she has the fewest stints but Cy
    assert shares["di"].difference > 0


def test_the_past_from_the_record_and_the_weeks_it_lacks(report):
    shares, found = report
    # days up to Wed 10 Feb: Ada 7 + 13 + 3 + Feb 8-10 (3) = 26; Bob 15 + (14 - 3) = 26; Cy 14; Di Feb 1-10 = 10
    assert {k: s.past_support for k, s in shares.items()} == {"ada": 26, "bob": 26, "cy": 14, "di": 10}
    assert found.today == date(2027, 2, 10)
    assert found.unrecorded == 1  # week 5 (Feb 8) has begun and is not in the record


def test_the_record_wins_over_the_roster():
    # The record says Di served week 1 instead of Cy (say the roster was edited since): the past is what happened.
    changed = record_of(*[(w.isoformat(), "di@example.gov" if w == date(2027, 1, 11) else s.member, s.handoff)
                          for w, s in RECORD.stints.items()])
    data = dict(EXAMPLE, members=EXAMPLE["members"][:3] + [member("Di")])  # Di on the team from the start
    shares = {s.email.split("@")[0]: s for s in schedule(data, changed).fairness(FIRST, date(2027, 1, 24), NOW).shares}
    # Jan 4-24: Cy's 14 days of week 1 are Di's
    assert (shares["cy"].days.support, shares["di"].days.support) == (0, 14)


def test_months_split_the_days(report):
    _, found = report
    rows = {(m.email.split("@")[0], m.first.isoformat(), m.last.isoformat()): m.days for m in found.months}
    # January (Jan 4-31): Ada 7 + Jan 19-31 (13) = 20; Bob Jan 4-18 (15) + Jan 25-31 (7) = 22; Cy 14; Di 0 (joined 25th)
    # February: Ada 3 covering + Feb 8-21 (14) = 17; Bob Feb 1-7 less 3 (4) + Feb 16-28 (13) = 17;
    # Cy 0 (a member until the 14th); Di Feb 1-15 (15) + Feb 22-28 (7) = 22
    assert {k: d.support for k, d in rows.items()} == {
        ("ada", "2027-01-04", "2027-01-31"): 20, ("ada", "2027-02-01", "2027-02-28"): 17,
        ("bob", "2027-01-04", "2027-01-31"): 22, ("bob", "2027-02-01", "2027-02-28"): 17,
        ("cy", "2027-01-04", "2027-01-31"): 14, ("cy", "2027-02-01", "2027-02-28"): 0,
        ("di", "2027-01-04", "2027-01-31"): 0, ("di", "2027-02-01", "2027-02-28"): 22,
    }
    # weekends: Ada Jan 2 + 4, Feb 4; Bob Jan 4 + 2, Feb 2 + 4
    assert rows[("ada", "2027-01-04", "2027-01-31")].weekend == 6 and rows[("bob", "2027-02-01", "2027-02-28")].weekend == 6
    assert rows[("ada", "2027-02-01", "2027-02-28")].covering == 3 and rows[("bob", "2027-02-01", "2027-02-28")].covered == 3


def test_people_only_the_record_names_are_listed_but_not_compared():
    data = dict(EXAMPLE, members=[EXAMPLE["members"][i] for i in (0, 1, 3)],
                overrides=EXAMPLE["overrides"])  # Cy removed from the roster altogether
    found = schedule(data, RECORD).fairness(FIRST, date(2027, 1, 24), NOW)
    cy = next(s for s in found.shares if s.email == "cy@example.gov")
    assert (cy.days.support, cy.member_days, cy.expected, cy.name) == (14, None, None, "cy@example.gov")
    # Jan 4-24: 21 days x 2 = 42 support days, 14 of them Cy's; Ada and Bob 21 days each, Di none yet: 28 / 42
    assert found.rate == pytest.approx(28 / 42)


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(date(2027, 3, 31), -1) == date(2027, 2, 28)
    assert add_months(date(2026, 11, 30), -12) == date(2025, 11, 30)
    assert add_months(date(2026, 11, 30), 6) == date(2027, 5, 30)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)


# -- rota check --------------------------------------------------------------------
# Ada, Bob, Cy, Di, no holidays: every member serves one stint in four weeks
# (pre-seat Ada; weeks 0 Bob, 1 Cy, 2 Di, 3 Ada, 4 Bob, ...), so while Bob is
# on, Di is off. Checked at the first handoff for 26 weeks: Jan 4 - Jul 4,
# 182 days x 2 = 364 support days, 91 each.
FAIR = team("Ada", "Bob", "Cy", "Di")
# Di covers Bob on Feb 1 - Apr 11: Bob's stints of weeks 4, 8 and 12 (Feb 1-14,
# Mar 1-14, Mar 29-Apr 11), 42 days, while Bob is free.
UNFAIR = dict(FAIR, overrides=[{"from": "2027-02-01", "to": "2027-04-11", "replace": "bob@example.gov",
                                 "with": "di@example.gov"}])
AT = utc("2027-01-04T10:00:00-05:00")


def fairness_warnings(data):
    return [f for f in schedule(data).check(AT, 26) if f.kind == "fairness"]


def test_check_warns_about_an_unfair_share_with_the_count_and_the_mean():
    found = fairness_warnings(UNFAIR)
    assert all(not f.is_problem for f in found)  # a warning: the exit code stays 0
    bob, di = (f.message for f in found)
    # Bob: weeks 0, 4, 8, ..., 24 = 7 stints, 98 days - 42 = 56; Di: weeks 2, 6, ..., 22 = 6 stints, 84 + 42 = 126
    assert bob.startswith("Bob has 56 support days (7 stints) from 2027-01-04 to 2027-07-04, 35.0 fewer than the "
                          "team's mean for their time on the team (91.0)")
    assert di.startswith("Di has 126 support days (6 stints) from 2027-01-04 to 2027-07-04, 35.0 more")
    assert "when Bob (below their share) could have served" in di and "when Di (above their share) served" in bob


def test_check_is_silent_on_a_fair_roster():
    assert fairness_warnings(FAIR) == []


def test_no_warning_when_nobody_else_was_free():
    # Di away for the whole span: the others share her stints (about 121 days each against a mean of 91),
    # but on no day could Di have served, so nothing is unfair.
    away_all = team("Ada", "Bob", "Cy", member("Di", away=[{"from": "2027-01-01", "to": "2027-07-31"}]))
    assert fairness_warnings(away_all) == []
