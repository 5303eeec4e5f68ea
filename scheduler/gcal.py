"""Google Calendar, through google-api-python-client: the calls a calendar
sync needs.

The contract the sync relies on:

* `list_owned(mark, start, end)` returns every event carrying that private
  mark (a team's id, or the slug an earlier release marked it with) that
  overlaps the window, cancelled ones included, in as few requests as
  Google allows (2,500 events a page);
* `write(changes)` sends inserts, updates and deletes in batch requests of at
  most 50, retrying the parts (or whole batches) that hit a rate limit
  (403 rateLimitExceeded / userRateLimitExceeded, 429) or a server error,
  with exponential backoff and jitter within a budget, and reports per change
  what happened. An insert that answers 409 for its own id (an earlier
  attempt did land, or the event was deleted long ago) is resolved by
  reading the event and updating it if needed; deleting an event that is
  already gone succeeds. `quotaExceeded` (a daily limit) stops at once;
* credentials: a service account key from GOOGLE_APPLICATION_CREDENTIALS,
  acting as `delegate` when domain-wide delegation is set up (needed to
  invite attendees). ROTA_GOOGLE_API_ENDPOINT points the client elsewhere
  (tests, staging); the batch URI is derived from it, because
  `new_batch_http_request()` would always post to Google's own.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httplib2
from google.auth.exceptions import GoogleAuthError, TransportError
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from .core.calendarplan import MARK, Delete, Insert, Update, differences, same_owner
from .errors import RotaError
from .retry import Patience

SCOPE = "https://www.googleapis.com/auth/calendar"
DEFAULT_ENDPOINT = "https://www.googleapis.com/calendar/v3/"
BATCH_SIZE = 50
PAGE_SIZE = 2500
RATE_LIMITS = {"rateLimitExceeded", "userRateLimitExceeded"}
TRANSPORT_ERRORS = (httplib2.HttpLib2Error, ConnectionError, socket.timeout, OSError, TransportError)


class GoogleError(RotaError):
    exit_code = 1


class GoogleConfigError(RotaError):
    exit_code = 2


@dataclass
class Outcome:
    change: Insert | Update | Delete
    error: str | None = None  # None: done

    @property
    def ok(self) -> bool:
        return self.error is None


class CalendarClient:
    def __init__(self, calendar_id: str, credentials, *, endpoint: str | None = None,
                 patience: Patience | None = None, send_updates: str = "none", timeout: float = 30):
        self.calendar_id = calendar_id
        self.send_updates = send_updates
        self.patience = patience or Patience()
        endpoint = endpoint or DEFAULT_ENDPOINT
        self.service = build(
            "calendar", "v3", credentials=credentials, static_discovery=True, cache_discovery=False,
            client_options={"api_endpoint": endpoint},
        )
        self.service._http.http.timeout = timeout
        # Built once: each service.events() call rebuilds every method and its
        # docstring from the discovery document (milliseconds a call).
        self.events = self.service.events()
        self.batch_uri = batch_uri(endpoint)

    def close(self) -> None:
        """Close the HTTP connections (googleapiclient keeps them open)."""
        self.service.close()

    def __enter__(self) -> CalendarClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------
    def list_owned(self, mark: str, start: datetime, end: datetime) -> list[dict]:
        events, token = [], None
        while True:
            request = self.events.list(
                calendarId=self.calendar_id, privateExtendedProperty=f"{MARK}={mark}", showDeleted=True,
                timeMin=start.isoformat(), timeMax=end.isoformat(), maxResults=PAGE_SIZE, pageToken=token,
            )
            page = self._execute(request, "list the calendar's events")
            events.extend(page.get("items", []))
            token = page.get("nextPageToken")
            if not token:
                return events

    def get(self, event_id: str) -> dict | None:
        request = self.events.get(calendarId=self.calendar_id, eventId=event_id)
        return self._execute(request, f"read event {event_id}", missing_ok=True)

    # -- writing ------------------------------------------------------------------
    def write(self, changes: list[Insert | Update | Delete]) -> list[Outcome]:
        """Apply every change, in batches; returns one outcome per change."""
        outcomes = {id(c): Outcome(c) for c in changes}
        pending, attempt, rate_waited = list(changes), 0, 0.0
        conflicts: list[Insert] = []
        while pending:
            retry, limited = [], False
            for chunk in _chunks(pending, BATCH_SIZE):
                try:
                    results = self._batch(chunk)
                except TRANSPORT_ERRORS + (HttpError,) as e:
                    if isinstance(e, HttpError) and _reason(e) == "quotaExceeded":
                        raise GoogleError(_quota_message()) from None
                    retry.extend(chunk)  # the whole batch failed: send it again
                    limited = limited or (isinstance(e, HttpError) and _retryable(e) == "rate")
                    continue
                for change, _response, error in results:
                    if error is None:
                        outcomes[id(change)].error = None
                    elif isinstance(change, Insert) and _status(error) == 409:
                        conflicts.append(change)
                    elif isinstance(change, Delete) and _status(error) in (404, 410):
                        outcomes[id(change)].error = None  # already gone
                    elif _reason(error) == "quotaExceeded":
                        raise GoogleError(_quota_message()) from None
                    elif _retryable(error):
                        retry.append(change)
                        limited = limited or _retryable(error) == "rate"
                    else:
                        outcomes[id(change)].error = _describe(error)
            pending = retry
            if pending:
                if attempt >= self.patience.retries and not limited:
                    for change in pending:
                        outcomes[id(change)].error = "Google kept failing; the next run will retry"
                    break
                delay = self.patience.backoff_delay(min(attempt, 6))
                if limited and rate_waited + delay > self.patience.budget:
                    for change in pending:
                        outcomes[id(change)].error = "rate limited past the budget; the next run will carry on"
                    break
                rate_waited += delay if limited else 0
                self.patience.wait(delay)
                attempt += 1
        if conflicts:
            self._resolve_conflicts(conflicts, outcomes)
        return [outcomes[id(c)] for c in changes]

    def _resolve_conflicts(self, inserts: list[Insert], outcomes: dict) -> None:
        """Inserts answered 409: the id exists. Read those events (in
        batches) and, where they are ours, make them right."""
        fixes = []
        for insert, (current, error) in zip(inserts, self._read_many([i.event_id for i in inserts])):
            if current is None:
                outcomes[id(insert)].error = f"Google said the event exists but cannot read it: {error}"
            elif not same_owner(insert.body, current):  # e.g. another team's, from an earlier release
                outcomes[id(insert)].error = (f"event id {insert.event_id} is taken by an event rota does "
                                              "not own; left alone")
            elif current.get("status") == "cancelled" or differences(insert.body, current):
                fixes.append(insert)
            else:
                outcomes[id(insert)].error = None  # a retried insert that had landed
        for insert, outcome in zip(fixes, self.write([Update(i.body, "restore") for i in fixes])):
            outcomes[id(insert)].error = outcome.error

    def _read_many(self, event_ids: list[str]) -> list[tuple[dict | None, str | None]]:
        found = []
        for chunk in _chunks(event_ids, BATCH_SIZE):
            try:
                results = self._batch([_Read(i) for i in chunk])
            except TRANSPORT_ERRORS + (HttpError,) as e:
                found.extend((None, str(e)) for _ in chunk)
                continue
            found.extend((response, _describe(error) if error else None) for _, response, error in results)
        return found

    def _batch(self, chunk: list) -> list[tuple[object, dict | None, HttpError | None]]:
        answers: dict[str, tuple] = {}

        def collect(request_id, response, exception):
            answers[request_id] = (response, exception)

        batch = BatchHttpRequest(callback=collect, batch_uri=self.batch_uri)
        for i, change in enumerate(chunk):
            batch.add(self._request(change), request_id=str(i))
        batch.execute(http=self.service._http)
        return [(change, *answers.get(str(i), (None, None))) for i, change in enumerate(chunk)]

    def _request(self, change):
        events, cid, send = self.events, self.calendar_id, self.send_updates
        if isinstance(change, _Read):
            return events.get(calendarId=cid, eventId=change.event_id)
        if isinstance(change, Insert):
            return events.insert(calendarId=cid, body=change.body, sendUpdates=send)
        if isinstance(change, Update):
            return events.update(calendarId=cid, eventId=change.event_id, body=change.body, sendUpdates=send)
        return events.delete(calendarId=cid, eventId=change.event_id, sendUpdates=send)

    # -- single requests ------------------------------------------------------------
    def _execute(self, request, what: str, missing_ok: bool = False):
        attempt, rate_waited = 0, 0.0
        while True:
            try:
                return request.execute(num_retries=0)
            except HttpError as e:
                kind = _retryable(e)
                if missing_ok and _status(e) == 404:
                    return None
                if _reason(e) == "quotaExceeded":
                    raise GoogleError(_quota_message()) from None
                if not kind or (attempt >= self.patience.retries and kind != "rate"):
                    raise GoogleError(f"Google Calendar could not {what}: {_describe(e)}") from None
                delay = self.patience.backoff_delay(min(attempt, 6))
                if kind == "rate":
                    if rate_waited + delay > self.patience.budget:
                        raise GoogleError(f"Google Calendar rate limit: could not {what} within "
                                          f"{self.patience.budget:.0f} s; the next run will carry on") from None
                    rate_waited += delay
            except GoogleAuthError as e:
                raise GoogleError(f"Google refused the service account: {e}") from None
            except TRANSPORT_ERRORS as e:
                if attempt >= self.patience.retries:
                    raise GoogleError(f"Google Calendar did not answer ({type(e).__name__}) to {what}") from None
                delay = self.patience.backoff_delay(attempt)
            self.patience.wait(delay)
            attempt += 1


@dataclass(frozen=True)
class _Read:
    event_id: str


def batch_uri(endpoint: str) -> str:
    """Google's batch URI for Calendar, on the host of `endpoint`."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}/batch/calendar/v3"


