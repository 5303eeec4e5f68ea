"""The timeline picture's geometry: where every bar, shade and mark goes.

`picture(schedule, window, today)` lays out a span of rotation weeks as
lanes, one per member: each stint a bar in its holder's lane (week 1 and
week 2 told apart), absences shaded, overrides marked on the days they cover,
gaps in red across the top, holidays, handoffs and today marked. Pure: no
I/O, no clock (`today` is passed in), nothing escaped: every text is as
people typed it, and whoever draws it escapes it (web/templates/timeline.html).

Positions are in pixels: x counts days from the window's first Monday (a
day is `Picture.day` pixels wide; an instant falls inside its local day by
its wall-clock time, so DST days are as wide as the others), y counts lanes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from scheduler.core.calendar import DAY, day_of, days
from scheduler.core.schedule import Schedule, Window, monday_of
from scheduler.core.rotation import Stint

WIDTH = 910  # pixels the days take at the default 26 weeks: fits beside the labels on a laptop
MIN_DAY, MAX_DAY = 5, 20  # pixels a day is wide, whatever the window
AXIS = 36  # month names and Monday dates
GAP_ROW = 16  # the red strip of gaps
LANE = 30
BAR = 20
LABEL = 124  # the lane labels' column
LABEL_CHARS = 16  # longer names are cut (the full name is in the label's title)


@dataclass(frozen=True)
class Bar:
    """One stint in its holder's lane: `x1` to `mid` is week 1, `mid` to `x2` week 2."""

    lane: int
    x1: float
    mid: float
    x2: float
    member: str
    start: datetime
    end: datetime
    title: str  # who, which stint, why
    recorded: bool
    swapped: bool

    @property
    def y(self) -> float:
        return AXIS + GAP_ROW + self.lane * LANE + (LANE - BAR) / 2


@dataclass(frozen=True)
class Span:
    """Something that lasts from `x1` to `x2` in a lane (`lane` None: the
    gap strip), with what it is (`kind`) and what it says."""

    kind: str  # away, off (not on the team), cover, covered, gap (a stint nobody holds), gapday
    lane: int | None
    x1: float
    x2: float
    title: str

    @property
    def y(self) -> float:
        return AXIS + 2 if self.lane is None else AXIS + GAP_ROW + self.lane * LANE


@dataclass(frozen=True)
class Mark:
    """A vertical mark at `x`: a handoff, a holiday (a day wide), today, a month."""

    kind: str  # handoff, moved (a handoff a holiday moved), holiday, today, month, monday
    x: float
    title: str
    width: float = 0


@dataclass(frozen=True)
class Lane:
    member: str
    name: str
    label: str  # the name, cut to fit
    y: float


@dataclass(frozen=True)
class Picture:
    first: date
    weeks: int
    day: float  # pixels per day
    width: float
    height: float
    lanes: list[Lane]
    bars: list[Bar]
    spans: list[Span]
    marks: list[Mark]
    stints: int  # stints in the window, bars and gaps together

    @property
    def label_width(self) -> int:
        return LABEL

    @property
    def lanes_top(self) -> int:
        return AXIS + GAP_ROW


