"""The page everyone reads: who is on support, what is coming, how to subscribe."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, g, jsonify, render_template, request

from scheduler.core import monday_of
from scheduler.core.schedule import COMING_WEEKS
from scheduler.core.events import support_name, when
from scheduler.errors import RotaError

from web import feeds, people, state, timeline

bp = Blueprint("pages", __name__)


@bp.route("/")
def index():
    if (closed := people.closed_to_outsiders("/")) is not None:
        return closed
    team, stamp = state.team_as_seen()
    schedule, roster = team.schedule(), team.roster
    now = state.now()
    today = schedule.local_date(now)
    shown = timeline.requested_range(today)
    picture, _ = timeline.svg(team, stamp, shown, today)
    duty = schedule.duty(now)
    weeks = schedule.weeks(schedule.coming(now, COMING_WEEKS))
    stop = monday_of(today) + timedelta(weeks=COMING_WEEKS)
    rows = [_row(schedule, w) for w in weeks]
    findings = [f for f in schedule.check(now, COMING_WEEKS) if f.kind in ("gap", "swap", "override")]
    current = schedule.week_at(now)
    next_week = schedule.next_handoff(now) if duty else (weeks[0] if weeks else None)
    signed_in = g.editor is not None
    me = g.person.member if g.person is not None else None  # an editor may be a member too
    tickets, tickets_error = _tickets(team, now) if signed_in else (None, None)
    return render_template(
        "index.html", roster=roster, support_name=support_name(roster.name), duty=duty, rows=rows, current=current, next_week=next_week,
        findings=findings, when=when, local=schedule.local(now), stop=stop,
        tickets=tickets, tickets_error=tickets_error, picture=picture, shown=shown,
        # The links are the feeds' only lock, and the feeds carry absence notes.
        # Editors see every link; a member the team's and their own.
        team_links=feeds.links("team") if signed_in or me else None,
        member_links=[(m, feeds.links(f"member:{m.email}", m.email)) for m in roster.members
                      if signed_in or m is me],
        me=me, my_stints=_next_stints(schedule, now, me.email) if me else [],
    ), 400 if shown.error else 200


def _next_stints(schedule, now, email: str) -> list[dict]:
    """The member's stints that have not begun, in the coming weeks, each
    with who they serve beside: the one continuing in its first week, the
    one coming in for its second."""
    weeks = schedule.weeks(schedule.coming(now, COMING_WEEKS))
    after = {w.index: w for w in weeks}
    return [{"stint": w.incoming, "first": w.continuing.member,
             "second": after[w.index + 1].incoming.member if w.index + 1 in after else None}
            for w in weeks if w.incoming.member == email and w.incoming.start > now]


@bp.route("/member/<email>")
def member(email):
    """One member's picture: their stints, absences, covers and swaps."""
    if (closed := people.closed_to_outsiders(request.path)) is not None:
        return closed
    email = email.lower()
    team, stamp = state.team_as_seen()
    schedule, roster = team.schedule(), team.roster
    person = roster.member(email)
    if person is None and not any(s.member == email for s in team.record.stints.values()):
        abort(404)
    now = state.now()
    today = schedule.local_date(now)
    shown = timeline.requested_range(today)
    picture, pic = timeline.svg(team, stamp, shown, today, email)
    overrides = [o for o in roster.overrides if email in (o.cover, o.replace)]
    swaps = [s for s in roster.swaps if email in (s.member, s.other)]
    return render_template(
        "member.html", picture=picture, shown=shown, roster=roster, person=person, email=email,
        name=roster.name_of(email), stints=pic.bars, overrides=overrides, swaps=swaps, when=when,
        local=schedule.local(now),
    ), 400 if shown.error else 200


def _row(schedule, week):
    notes = schedule.week_notes(week)
    return {"week": week, "gaps": notes.gaps, "covers": notes.covers, "holiday": notes.holiday}


def _tickets(team, now):
    """The ticket check for editors, from Zendesk at most every few minutes,
    and never holding the page for more than TICKETS_WAIT seconds."""
    if team.roster.zendesk is None:
        return None, None
    url = team.roster.zendesk.url
    settings = current_app.config["SETTINGS"]

    def fetch():
        # Imported here, in the worker: loading zenpy alone takes a good part of a second.
        from scheduler.sync.zendesk import tickets as ticketcheck
        from scheduler.sync.zendesk import client as zendesk
        from scheduler.sync.retry import Patience

        client = zendesk.client_from_settings(settings, url, Patience(retries=1, rate_limit_budget=5))
        return ticketcheck.check(team, client, now)

    config = current_app.config
    return state.state().tickets.get(url or "", fetch, now, ttl=config["TICKETS_TTL"],
                                     retry=config["TICKETS_RETRY"], wait=config["TICKETS_WAIT"])


@bp.route("/healthz")
def healthz():
    """For the platform's health checks: 200 when the roster loads."""
    try:
        team = state.team()
        team.schedule().duty(state.now())
    except RotaError as e:
        return jsonify(status="error", error=str(e)), 503
    return jsonify(status="ok", team=team.roster.name, roster_version=team.roster_file.version)
