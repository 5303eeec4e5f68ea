"""Members' out-of-office events, read from their primary calendars through
the service account with domain-wide delegation.

The contract the absence import relies on:

* `list(email, start, end)` returns the out-of-office events of `email`'s
  primary calendar that overlap the window, recurring ones expanded into
  their instances (``events.list`` with ``eventTypes=outOfOffice``,
  ``singleEvents=true``): one list call per member per window, its pages
  followed (2,500 events a page). The service account acts as the member
  (``with_subject``), with the narrowest scope,
  ``calendar.events.readonly``: one token request per member;
* a member whose calendar cannot be read raises `Unreadable` with the
  reason, and the caller goes on with the others: Google's token server
  refusing the subject (delegation not granted: 401 unauthorized_client;
  not a user of the domain: 400 invalid_grant "Invalid email or User ID"),
  or the Calendar API answering 400, 403 (other than a rate limit) or 404;
* anything that would fail the same way for every member raises
  `ServiceError` and ends the import: Google unreachable (refused, timed
  out, unknown name, TLS; not retried, as for the calendar sync), the token
  server refusing the service account itself, ``quotaExceeded``, rate
  limits past the budget, or the run's deadline. Rate limits (403
  rateLimitExceeded / userRateLimitExceeded, 429) and 5xx are retried with
  backoff and jitter within the same `Patience` as every other sync, and
  every request has its read timeout, cut short by the deadline.
"""

from __future__ import annotations

from datetime import datetime

import google_auth_httplib2
import httplib2
from google.auth.exceptions import GoogleAuthError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from scheduler.errors import ServiceError
from scheduler.sync import transport
from scheduler.sync.google.client import (
    DEFAULT_ENDPOINT, PAGE_SIZE, TRANSPORT_ERRORS, _auth_reason, _BoundedCredentials, _CalendarAPI, _quota_message,
    _reason, _retryable, _status, _TokenUnreachable, retry_if_it_may_pass, retry_until_patience_ends,
)
from scheduler.sync.retry import Patience, Retry, Tries

SCOPE = "https://www.googleapis.com/auth/calendar.events.readonly"
OUT_OF_OFFICE = "outOfOffice"
UNREADABLE_STATUSES = (400, 403, 404)


class Unreadable(Exception):
    """This member's calendar cannot be read; `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class OutOfOfficeClient(_CalendarAPI):
    def __init__(self, credentials, *, endpoint: str | None = None, patience: Patience | None = None,
                 page_size: int = PAGE_SIZE):
        # The service account's own credentials, narrowed to reading events;
        # each member's are these acting as them.
        self.credentials = credentials.with_scopes([SCOPE]) if hasattr(credentials, "with_scopes") else credentials
        self.account = getattr(credentials, "service_account_email", None) or "the service account"
        self.patience = patience or Patience()
        self.endpoint = endpoint or DEFAULT_ENDPOINT
        self.page_size = page_size
        self.timeout = self.patience.request_timeouts()[1]
        # One pool of connections for every member's requests, and one for the token server.
        self.http = httplib2.Http(timeout=self.timeout)
        self.token_http = httplib2.Http(timeout=self.timeout)
        self.service = build("calendar", "v3", http=self.http, static_discovery=True, cache_discovery=False,
                             client_options={"api_endpoint": self.endpoint})
        self.events = self.service.events()
        self.down: str | None = None

    def close(self) -> None:
        self.service.close()
        self.token_http.close()

    def _connections(self) -> tuple[httplib2.Http, ...]:
        return self.http, self.token_http

    def __enter__(self) -> OutOfOfficeClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def list(self, email: str, start: datetime, end: datetime) -> list[dict]:
        """The member's out-of-office events overlapping `start`..`end`,
        instances of recurring ones included, cancelled ones left out."""
        member = _BoundedCredentials(self.credentials.with_subject(email), self.timeout)
        member.http.close()
        member.http = self.token_http
        http = google_auth_httplib2.AuthorizedHttp(member, http=self.http)
        events, token = [], None
        while True:
            request = self.events.list(
                calendarId=email, eventTypes=[OUT_OF_OFFICE], singleEvents=True, timeMin=start.isoformat(),
                timeMax=end.isoformat(), maxResults=self.page_size, pageToken=token)
            page = self._execute(request, http, member, email)
            events.extend(e for e in page.get("items", [])
                          if e.get("status") != "cancelled" and e.get("eventType", OUT_OF_OFFICE) == OUT_OF_OFFICE)
            token = page.get("nextPageToken")
            if not token:
                return events

    # -- one request ------------------------------------------------------------------
    def _execute(self, request, http, member: _BoundedCredentials, email: str) -> dict:
        what = f"list {email}'s out-of-office events"

        def ask():
            stop = self._cannot_ask()
            if stop is not None:
                raise ServiceError(f"Google Calendar could not {what}: {stop}")
            return request.execute(http=http, num_retries=0)

        def classify(answer, tries: Tries) -> Retry | None:
            if isinstance(answer, HttpError):
                return self._classify_answer(answer, what)
            if isinstance(answer, TRANSPORT_ERRORS + (_TokenUnreachable,)):
                failure = self._failure(answer)
                if not failure.retryable:
                    self.down = str(failure)  # the next members are not asked: one line says why
                return retry_if_it_may_pass(str(failure), failure.retryable, what, tries)
            if isinstance(answer, GoogleAuthError):  # the token server answered, and said no
                raise self._refused(answer, member)
            return None

        return self.patience.call(ask, classify)

    def _classify_answer(self, e: HttpError, what: str) -> Retry:
        if _reason(e) == "quotaExceeded":
            raise ServiceError(_quota_message())
        kind = _retryable(e)
        if not kind and _status(e) in UNREADABLE_STATUSES:
            raise Unreadable(f"{self._answered(e)}: the calendar is not readable as its owner")
        if not kind:
            raise ServiceError(f"Google Calendar could not {what}: {self._answered(e)}")
        return retry_until_patience_ends(self.patience, what, self._answered(e), rate_limited=kind == "rate")

    def _refused(self, e: GoogleAuthError, member: _BoundedCredentials) -> Exception:
        """The token server's no: about this member (delegation, domain), or
        about the service account itself (then it is no for everyone)."""
        said = _auth_reason(e)
        host, port = transport.host_port(member.token_uri)
        if said.startswith("unauthorized_client"):
            return Unreadable(f"domain-wide delegation is not granted to the service account {self.account} for "
                              f"the scope {SCOPE} (Google's token server at {host}:{port}: {said})")
        if "Invalid email or User ID" in said:
            return Unreadable(f"not a user of the Google Workspace domain (Google's token server at "
                              f"{host}:{port}: {said})")
        return ServiceError(f"Google's token server at {host}:{port} refused the service account "
                            f"{self.account}: {said}")