def credentials_from_env(delegate: str | None, env=os.environ):
    path = env.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not path:
        raise GoogleConfigError("Google credentials missing: set GOOGLE_APPLICATION_CREDENTIALS "
                                "to a service account key file")
    try:
        with open(path, encoding="utf-8") as key_file:
            info = json.load(key_file)
        creds = _service_account(info)
    except FileNotFoundError:
        raise GoogleConfigError(f"GOOGLE_APPLICATION_CREDENTIALS: no such file {path}") from None
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as e:
        raise GoogleConfigError(f"GOOGLE_APPLICATION_CREDENTIALS: {path} is not a service account key "
                                f"({type(e).__name__})") from None
    return creds.with_subject(delegate) if delegate else creds


def _service_account(info: dict):
    """google-auth service-account credentials for a key file's contents.

    google-auth loads the private key with cryptography's full RSA
    consistency check, a twentieth of a second that every `rota run` would
    pay; the key is the operator's own, so it is loaded without that check
    and handed to google-auth's signer and credentials."""
    from cryptography.hazmat.primitives import serialization
    from google.auth.crypt import RSASigner

    if info.get("type") != "service_account":
        raise ValueError("not a service account key")
    key = serialization.load_pem_private_key(info["private_key"].encode(), password=None,
                                             unsafe_skip_rsa_key_validation=True)
    signer = RSASigner(key, info.get("private_key_id"))
    return service_account.Credentials(
        signer, info["client_email"], info["token_uri"], scopes=[SCOPE], project_id=info.get("project_id"))


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _error_body(e: HttpError) -> dict:
    try:
        return json.loads(e.content.decode("utf-8")).get("error") or {}
    except (ValueError, AttributeError):
        return {}


def _reason(e: HttpError) -> str | None:
    errors = _error_body(e).get("errors") or [{}]
    return errors[0].get("reason")


def _status(e: HttpError) -> int | None:
    return getattr(e, "status_code", None) or (e.resp.status if e.resp is not None else None)


def _retryable(e: HttpError) -> str | None:
    """"rate" for rate limits, "error" for passing server errors, else None."""
    status = _status(e)
    if status == 429 or (status == 403 and _reason(e) in RATE_LIMITS):
        return "rate"
    if status is not None and status >= 500:
        return "error"
    return None


def _describe(e: HttpError) -> str:
    body = _error_body(e)
    reason = _reason(e)
    if reason == "forbiddenForServiceAccounts":
        return ("service accounts cannot invite attendees without domain-wide delegation: "
                "set google.delegate in the roster (or remove attendees)")
    return f"{_status(e)} {reason or ''}: {body.get('message', '')}".strip()


def _quota_message() -> str:
    return ("Google Calendar usage limits exceeded (quotaExceeded): stopping now; "
            "the next run will carry on once the quota resets")
