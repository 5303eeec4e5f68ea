"""The timeline picture on the pages: which weeks it shows (the range the
query asks for) and its SVG, rendered once per change of the store, day and
range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import render_template, request
from markupsafe import Markup

from scheduler.core import monday_of
from scheduler.core.schedule import WEEKS_AHEAD, Window
from scheduler.publish import timeline

from web import state

RANGES = (13, 26, 52, 104)  # weeks the form offers; any number from 1 to the last is accepted
MAX_WEEKS = RANGES[-1]
REACH = 10 * 52  # weeks from this one the picture may start: the rotation is computed up to there
CACHE_LIMIT = 128  # rendered pictures kept; old days and versions fall out


@dataclass(frozen=True)
class Range:
    window: Window
    error: str | None  # what was wrong with the query (the default range is shown then)
    default: bool  # the range shown without a query

    @property
    def first(self) -> date:
        return self.window.first

    @property
    def weeks(self) -> int:
        return self.window.weeks

    def earlier(self) -> dict:
        return {"from": (self.first - timedelta(weeks=self.weeks)).isoformat(), "weeks": self.weeks}

    def later(self) -> dict:
        return {"from": (self.first + timedelta(weeks=self.weeks)).isoformat(), "weeks": self.weeks}

    @property
    def ranges(self) -> tuple[int, ...]:
        return RANGES

    @property
    def last_day(self) -> date:
        return self.first + timedelta(weeks=self.weeks, days=-1)


def requested_range(today: date) -> Range:
    """The weeks `?from=DATE&weeks=N` asks for: from the Monday of DATE
    (default: this week) for N weeks (default 26)."""
    this_monday = monday_of(today)
    args = request.args
    first, weeks, errors = this_monday, WEEKS_AHEAD, []
    if args.get("weeks"):
        try:
            weeks = int(args["weeks"])
            if not 1 <= weeks <= MAX_WEEKS:
                raise ValueError
        except ValueError:
            weeks = WEEKS_AHEAD
            errors.append(f"weeks must be a whole number from 1 to {MAX_WEEKS}")
    if args.get("from"):
        try:
            first = monday_of(date.fromisoformat(args["from"]))
            if abs((first - this_monday).days) > REACH * 7:
                raise OverflowError
        except OverflowError:
            first = this_monday
            errors.append(f"from must be within {REACH // 52} years of today")
        except ValueError:
            first = this_monday
            errors.append("from must be a date, YYYY-MM-DD")
    error = "; ".join(errors) + "; showing the coming weeks instead" if errors else None
    return Range(Window(first, weeks), error, first == this_monday and weeks == WEEKS_AHEAD)


def svg(team, stamp, shown: Range, today: date, member: str | None = None) -> tuple[Markup, timeline.Picture]:
    """The picture's markup (both of its SVGs), from the cache when the store
    (`stamp`, as `state.team_keyed` gives it with `team`), the day and the
    range are the same."""
    st = state.state()
    key = (member, shown.window, today, stamp)
    cached = st.timelines.get(key)
    if cached is None:
        schedule = team.schedule()
        pic = timeline.picture(schedule, shown.window, today, member)
        cached = (Markup(render_template("timeline.html", pic=pic)), pic)
        with st.lock:
            if len(st.timelines) >= CACHE_LIMIT:
                st.timelines.clear()
            st.timelines[key] = cached
    return cached
