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
* every request, the token's included, has the patience's read timeout
  (httplib2 has one socket timeout; googleapiclient's own token refreshes
  inside batches would have none, so the credentials are wrapped to refresh
  through a bounded transport), cut short by the patience's deadline, past
  which nothing is asked or retried. A refused connection, a timeout, an
  unknown name or TLS is not retried and is said once (`ServiceError` naming
  the Calendar API or the token server, host and port); an unreachable
  token server is never reported as a refused service account; a 404 on
  the calendar says it may not be shared with the service account;
* credentials: a service account key, as JSON text in
  GOOGLE_SERVICE_ACCOUNT_JSON (Cloud Foundry has no place for a key file)
  or else in the file GOOGLE_APPLICATION_CREDENTIALS names, acting as `delegate` when domain-wide delegation is set up (needed to
  invite attendees). ROTA_GOOGLE_API_ENDPOINT points the client elsewhere
  (tests, staging); the batch URI is derived from it, because
  `new_batch_http_request()` would always post to Google's own.
"""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import google.auth.credentials
import google_auth_httplib2
import httplib2
from google.auth.exceptions import GoogleAuthError, TransportError
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from scheduler.sync import transport
from scheduler.sync.google.plan import MARK, Delete, Insert, Update, differences, same_owner
from scheduler.errors import ConfigError, ServiceError
from scheduler.sync.retry import Patience, Retry, Tries

SCOPE = "https://www.googleapis.com/auth/calendar"
DEFAULT_ENDPOINT = "https://www.googleapis.com/calendar/v3/"
BATCH_SIZE = 50
PAGE_SIZE = 2500
RATE_LIMITS = {"rateLimitExceeded", "userRateLimitExceeded"}
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
UNSENT = {  # why changes still to retry were not sent, by the reason patience ran out
    "retries": "Google kept failing; the next run will retry",
    "budget": "rate limited past the budget; the next run will carry on",
    "deadline": "not retried: the run's deadline is near; the next run will carry on",
}
TRANSPORT_ERRORS = (httplib2.HttpLib2Error, ConnectionError, socket.timeout, OSError, TransportError,
                    http.client.HTTPException)


@dataclass
class Outcome:
    change: Insert | Update | Delete
    error: str | None = None  # None: done

    @property
    def ok(self) -> bool:
        return self.error is None


class _CalendarAPI:
    """What rota's two Google Calendar clients (this one, and the
    out-of-office reader's) share: the run's patience, one socket timeout
    cut to what is left of its deadline, and Google marked down for the rest
    of the run once it proved unreachable."""

    patience: Patience
    endpoint: str
    timeout: float
    down: str | None

    def _connections(self) -> tuple[httplib2.Http, ...]:
        raise NotImplementedError

    def _cannot_ask(self) -> str | None:
        """Why no request may go out now (Google unreachable earlier in the
        run, or the deadline passed), else None. Sets the connections'
        timeouts to what is left before the deadline."""
        if self.down is not None:
            return f"{self.down}; not tried again in this run"
        if not self.patience.allows(0):
            host, port = transport.host_port(self.endpoint)
            return f"Google Calendar at {host}:{port}: not asked: the run's deadline has passed"
        timeout = self.patience.request_timeouts()[1]
        if timeout != self.timeout:
            self.timeout = timeout
            for connections in self._connections():
                _set_timeout(connections, timeout)
        return None

    def _failure(self, e: BaseException) -> transport.Failure:
        if isinstance(e, _TokenUnreachable):
            return transport.failure("Google's token server", e.token_uri, e.cause, read=self.timeout)
        return transport.failure("Google Calendar", self.endpoint, e, read=self.timeout)

    def _answered(self, e: HttpError) -> str:
        body = _error_body(e)
        return transport.answered("Google Calendar", self.endpoint, _status(e), _reason(e), body.get("message"))


class CalendarClient(_CalendarAPI):
    def __init__(self, calendar_id: str, credentials, *, endpoint: str | None = None,
                 patience: Patience | None = None, send_updates: str = "none"):
        self.calendar_id = calendar_id
        self.send_updates = send_updates
        self.patience = patience or Patience()
        self.endpoint = endpoint or DEFAULT_ENDPOINT
        self.account = getattr(credentials, "service_account_email", None) or "the service account"
        # httplib2 has one socket timeout, for connecting and for each read alike: the read timeout.
        self.timeout = self.patience.request_timeouts()[1]
        self.credentials = _BoundedCredentials(credentials, self.timeout)
        self.http = google_auth_httplib2.AuthorizedHttp(self.credentials, http=httplib2.Http(timeout=self.timeout))
        self.service = build(
            "calendar", "v3", http=self.http, static_discovery=True, cache_discovery=False,
            client_options={"api_endpoint": self.endpoint},
        )
        # Built once: each service.events() call rebuilds every method and its
        # docstring from the discovery document (milliseconds a call).
        self.events = self.service.events()
        self.batch_uri = batch_uri(self.endpoint)
        self.down: str | None = None  # once Google proved unreachable, the run stops asking

    def close(self) -> None:
        """Close the HTTP connections (googleapiclient keeps them open)."""
        self.service.close()
        self.credentials.http.close()

    def _connections(self) -> tuple[httplib2.Http, ...]:
        return self.http.http, self.credentials.http

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
        pending = list(changes)
        conflicts: list[Insert] = []

        def send_round() -> tuple[list, bool]:
            """Send what is pending; returns what to send again, and whether a rate limit was hit."""
            retry, limited = [], False
            for n, chunk in enumerate(_chunks(pending, BATCH_SIZE)):
                stop = self._cannot_ask()
                if stop is None:
                    try:
                        results = self._batch(chunk)
                    except HttpError as e:
                        if _reason(e) == "quotaExceeded":
                            raise ServiceError(_quota_message()) from None
                        retry.extend(chunk)  # the whole batch failed: send it again
                        limited = limited or _retryable(e) == "rate"
                        continue
                    except TRANSPORT_ERRORS + (_TokenUnreachable,) as e:
                        failure = self._failure(e)
                        if failure.retryable:
                            retry.extend(chunk)
                            continue
                        stop = self._gone(failure)
                if stop is not None:  # unreachable, or out of time: send nothing more
                    unsent = [c for later in list(_chunks(pending, BATCH_SIZE))[n:] for c in later]
                    for change in retry + unsent:
                        outcomes[id(change)].error = stop
                    retry = []
                    break
                for change, _response, error in results:
                    if error is None:
                        outcomes[id(change)].error = None
                    elif isinstance(change, Insert) and _status(error) == 409:
                        conflicts.append(change)
                    elif isinstance(change, Delete) and _status(error) in (404, 410):
                        outcomes[id(change)].error = None  # already gone
                    elif _reason(error) == "quotaExceeded":
                        raise ServiceError(_quota_message()) from None
                    elif _retryable(error):
                        retry.append(change)
                        limited = limited or _retryable(error) == "rate"
                    else:
                        outcomes[id(change)].error = _describe(error)
            pending[:] = retry
            return retry, limited

        def classify(answer, tries: Tries) -> Retry | None:
            if isinstance(answer, BaseException) or not answer[0]:
                return None
            retry, limited = answer

            def give_up(tries: Tries) -> None:
                for change in retry:
                    outcomes[id(change)].error = UNSENT[tries.reason]

            return Retry(give_up, rate_limited=limited)

        self.patience.call(send_round, classify)
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
            stop = self._cannot_ask()
            if stop is not None:
                found.extend((None, stop) for _ in chunk)
                continue
            try:
                results = self._batch([_Read(i) for i in chunk])
            except HttpError as e:
                found.extend((None, _describe(e)) for _ in chunk)
                continue
            except TRANSPORT_ERRORS + (_TokenUnreachable,) as e:
                found.extend((None, str(self._failure(e))) for _ in chunk)
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
        batch.execute(http=self.http)
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
        def ask():
            stop = self._cannot_ask()
            if stop is not None:
                raise ServiceError(f"Google Calendar could not {what}: {stop}")
            try:
                return request.execute(num_retries=0)
            except HttpError as e:
                if missing_ok and _status(e) == 404:
                    return None
                raise

        def classify(answer, tries: Tries) -> Retry | None:
            if isinstance(answer, HttpError):
                return self._classify_answer(answer, what)
            if isinstance(answer, TRANSPORT_ERRORS + (_TokenUnreachable,)):
                failure = self._failure(answer)
                return retry_if_it_may_pass(self._gone(failure), failure.retryable, what, tries)
            if isinstance(answer, GoogleAuthError):  # the token server answered, and said no
                host, port = transport.host_port(self.credentials.token_uri)
                raise ServiceError(f"Google's token server at {host}:{port} refused the service account "
                                   f"{self.account}: {_auth_reason(answer)}")
            return None

        return self.patience.call(ask, classify)

    def _classify_answer(self, e: HttpError, what: str) -> Retry:
        """What an error answer to a single request means: give up now, or
        ask again (rate limits within the budget, server errors within the
        retries), saying why when patience runs out."""
        if _reason(e) == "quotaExceeded":
            raise ServiceError(_quota_message())
        if _status(e) == 404:
            raise ServiceError(self._calendar_missing(e))
        kind = _retryable(e)
        if not kind:
            raise ServiceError(f"Google Calendar could not {what}: {self._answered(e)}")
        return retry_until_patience_ends(self.patience, what, self._answered(e), rate_limited=kind == "rate")

    # -- errors ---------------------------------------------------------------------
    def _gone(self, failure: transport.Failure) -> str:
        """Note a failure that asking again at once would not cure."""
        if not failure.retryable:
            self.down = str(failure)
        return str(failure)

    def _calendar_missing(self, e: HttpError) -> str:
        return (f"{self._answered(e)} for calendar {self.calendar_id}: it does not exist, or it is not shared "
                f"with the service account {self.account} (share it with that address, \"Make changes to "
                "events\", or correct google.calendar_id)")


@dataclass(frozen=True)
class _Read:
    event_id: str


class _TokenUnreachable(Exception):
    """No answer from the token server. Not a GoogleAuthError: nobody
    refused anything."""

    def __init__(self, token_uri: str, cause: BaseException):
        super().__init__(token_uri, cause)
        self.token_uri, self.cause = token_uri, cause


class _BoundedCredentials(google.auth.credentials.Credentials):
    """The service account's credentials, always refreshed through a
    transport with a timeout, whatever transport the caller passes:
    googleapiclient refreshes inside batches through a new httplib2.Http()
    that has none."""

    def __init__(self, inner, timeout: float):
        super().__init__()
        self.inner = inner
        self.http = httplib2.Http(timeout=timeout)

    @property
    def token_uri(self) -> str:
        return getattr(self.inner, "_token_uri", None) or GOOGLE_TOKEN_URI

    def refresh(self, request) -> None:
        try:
            self.inner.refresh(google_auth_httplib2.Request(self.http))
        except (TransportError, httplib2.HttpLib2Error, OSError, http.client.HTTPException) as e:
            raise _TokenUnreachable(self.token_uri, e) from None
        self.token, self.expiry = self.inner.token, self.inner.expiry


def _set_timeout(http: httplib2.Http, seconds: float) -> None:
    """A new socket timeout for `http`'s future connections and the open ones."""
    http.timeout = seconds
    for conn in http.connections.values():
        conn.timeout = seconds
        if getattr(conn, "sock", None) is not None:
            conn.sock.settimeout(seconds)


