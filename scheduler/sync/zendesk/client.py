"""Zendesk, through zenpy: the few calls a group sync needs.

The contract the sync relies on:

* `memberships(group)` lists every membership of the group (cursor paging,
  100 a page), each with its user's email and role (one `show_many` request
  for up to 100 users), so a sync that changes nothing costs a handful of
  requests whatever the roster's size;
* `find_user(email)` compares emails exactly (Zendesk's search matches
  loosely) and `user(id)` reads one user;
* `add` and `remove` are idempotent: adding someone already in the group and
  removing a membership that is already gone both succeed, so a sync
  interrupted half-way converges on the next run;
* every request has the patience's connect and read timeouts; a 429 waits
  for `Retry-After` within a bounded budget of seconds, 5xx and dropped
  connections retry with exponential backoff and jitter; a refused
  connection, a timeout, a name that does not resolve or a TLS failure is
  not retried (the next run tries again); nothing waits or asks past the
  patience's deadline. Whatever fails, the caller gets one `ServiceError`
  naming the host and port and what happened (a success that is not JSON
  included). The waiting is done by an injected `sleep`, so tests pass time
  in instead of sleeping.

Credentials come only from the environment and are never printed.
"""

from __future__ import annotations

from datetime import datetime
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import GroupMembership
from zenpy.lib.exception import APIException, RecordNotFoundException, ZenpyException

from scheduler.sync.zendesk.plan import Account, Membership
from scheduler.sync.zendesk.ticketrules import Ticket
from scheduler.sync import transport
from scheduler.errors import ConfigError, ServiceError
from scheduler.settings import Settings
from scheduler.sync.retry import READ_TIMEOUT, Patience, Retry, Tries, retry_after_seconds, with_timeouts

PAGE = 100  # Zendesk's largest page


class GroupNotFound(ServiceError):
    """No group has that name or id."""


@dataclass(frozen=True)
class Group:
    id: int
    name: str


@dataclass(frozen=True)
class Credentials:
    email: str | None
    token: str | None
    oauth_token: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Credentials:
        creds = cls(settings.zendesk_email, settings.zendesk_api_token, settings.zendesk_oauth_token)
        if not creds.oauth_token and not (creds.email and creds.token):
            raise ConfigError(
                "Zendesk credentials missing: set ZENDESK_EMAIL and ZENDESK_API_TOKEN (or ZENDESK_OAUTH_TOKEN)")
        return creds

    def __repr__(self) -> str:  # never show a secret, even in a traceback
        return f"Credentials(email={self.email!r}, token={'***' if self.token else None}, oauth_token={'***' if self.oauth_token else None})"


class _RetryingSession(requests.Session):
    """A requests session that rides out rate limits and passing failures
    before zenpy sees the response (zenpy would otherwise sleep through 429s
    with no limit), gives every request the patience's timeouts, and never
    waits or asks past its deadline. Once Zendesk proved unreachable (refused,
    silent, unknown name, TLS), later calls of the run fail at once with the
    same message instead of waiting again."""

    def __init__(self, patience: Patience):
        super().__init__()
        self.patience = patience
        self.down: str | None = None

    def request(self, method, url, *args, **kwargs):
        if self.down is not None:
            raise ServiceError(f"{self.down}; not tried again in this run")
        p, send = self.patience, super().request
        where = f"{method} {_path(url)}"

        def ask():
            if not p.allows(0):
                raise ServiceError(f"Zendesk at {_where(url)}: stopped before {where}: "
                                   "the run's deadline has passed; the next run will carry on")
            kwargs["timeout"] = p.request_timeouts()
            return send(method, url, *args, **kwargs)

        def classify(answer, tries: Tries) -> Retry | None:
            if isinstance(answer, requests.RequestException):
                connect, read = kwargs["timeout"]
                failure = transport.failure("Zendesk", url, answer, connect=connect, read=read)

                def said(tries: Tries) -> str:
                    times = f" (tried {tries.attempt + 1} times)" if tries.attempt else ""
                    return f"{failure}{times} on {where}"

                if failure.retryable:
                    return Retry(lambda tries: ServiceError(f"{said(tries)}; the next run will try again"))
                self.down = said(tries)
                raise ServiceError(f"{self.down}; the next run will try again")
            if isinstance(answer, BaseException):
                return None
            if answer.status_code == 429:
                wait = retry_after_seconds(answer.headers.get("Retry-After"))

                def limited(tries: Tries) -> ServiceError:
                    if tries.reason == "budget":
                        return ServiceError(f"Zendesk rate limit: {where} still limited after waiting "
                                            f"{tries.rate_waited:.0f} s (budget {p.budget:.0f} s); the next run "
                                            "will carry on", 429)
                    return ServiceError(f"Zendesk rate limit: {where} asks to wait {wait:.0f} s, past the run's "
                                        "deadline; the next run will carry on", 429)

                return Retry(limited, wait=wait, rate_limited=True)
            if answer.status_code >= 500:
                return Retry()  # out of patience, zenpy reports the answer
            return None

        response = p.call(ask, classify)
        _check_json(response, method, url)
        return response


