"""Is the load fair? Each member's share of support over a span of days.

Definitions (the README's "The fairness report" says the same for people):

* A **support day** is a calendar day on which a member holds one of the two
  slots at the day's handoff time, overrides applied: the pair on support is
  on from handoff to handoff, weekends and holidays included, so every
  calendar day counts (a stint is 14 of them, 13 when a holiday moved its
  first handoff to Tuesday). A day on which an override puts someone else in
  a member's slot is the cover's support day, not theirs; a day on which the
  slot has nobody (away inside a running stint, no cover) is nobody's.
* Of those, **weekend days** fall on a Saturday or Sunday and **holiday
  days** on a public holiday from Monday to Friday, so that business days,
  weekend days and holiday days add up to the support days.
* **Stints**: stints of the member that begin in the span (the rotation's
  first, one-week stint included). **Holiday handoffs**: handoffs in the
  span that a public holiday moved off Monday, at which the member rotated
  in or out (once when they did both).
* **Covering** (for someone) and **covered** (by someone): support days an
  override gave the member in someone else's slot, and days of the member's
  own slots that an override gave someone else; the weeks are the rotation
  weeks (handoff to handoff) with at least one such day.
* **Days of membership**: days of the span from the rotation's first handoff,
  `joined` and the span's first day, to the last of the span and `left`
  (inclusive). The team's **rate** is all members' support days over all
  their days of membership; a member's **expected** share is that rate times
  their days of membership, and the **difference** is their support days
  minus it: someone who joined in June is expected to have served since June
  only. People in the record but no longer on the roster have no days of
  membership: their days are listed but neither counted in the rate nor
  compared with it.

Days up to `now` come from the record (the schedule takes recorded stints
as they were), later days from the rotation. Pure: `now` is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from scheduler.core.calendar import DAY, day_of, days

STINT_DAYS = 14  # one stint, in support days: what `rota check` allows a share to drift


@dataclass
class Counts:
    """Support days and their kinds, for one member over some span."""

    support: int = 0
    weekend: int = 0
    holiday: int = 0
    covering: int = 0
    covered: int = 0

    @property
    def business(self) -> int:
        return self.support - self.weekend - self.holiday


@dataclass
class Share:
    """One member's figures over the span."""

    email: str
    name: str
    member_days: int | None  # None: not on the roster any more (only in the record)
    days: Counts = field(default_factory=Counts)
    past_support: int = 0  # support days up to now, from the record
    stints: int = 0
    holiday_handoffs: int = 0
    covering_weeks: int = 0
    covered_weeks: int = 0
    expected: float | None = None

    @property
    def difference(self) -> float | None:
        return None if self.expected is None else self.days.support - self.expected


@dataclass(frozen=True)
class Month:
    """One member's support days in one calendar month of the span."""

    email: str
    name: str
    first: date  # the month's first day in the span
    last: date  # its last day in the span
    days: Counts


@dataclass(frozen=True)
class Fairness:
    first: date
    last: date  # inclusive
    today: date
    rate: float  # support days per day of membership, over the team
    shares: list[Share]  # roster order, then people only the record names
    months: list[Month]  # by member as in `shares`, then by month
    unrecorded: int  # weeks begun by now that the record lacks (taken from the roster)
    on_support: dict[date, frozenset[str]] = field(repr=False, default_factory=dict)


def add_months(day: date, months: int) -> date:
    """The same day `months` months later (or earlier), or the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # unreachable: every month has 28 days


def fairness(schedule, first: date, last: date, now: datetime) -> Fairness:
    """The shares of `schedule`'s members from `first` to `last` (inclusive)."""
    roster, calendar, rotation = schedule.roster, schedule.calendar, schedule.rotation
    today = calendar.local_date(now)
    begins = day_of(schedule.begins)
    shares = {m.email: Share(m.email, m.name, _member_days(m, max(first, begins), last)) for m in roster.members}
    months: dict[tuple[str, tuple[int, int]], Counts] = {}  # (email, (year, month))
    past_support: dict[str, int] = {}
    coverage, is_business_day = schedule.coverage, calendar.is_business_day
    weeks_covering: dict[str, set[int]] = {}
    weeks_covered: dict[str, set[int]] = {}
    on_support: dict[date, frozenset[str]] = {}

    def share(email: str) -> Share:
        found = shares.get(email)
        if found is None:
            found = shares[email] = Share(email, roster.name_of(email), None)
        return found

    start = max(first, begins)
    unrecorded = 0
    if start <= last:
        first_week = max(rotation.week_at(calendar.local(start, calendar.handoff_time)), 0)
        week = first_week
        while True:
            handoff = rotation.handoff(week)
            handoff_day = day_of(handoff)
            if handoff_day > last:
                break
            if handoff_day >= first:
                if handoff <= now and rotation.record.get(calendar.monday(week)) is None:
                    unrecorded += 1
                _count_handoff(rotation.week(week), share)
            stop = day_of(rotation.handoff(week + 1))
            for day in days(max(handoff_day, start), min(stop, last + DAY)):
                weekend = day.weekday() >= 5
                holiday = not weekend and not is_business_day(day)
                month = (day.year, day.month)
                past = day <= today
                people = []
                for slot in coverage.slots(week, day):
                    email = slot.member
                    if email is None:
                        continue
                    people.append(email)
                    c = months.get((email, month)) or months.setdefault((email, month), Counts())
                    c.support += 1
                    c.weekend += weekend
                    c.holiday += holiday
                    if past:
                        past_support[email] = past_support.get(email, 0) + 1
                    if slot.override is not None:
                        c.covering += 1
                        weeks_covering.setdefault(email, set()).add(week)
                        if slot.scheduled is not None:
                            scheduled = slot.scheduled
                            months.setdefault((scheduled, month), Counts()).covered += 1
                            weeks_covered.setdefault(scheduled, set()).add(week)
                on_support[day] = frozenset(people)
            week += 1
    for (email, _), c in months.items():
        d = share(email).days
        d.support += c.support
        d.weekend += c.weekend
        d.holiday += c.holiday
        d.covering += c.covering
        d.covered += c.covered
    for email, n in past_support.items():
        shares[email].past_support = n
    for email, weeks in weeks_covering.items():
        shares[email].covering_weeks = len(weeks)
    for email, weeks in weeks_covered.items():
        shares[email].covered_weeks = len(weeks)

    members = [s for s in shares.values() if s.member_days is not None]
    total_days = sum(s.member_days for s in members)
    rate = sum(s.days.support for s in members) / total_days if total_days else 0.0
    for s in members:
        s.expected = rate * s.member_days
    ordered = list(shares.values())
    return Fairness(first, last, today, rate, ordered, _months(ordered, months, roster, first, last, begins),
                    unrecorded, on_support)


