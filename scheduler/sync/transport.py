"""What went wrong on the way to an outside system, said the same way for
each of them.

The three client libraries (requests under zenpy, httplib2 under
googleapiclient and google-auth, urllib under slack_sdk) each wrap a
refused connection, a timeout, a name that does not resolve or a failed TLS
handshake in their own exception types, often several layers deep.
`failure()` walks those layers and says which of these it was, with the
system's name, host and port, so that every adapter's message reads alike:

    Zendesk at acme.zendesk.com:443 did not answer within 30 s

`answered()` builds the message for an HTTP error status with the service's
own error code. Which failures are worth retrying at once is decided here
too: only a connection dropped before the answer; the others would fail the
same way again (refused, name, TLS) or only wait longer (timeouts), and the
next scheduled run tries again anyway.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import httplib2
import requests
import urllib3.exceptions

REFUSED = "refused"
TIMED_OUT = "timed out"
CONNECT_TIMED_OUT = "connect timed out"
UNRESOLVED = "name not resolved"
TLS = "TLS"
DROPPED = "dropped"
OTHER = "failed"


@dataclass(frozen=True)
class Failure:
    system: str
    host: str
    port: int
    kind: str
    detail: str = ""
    seconds: float | None = None  # the timeout that ran out, for timeouts

    @property
    def where(self) -> str:
        return f"{self.system} at {self.host}:{self.port}"

    @property
    def retryable(self) -> bool:
        return self.kind == DROPPED

    def __str__(self) -> str:
        where = self.where
        if self.kind == REFUSED:
            return f"{where} refused the connection"
        if self.kind == TIMED_OUT:
            return f"{where} did not answer within {_seconds(self.seconds)}"
        if self.kind == CONNECT_TIMED_OUT:
            return f"{where} could not be reached within {_seconds(self.seconds)} (connect timed out)"
        if self.kind == UNRESOLVED:
            return f"{where}: name not resolved (check the URL, and DNS)"
        if self.kind == TLS:
            return f"{where}: TLS failed: {self.detail}"
        if self.kind == DROPPED:
            return f"{where} closed the connection without answering"
        return f"{where}: {self.detail}"


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or url, parts.port or (80 if parts.scheme == "http" else 443)


def failure(system: str, url: str, exc: BaseException, *, connect: float | None = None,
            read: float | None = None) -> Failure:
    """`exc`, raised by a client library on the way to `url`, as a Failure.
    `connect` and `read` are the timeouts the request had."""
    host, port = host_port(url)
    chain = _chain(exc)
    kind, detail, seconds = OTHER, _detail(exc), None
    if tls := next((e for e in chain if isinstance(e, ssl.SSLError)), None):
        kind, detail = TLS, _tls_detail(tls)
    elif any(isinstance(e, (socket.gaierror, httplib2.ServerNotFoundError, urllib3.exceptions.NameResolutionError))
             for e in chain):
        kind = UNRESOLVED
    elif any(isinstance(e, ConnectionRefusedError) for e in chain):
        kind = REFUSED
    elif any(isinstance(e, (requests.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError))
             and not isinstance(e, urllib3.exceptions.NewConnectionError) for e in chain):
        kind, seconds = CONNECT_TIMED_OUT, connect
    elif any(isinstance(e, (TimeoutError, requests.Timeout, urllib3.exceptions.TimeoutError)) for e in chain):
        kind, seconds = TIMED_OUT, read
    elif any(isinstance(e, (http.client.RemoteDisconnected, ConnectionResetError, ConnectionAbortedError,
                            BrokenPipeError, http.client.IncompleteRead, urllib3.exceptions.ProtocolError))
             for e in chain):
        kind = DROPPED
    return Failure(system, host, port, kind, detail, seconds)


def answered(system: str, url: str, status: int | None, code: str | None = None, description: str | None = None) -> str:
    """An HTTP error answer: status, the service's own error code, its words."""
    host, port = host_port(url)
    said = " ".join(str(p) for p in (status, code) if p)
    return f"{system} at {host}:{port} answered {said}" + (f": {description}" if description else "")


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and every exception it wraps: causes, contexts, and what
    urllib3 (`reason`), urllib (`reason`) and requests or google-auth (the
    first argument) carry inside."""
    seen, todo = [], [exc]
    while todo:
        e = todo.pop(0)
        if not isinstance(e, BaseException) or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
    return seen


def _tls_detail(e: ssl.SSLError) -> str:
    return getattr(e, "verify_message", None) or getattr(e, "reason", None) or str(e)


def _detail(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _seconds(value: float | None) -> str:
    return "the time allowed" if value is None else f"{value:g} s"