class ZendeskClient:
    def __init__(self, base_url: str, credentials: Credentials, patience: Patience | None = None):
        scheme, host = _split_base_url(base_url)
        self.base_url = base_url
        self.session = _RetryingSession(patience or Patience())
        self._groups = None
        subdomain, _, domain = host.partition(".")
        self.api = Zenpy(
            subdomain=subdomain, domain=domain, session=self.session, disable_cache=True,
            # The session sets each request's timeouts from the patience; this is only zenpy's default.
            timeout=READ_TIMEOUT,
            # Our session handles 429s; this only guards against zenpy's own loop.
            ratelimit_budget=1,
            **_auth(credentials),
        )
        _set_scheme(self.api, scheme)

    # -- reading --------------------------------------------------------------------
    def find_group(self, name_or_id: str | int) -> Group:
        if isinstance(name_or_id, int):
            try:
                group = self._call(self.api.groups, id=name_or_id)
            except RecordNotFoundException:
                raise GroupNotFound(f"Zendesk has no group with id {name_or_id}") from None
            return Group(group.id, group.name)
        if self._groups is None:  # one listing serves every lookup of the run
            self._groups = self._call(lambda: list(self.api.groups()))
        found = [g for g in self._groups if g.name == name_or_id]
        if not found:
            raise GroupNotFound(f"Zendesk has no group named {name_or_id!r} (names are matched exactly)")
        if len(found) > 1:
            ids = ", ".join(str(g.id) for g in found)
            raise ServiceError(f"Zendesk has {len(found)} groups named {name_or_id!r} (ids {ids}): put the id in the roster")
        return Group(found[0].id, found[0].name)

    def memberships(self, group_id: int) -> list[Membership]:
        """Every membership of the group, with its user."""
        raw = self._call(lambda: list(self.api.groups.memberships(group_id)))
        ids = sorted({m.user_id for m in raw})
        accounts: dict[int, Account] = {}
        for i in range(0, len(ids), PAGE):
            for user in self._call(lambda chunk=ids[i:i + PAGE]: list(self.api.users(ids=chunk))):
                accounts[user.id] = _account(user)
        return [Membership(m.id, accounts.get(m.user_id, Account(m.user_id, None))) for m in raw]

    def user(self, user_id: int) -> Account | None:
        try:
            return _account(self._call(self.api.users, id=user_id))
        except RecordNotFoundException:
            return None

    def find_user(self, email: str) -> Account | None:
        """The user whose email is exactly `email` (case aside)."""
        wanted = email.strip().lower()
        found = self._call(lambda: list(self.api.users.search(query=f"email:{wanted}")))
        exact = [u for u in found if (u.email or "").lower() == wanted]
        return _account(exact[0]) if exact else None

    def unresolved_tickets(self, group: Group) -> list[Ticket]:
        """The group's tickets that are not solved or closed (Search API,
        paged by zenpy), with their assignees' names."""
        found = self._call(lambda: list(self.api.search(type="ticket", group=group.id, status_less_than="solved")))
        assignees = sorted({t.assignee_id for t in found if getattr(t, "assignee_id", None)})
        names: dict[int, str] = {}
        for i in range(0, len(assignees), PAGE):
            for user in self._call(lambda chunk=assignees[i:i + PAGE]: list(self.api.users(ids=chunk))):
                names[user.id] = user.name or user.email
        return [
            Ticket(
                id=t.id, subject=t.subject or "(no subject)", status=t.status, group=group.name,
                created_at=_instant(t.created_at), updated_at=_instant(t.updated_at or t.created_at),
                assignee=names.get(t.assignee_id) if getattr(t, "assignee_id", None) else None,
                url=f"{self.base_url}/agent/tickets/{t.id}",
            )
            for t in found
        ]

    # -- writing --------------------------------------------------------------------
    def add(self, group_id: int, user_id: int) -> None:
        try:
            self._call(self.api.group_memberships.create, GroupMembership(user_id=user_id, group_id=group_id))
        except ServiceError as e:
            if e.status is None:
                raise  # no answer: the message says why
            if e.status == 422 and "already" in e.details.lower():
                return  # a retried create that had already happened
            raise ServiceError(f"Zendesk refused to add user {user_id}: {e.details}", e.status, e.details) from None

    def remove(self, membership_id: int) -> None:
        try:
            self._call(self.api.group_memberships.delete, GroupMembership(id=membership_id))
        except RecordNotFoundException:
            return  # already gone: what we wanted

    # -- errors ---------------------------------------------------------------------
    def _call(self, fn, *args, **kwargs):
        """Every zenpy call goes through here: whatever zenpy raises becomes
        one ServiceError (RecordNotFoundException stays, for the callers that
        take "gone" for an answer)."""
        try:
            return fn(*args, **kwargs)
        except RecordNotFoundException:
            raise
        except APIException as e:
            status, code, details = _status(e), *_error_of(e)
            if status in (401, 403):
                raise ServiceError(f"Zendesk refused the credentials ({status}): check ZENDESK_EMAIL and the token",
                                   status, details) from None
            raise ServiceError(transport.answered("Zendesk", self.base_url, status, code, details), status, details) from None
        except requests.HTTPError as e:
            raise ServiceError(transport.answered("Zendesk", self.base_url, e.response.status_code)
                               + f" for {_path(e.response.url)}", e.response.status_code) from None
        except (ZenpyException, ValueError, AttributeError, KeyError, TypeError) as e:
            # zenpy trips over answers it cannot read (JSON of the wrong shape).
            raise ServiceError(f"unexpected answer from Zendesk at {_where(self.base_url)}: "
                               f"{type(e).__name__}: {e}") from None


