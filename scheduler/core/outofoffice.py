"""Which days an out-of-office event makes someone away.

A member's time off, as Google Calendar holds it, is a span of time: whole
days (an all-day event) or two instants. The rotation counts business days,
so the span becomes days in the team's time zone by one rule:

* the **working day** is 09:00 to 17:00 local time (`WORKDAY`);
* a business day is away when the event covers the whole of that day's
  daily triage meeting, or at least half of the working day (four hours);
  an all-day event covers each of its days whole;
* the absence runs from the first such business day to the last; days in
  between (a weekend, a holiday) are inside it, as they are in an absence
  typed into the roster. An event that makes no business day away is no
  absence.

Pure: the calendar gives local instants (DST included), nothing is read.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from scheduler.core.calendar import DAY, WorkCalendar, day_of
from scheduler.core.model import Meeting

WORKDAY = (time(9, 0), time(17, 0))


def away_span(start: date | datetime, end: date | datetime, calendar: WorkCalendar,
              triage: Meeting) -> tuple[date, date] | None:
    """The first and last business day (inclusive) that the event from
    `start` to `end` (exclusive; dates for an all-day event, aware instants
    otherwise) makes away, or None when it makes none."""
    away = [d for d in _days(start, end, calendar) if calendar.is_business_day(d)
            and _covers(start, end, d, calendar, triage)]
    return (away[0], away[-1]) if away else None


def _days(start, end, calendar: WorkCalendar):
    if not isinstance(start, datetime):
        first, stop = start, end
    else:
        first = calendar.local_date(start)
        last_moment = calendar.to_local(end) - timedelta(microseconds=1)  # an end at midnight is the day before's
        stop = day_of(last_moment) + DAY
    day = first
    while day < stop:
        yield day
        day += DAY


def _covers(start, end, day: date, calendar: WorkCalendar, triage: Meeting) -> bool:
    if not isinstance(start, datetime):
        return start <= day < end
    triage_start = calendar.local(day, triage.at)
    if start <= triage_start and end >= triage_start + timedelta(minutes=triage.minutes):
        return True
    open_, close = calendar.local(day, WORKDAY[0]), calendar.local(day, WORKDAY[1])
    overlap = min(end, close) - max(start, open_)
    return overlap * 2 >= close - open_
