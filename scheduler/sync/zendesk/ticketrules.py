"""The team's rules for Zendesk ticket statuses, as checks on plain values.

* A **new** ticket is acknowledged (set to open or pending) before 5:00 PM
  local time on the day it arrives. One that arrives after 5:00 PM, or on a
  day off, is due by 5:00 PM on the next business day.
* An **open** ticket waits on the team no longer than one business day:
  from its last update, the same time on the next business day.
* A **pending** ticket is closed by Zendesk itself after 5 days without a
  reply; rota only reports the ones older than that.

Tickets on hold, solved or closed are nobody's breach here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from scheduler.core.calendar import DAY, WorkCalendar, day_of

ACKNOWLEDGE_BY = time(17, 0)
PENDING_DAYS = 5
UNRESOLVED = ("new", "open", "pending", "hold")


@dataclass(frozen=True)
class Ticket:
    id: int
    subject: str
    status: str
    group: str
    created_at: datetime
    updated_at: datetime
    assignee: str | None = None  # a name, or None when unassigned
    url: str | None = None


@dataclass(frozen=True)
class Breach:
    ticket: Ticket
    rule: str  # "new", "open" or "pending"
    since: datetime  # what the wait counts from
    deadline: datetime
    waited: timedelta

    @property
    def message(self) -> str:
        if self.rule == "new":
            return "not acknowledged by 5:00 PM on the day it arrived"
        if self.rule == "open":
            return "open and waiting on the team for more than a business day"
        return f"pending for more than {PENDING_DAYS} days (Zendesk closes these itself)"


def breaches(tickets: list[Ticket], calendar: WorkCalendar, now: datetime) -> list[Breach]:
    """Every ticket that breaks a rule at `now`, longest waiting first."""
    found = []
    for t in tickets:
        if t.status == "new":
            deadline = _acknowledge_deadline(calendar, t.created_at)
            since = t.created_at
        elif t.status == "open":
            deadline = _next_business_day_same_time(calendar, t.updated_at)
            since = t.updated_at
        elif t.status == "pending":
            since = t.updated_at
            deadline = t.updated_at + timedelta(days=PENDING_DAYS)
        else:
            continue
        if now > deadline:
            found.append(Breach(t, t.status, since, deadline, now - since))
    return sorted(found, key=lambda b: (-b.waited.total_seconds(), b.ticket.id))


def unresolved_between(tickets: list[Ticket], start: datetime, end: datetime) -> list[Ticket]:
    """Tickets created in [start, end) that are still unresolved."""
    return [t for t in tickets if start <= t.created_at < end and t.status in UNRESOLVED]


def _acknowledge_deadline(calendar: WorkCalendar, created: datetime) -> datetime:
    local = calendar.to_local(created)
    day = day_of(local)
    if not calendar.is_business_day(day) or time(local.hour, local.minute) >= ACKNOWLEDGE_BY:
        day = _next_business_day(calendar, day)
    return calendar.local(day, ACKNOWLEDGE_BY)


def _next_business_day_same_time(calendar: WorkCalendar, instant: datetime) -> datetime:
    local = calendar.to_local(instant)
    day = _next_business_day(calendar, day_of(local))
    return calendar.local(day, time(local.hour, local.minute))


def _next_business_day(calendar: WorkCalendar, day):
    day += DAY
    for _ in range(14):  # two weeks of holidays in a row would be remarkable
        if calendar.is_business_day(day):
            return day
        day += DAY
    return day