def client_from_settings(settings: Settings, config_url: str | None, patience: Patience | None = None) -> ZendeskClient:
    url = settings.zendesk_url or config_url
    if not url:
        raise ConfigError("no Zendesk URL: set zendesk.url in the roster or ZENDESK_URL")
    return ZendeskClient(url.rstrip("/"), Credentials.from_settings(settings), with_timeouts(patience, settings))


def _auth(credentials: Credentials) -> dict:
    if credentials.oauth_token:
        return {"oauth_token": credentials.oauth_token}
    return {"email": credentials.email, "token": credentials.token}


def _split_base_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ConfigError(f"Zendesk URL {url!r} must look like https://SUBDOMAIN.zendesk.com")
    if "." not in parts.hostname:
        # zenpy builds hosts as SUBDOMAIN.DOMAIN: a host needs a dot (use 127.0.0.1, not localhost).
        raise ConfigError(f"Zendesk URL {url!r}: the host must contain a dot")
    return parts.scheme, parts.netloc


def _set_scheme(root, scheme: str) -> None:
    """zenpy assumes https; tests and staging copies may use http. Its API
    objects nest (users.search lives inside users), so walk them all."""
    seen, todo = set(), [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if hasattr(obj, "protocol"):
            obj.protocol = scheme
        todo.extend(v for v in vars(obj).values() if hasattr(v, "protocol") or type(v).__module__.startswith("zenpy.lib.api"))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _account(user) -> Account:
    return Account(user.id, (user.email or "").lower() or None, user.name, user.role)


def _status(e: APIException) -> int | None:
    response = getattr(e, "response", None)
    return response.status_code if response is not None else None


def _error_of(e: APIException) -> tuple[str | None, str]:
    """Zendesk's own error code and its words, from an error answer's body:
    `{"error": "RecordInvalid", "description": ..., "details": {field: [{"description"}]}}`
    or `{"error": {"title", "message"}}`."""
    try:
        data = e.response.json()
    except (AttributeError, ValueError):
        return None, str(e)
    if not isinstance(data, dict):
        return None, str(e)
    error = data.get("error")
    if isinstance(error, dict):
        return error.get("title"), error.get("message") or ""
    details = data.get("details") if isinstance(data.get("details"), dict) else {}
    messages = [d.get("description", "") for items in details.values() if isinstance(items, list)
                for d in items if isinstance(d, dict)]
    words = "; ".join(m for m in messages if m) or data.get("description") or ""
    return (error if isinstance(error, str) else None), words


def _check_json(response: requests.Response, method: str, url: str) -> None:
    """A success whose body is not JSON (a proxy's or a maintenance page)
    would make zenpy fail in odd ways; say what came instead."""
    if not 200 <= response.status_code < 300 or response.status_code == 204:
        return
    try:
        response.json()
    except ValueError:
        kind = response.headers.get("Content-Type") or "no Content-Type"
        start = response.text[:60].strip()
        raise ServiceError(f"unexpected answer from Zendesk at {_where(url)} to {method} {_path(url)}: "
                           f"{response.status_code} but not JSON ({kind}: {start!r})", response.status_code) from None


def _where(url: str) -> str:
    host, port = transport.host_port(url)
    return f"{host}:{port}"


def _path(url: str) -> str:
    return urlsplit(url).path
