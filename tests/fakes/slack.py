"""A fake Slack incoming webhook served over real HTTP on 127.0.0.1 (stdlib only).

It mirrors Slack's documented incoming-webhook behaviour -- "Sending messages
using incoming webhooks" (api.slack.com/messaging/webhooks), its "Handling
errors" section and the changelog it points to
(api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks)
-- closely enough that slack_sdk's WebhookClient posts to it unmodified:

* ``POST /services/T.../B.../<secret>``: the path is the credential.  A JSON
  object with ``text``, ``blocks`` or ``attachments`` (plus options such as
  ``unfurl_links``) is accepted with 200 and the plain-text body ``ok``;
* errors are plain-text strings too, never JSON: 400 ``invalid_payload`` ("the
  JSON is structured incorrectly"), 400 ``no_text`` ("the text attribute was
  missing from the payload"), 403 ``invalid_token`` ("the token used was
  expired, invalid, or missing": the right T.../B... with a wrong secret) and
  404 ``no_service`` ("the incoming webhook is either disabled, removed, or
  invalid": any other path, or after disable());
* on demand (fail_next), the other documented answers: 404 channel_not_found,
  410 channel_is_archived, 500 rollup_error, and 429 rate_limited, which
  always carries ``Retry-After`` in seconds (api.slack.com/docs/rate-limits).

The page documents the error names; the 403/404 statuses of invalid_token and
no_service are those hooks.slack.com is seen to answer.  Slack also accepts a
form-encoded ``payload=`` body; rota posts JSON only, so the fake does not.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from .http import Handler, HttpFake, use_rule

# fail_next's default bodies: the documented string for each status.
BODIES = {400: "invalid_payload", 403: "invalid_token", 404: "no_service",
          410: "channel_is_archived", 429: "rate_limited", 500: "rollup_error"}
CONTENT_TYPE = "text/html"  # what hooks.slack.com labels its plain-text answers


@dataclass
class Seen:
    """One request as the fake saw it: the body parsed as JSON when it is,
    else the raw text; status 0 means the connection was dropped."""

    method: str
    path: str
    body: object
    status: int


@dataclass
class _Rule:
    kind: str  # "fail", "drop" or "after_accept"
    count: int
    status: int = 0
    body: str = ""
    retry_after: int | None = None


class FakeSlack(HttpFake):
    """One incoming webhook, its message log, traffic log and fault injection."""

    server_header = "FakeSlack"

    def __init__(self, *, path="/services/T0001/B0001/abcdefghijklmnopqrstuvwx"):
        super().__init__()
        if path.count("/") != 4 or not path.startswith("/services/"):
            raise ValueError("path must look like /services/T.../B.../secret")
        self.path = path
        self.messages: list[dict] = []
        self.requests: list[Seen] = []
        self._rules: list[_Rule] = []
        self._disabled = False
        self._lock = threading.Lock()

    def start(self):
        super().start()
        self.url += self.path  # the full webhook URL; self.port stays as is
        return self

    # ---- faults ------------------------------------------------------------
    def _add_rule(self, rule: _Rule) -> None:
        if rule.count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._rules.append(rule)

    def fail_next(self, status: int, count: int = 1, *, body: str | None = None,
                  retry_after: int | None = None) -> None:
        """Answer ``status`` with Slack's documented body for it, unless ``body``
        is given; the message is not accepted.  A 429 without retry_after
        still says ``Retry-After: 1``: Slack sends it with every 429."""
        if body is None:
            if status not in BODIES:
                raise ValueError(f"Slack documents no body for {status}; pass body=")
            body = BODIES[status]
        if status == 429 and retry_after is None:
            retry_after = 1
        self._add_rule(_Rule("fail", count, status, body, retry_after))

    def drop_next(self, count: int = 1) -> None:
        """Hang up without answering; the message is not accepted."""
        self._add_rule(_Rule("drop", count))

    def fail_after_accept(self, count: int = 1) -> None:
        """Accept the next acceptable message(s), then hang up: the answer is lost."""
        self._add_rule(_Rule("after_accept", count))

    def disable(self) -> None:
        """The webhook was removed: from now on every post answers 404 no_service."""
        with self._lock:
            self._disabled = True

    def _take_rule(self, acceptable: bool) -> _Rule | None:
        """The first rule that applies, in injection order; after_accept rules
        apply only to a post that would be accepted."""
        return use_rule(self._rules, lambda rule: rule.kind != "after_accept" or acceptable)

    # ---- HTTP --------------------------------------------------------------
    def _serve(self, handler: Handler) -> None:
        raw = handler.read_body().decode("utf-8", errors="replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        headers: dict[str, str] = {}
        with self._lock:
            status, answer = self._check(handler.path, body)
            rule = self._take_rule(acceptable=status == 200)
            if rule is not None and rule.kind == "fail":
                status, answer = rule.status, rule.body
                if rule.retry_after is not None:
                    headers["Retry-After"] = str(rule.retry_after)
            drop = rule is not None and rule.kind in ("drop", "after_accept")
            if status == 200 and (rule is None or rule.kind == "after_accept"):
                self.messages.append(body)
            self.requests.append(Seen(handler.command, handler.path, body, 0 if drop else status))
        if drop:
            handler.hang_up()
            return
        handler.answer(status, {"Content-Type": CONTENT_TYPE, **headers}, answer.encode())

    def _check(self, path: str, body: object) -> tuple[int, str]:
        """What Slack would answer, faults aside: the URL first, then the payload."""
        if path != self.path:
            same_hook = path.rpartition("/")[0] == self.path.rpartition("/")[0]
            return (403, "invalid_token") if same_hook else (404, "no_service")
        if self._disabled:
            return 404, "no_service"
        if not isinstance(body, dict):  # not JSON, or JSON but not an object
            return 400, "invalid_payload"
        if not any(body.get(key) for key in ("text", "blocks", "attachments")):
            return 400, "no_text"
        return 200, "ok"
