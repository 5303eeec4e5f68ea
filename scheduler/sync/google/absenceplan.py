"""The absence import's pure plan: which absences members' out-of-office
events make, what to change in the absences rota keeps to match, and what
that does to the rotation people should hear about.

No I/O: events come in as Google's dicts, the kept absences as values, and
the schedules are the core's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

import pendulum

from scheduler.core import Schedule
from scheduler.core.calendar import day_of
from scheduler.core.model import ImportedAbsence, Record, Roster
from scheduler.core.outofoffice import away_span


@dataclass(frozen=True)
class Keep:
    """Keep `absence`: new (`was` None), or moved from `was`."""

    absence: ImportedAbsence
    was: ImportedAbsence | None = None
    name: str = ""

    @property
    def action(self) -> str:
        return "import" if self.was is None else "move"

    def __str__(self) -> str:
        a = self.absence
        text = f"{self.action}: {self.name or a.member} out of office (Google) {span(a.start, a.end)} (event {a.event_id})"
        if self.was is not None:
            text += f", was {span(self.was.start, self.was.end)}"
        return text


@dataclass(frozen=True)
class Drop:
    """Forget `absence`: its event was deleted or cancelled, or no longer
    makes a business day away."""

    absence: ImportedAbsence
    name: str = ""
    action = "remove"

    def __str__(self) -> str:
        a = self.absence
        return (f"remove: {self.name or a.member} out of office (Google) {span(a.start, a.end)} (event {a.event_id}): "
                "the event is gone or no longer keeps them away on a business day")


@dataclass(frozen=True)
class Skipped:
    """A member whose calendar could not be read: left as it was."""

    member: str
    name: str
    reason: str

    def __str__(self) -> str:
        return f"cannot read {self.name} ({self.member})'s calendar, skipped: {self.reason}"


@dataclass
class AbsencePlan:
    changes: list[Keep | Drop]
    skipped: list[Skipped] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)  # what the changes do to who is on support
    read: int = 0  # members whose calendars were read
    unsafe = False  # nothing here can wipe anything people typed

    def summary(self) -> str:
        counts = {action: sum(1 for c in self.changes if c.action == action) for action in ("import", "move", "remove")}
        said = [f"{n} to {action}" for action, n in counts.items() if n]
        text = ", ".join(said) if said else "nothing to change"
        if self.skipped:
            text += f"; {len(self.skipped)} member(s) skipped"
        return text

    def after(self, kept: list[ImportedAbsence]) -> list[ImportedAbsence]:
        """The absences kept once the plan is applied."""
        gone = {(c.absence.member, c.absence.event_id) for c in self.changes}
        return [a for a in kept if (a.member, a.event_id) not in gone] + [c.absence for c in self.changes
                                                                             if isinstance(c, Keep)]


def span(first: date, last: date) -> str:
    """'2027-03-08 to 03-12' ('2027-03-08' for one day, the year again across years)."""
    if first == last:
        return first.isoformat()
    tail = f"{last:%m-%d}" if last.year == first.year else last.isoformat()
    return f"{first.isoformat()} to {tail}"


def absences_of(member: str, events: list[dict], schedule: Schedule) -> dict[str, ImportedAbsence]:
    """Event id -> the absence that event makes (events that make none are left out)."""
    found = {}
    triage = schedule.roster.daily_triage
    for event in events:
        when = _times(event)
        if when is None:
            continue
        days = away_span(*when, schedule.calendar, triage)
        if days is not None:
            found[event["id"]] = ImportedAbsence(member, event["id"], *days)
    return found


def _times(event: dict) -> tuple[date, date] | tuple[datetime, datetime] | None:
    start, end = event.get("start") or {}, event.get("end") or {}
    try:
        if start.get("date") and end.get("date"):
            return date.fromisoformat(start["date"]), date.fromisoformat(end["date"])
        # Google answers dateTimes with their offset (RFC 3339): instants, whatever zone they are in.
        first, stop = pendulum.parse(start["dateTime"]), pendulum.parse(end["dateTime"])
    except (KeyError, TypeError, ValueError, pendulum.parsing.exceptions.ParserError):
        return None
    return (first, stop) if isinstance(first, datetime) and isinstance(stop, datetime) else None


def plan_absences(desired: dict[str, dict[str, ImportedAbsence]], kept: list[ImportedAbsence],
                  first: date, stop: date, roster: Roster) -> list[Keep | Drop]:
    """Changes that make the kept absences of the members in `desired`
    (member -> event id -> absence), within the days from `first` up to
    `stop`, those their events make. Members not in `desired` (skipped, or
    not asked) are left as they are, and so is everything outside the window."""
    name = roster.name_of
    changes: list[Keep | Drop] = []
    held = {(a.member, a.event_id): a for a in kept}
    for member, wanted in desired.items():
        for event_id, absence in sorted(wanted.items(), key=lambda kv: (kv[1].start, kv[0])):
            current = held.get((member, event_id))
            if current != absence:
                changes.append(Keep(absence, current, name(member)))
        for (who, event_id), current in sorted(held.items(), key=lambda kv: (kv[1].member, kv[1].start)):
            if who == member and event_id not in wanted and current.end >= first and current.start < stop:
                changes.append(Drop(current, name(member)))
    return changes


def effects(roster: Roster, holidays, record: Record, before: list[ImportedAbsence],
            after: list[ImportedAbsence], changes: list[Keep | Drop], now: datetime, stop: date) -> list[str]:
    """What the changes do to who is on support up to `stop`, in words:
    stints not yet begun given to someone else (one line for each that an
    absence moved, one for all that moved along with them), and days of
    stints under way (which never change hands) left with nobody."""
    was = Schedule(roster.with_imported(before), holidays, record)
    becomes = Schedule(roster.with_imported(after), holidays, record)
    name = roster.name_of
    said: list[str] = []
    current = becomes.week_at(pendulum.instance(now))
    new = [c.absence for c in changes if isinstance(c, Keep)]
    along: list[date] = []
    for week in range(max(current + 1, 0), becomes.week_at(becomes.day_start(stop)) + 1):
        old, now_on = was.stint(week), becomes.stint(week)
        if old.member == now_on.member:
            continue
        starts = f"{day_of(now_on.start):%m-%d}"
        cause = _cause(name(old.member), old.member, new, day_of(old.start), day_of(old.end)) if old.member else None
        if now_on.member is None:
            said.append(f"{cause + '; ' if cause else ''}nobody can take the stint starting "
                        f"{day_of(now_on.start).isoformat()}: a gap (it was {name(old.member)}'s)")
        elif cause:
            said.append(f"{cause}; {name(now_on.member)} now starts on {starts}")
        elif not along and not said:
            # The first change with no absence of its own: someone is back, or a pick moved up.
            said.append(f"{name(now_on.member)} now starts on {starts} (was {name(old.member)})")
        else:
            along.append(old.monday)
    if along:
        said.append(f"{len(along)} later stint(s) change hands with it, from the week of {along[0].isoformat()} "
                    "(rota show lists them)")
    today = becomes.local_date(now)
    known = {(g.day, g.role) for g in was.gaps(today, stop)}
    running: dict[str, list[date]] = {}
    for gap in becomes.gaps(today, stop):
        if gap.scheduled is not None and gap.absence is not None and not gap.absence.typed \
                and (gap.day, gap.role) not in known:
            running.setdefault(gap.scheduled, []).append(gap.day)
    for member, days in running.items():
        said.append(f"{name(member)} is out of office {span(days[0], days[-1])}, during a stint under way: "
                    "nobody covers those days (add an override)")
    return said


def _cause(who: str, member: str, new: list[ImportedAbsence], first: date, stop: date) -> str | None:
    """"Ada is out of office ..." when a new or moved absence of hers falls in the stint."""
    for a in new:
        if a.member == member and a.start < stop and a.end >= first:
            return f"{who} is out of office {span(a.start, a.end)}"
    return None


def key(text: str, before: list[ImportedAbsence]) -> str:
    """An announcement's identity: its words and the absences kept before
    the change, so that two runs making the same change announce it once."""
    state = sorted((a.member, a.event_id, a.start.isoformat(), a.end.isoformat()) for a in before)
    return hashlib.sha256(repr((text, state)).encode()).hexdigest()[:32]
