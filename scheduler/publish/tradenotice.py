"""What Slack is told about a trade offer: the offer, then its outcome."""

from __future__ import annotations

from scheduler.core.model import Roster
from scheduler.store.offers import Offer


def text(roster: Roster, offer: Offer, what: str, page: str | None = None, by: str | None = None) -> str:
    """The message about `offer`: `what` is "offer" or "outcome" (its state
    as closed); `page` the trades page's address; `by` the name of who
    closed it, when not the email the offer keeps."""
    name = lambda email: _esc(roster.name_of(email))  # noqa: E731
    week = offer.week.isoformat()
    if what == "offer":
        if offer.is_swap:
            line = (f"{name(offer.member)} offers {name(offer.to)} a swap: {name(offer.member)}'s stint of the week "
                    f"of {week} for {name(offer.to)}'s of the week of {offer.to_week.isoformat()}.")
        else:
            line = (f"{name(offer.member)}'s stint of the week of {week} is on offer: anyone free for all of it "
                    "can take it.")
        if offer.note:
            line += f" ({_esc(offer.note)})"
        return line + (f" <{page}|Trades on the rota page>" if page else "")
    who = _esc(by) if by else name(offer.closed_by)
    if offer.state == "taken":
        return f"{who} took {name(offer.member)}'s stint of the week of {week}."
    if offer.state == "accepted":
        return (f"{who} accepted {name(offer.member)}'s swap: {who} now has the stint of the week of {week}, "
                f"{name(offer.member)} the one of the week of {offer.to_week.isoformat()}.")
    if offer.state == "declined":
        return f"{who} declined {name(offer.member)}'s swap of the week of {week}."
    return f"{name(offer.member)}'s offer of the stint of the week of {week} was withdrawn by {who}."


def _esc(text: str) -> str:
    """Slack mrkdwn: &, < and > are control characters (links, mentions)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
