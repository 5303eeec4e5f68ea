"""The rotation rule: who starts a two-week stint at each weekly handoff.

The rule, in full:

* Week `k` begins with a handoff (Monday at `handoff_time`, or the next
  business day when Monday is a holiday). The stint that begins there ends at
  the handoff of week `k + 2`, so two stints overlap in every week: the
  **incoming** person's (week 1 of 2) and the **continuing** person's (week 2).
* The incoming person is the member who has waited longest and is available
  for the whole stint. Waiting counts from the end of their last stint, or
  from `joined` for someone who never served; ties go to roster order. The
  continuing person is never picked.
* Available: joined by the stint's first day, not left before the stint ends,
  and not away on any business day of the stint (its first handoff's date up
  to, not including, the date of the handoff that ends it).
* Week 0 needs someone continuing, so a stint is seated in week -1 by the
  same rule (in practice: the first member in roster order); it is treated as
  having started the week before, so that person leaves after one week.
* Nobody available: the stint is a gap, never silently filled.
* A swap pins a stint to a member; pinned members are not picked by the rule
  for the stints that would overlap or touch their pinned one.
* A stint in the record has begun: it is taken as recorded, whatever the
  roster says now. The past never changes.

Everything here is pure: no I/O, no clock. `Rotation` computes weeks in order
on demand and remembers them.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime

import pendulum

from .calendar import WorkCalendar, day_of
from .model import Member, Record, Roster

PRE_SEAT = -1  # the stint already running when the rotation starts


@dataclass(frozen=True)
class Stint:
    """One member's two weeks on support (`member` None: a gap)."""

    week: int  # index of its first rotation week; -1 for the pre-seated stint
    monday: date  # Monday of its first week
    member: str | None
    start: pendulum.DateTime  # the handoff it begins at (the rotation's start for week -1)
    end: pendulum.DateTime  # the handoff two weeks later
    reason: str  # why this member (or why nobody), in words
    recorded: bool = False
    pinned: bool = False

    @property
    def is_gap(self) -> bool:
        return self.member is None


@dataclass(frozen=True)
class Week:
    """What happens at one handoff."""

    index: int
    monday: date
    handoff: pendulum.DateTime
    incoming: Stint
    continuing: Stint
    outgoing: Stint | None  # None only for week 0: nobody leaves at the first handoff

    @property
    def holiday_moved(self) -> bool:
        return day_of(self.handoff) != self.monday

    @property
    def stays_on(self) -> bool:
        """The person rotating out is the one rotating in (a two-person team,
        or nobody else free): one person serving on, not a handoff between two."""
        return (self.outgoing is not None and self.incoming.member is not None
                and self.outgoing.member == self.incoming.member)


@dataclass(frozen=True)
class Notice:
    """Something a person should know about the schedule (not an error)."""

    week: int
    message: str


class _Availability:
    """Answers "can this member take the stint from day A up to day B?" fast.

    Away days are kept as sorted day ordinals per member, so a check is a
    bisection plus a look at the few away days inside the stint."""

    def __init__(self, member: Member, calendar: WorkCalendar):
        self.member = member
        self.calendar = calendar
        days: set[int] = set()
        for absence in member.away:
            days.update(range(absence.start.toordinal(), absence.end.toordinal() + 1))
        self.away = sorted(days)

    def blocker(self, first: date, stop: date) -> str | None:
        """Why the member cannot serve from `first` up to `stop`, or None."""
        member = self.member
        if member.joined > first:
            return f"joins {member.joined.isoformat()}"
        if member.left is not None and member.left < stop:
            return f"leaves {member.left.isoformat()}"
        away = self.away
        i = bisect_left(away, first.toordinal())
        stop_ordinal = stop.toordinal()
        while i < len(away) and away[i] < stop_ordinal:
            day = date.fromordinal(away[i])
            if self.calendar.is_business_day(day):
                absence = member.absence_on(day)
                note = f" ({absence.note})" if absence and absence.note else ""
                return f"away {day.isoformat()}{note}"
            i += 1
        return None


