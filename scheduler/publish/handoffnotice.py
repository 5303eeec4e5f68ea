"""The handoff notice: posted to the team's Slack once per handoff.

It says who rotates in, who continues and who rotates out, the gaps and
absences of the coming two weeks, last week's unresolved tickets, where the
rota page is, and the incoming person's first-week checklist.

"Once per handoff" is kept in the team's store (`Store.claim_notice`): a
handoff is marked posted right after Slack accepts the message (under
`rota run`'s lock, so two runs never both post). When Slack's answer is
lost it is marked too, as uncertain: a missing notice is
reported, a duplicate could not be taken back. A notice is due from
its handoff for `DUE_FOR`; a job that was down longer than that does not
post a stale one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from scheduler.core import Schedule
from scheduler.core.calendar import day_of
from scheduler.core.events import support_name, when
from scheduler.core.meetings import daily_triage
from scheduler.core.rotation import Week

DUE_FOR = timedelta(hours=48)
HORIZON = timedelta(days=14)


@dataclass(frozen=True)
class Notice:
    week: Week
    text: str
    blocks: list[dict]

    def payload(self) -> dict:
        return {"text": self.text, "blocks": self.blocks, "unfurl_links": False}


def due(schedule: Schedule, now: datetime, posted: set[date]) -> Week | None:
    """The handoff whose notice should go out now, if any."""
    index = schedule.week_at(now)
    if index < 0:
        return None
    week = schedule.week(index)
    if week.monday in posted or now - week.handoff > DUE_FOR:
        return None
    return week


def compose(schedule: Schedule, week: Week, *, page_url: str | None = None,
            unresolved_last_week: int | None = None, zendesk_group: str | None = None) -> Notice:
    roster, name = schedule.roster, schedule.roster.name_of
    incoming, continuing = week.incoming.member, week.continuing.member
    outgoing = week.outgoing.member if week.outgoing else None
    lines = [f"*{_esc(support_name(roster.name))} handoff*, {when(week.handoff)}"]
    if week.stays_on:
        lines.append(f"• Staying on: *{_esc(name(incoming))}*, for another two-week stint")
    else:
        lines.append(f"• Rotating in: *{_esc(name(incoming))}*"
                     + ("" if incoming else " (a gap: nobody could take this stint)"))
    lines.append(f"• Continuing: *{_esc(name(continuing))}*" + (" (carries last week's context)" if continuing else ""))
    if week.outgoing is not None and not week.stays_on:
        lines.append(f"• Rotating out: {_esc(name(outgoing))}" + (", thank you!" if outgoing else ""))

    ahead = _ahead(schedule, week)
    lines.append("*The coming two weeks*")
    if ahead:
        lines.extend(f"• {_esc(item)}" for item in ahead)
    else:
        lines.append("• No gaps, no absences.")
    if unresolved_last_week is not None:
        lines.append(f"*Unresolved tickets from last week:* {unresolved_last_week}")
    if page_url:
        lines.append(f"Rota page: <{page_url}|{_esc(roster.name)} rotation>")

    if incoming and not week.stays_on:  # someone serving on needs no first-week checklist
        first_triage = _first_triage(schedule, week)
        checklist = [
            "Join the team's support channels and say hello.",
            f"Check you are in the Zendesk group {_esc(zendesk_group or roster.name)!r} "
            "(rota adds you at the handoff).",
            f"Lead the first daily triage: {when(first_triage)}." if first_triage else "Lead the first daily triage.",
            f"Ask {_esc(name(continuing))} about last week's open tickets." if continuing else
            "Read last week's open tickets: nobody continues from last week.",
        ]
        lines.append(f"*First-week checklist for {_esc(name(incoming))}*")
        lines.extend(f"{i}. {item}" for i, item in enumerate(checklist, start=1))
    text = "\n".join(lines)
    return Notice(week, text, [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}])


def _ahead(schedule: Schedule, week: Week) -> list[str]:
    start, name = day_of(week.handoff), schedule.roster.name_of
    stop = start + HORIZON
    notes = schedule.notes(start, stop)
    found = []
    for gap in notes.gaps:
        who = f"{name(gap.scheduled)}'s slot" if gap.scheduled else "an unfilled stint"
        found.append(f"gap on {gap.day:%a %d %b}: {who} ({gap.reason})")
    for member in schedule.roster.members:
        for a in member.away:
            if a.start < stop and a.end >= start:
                note = f" ({a.note})" if a.note else ""
                found.append(f"{member.name} {a.label} {a.start:%a %d %b} to {a.end:%a %d %b}{note}")
    for o in notes.covers:
        found.append(f"{name(o.cover)} covers for {name(o.replace)} {o.start:%a %d %b} to {o.end:%a %d %b}")
    return found


def _first_triage(schedule: Schedule, week: Week):
    first = day_of(week.handoff)
    meetings = daily_triage(schedule.coverage, first, first + timedelta(days=7))
    return next((m.start for m in meetings if m.start >= week.handoff), None)


def _esc(text: str) -> str:
    """Slack mrkdwn: &, < and > are control characters (links, mentions)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
