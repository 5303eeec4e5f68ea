"""Trades between members: one offers a stint, a second confirms.

A member offers one of their upcoming stints to one teammate for one of
theirs (a swap) or to anyone (an open offer); the offer waits in the store
(`Store.add_offer`). The teammate named accepts or declines a swap; any
member who can serve the whole stint takes an open offer. Confirming is an
edit like an editor's (`edits.plan_edit`: the same checks and the same
preview), a swap or a handover written into the roster's `swaps:`, saved
with the taker's name on the audit entry and in the roster history, and the
offer is closed in the same step (`save_edit(also=...)`): of two people
confirming one offer at once, one saves and the other is told.

Every call takes `now`; an offer expires when its stint begins. Who may do
what is checked here, for the person given: `NotAllowed` carries the
sentence a refusal shows.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime

from scheduler.errors import RotaError, StaleVersion
from scheduler.roster.edits import Edit, EditError, plan_edit, save_edit
from scheduler.store.auditlog import Entry
from scheduler.store.offers import Offer, OfferClosed, new_id, why_closed
from scheduler.team import Team


@dataclass(frozen=True)
class Person:
    """Who acts: their email (lower-case) and the name the audit log shows."""

    email: str
    name: str


class NotAllowed(RotaError):
    """This person may not do this: the sentence says why."""


class TradeRefused(RotaError):
    """The trade cannot happen (the rotation's rules, a stint that moved):
    the sentence says why. `field` names the form input at fault, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class PreviewChanged(RotaError):
    """The trade would now give another roster than the one previewed:
    `edit` is the new preview."""

    def __init__(self, edit: Edit):
        super().__init__("This trade no longer gives the roster you previewed (someone changed the roster, or "
                         "the day turned). Check it again and confirm.")
        self.edit = edit


def upcoming_stints(team: Team, email: str, now: datetime, weeks: int) -> list:
    """`email`'s stints that begin after `now`, in the next `weeks` weeks."""
    schedule = team.schedule()
    return [w.incoming for w in schedule.weeks(schedule.coming(now, weeks))
            if w.incoming.start > now and w.incoming.member == email]


def make_offer(team: Team, person: Person, week: date, now: datetime, to: str | None = None,
               to_week: date | None = None, note: str = "") -> Offer:
    """Offer `person`'s stint of the week of `week`: to `to` for their stint
    of the week of `to_week` (a swap), or to anyone. A swap is checked now
    as it would be saved, so that one breaking the rules is refused before
    the teammate is asked."""
    stint = _upcoming(team, week, now, "week")
    if stint.member != person.email:
        raise NotAllowed(f"The stint of the week of {week.isoformat()} is not yours to offer "
                         f"({team.roster.name_of(stint.member)} holds it).")
    if to is not None:
        to = to.strip().lower()
        if to == person.email:
            raise TradeRefused("Offer a swap to someone else.", "to")
        if team.roster.member(to) is None:
            raise TradeRefused(f"{to} is not on the roster.", "to")
        if to_week is None:
            raise TradeRefused("Pick the stint of theirs you would take in return.", "to_week")
        theirs = _upcoming(team, to_week, now, "to_week")
        if theirs.member != to:
            raise TradeRefused(f"{team.roster.name_of(to)} does not hold the stint of the week of "
                               f"{to_week.isoformat()} ({team.roster.name_of(theirs.member)} does).", "to_week")
        _plan(team, "swap", {"week": week.isoformat(), "with_week": to_week.isoformat()}, now)
    elif to_week is not None:
        raise TradeRefused("An open offer takes nothing in return: name a teammate to ask for a swap.", "to")
    offer = Offer(new_id(), week, person.email, to, to_week, stint.start, now, note.strip())
    offer = team.store.add_offer(offer)
    _audit(team, "offer", offer, person, now)
    return offer


def preview(team: Team, offer_id: str, person: Person, now: datetime) -> tuple[Offer, Edit]:
    """What confirming the offer would do, for `person` (who must be the
    teammate a swap names, or any member who can serve an open offer's stint)."""
    offer = find(team, offer_id, now)
    if offer.is_swap:
        if person.email != offer.to:
            raise NotAllowed(f"Only {team.roster.name_of(offer.to)} can accept this swap.")
        kind, fields = "swap", {"week": offer.week.isoformat(), "with_week": offer.to_week.isoformat()}
    else:
        if person.email == offer.member:
            raise NotAllowed("You cannot take your own offer: withdraw it instead.")
        kind, fields = "handover", {"week": offer.week.isoformat(), "with": person.email}
    edit = _plan(team, kind, fields, now)
    held = _holders(team, offer)
    if held:
        raise TradeRefused(held)
    return offer, edit


def confirm(team: Team, offer_id: str, person: Person, now: datetime, previewed: str | None = None) -> Offer:
    """Take or accept the offer: save the previewed trade (refused with
    PreviewChanged when the same trade would now give other bytes than
    `previewed`) and close the offer in the same step. Raises OfferClosed
    when someone else closed it first (or it expired)."""
    offer, edit = preview(team, offer_id, person, now)
    if previewed and previewed != edit.version:
        raise PreviewChanged(edit)
    state = "accepted" if offer.is_swap else "taken"
    try:
        save_edit(team, edit, person, now,
                  also=lambda: team.store.close_offer(offer.id, state, person.email, now))
    except StaleVersion:
        current = _by_id(team, offer.id)
        if current is not None and not current.is_open(now):
            raise OfferClosed(why_closed(current, now), current) from None
        raise
    return dataclasses.replace(offer, state=state, closed_by=person.email, closed_at=now.replace(microsecond=0))


def decline(team: Team, offer_id: str, person: Person, now: datetime) -> Offer:
    offer = find(team, offer_id, now)
    if not offer.is_swap or person.email != offer.to:
        raise NotAllowed("Only the teammate a swap is offered to can decline it.")
    closed = team.store.close_offer(offer.id, "declined", person.email, now)
    _audit(team, "decline", closed, person, now)
    return closed


def withdraw(team: Team, offer_id: str, person: Person, now: datetime, editor: bool = False) -> Offer:
    offer = find(team, offer_id, now)
    if person.email != offer.member and not editor:
        raise NotAllowed("Only the member who made an offer, or an editor, can withdraw it.")
    closed = team.store.close_offer(offer.id, "withdrawn", person.email, now)
    _audit(team, "withdraw", closed, person, now)
    return closed


def find(team: Team, offer_id: str, now: datetime) -> Offer:
    """The offer, open at `now`; OfferClosed (with the reason) otherwise."""
    offer = _by_id(team, offer_id)
    if offer is None or not offer.is_open(now):
        raise OfferClosed(why_closed(offer, now), offer)
    return offer


def open_offers(team: Team, now: datetime) -> list[Offer]:
    return [o for o in team.store.offers() if o.is_open(now)]


def can_take(team: Team, offer: Offer, email: str, now: datetime) -> str | None:
    """Why `email` cannot take the open offer, or None when they can."""
    if offer.is_swap or email == offer.member:
        return "not theirs to take"
    member = team.roster.member(email)
    if member is None:
        return "not on the roster"
    schedule = team.schedule()
    index = schedule.week_index(offer.week)
    return schedule.rotation.unavailable(email, index) if index is not None else "not a rotation week"


# -- inside -----------------------------------------------------------------------------
def _by_id(team: Team, offer_id: str) -> Offer | None:
    return next((o for o in team.store.offers() if o.id == offer_id), None)


def _upcoming(team: Team, monday: date, now: datetime, field: str):
    schedule = team.schedule()
    index = schedule.week_index(monday)
    if index is None or index < 0:
        raise TradeRefused(f"{monday.isoformat()} is not the Monday of a rotation week.", field)
    stint = schedule.stint(index)
    if stint.start <= now:
        raise TradeRefused(f"The stint of the week of {monday.isoformat()} has begun: only upcoming stints "
                           "can be traded.", field)
    if stint.member is None:
        raise TradeRefused(f"The week of {monday.isoformat()} is a gap: nobody holds it.", field)
    return stint


def _holders(team: Team, offer: Offer) -> str | None:
    """Why the offer no longer matches the rotation (another change moved
    the stints since it was made), or None."""
    schedule = team.schedule()
    for monday, email in ((offer.week, offer.member), (offer.to_week, offer.to)):
        if monday is None:
            continue
        held = schedule.stint(schedule.week_index(monday)).member
        if held != email:
            return (f"The rotation changed since this offer was made: {team.roster.name_of(email)} no longer "
                    f"holds the stint of the week of {monday.isoformat()} ({team.roster.name_of(held)} does).")
    return None


def _plan(team: Team, kind: str, fields: dict, now: datetime) -> Edit:
    try:
        return plan_edit(team, kind, fields, now)
    except EditError as e:
        raise TradeRefused(f"{e.message[:1].upper()}{e.message[1:]}" if e.message else str(e),
                           e.field) from None


def _audit(team: Team, action: str, offer: Offer, person: Person, now: datetime) -> None:
    detail = {"offer": offer.id, "week": offer.week.isoformat(), "member": offer.member, "by": person.name}
    if offer.is_swap:
        detail.update(to=offer.to, to_week=offer.to_week.isoformat())
    team.store.append_audit([Entry("trades", action, offer.member, "ok", detail)], actor=person.email, now=now)
