"""HTTP plumbing shared by the fakes in this package (stdlib only).

Every fake serves real HTTP/1.1 with keep-alive on 127.0.0.1, port 0, like the
service it stands in for, and must start and stop fast and leave nothing
behind.  So a fake built on :class:`HttpFake` gets:

* its own accept loop, woken on stop() by a self-connection, instead of
  serve_forever(), which only notices shutdown() on a 0.5 s poll tick;
* handler threads that the server tracks and joins in server_close(), after
  hanging up idle keep-alive connections (ThreadingMixIn forgets daemon ones);
* one write per answer with Nagle off: headers and body sent separately meet
  Nagle plus delayed ACK and stall every request by ~40 ms;
* a fixed Date header, so nothing in an answer depends on the clock.

A fake subclasses HttpFake and implements ``_serve(handler)``, answering with
``handler.answer(...)`` or hanging up with ``handler.hang_up()``.

``fake.on_request``, when set, is called before each request is served: a
test advances its fake clock there, as if every request took that long,
without anyone sleeping.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIXED_DATE = "Mon, 04 Jan 2027 09:00:00 GMT"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: real clients pool connections
    wbufsize = -1  # buffered, so an answer leaves in one write when flushed
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        """Silent: tests read the fake's request log instead of stderr."""

    def date_time_string(self, timestamp=None):
        return FIXED_DATE  # the Date header without a clock read

    def version_string(self):
        return self.server.fake.server_header

    def _serve(self):
        if self.server.fake.on_request is not None:
            self.server.fake.on_request()
        self.server.fake._serve(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def answer(self, status: int, headers: dict[str, str], data: bytes | None) -> None:
        """Status line, headers and body; ``data=None`` sends no body and no
        Content-Length (RFC 9110: a 204 has neither)."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if data is not None:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def hang_up(self) -> None:
        """Close the connection without a status line: the client sees EOF."""
        self.close_connection = True


class Server(ThreadingHTTPServer):
    """Keeps its own handler threads: ThreadingMixIn does not track daemon
    ones, and server_close() must hang up idle keep-alive connections and
    wait for their threads, or they would outlive stop()."""

    def __init__(self, fake: HttpFake):
        self.fake, self.live, self.live_lock = fake, {}, threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)

    def process_request(self, request, client_address):
        thread = threading.Thread(target=self.process_request_thread,
                                  args=(request, client_address), daemon=True)
        with self.live_lock:
            self.live[request] = thread
        thread.start()

    def shutdown_request(self, request):
        super().shutdown_request(request)
        with self.live_lock:
            self.live.pop(request, None)

    def server_close(self):
        super().server_close()
        with self.live_lock:
            live = dict(self.live)
        for sock in live:
            with contextlib.suppress(OSError):  # already closed by its handler
                sock.shutdown(socket.SHUT_RDWR)  # the handler's next read sees EOF
        for thread in live.values():
            thread.join()


class HttpFake:
    """Start/stop lifecycle and context manager; subclasses implement _serve."""

    server_header = "Fake"

    def __init__(self):
        self.url, self.port = "", 0
        self.on_request: Callable[[], None] | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self):
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        self._server = Server(self)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"fake-{type(self).__name__}")
        self._thread.start()
        return self

    def _loop(self):
        # handle_request() blocks until a connection arrives, and stop() sends one.
        while not self._stopping.is_set():
            self._server.handle_request()

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        with socket.create_connection(("127.0.0.1", self.port)):
            pass  # wakes _loop so it sees _stopping
        self._thread.join()
        self._server.server_close()
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _serve(self, handler: Handler) -> None:
        raise NotImplementedError


def use_rule(rules: list, matches):
    """The first fault rule that `matches`, used once: a rule's `skip` lets
    that many matching requests through first, its `count` says how many it
    answers before it is used up. None when no rule applies."""
    for rule in rules:
        if matches(rule):
            if getattr(rule, "skip", 0):
                rule.skip -= 1
                return None
            rule.count -= 1
            if rule.count == 0:
                rules.remove(rule)
            return rule
    return None
