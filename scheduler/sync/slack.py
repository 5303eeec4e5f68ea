"""Slack, through slack_sdk's incoming-webhook client: post one message.

Every request has the patience's read timeout (urllib has one timeout, for
connecting and for the answer) and none goes out past its deadline. A 429
waits for Retry-After within the budget; a 5xx retries with backoff and
jitter (slack_sdk's own retry handlers are turned off: they sleep on the
real clock and would re-send a message whose answer was lost, posting it
twice). A connection that never reached Slack (refused, unknown name, TLS,
no connection in time) is a `ServiceError` naming host, port and cause, and
the next run tries again. A request that went out but got no answer raises
`SlackUncertain`; an answer other than 200 is a `ServiceError` carrying
Slack's error string (invalid_payload, no_service, ...). The webhook URL is
a secret: only its host and port are ever printed.
"""

from __future__ import annotations

import http.client
import logging
import urllib.error
from urllib.parse import urlsplit

from slack_sdk.webhook import WebhookClient

from scheduler.errors import ServiceError
from scheduler.sync.retry import Patience, Retry, Tries, retry_after_seconds


# slack_sdk logs each failed request itself; our ServiceError says it once, better.
_QUIET = logging.getLogger("rota.slack_sdk")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


class SlackUncertain(ServiceError):
    """The request went out but no answer came back: the message may have
    been posted. Posting again could post it twice."""


def post(url: str, payload: dict, patience: Patience | None = None) -> None:
    p = patience or Patience()
    client = WebhookClient(url, retry_handlers=[], logger=_QUIET)

    def ask():
        if not p.allows(0):
            raise ServiceError(f"Slack at {_where(url)}: not asked: the run's deadline has passed; "
                               "the next run will try again")
        client.timeout = p.request_timeouts()[1]
        return client.send_dict(payload)

    def classify(answer, tries: Tries) -> Retry | None:
        if isinstance(answer, (ConnectionResetError, TimeoutError, http.client.HTTPException)):
            # Sent, but the answer was lost (RemoteDisconnected is a ConnectionResetError).
            raise SlackUncertain(f"{_failure(url, answer, client.timeout)} after the message was sent")
        if isinstance(answer, (urllib.error.URLError, ConnectionError, OSError)):
            # Never reached Slack: nothing was posted; a refusal or an unknown
            # name will not cure itself in seconds, so the next run tries again.
            failure = _failure(url, answer, client.timeout)
            gone = ServiceError(f"{failure}; the next run will try again")
            if failure.retryable:
                return Retry(lambda tries: gone)
            raise gone
        if isinstance(answer, BaseException) or answer.status_code == 200:
            return None
        if answer.status_code == 429:
            headers = answer.headers or {}
            wait = retry_after_seconds(headers.get("Retry-After") or headers.get("retry-after"))
            return Retry(lambda tries: ServiceError(f"Slack rate limit: still limited after {tries.rate_waited:.0f} s; "
                                                    "the next run will try again"), wait=wait, rate_limited=True)
        refused = ServiceError(f"Slack refused the message: {answer.status_code} {(answer.body or '').strip()}")
        if answer.status_code >= 500:
            return Retry(lambda tries: refused)
        raise refused

    p.call(ask, classify)


def _failure(url: str, e: BaseException, seconds: float):
    from scheduler.sync import transport  # only on failure: it imports requests and httplib2

    return transport.failure("Slack", url, e, connect=seconds, read=seconds)


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or (80 if parts.scheme == 'http' else 443)}"
