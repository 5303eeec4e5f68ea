"""Trades on the page: members offer their upcoming stints, take open offers,
accept or decline swaps offered to them and withdraw their own; editors see
and may withdraw every offer. Taking or accepting first shows the change to
the coming weeks, exactly as an editor's change is previewed; nothing
changes until the second person confirms. The rules live in
`scheduler.roster.trades`; this module turns its refusals into pages (a 403
with the sentence for what a person may not do)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from scheduler.core.schedule import COMING_WEEKS
from scheduler.errors import StaleVersion
from scheduler.roster import trades
from scheduler.roster.edits import SaveFailed
from scheduler.store.offers import OfferClosed, OfferRefused
from scheduler.sync.tradeposts import announce

from web import state
from web.people import member_required, refuse

bp = Blueprint("trades", __name__, url_prefix="/trades")


def _person() -> trades.Person:
    return trades.Person(g.person.email, g.person.name)


@bp.route("/")
@member_required
def page():
    return _page(state.team())


@bp.route("/offer", methods=("POST",))
@member_required
def offer():
    team = state.team()
    week, to, to_week = _date(request.form.get("week")), None, None
    wanted = request.form.get("for", "anyone")
    if wanted != "anyone":
        to, _, when = wanted.partition("|")
        to_week = _date(when)
    if week is None or (to is not None and to_week is None):
        return _page(team, error="Pick one of your upcoming stints, and what you want for it."), 400
    try:
        made = trades.make_offer(team, _person(), week, state.now(), to=to, to_week=to_week,
                                 note=request.form.get("note", "")[:200])
    except trades.NotAllowed as e:
        return refuse(e.message)
    except (trades.TradeRefused, OfferRefused) as e:
        return _page(state.team(), error=e.message), 409
    _post(team, made, "offer")
    whom = f"to {team.roster.name_of(made.to)}" if made.is_swap else "to anyone"
    flash(f"Offered your stint of the week of {made.week.isoformat()} {whom}.", "ok")
    return redirect(url_for("trades.page"))


@bp.route("/<offer_id>/preview")
@member_required
def preview(offer_id):
    team = state.team()
    try:
        found, change = trades.preview(team, offer_id, _person(), state.now())
    except trades.NotAllowed as e:
        return refuse(e.message)
    except (trades.TradeRefused, OfferClosed) as e:
        return _page(team, error=e.message), 409
    return _preview(team, found, change)


@bp.route("/<offer_id>/confirm", methods=("POST",))
@member_required
def confirm(offer_id):
    team = state.team()
    now = state.now()
    try:
        closed = trades.confirm(team, offer_id, _person(), now, previewed=request.form.get("result") or None)
    except trades.NotAllowed as e:
        return refuse(e.message)
    except trades.PreviewChanged as e:
        found = next(o for o in team.store.offers() if o.id == offer_id)
        return _preview(team, found, e.edit, notice=e.message), 409
    except (trades.TradeRefused, OfferClosed) as e:
        return _page(state.team(), error=e.message), 409
    except StaleVersion:
        return _page(state.team(), error="Someone else changed the roster at the same moment, so nothing was "
                                         "saved. Here are the offers as they are now: try again."), 409
    except SaveFailed as e:
        return render_template("error.html", title="Not saved", message=e.message), 503
    _post(state.team(), closed, "outcome")
    what = "Swap accepted" if closed.is_swap else "Stint taken"
    flash(f"{what}: you now have the stint of the week of {closed.week.isoformat()}.", "ok")
    return redirect(url_for("trades.page"))


@bp.route("/<offer_id>/decline", methods=("POST",))
@member_required
def decline(offer_id):
    return _close(offer_id, lambda team, person, now: trades.decline(team, offer_id, person, now), "Declined")


@bp.route("/<offer_id>/withdraw", methods=("POST",))
@member_required
def withdraw(offer_id):
    return _close(offer_id, lambda team, person, now: trades.withdraw(team, offer_id, person, now,
                                                                      editor=g.person.is_editor), "Withdrawn")


def _close(offer_id, close, done: str):
    team = state.team()
    try:
        closed = close(team, _person(), state.now())
    except trades.NotAllowed as e:
        return refuse(e.message)
    except OfferClosed as e:
        return _page(team, error=e.message), 409
    _post(team, closed, "outcome")
    flash(f"{done}: the offer of the week of {closed.week.isoformat()}.", "ok")
    return redirect(url_for("trades.page"))


def _post(team, offer, what: str) -> None:
    settings = current_app.config["SETTINGS"]
    base = (current_app.config["PUBLIC_URL"] or request.url_root).rstrip("/")
    why = announce(team.store, team.roster, offer, what, settings.slack_webhook_url, state.now(),
                   page=base + url_for("trades.page"), by=g.person.name, timeouts=settings.timeouts)
    if why:
        current_app.logger.warning("trade offer %s: %s not posted to Slack: %s", offer.id, what, why)
        flash(f"Saved, but Slack was not told: {why}", "error")


def _preview(team, found, change, notice: str | None = None):
    return render_template("trade_preview.html", offer=found, change=change, roster=team.roster, notice=notice)


def _page(team, error: str | None = None):
    now = state.now()
    schedule, roster = team.schedule(), team.roster
    me = g.person.email
    offers = trades.open_offers(team, now)
    mine = trades.upcoming_stints(team, me, now, COMING_WEEKS)
    on_offer = {o.week for o in offers if o.member == me}
    # What a swap can ask for: the teammates' upcoming stints.
    theirs = [w.incoming for w in schedule.weeks(schedule.coming(now, COMING_WEEKS))
              if w.incoming.start > now and w.incoming.member not in (None, me)]
    takeable = [(o, trades.can_take(team, o, me, now)) for o in offers if not o.is_swap and o.member != me]
    return render_template(
        "trades.html", roster=roster, error=error, mine=mine, on_offer=on_offer, theirs=theirs,
        takeable=takeable, to_me=[o for o in offers if o.to == me], my_offers=[o for o in offers if o.member == me],
        others=[o for o in offers if o.member != me] if g.person.is_editor else [],
        is_member=g.person.member is not None,
    )


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None
