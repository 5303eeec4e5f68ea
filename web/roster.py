"""Editing the roster: every change is previewed, then saved only if nobody
else saved the roster in between.

Editors change anything. Members of the team use the same pages for their
own absences only, from today on; anything else is refused with a 403."""

from __future__ import annotations

from datetime import timedelta

from datetime import date

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from scheduler.core.schedule import COMING_WEEKS
from scheduler.roster.edits import KINDS, EditError, SaveFailed, plan_edit, save_edit
from scheduler.errors import StaleVersion

from web import state
from web.people import member_required, refuse

bp = Blueprint("roster", __name__, url_prefix="/roster")
MEMBER_KINDS = ("add_absence", "remove_absence")  # what members may do, for themselves
FIELDS = ("name", "email", "joined", "left", "from", "to", "note", "replace", "with", "week", "with_week")


@bp.route("/")
@member_required
def edit():
    return _page(state.team())


@bp.route("/preview", methods=("POST",))
@member_required
def preview():
    team = state.team()
    kind, fields, version, _result = _form()
    if (refused := _not_theirs(kind, fields)) is not None:
        return refused
    if version != team.roster_file.version:
        return _stale(team)
    try:
        _from_today(team, kind, fields, state.now())
        change = plan_edit(team, kind, fields, state.now())
    except EditError as e:
        return _page(team, error=e, kind=kind, fields=fields), 400
    return _preview(change)


@bp.route("/save", methods=("POST",))
@member_required
def save():
    team = state.team()
    kind, fields, version, result = _form()
    if (refused := _not_theirs(kind, fields)) is not None:
        return refused
    now = state.now()
    if version != team.roster_file.version:
        if result and result == team.roster_file.version:
            return _already_saved()
        return _stale(team)
    try:
        _from_today(team, kind, fields, now)
        change = plan_edit(team, kind, fields, now)
    except EditError as e:
        return _page(team, error=e, kind=kind, fields=fields), 400
    if result and result != change.version:
        # the same change on the same roster now gives other bytes (the day
        # turned, a default moved): save nothing that was not previewed
        return _preview(change, notice="This change no longer gives the roster you previewed (the date or the "
                                       "roster's rules moved on). Check it again and save."), 409
    try:
        save_edit(team, change, g.person, now)  # the audit log and the history name who it was
    except StaleVersion:
        if team.store.roster_version() == change.version:
            return _already_saved()  # the same form, sent twice at once
        return _stale(state.team())
    except SaveFailed as e:
        return render_template("error.html", title="Not saved", message=e.message), 503
    flash(f"Saved: {change.description}.", "ok")
    return redirect(url_for("roster.edit"))


def _not_theirs(kind: str, fields: dict):
    """A member's change that is not their own absence: refused (None: allowed)."""
    if g.editor is not None:
        return None
    if kind not in MEMBER_KINDS:
        return refuse("Members may add and remove their own absences; other changes to the roster are for its "
                      "editors.")
    mine = g.person.member.email.lower()
    if fields.get("email", "").strip().lower() != mine:
        return refuse(f"You may change only your own absences ({mine}); ask an editor to change someone else's.")
    return None


def _from_today(team, kind: str, fields: dict, now) -> None:
    """Members change their absences from today on: what has begun is the
    record's, and editors'."""
    if g.editor is not None or kind not in MEMBER_KINDS:
        return
    today = team.schedule().local_date(now)
    try:
        first = date.fromisoformat(fields.get("from", ""))
    except ValueError:
        return  # plan_edit says what is wrong with it
    if kind == "add_absence" and first < today:
        raise EditError(f"You can add absences from today ({today.isoformat()}) on: {first.isoformat()} has passed. "
                        "Ask an editor to record days already gone.", "from")
    if kind == "remove_absence" and first < today:
        raise EditError(f"This absence began on {first.isoformat()}, before today: ask an editor to change it.", "from")


def _form():
    kind = request.form.get("kind", "")
    if kind not in KINDS:
        kind = ""
    fields = {k: request.form.get(k, "") for k in FIELDS if k in request.form}
    return kind, fields, request.form.get("version", ""), request.form.get("result", "")


def _preview(change, notice: str | None = None):
    return render_template("preview.html", change=change, kind=change.kind, fields=change.fields,
                           version=change.base.version, roster=change.base.roster, notice=notice)


def _already_saved():
    flash("Already saved: this change is in the roster (it was saved the first time you sent it).", "ok")
    return redirect(url_for("roster.edit"))


def _stale(team):
    message = ("Someone else changed the roster since you loaded it, so nothing was saved. "
               "Here is the roster as it is now: check it and make your change again.")
    return _page(team, stale=message), 409


def _page(team, error: EditError | None = None, kind: str = "", fields: dict | None = None, stale: str | None = None):
    schedule, roster = team.schedule(), team.roster
    now = state.now()
    today = schedule.local_date(now)
    upcoming = [w for w in schedule.weeks(schedule.coming(now, COMING_WEEKS + 1))
                if w.incoming.start > now and w.incoming.member]
    absences = [(m, a) for m in roster.members for a in m.away if a.end >= today]
    overrides = [o for o in roster.overrides if o.end >= today]
    # The forms are about today and later: people who have left are not offered,
    # except as the one covered while a stint of theirs that has begun still runs.
    current = [m for m in roster.members if m.left is None or m.left >= today]
    duty = schedule.duty(now)
    holding = {s.scheduled for s in duty.slots} if duty else set()
    coverable = [m for m in roster.members if m in current or m.email in holding]
    if g.editor is None:  # a member: their own absences, nothing else
        mine = g.person.member.email
        absences = [(m, a) for m, a in absences if m.email == mine]
        current = coverable = [m for m in current if m.email == mine]
    return render_template(
        "roster.html", roster=roster, version=team.roster_file.version, today=today,
        upcoming=upcoming, absences=absences, overrides=overrides, error=error, kind=kind,
        fields=fields or {}, stale=stale, in_a_week=today + timedelta(days=7),
        current=current, coverable=coverable, changes=_recent_changes(team.store),
    )


RECENT_CHANGES = 10


def _recent_changes(store) -> list[dict] | None:
    """The last saved versions, newest first; None where the store keeps only the
    current roster (the folder store: its history is in git)."""
    history = getattr(store, "history", None)
    return None if history is None else history(last=RECENT_CHANGES)[::-1]
