"""Trade offers waiting for a second person, and the folder store's file of
them (``NAME.offers.jsonl`` beside the roster).

An offer is a member's upcoming stint offered either to one teammate for
one of theirs (a swap: `to` and `to_week`) or to anyone (`to` None). It
stays open until someone closes it (taken, accepted, declined, withdrawn)
or its stint begins (`expires`): then it is expired, which needs nobody to
write anything, so it is computed from the `now` each caller passes.

The file is a log, one JSON object a line, only ever appended to::

    {"event": "offer", "id": "...", "week": "2027-03-01", "member": "ada@x.org", "to": null,
     "to_week": null, "expires": "2027-03-01T09:00:00-05:00", "at": "...", "note": ""}
    {"event": "close", "id": "...", "state": "taken", "by": "bob@x.org", "at": "..."}
    {"event": "posted", "id": "...", "what": "offer", "at": "..."}

Every change is checked and appended under a lock on the file itself, so
that of two people taking one offer at once exactly one closes it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from scheduler.errors import FileError, RotaError
from scheduler.store import jsonlines

OPEN = "open"
CLOSED_STATES = ("taken", "accepted", "declined", "withdrawn")
POSTS = ("offer", "outcome")  # what is posted to Slack about an offer, once each


@dataclass(frozen=True)
class Offer:
    id: str
    week: date  # the Monday of the week the offered stint begins
    member: str  # who offers it
    to: str | None  # a swap: the teammate asked; None: open to anyone
    to_week: date | None  # a swap: the Monday of the teammate's stint given in return
    expires: datetime  # the offered stint's handoff: the offer ends when it begins
    offered_at: datetime
    note: str = ""
    state: str = OPEN  # open, or one of CLOSED_STATES
    closed_by: str | None = None
    closed_at: datetime | None = None

    @property
    def is_swap(self) -> bool:
        return self.to is not None

    def status(self, now: datetime) -> str:
        """The state at `now`: an open offer whose stint has begun is expired."""
        if self.state == OPEN and now >= self.expires:
            return "expired"
        return self.state

    def is_open(self, now: datetime) -> bool:
        return self.status(now) == OPEN


def new_id() -> str:
    return secrets.token_hex(8)


class OfferClosed(RotaError):
    """The offer cannot be closed now: someone else closed it first, it
    expired, or there is no such offer. `offer` is it as it now stands."""

    def __init__(self, message: str, offer: Offer | None = None):
        super().__init__(message)
        self.offer = offer


class OfferRefused(RotaError):
    """An offer that cannot be kept (the same stint is already on offer)."""


def why_closed(offer: Offer | None, now: datetime) -> str:
    """The sentence a person is told when an offer is no longer open."""
    if offer is None:
        return "There is no such offer."
    status = offer.status(now)
    if status == "expired":
        return f"This offer expired: the stint of the week of {offer.week.isoformat()} has begun."
    by = f" by {offer.closed_by}" if offer.closed_by else ""
    return f"This offer was already {status}{by}."


def check_close(offer: Offer | None, state: str, now: datetime) -> None:
    """Raise OfferClosed unless `offer` can be closed as `state` at `now`."""
    if state not in CLOSED_STATES:
        raise ValueError(f"unknown state {state!r}")
    if offer is None or not offer.is_open(now):
        raise OfferClosed(why_closed(offer, now), offer)


def refuse_duplicate(offers, offer: Offer) -> None:
    """One open offer per stint: a second would let two people take it."""
    for kept in offers:
        if kept.member == offer.member and kept.week == offer.week and kept.is_open(offer.offered_at):
            raise OfferRefused(f"the stint of the week of {offer.week.isoformat()} is already on offer")


# -- the folder store's file ------------------------------------------------------------
def load(path: Path) -> tuple[dict[str, Offer], set[tuple[str, str]]]:
    """The offers by id, in the order they were made, and the (id, what)
    posts claimed."""
    offers: dict[str, Offer] = {}
    posted: set[tuple[str, str]] = set()
    for n, e in jsonlines.read(path):
        try:
            if e["event"] == "offer":
                offers[e["id"]] = Offer(
                    e["id"], date.fromisoformat(e["week"]), e["member"], e.get("to"),
                    date.fromisoformat(e["to_week"]) if e.get("to_week") else None,
                    datetime.fromisoformat(e["expires"]), datetime.fromisoformat(e["at"]), e.get("note", ""))
            elif e["event"] == "close" and e["id"] in offers:
                offers[e["id"]] = replace(offers[e["id"]], state=e["state"], closed_by=e.get("by"),
                                          closed_at=datetime.fromisoformat(e["at"]))
            elif e["event"] == "posted":
                posted.add((e["id"], e["what"]))
        except (ValueError, KeyError, TypeError) as error:
            raise FileError(path, n, None, f"not an offer entry ({error})") from None
    return offers, posted


def add(path: Path, offer: Offer) -> Offer:
    with jsonlines.opened(path, lock=True) as fd:  # the check and the append, as one step
        offers, _ = load(path)
        refuse_duplicate(offers.values(), offer)
        jsonlines.append(fd, [{"event": "offer", "id": offer.id, "week": offer.week.isoformat(), "member": offer.member,
                    "to": offer.to, "to_week": offer.to_week.isoformat() if offer.to_week else None,
                    "expires": offer.expires.isoformat(), "at": offer.offered_at.isoformat(timespec="seconds"),
                    "note": offer.note}])
    return offer


def close(path: Path, offer_id: str, state: str, by: str, now: datetime) -> Offer:
    with jsonlines.opened(path, lock=True) as fd:
        offers, _ = load(path)
        offer = offers.get(offer_id)
        check_close(offer, state, now)
        at = now.replace(microsecond=0)
        jsonlines.append(fd, [{"event": "close", "id": offer_id, "state": state, "by": by, "at": at.isoformat()}])
    return replace(offer, state=state, closed_by=by, closed_at=at)


def claim_post(path: Path, offer_id: str, what: str, now: datetime) -> bool:
    if what not in POSTS:
        raise ValueError(f"unknown post {what!r}")
    with jsonlines.opened(path, lock=True) as fd:
        offers, posted = load(path)
        if offer_id not in offers or (offer_id, what) in posted:
            return False
        jsonlines.append(fd, [{"event": "posted", "id": offer_id, "what": what,
                               "at": now.isoformat(timespec="seconds")}])
        return True
