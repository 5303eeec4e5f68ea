"""The calendar events rota publishes, independent of any calendar format.

One list serves the ICS feeds and the Google Calendar sync, so both always
show the same thing. Every event has a UID that names its *slot* (which
stint, which day's meeting) and the team's id, never the person in it nor
the team's display name: when a slot is reassigned or the team renamed,
subscribers' calendars update the event instead of duplicating it.

Kinds:

* ``stint``: one member's two weeks, handoff to handoff;
* ``gap``: a stint nobody could take, handoff to handoff;
* ``absence``: an all-day event for a business day on which a slot of a
  running stint has nobody (away, no cover);
* ``cover``: an all-day event spanning an override that changes who is on;
* ``triage`` and ``review``: the meetings, with attendees.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import pendulum

from scheduler.core.calendar import DAY, day_of
from scheduler.core.coverage import Coverage
from scheduler.core.meetings import REVIEW, TRIAGE, daily_triage, weekly_review
from scheduler.core.rotation import Stint

STINT, GAP, ABSENCE, COVER = "stint", "gap", "absence", "cover"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class Event:
    uid: str
    kind: str
    summary: str
    description: str
    start: pendulum.DateTime | date  # a date for all-day events
    end: pendulum.DateTime | date  # exclusive
    attendees: tuple[Person, ...] = ()
    people: frozenset[str] = frozenset()  # whose own feed carries it

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)


def when(instant: datetime) -> str:
    """A local time as people read it: 'Mon 4 Jan 2027 09:00 EST'."""
    return f"{instant:%a} {instant.day} {instant:%b %Y %H:%M %Z}"


def support_name(team: str) -> str:
    """What people call the team's support: 'Platform experts support', but
    'Cloud Platform Support' as it is, never 'Cloud Platform Support support'."""
    return team if re.search(r"\bsupport\s*$", team, re.IGNORECASE) else f"{team} support"


def slug(team: str) -> str:
    """The display name as releases before team ids put it in UIDs and marks."""
    return re.sub(r"[^a-z0-9]+", "-", team.lower()).strip("-") or "team"


def slot_uid(slot: str, team_id: str) -> str:
    """The UID of a slot ('stint-20270104', 'triage-20270105', ...) of a team."""
    return f"{slot}-{team_id}@rota"


class EventBuilder:
    """Builds the events whose start lies in a window of time."""

    def __init__(self, coverage: Coverage, review_lines: Mapping[date, str] | None = None):
        self.coverage = coverage
        self.review_lines = review_lines or {}
        self.rotation = coverage.rotation
        self.roster = coverage.roster
        self.calendar = coverage.calendar

    def build(self, start: datetime, end: datetime) -> list[Event]:
        """Every event starting at or after `start` and before `end`, in order."""
        start, end = pendulum.instance(start), pendulum.instance(end)
        if end <= start:
            return []
        first_week = max(self.rotation.week_at(start), -1)
        stop_week = max(self.rotation.week_at(end) + 1, 0)
        local_first = self.calendar.local_date(start)
        local_stop = self.calendar.local_date(end) + DAY

        events: list[Event] = []
        events += [self._stint(s) for s in self.rotation.stints(first_week, stop_week)]
        events += self._absences(local_first, local_stop)
        events += self._covers(local_first, local_stop)
        events += [self._triage(o) for o in daily_triage(self.coverage, local_first, local_stop)]
        events += [self._review(o) for o in weekly_review(self.coverage, max(first_week, 0), stop_week)]
        inside = [e for e in events if start <= self._instant(e.start) < end]
        return sorted(inside, key=lambda e: (self._instant(e.start), e.uid))

    # -- one builder per kind -------------------------------------------------
    def _stint(self, stint: Stint) -> Event:
        team, span = self.roster.name, f"from {when(stint.start)} to {when(stint.end)}"
        uid = self._uid("stint", stint.monday)
        member = self.roster.member(stint.member) if stint.member else None
        # A stint given to someone not on the team when it begins (a swap with
        # someone who has left) puts nobody on: coverage leaves its days empty.
        not_member = member.off_team(day_of(stint.start)) if member else None
        if stint.member is None or not_member:
            why = f"{member.name} {not_member}" if not_member else stint.reason
            return Event(
                uid, GAP, f"GAP: nobody on support ({team})",
                f"Nobody could take the {support_name(team)} stint {span}.\nWhy: {why}.\n"
                "Fill it with an override, or change absences in the roster.",
                stint.start, stint.end,
            )
        name = self.roster.name_of(stint.member)
        partners = self._partners(stint)
        return Event(
            uid, STINT, f"{name} on support ({team})",
            f"{name} is on {support_name(team)} {span}.\n{partners}\nWhy {name}: {stint.reason}.",
            stint.start, stint.end, people=frozenset({stint.member}),
        )

    def _partners(self, stint: Stint) -> str:
        before = self.rotation.stint(stint.week - 1).member if stint.week >= 0 else None
        after = self.rotation.stint(stint.week + 1).member
        lines = []
        if stint.week >= 0:
            lines.append(f"Week 1 with {self.roster.name_of(before)} (continuing).")
        lines.append(f"Week {1 if stint.week < 0 else 2} with {self.roster.name_of(after)} (incoming).")
        return " ".join(lines)

    def _absences(self, first: date, stop: date) -> list[Event]:
        found = []
        for gap in self.coverage.gaps(first, stop):
            if gap.scheduled is None:
                continue  # the whole stint is a gap: its own event says so
            name = self.roster.name_of(gap.scheduled)
            found.append(Event(
                self._uid(f"absence-{gap.role}", gap.day), ABSENCE,
                f"GAP: {name} {gap.away_as}, no cover ({self.roster.name})",
                f"{gap.reason.rstrip('.')}. Nobody covers {name}'s slot on {gap.day.isoformat()}: "
                "add an override so that two people are on support.",
                gap.day, gap.day + DAY, people=frozenset({gap.scheduled}),
            ))
        return found

    def _covers(self, first: date, stop: date) -> list[Event]:
        idle = set(map(id, self.coverage.idle_overrides(first, stop)))
        found = []
        for o in self.roster.overrides:
            if id(o) in idle or o.end < first or o.start >= stop or self.roster.cover_problem(o):
                continue  # a cover who is not a member covers nothing: the gap events say so
            cover, replaced = self.roster.name_of(o.cover), self.roster.name_of(o.replace)
            note = f"\nNote: {o.note}" if o.note else ""
            key = hashlib.sha1(o.replace.encode()).hexdigest()[:8]
            found.append(Event(
                self._uid(f"cover-{key}", o.start), COVER,
                f"{cover} covers for {replaced} ({self.roster.name})",
                f"{cover} is on support in place of {replaced} from {o.start.isoformat()} "
                f"to {o.end.isoformat()}.{note}",
                o.start, o.end + DAY, people=frozenset({o.cover, o.replace}),
            ))
        return found

    def _triage(self, meeting) -> Event:
        names = self._names(meeting.attendees) or "nobody (gap)"
        return Event(
            self._uid("triage", meeting.day), TRIAGE, f"Daily triage ({self.roster.name})",
            f"Daily triage of new and escalated tickets.\nOn support: {names}.",
            meeting.start, meeting.end, self._people(meeting.attendees), frozenset(meeting.attendees),
        )

    def _review(self, meeting) -> Event:
        week = self.rotation.week(meeting.week)
        incoming = self.roster.name_of(week.incoming.member)
        roles = [
            f"{incoming} stays on for another stint" if week.stays_on else f"{incoming} rotates in",
            f"{self.roster.name_of(week.continuing.member)} continues",
        ]
        if week.outgoing is not None and not week.stays_on:
            roles.append(f"{self.roster.name_of(week.outgoing.member)} rotates out")
        line = self.review_lines.get(week.monday)
        return Event(
            self._uid("review", meeting.day), REVIEW, f"Weekly review ({self.roster.name})",
            f"Handoff: {', '.join(roles)}.\nReview of last week's unresolved tickets." + (f"\n{line}" if line else ""),
            meeting.start, meeting.end, self._people(meeting.attendees), frozenset(meeting.attendees),
        )

    # -- helpers ----------------------------------------------------------------
    def _uid(self, what: str, day: date) -> str:
        return slot_uid(f"{what}-{day:%Y%m%d}", self.roster.id)

    def _instant(self, value: pendulum.DateTime | date) -> pendulum.DateTime:
        if isinstance(value, datetime):
            return value
        return self.calendar.day_start(value)

    def _names(self, emails) -> str:
        return ", ".join(self.roster.name_of(e) for e in emails)

    def _people(self, emails) -> tuple[Person, ...]:
        return tuple(Person(self.roster.name_of(e), e) for e in emails)


def for_member(events: list[Event], email: str) -> list[Event]:
    return [e for e in events if email in e.people]
