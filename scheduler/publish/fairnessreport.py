"""`rota report` and the Fairness page: each member's share of support as a
table, CSV and JSON, per member or per member and month, and as an SVG bar
chart. Pure formatting of `scheduler.core.fairness.Fairness`; people appear
by name in tables and charts, by email (and name) in CSV and JSON."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from xml.sax.saxutils import escape

from scheduler.core.fairness import Fairness, Month, Share, add_months

MONTHS_BACK = 12
MONTHS_AHEAD = 6

MEMBER_FIELDS = ("email", "name", "member_days", "stints", "support_days", "business_days", "weekend_days",
                 "holiday_days", "holiday_handoffs", "covering_days", "covering_weeks", "covered_days",
                 "covered_weeks", "past_support_days", "expected", "difference")
MONTH_FIELDS = ("email", "name", "month", "from", "to", "support_days", "business_days", "weekend_days",
                "holiday_days", "covering_days", "covered_days")


def default_span(today: date) -> tuple[date, date]:
    """12 months back to 6 months ahead of `today`, both ends included."""
    return add_months(today, -MONTHS_BACK), add_months(today, MONTHS_AHEAD)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def member_row(s: Share) -> dict:
    d = s.days
    return {
        "email": s.email, "name": s.name, "member_days": s.member_days, "stints": s.stints,
        "support_days": d.support, "business_days": d.business, "weekend_days": d.weekend,
        "holiday_days": d.holiday, "holiday_handoffs": s.holiday_handoffs,
        "covering_days": d.covering, "covering_weeks": s.covering_weeks,
        "covered_days": d.covered, "covered_weeks": s.covered_weeks, "past_support_days": s.past_support,
        "expected": _rounded(s.expected), "difference": _rounded(s.difference),
    }


def month_row(m: Month) -> dict:
    d = m.days
    return {
        "email": m.email, "name": m.name, "month": m.first.strftime("%Y-%m"), "from": m.first.isoformat(),
        "to": m.last.isoformat(), "support_days": d.support, "business_days": d.business,
        "weekend_days": d.weekend, "holiday_days": d.holiday, "covering_days": d.covering,
        "covered_days": d.covered,
    }


def as_json(report: Fairness, team: str, timezone: str, monthly: bool = False) -> dict:
    data = {
        "team": team, "timezone": timezone, "from": report.first.isoformat(), "to": report.last.isoformat(),
        "today": report.today.isoformat(), "rate": round(report.rate, 4), "unrecorded_weeks": report.unrecorded,
    }
    if monthly:
        data["months"] = [month_row(m) for m in report.months]
    else:
        data["members"] = [member_row(s) for s in report.shares]
    return data


def as_csv(report: Fairness, monthly: bool = False) -> str:
    """UTF-8 CSV text with a header row (RFC 4180 line ends, as spreadsheets expect)."""
    out = io.StringIO()
    fields = MONTH_FIELDS if monthly else MEMBER_FIELDS
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    rows = (month_row(m) for m in report.months) if monthly else (member_row(s) for s in report.shares)
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # a name a spreadsheet would run as a formula
    return value


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}"


def as_table(report: Fairness, title: str, monthly: bool = False) -> str:
    out = [f"{title}: fairness from {report.first.isoformat()} to {report.last.isoformat()}", ""]
    if monthly:
        header = ("Member", "Month", "Support days", "Business", "Weekend", "Holiday", "Covering", "Covered")
        rows = [(m.name, m.first.strftime("%Y-%m"), *map(str, (m.days.support, m.days.business, m.days.weekend,
                                                                m.days.holiday, m.days.covering, m.days.covered)))
                for m in report.months]
    else:
        header = ("Member", "Stints", "Support days", "Weekend", "Holiday", "Holiday handoffs",
                  "Covering wks", "Covered wks", "Expected", "Difference")
        rows = [(s.name, *map(str, (s.stints, s.days.support, s.days.weekend, s.days.holiday, s.holiday_handoffs,
                                    s.covering_weeks, s.covered_weeks)),
                 "-" if s.expected is None else f"{s.expected:.1f}", _signed(s.difference))
                for s in report.shares]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        out.append("  ".join(cells).rstrip())
    if not rows:
        out.append("(nobody on the team in this span)")
    out.append("")
    out.append(f"Support days are calendar days in a slot, overrides applied; days up to {report.today.isoformat()} "
               f"come from the record, later ones from the rotation.")
    if not monthly:
        out.append(f"Expected: the team's {report.rate:.3f} support days per day of membership, times the member's "
                   "days of membership in the span.")
    if report.unrecorded:
        out.append(f"{report.unrecorded} week(s) begun are not in the record yet: taken from the roster "
                   "(run `rota record`).")
    return "\n".join(out) + "\n"


# -- the Fairness page's chart -----------------------------------------------------
BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 150
PLOT_WIDTH = 420
RIGHT = 110


def bar_chart(report: Fairness) -> str:
    """A horizontal bar of support days per member, with the team's mean for
    their time on the team marked across each bar; every bar has a <title>.
    Server-rendered SVG, all text escaped."""
    shares = report.shares
    top = max([s.days.support for s in shares] + [s.expected or 0 for s in shares] + [1])
    scale = PLOT_WIDTH / top
    height = GAP + len(shares) * (BAR_HEIGHT + GAP) + 24
    width = LABEL_WIDTH + PLOT_WIDTH + RIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="fairness-chart" role="img" '
        f'aria-labelledby="fairness-chart-title" viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f'<title id="fairness-chart-title">Support days per member from {report.first.isoformat()} to '
        f'{report.last.isoformat()}, with the mean for each one\'s time on the team marked</title>',
    ]
    for i, s in enumerate(shares):
        y = GAP + i * (BAR_HEIGHT + GAP)
        name = escape(s.name)
        length = s.days.support * scale
        if s.expected is None:
            mean_text = "not on the roster any more: no mean"
        else:
            mean_text = f"mean for their time on the team {s.expected:.1f}, difference {s.difference:+.1f}"
        tip = escape(f"{s.name}: {s.days.support} support days, {stints(s.stints)}; {mean_text}")
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT * 0.7:.1f}" text-anchor="end">{name}</text>')
        parts.append(f'<rect class="bar" data-member="{escape(s.email, {chr(34): "&quot;"})}" x="{LABEL_WIDTH}" '
                     f'y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}"><title>{tip}</title></rect>')
        parts.append(f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{y + BAR_HEIGHT * 0.7:.1f}">{s.days.support}</text>')
        if s.expected is not None:
            x = LABEL_WIDTH + s.expected * scale
            parts.append(f'<line class="mean" x1="{x:.1f}" x2="{x:.1f}" y1="{y - 3}" y2="{y + BAR_HEIGHT + 3}">'
                         f'<title>{escape(f"{s.name}: mean {s.expected:.1f}")}</title></line>')
    legend_y = height - 8
    parts.append(f'<line class="mean" x1="{LABEL_WIDTH}" x2="{LABEL_WIDTH + 14}" y1="{legend_y - 4}" '
                 f'y2="{legend_y - 4}"/>')
    parts.append(f'<text x="{LABEL_WIDTH + 20}" y="{legend_y}">the team\'s mean for each one\'s time on the team</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def stints(n: int) -> str:
    return f"{n} stint" if n == 1 else f"{n} stints"


def span_of(today: date, first: date | None, last: date | None) -> tuple[date, date]:
    default_first, default_last = default_span(today)
    return first or default_first, last or default_last


def report_for(schedule, now: datetime, first: date | None = None, last: date | None = None) -> Fairness:
    first, last = span_of(schedule.local_date(now), first, last)
    return schedule.fairness(first, last, now)
