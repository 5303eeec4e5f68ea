"""`rota sync zendesk`: the escalation group holds exactly the pair on support.

One run, step by step (docs/sync.md walks through an example):

1. *Desired*: who is on support at `at`, overrides and absences applied.
2. *Actual*: the group's memberships, with their users' emails and roles.
3. *Accounts*: the Zendesk user of each person on support (their
   `zendesk_id`, else an exact email match; people already in the group
   need no lookup).
4. *Plan*: `sync.zendesk.plan.plan_group` decides what to add and remove.
5. *Dry run* by default: the plan is printed and nothing changes. With
   `--apply`: a plan that would empty the group needs `--force`; adds go
   first, then removes, each appended to the audit log; the stints that have
   begun are recorded (before planning, so the plan stands on them).
6. *Verify*: the group is read again; exit 0 only when it matches.

Any partial state (a crash between an add and a remove, a 429 storm) is
simply the "actual" of the next run, which converges from there.
"""

from __future__ import annotations

from datetime import datetime
from typing import TextIO

from scheduler.store import auditlog
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


def print_plan(group: Group, plan: GroupPlan, at: datetime, team: Team, out: TextIO) -> None:
    local = team.schedule().calendar.to_local(at)
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
    if apply:
        team.record_begun(at, now)  # first, so that the plan stands on a fixed past
    group, plan = make_plan(team, at, client)
    print_plan(group, plan, at, team, out)
    planned = len(plan.changes)
    if not plan.changes:
        return _verdict(plan, out, planned, 0, "the group matches")
    if not apply:
        print(f"Dry run: {planned} change(s) not made. Run with --apply to make them.", file=out)
        return SyncResult(1, planned, 0, f"{planned} change(s) planned (dry run)")
    if plan.empties_group and not force:
        print("Refused: this plan would leave the group empty. Check the roster, or run with --force.", file=out)
        return SyncResult(1, planned, 0, "refused: the plan would leave the group empty")

    entries, failures = [], []
    for change in plan.changes:  # adds first: the group never holds fewer than it must
        action = change.data()
        try:
            if action["action"] == "add":
                client.add(group.id, change.account.id)
            else:
                client.remove(change.membership.id)
            entries.append(auditlog.Entry("zendesk", action["action"], action["email"], "ok",
                                          {"group": group.id, **action}))
        except ServiceError as e:
            failures.append(f"{change}: {e}")
            entries.append(auditlog.Entry("zendesk", action["action"], action["email"], f"error: {e}",
                                          {"group": group.id, **action}))
    team.store.append_audit(entries, actor=ACTOR, now=now)
    for failure in failures:
        print(f"  failed: {failure}", file=out)

    done = ", ".join(f"{PAST[e.action]} {e.who}" for e in entries if e.result == "ok")
    _, after = make_plan(team, at, client)
    return _verdict(after, out, planned, len(entries) - len(failures), done or "no change made")


def _verdict(plan: GroupPlan, out: TextIO, planned: int, applied: int, summary: str) -> SyncResult:
    if plan.matches:
        print("The group matches the pair on support.", file=out)
        return SyncResult(0, planned, applied, summary)
    reasons = [str(p) for p in plan.problems] + [str(c) for c in plan.changes]
    print("The group does not match: " + "; ".join(reasons), file=out)
    return SyncResult(1, planned, applied, "the group does not match: " + "; ".join(reasons))
