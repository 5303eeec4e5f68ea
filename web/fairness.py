"""The Fairness page: each member's share of support over a span, as a table
and a bar chart with the mean marked, and the month-by-month CSV of support
days for whoever handles time in lieu or pay."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, render_template, request, url_for
from markupsafe import Markup

from scheduler.core.events import support_name, when
from scheduler.publish import fairnessreport

from web import people, state

bp = Blueprint("fairness", __name__, url_prefix="/fairness")
MAX_DAYS = 20 * 366  # as `rota report`: the span is walked day by day


class BadSpan(ValueError):
    pass


def _span(schedule, now) -> tuple[date, date]:
    """The span asked for in `from` and `to` (ISO dates), else the default."""
    asked = {}
    for key in ("from", "to"):
        text = request.args.get(key, "").strip()
        if text:
            try:
                asked[key] = date.fromisoformat(text)
            except ValueError:
                raise BadSpan(f"{key}: {text[:40]!r} is not a date (YYYY-MM-DD)") from None
    first, last = fairnessreport.span_of(schedule.local_date(now), asked.get("from"), asked.get("to"))
    if last < first:
        raise BadSpan(f"to: {last.isoformat()} is before from: {first.isoformat()}")
    if (last - first).days > MAX_DAYS:
        raise BadSpan("the span may be at most 20 years")
    return first, last


def _private():
    return people.closed_to_outsiders(request.full_path.rstrip("?"))


@bp.route("/")
def page():
    refused = _private()
    if refused:
        return refused
    team = state.team()
    schedule = team.schedule()
    now = state.now()
    try:
        first, last = _span(schedule, now)
    except BadSpan as e:
        return render_template("fairness.html", support_name=support_name(team.roster.name), error=str(e),
                               report=None, first=request.args.get("from", ""), last=request.args.get("to", "")), 400
    report = schedule.fairness(first, last, now)
    return render_template(
        "fairness.html", support_name=support_name(team.roster.name), report=report, error=None,
        first=first.isoformat(), last=last.isoformat(), when=when, local=schedule.local(now),
        chart=Markup(fairnessreport.bar_chart(report)),  # built from escaped text only
        csv_url=url_for("fairness.days_csv", **{"from": first.isoformat(), "to": last.isoformat()}),
    )


@bp.route("/days.csv")
def days_csv():
    refused = _private()
    if refused:
        return refused
    team = state.team()
    schedule = team.schedule()
    now = state.now()  # once: the span and the report are of the same instant
    try:
        first, last = _span(schedule, now)
    except BadSpan as e:
        return Response(f"{e}\n", 400, content_type="text/plain; charset=utf-8")
    report = schedule.fairness(first, last, now)
    name = f"{team.roster.id}-support-days-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(fairnessreport.as_csv(report, monthly=True).encode("utf-8"), 200,
                    content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
