"""A fake Zendesk Support API served over real HTTP on 127.0.0.1 (stdlib only).

It mirrors the documented REST API (developer.zendesk.com/api-reference) for
the parts rota uses -- groups, group memberships, users, tickets and the
Search API over tickets -- closely enough that zenpy 2.0.57 runs against it
unmodified:

* paths under /api/v2, each accepted with or without the ``.json`` suffix;
* cursor pagination when ``page[size]`` is given (at most 100), otherwise
  offset pagination (``page``/``per_page``), with absolute next/prev URLs;
* Zendesk's error bodies: RecordNotFound (404), RecordInvalid (422) with
  ``details``, "Couldn't authenticate you" (401), APIRateLimitExceeded (429),
  and the search limit's 422 ``"error": "invalid"``;
* the X-Rate-Limit / X-Rate-Limit-Remaining headers on every answer.

Zendesk does not document the wording of its 400 bodies, so only their status
is meant to be relied on.  Tests can also inject faults (error statuses,
dropped connections, writes whose answer is lost, a 200 whose body is not
JSON, a request that is never answered) and forbid writes.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from .http import Handler, HttpFake, use_rule

STAMP = "2027-01-04T09:00:00Z"  # every created_at/updated_at: no clock reads
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ROLES = ("end-user", "agent", "admin")
MAX_PAGE = 100  # "Most endpoints limit [page[size]] to a maximum of 100"
RATE_LIMIT = 700
NOT_FOUND = {"error": "RecordNotFound", "description": "Not found"}
NO_ROUTE = {"error": "InvalidEndpoint", "description": "Not found"}
# Ticket statuses in Zendesk's order, which status<X and status>X compare by.
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
# "The Search API returns up to 1,000 results per query ... If you request a
# page past the limit (page=11 at 100 results per page), a 422 ... is returned."
SEARCH_LIMIT = 1000
SEARCH_LIMIT_EXCEEDED = {"error": "invalid", "description": "Search response limit exceeded"}
GARBLED = b"<html><body><h1>Down for maintenance</h1></body></html>"
SORTABLE = ("created_at", "updated_at", "status")  # the sort_by values the fake honours


@dataclass
class Seen:
    """One request as the fake saw it; status 0 means it was never answered
    (the connection was dropped, or hung until the fake stopped)."""

    method: str
    path: str
    query: dict[str, str]
    body: dict | None
    status: int


@dataclass
class _Rule:
    kind: str  # "fail", "drop", "after_write", "garble" or "hang"
    count: int
    method: str | None
    path_contains: str | None
    status: int = 0
    retry_after: int | None = None
    body: dict | None = None


class _Answer(Exception):
    """Raised by a route to answer at once with a Zendesk-shaped error body."""

    def __init__(self, status: int, body: dict):
        super().__init__(status, body)
        self.status, self.body = status, body


def _record_invalid(description: str, error: str) -> _Answer:
    # Create Membership's documented 422: details keyed by the offending field.
    return _Answer(422, {"error": "RecordInvalid", "description": "Record validation errors",
                         "details": {"user_id": [{"description": description, "error": error}]}})


def _bad_paging(description: str) -> _Answer:
    return _Answer(400, {"error": "InvalidPaginationParameter", "description": description})


def _int_param(query: dict[str, str], name: str, default: int) -> int:
    value = query.get(name, str(default))
    if not value.isdigit() or int(value) < 1:
        raise _bad_paging(f"{name} must be a positive integer")
    return int(value)


def _encode_cursor(record_id: int) -> str:
    # Real cursors are opaque base64 blobs; clients must pass them back verbatim.
    return base64.urlsafe_b64encode(json.dumps({"o": "id", "v": record_id}).encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))["v"]
    except (ValueError, KeyError, TypeError):
        value = None
    if not isinstance(value, int):
        raise _bad_paging("invalid cursor")
    return value


class FakeZendesk(HttpFake):
    """The fake server plus its state, traffic log and fault injection."""

    server_header = "FakeZendesk"

    def __init__(self, *, email="rota-bot@example.gov", token="test-token", oauth_token=None):
        super().__init__()
        self.email, self.token, self.oauth_token = email, token, oauth_token
        # JSON-shaped state without "url": that needs the port, known once started.
        self.users: dict[int, dict] = {}
        self.groups: dict[int, dict] = {}
        self.memberships: dict[int, dict] = {}
        self.tickets: dict[int, dict] = {}
        self.requests: list[Seen] = []
        self.violations: list[str] = []
        self.rate_limit_remaining = RATE_LIMIT
        self._rules: list[_Rule] = []
        self._writes_forbidden = False
        self._lock = threading.RLock()
        self._release = threading.Event()  # set on stop(): hung requests end

    # ---- state -----------------------------------------------------------
    @staticmethod
    def _next_id(table: dict[int, dict], first: int) -> int:
        return max(max(table, default=0), first - 1) + 1

    def add_user(self, name, email, role="agent", id=None) -> int:  # noqa: A002
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        with self._lock:
            uid = self._next_id(self.users, 1001) if id is None else id
            self.users[uid] = {"id": uid, "name": name, "email": email, "role": role,
                               "active": True, "suspended": False,
                               "created_at": STAMP, "updated_at": STAMP}
            return uid

    def add_group(self, name, id=None) -> int:  # noqa: A002
        with self._lock:
            gid = self._next_id(self.groups, 2001) if id is None else id
            self.groups[gid] = {"id": gid, "name": name, "description": "", "default": False,
                                "deleted": False, "created_at": STAMP, "updated_at": STAMP}
            return gid

    def add_membership(self, user_id, group_id, id=None) -> int:  # noqa: A002
        """Seed a membership directly; unlike the API this allows end-users."""
        with self._lock:
            if user_id not in self.users or group_id not in self.groups:
                raise ValueError(f"unknown user {user_id} or group {group_id}")
            if user_id in self.member_ids(group_id):
                raise ValueError(f"user {user_id} is already in group {group_id}")
            mid = self._next_id(self.memberships, 5001) if id is None else id
            self.memberships[mid] = {"id": mid, "user_id": user_id, "group_id": group_id,
                                     "default": False, "created_at": STAMP, "updated_at": STAMP}
            return mid

    def add_ticket(self, subject, *, status="new", group_id, created_at: str,
                   updated_at: str | None = None, assignee_id=None, requester_id=None,
                   id=None) -> int:  # noqa: A002
        """Seed a ticket.  Timestamps come from the test (no clock reads) and
        must carry a zone; updated_at defaults to created_at."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        created = _ticket_stamp("created_at", created_at)
        updated = created if updated_at is None else _ticket_stamp("updated_at", updated_at)
        if updated < created:  # same fixed-width UTC form, so text order is time order
            raise ValueError("updated_at is before created_at")
        with self._lock:
            if group_id not in self.groups:
                raise ValueError(f"unknown group {group_id}")
            for user_id in (assignee_id, requester_id):
                if user_id is not None and user_id not in self.users:
                    raise ValueError(f"unknown user {user_id}")
            tid = self._next_id(self.tickets, 9001) if id is None else id
            # Zendesk's description is the first comment; the subject stands in for it.
            self.tickets[tid] = {"id": tid, "subject": subject, "description": subject,
                                 "status": status, "priority": None, "group_id": group_id,
                                 "assignee_id": assignee_id, "requester_id": requester_id,
                                 "created_at": created, "updated_at": updated,
                                 "via": {"channel": "web"}, "tags": []}
            return tid

    def member_ids(self, group_id) -> set[int]:
        with self._lock:
            return {m["user_id"] for m in self.memberships.values() if m["group_id"] == group_id}

    # ---- traffic and faults ---------------------------------------------
    def writes(self) -> list[Seen]:
        with self._lock:
            return [seen for seen in self.requests if seen.method in WRITE_METHODS]

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def _add_rule(self, rule: _Rule) -> None:
        if rule.count < 1:
            raise ValueError("count must be at least 1")
        rule.method = rule.method and rule.method.upper()
        with self._lock:
            self._rules.append(rule)

    def fail_next(self, status: int, count: int = 1, *, method=None, path_contains=None,
                  retry_after=None, body=None) -> None:
        """Answer ``status`` without touching state; path_contains is matched
        against the percent-decoded request target (path and query)."""
        if body is None:
            body = ({"error": "APIRateLimitExceeded", "description": "Rate limit exceeded"}
                    if status == 429 else {"error": "ServerError"})
        self._add_rule(_Rule("fail", count, method, path_contains, status, retry_after, body))

    def drop_next(self, count: int = 1, *, method=None, path_contains=None) -> None:
        """Close the connection without a status line; state untouched."""
        self._add_rule(_Rule("drop", count, method, path_contains))

    def fail_after_write(self, count: int = 1, *, method=None) -> None:
        """Apply the next write(s), then drop the connection: the answer is lost."""
        self._add_rule(_Rule("after_write", count, method, None))

    def garble_next(self, count: int = 1, *, method=None, path_contains=None) -> None:
        """Answer 200 with an HTML body, as a proxy or a maintenance page in
        front of Zendesk would; state untouched."""
        self._add_rule(_Rule("garble", count, method, path_contains))

    def hang_next(self, count: int = 1, *, method=None, path_contains=None) -> None:
        """Read the request, then never answer; the connection closes when the
        fake stops. The request is logged (status 0) as soon as it arrives."""
        self._add_rule(_Rule("hang", count, method, path_contains))

    def start(self):
        self._release.clear()
        return super().start()

    def stop(self) -> None:
        self._release.set()
        super().stop()

    def forbid_writes(self) -> None:
        with self._lock:
            self._writes_forbidden = True

    def _take_rule(self, method: str, target: str) -> _Rule | None:
        return use_rule(self._rules, lambda rule: (
            (rule.kind != "after_write" or method in WRITE_METHODS)
            and rule.method in (None, method)
            and (rule.path_contains is None or rule.path_contains in target)))

    # ---- HTTP ------------------------------------------------------------
    def _serve(self, handler: Handler) -> None:
        raw = handler.read_body()
        split = urlsplit(handler.path)
        path, query = unquote(split.path), dict(parse_qsl(split.query, keep_blank_values=True))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        method, headers, drop = handler.command, {}, False
        with self._lock:
            try:
                status, payload, headers, drop = self._dispatch(
                    method, path, query, raw, unquote(handler.path), handler.headers)
            except Exception:  # a bug in the fake must not look like a network fault
                status, payload = 500, {"error": "FakeZendeskBug",
                                        "description": traceback.format_exc()}
            self.requests.append(Seen(method, path, query,
                                      body if isinstance(body, dict) else None,
                                      0 if drop else status))
            self.rate_limit_remaining = remaining = max(0, self.rate_limit_remaining - 1)
        if drop == "hang":
            self._release.wait()
        if drop:
            handler.hang_up()
            return
        headers.update({"X-Rate-Limit": str(RATE_LIMIT), "X-Rate-Limit-Remaining": str(remaining)})
        data = None  # RFC 9110: a 204 has no body and no Content-Length
        if isinstance(payload, bytes):
            data = payload
            headers["Content-Type"] = "text/html; charset=utf-8"
        elif status != 204:
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        handler.answer(status, headers, data)

    def _dispatch(self, method, path, query, raw, target, request_headers):
        """Order: forbidden writes, injected faults, auth, then the route."""
        if self._writes_forbidden and method in WRITE_METHODS:
            self.violations.append(f"{method} {target} {raw.decode(errors='replace')}")
            return 500, {"error": "ServerError", "description": "writes are forbidden"}, {}, False
        rule = self._take_rule(method, target)
        if rule is not None and rule.kind == "drop":
            return 0, None, {}, True
        if rule is not None and rule.kind == "hang":
            return 0, None, {}, "hang"
        if rule is not None and rule.kind == "garble":
            return 200, GARBLED, {}, False
        if rule is not None and rule.kind == "fail":
            headers = {} if rule.retry_after is None else {"Retry-After": str(rule.retry_after)}
            return rule.status, rule.body, headers, False
        if not self._authorized(request_headers.get("Authorization", "")):
            return 401, {"error": "Couldn't authenticate you"}, {}, False
        try:
            status, payload = self._route(method, path, query, raw)
        except _Answer as answer:
            status, payload = answer.status, answer.body
        return status, payload, {}, rule is not None  # "after_write": applied, answer lost

    def _authorized(self, header: str) -> bool:
        """Basic ``{email}/token:{token}`` or ``Bearer {oauth_token}``, as documented."""
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode()
            except ValueError:  # binascii.Error and UnicodeDecodeError both are
                return False
            return decoded == f"{self.email}/token:{self.token}"
        if scheme.lower() == "bearer":
            return self.oauth_token is not None and credentials == self.oauth_token
        return False

    # ---- routes ----------------------------------------------------------
    def _route(self, method, path, query, raw):
        parts = path.removesuffix("/").removesuffix(".json").split("/")
        if parts[:3] != ["", "api", "v2"]:
            raise _Answer(404, NO_ROUTE)
        base = "/".join(parts)
        match method, parts[3:]:
            case "GET", ["groups"]:
                return 200, self._page("groups", self._all(self.groups, "groups"), base, query)
            case "GET", ["groups", gid]:
                return 200, {"group": self._out("groups", self._find(self.groups, gid))}
            case "GET", ["groups", gid, "memberships"]:
                group_id = self._find(self.groups, gid)["id"]
                members = [m for m in self._all(self.memberships, "group_memberships")
                           if m["group_id"] == group_id]
                return 200, self._sideload(self._page("group_memberships", members, base, query),
                                           query)
            case "GET", ["group_memberships", mid]:
                return 200, {"group_membership": self._out(
                    "group_memberships", self._find(self.memberships, mid))}
            case "POST", ["group_memberships"]:
                return 201, {"group_membership": self._create_membership(raw)}
            case "DELETE", ["group_memberships", mid]:
                del self.memberships[self._find(self.memberships, mid)["id"]]
                return 204, None
            case "GET", ["users", "show_many"]:
                return 200, self._show_many(query)
            case "GET", ["users", "search"]:
                return 200, self._page("users", self._search(query), base, query, cursor=False)
            case "GET", ["users", uid]:
                return 200, {"user": self._out("users", self._find(self.users, uid))}
            case "GET", ["tickets", tid]:
                return 200, {"ticket": self._out("tickets", self._find(self.tickets, tid))}
            case "GET", ["search"]:
                return 200, self._search_page(base, query)
        raise _Answer(404, NO_ROUTE)

    def _out(self, kind: str, record: dict) -> dict:
        return {"id": record["id"], "url": f"{self.url}/api/v2/{kind}/{record['id']}.json",
                **record}

    def _all(self, table: dict[int, dict], kind: str) -> list[dict]:
        return [self._out(kind, table[key]) for key in sorted(table)]

    @staticmethod
    def _find(table: dict[int, dict], raw_id: str) -> dict:
        if not raw_id.isdigit() or int(raw_id) not in table:
            raise _Answer(404, NOT_FOUND)
        return table[int(raw_id)]

    def _sideload(self, page: dict, query: dict[str, str]) -> dict:
        """``include=users`` adds the users the page refers to (Side-Loading docs)."""
        if "users" in query.get("include", "").split(","):
            ids = sorted({m["user_id"] for m in page["group_memberships"]})
            page["users"] = [self._out("users", self.users[i]) for i in ids if i in self.users]
        return page

    def _create_membership(self, raw: bytes) -> dict:
        """Create Membership: agents/admins only, no duplicates, 404 for unknown ids."""
        try:
            fields = json.loads(raw)["group_membership"]
            user_id, group_id = fields["user_id"], fields["group_id"]
        except (ValueError, KeyError, TypeError):
            user_id = group_id = None
        if not all(type(v) is int for v in (user_id, group_id)):
            raise _Answer(400, {"error": "BadRequest", "description":
                                'expected {"group_membership": {"user_id": N, "group_id": N}}'})
        if user_id not in self.users or group_id not in self.groups:
            raise _Answer(404, NOT_FOUND)
        if self.users[user_id]["role"] == "end-user":
            raise _record_invalid("User is not an agent", "InvalidValue")
        if user_id in self.member_ids(group_id):
            raise _record_invalid("User is already a member of this group", "DuplicateValue")
        return self._out("group_memberships",
                         self.memberships[self.add_membership(user_id, group_id)])

    def _show_many(self, query: dict[str, str]) -> dict:
        """Show Many Users: at most 100 ids; unknown ids are silently left out."""
        ids = [i for i in query.get("ids", "").split(",") if i]
        if len(ids) > MAX_PAGE:
            raise _Answer(400, {"error": "TooManyValues", "description": "at most 100 ids"})
        users = [self._out("users", self.users[int(i)]) for i in ids
                 if i.isdigit() and int(i) in self.users]
        return {"users": users, "next_page": None, "previous_page": None, "count": len(users)}

    def _search(self, query: dict[str, str]) -> list[dict]:
        """Search Users matches loosely: ``email:x`` is a case-insensitive prefix
        match (x@example.gov also finds x@example.gov.uk); other text matches
        anywhere in name or email.  Callers must compare exactly themselves."""
        text = query.get("query", "").strip().strip('"').lower()
        if text.startswith("email:"):
            prefix = text.removeprefix("email:").strip('"')
            hits = [u for u in self.users.values() if u["email"].lower().startswith(prefix)]
        else:
            hits = [u for u in self.users.values() if text and (
                text in u["name"].lower() or text in u["email"].lower())]
        return [self._out("users", u) for u in sorted(hits, key=lambda u: u["id"])]

    # ---- the Search API (tickets only) ------------------------------------
    def _search_page(self, base: str, query: dict[str, str]) -> dict:
        """Search: offset pagination only (no cursors), at most 100 per page.

        ``count`` is the real number of matches even beyond 1,000 ("if a query
        has 5,000 results, the count value will be 5,000"), and next_page keeps
        pointing on, so a client paging past the limit meets the 422 -- which
        is what zenpy's SearchResultGenerator expects and turns into a stop."""
        page, per = _int_param(query, "page", 1), min(_int_param(query, "per_page", 100), MAX_PAGE)
        start = (page - 1) * per
        if start >= SEARCH_LIMIT:  # checked on the request, whatever the count
            raise _Answer(422, SEARCH_LIMIT_EXCEEDED)
        hits = [{**self._out("tickets", t), "result_type": "ticket"}
                for t in self._search_tickets(query)]
        body = self._page("results", hits, base, query, cursor=False)
        body["results"] = body["results"][:SEARCH_LIMIT - start]  # a page straddling 1,000
        body["facets"] = None
        return body

    def _search_tickets(self, query: dict[str, str]) -> list[dict]:
        """The tickets matching ``query``, sorted by sort_by/sort_order.

        Terms are space separated; a quoted value may hold spaces.  Following
        Zendesk in practice, repeated ``:`` terms on one property are ORed
        (``group:1 group:2``, ``status:new status:open``), everything else is
        ANDed -- so ``created>A created<B`` is a range.  A leading ``-`` negates
        a term.  Terms the fake does not know, and free text (it indexes none),
        are ignored; a known property with a malformed value matches nothing.
        Only tickets are indexed, so any other ``type`` finds nothing."""
        if query.get("filter[type]", "ticket") != "ticket":
            return []
        any_of: dict[str, list[Callable[[dict], bool]]] = {}
        all_of: list[Callable[[dict], bool]] = []
        for negated, key, op, value in _terms(query.get("query", "")):
            test = self._term_test(key, op, value)
            if test is None:
                continue
            if negated:
                all_of.append(lambda t, test=test: not test(t))
            elif op == ":":
                any_of.setdefault("group" if key == "group_id" else key, []).append(test)
            else:
                all_of.append(test)
        tests = all_of + [lambda t, alts=alts: any(a(t) for a in alts) for alts in any_of.values()]
        hits = [t for t in self.tickets.values() if all(test(t) for test in tests)]
        return self._sorted(hits, query)

    def _term_test(self, key: str, op: str, value: str) -> Callable[[dict], bool] | None:
        """One property term as a predicate on a stored ticket; None if unknown."""
        if key in ("created", "updated"):
            return _time_test(f"{key}_at", op, value)
        value = value.lower()  # Zendesk search is case-insensitive
        if key == "type":
            return lambda t: op == ":" and value == "ticket"
        if key == "status":
            if value not in STATUSES:
                return lambda t: False
            rank = STATUSES.index(value)
            return lambda t: _compare(STATUSES.index(t["status"]), op, rank)
        if key in ("group", "group_id"):
            # Zendesk's group keyword takes a group's id or its name.
            ids = {gid for gid, g in self.groups.items() if value in (str(gid), g["name"].lower())}
            return lambda t: op == ":" and t["group_id"] in ids
        if key == "assignee":
            if value == "none":  # "none" finds tickets nobody is assigned to
                return lambda t: op == ":" and t["assignee_id"] is None
            return lambda t: op == ":" and str(t["assignee_id"]) == value
        return None

    @staticmethod
    def _sorted(hits: list[dict], query: dict[str, str]) -> list[dict]:
        """sort_by/sort_order as documented (sort_order defaults to desc); with
        no known sort_by, created_at ascending stands in for relevance."""
        sort_by = query.get("sort_by")
        if sort_by in SORTABLE:
            descending = query.get("sort_order", "desc") != "asc"
        else:
            sort_by, descending = "created_at", False
        # Stored timestamps share one fixed-width UTC form, so text order is time order.
        rank = (lambda t: STATUSES.index(t["status"])) if sort_by == "status" \
            else (lambda t: t[sort_by])
        return sorted(hits, key=lambda t: (rank(t), t["id"]), reverse=descending)

    # ---- pagination ------------------------------------------------------
    def _link(self, base: str, query: dict[str, str], **page_params) -> str:
        keep = {k: v for k, v in query.items() if not k.startswith(("page", "per_page"))}
        return f"{self.url}{base}.json?{urlencode({**keep, **page_params})}"

    def _page(self, key: str, items: list[dict], base: str, query: dict[str, str],
              cursor: bool = True) -> dict:
        """Cursor pagination when page[size] is given (and supported), else offset."""
        if cursor and "page[size]" in query:
            return self._cursor_page(key, items, base, query)
        # Offset paging clamps per_page to 100 rather than refusing it.
        page, per = _int_param(query, "page", 1), min(_int_param(query, "per_page", 100), MAX_PAGE)
        start = (page - 1) * per
        return {key: items[start:start + per],
                "next_page": self._link(base, query, page=page + 1, per_page=per)
                if start + per < len(items) else None,
                "previous_page": self._link(base, query, page=page - 1, per_page=per)
                if page > 1 else None,
                "count": len(items)}

    def _cursor_page(self, key, items, base, query) -> dict:
        size = _int_param(query, "page[size]", MAX_PAGE)
        if size > MAX_PAGE:
            raise _bad_paging(f"page[size] must be less than or equal to {MAX_PAGE}")
        backwards = "page[before]" in query
        if backwards:
            before = _decode_cursor(query["page[before]"])
            chunk = [item for item in items if item["id"] < before][-size:]
        else:
            after = _decode_cursor(query["page[after]"]) if "page[after]" in query else None
            chunk = [item for item in items if after is None or item["id"] > after][:size]
        # has_more is exact: a full last page says False, so no empty page follows.
        more_after = bool(chunk) and any(item["id"] > chunk[-1]["id"] for item in items)
        more_before = bool(chunk) and any(item["id"] < chunk[0]["id"] for item in items)
        first = _encode_cursor(chunk[0]["id"]) if chunk else None
        last = _encode_cursor(chunk[-1]["id"]) if chunk else None
        nxt = {"page[size]": size, "page[after]": last}
        prev = {"page[size]": size, "page[before]": first}
        return {key: chunk,
                "meta": {"has_more": more_before if backwards else more_after,
                         "after_cursor": last, "before_cursor": first},
                "links": {"next": self._link(base, query, **nxt) if more_after else None,
                          "prev": self._link(base, query, **prev) if more_before else None}}


