"""`rota sync absences`: members' out-of-office events in Google Calendar
become absences, before they become gaps.

The same steps as every rota sync (docs/sync.md), the other way round: the
members' calendars are the source, and what changes is what rota keeps.

1. *Desired*: each member's out-of-office events overlapping the window
   (`OutOfOfficeClient.list`: one list call per member, as that member),
   each made into the business days it keeps them away
   (`scheduler.core.outofoffice`). A member whose calendar cannot be read is
   listed with the reason and skipped; nothing of theirs changes.
2. *Actual*: the absences imported earlier (`Store.imported_absences`),
   apart from the roster's, which rota never touches.
3. *Plan*: `absenceplan.plan_absences`: import, move, remove; and what that
   does to who is on support (`absenceplan.effects`): stints not yet begun
   change hands (begun ones are in the record and never do), and days of a
   stint under way become gaps.
4. The pipeline: dry run unless `--apply`; with it, the stints that have
   begun are recorded first, each change is kept in the store and
   audited, each effect is audited and announced once in Slack (claimed in
   the store, so two runs never both post it), and the plan is made again
   from the calendars already read to confirm the store matches.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TextIO

from scheduler.core import Window
from scheduler.core.model import Record
from scheduler.errors import ConfigError, RotaError, ServiceError
from scheduler.roster import holidaycal
from scheduler.settings import Settings
from scheduler.store import auditlog
from scheduler.sync import pipeline
from scheduler.sync.google.absenceplan import AbsencePlan, Keep, Skipped, absences_of, effects, key, plan_absences
from scheduler.sync.google.outofoffice import OutOfOfficeClient, Unreadable
from scheduler.sync.pipeline import Applied, Refusal
from scheduler.sync.retry import Patience, with_timeouts
from scheduler.sync.syncresult import SyncResult
from scheduler.team import Team

ACTOR = "rota sync absences"


def enabled(team: Team) -> bool:
    google = team.roster_file.roster.google
    return google is not None and google.out_of_office


def check_enabled(team: Team) -> None:
    if not enabled(team):
        raise ConfigError(f"{team.path}: the roster does not import out-of-office events "
                          "(set google: {out_of_office: true})")


def client_from_settings(settings: Settings, patience: Patience | None = None) -> OutOfOfficeClient:
    from scheduler.sync.google.client import service_account_credentials

    return OutOfOfficeClient(service_account_credentials(settings, None), endpoint=settings.google_api_endpoint,
                             patience=with_timeouts(patience, settings))


class Announcement:
    """A change to who is on support, told once in Slack."""

    action = "announce"

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return f"announce: {self.text}"


class AbsenceSync:
    """Members' calendars as the source of the sync pipeline, the store as its target."""

    actor = ACTOR

    def __init__(self, team: Team, window: Window, client: OutOfOfficeClient, now: datetime, *,
                 slack_url: str | None = None, patience: Patience | None = None):
        self.team, self.window, self.client, self.now = team, window, client, now
        self.recorded_until = now
        self.slack_url, self.patience = slack_url, patience
        schedule = team.schedule()
        self.first = window.first
        self.stop = window.first + timedelta(weeks=window.weeks)
        self.bounds = schedule.window_bounds(window)
        self._events: dict[str, list[dict]] | None = None
        self._skipped: list[Skipped] = []
        self._before: list = []

    def _read(self) -> dict[str, list[dict]]:
        """Every member's events, read once per run: the second plan, after
        applying, compares them with the store again without asking Google."""
        if self._events is None:
            events = {}
            for member in self._members():
                try:
                    events[member.email] = self.client.list(member.email, *self.bounds)
                except Unreadable as e:
                    self._skipped.append(Skipped(member.email, member.name, e.reason))
            self._events = events
        return self._events

    def _members(self):
        """Members on the team on some day of the window."""
        return [m for m in self.team.roster_file.roster.members
                if m.joined < self.stop and (m.left is None or m.left >= self.first)]

    def plan(self) -> AbsencePlan:
        events = self._read()
        team = self.team
        team.reload_imported()  # as the store holds them now
        schedule = team.schedule()
        desired = {member: absences_of(member, found, schedule) for member, found in events.items()}
        kept = list(team.imported)
        roster = team.roster_file.roster
        plan = AbsencePlan(plan_absences(desired, kept, self.first, self.stop, roster), list(self._skipped),
                           read=len(events))
        if plan.changes:
            self._before = kept
            plan.effects = effects(roster, holidaycal.calendar(roster.holidays), _as_saved(team, self.now), kept,
                                   plan.after(kept), plan.changes, self.now, self.stop)
        return plan

    def print_plan(self, plan: AbsencePlan, out: TextIO) -> None:
        last_week = self.window.first + timedelta(weeks=self.window.weeks - 1)
        print(f"Out of office in Google Calendar: {plan.read} member(s) read, weeks of "
              f"{self.window.first.isoformat()} to {last_week.isoformat()}", file=out)
        for skipped in plan.skipped:
            print(f"  {skipped}", file=out)
        for change in plan.changes:
            print(f"  {change}", file=out)
        for effect in plan.effects:
            print(f"  changes the rotation: {effect}", file=out)
        print(f"  {plan.summary()}", file=out)

    def dry_run(self, plan: AbsencePlan) -> str:
        return f"{plan.summary()} (dry run)"

    def refusal(self, plan: AbsencePlan) -> Refusal:  # never unsafe: nothing typed is ever removed
        return Refusal("import is unsafe", "the roster", "unsafe")

    def apply(self, plan: AbsencePlan) -> list[Applied]:
        store = self.team.store
        applied = []
        for change in plan.changes:
            a = change.absence
            try:
                if isinstance(change, Keep):
                    store.keep_imported_absence(a, self.now)
                else:
                    store.drop_imported_absence(a.member, a.event_id, self.now)
                error = None
            except (OSError, RotaError) as e:
                error = str(e)
            detail = {"event_id": a.event_id, "from": a.start.isoformat(), "to": a.end.isoformat()}
            if isinstance(change, Keep) and change.was is not None:
                detail.update(was_from=change.was.start.isoformat(), was_to=change.was.end.isoformat())
            entry = auditlog.Entry("google", f"{change.action} absence", a.member, "ok" if error is None else
                                   f"error: {error}", detail)
            applied.append(Applied(change, entry, error))
        if plan.effects and all(x.ok for x in applied):
            applied += self._announce(plan.effects)
        self.team.reload_imported()
        return applied

    def _announce(self, said: list[str]) -> list[Applied]:
        """Each effect audited, and those this run is first to claim posted
        to Slack in one message."""
        store = self.team.store
        mine = [text for text in said if store.claim_announcement(key(text, self._before), text, self.now)]
        error = None
        if mine and self.slack_url:
            from scheduler.sync import slack  # only when something is posted: slack_sdk is not free to import

            team_name = self.team.roster.name
            lines = "\n".join(f"• {_esc(text)}" for text in mine)
            text = f"*{_esc(team_name)} rotation changed* (out of office in Google Calendar)\n{lines}"
            try:
                slack.post(self.slack_url, {"text": text, "unfurl_links": False}, self.patience)
            except ServiceError as e:
                error = f"not posted to Slack ({e}); claimed, so it will not be posted again"
        applied = []
        for text in said:
            posted = text in mine and self.slack_url is not None
            result = ("ok" if error is None else f"error: {error}") if posted else (
                "ok (no SLACK_WEBHOOK_URL)" if text in mine else "ok (announced already)")
            entry = auditlog.Entry("rota", "rotation changed", None, result, {"message": text})
            applied.append(Applied(Announcement(text), entry, error if posted else None))
        return applied

    def done(self, plan: AbsencePlan, applied: list[Applied]) -> str:
        made = sum(1 for a in applied if a.ok and not isinstance(a.change, Announcement))
        told = sum(1 for a in applied if isinstance(a.change, Announcement))
        text = f"{made} of {len(plan.changes)} change(s) made ({plan.summary()})"
        return text + (f"; {told} change(s) to the rotation announced" if told else "")

    def verdict(self, plan: AbsencePlan, planned: int, applied: int, done: str | None, out: TextIO) -> SyncResult:
        if plan.changes:
            print(f"The imported absences do not match the calendars yet: {plan.summary()}; "
                  "the next run will carry on.", file=out)
            return SyncResult(1, planned, applied, f"{done}; still to do: {plan.summary()}", len(plan.skipped))
        skipped = f" ({len(plan.skipped)} member(s) skipped)" if plan.skipped else ""
        print(f"The imported absences match members' out-of-office events{skipped}.", file=out)
        summary = "the imported absences match" if done is None else done
        if plan.skipped and done is None:
            summary += f"; {len(plan.skipped)} member(s) skipped"
        return SyncResult(0, planned, applied, summary, len(plan.skipped))


def _as_saved(team: Team, now: datetime) -> Record:
    """The record with every stint begun by `now`: what applying records
    first, so that a dry run judges the same past."""
    begun = team.schedule().unrecorded(now)
    return Record({**team.record.stints, **{s.week: s for s in begun}}) if begun else team.record


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sync(team: Team, window: Window, client: OutOfOfficeClient, *, apply: bool, now: datetime, out: TextIO,
         slack_url: str | None = None, patience: Patience | None = None) -> SyncResult:
    check_enabled(team)
    system = AbsenceSync(team, window, client, now, slack_url=slack_url, patience=patience)
    return pipeline.sync(team, system, apply=apply, force=False, now=now, out=out)


def default_window(team: Team, now: datetime, start: date | None = None, weeks: int | None = None) -> Window:
    from scheduler.core import monday_of
    from scheduler.core.schedule import WEEKS_AHEAD

    today = team.schedule().local_date(now)
    return Window(monday_of(start or today), weeks or WEEKS_AHEAD)
