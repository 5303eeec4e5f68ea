"""Planning a calendar sync: the events a shared Google calendar must hold
against the events rota owns there. Pure: the adapter lists and writes.

The contract:

* Every event rota writes carries private extended properties: the team's
  id (`rota`, the mark rota lists by), the marking scheme (`rotaVersion`)
  and the feed UID of its slot (`rotaUid`). rota lists, changes and deletes
  only events with that mark, and only those that start inside the window;
  everything else in the calendar is left alone.
* Events are matched to slots by their `rotaUid`, not by their Google id:
  an event keeps its id for life, whatever rota later learns about it.
  Inserted events get an id derived from the UID (base32hex, as Google
  requires for ids a client chooses), so a retried insert cannot duplicate.
* Releases before team ids marked events with the slug of the team's
  display name, without `rotaVersion`, and put that slug in the UIDs. Such
  events, marked with the slug of the current display name, are adopted:
  updated in place with the team's mark and the slot's UID, so a calendar
  published by them gets no duplicates and keeps no orphans. Only events in
  that scheme are adopted, so a team whose id equals another team's old
  slug never takes that team's events, and the other way round.
* A slot whose event exists is updated in place when it differs (a
  reassigned stint keeps its event); an event rota deleted earlier (Google
  keeps it as `cancelled`) is restored, never re-inserted (that answers 409);
  an owned event no longer wanted, or a second one for the same slot, is
  deleted.
* Times are compared as instants: Google returns them in the calendar's own
  zone, not as they were written.
* Against a calendar that already matches, the plan is empty.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from scheduler.core.events import Event, Person, slot_uid

MARK = "rota"  # private extended property: the owning team's id (its display name's slug before ids)
UID_KEY = "rotaUid"
VERSION_KEY, VERSION = "rotaVersion", "2"  # absent on events of releases before team ids
ID_PREFIX = "rota2/"  # before team ids, event ids encoded the bare UID
SLOT = re.compile(r"[a-z]+(-[a-z0-9]+)*-\d{8}")  # 'stint-20270104', 'absence-incoming-20270105'
# The safety limit: a plan may delete at most this share of the events rota keeps in the window without --force.
MAX_DELETED_SHARE = 0.25


def event_id(uid: str) -> str:
    """The Google event id rota inserts the event of a feed UID with:
    base32hex (a-v, 0-9), lower case. Releases before team ids encoded the
    bare UID; the prefix keeps every new id apart from theirs, because a
    team whose id equals another team's old slug has that team's old UIDs."""
    data = (ID_PREFIX + uid).encode("utf-8")
    return base64.b32hexencode(data).decode("ascii").rstrip("=").lower()


@dataclass(frozen=True)
class Marks:
    """Which of a calendar's events are a team's: those marked with its id,
    and those that a release before team ids marked with `legacy`, the slug
    of its display name (adopted by the next sync)."""

    team: str
    legacy: str | None = None

    def queries(self) -> list[str]:
        """The values of MARK whose events the sync must list."""
        return list(dict.fromkeys(m for m in (self.team, self.legacy) if m))

    def slot(self, event: dict) -> str | None:
        """The UID of the slot `event` holds, if the event is the team's."""
        private = (event.get("extendedProperties") or {}).get("private") or {}
        found = private.get(UID_KEY)
        if not isinstance(found, str):
            return None
        if VERSION_KEY in private:
            return found if private.get(VERSION_KEY) == VERSION and private.get(MARK) == self.team else None
        suffix = f"-{self.legacy}@rota"
        if not self.legacy or private.get(MARK) != self.legacy or not found.endswith(suffix):
            return None
        slot = found[: -len(suffix)]
        return slot_uid(slot, self.team) if SLOT.fullmatch(slot) else None


def _legacy(event: dict) -> bool:
    private = (event.get("extendedProperties") or {}).get("private") or {}
    return VERSION_KEY not in private


def same_owner(body: dict, current: dict) -> bool:
    """Whether `current`, found under the id of `body`, is the same team's."""
    have = (current.get("extendedProperties") or {}).get("private") or {}
    want = body["extendedProperties"]["private"]
    return have.get(MARK) == want[MARK] and have.get(VERSION_KEY) == want[VERSION_KEY]


def resource(event: Event, team: str, timezone: str, invite: bool) -> dict:
    """The Google Calendar event for `event` of the team whose id is `team`.
    Without `invite` (no delegated user to act as) the attendees go in the
    description instead."""
    description = event.description
    if event.attendees and not invite:
        description += "\n\nAttendees: " + ", ".join(_person(p) for p in event.attendees)
    body = {
        "id": event_id(event.uid),
        "summary": event.summary,
        "description": description,
        "start": _google_time(event.start, timezone),
        "end": _google_time(event.end, timezone),
        "transparency": "opaque" if event.kind in ("triage", "review") else "transparent",
        "status": "confirmed",
        "extendedProperties": {"private": {MARK: team, VERSION_KEY: VERSION, UID_KEY: event.uid}},
        "reminders": {"useDefault": event.kind in ("triage", "review")},
    }
    if invite and event.attendees:
        body["attendees"] = [{"email": p.email, "displayName": p.name} for p in event.attendees]
    return body


