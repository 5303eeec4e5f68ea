"""How an out-of-office event becomes absence days (README: "Out of office
in Google Calendar"): a business day is away when the event covers the whole
daily triage (10:00-10:15 here) or at least half of the 09:00-17:00 working
day, in the team's zone, across DST; and what the imported absences do to
the picks, the explanation and the gaps."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from rosterkit import member, parse, team

from scheduler.core import Schedule
from scheduler.core.calendar import WorkCalendar
from scheduler.core.model import ImportedAbsence, Meeting, Record
from scheduler.core.outofoffice import away_span

NY = ZoneInfo("America/New_York")
TRIAGE = Meeting(datetime(2027, 1, 1, 10).time(), 15)
CAL = WorkCalendar("America/New_York", date(2027, 1, 4), datetime(2027, 1, 1, 9).time(), {date(2027, 5, 31): "Memorial Day"})


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def span(start, end):
    return away_span(start, end, CAL, TRIAGE)


def test_an_all_day_event_makes_its_business_days_away_and_its_end_date_is_exclusive():
    assert span(date(2027, 3, 8), date(2027, 3, 13)) == (date(2027, 3, 8), date(2027, 3, 12))
    # Friday to Monday: the weekend is inside the absence, as in a typed one.
    assert span(date(2027, 3, 12), date(2027, 3, 16)) == (date(2027, 3, 12), date(2027, 3, 15))
    # Only a weekend, or only a holiday: no business day, no absence.
    assert span(date(2027, 3, 13), date(2027, 3, 15)) is None
    assert span(date(2027, 5, 31), date(2027, 6, 1)) is None


def test_a_partial_day_counts_when_it_covers_the_triage_or_half_the_working_day():
    assert span(ny(2027, 3, 9, 9, 55), ny(2027, 3, 9, 10, 15)) == (date(2027, 3, 9),) * 2  # the whole triage
    assert span(ny(2027, 3, 9, 10, 5), ny(2027, 3, 9, 12, 0)) is None  # part of the triage, under four hours
    assert span(ny(2027, 3, 9, 13, 0), ny(2027, 3, 9, 17, 0)) == (date(2027, 3, 9),) * 2  # exactly half
    assert span(ny(2027, 3, 9, 13, 1), ny(2027, 3, 9, 20, 0)) is None  # 3 h 59 min of the working day
    assert span(ny(2027, 3, 9, 6, 0), ny(2027, 3, 9, 9, 30)) is None  # mostly before work


def test_a_timed_event_over_several_days_keeps_only_the_days_it_empties():
    # Mon 14:00 (three hours, after the triage) to Wed 11:00 (covers Wed's triage).
    assert span(ny(2027, 3, 8, 14, 0), ny(2027, 3, 10, 11, 0)) == (date(2027, 3, 9), date(2027, 3, 10))
    # Ending at midnight ends the day before.
    assert span(ny(2027, 3, 8, 9, 0), ny(2027, 3, 10, 0, 0)) == (date(2027, 3, 8), date(2027, 3, 9))


def test_days_are_the_teams_local_days_across_dst():
    # 2027-03-14: New York springs forward. 09:00-17:00 local on Monday the
    # 15th is 13:00-21:00 UTC (it was 14:00-22:00 the Friday before).
    utc = ZoneInfo("UTC")
    assert span(datetime(2027, 3, 15, 13, 0, tzinfo=utc), datetime(2027, 3, 15, 17, 0, tzinfo=utc)) \
        == (date(2027, 3, 15),) * 2
    assert span(datetime(2027, 3, 12, 13, 0, tzinfo=utc), datetime(2027, 3, 12, 14, 30, tzinfo=utc)) is None
    # Given in another zone (London is not on summer time yet): the same instants, New York's days.
    london = ZoneInfo("Europe/London")
    assert span(datetime(2027, 3, 15, 13, 0, tzinfo=london), datetime(2027, 3, 15, 18, 0, tzinfo=london)) \
        == (date(2027, 3, 15),) * 2


ROSTER = team("Ada", "Bob", "Cy", "Dan", google={"out_of_office": True})


def test_an_imported_absence_moves_the_next_pick_and_says_out_of_office_google():
    roster = parse(ROSTER)
    before = Schedule(roster)
    week = 4  # the stint from 2027-02-01
    holder = before.stint(week).member
    assert holder is not None
    imported = ImportedAbsence(holder, "ooo1", date(2027, 2, 3), date(2027, 2, 4))
    after = Schedule(roster.with_imported([imported]))
    assert after.stint(week).member != holder
    name = roster.name_of(holder)
    assert f"{name} (out of office (Google) 2027-02-03 to 2027-02-04)" in after.stint(week).reason


def test_new_time_off_inside_a_recorded_stint_is_a_gap_on_those_days_not_a_reshuffle():
    roster = parse(ROSTER)
    before = Schedule(roster)
    holder = before.stint(4).member
    record = Record({s.week: s for s in before.begun(before.stint(4).start)})
    imported = ImportedAbsence(holder, "ooo1", date(2027, 2, 3), date(2027, 2, 3))
    after = Schedule(roster.with_imported([imported]), record=record)
    assert after.stint(4).member == holder  # the record keeps it
    gaps = after.gaps(date(2027, 2, 1), date(2027, 2, 8))
    assert [(g.day, g.scheduled, g.away_as) for g in gaps] == [(date(2027, 2, 3), holder, "out of office (Google)")]
    assert gaps[0].reason == f"{roster.name_of(holder)} is out of office (Google)"


def test_imported_absences_come_after_typed_ones_and_skip_people_not_on_the_roster():
    data = team(member("Ada", away=[{"from": "2027-02-01", "to": "2027-02-02", "note": "PTO"}]), "Bob",
                google={"out_of_office": True})
    roster = parse(data).with_imported([
        ImportedAbsence("ada@example.gov", "ooo1", date(2027, 1, 20), date(2027, 1, 20)),
        ImportedAbsence("gone@example.gov", "ooo2", date(2027, 1, 20), date(2027, 1, 20)),
    ])
    away = roster.member("ada@example.gov").away
    assert [(a.source, a.label, a.typed) for a in away] == [("roster", "away", True),
                                                           ("google", "out of office (Google)", False)]
    assert away[1].event_id == "ooo1"
    assert roster.member("gone@example.gov") is None
