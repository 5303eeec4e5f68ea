"""`rota run`: everything a handoff needs, as one job to schedule.

Steps, in order, each on its own (one failing does not stop the others):

1. *record*: the stints that have begun go into the record;
2. *absences*: members' out-of-office events in Google Calendar become
   absences (with `google: {out_of_office: true}`), so that the steps after
   it publish the rotation as it now stands;
3. *zendesk*: the escalation group holds the pair on support;
4. *tickets*: last week's unresolved tickets are counted (for the notice and
   the review's description);
5. *gcal*: the shared calendar holds the rotation and meetings;
6. *notice*: the handoff notice goes to Slack, once per handoff.

A step whose system is not configured (no `zendesk:` section or
`google.calendar_id`, out-of-office import off, no SLACK_WEBHOOK_URL) is
skipped. Without `--apply` every step only says
what it would do. A run takes a lock beside the roster; a second run that
finds it taken exits at once with one line naming the holder, so cron
overlaps and two app instances never double-post or race. A run with
nothing to do prints one line.

A run has a deadline (240 s by default, well inside a five-minute
schedule): no request and no retry wait goes past it, and the steps not
started by then are reported as skipped. The time is read from the
patience's monotonic clock, so tests pass a clock in instead of waiting.
The exit code is 1 if any step failed or was cut off by the deadline.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from scheduler.publish import handoffnotice
from scheduler.core import monday_of
from scheduler.core.events import when
from scheduler.errors import RotaError, ServiceError
from scheduler.settings import Settings
from scheduler.store.base import Busy
from scheduler.sync.retry import Patience, with_timeouts
from scheduler.team import Team, as_store

NOTHING, DONE, PLANNED, SKIPPED, FAILED = "nothing to do", "done", "dry run", "skipped", "failed"
DEADLINE = 240.0  # seconds: a run every five minutes ends well before the next one starts
STUCK_AFTER = 60.0  # seconds past its deadline after which a run holding the lock looks stuck


@dataclass
class Step:
    name: str
    state: str = NOTHING
    summary: str = ""
    details: str = ""
    late: bool = False  # not started: the run's deadline had passed
    warn: bool = False  # nothing failed, but the details say something people must see


@dataclass
class Context:
    team: Team
    at: datetime
    now: datetime
    apply: bool
    settings: Settings
    patience: Patience
    zendesk_client: Callable | None = None  # factories, replaced by tests
    gcal_client: Callable | None = None
    absences_client: Callable | None = None
    unresolved_last_week: int | None = None
    _zendesk: object = None

    def zendesk(self):
        """One Zendesk client for the run (the sync and the ticket check share it)."""
        if self._zendesk is None:
            self._zendesk = self.zendesk_client(self)
        return self._zendesk


def run(store, at: datetime, now: datetime, *, apply: bool, out: TextIO, settings: Settings,
        patience: Patience | None = None, zendesk_client=None, gcal_client=None, absences_client=None,
        at_text: str | None = None, parse_at=None, deadline: float | None = None) -> int:
    """`store`: the team's `Store` (or its roster file's path).
    `at_text` (from --at), when given, is read with `parse_at` once the
    roster is loaded (its time zone decides what a local time means).
    `deadline`: seconds from now (default DEADLINE), on `patience.clock`."""
    deadline = DEADLINE if deadline is None else deadline
    patience = with_timeouts(patience, settings)
    patience.stop_at(deadline)
    store = as_store(store)
    try:
        with store.run_lock(holder={"pid": os.getpid(), "since": now.isoformat()}):
            team = Team.load(store)
            if at_text is not None:
                at = parse_at(at_text, team.schedule())
            ctx = Context(team, at, now, apply, settings, patience,
                          zendesk_client or _zendesk_client, gcal_client or _gcal_client,
                          absences_client or _absences_client)
            steps = []
            for name, fn in STEPS:
                if patience.allows(0):
                    steps.append(_guard(name, fn, ctx))
                else:
                    steps.append(Step(name, SKIPPED, f"deadline (not started within the run's {deadline:g} s; "
                                                     "the next run will do it)", late=True))
    except Busy as busy:
        return _busy(busy, now, deadline, out)
    return _report(steps, ctx, out, deadline)


def _busy(busy: Busy, now: datetime, deadline: float, out: TextIO) -> int:
    """One line naming the run that holds the lock. 0: it does the work;
    1 if it has run so far past any deadline that it looks stuck."""
    holder = busy.holder or {}
    try:
        since = datetime.fromisoformat(holder["since"])
        held = (now - since).total_seconds()
        when_text = f", since {since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, {_ago(held)}"
    except (KeyError, TypeError, ValueError):
        held, when_text = None, ""
    who = f"pid {holder['pid']}" if "pid" in holder else "a run that has not said who it is yet"
    stuck = held is not None and held > deadline + STUCK_AFTER
    tail = (f"; that is longer than a run may take ({deadline:g} s): it may be stuck, check pid {holder.get('pid')}"
            if stuck else "; it does the work, this run stops")
    print(f"rota run: another run holds {busy.path} ({who}{when_text}){tail}.", file=out)
    return 1 if stuck else 0


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{max(seconds, 0):.0f} s ago"
    return f"{seconds / 60:.0f} min ago"


def _guard(name: str, fn, ctx: Context) -> Step:
    step = Step(name)
    try:
        fn(ctx, step)
    except RotaError as e:
        step.state, step.summary = FAILED, str(e)
    except Exception as e:  # one step's bug must not stop the others; its report names it
        step.state, step.summary = FAILED, f"unexpected {type(e).__name__}: {e}"
    return step


# -- the steps ------------------------------------------------------------------------
def _record(ctx: Context, step: Step) -> None:
    pending = ctx.team.schedule().unrecorded(ctx.at)
    if not pending:
        step.summary = "every begun stint is recorded"
        return
    local = ctx.team.schedule().local  # as people read them, and never a week before the start
    if len(pending) <= 3:
        weeks = ", ".join(f"{ctx.team.roster.name_of(s.member)} from {when(local(s.handoff))}" for s in pending)
    else:
        weeks = f"stints begun {when(local(pending[0].handoff))} to {when(local(pending[-1].handoff))}"
    if not ctx.apply:
        step.state, step.summary = PLANNED, f"would record {len(pending)} stint(s) ({weeks})"
        return
    ctx.team.record_begun(ctx.at, ctx.now)
    step.state, step.summary = DONE, f"recorded {len(pending)} stint(s) ({weeks})"


def _absences(ctx: Context, step: Step) -> None:
    google = ctx.team.roster_file.roster.google
    if google is None or not google.out_of_office:  # before importing Google's libraries: most teams never do
        # Off unless a roster asks for it: not a system left unconfigured, so not listed as skipped.
        step.summary = "out-of-office import is off (google.out_of_office)"
        return
    from scheduler.sync.google import absences

    window = ctx.team.schedule().coming(ctx.at)
    buffer = io.StringIO()
    try:
        with ctx.absences_client(ctx) as client:
            result = absences.sync(ctx.team, window, client, apply=ctx.apply, now=ctx.now, out=buffer,
                                   slack_url=ctx.settings.slack_webhook_url, patience=ctx.patience)
    finally:
        ctx.team.reload_imported()  # the later steps publish the rotation as it now stands
    step.details = buffer.getvalue()
    _from_sync(step, result, ctx.apply)
    step.warn = result.skipped > 0  # members whose calendar was not read: named once per run


def _zendesk(ctx: Context, step: Step) -> None:
    from scheduler.sync.zendesk import sync as zendesksync

    if ctx.team.roster.zendesk is None:
        step.state, step.summary = SKIPPED, "no zendesk: section in the roster"
        return
    buffer = io.StringIO()
    client = ctx.zendesk()
    result = zendesksync.sync(ctx.team, ctx.at, client, apply=ctx.apply, force=False, now=ctx.now, out=buffer)
    step.details = buffer.getvalue()
    _from_sync(step, result, ctx.apply)


def _tickets(ctx: Context, step: Step) -> None:
    from scheduler.sync.zendesk import tickets as ticketcheck

    if ctx.team.roster.zendesk is None:
        step.state, step.summary = SKIPPED, "no zendesk: section in the roster"
        return
    report = ticketcheck.check(ctx.team, ctx.zendesk(), ctx.at)
    ctx.unresolved_last_week = report.unresolved_last_week
    monday = monday_of(ctx.team.schedule().local_date(ctx.at))
    facts = (f"{len(report.breaches)} ticket(s) breaking the rules, "
             f"{report.unresolved_last_week} unresolved from last week")
    stored = ctx.team.store.ticket_counts().get(monday.isoformat(), {})
    if stored.get("unresolved_last_week") == report.unresolved_last_week:
        step.summary = facts
    elif not ctx.apply:
        step.state, step.summary = PLANNED, f"{facts} (would keep the count for this week's review)"
    else:
        ctx.team.store.keep_ticket_count(monday, report.unresolved_last_week, ctx.now)
        ctx.team = Team.load(ctx.team.store)  # the review description now carries the count
        step.state, step.summary = DONE, f"{facts} (kept for this week's review)"
    if report.warnings:
        step.details = "\n".join(report.warnings) + "\n"


def _gcal(ctx: Context, step: Step) -> None:
    from scheduler.sync.google import sync as gcalsync

    if ctx.team.roster.google is None or ctx.team.roster.google.calendar_id is None:
        step.state, step.summary = SKIPPED, "no google.calendar_id in the roster"
        return
    window = ctx.team.schedule().coming(ctx.at)
    buffer = io.StringIO()
    with ctx.gcal_client(ctx) as client:
        result = gcalsync.sync(ctx.team, window, client, apply=ctx.apply, force=False,
                               now=ctx.now, out=buffer)
    step.details = buffer.getvalue()
    _from_sync(step, result, ctx.apply)


def _notice(ctx: Context, step: Step) -> None:
    url = ctx.settings.slack_webhook_url
    if not url:
        step.state, step.summary = SKIPPED, "SLACK_WEBHOOK_URL is not set"
        return
    schedule = ctx.team.schedule()
    store = ctx.team.store
    week = handoffnotice.due(schedule, ctx.at, store.posted_notices())
    if week is None:
        step.summary = "no handoff notice due"
        return
    notice = handoffnotice.compose(
        schedule, week, page_url=ctx.settings.public_url, unresolved_last_week=ctx.unresolved_last_week,
        zendesk_group=str(ctx.team.roster.zendesk.group) if ctx.team.roster.zendesk else None)
    if not ctx.apply:
        step.state, step.summary = PLANNED, f"would post the notice for the handoff of {when(week.handoff)}"
        step.details = notice.text + "\n"
        return
    from scheduler.sync import slack  # only when a notice goes out: slack_sdk is not free to import

    try:
        slack.post(url, notice.payload(), ctx.patience)
    except slack.SlackUncertain as e:
        # Never risk a second copy: mark it, and say so.
        store.claim_notice(week.monday, week.handoff, ctx.now, uncertain=True)
        raise ServiceError(f"{e}: it may have been posted; rota will not post it again, check the channel") from None
    store.claim_notice(week.monday, week.handoff, ctx.now)
    step.state, step.summary = DONE, f"posted the notice for the handoff of {when(week.handoff)}"


STEPS = [("record", _record), ("absences", _absences), ("zendesk", _zendesk), ("tickets", _tickets), ("gcal", _gcal),
         ("notice", _notice)]


def _from_sync(step: Step, result, applied: bool) -> None:
    if result.planned == 0 and result.ok:
        step.summary = result.summary
    elif not applied and result.planned and "refused" not in result.summary:
        step.state, step.summary = PLANNED, result.summary
    elif result.ok:
        step.state, step.summary = DONE, result.summary
    else:
        step.state, step.summary = FAILED, result.summary


def _zendesk_client(ctx: Context):
    from scheduler.sync.zendesk import client as zendesk

    return zendesk.client_from_settings(ctx.settings, ctx.team.roster.zendesk.url, ctx.patience)


def _absences_client(ctx: Context):
    from scheduler.sync.google import absences

    return absences.client_from_settings(ctx.settings, ctx.patience)


def _gcal_client(ctx: Context):
    from scheduler.sync.google import sync as gcalsync

    return gcalsync.client_from_settings(ctx.team, ctx.settings, ctx.patience)


# -- the report -------------------------------------------------------------------------
def _report(steps: list[Step], ctx: Context, out: TextIO, deadline: float) -> int:
    local = ctx.team.schedule().local(ctx.at)
    failed = [s for s in steps if s.state == FAILED]
    late = [s for s in steps if s.late]
    if not late and all(s.state in (NOTHING, SKIPPED) and not s.warn for s in steps):
        skipped = [s.name for s in steps if s.state == SKIPPED]
        tail = f" (skipped: {', '.join(skipped)})" if skipped else ""
        print(f"rota run at {when(local)}: nothing to do{tail}.", file=out)
        return 0
    mode = "applying changes" if ctx.apply else "dry run: nothing changed, --apply to make the changes"
    print(f"rota run at {when(local)} ({mode}):", file=out)
    for s in steps:
        print(f"  {s.name:8} {s.state}: {s.summary}", file=out)
        if s.details and (s.state in (DONE, PLANNED, FAILED) or s.warn):
            for line in s.details.rstrip("\n").splitlines():
                print(f"             {line}", file=out)
    if failed:
        print(f"{len(failed)} step(s) failed: {', '.join(s.name for s in failed)}.", file=out)
    if late:
        print(f"{len(late)} step(s) not started before the run's deadline ({deadline:g} s): "
              f"{', '.join(s.name for s in late)}.", file=out)
    return 1 if failed or late else 0
