"""The team's two meetings: daily triage and the weekly review.

* Daily triage: every business day at `meetings.daily_triage.time`, attended
  by the pair on support when it starts (overrides applied).
* Weekly review: on every handoff day at `meetings.weekly_review.time`,
  attended by the incoming, continuing and outgoing people.

Times are local wall-clock, so both stay at their local time across DST.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pendulum

from scheduler.core.calendar import day_of
from scheduler.core.coverage import Coverage

TRIAGE = "triage"
REVIEW = "review"


@dataclass(frozen=True)
class Occurrence:
    kind: str
    day: date
    start: pendulum.DateTime
    end: pendulum.DateTime
    attendees: tuple[str, ...]  # emails, in role order, no one twice
    week: int | None = None  # the handoff week, for reviews


def daily_triage(coverage: Coverage, first: date, stop: date) -> list[Occurrence]:
    """Triage meetings on the business days from `first` up to `stop`."""
    cal, meeting = coverage.calendar, coverage.roster.daily_triage
    found = []
    for day in cal.business_days(max(first, day_of(coverage.begins)), stop):
        start = cal.local(day, meeting.at)
        duty = coverage.at(start)
        if duty is None:
            continue
        found.append(Occurrence(TRIAGE, day, start, start + timedelta(minutes=meeting.minutes), tuple(duty.members)))
    return found


def weekly_review(coverage: Coverage, first_week: int, stop_week: int) -> list[Occurrence]:
    """Review meetings on the handoff days of weeks `first_week` up to `stop_week`."""
    cal, meeting, rotation = coverage.calendar, coverage.roster.weekly_review, coverage.rotation
    found = []
    for week in rotation.weeks(first_week, stop_week):
        day = day_of(week.handoff)
        start = cal.local(day, meeting.at)
        # The new pair, even when the review is set before the handoff time.
        duty = coverage.at(max(start, week.handoff))
        attendees = list(duty.members) if duty else []
        outgoing = week.outgoing.member if week.outgoing else None
        if outgoing and outgoing not in attendees and _present(coverage, outgoing, day):
            attendees.append(outgoing)
        found.append(Occurrence(REVIEW, day, start, start + timedelta(minutes=meeting.minutes), tuple(attendees), week.index))
    return found


def _present(coverage: Coverage, email: str, day: date) -> bool:
    member = coverage.roster.member(email)
    if member is None:
        return False  # removed from the roster since: nobody to invite
    return not member.is_away(day) and member.off_team(day) is None
