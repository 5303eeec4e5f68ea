"""One roster's whole schedule, and the questions people ask of it.

`Schedule` ties the rotation, the coverage and the events together; the CLI
and the web page ask it questions and format the answers. Every question
that depends on the present takes `now` as an argument.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import pendulum

from scheduler.core.calendar import DAY, WEEK, WorkCalendar, day_of
from scheduler.core.coverage import Coverage, Duty, Gap
from scheduler.core.events import Event, EventBuilder, for_member
from scheduler.core.fairness import Fairness, drifts, fairness
from scheduler.core.model import Override, Record, RecordedStint, Roster
from scheduler.core.rotation import PRE_SEAT, Rotation, Stint, Week

# The default window of feeds and `rota show`: 4 weeks back, 26 ahead. 26
# weeks ahead is also how far `rota check` looks and the Google calendar holds.
WEEKS_BACK = 4
WEEKS_AHEAD = 26
# The coming weeks the page shows, its roster forms offer, and an edit's
# preview compares.
COMING_WEEKS = 12


@dataclass(frozen=True)
class Window:
    """A span of rotation weeks: from the Monday of `first` for `weeks` weeks."""

    first: date
    weeks: int


@dataclass(frozen=True)
class WeekNotes:
    """What else happens in a span of days: gaps, covers, a holiday handoff."""

    gaps: list[Gap]
    covers: list[Override]
    holiday: str | None  # the holiday that moved the week's handoff, if any


@dataclass(frozen=True)
class Finding:
    """Something `rota check` reports. Gaps and swaps that cannot apply are
    problems; the rest are warnings."""

    kind: str  # "gap", "record", "swap", "override", "unrecorded", "fairness"
    message: str
    day: date | None = None
    problem: bool = False  # besides gaps: a swap that is ignored

    @property
    def is_problem(self) -> bool:
        return self.kind == "gap" or self.problem


class Schedule:
    def __init__(self, roster: Roster, holidays: Container[date] = (), record: Record | None = None,
                 review_lines: Mapping[date, str] | None = None):
        """`review_lines`: a line to add to the weekly review of the rotation
        week starting on that Monday (last week's unresolved tickets)."""
        self.roster = roster
        self.record = record or Record()
        self.calendar = WorkCalendar(roster.timezone, roster.start, roster.handoff_time, holidays)
        self.rotation = Rotation(roster, self.calendar, self.record)
        self.coverage = Coverage(self.rotation)
        self.events_builder = EventBuilder(self.coverage, review_lines or {})

    # -- time, in the roster's zone -----------------------------------------------
    @property
    def tz(self):
        return self.calendar.tz

    def local_date(self, now: datetime) -> date:
        return self.calendar.local_date(now)

    def local(self, instant: datetime) -> pendulum.DateTime:
        return self.calendar.to_local(instant)

    def day_start(self, day: date) -> pendulum.DateTime:
        return self.calendar.day_start(day)

    # -- weeks ----------------------------------------------------------------------
    @property
    def begins(self) -> pendulum.DateTime:
        """The first handoff: the rotation starts."""
        return self.coverage.begins

    def week_at(self, now: datetime) -> int:
        """The index of the week on at `now` (negative before the start)."""
        return self.rotation.week_at(now)

    def week(self, index: int) -> Week:
        return self.rotation.week(index)

    def next_handoff(self, now: datetime) -> Week:
        """The handoff after `now`: the first one, before the rotation starts."""
        return self.rotation.week(max(self.rotation.week_at(now) + 1, 0))

    def week_index(self, monday: date) -> int | None:
        return self.calendar.week_index(monday)

    def monday(self, week: int) -> date:
        return self.calendar.monday(week)

    def stint(self, week: int) -> Stint:
        return self.rotation.stint(week)

    # -- windows ----------------------------------------------------------------
    def default_window(self, now: datetime) -> Window:
        return Window(monday_of(self.local_date(now)) - WEEKS_BACK * WEEK, WEEKS_BACK + WEEKS_AHEAD)

    def coming(self, now: datetime, weeks: int = WEEKS_AHEAD) -> Window:
        """`weeks` weeks from this Monday."""
        return Window(monday_of(self.local_date(now)), weeks)

    def window_bounds(self, window: Window) -> tuple[pendulum.DateTime, pendulum.DateTime]:
        first = monday_of(window.first)
        return self.calendar.day_start(first), self.calendar.day_start(first + window.weeks * WEEK)

    # -- questions ----------------------------------------------------------------
    def weeks(self, window: Window) -> list[Week]:
        """The handoffs whose week lies in the window (none before the rotation starts)."""
        first_monday = monday_of(window.first)
        offset = (first_monday - self.roster.start).days // 7
        return self.rotation.weeks(max(offset, 0), offset + window.weeks)

    def duty(self, at: datetime) -> Duty | None:
        return self.coverage.at(at)

    def gaps(self, first: date, stop: date) -> list[Gap]:
        return self.coverage.gaps(first, stop)

    def notes(self, first: date, stop: date, week: Week | None = None) -> WeekNotes:
        """Gaps and covers from `first` up to `stop`; with `week`, the holiday
        that moved its handoff too."""
        covers = [o for o in self.roster.overrides
                  if o.start < stop and o.end >= first and self.roster.cover_problem(o) is None]
        holiday = self.calendar.holiday_name(week.monday) if week is not None and week.holiday_moved else None
        return WeekNotes(self.gaps(first, stop), covers, holiday)

    def week_notes(self, week: Week) -> WeekNotes:
        return self.notes(week.monday, week.monday + WEEK, week)

    def events(self, window: Window, member: str | None = None) -> list[Event]:
        found = self.events_builder.build(*self.window_bounds(window))
        return for_member(found, member) if member else found

    # -- the record ---------------------------------------------------------------
    def begun(self, at: datetime) -> list[RecordedStint]:
        """Every stint that has begun by `at`, as the record would keep it."""
        if pendulum.instance(at) < self.rotation.handoff(0):
            return []
        last = self.rotation.week_at(at)
        return [
            RecordedStint(s.monday, s.member, s.start)
            for s in self.rotation.stints(PRE_SEAT, last + 1)
        ]

    def unrecorded(self, at: datetime) -> list[RecordedStint]:
        return [s for s in self.begun(at) if self.record.get(s.week) is None]

    def record_disagreements(self) -> list[Finding]:
        """Where the roster, taken alone, now gives another past than the
        record. After a reorder that is every week since: one finding says
        how many weeks and which, so the list does not grow every week."""
        if not self.record.stints:
            return []
        fresh = Rotation(self.roster, self.calendar)
        found, differ, gone = [], [], {}
        for monday, kept in sorted(self.record.stints.items()):
            week = self.calendar.week_index(monday)
            if week is None or week < PRE_SEAT:
                found.append(Finding("record", f"the record has a stint in the week of {monday.isoformat()}, "
                                               "which is not a rotation week of this roster", monday))
                continue
            now_says = fresh.stint(week).member
            if now_says != kept.member:
                differ.append((monday, kept.member, now_says))
            if kept.member is not None and self.roster.member(kept.member) is None:
                gone.setdefault(kept.member, []).append(monday)
        name = self.roster.name_of
        if len(differ) == 1:
            first, kept, now_says = differ[0]
            found.append(Finding("record", (
                f"week of {first.isoformat()}: the record keeps {name(kept)}, the roster alone would now give "
                f"{name(now_says)}; the record wins"
            ), first))
        elif differ:
            first, kept, now_says = differ[0]
            found.append(Finding("record", (
                f"{len(differ)} recorded weeks, from the week of {first.isoformat()} to the week of "
                f"{differ[-1][0].isoformat()}, differ from what the roster alone would now give (in the first, "
                f"the record keeps {name(kept)}, the roster would give {name(now_says)}); the record wins"
            ), first))
        for email, mondays in gone.items():
            first, last = mondays[0].isoformat(), mondays[-1].isoformat()
            span = f"week of {first}" if len(mondays) == 1 else (
                f"{len(mondays)} weeks, from the week of {first} to the week of {last}")
            found.append(Finding("record", f"{span}: {email} is in the record but no longer on the roster",
                                 mondays[0]))
        return found

    # -- check ----------------------------------------------------------------------
    def check(self, now: datetime, weeks: int) -> list[Finding]:
        """Gaps from now to `weeks` weeks ahead, and everything worth a warning."""
        today = self.calendar.local_date(now)
        stop = today + weeks * WEEK
        findings: list[Finding] = []
        reported_stints = set()
        for gap in self.gaps(today, stop):
            if gap.scheduled is None:
                stint = self._stint_on(gap.day, gap.role)
                if stint.monday in reported_stints:
                    continue
                reported_stints.add(stint.monday)
                findings.append(Finding("gap", (
                    f"stint from {day_of(stint.start).isoformat()} to {day_of(stint.end).isoformat()} "
                    f"has nobody: {stint.reason}"
                ), gap.day))
            else:
                findings.append(Finding("gap", (
                    f"{gap.day.isoformat()}: {self.roster.name_of(gap.scheduled)}'s slot ({gap.role}) "
                    f"has nobody: {gap.reason}"
                ), gap.day))
        findings += self.record_disagreements()
        findings += self.swap_findings()
        for o in self.coverage.idle_overrides(today, stop):
            findings.append(Finding("override", (
                f"override {o.start.isoformat()}..{o.end.isoformat()} ({self.roster.name_of(o.cover)} for "
                f"{self.roster.name_of(o.replace)}) changes nothing: {self.roster.name_of(o.replace)} "
                "is not on support then"
            ), o.start))
        for drift in drifts(self, self.fairness(today, stop - DAY, now)):
            findings.append(Finding("fairness", drift.message, today))
        pending = self.unrecorded(now)
        if pending:
            findings.append(Finding("unrecorded", (
                f"{len(pending)} stint(s) have begun but are not in the record yet: run `rota record` "
                "so that later roster edits cannot change them"
            )))
        return findings

    def fairness(self, first: date, last: date, now: datetime) -> Fairness:
        """Each member's share of support from `first` to `last` (inclusive):
        see `scheduler.core.fairness`."""
        return fairness(self, first, last, now)

    def swap_findings(self) -> list[Finding]:
        """Swaps that cannot apply (problems), and what the others force or
        ask of people who are away (warnings)."""
        ignored = [Finding("swap", o.message, o.swap.week, problem=True)
                   for o in self.rotation.judge_swaps() if not o.applied]
        return ignored + [Finding("swap", n.message, self.calendar.monday(n.week)) for n in self.rotation.notices]

    def _stint_on(self, day: date, role: str):
        duty = self.coverage.on_day(day)
        return next(s.stint for s in duty.slots if s.role == role)


def monday_of(day: date) -> date:
    return day - day.weekday() * DAY
