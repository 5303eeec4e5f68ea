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
* Nobody gets a stint that overlaps one they already hold, and nobody gets
  one that touches one they hold (weeks k, k+1 then k+2, k+3: four weeks
  running) while another member is available; then the longest-waiting of
  those whose stint would only touch is picked.
* A swap trades two stints: it applies only when, in the rotation without
  it, `member`'s stint begins in the week of `week` and `with`'s in the week
  of `with_week`, and the trade puts nobody on support twice in a week next
  to a stint that is recorded or set by another swap, nor forces a run of
  four weeks on anyone while four or more members could serve (a trial run
  with it, from two weeks before its first stint to two after its last,
  decides). Swaps are judged in
  week order, each against the rotation with the earlier ones that apply.
  The two traded stints are pinned; every other pick follows the rule,
  treating the pinned stints as stints their members already hold. A swap
  that does not apply is ignored, with the reason in `swap_outcomes`.
* A handover (a swap without `other_week`: an open offer taken) is half a
  swap: `member`'s stint goes to `other`, judged and pinned the same way,
  and nothing comes back; the rule then treats `other` as having served it.
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

from scheduler.core.calendar import WorkCalendar, day_of
from scheduler.core.model import Member, Record, Roster, Swap

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
class SwapOutcome:
    """Whether a swap of the roster applies, and if not, why (`message`)."""

    swap: Swap
    applied: bool
    message: str = ""  # for an ignored swap: which stints, and why not


@dataclass(frozen=True)
class _Pin:
    """A stint a swap gives to `member`, in exchange for `partner`'s stint
    of the week of `partner_week` (None: a handover, `partner`'s stint
    taken for nothing in return)."""

    member: str
    partner: str
    partner_week: date | None


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
                absence = member.absence_on(day)  # the whole absence, not its first working day
                span = absence.start.isoformat()
                if absence.end != absence.start:
                    span += f" to {absence.end.isoformat()}"
                note = f" ({absence.note})" if absence.note else ""
                return f"{absence.label} {span}{note}"
            i += 1
        return None

    def off_team(self, first: date, stop: date) -> bool:
        """Not a member on any day from `first` up to `stop`: gone before it
        or joining after it, so not worth naming among those passed over."""
        member = self.member
        return member.joined >= stop or (member.left is not None and member.left < first)