def _auth_reason(e: GoogleAuthError) -> str:
    """google-auth's RefreshError carries the token server's words first."""
    first = e.args[0] if e.args else ""
    return str(first) or type(e).__name__


def batch_uri(endpoint: str) -> str:
    """Google's batch URI for Calendar, on the host of `endpoint`."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}/batch/calendar/v3"


def service_account_credentials(settings, delegate: str | None):
    """The service account in `settings`: GOOGLE_SERVICE_ACCOUNT_JSON, else the key file."""
    if settings.google_key_json is not None:
        return credentials_from_json(settings.google_key_json, settings.google_key_source, delegate)
    return credentials_from_file(settings.google_credentials, delegate)


def credentials_from_json(text: str, source: str, delegate: str | None):
    """The service account whose key is the JSON `text`; errors name `source`, never the key."""
    try:
        info = json.loads(text)
    except ValueError as e:
        raise ConfigError(f"{source} is not valid JSON ({e.msg} at character {e.pos}); "
                          "it should be a service account key file's contents") from None
    try:
        if not isinstance(info, dict):
            raise TypeError("not an object")
        creds = _service_account(info)
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{source} is not a service account key ({type(e).__name__})") from None
    return creds.with_subject(delegate) if delegate else creds


def credentials_from_file(path: str | None, delegate: str | None):
    """The service account whose key file is at `path` (GOOGLE_APPLICATION_CREDENTIALS)."""
    if not path:
        raise ConfigError("Google credentials missing: set GOOGLE_APPLICATION_CREDENTIALS "
                          "to a service account key file, or GOOGLE_SERVICE_ACCOUNT_JSON to its contents")
    try:
        with open(path, encoding="utf-8") as key_file:
            info = json.load(key_file)
        creds = _service_account(info)
    except FileNotFoundError:
        raise ConfigError(f"GOOGLE_APPLICATION_CREDENTIALS: no such file {path}") from None
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as e:
        raise ConfigError(f"GOOGLE_APPLICATION_CREDENTIALS: {path} is not a service account key "
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


def retry_if_it_may_pass(said: str, retryable: bool, what: str, tries: Tries) -> Retry:
    """A request that got no answer (`said` says why): ask again if that may
    pass (a timeout, a dropped connection), else give up now."""

    def gone(tries: Tries) -> ServiceError:
        times = f" (tried {tries.attempt + 1} times)" if tries.attempt else ""
        return ServiceError(f"{said}{times}: could not {what}; the next run will try again")

    if retryable:
        return Retry(gone)
    raise gone(tries)


def retry_until_patience_ends(patience: Patience, what: str, answered: str, rate_limited: bool) -> Retry:
    """Ask again; when patience runs out, say which of it ran out: the rate
    limit's budget, the run's deadline, or the retries."""

    def give_up(tries: Tries) -> ServiceError:
        if tries.reason == "budget":
            return ServiceError(f"Google Calendar rate limit: could not {what} within "
                                f"{patience.budget:.0f} s; the next run will carry on")
        if tries.reason == "deadline":
            return ServiceError(f"Google Calendar could not {what}: {answered}; no time left to "
                                "retry before the run's deadline")
        return ServiceError(f"Google Calendar could not {what}: {answered}")

    return Retry(give_up, rate_limited=rate_limited)


def _quota_message() -> str:
    return ("Google Calendar usage limits exceeded (quotaExceeded): stopping now; "
            "the next run will carry on once the quota resets")
