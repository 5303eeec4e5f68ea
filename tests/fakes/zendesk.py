"""A fake Zendesk Support API served over real HTTP on 127.0.0.1 (stdlib only).

It mirrors the documented REST API (developer.zendesk.com/api-reference) for
the parts rota uses -- groups, group memberships and users -- closely enough
that zenpy 2.0.57 runs against it unmodified:

* paths under /api/v2, each accepted with or without the ``.json`` suffix;
* cursor pagination when ``page[size]`` is given (at most 100), otherwise
  offset pagination (``page``/``per_page``), with absolute next/prev URLs;
* Zendesk's error bodies: RecordNotFound (404), RecordInvalid (422) with
  ``details``, "Couldn't authenticate you" (401), APIRateLimitExceeded (429);
* the X-Rate-Limit / X-Rate-Limit-Remaining headers on every answer.

Zendesk does not document the wording of its 400 bodies, so only their status
is meant to be relied on.  Tests can also inject faults (error statuses,
dropped connections, writes whose answer is lost) and forbid writes.
"""

from __future__ import annotations

import base64
import json
import threading
import traceback
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from .http import Handler, HttpFake

STAMP = "2027-01-04T09:00:00Z"  # every created_at/updated_at: no clock reads
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ROLES = ("end-user", "agent", "admin")
MAX_PAGE = 100  # "Most endpoints limit [page[size]] to a maximum of 100"
RATE_LIMIT = 700
NOT_FOUND = {"error": "RecordNotFound", "description": "Not found"}
NO_ROUTE = {"error": "InvalidEndpoint", "description": "Not found"}


@dataclass
class Seen:
    """One request as the fake saw it; status 0 means the connection was dropped."""

    method: str
    path: str
    query: dict[str, str]
    body: dict | None
    status: int


@dataclass
class _Rule:
    kind: str  # "fail", "drop" or "after_write"
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
        self.requests: list[Seen] = []
        self.violations: list[str] = []
        self.rate_limit_remaining = RATE_LIMIT
        self._rules: list[_Rule] = []
        self._writes_forbidden = False
        self._lock = threading.RLock()

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

    def forbid_writes(self) -> None:
        with self._lock:
            self._writes_forbidden = True

    def _take_rule(self, method: str, target: str) -> _Rule | None:
        for rule in self._rules:
            if ((rule.kind != "after_write" or method in WRITE_METHODS)
                    and rule.method in (None, method)
                    and (rule.path_contains is None or rule.path_contains in target)):
                rule.count -= 1
                if rule.count == 0:
                    self._rules.remove(rule)
                return rule
        return None

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
        if drop:
            handler.hang_up()
            return
        headers.update({"X-Rate-Limit": str(RATE_LIMIT), "X-Rate-Limit-Remaining": str(remaining)})
        data = None  # RFC 9110: a 204 has no body and no Content-Length
        if status != 204:
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