def picture(schedule: Schedule, window: Window, today: date, member: str | None = None) -> Picture:
    """The picture of `window`; with `member`, only their lane and what
    concerns them (their stints, absences, covers and gaps in their slot)."""
    first = monday_of(window.first)
    stop = first + window.weeks * DAY * 7
    day_px = max(MIN_DAY, min(MAX_DAY, WIDTH / (7 * window.weeks)))
    roster, cal = schedule.roster, schedule.calendar

    def x_day(day: date) -> float:
        return min(max((day - first).days, 0), (stop - first).days) * day_px

    def x_at(instant: datetime) -> float:
        local = cal.to_local(instant)
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        x = ((day_of(local) - first).days + seconds / 86400) * day_px
        return min(max(x, 0), (stop - first).days * day_px)

    stints = _stints(schedule, first, stop)
    people = [m.email for m in roster.members
              if m.joined < stop and (m.left is None or m.left >= first)]
    people += sorted({s.member for s in stints if s.member and s.member not in people})  # since removed
    if member is not None:
        people = [member]
    lane_of = {email: i for i, email in enumerate(people)}
    name = roster.name_of
    lanes = [Lane(e, name(e), _cut(name(e)), AXIS + GAP_ROW + i * LANE) for i, e in enumerate(people)]

    bars, spans = [], []
    for stint in stints:
        if stint.member is None:
            if member is None:
                spans.append(Span("gap", None, x_at(stint.start), x_at(stint.end),
                                  f"Gap: nobody holds the stint from {_when(cal, stint.start)} to "
                                  f"{_when(cal, stint.end)}: {stint.reason}"))
            continue
        if stint.member not in lane_of:
            continue
        middle = schedule.rotation.handoff(stint.week + 1)
        bars.append(Bar(lane_of[stint.member], x_at(stint.start), x_at(max(middle, stint.start)), x_at(stint.end),
                        stint.member, stint.start, stint.end, _bar_title(schedule, stint, middle),
                        stint.recorded, stint.pinned))

    for email, lane in lane_of.items():
        m = roster.member(email)
        if m is None:
            continue
        if m.joined > first:
            spans.append(Span("off", lane, 0, x_day(m.joined), f"{m.name} joins {m.joined.isoformat()}"))
        if m.left is not None and m.left + DAY < stop:
            spans.append(Span("off", lane, x_day(m.left + DAY), x_day(stop), f"{m.name} left {m.left.isoformat()}"))
        for a in m.away:
            if a.start < stop and a.end >= first:
                note = f" ({a.note})" if a.note else ""
                spans.append(Span("away", lane, x_day(a.start), x_day(a.end + DAY),
                                  f"{m.name} {a.label} {_days(a.start, a.end)}{note}"))

    notes = schedule.notes(first, stop)  # the gaps and covers of the window, worked out once
    for o in notes.covers:
        note = f": {o.note}" if o.note else ""
        what = f"{name(o.cover)} covers for {name(o.replace)} {_days(o.start, o.end)}{note}"
        for kind, email in (("cover", o.cover), ("covered", o.replace)):
            if email in lane_of:
                spans.append(Span(kind, lane_of[email], x_day(o.start), x_day(o.end + DAY), what))

    by_day: dict[date, list[str]] = {}
    for gap in notes.gaps:
        if gap.scheduled is None or (member is not None and gap.scheduled != member):
            continue  # a stint nobody holds is one red bar, above
        by_day.setdefault(gap.day, []).append(f"{name(gap.scheduled)}'s slot: {gap.reason}")
    for day, why in sorted(by_day.items()):
        spans.append(Span("gapday", None, x_day(day), x_day(day + DAY),
                          f"Gap on {day:%a} {day.isoformat()}: " + "; ".join(why)))

    marks = _axis(first, stop, x_day, day_px)
    for day in days(first, stop):
        holiday = cal.holiday_name(day)
        if holiday is not None:
            marks.append(Mark("holiday", x_day(day), f"{holiday}, {day:%a} {day.isoformat()}", day_px))
    for week in schedule.weeks(Window(first, window.weeks)):
        if week.holiday_moved:
            holiday = cal.holiday_name(week.monday) or "a holiday"
            marks.append(Mark("moved", x_at(week.handoff), f"Handoff {cal.to_local(week.handoff):%a} {_when(cal, week.handoff)}, moved by {holiday}"))
        else:
            marks.append(Mark("handoff", x_at(week.handoff), f"Handoff {cal.to_local(week.handoff):%a} {_when(cal, week.handoff)}"))
    if first <= today < stop:
        marks.append(Mark("today", x_day(today) + day_px / 2, f"Today, {today:%a} {today.isoformat()}"))

    width = (stop - first).days * day_px
    height = AXIS + GAP_ROW + max(len(lanes), 1) * LANE + 4
    return Picture(first, window.weeks, day_px, width, height, lanes, bars, spans, marks, len(stints))


def _stints(schedule: Schedule, first: date, stop: date) -> list[Stint]:
    """Every stint that is on during the window: the one already running at
    its start, and each one that begins inside it."""
    offset = (first - schedule.roster.start).days // 7
    weeks = (stop - first).days // 7
    # From the first handoff on: the stint that ends that Monday morning is last week's.
    begins = max(schedule.day_start(first), schedule.rotation.handoff(offset))
    ends = schedule.day_start(stop)
    return [s for s in schedule.rotation.stints(offset - 2, offset + weeks)
            if s.start < ends and s.end > begins and s.start < s.end]


def _bar_title(schedule: Schedule, stint: Stint, middle: datetime) -> str:
    cal, name = schedule.calendar, schedule.roster.name_of(stint.member)
    if middle <= stint.start:  # the stint already on when the rotation starts: its second week only
        weeks = "week 2 only"
    else:
        weeks = f"week 2 from {_when(cal, middle)}"
    extra = ", recorded" if stint.recorded else ""  # a swap or a handover says so in its reason
    return (f"{name}: stint from {_when(cal, stint.start)} to {_when(cal, stint.end)}, {weeks}{extra}. "
            f"Why: {stint.reason}")


def _axis(first: date, stop: date, x_day, day_px: float) -> list[Mark]:
    marks = []
    room = 60  # pixels a month's name needs
    next_month = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    for day in days(first, stop):
        # None for a month that begins too near the end, nor for the first month's few
        # days when the next month's name would be written over it.
        if day == first:
            named = next_month >= stop or (next_month - first).days * day_px >= room
        else:
            named = day.day == 1 and (stop - day).days * day_px >= room
        if named:
            marks.append(Mark("month", x_day(day), f"{day:%b %Y}"))
        if day.weekday() == 0:
            marks.append(Mark("monday", x_day(day), str(day.day)))
    return marks


def _when(cal, instant: datetime) -> str:
    local = cal.to_local(instant)
    return f"{day_of(local).isoformat()} {local:%H:%M}"


def _days(start: date, end: date) -> str:
    return start.isoformat() if start == end else f"{start.isoformat()} to {end.isoformat()}"


def _cut(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"
