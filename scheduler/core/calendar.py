"""Business days, rotation weeks and handoff instants in the team's time zone.

Every time in a roster is local wall-clock time. An instant is built from a
local date and time only here, so that DST is handled in one place: a
meeting at 10:00 stays at 10:00 local on both sides of a DST change, and a
wall-clock time that does not exist (spring forward) moves forward by the gap.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import pendulum

WEEK = timedelta(days=7)
DAY = timedelta(days=1)


def day_of(instant: datetime) -> date:
    """The calendar date of an (already local) instant, as a plain `date`:
    pendulum's own Date makes every later day arithmetic several times slower."""
    return date(instant.year, instant.month, instant.day)


def days(first: date, stop: date):
    """Every date from `first` up to, not including, `stop`."""
    day = first
    while day < stop:
        yield day
        day += DAY


class WorkCalendar:
    """The rotation's calendar.

    `holidays` is anything that answers `day in holidays` and
    `holidays.get(day)` (a dict, or a `holidays.HolidayBase`); the core never
    computes holidays itself.
    """

    def __init__(self, timezone: str, start: date, handoff_time: time, holidays: Container[date] = ()):
        self.tz = pendulum.timezone(timezone)
        self.start = start
        self.handoff_time = handoff_time
        self._holidays = holidays
        self.local = lru_cache(maxsize=8192)(self._local)
        self.handoff = lru_cache(maxsize=4096)(self._handoff)
        self.is_business_day = lru_cache(maxsize=16384)(self._is_business_day)

    # -- days ---------------------------------------------------------------
    def _is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def holiday_name(self, day: date) -> str | None:
        if day not in self._holidays:
            return None
        getter = getattr(self._holidays, "get", None)
        name = getter(day) if getter else None
        return str(name) if name else "holiday"

    def business_days(self, first: date, stop: date):
        """Business days from `first` up to, not including, `stop`."""
        return (day for day in days(first, stop) if self.is_business_day(day))

    # -- weeks and handoffs -------------------------------------------------
    def monday(self, week: int) -> date:
        return self.start + week * WEEK

    def week_index(self, monday: date) -> int | None:
        """The index of the rotation week that starts on `monday`, if any."""
        offset = (monday - self.start).days
        return offset // 7 if offset % 7 == 0 else None

    def handoff_date(self, week: int) -> date:
        """Monday, or the next business day of that week when Monday is not one."""
        monday = self.monday(week)
        for shift in range(5):
            day = monday + shift * DAY
            if self.is_business_day(day):
                return day
        return monday  # a week without a business day: keep the cadence

    def _handoff(self, week: int) -> pendulum.DateTime:
        return self.local(self.handoff_date(week), self.handoff_time)

    # -- instants -----------------------------------------------------------
    def _local(self, day: date, at: time) -> pendulum.DateTime:
        return pendulum.datetime(day.year, day.month, day.day, at.hour, at.minute, tz=self.tz)

    def to_local(self, instant: datetime) -> pendulum.DateTime:
        if not isinstance(instant, pendulum.DateTime):
            instant = pendulum.instance(instant)
        return instant.in_timezone(self.tz)

    def local_date(self, instant: datetime) -> date:
        return day_of(self.to_local(instant))

    def day_start(self, day: date) -> pendulum.DateTime:
        return self.local(day, time(0, 0))
