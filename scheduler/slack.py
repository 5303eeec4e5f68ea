"""Slack, through slack_sdk's incoming-webhook client: post one message.

A 429 waits for Retry-After within the budget; a 5xx, or a connection that
never reached Slack, retries with backoff and jitter (slack_sdk's own retry
handlers are turned off: they sleep on the real clock and would re-send a
message whose answer was lost, posting it twice). A request that went out
but got no answer raises `SlackUncertain`; anything else is a `SlackError`
carrying Slack's error string (invalid_payload, no_service, ...). The
webhook URL is a secret: it is never printed.
"""

from __future__ import annotations

import http.client
import urllib.error

from slack_sdk.webhook import WebhookClient

from .errors import RotaError
from .retry import Patience, retry_after_seconds


class SlackError(RotaError):
    exit_code = 1


class SlackUncertain(SlackError):
    """The request went out but no answer came back: the message may have
    been posted. Posting again could post it twice."""


def post(url: str, payload: dict, patience: Patience | None = None, timeout: float = 15) -> None:
    p = patience or Patience()
    client = WebhookClient(url, timeout=timeout, retry_handlers=[])
    attempt, rate_limited = 0, 0.0
    while True:
        try:
            response = client.send_dict(payload)
        except (ConnectionResetError, TimeoutError, http.client.HTTPException) as e:
            # Sent, but the answer was lost (RemoteDisconnected is a ConnectionResetError).
            raise SlackUncertain(f"Slack did not answer ({type(e).__name__}) after the message was sent") from None
        except (urllib.error.URLError, ConnectionError, OSError) as e:
            # Never reached Slack (refused, unreachable): safe to try again.
            if attempt >= p.retries:
                raise SlackError(f"Slack did not answer after {attempt + 1} tries ({type(e).__name__}); "
                                 "the next run will try again") from None
            p.wait(p.backoff_delay(attempt))
            attempt += 1
            continue
        if response.status_code == 200:
            return
        if response.status_code == 429:
            headers = response.headers or {}
            wait = retry_after_seconds(headers.get("Retry-After") or headers.get("retry-after"))
            if rate_limited + wait > p.budget:
                raise SlackError(f"Slack rate limit: still limited after {rate_limited:.0f} s; the next run will try again")
            rate_limited += wait
            p.wait(wait)
            continue
        if response.status_code >= 500 and attempt < p.retries:
            p.wait(p.backoff_delay(attempt))
            attempt += 1
            continue
        raise SlackError(f"Slack refused the message: {response.status_code} {(response.body or '').strip()}")

