"""A fake Google over real HTTP on 127.0.0.1: the OAuth 2.0 token endpoint for
service accounts and the Calendar API v3 events resource, batches included.

It mirrors the documented behaviour closely enough that google-auth 2.63
service-account credentials and google-api-python-client 2.202 run against it
unmodified (``client_options={"api_endpoint": fake.url + "/calendar/v3/"}``):

* ``POST /token``, the JWT-bearer grant (RFC 7523; "Using OAuth 2.0 for
  server to server applications"): an RS256 assertion signed by the key of
  service_account_info(), checked for iss, aud, exp and scope; it answers an
  opaque Bearer token for 3600 s that remembers its scope and delegated
  subject (``sub``);
* ``/calendar/v3/calendars/{calendarId}/events[/{eventId}]``: list, insert,
  get, update, patch and delete as the Events reference documents them --
  client-chosen base32hex ids, deleted events kept as ``status: "cancelled"``
  (409 on re-insert, 410 on re-delete, restored by an update to
  "confirmed"), dateTimes answered in the calendar's own zone, paging,
  extended-property filters, timeMin/timeMax overlap, sync tokens, and the
  rule that service accounts without domain-wide delegation cannot invite
  attendees;
* Workspace users (``add_user``) with their primary calendars (calendarId: the
  user's email, or ``primary`` for the token's subject), readable only by a
  token delegated to that user (anyone else gets 404 notFound, as Google
  answers for a calendar you cannot see). The token endpoint honours the
  assertion's ``sub``: a user outside the domain is 400 invalid_grant
  "Invalid email or User ID", one without domain-wide delegation granted
  is 401 unauthorized_client (an unknown ``sub`` is taken, as before);
* events.list's ``eventTypes`` (repeatable; unset: every type) and
  ``singleEvents`` (a recurring event's RRULE expanded into instances with
  ids ``{id}_{YYYYMMDD}`` or ``{id}_{YYYYMMDDTHHMMSSZ}``, ``recurringEventId``
  and ``originalStartTime``; an exception stored under an instance's id,
  cancelled or moved, takes that instance's place);
* ``POST /batch/calendar/v3``: at most 50 calls in one multipart/mixed request
  (wire format in google_batch.py);
* Google's error body, ``{"error": {"code", "message", "errors": [{"domain",
  "reason", "message"}]}}`` (Calendar guide "Handle API errors"), whose
  ``reason`` googleapiclient reads to decide whether a 403 is retried.

Where Google documents a status but not its wording, the wording is the
fake's own and only the status and reason are meant to be relied on.  Tests
can inject faults (whole requests or single batch parts), drop connections,
lose the answers to applied writes, expire tokens and forbid writes.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import google_batch
from .http import Handler, HttpFake, use_rule

TEAM_CALENDAR = "team@group.calendar.google.com"
CLIENT_EMAIL = "rota-sync@rota-test.iam.gserviceaccount.com"
# google-auth signs every assertion for this audience, whatever token_uri says.
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_PATH, API_PREFIX, BATCH_PATH = "/token", "/calendar/v3/", "/batch/calendar/v3"
_SCOPE = "https://www.googleapis.com/auth/"
WRITE_SCOPES = frozenset({_SCOPE + "calendar", _SCOPE + "calendar.events"})
READ_SCOPES = WRITE_SCOPES | {_SCOPE + "calendar.readonly", _SCOPE + "calendar.events.readonly"}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")  # base32hex, as events.insert documents
MAX_BATCH = 50  # "You're limited to 50 calls in a single batch request."
DEFAULT_RESULTS, MAX_RESULTS = 250, 2500
SEND_UPDATES = ("all", "externalOnly", "none")
# events.list: "cannot be specified together with nextSyncToken"
SYNC_EXCLUSIVE = ("iCalUID", "orderBy", "privateExtendedProperty", "q",
                  "sharedExtendedProperty", "timeMin", "timeMax", "updatedMin")
# Set by the server on every write; a client's values are ignored.
SERVER_FIELDS = frozenset({"kind", "etag", "htmlLink", "created", "updated", "creator",
                           "organizer"})
EPOCH = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # "updated" = EPOCH + 1 s per write: no clock
JSON = "application/json; charset=UTF-8"
SHORT_LIVED = ("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
               "timeframe. Check your iat and exp values in the assertion and use a clock with "
               "skew to account for clock differences between systems.")

REASONS = {  # reason -> (domain, message), as the Calendar errors guide shows them
    "badRequest": ("global", "Bad Request"),
    "invalid": ("global", "Invalid Value"),
    "required": ("global", "Required"),
    "parseError": ("global", "Parse Error"),
    "notFound": ("global", "Not Found"),
    "duplicate": ("global", "The requested identifier already exists."),
    "deleted": ("global", "Resource has been deleted"),
    "fullSyncRequired": ("global", "Sync token is no longer valid, a full sync is required."),
    "timeRangeEmpty": ("calendar", "The specified time range is empty."),
    "forbiddenForServiceAccounts": (
        "calendar",
        "Service accounts cannot invite attendees without Domain-Wide Delegation of Authority."),
    "rateLimitExceeded": ("usageLimits", "Rate Limit Exceeded"),
    "userRateLimitExceeded": ("usageLimits", "User Rate Limit Exceeded"),
    "quotaExceeded": ("usageLimits", "Calendar usage limits exceeded."),
    "backendError": ("global", "Backend Error"),
    "forbidden": ("global", "Forbidden"),
}
DEFAULT_REASONS = {400: "badRequest", 401: "authError", 403: "rateLimitExceeded",
                   404: "notFound", 409: "duplicate", 410: "deleted", 429: "rateLimitExceeded"}
UNAUTHENTICATED = {"error": {
    "code": 401, "message": "Request had invalid authentication credentials.",
    "errors": [{"domain": "global", "reason": "authError", "message": "Invalid Credentials",
                "locationType": "header", "location": "Authorization"}],
    "status": "UNAUTHENTICATED"}}
INSUFFICIENT_SCOPES = {"error": {
    "code": 403, "message": "Request had insufficient authentication scopes.",
    "errors": [{"domain": "global", "reason": "insufficientPermissions",
                "message": "Insufficient Permission"}],
    "status": "PERMISSION_DENIED"}}


def error_body(status: int, reason: str, message: str | None = None, **where) -> dict:
    """Google's error JSON for ``reason``; ``where`` adds locationType/location."""
    if reason == "authError":
        return copy.deepcopy(UNAUTHENTICATED)
    if reason == "insufficientPermissions":
        return copy.deepcopy(INSUFFICIENT_SCOPES)
    domain, default = REASONS.get(reason, ("global", reason))
    message = message or default
    return {"error": {"code": status, "message": message,
                      "errors": [{"domain": domain, "reason": reason, "message": message,
                                  **where}]}}