def _count_handoff(week, share) -> None:
    for stint in (week.incoming,) if week.index else (week.incoming, week.continuing):
        if stint.member is not None:
            share(stint.member).stints += 1
    if week.holiday_moved:
        people = {s.member for s in (week.incoming, week.outgoing) if s is not None and s.member is not None}
        for email in people:
            share(email).holiday_handoffs += 1


def _member_days(member, first: date, last: date) -> int:
    start = max(first, member.joined)
    end = last if member.left is None else min(last, member.left)
    return max((end - start).days + 1, 0)


def _months(shares: list[Share], counted: dict, roster, first: date, last: date, begins: date) -> list[Month]:
    """A row per member and month in which they were a member or on support:
    a month without support days says 0 rather than leaving a hole."""
    found = []
    spans = list(_month_spans(first, last))
    for s in shares:
        member = roster.member(s.email) if s.member_days is not None else None
        for month_first, month_last in spans:
            counts = counted.get((s.email, (month_first.year, month_first.month)))
            if counts is None:
                if member is None or not _member_between(member, max(month_first, begins), month_last):
                    continue
                counts = Counts()
            found.append(Month(s.email, s.name, month_first, month_last, counts))
    return found


def _member_between(member, first: date, last: date) -> bool:
    return first <= last and member.joined <= last and (member.left is None or member.left >= first)


def _month_spans(first: date, last: date) -> Iterable[tuple[date, date]]:
    day = first
    while day <= last:
        following = add_months(day.replace(day=1), 1)
        yield day, min(last, following - DAY)
        day = following


# -- rota check ------------------------------------------------------------------
@dataclass(frozen=True)
class Drift:
    """A member whose share is more than a stint off their expected one,
    while the difference could have gone to someone else: `others` were
    free when they were on (for a share above), or on when they were free
    (for a share below)."""

    share: Share
    others: tuple[str, ...]  # names
    first: date
    last: date

    @property
    def message(self) -> str:
        s = self.share
        above = s.difference > 0
        others = " and ".join(self.others)
        why = (f"on days when {others} (below their share) could have served" if above else
               f"free on days when {others} (above their share) served")
        return (f"{s.name} has {s.days.support} support days ({s.stints} stint{'' if s.stints == 1 else 's'}) from {self.first.isoformat()} to "
                f"{self.last.isoformat()}, {abs(s.difference):.1f} {'more' if above else 'fewer'} than the team's "
                f"mean for their time on the team ({s.expected:.1f}): more than one stint ({STINT_DAYS} days) "
                f"{'above' if above else 'below'} it, {why}")


def drifts(schedule, report: Fairness) -> list[Drift]:
    """Members more than one stint above or below their expected share, when
    on some day someone above theirs was on support while someone below
    theirs was on the team, not away and not on support: the difference
    could have gone to them. Someone away whenever the others served is not
    warned about, nor are the others for serving in their place."""
    roster = schedule.roster
    over = [s for s in report.shares if s.difference is not None and s.difference > STINT_DAYS]
    under = [s for s in report.shares if s.difference is not None and s.difference < -STINT_DAYS]
    pairs: dict[str, dict[str, None]] = {}  # email -> the others' names, in the order found
    if over and under:
        for day, people in sorted(report.on_support.items()):
            busy = [s for s in over if s.email in people]
            if not busy:
                continue
            for free in (s for s in under if s.email not in people and _free(roster.member(s.email), day)):
                for s in busy:
                    pairs.setdefault(s.email, {})[free.name] = None
                    pairs.setdefault(free.email, {})[s.name] = None
    return [Drift(s, tuple(pairs[s.email]), report.first, report.last) for s in report.shares if s.email in pairs]


def _free(member, day: date) -> bool:
    return member is not None and member.off_team(day) is None and not member.is_away(day)
