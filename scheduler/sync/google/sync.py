"""`rota sync gcal`: a shared Google calendar holds the rotation and meetings.

The same steps as every rota sync (docs/sync.md):

1. *Desired*: the events of the team feed whose start lies in the window
   (stints, gaps, cover and absence days, daily triage, weekly review), as
   Google events with ids derived from their UIDs and the team's mark.
2. *Actual*: the calendar's events with the team's mark, cancelled ones
   included, that start in the window, and those an earlier release marked
   with the slug of the display name. Nothing else is ever touched.
3. *Plan*: `sync.google.plan.plan_calendar`: insert, update in place,
   restore, adopt, delete.
4. The rest is the pipeline every sync shares (`scheduler.sync.pipeline`):
   dry run unless `--apply`; deleting more than a quarter of the window's
   events (`plan.MAX_DELETED_SHARE`) needs `--force`. With `--apply`: the
   stints that have begun are recorded, the changes go out in batches of 50,
   each is appended to the audit log, and the calendar is read again to
   confirm it matches. `CalendarSync` supplies the Google parts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TextIO

from scheduler.store import auditlog
from scheduler.sync import pipeline
from scheduler.sync.pipeline import Applied, Refusal
from scheduler.core import Window
from scheduler.sync.google.plan import CalendarPlan, Marks, plan_calendar, resource, starts_within
from scheduler.core.events import slug
from scheduler.core.model import GoogleSettings
from scheduler.errors import ConfigError
from scheduler.settings import Settings
from scheduler.sync.google.client import CalendarClient, service_account_credentials
from scheduler.sync.retry import Patience, with_timeouts
from scheduler.sync.syncresult import SyncResult
from scheduler.team import Team

ACTOR = "rota sync gcal"


def settings_of(team: Team) -> GoogleSettings:
    if team.roster.google is None:
        raise ConfigError(f"{team.path}: the roster has no google: section (calendar_id)")
    if team.roster.google.calendar_id is None:
        raise ConfigError(f"{team.path}: the roster's google: section has no calendar_id (a shared calendar "
                          "to publish to)")
    return team.roster.google


def client_from_settings(team: Team, settings: Settings, patience: Patience | None = None) -> CalendarClient:
    google = settings_of(team)
    credentials = service_account_credentials(settings, google.delegate)
    return CalendarClient(google.calendar_id, credentials, endpoint=settings.google_api_endpoint,
                          patience=with_timeouts(patience, settings), send_updates=google.send_updates)


def make_plan(team: Team, window: Window, client: CalendarClient) -> tuple[CalendarPlan, list[dict]]:
    roster, settings = team.roster, settings_of(team)
    schedule = team.schedule()
    start, end = schedule.window_bounds(window)
    invite = settings.delegate is not None
    desired = [resource(e, roster.id, roster.timezone, invite) for e in schedule.events(window)]
    marks = Marks(roster.id, legacy=slug(roster.name))
    listed = {e["id"]: e for mark in marks.queries() for e in client.list_owned(mark, start, end)}
    actual = [e for e in listed.values() if starts_within(e, start, end, schedule.day_start)]
    return plan_calendar(desired, actual, marks), desired


class CalendarSync:
    """The Google calendar as a system of the sync pipeline."""

    actor = ACTOR

    def __init__(self, team: Team, window: Window, client: CalendarClient, now: datetime):
        self.team, self.window, self.client = team, window, client
        self.settings = settings_of(team)
        self.recorded_until = now
        self.desired: list[dict] = []

    def plan(self) -> CalendarPlan:
        plan, self.desired = make_plan(self.team, self.window, self.client)
        return plan

    def print_plan(self, plan: CalendarPlan, out: TextIO) -> None:
        window, desired = self.window, self.desired
        last_week = window.first + timedelta(weeks=window.weeks - 1)
        print(f"Google calendar {self.settings.calendar_id}: weeks of {window.first.isoformat()} to "
              f"{last_week.isoformat()}, {len(desired)} events", file=out)
        if self.settings.delegate is None and any("Attendees: " in d["description"] for d in desired):
            print("  note: attendees are named in the descriptions, not invited: a service account can only "
                  "invite with domain-wide delegation (set google.delegate)", file=out)
        for change in plan.changes:
            print(f"  {change}", file=out)
        print(f"  {plan.summary()}", file=out)

    def dry_run(self, plan: CalendarPlan) -> str:
        return f"{plan.summary()} (dry run)"

    def refusal(self, plan: CalendarPlan) -> Refusal:
        deletes, owned = len(plan.deletes), plan.owned
        return Refusal(f"would delete {deletes} of the {owned} events rota keeps in this window (more than a quarter)",
                       "the roster and the calendar", f"would delete {deletes} of {owned} events")

    def apply(self, plan: CalendarPlan) -> list[Applied]:
        applied = []
        for outcome in self.client.write(plan.changes):
            change = outcome.change
            body = getattr(change, "body", None) or change.current
            entry = auditlog.Entry(
                "google", type(change).__name__.lower(), body.get("summary"),
                "ok" if outcome.ok else f"error: {outcome.error}",
                {"calendar": self.settings.calendar_id, "event_id": change.event_id,
                 "start": body.get("start"), "what": getattr(change, "what", None)},
            )
            applied.append(Applied(change, entry, outcome.error))
        return applied

    def done(self, plan: CalendarPlan, applied: list[Applied]) -> str:
        made = sum(1 for a in applied if a.ok)
        return f"{made} of {len(plan.changes)} change(s) made ({plan.summary()})"

    def verdict(self, plan: CalendarPlan, planned: int, applied: int, done: str | None, out: TextIO) -> SyncResult:
        if plan.changes:  # only after applying: a first plan with changes is never judged
            print(f"The calendar does not match yet: {plan.summary()}; the next run will carry on.", file=out)
            return SyncResult(1, planned, applied, f"{done}; still to do: {plan.summary()}")
        print("The calendar matches the rotation.", file=out)
        return SyncResult(0, planned, applied, "the calendar matches" if done is None else done)


def sync(team: Team, window: Window, client: CalendarClient, *, apply: bool, force: bool,
         now: datetime, out: TextIO) -> SyncResult:
    return pipeline.sync(team, CalendarSync(team, window, client, now), apply=apply, force=force, now=now, out=out)