@dataclass
class Seen:
    """One request as the fake saw it; status 0 means the connection was dropped.

    ``batch`` names the batch a part came in ("batch-1", ...); None for whole
    HTTP requests, the batch POST itself included.
    """

    method: str
    path: str  # percent-decoded
    query: dict[str, list[str]]
    body: dict | None  # JSON object, or the token request's form
    status: int
    batch: str | None = None


@dataclass
class _Rule:
    kind: str  # "fail", "drop" or "after_write"
    count: int
    method: str | None
    path_contains: str | None
    in_batch: bool | None
    skip: int = 0
    status: int = 0
    reason: str | None = None
    retry_after: int | None = None


@dataclass
class _Reply:
    status: int
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes | None = None  # a raw body instead of JSON: the batch's multipart
    drop: bool = False

    def encoded(self) -> tuple[dict[str, str], bytes | None]:
        if self.data is not None or self.status == 204:
            return self.headers, self.data
        return {"Content-Type": JSON, **self.headers}, json.dumps(self.body).encode()


class _Answer(Exception):
    """Raised by an endpoint to answer at once with an error."""

    def __init__(self, status: int, body: dict, headers: dict[str, str] | None = None):
        super().__init__(status, body)
        self.status, self.body, self.headers = status, body, headers or {}


def _fail(status: int, reason: str, message: str | None = None, **where) -> _Answer:
    headers = {}
    if status == 401:  # RFC 6750 section 3, as Google sends it
        headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
    return _Answer(status, error_body(status, reason, message, **where), headers)


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _opaque(state: dict) -> str:
    """Page and sync tokens: opaque to clients, which must pass them back verbatim."""
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def _unopaque(token: str) -> dict | None:
    try:
        state = json.loads(_b64decode(token))
    except ValueError:  # binascii.Error and UnicodeDecodeError both are
        return None
    return state if isinstance(state, dict) else None


