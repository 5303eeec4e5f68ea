"""Every rota sync, written once (docs/sync.md walks one through).

1. *Record*: with `--apply`, the stints that have begun are recorded first,
   so that the plan stands on a past that can no longer change.
2. *Plan*: the system reads what the outside system holds and its pure plan
   decides what to change; the plan is printed.
3. Nothing to change: the verdict, exit 0 when the system matches.
4. *Dry run* (no `--apply`): nothing changes, exit 1.
5. *Safety*: a plan that breaks its system's safety limit (`Plan.unsafe`:
   emptying a Zendesk group, deleting more than a quarter of the events
   rota keeps in a calendar window) is refused unless `--force`.
6. *Apply*: the system makes the changes and says how each went; failures
   are printed and every change, done or failed, goes to the audit log.
7. *Verify*: the system is read and planned again; the verdict says whether
   it now matches (exit 0) or what is left (exit 1).

Each system supplies only what differs: how to plan, print and apply, and
its words for the outcome (the `System` protocol below). Any partial state (a
crash half-way, a rate-limit storm) is simply the "actual" of the next run,
which converges from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TextIO

from scheduler.store import auditlog
from scheduler.sync.syncresult import SyncResult
from scheduler.team import Team


class Plan(Protocol):
    """A system's pure plan: its changes, and whether it breaks the
    system's safety limit (then it needs --force)."""

    @property
    def changes(self) -> Sequence: ...

    @property
    def unsafe(self) -> bool: ...


@dataclass(frozen=True)
class Refusal:
    """Why an unsafe plan is refused, in the system's words: `said` follows
    "Refused: this ", `check` says what to look at, `summary` is the result's
    one line (after "refused: ")."""

    said: str
    check: str
    summary: str


@dataclass(frozen=True)
class Applied:
    """One change as it went: its audit log entry, and why it failed (None: done)."""

    change: object
    entry: auditlog.Entry
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class System(Protocol):
    actor: str  # signs the audit log entries
    recorded_until: datetime  # the stints begun by then are recorded before planning

    def plan(self) -> Plan: ...

    def print_plan(self, plan: Plan, out: TextIO) -> None: ...

    def dry_run(self, plan: Plan) -> str:
        """The result's summary when nothing was changed for want of --apply."""

    def refusal(self, plan: Plan) -> Refusal: ...

    def apply(self, plan: Plan) -> list[Applied]: ...

    def done(self, plan: Plan, applied: list[Applied]) -> str:
        """One line: what the changes made did."""

    def verdict(self, plan: Plan, planned: int, applied: int, done: str | None, out: TextIO) -> SyncResult:
        """Print whether `plan` (planned after applying, or the first one when
        it had nothing to change, `done` None) shows the system matching."""


def sync(team: Team, system: System, *, apply: bool, force: bool, now: datetime, out: TextIO) -> SyncResult:
    if apply:
        team.record_begun(system.recorded_until, now)  # first, so that the plan stands on a fixed past
    plan = system.plan()
    system.print_plan(plan, out)
    planned = len(plan.changes)
    if not plan.changes:
        return system.verdict(plan, 0, 0, None, out)
    if not apply:
        print(f"Dry run: {planned} change(s) not made. Run with --apply to make them.", file=out)
        return SyncResult(1, planned, 0, system.dry_run(plan))
    if plan.unsafe and not force:
        refusal = system.refusal(plan)
        print(f"Refused: this {refusal.said}. Check {refusal.check}, or run with --force.", file=out)
        return SyncResult(1, planned, 0, f"refused: {refusal.summary}")

    applied = system.apply(plan)
    for a in applied:
        if not a.ok:
            print(f"  failed: {a.change}: {a.error}", file=out)
    team.store.append_audit([a.entry for a in applied], actor=system.actor, now=now)
    made = sum(1 for a in applied if a.ok)
    return system.verdict(system.plan(), planned, made, system.done(plan, applied), out)
