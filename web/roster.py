"""Editing the roster: every change is previewed, then saved only if nobody
else saved the roster in between."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from scheduler.core import Window, monday_of
from scheduler.edits import KINDS, EditError, plan_edit, save_edit
from scheduler.errors import StaleVersion

from . import state
from .auth import editor_required

bp = Blueprint("roster", __name__, url_prefix="/roster")
FIELDS = ("name", "email", "joined", "left", "from", "to", "note", "replace", "with", "week", "with_week")
UPCOMING_WEEKS = 12


@bp.route("/")
@editor_required
def edit():
    return _page(state.team())


@bp.route("/preview", methods=("POST",))
@editor_required
def preview():
    team = state.fresh_team()
    kind, fields, version = _form()
    if version != team.roster_file.version:
        return _stale(team)
    try:
        change = plan_edit(team, kind, fields, state.now())
    except EditError as e:
        return _page(team, error=e, kind=kind, fields=fields), 400
    return render_template("preview.html", change=change, kind=kind, fields=fields, version=version,
                           roster=team.roster)


@bp.route("/save", methods=("POST",))
@editor_required
def save():
    team = state.fresh_team()
    kind, fields, version = _form()
    now = state.now()
    try:
        change = plan_edit(team, kind, fields, now)
        save_edit(team, change, version, g.editor, now)
    except StaleVersion:
        return _stale(team)
    except EditError as e:
        return _page(team, error=e, kind=kind, fields=fields), 400
    flash(f"Saved: {change.description}.", "ok")
    return redirect(url_for("roster.edit"))


def _form():
    kind = request.form.get("kind", "")
    if kind not in KINDS:
        kind = ""
    fields = {k: request.form.get(k, "") for k in FIELDS if k in request.form}
    return kind, fields, request.form.get("version", "")


def _stale(team):
    message = ("Someone else changed the roster since you loaded it, so nothing was saved. "
               "Here is the roster as it is now: check it and make your change again.")
    return _page(team, stale=message), 409


def _page(team, error: EditError | None = None, kind: str = "", fields: dict | None = None, stale: str | None = None):
    schedule, roster = team.schedule(), team.roster
    now = state.now()
    today = schedule.calendar.local_date(now)
    upcoming = [w for w in schedule.weeks(Window(monday_of(today), UPCOMING_WEEKS + 1))
                if w.incoming.start > now and w.incoming.member]
    absences = [(m, a) for m in roster.members for a in m.away if a.end >= today]
    overrides = [o for o in roster.overrides if o.end >= today]
    # The forms are about today and later: people who have left are not offered,
    # except as the one covered while a stint of theirs that has begun still runs.
    current = [m for m in roster.members if m.left is None or m.left >= today]
    duty = schedule.duty(now)
    holding = {s.scheduled for s in duty.slots} if duty else set()
    coverable = [m for m in roster.members if m in current or m.email in holding]
    return render_template(
        "roster.html", roster=roster, version=team.roster_file.version, today=today,
        upcoming=upcoming, absences=absences, overrides=overrides, error=error, kind=kind,
        fields=fields or {}, stale=stale, in_a_week=today + timedelta(days=7),
        current=current, coverable=coverable,
    )
