"""`rota sync zendesk`: the escalation group holds exactly the pair on support.

One run, step by step (docs/sync.md walks through an example):

1. *Desired*: who is on support at `at`, overrides and absences applied.
2. *Actual*: the group's memberships, with their users' emails and roles.
3. *Accounts*: the Zendesk user of each person on support (their
   `zendesk_id`, else an exact email match; people already in the group
   need no lookup).
4. *Plan*: `sync.zendesk.plan.plan_group` decides what to add and remove.

The rest is the pipeline every sync shares (`scheduler.sync.pipeline`): dry
run by default; with `--apply`, a plan that would empty the group needs
`--force`, adds go first, then removes, each appended to the audit log, and
the group is read again to verify. `GroupSync` supplies the Zendesk parts.
"""

from __future__ import annotations

from datetime import datetime
from typing import TextIO

from scheduler.store import auditlog
from scheduler.sync import pipeline
from scheduler.sync.pipeline import Applied, Refusal
from scheduler.core.events import when
from scheduler.sync.zendesk.plan import GroupPlan, Wanted, plan_group
from scheduler.core.model import ZendeskSettings
from scheduler.sync.syncresult import SyncResult
from scheduler.team import Team
from scheduler.errors import ConfigError, ServiceError
from scheduler.sync.zendesk.client import Group, ZendeskClient

ACTOR = "rota sync zendesk"
PAST = {"add": "added", "remove": "removed"}


def wanted_at(team: Team, at: datetime) -> list[tuple[str, str]]:
    """(email, why) of each person on support at `at`."""
    duty = team.schedule().duty(at)
    if duty is None:
        return []
    found = []
    for slot in duty.slots:
        if slot.member is None:
            continue
        why = f"{slot.role}, week {slot.stint_week} of their stint"
        if slot.override is not None:
            why = f"covering for {team.roster.name_of(slot.scheduled)}"
        found.append((slot.member, why))
    return found


def settings_of(team: Team) -> ZendeskSettings:
    if team.roster.zendesk is None:
        raise ConfigError(f"{team.path}: the roster has no zendesk: section (url, group)")
    return team.roster.zendesk


def make_plan(team: Team, at: datetime, client: ZendeskClient) -> tuple[Group, GroupPlan]:
    roster = team.roster
    settings = settings_of(team)
    group = client.find_group(settings.group)
    memberships = client.memberships(group.id)
    by_id = {m.account.id: m.account for m in memberships}
    by_email = {m.account.email: m.account for m in memberships if m.account.email}

    wanted = []
    for email, why in wanted_at(team, at):
        member = roster.member(email)
        zendesk_id = member.zendesk_id if member else None
        if zendesk_id is not None:
            account = by_id.get(zendesk_id) or client.user(zendesk_id)
        else:
            account = by_email.get(email) or client.find_user(email)
        wanted.append(Wanted(email, roster.name_of(email), account, why))

    owned_emails = {m.email for m in roster.members}
    owned_emails |= {s.member for s in team.record.stints.values() if s.member}
    owned_ids = {m.zendesk_id for m in roster.members if m.zendesk_id is not None}
    plan = plan_group(group.name, wanted, memberships, owned_emails, owned_ids, settings.exclusive)
    return group, plan


class GroupSync:
    """The Zendesk group as a system of the sync pipeline."""

    actor = ACTOR

    def __init__(self, team: Team, at: datetime, client: ZendeskClient):
        self.team, self.at, self.client = team, at, client
        self.recorded_until = at
        self.group: Group | None = None

    def plan(self) -> GroupPlan:
        self.group, plan = make_plan(self.team, self.at, self.client)
        return plan

    def print_plan(self, plan: GroupPlan, out: TextIO) -> None:
        print_plan(self.group, plan, self.at, self.team, out)

    def dry_run(self, plan: GroupPlan) -> str:
        return f"{len(plan.changes)} change(s) planned (dry run)"

    def refusal(self, plan: GroupPlan) -> Refusal:
        return Refusal("plan would leave the group empty", "the roster", "the plan would leave the group empty")

    def apply(self, plan: GroupPlan) -> list[Applied]:
        applied = []
        for change in plan.changes:  # adds first: the group never holds fewer than it must
            action = change.data()
            detail = {"group": self.group.id, **action}
            try:
                if action["action"] == "add":
                    self.client.add(self.group.id, change.account.id)
                else:
                    self.client.remove(change.membership.id)
            except ServiceError as e:
                entry = auditlog.Entry("zendesk", action["action"], action["email"], f"error: {e}", detail)
                applied.append(Applied(change, entry, str(e)))
            else:
                applied.append(Applied(change, auditlog.Entry("zendesk", action["action"], action["email"], "ok", detail)))
        return applied

    def done(self, plan: GroupPlan, applied: list[Applied]) -> str:
        return ", ".join(f"{PAST[a.entry.action]} {a.entry.who}" for a in applied if a.ok) or "no change made"

    def verdict(self, plan: GroupPlan, planned: int, applied: int, done: str | None, out: TextIO) -> SyncResult:
        if plan.matches:
            print("The group matches the pair on support.", file=out)
            return SyncResult(0, planned, applied, "the group matches" if done is None else done)
        reasons = [str(p) for p in plan.problems] + [str(c) for c in plan.changes]
        print("The group does not match: " + "; ".join(reasons), file=out)
        return SyncResult(1, planned, applied, "the group does not match: " + "; ".join(reasons))


def print_plan(group: Group, plan: GroupPlan, at: datetime, team: Team, out: TextIO) -> None:
    local = team.schedule().local(at)
    print(f"Zendesk group {group.name!r} (id {group.id}) at {when(local)}:", file=out)
    for m in plan.keep:
        print(f"  = keep {m.account.name or m.account.email} <{m.account.email}>", file=out)
    for line in [*plan.changes, *plan.problems]:
        print(f"  {line}", file=out)
    if plan.untouched:
        print(f"  ({len(plan.untouched)} member(s) not on the roster left alone)", file=out)
    if plan.matches:
        print("  nothing to change", file=out)


def sync(team: Team, at: datetime, client: ZendeskClient, *, apply: bool, force: bool,
         now: datetime, out: TextIO) -> SyncResult:
    return pipeline.sync(team, GroupSync(team, at, client), apply=apply, force=force, now=now, out=out)