class Rotation:
    """The stints of one roster, computed on demand in week order."""

    def __init__(self, roster: Roster, calendar: WorkCalendar, record: Record | None = None):
        self.roster = roster
        self.calendar = calendar
        self.record = record or Record()
        self.notices: list[Notice] = []
        self.swap_outcomes: list[SwapOutcome] = []  # in the order they were judged
        self._stints: list[Stint] = []  # index k + 1 holds week k's stint
        self._last_end: dict[str, date] = {}
        self._order = {m.email: i for i, m in enumerate(roster.members)}
        self._availability = {m.email: _Availability(m, calendar) for m in roster.members}
        self._handoffs: dict[int, pendulum.DateTime] = {}
        self._pins: dict[int, _Pin] = {}  # week index -> the stint a swap gives someone
        self._unswapped: dict[date, str | None] = {}  # only in a trial: see _judge
        # Swaps wait, latest first, until the rule reaches the first stint
        # their pins could change: two weeks before the earlier of the pair.
        pending = []
        for i, swap in enumerate(roster.swaps):
            mondays = (swap.week,) if swap.one_way else (swap.week, swap.other_week)
            weeks = tuple(calendar.week_index(m) for m in mondays)
            bad = next((m for m, w in zip(mondays, weeks) if w is None or w < 0), None)
            if bad is not None:
                self._ignore(swap, f"{bad.isoformat()} is not the Monday of a rotation week")
                continue
            pending.append((max(min(weeks) - 2, PRE_SEAT), max(weeks), i, weeks, swap))
        self._pending = sorted(pending, reverse=True)
        self._last_swap_week = max((p[1] for p in pending), default=PRE_SEAT)

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

    def unavailable(self, email: str, week: int) -> str | None:
        """Why `email` cannot serve the whole stint of `week` (not on the
        roster, joins or leaves during it, away on a business day of it),
        or None when they can."""
        availability = self._availability.get(email)
        if availability is None:
            return "not on the roster"
        return availability.blocker(day_of(self.handoff(week)), day_of(self.handoff(week + 2)))

    def judge_swaps(self) -> list[SwapOutcome]:
        """Every swap judged, and the stints around them computed (so that
        `notices` says what they force)."""
        self._extend(self._last_swap_week + 2)
        return self.swap_outcomes

    # -- the rule -------------------------------------------------------------
    def _extend(self, week: int) -> None:
        stints, pending = self._stints, self._pending
        while len(stints) <= week + 1:
            deciding = len(stints) - 1
            while pending and pending[-1][0] <= deciding:
                *_, weeks, swap = pending.pop()
                self._judge(swap, weeks)
            stints.append(self._decide(deciding))

    def _decide(self, week: int) -> Stint:
        cal = self.calendar
        monday = cal.monday(week)
        start = self.handoff(week)
        end = self.handoff(week + 2)
        first_day, stop_day = day_of(start), day_of(end)
        stints = self._stints
        continuing = stints[-1].member if stints else None

        recorded = self.record.get(monday)
        if recorded is not None:
            member = self._unswapped.get(monday, recorded.member) if self._unswapped else recorded.member
            return self._seat(week, monday, member, start, end, "recorded when the stint began", recorded=True)

        pin = self._pins.get(week)
        if pin is not None:
            return self._seat_pinned(week, monday, pin, start, end)

        outgoing = stints[-2].member if len(stints) >= 2 else None
        passed_over: list[str] = []
        last_resort = None  # the first available member whose stint would touch one they hold
        swapped_over = False  # someone was passed over for a stint a swap gave them
        for email in self._queue():
            if self._availability[email].off_team(first_day, stop_day):
                continue
            if email == continuing:
                passed_over.append(f"{self._name(email)} (on support)")
                continue
            pinned = self._pinned_near(email, week)
            if pinned == week + 1:
                swapped_over = True
                passed_over.append(f"{self._name(email)} (swapped into the week of {cal.monday(pinned).isoformat()})")
                continue
            blocker = self._availability[email].blocker(first_day, stop_day)
            if blocker is not None:
                passed_over.append(f"{self._name(email)} ({blocker})")
                continue
            if email == outgoing or pinned is not None:
                if last_resort is None:
                    last_resort = (email, list(passed_over), pinned)
                swapped_over = swapped_over or email != outgoing
                held = "just rotated out" if email == outgoing else f"swapped into the week of {cal.monday(pinned).isoformat()}"
                passed_over.append(f"{self._name(email)} ({held})")
                continue
            return self._seat(week, monday, email, start, end, self._why(email, week, passed_over))
        if last_resort is not None:
            email, before, pinned = last_resort
            other = week - 2 if email == outgoing else pinned
            if email == outgoing and (swapped_over or stints[-2].pinned):
                self._back_to_back(email, week - 2, week)  # one that touches a later pin is told when it is seated
            why = self._why(email, week, before)
            why += f"; back to back with their stint of the week of {cal.monday(other).isoformat()}: nobody else available"
            return self._seat(week, monday, email, start, end, why)
        reason = "nobody available: " + ", ".join(passed_over) if passed_over else "nobody on the team then"
        return self._seat(week, monday, None, start, end, reason)

    def _queue(self) -> list[str]:
        """Members by how long they have waited, longest first; ties by roster order."""
        last_end = self._last_end
        return sorted(
            (m.email for m in self.roster.members),
            key=lambda e: (last_end.get(e) or self._availability[e].member.joined, self._order[e]),
        )

    def _pinned_near(self, email: str, week: int) -> int | None:
        """The week of a later stint a swap gives `email` that a stint of
        `week` would overlap (week + 1) or touch (week + 2)."""
        pins = self._pins
        if pins:
            for later in (week + 1, week + 2):
                pin = pins.get(later)
                if pin is not None and pin.member == email:
                    return later
        return None

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

    def _seat_pinned(self, week, monday, pin: _Pin, start, end) -> Stint:
        email = pin.member
        availability = self._availability.get(email)
        blocker = availability.blocker(day_of(start), day_of(end)) if availability else "not on the roster"
        if blocker is not None:
            self.notices.append(Notice(week, f"swap puts {self._name(email)} on support in the week of {monday.isoformat()} but they are not available: {blocker}"))
        if len(self._stints) >= 2 and self._stints[-2].member == email:
            self._back_to_back(email, week - 2, week)
        if pin.partner_week is None:
            reason = f"took over the stint from {self._name(pin.partner)}"
        else:
            reason = f"swap with {self._name(pin.partner)} (week of {pin.partner_week.isoformat()})"
        return self._seat(week, monday, email, start, end, reason, pinned=True)

    def _back_to_back(self, email: str, first: int, second: int) -> None:
        weeks = "three" if first == PRE_SEAT else "four"
        self.notices.append(Notice(second, (
            f"{self._name(email)} is on support {weeks} weeks running (stints of the weeks of "
            f"{self.calendar.monday(max(first, 0)).isoformat()} and {self.calendar.monday(second).isoformat()}): "
            "with the swaps, nobody else is available"
        )))

    def _seat(self, week, monday, member, start, end, reason, recorded=False, pinned=False) -> Stint:
        if member is not None:
            self._last_end[member] = day_of(end)
        if week == PRE_SEAT:
            start = self.handoff(0)
        return Stint(week, monday, member, start, end, reason, recorded=recorded, pinned=pinned)

    # -- swaps ----------------------------------------------------------------
    def _judge(self, swap: Swap, weeks: tuple[int, int]) -> None:
        """Apply `swap` if it holds in the rotation computed so far without
        it (a trial run from here), else note why it is ignored."""
        halves = ((swap.week, weeks[0], swap.member, swap.other),)
        pins = {weeks[0]: _Pin(swap.other, swap.member, swap.other_week)}
        if not swap.one_way:
            halves += ((swap.other_week, weeks[1], swap.other, swap.member),)
            pins[weeks[1]] = _Pin(swap.member, swap.other, swap.week)
        trial = self._fork()
        for monday, _, holder, taker in halves:
            kept = self.record.get(monday)
            if kept is not None and kept.member == taker:
                # This half already happened: judge as if it had not.
                trial._unswapped[monday] = holder
        why = trial._why_not(halves)
        if why is None and not trial._unswapped:
            why = self._forces_a_run(trial, pins, min(weeks) - 2, max(weeks) + 3)
        if why is not None:
            self._ignore(swap, why)
            return
        self.swap_outcomes.append(SwapOutcome(swap, True))
        self._pins.update(pins)

    def _forces_a_run(self, without: Rotation, pins: dict[int, _Pin], first: int, stop: int) -> str | None:
        """Why applying `pins` would keep someone on support four weeks running
        while four or more members could serve (with three, a swap may force
        it: that is reported, not refused); None when it would not."""
        trial = self._fork()
        trial._pins.update(pins)
        before = without._runs(first, stop)
        for email, week in trial._runs(first, stop):
            if (email, week) not in before and trial._free(week) >= 4:
                return (f"{self._name(email)} would be on support four weeks running (stints of the weeks of "
                        f"{self.calendar.monday(max(week - 2, 0)).isoformat()} and "
                        f"{self.calendar.monday(week).isoformat()}) while others are free")
        return None

    def _runs(self, first: int, stop: int) -> set[tuple[str, int]]:
        """(member, week) of each stint from `first` up to `stop` that follows
        the same member's stint two weeks before it."""
        return {(s.member, s.week) for s in self.stints(max(first, PRE_SEAT + 2), stop)
                if s.member is not None and self.stint(s.week - 2).member == s.member}

    def _free(self, week: int) -> int:
        """How many members could serve the whole stint of `week`."""
        first, stop = day_of(self.handoff(week)), day_of(self.handoff(week + 2))
        return sum(1 for a in self._availability.values()
                   if not a.off_team(first, stop) and a.blocker(first, stop) is None)

    def _fork(self) -> Rotation:
        """A copy from the week reached so far that judges no swaps of its own."""
        trial = object.__new__(Rotation)
        trial.__dict__.update(self.__dict__)  # the roster, calendar and caches are shared
        trial.notices, trial.swap_outcomes, trial._pending = [], [], []
        trial._stints, trial._last_end, trial._pins = list(self._stints), dict(self._last_end), dict(self._pins)
        trial._unswapped = {}
        return trial

    def _why_not(self, halves) -> str | None:
        """Why the swap of `halves` cannot apply to this (trial) rotation."""
        name = self._name
        for monday, _, _, _ in halves:
            kept = self.record.get(monday)
            if kept is not None and monday not in self._unswapped:
                return f"the stint of the week of {monday.isoformat()} has begun with {name(kept.member)}; the record keeps it"
        for monday, week, holder, _ in halves:
            actual = self.stint(week).member
            if actual != holder:
                holds = f"{name(actual)} does" if actual else "it is a gap"
                return f"{name(holder)} does not hold the week of {monday.isoformat()}; {holds}"
        traded = {week for _, week, _, _ in halves}
        for _, week, _, taker in halves:
            for near in (week - 1, week + 1):
                if near in traded or near < PRE_SEAT:
                    continue
                held = self.stint(near)
                if held.member == taker and (held.recorded or held.pinned):
                    why = "has begun" if held.recorded else "comes from another swap"
                    return (f"{name(taker)} would be on support twice in the week of "
                            f"{self.calendar.monday(max(week, near)).isoformat()}: their stint of the week of "
                            f"{held.monday.isoformat()} {why}")
        return None

    def _ignore(self, swap: Swap, why: str) -> None:
        name = self._name
        if swap.one_way:
            what = (f"handover of {name(swap.member)}'s stint (week of {swap.week.isoformat()}) "
                    f"to {name(swap.other)}")
        else:
            what = (f"swap of {name(swap.member)} (week of {swap.week.isoformat()}) and {name(swap.other)} "
                    f"(week of {swap.other_week.isoformat()})")
        self.swap_outcomes.append(SwapOutcome(swap, False, f"{what} ignored: {why}"))

    def _name(self, email: str) -> str:
        return self.roster.name_of(email)