@dataclass(frozen=True)
class Insert:
    body: dict

    @property
    def event_id(self) -> str:
        return self.body["id"]

    def __str__(self) -> str:
        return f"+ insert {_label(self.body)}"


@dataclass(frozen=True)
class Update:
    body: dict
    what: str  # what differs, "restore" for a cancelled event, "adopt" for an earlier release's

    @property
    def event_id(self) -> str:
        return self.body["id"]

    def __str__(self) -> str:
        return f"~ update {_label(self.body)} ({self.what})"


@dataclass(frozen=True)
class Delete:
    current: dict

    @property
    def event_id(self) -> str:
        return self.current["id"]

    def __str__(self) -> str:
        return f"- delete {_label(self.current)}"


@dataclass
class CalendarPlan:
    inserts: list[Insert] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    deletes: list[Delete] = field(default_factory=list)
    unchanged: int = 0
    owned: int = 0  # rota's live events in the window before the sync

    @property
    def changes(self) -> list[Insert | Update | Delete]:
        return [*self.inserts, *self.updates, *self.deletes]

    @property
    def unsafe(self) -> bool:
        """The safety limit: deleting more than `MAX_DELETED_SHARE` of the
        events rota keeps in the window looks like a mistake (a wrong roster,
        a wrong calendar) and needs --force."""
        return len(self.deletes) > self.owned * MAX_DELETED_SHARE

    def summary(self) -> str:
        return (f"{len(self.inserts)} to insert, {len(self.updates)} to update, "
                f"{len(self.deletes)} to delete, {self.unchanged} unchanged")


def plan_calendar(desired: list[dict], actual: list[dict], marks: Marks) -> CalendarPlan:
    """`desired`: event bodies from `resource`; `actual`: the events listed
    under `marks.queries()` in the window (cancelled ones included). Events
    that are not the team's are ignored, whatever their mark says."""
    plan = CalendarPlan()
    held: dict[str, list[dict]] = {}
    for e in actual:
        slot = marks.slot(e)
        if slot is not None:
            held.setdefault(slot, []).append(e)
    plan.owned = sum(1 for found in held.values() for e in found if not _cancelled(e))
    for body in desired:
        # Prefer a live event, then the one with the id rota would insert.
        found = sorted(held.pop(body["extendedProperties"]["private"][UID_KEY], []),
                       key=lambda e: (_cancelled(e), e["id"] != body["id"], e["id"]))
        if not found:
            plan.inserts.append(Insert(body))
            continue
        keep, extra = found[0], found[1:]
        target = {**body, "id": keep["id"]}
        if _cancelled(keep):
            plan.updates.append(Update(target, "restore"))
        else:
            differs = differences(body, keep)
            if _legacy(keep):
                differs = ["adopt"] + [d for d in differs if d != "marker"]
            if differs:
                plan.updates.append(Update(target, ", ".join(differs)))
            else:
                plan.unchanged += 1
        plan.deletes += [Delete(e) for e in extra if not _cancelled(e)]  # a second event for one slot
    for found in held.values():
        plan.deletes += [Delete(e) for e in found if not _cancelled(e)]
    return plan


def differences(want: dict, have: dict) -> list[str]:
    """The fields rota owns that differ between two events."""
    found = []
    for key in ("summary", "description", "transparency"):
        if (want.get(key) or "") != (have.get(key) or ""):
            found.append(key)
    for key in ("start", "end"):
        if _instant(want.get(key)) != _instant(have.get(key)):
            found.append(key)
    if _attendees(want) != _attendees(have):
        found.append("attendees")
    have_marks = (have.get("extendedProperties") or {}).get("private") or {}
    if any(have_marks.get(k) != v for k, v in want["extendedProperties"]["private"].items()):
        found.append("marker")
    return found


def starts_within(event: dict, start: datetime, end: datetime, day_start) -> bool:
    """Whether the event starts in [start, end); `day_start(date)` turns an
    all-day event's date into the instant its day begins locally."""
    instant = _instant(event.get("start"), day_start)
    return instant is not None and start <= instant < end


def _instant(when: dict | None, day_start=None):
    if not when:
        return None
    if "dateTime" in when:
        return datetime.fromisoformat(when["dateTime"])
    if "date" in when:
        day = date.fromisoformat(when["date"])
        return day_start(day) if day_start else day
    return None


def _cancelled(event: dict) -> bool:
    return event.get("status") == "cancelled"


def _attendees(body: dict) -> list[str]:
    return sorted((a.get("email") or "").lower() for a in body.get("attendees") or ())


def _google_time(value, timezone: str) -> dict:
    """Google's start or end: a dateTime with its zone, or an all-day date."""
    if isinstance(value, datetime):
        return {"dateTime": value.isoformat(), "timeZone": timezone}
    return {"date": value.isoformat()}


def _person(p: Person) -> str:
    return f"{p.name} <{p.email}>"


def _label(body: dict) -> str:
    begins = body.get("start", {})
    start = begins.get("dateTime", begins.get("date", "?"))
    return f"{start[:16].replace('T', ' ')}  {body.get('summary', '')}"
