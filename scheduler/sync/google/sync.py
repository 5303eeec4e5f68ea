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
4. *Dry run* unless `--apply`; deleting more than a quarter of the window's
   events needs `--force`. With `--apply`: the stints that have begun are
   recorded, the changes go out in batches of 50, each is appended to the
   audit log, and the calendar is read again to confirm it matches.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import TextIO

from scheduler.store import auditlog
from scheduler.core import Window
from scheduler.sync.google.plan import CalendarPlan, Marks, plan_calendar, resource, starts_within
from scheduler.core.events import slug
from scheduler.core.model import GoogleSettings
from scheduler.errors import ConfigError
from scheduler.sync.google.client import CalendarClient, credentials_from_env
from scheduler.sync.retry import Patience, with_env_timeouts
from scheduler.sync.syncresult import SyncResult
from scheduler.team import Team

ACTOR = "rota sync gcal"


def settings_of(team: Team) -> GoogleSettings:
    if team.roster.google is None:
        raise ConfigError(f"{team.path}: the roster has no google: section (calendar_id)")
    return team.roster.google


def client_from_env(team: Team, patience: Patience | None = None, env=os.environ) -> CalendarClient:
    settings = settings_of(team)
    credentials = credentials_from_env(settings.delegate, env)
    return CalendarClient(settings.calendar_id, credentials, endpoint=env.get("ROTA_GOOGLE_API_ENDPOINT"),
                          patience=with_env_timeouts(patience, env), send_updates=settings.send_updates)


def make_plan(team: Team, window: Window, client: CalendarClient) -> tuple[CalendarPlan, list[dict]]:
    roster, settings = team.roster, settings_of(team)
    schedule = team.schedule()
    start, end = schedule.window_bounds(window)
    invite = settings.delegate is not None
    desired = [resource(e, roster.id, roster.timezone, invite) for e in schedule.events(window)]
    marks = Marks(roster.id, legacy=slug(roster.name))
    listed = {e["id"]: e for mark in marks.queries() for e in client.list_owned(mark, start, end)}
    actual = [e for e in listed.values() if starts_within(e, start, end, schedule.calendar.day_start)]
    return plan_calendar(desired, actual, marks), desired


def sync(team: Team, window: Window, client: CalendarClient, *, apply: bool, force: bool,
         now: datetime, out: TextIO) -> SyncResult:
    if apply:
        team.record_begun(now, now)  # first, so that the plan stands on a fixed past
    settings = settings_of(team)
    plan, desired = make_plan(team, window, client)
    last_week = window.first + timedelta(weeks=window.weeks - 1)
    print(f"Google calendar {settings.calendar_id}: weeks of {window.first.isoformat()} to "
          f"{last_week.isoformat()}, {len(desired)} events", file=out)
    if settings.delegate is None and any("Attendees: " in d["description"] for d in desired):
        print("  note: attendees are named in the descriptions, not invited: a service account can only "
              "invite with domain-wide delegation (set google.delegate)", file=out)
    for change in plan.changes:
        print(f"  {change}", file=out)
    print(f"  {plan.summary()}", file=out)
    planned = len(plan.changes)
    if not plan.changes:
        print("The calendar matches the rotation.", file=out)
        return SyncResult(0, 0, 0, "the calendar matches")
    if not apply:
        print(f"Dry run: {planned} change(s) not made. Run with --apply to make them.", file=out)
        return SyncResult(1, planned, 0, f"{plan.summary()} (dry run)")
    if plan.unsafe and not force:
        print(f"Refused: this would delete {len(plan.deletes)} of the {plan.owned} events rota keeps in "
              "this window (more than a quarter). Check the roster and the calendar, or run with --force.", file=out)
        return SyncResult(1, planned, 0, f"refused: would delete {len(plan.deletes)} of {plan.owned} events")

    outcomes = client.write(plan.changes)
    entries = []
    for outcome in outcomes:
        change = outcome.change
        body = getattr(change, "body", None) or change.current
        entries.append(auditlog.Entry(
            "google", type(change).__name__.lower(), body.get("summary"), "ok" if outcome.ok else f"error: {outcome.error}",
            {"calendar": settings.calendar_id, "event_id": change.event_id,
             "start": body.get("start"), "what": getattr(change, "what", None)},
        ))
        if not outcome.ok:
            print(f"  failed: {change}: {outcome.error}", file=out)
    team.store.append_audit(entries, actor=ACTOR, now=now)

    applied = sum(1 for o in outcomes if o.ok)
    done = f"{applied} of {planned} change(s) made ({plan.summary()})"
    after, _ = make_plan(team, window, client)
    if after.changes:
        print(f"The calendar does not match yet: {after.summary()}; the next run will carry on.", file=out)
        return SyncResult(1, planned, applied, f"{done}; still to do: {after.summary()}")
    print("The calendar matches the rotation.", file=out)
    return SyncResult(0, planned, applied, done)