# ---- ticket times and search queries ----------------------------------------
def _ticket_stamp(name: str, text: str) -> str:
    """A seeded ticket timestamp, normalised to the "...Z" UTC form Zendesk answers with."""
    try:
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        when = None
    if when is None or when.tzinfo is None:  # a zoneless time would be a guess
        raise ValueError(f"{name} must be an ISO 8601 timestamp with a zone, got {text!r}")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(text: str) -> datetime | None:
    """An ISO 8601 date or timestamp as an aware UTC datetime, None if malformed.
    A bare date is midnight UTC, and so is a timestamp without a zone."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


_TOKEN = re.compile(r'(?:[^\s"]+|"[^"]*")+')  # a term; quotes may hold spaces
_TERM = re.compile(r"(-?)(\w+)([:<>])(.+)", re.S)  # [-]property op value
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _terms(text: str) -> list[tuple[bool, str, str, str]]:
    """(negated, property, operator, unquoted value) for each property term;
    words without an operator are free text, which the fake leaves out."""
    found = []
    for token in _TOKEN.findall(text):
        match = _TERM.fullmatch(token)
        if match:
            negated, key, op, value = match.groups()
            found.append((negated == "-", key.lower(), op, value.strip('"')))
    return found


def _compare(left, op: str, right) -> bool:
    return left < right if op == "<" else left > right if op == ">" else left == right


def _time_test(field: str, op: str, value: str) -> Callable[[dict], bool]:
    """created/updated against a date or timestamp, compared as instants.

    A bare date means midnight UTC, so ``created>2027-01-04`` includes that
    day's tickets after 00:00:00Z; ``created:2027-01-04`` is that whole UTC
    day.  (Real Zendesk reads bare dates in the account's time zone; the fake
    has one zone, UTC.)  Relative values such as ``4hours`` would need a clock,
    so like any malformed value they match nothing."""
    when = _instant(value)
    if when is None:
        return lambda t: False
    if op == ":" and _DATE.fullmatch(value):
        return lambda t: when <= _instant(t[field]) < when + timedelta(days=1)
    return lambda t: _compare(_instant(t[field]), op, when)