class Rotation:
    """The stints of one roster, computed on demand in week order."""

    def __init__(self, roster: Roster, calendar: WorkCalendar, record: Record | None = None):
        self.roster = roster
        self.calendar = calendar
        self.record = record or Record()
        self.notices: list[Notice] = []
        self._stints: list[Stint] = []  # index k + 1 holds week k's stint
        self._last_end: dict[str, date] = {}
        self._order = {m.email: i for i, m in enumerate(roster.members)}
        self._availability = {m.email: _Availability(m, calendar) for m in roster.members}
        self._pins: dict[date, str] = {}
        self._handoffs: dict[int, pendulum.DateTime] = {}
        self._pinned_weeks: dict[str, list[int]] = {}
        for swap in roster.swaps:
            for monday, email in swap.pins().items():
                self._pins[monday] = email
                week = calendar.week_index(monday)
                if week is not None:
                    self._pinned_weeks.setdefault(email, []).append(week)

    # -- handoffs -----------------------------------------------------------
    def handoff(self, week: int) -> pendulum.DateTime:
        """The instant week `week` begins: as recorded, else by the calendar."""
        week = max(week, 0)
        found = self._handoffs.get(week)
        if found is None:
            recorded = self.record.get(self.calendar.monday(week))
            if recorded is not None:
                found = pendulum.instance(recorded.handoff).in_timezone(self.calendar.tz)
            else:
                found = self.calendar.handoff(week)
            self._handoffs[week] = found
        return found

    def week_at(self, instant: datetime) -> int:
        """The week whose handoff is the latest at or before `instant`
        (negative before the rotation starts)."""
        local_day = self.calendar.local_date(instant)
        week = (local_day.toordinal() - self.calendar.start.toordinal()) // 7
        # The handoff may come later in its week (a holiday Monday) or later
        # in the day than `instant`.
        while week >= 0 and self.handoff(week) > instant:
            week -= 1
        while self.handoff(week + 1) <= instant:
            week += 1
        return week

    # -- stints -------------------------------------------------------------
    def stint(self, week: int) -> Stint:
        if week < PRE_SEAT:
            raise ValueError(f"week {week} is before the rotation")
        self._extend(week)
        return self._stints[week + 1]

    def stints(self, first: int, stop: int) -> list[Stint]:
        """Stints of weeks `first` up to, not including, `stop`."""
        first = max(first, PRE_SEAT)
        if stop <= first:
            return []
        self._extend(stop - 1)
        return self._stints[first + 1 : stop + 1]

    def week(self, index: int) -> Week:
        """The handoff of week `index` (>= 0) and the three people in it."""
        return Week(
            index=index,
            monday=self.calendar.monday(index),
            handoff=self.handoff(index),
            incoming=self.stint(index),
            continuing=self.stint(index - 1),
            outgoing=self.stint(index - 2) if index >= 1 else None,
        )

    def weeks(self, first: int, stop: int) -> list[Week]:
        return [self.week(k) for k in range(max(first, 0), stop)]

    # -- the rule -------------------------------------------------------------
    def _extend(self, week: int) -> None:
        while len(self._stints) <= week + 1:
            self._stints.append(self._decide(len(self._stints) - 1))

    def _decide(self, week: int) -> Stint:
        cal = self.calendar
        monday = cal.monday(week)
        start = self.handoff(week)
        end = self.handoff(week + 2)
        first_day, stop_day = day_of(start), day_of(end)
        continuing = self._stints[-1].member if self._stints else None

        recorded = self.record.get(monday)
        if recorded is not None:
            return self._seat(week, monday, recorded.member, start, end, "recorded when the stint began", recorded=True)

        pinned = self._pins.get(monday)
        if pinned is not None:
            return self._seat_pinned(week, monday, pinned, start, end, continuing)

        passed_over: list[str] = []
        for email in self._queue():
            if email == continuing:
                passed_over.append(f"{self._name(email)} (on support)")
                continue
            if self._is_reserved(email, week):
                passed_over.append(f"{self._name(email)} (swapped into another week)")
                continue
            blocker = self._availability[email].blocker(first_day, stop_day)
            if blocker is not None:
                passed_over.append(f"{self._name(email)} ({blocker})")
                continue
            return self._seat(week, monday, email, start, end, self._why(email, week, passed_over))
        reason = "nobody available: " + ", ".join(passed_over) if passed_over else "nobody on the roster"
        return self._seat(week, monday, None, start, end, reason)

    def _queue(self) -> list[str]:
        """Members by how long they have waited, longest first; ties by roster order."""
        last_end = self._last_end
        return sorted(
            (m.email for m in self.roster.members),
            key=lambda e: (last_end.get(e) or self._availability[e].member.joined, self._order[e]),
        )

    def _is_reserved(self, email: str, week: int) -> bool:
        return any(abs(week - pinned) <= 1 for pinned in self._pinned_weeks.get(email, ()))

    def _why(self, email: str, week: int, passed_over: list[str]) -> str:
        if week == PRE_SEAT:
            why = "first available in roster order; already on when the rotation starts, so serves one week"
        elif email in self._last_end:
            why = f"waited longest, since {self._last_end[email].isoformat()}"
        else:
            why = f"waited longest, never served (joined {self._availability[email].member.joined.isoformat()})"
        if passed_over:
            why += "; passed over: " + ", ".join(passed_over)
        return why

    def _seat_pinned(self, week, monday, email, start, end, continuing) -> Stint:
        if email == continuing:
            self.notices.append(Notice(week, f"swap for the week of {monday.isoformat()} ignored: {self._name(email)} is already on support then"))
            self._pins.pop(monday)
            return self._decide(week)
        availability = self._availability.get(email)
        blocker = availability.blocker(day_of(start), day_of(end)) if availability else "not on the roster"
        if blocker is not None:
            self.notices.append(Notice(week, f"swap puts {self._name(email)} on support in the week of {monday.isoformat()} but they are not available: {blocker}"))
        return self._seat(week, monday, email, start, end, "swap", pinned=True)

    def _seat(self, week, monday, member, start, end, reason, recorded=False, pinned=False) -> Stint:
        if member is not None:
            self._last_end[member] = day_of(end)
        if week == PRE_SEAT:
            start = self.handoff(0)
        return Stint(week, monday, member, start, end, reason, recorded=recorded, pinned=pinned)

    def _name(self, email: str) -> str:
        return self.roster.name_of(email)
