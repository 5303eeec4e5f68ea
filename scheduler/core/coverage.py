"""Who is actually on support at an instant: the rotation with the roster's
overrides and absences laid over it.

The rotation says whose stint it is; coverage says who answers. An override
puts someone else in a slot on some days; an absence inside a stint that has
already begun (the rotation never reshuffles a running stint) leaves the slot
empty on those days: a gap, reported, never silently filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pendulum

from scheduler.core.calendar import DAY, day_of, days
from scheduler.core.model import Absence, Override
from scheduler.core.rotation import Rotation, Stint

INCOMING = "incoming"  # week 1 of their stint
CONTINUING = "continuing"  # week 2 of their stint


@dataclass(frozen=True)
class Slot:
    role: str
    stint: Stint
    member: str | None  # who answers; None when nobody does
    override: Override | None = None
    problem: str | None = None  # why nobody answers
    absence: Absence | None = None  # when that is an absence: which

    @property
    def scheduled(self) -> str | None:
        return self.stint.member

    @property
    def stint_week(self) -> int:
        return 1 if self.role == INCOMING else 2


@dataclass(frozen=True)
class Duty:
    """The pair on support at one instant."""

    at: pendulum.DateTime
    week: int
    slots: tuple[Slot, Slot]  # (incoming, continuing)
    next_handoff: pendulum.DateTime

    @property
    def members(self) -> list[str]:
        return [s.member for s in self.slots if s.member is not None]

    @property
    def gaps(self) -> list[Slot]:
        return [s for s in self.slots if s.member is None]


@dataclass(frozen=True)
class Gap:
    """A business day on which a slot has nobody."""

    day: date
    role: str
    scheduled: str | None
    reason: str
    absence: Absence | None = None  # the absence that empties the slot, if that is why

    @property
    def away_as(self) -> str:
        """How the page and the tables put it: "away", or "out of office (Google)"."""
        return self.absence.label if self.absence is not None else "away"


class Coverage:
    def __init__(self, rotation: Rotation):
        self.rotation = rotation
        self.roster = rotation.roster
        self.calendar = rotation.calendar
        self._slot_cache: dict[tuple[int, date], tuple[Slot, Slot]] = {}

    @property
    def begins(self) -> pendulum.DateTime:
        return self.rotation.handoff(0)

    def at(self, instant: datetime) -> Duty | None:
        """The pair on support at `instant`; None before the rotation starts."""
        if not isinstance(instant, pendulum.DateTime):
            instant = pendulum.instance(instant)
        if instant < self.begins:
            return None
        week = self.rotation.week_at(instant)
        day = self.calendar.local_date(instant)
        return Duty(instant, week, self._slots(week, day), self.rotation.handoff(week + 1))

    def _slots(self, week: int, day: date) -> tuple[Slot, Slot]:
        # The same (week, day) is asked for by the triage meeting, the day's
        # gap check and the review: worth remembering.
        found = self._slot_cache.get((week, day))
        if found is None:
            incoming = self._slot(INCOMING, self.rotation.stint(week), day)
            continuing = self._slot(CONTINUING, self.rotation.stint(week - 1), day)
            found = self._slot_cache[(week, day)] = _no_double_booking(incoming, continuing)
        return found

    def slots(self, week: int, day: date) -> tuple[Slot, Slot]:
        """Who fills the slots of week `week` on `day` (one of its days), for
        callers walking the weeks day by day: no instant to place."""
        return self._slots(week, day)

    def on_day(self, day: date) -> Duty | None:
        """The pair for a working day, as it stands at the day's handoff time
        (so on a handoff day, the new pair)."""
        return self.at(self.calendar.local(day, self.calendar.handoff_time))

    def gaps(self, first: date, stop: date) -> list[Gap]:
        """Every business day from `first` up to `stop` with an empty slot."""
        first = max(first, day_of(self.begins))
        found = []
        for day in self.calendar.business_days(first, stop):
            duty = self.on_day(day)
            if duty is None:
                continue
            found.extend(Gap(day, s.role, s.scheduled, s.problem or "", s.absence) for s in duty.gaps)
        return found

    def idle_overrides(self, first: date, stop: date) -> list[Override]:
        """Overrides in the span that never change who is on: they name
        someone who is not on support on any of their days."""
        idle = []
        for override in self.roster.overrides:
            if override.end < first or override.start >= stop:
                continue
            span = days(max(override.start, first), min(override.end + DAY, stop))
            if not any(self._applies(override, d) for d in span):
                idle.append(override)
        return idle

    # -- internals ------------------------------------------------------------
    def _applies(self, override: Override, day: date) -> bool:
        duty = self.on_day(day)
        return duty is not None and any(s.override is override for s in duty.slots)

    def _slot(self, role: str, stint: Stint, day: date) -> Slot:
        scheduled = stint.member
        if scheduled is None:
            return Slot(role, stint, None, problem="no one was available for this stint")
        override = next((o for o in self.roster.overrides if o.replace == scheduled and o.covers(day)), None)
        if override is not None:
            cover = self.roster.member(override.cover)
            # The roster file refuses such an override; a Roster built
            # another way still never puts a non-member on.
            not_member = self.roster.cover_problem(override)
            if not_member is not None:
                who = self.roster.name_of(override.cover)
                return Slot(role, stint, None, override, f"{who} (covering) {not_member}")
            cover_absence = cover.absence_on(day)
            if cover_absence is not None:
                return Slot(role, stint, None, override, f"{cover.name} (covering) is {cover_absence.label}",
                            cover_absence)
            return Slot(role, stint, override.cover, override)
        member = self.roster.member(scheduled)
        if member is None:
            return Slot(role, stint, scheduled)  # recorded stint of someone since removed
        not_member = member.off_team(day)
        if not_member is not None:
            return Slot(role, stint, None, problem=f"{member.name} {not_member}")
        absence = member.absence_on(day)
        if absence is not None:
            note = f": {absence.note}" if absence.note else ""
            return Slot(role, stint, None, problem=f"{member.name} is {absence.label}{note}", absence=absence)
        return Slot(role, stint, scheduled)


def _no_double_booking(incoming: Slot, continuing: Slot) -> tuple[Slot, Slot]:
    """One person cannot fill both slots: the override that put them there
    loses, and the slot shows as a gap."""
    if incoming.member is None or incoming.member != continuing.member:
        return incoming, continuing
    if incoming.override is not None:
        return _emptied(incoming), continuing
    return incoming, _emptied(continuing)


def _emptied(slot: Slot) -> Slot:
    return Slot(slot.role, slot.stint, None, slot.override, "the cover is already on support")