def _stamp(revision: int) -> str:
    return (EPOCH + timedelta(seconds=revision)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _rfc3339(value: str) -> datetime:
    """timeMin/timeMax: "an RFC3339 timestamp with mandatory time zone offset"."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _fail(400, "badRequest")
    return moment


def _merge(current: dict, patch: dict) -> dict:
    """Patch semantics (Google APIs "Performance tips"): objects merge field by
    field, arrays (attendees) and scalars are replaced whole, null clears."""
    merged = copy.deepcopy(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _client_fields(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in SERVER_FIELDS}


def _body_for_log(headers, raw: bytes) -> dict | None:
    if headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(raw.decode("utf-8", "replace")))
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class FakeGoogle(HttpFake):
    """The fake server plus its state, traffic log and fault injection."""

    server_header = "ESF"  # what googleapis.com calls itself

    def __init__(self, *, calendars: dict[str, str] | None = None, now=time.time):
        super().__init__()
        self.calendars = dict(calendars or {TEAM_CALENDAR: "America/Los_Angeles"})
        for zone in self.calendars.values():
            ZoneInfo(zone)  # a typo fails here, not in the middle of a request
        self.now = now  # read only to check an assertion's exp
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.private_key_id = hashlib.sha1(public_der).hexdigest()  # 40 hex digits, like Google's
        self.events: dict[str, dict[str, dict]] = {cid: {} for cid in self.calendars}
        self.tokens_issued: list[dict] = []
        self.requests: list[Seen] = []
        self.violations: list[str] = []
        self._tokens: dict[str, dict] = {}  # live access token -> its record
        self._revisions: dict[tuple[str, str], int] = {}  # event -> revision of its last write
        self._revision = 0  # bumped by every write: etag, updated and sync tokens follow it
        self._sync_epoch = 0  # expire_sync_tokens() bumps it
        self._ids = self._batches = 0
        self._rules: list[_Rule] = []
        self._writes_forbidden = False
        self.users: dict[str, dict] = {}  # Workspace users: email -> {"delegated", "in_domain"}
        self._lock = threading.RLock()

    # ---- Workspace users -------------------------------------------------
    def add_user(self, email: str, timezone: str = "America/New_York", *, delegated: bool = True,
                 in_domain: bool = True) -> str:
        """A user with a primary calendar (id: the email) in `timezone`.
        `delegated`: domain-wide delegation is granted for them; `in_domain`:
        they are a user of the Workspace domain at all."""
        ZoneInfo(timezone)
        with self._lock:
            self.users[email] = {"delegated": delegated, "in_domain": in_domain}
            self.calendars[email] = timezone
            self.events.setdefault(email, {})
        return email

    def out_of_office(self, email: str, start, end, *, event_id: str | None = None, summary="Out of office",
                      **fields) -> dict:
        """Seed an out-of-office event in `email`'s primary calendar: `start`
        and `end` are dates (all-day; end exclusive) or aware datetimes."""
        def when(value):
            if isinstance(value, datetime):
                return {"dateTime": value.isoformat(), "timeZone": self.calendars[email]}
            return {"date": value.isoformat()}

        event = {"summary": summary, "eventType": "outOfOffice", "start": when(start), "end": when(end),
                 "transparency": "opaque",
                 "outOfOfficeProperties": {"autoDeclineMode": "declineOnlyNewConflictingInvitations",
                                           "declineMessage": "I am out of office"}, **fields}
        if event_id:
            event["id"] = event_id
        return self.add_event(email, event)

    def move_event(self, calendar_id: str, event_id: str, start, end) -> dict:
        """The owner moves an event in the Calendar UI (no token needed)."""
        with self._lock:
            current = self._find(calendar_id, event_id)
            fields = _client_fields(current)
            for name, value in (("start", start), ("end", end)):
                fields[name] = ({"dateTime": value.isoformat(), "timeZone": self.calendars[calendar_id]}
                                if isinstance(value, datetime) else {"date": value.isoformat()})
            self._check_times(calendar_id, fields)
            return self._store(calendar_id, event_id, fields, current, calendar_id)

    def cancel_instance(self, calendar_id: str, event_id: str, instance_id: str) -> dict:
        """The owner deletes one instance of a recurring event: Google keeps
        a cancelled exception under the instance's id."""
        with self._lock:
            master = self._find(calendar_id, event_id)
            instance = next(i for i in self._instances(calendar_id, event_id, master, None) if i["id"] == instance_id)
            fields = {k: v for k, v in instance.items() if k != "id"}
            fields["status"] = "cancelled"
            return self._store(calendar_id, instance_id, fields, None, calendar_id)

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        """The owner deletes an event in the Calendar UI: it stays, cancelled."""
        with self._lock:
            self._delete(calendar_id, event_id, calendar_id)

    # ---- keys ------------------------------------------------------------
    def service_account_info(self) -> dict:
        """A complete service-account key, as the Cloud console downloads it."""
        if not self.url:
            raise RuntimeError("start FakeGoogle first: token_uri needs its port")
        pem = self._key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()
        return {"type": "service_account", "project_id": "rota-test",
                "private_key_id": self.private_key_id, "private_key": pem,
                "client_email": CLIENT_EMAIL, "client_id": "104242424242424242424",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": self.url + TOKEN_PATH,
                "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
                                        + quote(CLIENT_EMAIL),
                "universe_domain": "googleapis.com"}

    def write_key_file(self, path) -> Path:
        """The key as a JSON file, e.g. for GOOGLE_APPLICATION_CREDENTIALS."""
        path = Path(path)
        path.write_text(json.dumps(self.service_account_info(), indent=2))
        return path

    # ---- state -----------------------------------------------------------
    def add_event(self, calendar_id: str, event: dict) -> dict:
        """Seed an event as if someone else had written it: no token, no attendee
        rule, creator/organizer kept when given; the id (generated if absent)
        and the times are still checked.  Returns the stored event."""
        with self._lock:
            if calendar_id not in self.events:
                raise ValueError(f"unknown calendar {calendar_id!r}")
            fields = copy.deepcopy(event)
            eid = fields.pop("id", None) or self._new_id(calendar_id)
            if eid in self.events[calendar_id]:
                raise ValueError(f"event {eid!r} already exists")
            try:
                self._check_id(eid)
                self._check_times(calendar_id, fields)
            except _Answer as answer:
                raise ValueError(answer.body["error"]["message"]) from None
            return self._store(calendar_id, eid, fields, None, calendar_id)

    def _new_id(self, cid: str) -> str:
        while True:
            self._ids += 1
            eid = f"fake{self._ids:08d}"  # "fake" is base32hex too
            if eid not in self.events[cid]:
                return eid

    def _store(self, cid: str, eid: str, fields: dict, previous: dict | None, actor: str) -> dict:
        """Write an event, setting what the Event resource says the server sets."""
        self._revision += 1
        rev = self._revision
        link = base64.urlsafe_b64encode(f"{eid} {cid}".encode()).decode().rstrip("=")
        stored = {"kind": "calendar#event", "id": eid, "status": "confirmed",
                  "htmlLink": f"https://www.google.com/calendar/event?eid={link}",
                  "created": previous["created"] if previous else _stamp(rev),
                  "iCalUID": previous["iCalUID"] if previous else f"{eid}@google.com",
                  "creator": previous["creator"] if previous else {"email": actor},
                  "organizer": previous["organizer"] if previous else {"email": cid, "self": True},
                  "reminders": {"useDefault": True}, "eventType": "default",
                  **copy.deepcopy(fields)}
        stored.update(kind="calendar#event", id=eid, etag=f'"{3181161784712000 + rev}"',
                      updated=_stamp(rev))
        floor = previous["sequence"] + 1 if previous else 0  # every update bumps it
        stored["sequence"] = max(floor, int(fields.get("sequence") or 0))
        if isinstance(stored.get("attendees"), list):
            stored["attendees"] = [{"responseStatus": "needsAction", **a}
                                   for a in stored["attendees"] if isinstance(a, dict)]
        self.events[cid][eid] = stored
        self._revisions[(cid, eid)] = rev
        return stored

    # ---- traffic and faults ---------------------------------------------
    def http_requests(self) -> list[Seen]:
        """Only real HTTP requests: token, Calendar and batch POSTs, not parts."""
        with self._lock:
            return [seen for seen in self.requests if seen.batch is None]

    def writes(self) -> list[Seen]:
        """Calendar insert/update/patch/delete calls, batch parts included."""
        with self._lock:
            return [seen for seen in self.requests
                    if seen.method in WRITE_METHODS and seen.path.startswith(API_PREFIX)]

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def _add_rule(self, rule: _Rule) -> None:
        if rule.count < 1 or rule.skip < 0:
            raise ValueError("count must be at least 1 and skip at least 0")
        rule.method = rule.method and rule.method.upper()
        with self._lock:
            self._rules.append(rule)

    def fail_next(self, status: int, count: int = 1, *, reason=None, method=None,
                  path_contains=None, in_batch: bool | None = None, retry_after=None,
                  skip: int = 0) -> None:
        """Answer ``status`` with Google's error body for ``reason`` (by default
        403/429 rateLimitExceeded, 5xx backendError, 409 duplicate, 410 deleted)
        without touching state.

        ``in_batch``: True matches only batch parts, False only whole HTTP
        requests (the batch POST included), None either.  ``path_contains`` is
        matched against the percent-decoded path and query.  ``skip`` lets that
        many matching requests through first ("the 3rd insert fails": skip=2).
        Rules are tried in the order given; the first that matches decides.
        A rule without ``path_contains`` never matches the token endpoint:
        google-auth retries token errors with real sleeps, and a fault meant
        for the Calendar API must not be eaten by a token refresh.
        """
        if reason is None:
            reason = DEFAULT_REASONS.get(status, "backendError" if status >= 500 else "badRequest")
        self._add_rule(_Rule("fail", count, method, path_contains, in_batch, skip, status,
                             reason, retry_after))

    def drop_next(self, count: int = 1, *, method=None, path_contains=None) -> None:
        """Close the connection without a status line; state untouched.  Whole
        HTTP requests only.  Note httplib2 silently re-sends a request once
        (even a POST) when a connection closes without a status line."""
        self._add_rule(_Rule("drop", count, method, path_contains, False))

    def fail_after_write(self, count: int = 1, *, method=None) -> None:
        """Apply the next write(s) -- a Calendar write or a whole batch -- then
        drop the connection: the answer is lost."""
        self._add_rule(_Rule("after_write", count, method, None, False))

    def forbid_writes(self) -> None:
        """From now on every Calendar write, batch parts included, is recorded
        in ``violations`` and answered 500."""
        with self._lock:
            self._writes_forbidden = True

    def expire_tokens(self) -> None:
        """Every access token issued so far now answers 401, as an expired one does."""
        with self._lock:
            self._tokens.clear()

    def expire_sync_tokens(self) -> None:
        """Every sync token handed out so far now answers 410 fullSyncRequired."""
        with self._lock:
            self._sync_epoch += 1

    def _take_rule(self, method: str, target: str, *, in_batch: bool, token: bool,
                   write: bool) -> _Rule | None:
        return use_rule(self._rules, lambda rule: (
            (rule.in_batch is None or rule.in_batch == in_batch)
            and (rule.kind != "after_write" or write)
            and rule.method in (None, method)
            and (rule.path_contains in target if rule.path_contains is not None else not token)))

    # ---- HTTP ------------------------------------------------------------
    def _serve(self, handler: Handler) -> None:
        raw = handler.read_body()
        with self._lock:  # one request at a time: a batch runs against one state
            reply = self._logged(handler.command, handler.path, handler.headers, raw, None)
        if reply.drop:
            handler.hang_up()
        else:
            handler.answer(reply.status, *reply.encoded())

    def _logged(self, method, target, headers, raw, batch) -> _Reply:
        """Handle one request or batch part and log it."""
        split = urlsplit(target)
        seen = Seen(method, unquote(split.path), parse_qs(split.query, keep_blank_values=True),
                    _body_for_log(headers, raw), 0, batch)
        self.requests.append(seen)
        try:
            reply = self._handle(method, split, headers, raw, batch)
        except Exception:  # a bug in the fake must not look like a network fault
            reply = _Reply(500, error_body(500, "fakeGoogleBug", traceback.format_exc()))
        seen.status = 0 if reply.drop else reply.status
        return reply

    def _handle(self, method, split, headers, raw, batch) -> _Reply:
        """Order: forbidden writes, injected faults, then the endpoint."""
        path = unquote(split.path)
        target = unquote(split.path + (f"?{split.query}" if split.query else ""))
        token = batch is None and path == TOKEN_PATH
        whole_batch = batch is None and path == BATCH_PATH
        write = method in WRITE_METHODS and path.startswith(API_PREFIX)
        if write and self._writes_forbidden:
            self.violations.append(f"{method} {target} {raw.decode(errors='replace')}")
            return _Reply(500, error_body(500, "backendError", "writes are forbidden"))
        rule = self._take_rule(method, target, in_batch=batch is not None, token=token,
                               write=write or whole_batch)
        if rule is not None and rule.kind == "drop":
            return _Reply(0, drop=True)
        if rule is not None and rule.kind == "fail":
            reply = self._injected(rule, token)
        else:
            try:
                if token:
                    reply = self._token(raw)
                elif whole_batch:
                    reply = self._batch(headers, raw)
                else:
                    reply = _Reply(*self._api(method, split, headers, raw))
            except _Answer as answer:
                reply = _Reply(answer.status, answer.body, answer.headers)
            reply.drop = rule is not None  # "after_write": applied, the answer lost
        if token:
            # googleapiclient refreshes inside batches through a throwaway
            # httplib2.Http() it never closes (_auth.refresh_credentials); a
            # kept-alive socket there would leak (ResourceWarning).  Closing
            # after each token answer changes nothing else a client can see.
            reply.headers["Connection"] = "close"
        return reply

    @staticmethod
    def _injected(rule: _Rule, token: bool) -> _Reply:
        headers = {} if rule.retry_after is None else {"Retry-After": str(rule.retry_after)}
        if token:  # the token endpoint answers in OAuth's shape (RFC 6749 section 5.2)
            error = "internal_failure" if rule.status >= 500 else "invalid_grant"
            return _Reply(rule.status, {"error": error, "error_description": "injected fault"},
                          headers)
        answer = _fail(rule.status, rule.reason)
        return _Reply(rule.status, answer.body, {**answer.headers, **headers})

    # ---- token endpoint --------------------------------------------------
    def _token(self, raw: bytes) -> _Reply:
        """The JWT-bearer grant, answering {"access_token", "expires_in", "token_type"}."""
        form = dict(parse_qsl(raw.decode("utf-8", "replace")))
        if form.get("grant_type") != JWT_GRANT:
            grant = form.get("grant_type", "")
            return _Reply(400, {"error": "unsupported_grant_type",
                                "error_description": f"Invalid grant_type: {grant}"})
        claims = self._verify(form.get("assertion", ""))
        user = self.users.get(claims.get("sub"))
        if user is not None and not user["in_domain"]:
            return _Reply(400, {"error": "invalid_grant", "error_description": "Invalid email or User ID"})
        if user is not None and not user["delegated"]:
            return _Reply(401, {"error": "unauthorized_client",
                                "error_description": "Client is unauthorized to retrieve access tokens using "
                                "this method, or client not authorized for any of the scopes requested."})
        token = f"ya29.fake-{len(self.tokens_issued) + 1:04d}-{self.private_key_id[:12]}"
        record = {"token": token, "sub": claims.get("sub"), "scope": claims["scope"],
                  "iss": claims["iss"]}
        self.tokens_issued.append(record)
        self._tokens[token] = record
        return _Reply(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def _verify(self, assertion: str) -> dict:
        """Signature first (anything unverifiable is "Invalid JWT Signature."),
        then issuer, audience, lifetime and scope; errors as Google words them."""
        def refuse(description, error="invalid_grant"):
            return _Answer(400, {"error": error, "error_description": description})

        try:
            header_b64, claims_b64, signature_b64 = assertion.split(".")
            header, claims = json.loads(_b64decode(header_b64)), json.loads(_b64decode(claims_b64))
            if header.get("alg") != "RS256" or header.get("kid", self.private_key_id) \
                    != self.private_key_id or not isinstance(claims, dict):
                raise ValueError("not our key")
            self._key.public_key().verify(_b64decode(signature_b64),
                                          f"{header_b64}.{claims_b64}".encode(),
                                          padding.PKCS1v15(), hashes.SHA256())
        except (ValueError, AttributeError, InvalidSignature):
            raise refuse("Invalid JWT Signature.") from None
        if claims.get("iss") != CLIENT_EMAIL:
            raise refuse("Invalid grant: account not found")
        if claims.get("aud") not in (GOOGLE_TOKEN_URI, self.url + TOKEN_PATH):
            raise refuse("Invalid JWT: Failed audience check.")  # the fake's wording
        exp, iat = claims.get("exp"), claims.get("iat")
        if not (isinstance(exp, int) and isinstance(iat, int)) or exp <= self.now() \
                or exp - iat > 3600:
            raise refuse(SHORT_LIVED)
        if not isinstance(claims.get("scope"), str) or not claims["scope"].split():
            raise refuse("Invalid OAuth scope or ID token audience provided.", "invalid_scope")
        return claims

    # ---- Calendar API ----------------------------------------------------
    def _api(self, method, split, headers, raw) -> tuple[int, dict | None]:
        """Auth (token, then scope), calendar, then the events route."""
        caller = self._caller(headers.get("Authorization", ""), write=method in WRITE_METHODS)
        match [unquote(segment) for segment in split.path.split("/")]:
            case ["", "calendar", "v3", "calendars", cid, "events"]:
                eid = None
            case ["", "calendar", "v3", "calendars", cid, "events", eid]:
                pass
            case _:
                raise _fail(404, "notFound")
        if cid == "primary" and caller["sub"] in self.users:
            cid = caller["sub"]
        if cid not in self.events:
            raise _fail(404, "notFound")
        if cid in self.users and caller["sub"] != cid:  # a primary calendar nobody shared
            raise _fail(404, "notFound")
        query = parse_qs(split.query, keep_blank_values=True)
        body = self._json(raw) if method in ("POST", "PUT", "PATCH") else None
        if method in WRITE_METHODS and query.get("sendUpdates", ["all"])[-1] not in SEND_UPDATES:
            raise _fail(400, "invalid", locationType="parameter", location="sendUpdates")
        actor = caller["sub"] or caller["iss"]  # whom Google shows as creator
        match method, eid:
            case "GET", None:
                return 200, self._list(cid, query)
            case "POST", None:
                return 200, self._insert(cid, body, caller, actor)
            case "GET", _:
                return 200, self._out(cid, self._find(cid, eid))
            case "PUT" | "PATCH", _:
                return 200, self._update(cid, eid, body, caller, actor, patch=method == "PATCH")
            case "DELETE", _:
                self._delete(cid, eid, actor)
                return 204, None
        raise _fail(404, "notFound")

    def _caller(self, authorization: str, *, write: bool) -> dict:
        scheme, _, token = authorization.partition(" ")
        record = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if record is None:
            raise _fail(401, "authError")
        if not set(record["scope"].split()) & (WRITE_SCOPES if write else READ_SCOPES):
            raise _fail(403, "insufficientPermissions")
        return record

    @staticmethod
    def _json(raw: bytes) -> dict:
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _fail(400, "parseError")
        return body

    def _find(self, cid: str, eid: str) -> dict:
        if eid not in self.events[cid]:
            raise _fail(404, "notFound")
        return self.events[cid][eid]

    @staticmethod
    def _check_id(eid) -> None:
        if not isinstance(eid, str) or not EVENT_ID.fullmatch(eid):
            raise _fail(400, "invalid", "Invalid resource id value.")

    @staticmethod
    def _check_attendees(fields: dict, caller: dict) -> None:
        """Inviting needs domain-wide delegation: a token with a subject."""
        if fields.get("attendees") and caller["sub"] is None:
            raise _fail(403, "forbiddenForServiceAccounts")

    def _instant(self, cid: str, when, name: str) -> datetime:
        """An EventDateTime as an aware datetime.  A dateTime needs an offset or
        a timeZone; an all-day date starts at midnight in the calendar's zone."""
        if not isinstance(when, dict) or not (when.get("date") or when.get("dateTime")):
            raise _fail(400, "required", f"Missing {name} time.")
        try:
            zone = ZoneInfo(when["timeZone"]) if when.get("timeZone") else None
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise _fail(400, "timeZoneInvalid",
                        f"Invalid time zone definition for {name} time.") from None
        try:
            if when.get("date") and when.get("dateTime"):
                raise ValueError("both date and dateTime")
            if when.get("date"):
                return datetime.combine(date.fromisoformat(when["date"]), datetime.min.time(),
                                        ZoneInfo(self.calendars[cid]))
            moment = datetime.fromisoformat(when["dateTime"])
        except (TypeError, ValueError):
            raise _fail(400, "invalid", f"Invalid {name} time.") from None  # the fake's wording
        if moment.tzinfo is None:
            if zone is None:
                raise _fail(400, "required", f"Missing time zone definition for {name} time.")
            moment = moment.replace(tzinfo=zone)
        return moment

    def _check_times(self, cid: str, fields: dict) -> tuple[datetime, datetime]:
        start = self._instant(cid, fields.get("start"), "start")
        end = self._instant(cid, fields.get("end"), "end")
        all_day = bool(fields["start"].get("date"))
        if all_day != bool(fields["end"].get("date")):
            raise _fail(400, "invalid", "Start and end times must either both be date or both "
                                        "be dateTime.")
        # A timed event may last zero minutes; an all-day one ends on a later date.
        if end < start or (all_day and end == start):
            raise _fail(400, "timeRangeEmpty")
        return start, end

    def _out(self, cid: str, event: dict) -> dict:
        """An event as Google answers it: dateTimes re-expressed in the
        calendar's time zone -- the same instant, another string -- while the
        event's own timeZone field stays as given."""
        shown = copy.deepcopy(event)
        zone = ZoneInfo(self.calendars[cid])
        for name in ("start", "end"):
            when = shown[name]
            if when.get("dateTime"):
                local = self._instant(cid, when, name).astimezone(zone).replace(microsecond=0)
                text = local.isoformat()
                when["dateTime"] = text[:-6] + "Z" if text.endswith("+00:00") else text
        return shown

    def _insert(self, cid, body, caller, actor) -> dict:
        """events.insert: 200 with the event; 409 duplicate for an id already
        used, even by a deleted (cancelled) event."""
        fields = _client_fields(body)
        eid = fields.pop("id", None)
        if eid is None:
            eid = self._new_id(cid)
        self._check_id(eid)
        if eid in self.events[cid]:
            raise _fail(409, "duplicate")
        self._check_attendees(fields, caller)
        self._check_times(cid, fields)
        return self._out(cid, self._store(cid, eid, fields, None, actor))

    def _update(self, cid, eid, body, caller, actor, *, patch: bool) -> dict:
        """events.update replaces the event, events.patch merges into it.  A
        cancelled event stays cancelled unless the write sets status
        "confirmed", which restores it."""
        current = self._find(cid, eid)
        fields = _client_fields(body)
        fields.pop("id", None)
        self._check_attendees(fields, caller)
        if patch:
            fields = _merge(_client_fields(current), fields)
        else:
            fields.setdefault("status", current["status"])
        self._check_times(cid, fields)
        return self._out(cid, self._store(cid, eid, fields, current, actor))

    def _delete(self, cid, eid, actor) -> None:
        """events.delete: 204; the event stays, cancelled; deleting it again is 410."""
        current = self._find(cid, eid)
        if current["status"] == "cancelled":
            raise _fail(410, "deleted")
        self._store(cid, eid, {**_client_fields(current), "status": "cancelled"}, current, actor)

    def _list(self, cid: str, query: dict[str, list[str]]) -> dict:
        """events.list: filters, then offset paging; nextSyncToken on the last page."""
        def one(name):
            return query[name][-1] if name in query else None

        since = None
        if one("syncToken") is not None:
            clash = [name for name in SYNC_EXCLUSIVE if name in query]
            if one("showDeleted") == "false":  # deletions always come with a sync
                clash.append("showDeleted")
            if clash:
                raise _fail(400, "invalid", locationType="parameter", location=clash[0])
            since = self._sync_since(cid, one("syncToken"))
        size = one("maxResults") or str(DEFAULT_RESULTS)
        if not size.isdigit() or int(size) < 1:
            raise _fail(400, "invalid", locationType="parameter", location="maxResults")
        size = min(int(size), MAX_RESULTS)  # larger values are clamped, not refused
        lower = _rfc3339(one("timeMin")) if one("timeMin") is not None else None
        upper = _rfc3339(one("timeMax")) if one("timeMax") is not None else None
        if lower and upper and upper <= lower:
            raise _fail(400, "timeRangeEmpty", locationType="parameter", location="timeMax")
        private = self._constraints(query, "privateExtendedProperty")
        shared = self._constraints(query, "sharedExtendedProperty")
        show_deleted = since is not None or one("showDeleted") == "true"
        offset, snapshot = 0, self._revision
        if one("pageToken") is not None:
            state = _unopaque(one("pageToken")) or {}
            offset, snapshot = state.get("o"), state.get("r")
            if not (isinstance(offset, int) and isinstance(snapshot, int)):
                raise _fail(400, "invalid", locationType="parameter", location="pageToken")
        types = set(query.get("eventTypes", []))
        single = one("singleEvents") == "true"
        hits = []
        for eid, event in self._listable(cid, single, upper):
            props = event.get("extendedProperties") or {}
            revision = self._revisions.get((cid, eid)) or self._revisions[(cid, event.get("recurringEventId"))]
            if ((since is not None and revision <= since)
                    or (types and event.get("eventType", "default") not in types)
                    or (event["status"] == "cancelled" and not show_deleted)
                    or any((props.get("private") or {}).get(k) != v for k, v in private)
                    or any((props.get("shared") or {}).get(k) != v for k, v in shared)):
                continue
            if lower or upper:  # overlap: ends after timeMin, starts before timeMax
                start, end = self._check_times(cid, event)
                if (lower and end <= lower) or (upper and start >= upper):
                    continue
            hits.append(event)
        answer = {"kind": "calendar#events", "etag": f'"{3181161784712000 + self._revision}"',
                  "summary": cid, "description": "", "updated": _stamp(self._revision),
                  "timeZone": self.calendars[cid], "accessRole": "owner",
                  "defaultReminders": [],
                  "items": [self._out(cid, event) for event in hits[offset:offset + size]]}
        if offset + size < len(hits):
            answer["nextPageToken"] = _opaque({"o": offset + size, "r": snapshot})
        else:  # changes made while paging come with the next sync
            answer["nextSyncToken"] = _opaque({"c": cid, "r": snapshot, "e": self._sync_epoch})
        return answer

    def _listable(self, cid: str, single: bool, upper: datetime | None):
        """(id, event) pairs events.list considers: with singleEvents, a
        recurring event's instances (exceptions in their place) instead of
        the event itself; without it, events as stored."""
        stored = self.events[cid]
        if not single:
            yield from stored.items()
            return
        for eid, event in stored.items():
            if event.get("recurringEventId") and event["recurringEventId"] in stored:
                continue  # an exception: it stands in for its instance below
            if not event.get("recurrence"):
                yield eid, event
                continue
            for instance in self._instances(cid, eid, event, upper):
                yield instance["id"], stored.get(instance["id"], instance)

    def _instances(self, cid: str, eid: str, event: dict, upper: datetime | None) -> list[dict]:
        """A recurring event's instances by its RRULE (RFC 5545, through
        dateutil), in the event's own time zone, up to `upper` (or two years)."""
        from dateutil.rrule import rrulestr

        start, end = self._check_times(cid, event)
        all_day = bool(event["start"].get("date"))
        zone = ZoneInfo(event["start"].get("timeZone") or self.calendars[cid])
        first = start.astimezone(zone).replace(tzinfo=None)
        rules = [line for line in event["recurrence"] if line.startswith(("RRULE", "EXDATE", "RDATE"))]
        limit = (upper or start + timedelta(days=730)).astimezone(zone).replace(tzinfo=None)
        found = []
        for occurrence in rrulestr("\n".join(rules), dtstart=first, forceset=True):
            if occurrence >= limit:
                break
            if all_day:
                day = occurrence.date()
                when = {"date": day.isoformat()}
                until = {"date": (day + (end - start).days * timedelta(days=1)).isoformat()}
                suffix = day.strftime("%Y%m%d")
            else:
                moment = occurrence.replace(tzinfo=zone)
                when = {"dateTime": moment.isoformat(), "timeZone": zone.key}
                until = {"dateTime": (moment + (end - start)).isoformat(), "timeZone": zone.key}
                suffix = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            instance = {k: copy.deepcopy(v) for k, v in event.items() if k not in ("recurrence", "id")}
            instance.update(id=f"{eid}_{suffix}", recurringEventId=eid, start=when, end=until,
                            originalStartTime=copy.deepcopy(when))
            found.append(instance)
        return found

    @staticmethod
    def _constraints(query, name) -> list[tuple[str, str]]:
        """``propertyName=value``, repeatable; every one given must match."""
        pairs = [value.partition("=") for value in query.get(name, [])]
        if any(not sep or not key for key, sep, _ in pairs):
            raise _fail(400, "invalid", locationType="parameter", location=name)
        return [(key, value) for key, _, value in pairs]

    def _sync_since(self, cid: str, token: str) -> int:
        state = _unopaque(token) or {}
        revision = state.get("r")
        if (state.get("c") != cid or state.get("e") != self._sync_epoch
                or not isinstance(revision, int) or revision > self._revision):
            raise _fail(410, "fullSyncRequired")
        return revision

    # ---- batch -----------------------------------------------------------
    def _batch(self, headers, raw: bytes) -> _Reply:
        """Up to 50 calls, run in order against the same state, each answered
        (and open to injected faults) on its own.  A part without its own
        Authorization header uses the batch request's."""
        try:
            parts = google_batch.parse(headers.get("Content-Type", ""), raw)
        except ValueError as error:
            raise _fail(400, "badRequest", str(error)) from None
        if len(parts) > MAX_BATCH:  # the documented limit, in the fake's wording
            raise _fail(400, "badRequest",
                        f"A batch request may contain at most {MAX_BATCH} calls; "
                        f"this one has {len(parts)}.")
        self._batches += 1
        batch_id = f"batch-{self._batches}"
        answers = []
        for part in parts:
            if "Authorization" not in part.headers and headers.get("Authorization"):
                part.headers["Authorization"] = headers["Authorization"]
            reply = self._logged(part.method, part.target, part.headers, part.body, batch_id)
            answers.append((part.content_id, reply.status, *reply.encoded()))
        boundary = f"batch_{batch_id}_Zk4kZQ"
        while any(boundary.encode() in (data or b"") for *_, data in answers):
            boundary += "_"
        content_type, data = google_batch.render(answers, boundary)
        return _Reply(200, headers={"Content-Type": content_type}, data=data)
