"""Slack posts about trade offers, each at most once across every process.

The post is claimed in the store first (`Store.claim_offer_post`), then
sent: two instances handling the same offer never both post it. A post that
fails after its claim is not sent again (Slack may have taken it); the
person who acted is told why, and it is logged.
"""

from __future__ import annotations

import time

from scheduler.errors import ServiceError
from scheduler.publish import tradenotice
from scheduler.store.base import Store
from scheduler.store.offers import Offer
from scheduler.sync.retry import Patience

PAGE_WAIT = 5.0  # seconds a page waits for Slack at most: someone is waiting for the answer


def announce(store: Store, roster, offer: Offer, what: str, url: str | None, now, *, page: str | None = None,
             by: str | None = None, timeouts=None, patience: Patience | None = None) -> str | None:
    """Post `what` ("offer" or "outcome") about `offer` unless it was posted
    already; None when done (or nothing to do), else why it failed."""
    if not url or not store.claim_offer_post(offer.id, what, now):
        return None
    from scheduler.sync import slack  # only when a post goes out: slack_sdk is not free to import

    if patience is None:
        patience = Patience(retries=1, timeouts=timeouts, deadline=time.monotonic() + PAGE_WAIT)
    try:
        slack.post(url, {"text": tradenotice.text(roster, offer, what, page, by), "unfurl_links": False}, patience)
    except ServiceError as e:
        # Claimed already: nothing will post it later, so say so instead of "next run".
        return str(e).replace("; the next run will try again", "") + ": it will not be posted again"
    return None
