"""Planning a calendar sync: the events a shared Google calendar must hold
against the events rota owns there. Pure: the adapter lists and writes.

The contract:

* Every event rota writes has an id derived from its feed UID (base32hex, as
  Google requires for ids a client chooses) and a private extended property
  marking the team that owns it. rota lists, changes and deletes only events
  with that mark, and only those that start inside the window; everything
  else in the calendar is left alone.
* A slot whose event exists is updated in place when it differs (a
  reassigned stint keeps its event); an event rota deleted earlier (Google
  keeps it as `cancelled`) is restored, never re-inserted (that answers 409);
  an owned event no longer wanted is deleted.
* Times are compared as instants: Google returns them in the calendar's own
  zone, not as they were written.
* Against a calendar that already matches, the plan is empty.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime

from .events import Event, Person

MARK = "rota"  # private extended property: the owning team's slug
UID_KEY = "rotaUid"


def event_id(uid: str) -> str:
    """The Google event id for a feed UID: base32hex (a-v, 0-9), lower case."""
    return base64.b32hexencode(uid.encode("utf-8")).decode("ascii").rstrip("=").lower()


def resource(event: Event, team: str, timezone: str, invite: bool) -> dict:
    """The Google Calendar event for `event`. Without `invite` (no delegated
    user to act as) the attendees go in the description instead."""
    description = event.description
    if event.attendees and not invite:
        description += "\n\nAttendees: " + ", ".join(_person(p) for p in event.attendees)
    body = {
        "id": event_id(event.uid),
        "summary": event.summary,
        "description": description,
        "start": _when(event.start, timezone),
        "end": _when(event.end, timezone),
        "transparency": "opaque" if event.kind in ("triage", "review") else "transparent",
        "status": "confirmed",
        "extendedProperties": {"private": {MARK: team, UID_KEY: event.uid}},
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
    what: str  # what differs, or "restore" for a cancelled event

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
        """Deleting more than a quarter of the window's events looks like a
        mistake (a wrong roster, a wrong calendar): it needs --force."""
        return len(self.deletes) * 4 > self.owned

    def summary(self) -> str:
        return (f"{len(self.inserts)} to insert, {len(self.updates)} to update, "
                f"{len(self.deletes)} to delete, {self.unchanged} unchanged")


def plan_calendar(desired: list[dict], actual: list[dict]) -> CalendarPlan:
    """`desired`: event bodies from `resource`; `actual`: rota's events in the
    window as listed (cancelled ones included)."""
    plan = CalendarPlan()
    current = {e["id"]: e for e in actual}
    plan.owned = sum(1 for e in actual if e.get("status") != "cancelled")
    wanted = set()
    for body in desired:
        wanted.add(body["id"])
        found = current.get(body["id"])
        if found is None:
            plan.inserts.append(Insert(body))
        elif found.get("status") == "cancelled":
            plan.updates.append(Update(body, "restore"))
        else:
            differs = differences(body, found)
            if differs:
                plan.updates.append(Update(body, ", ".join(differs)))
            else:
                plan.unchanged += 1
    for e in actual:
        if e["id"] not in wanted and e.get("status") != "cancelled":
            plan.deletes.append(Delete(e))
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
    if (want["extendedProperties"]["private"].get(UID_KEY)
            != (have.get("extendedProperties") or {}).get("private", {}).get(UID_KEY)):
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


def _attendees(body: dict) -> list[str]:
    return sorted((a.get("email") or "").lower() for a in body.get("attendees") or ())


def _when(value, timezone: str) -> dict:
    if isinstance(value, datetime):
        return {"dateTime": value.isoformat(), "timeZone": timezone}
    return {"date": value.isoformat()}


def _person(p: Person) -> str:
    return f"{p.name} <{p.email}>"


def _label(body: dict) -> str:
    when = body.get("start", {})
    start = when.get("dateTime", when.get("date", "?"))
    return f"{start[:16].replace('T', ' ')}  {body.get('summary', '')}"
