"""`rota tickets`: the support groups' tickets that break the team's rules.

Reads the unresolved tickets of each group in `zendesk.ticket_groups`
(default: "Tier 1" and the escalation group) and applies the rules of
`sync.zendesk.ticketrules`. It also counts the tickets from last week that are still
unresolved, for the handoff notice and the weekly review; `rota run` keeps
that count in ``NAME.tickets.json`` so that the feeds and the calendar can
show it in the review's description.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduler.core import monday_of
from scheduler.core.events import when
from scheduler.sync.zendesk.ticketrules import Breach, Ticket, breaches, unresolved_between
from scheduler.team import Team
from scheduler.sync.zendesk.client import GroupNotFound, ZendeskClient
from scheduler.sync.zendesk.sync import settings_of


@dataclass
class TicketReport:
    at: datetime
    groups: list[str] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    unresolved_last_week: int = 0
    warnings: list[str] = field(default_factory=list)

    def data(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "groups": self.groups,
            "unresolved_last_week": self.unresolved_last_week,
            "warnings": self.warnings,
            "breaches": [
                {"id": b.ticket.id, "subject": b.ticket.subject, "status": b.ticket.status,
                 "group": b.ticket.group, "assignee": b.ticket.assignee, "rule": b.rule, "message": b.message,
                 "waiting_since": b.since.isoformat(), "deadline": b.deadline.isoformat(),
                 "waited_hours": round(b.waited.total_seconds() / 3600, 1), "url": b.ticket.url}
                for b in self.breaches
            ],
        }


def check(team: Team, client: ZendeskClient, at: datetime) -> TicketReport:
    settings = settings_of(team)
    schedule = team.schedule()
    report = TicketReport(schedule.local(at))
    for name in settings.checked_groups():
        try:
            group = client.find_group(name)
        except GroupNotFound as e:
            report.warnings.append(f"group {name!r} skipped: {e}")
            continue
        report.groups.append(group.name)
        report.tickets.extend(client.unresolved_tickets(group))
    report.breaches = breaches(report.tickets, schedule.calendar, at)
    start, end = last_week(team, at)
    report.unresolved_last_week = len(unresolved_between(report.tickets, start, end))
    return report


def last_week(team: Team, at: datetime) -> tuple[datetime, datetime]:
    """Monday 00:00 to Monday 00:00, local, of the calendar week before `at`'s."""
    cal = team.schedule().calendar
    this_monday = monday_of(cal.local_date(at))
    return cal.day_start(this_monday - timedelta(days=7)), cal.day_start(this_monday)


def text(report: TicketReport) -> str:
    out = [f"{w}" for w in report.warnings]
    if not report.breaches:
        out.append(f"No ticket breaks the support rules as of {when(report.at)} "
                   f"({', '.join(report.groups) or 'no groups'}).")
    else:
        out.append(f"{len(report.breaches)} ticket(s) break the support rules as of {when(report.at)}:")
        for b in report.breaches:
            t = b.ticket
            who = t.assignee or "unassigned"
            out.append(f"  #{t.id} {t.subject!r} ({t.group}, {t.status}, {who}): {b.message}; "
                       f"waiting {_duration(b.waited)}")
    out.append(f"Unresolved tickets from last week: {report.unresolved_last_week}.")
    return "\n".join(out) + "\n"


def _duration(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if days else f"{hours} h"
