"""Services that do not serve, for the failures a client must survive.

* :class:`SilentServer` accepts TCP connections on 127.0.0.1 and holds them
  without reading or answering until ``stop()``: what a hung service (or a
  load balancer in front of one) looks like to a client, which connects at
  once and then waits for an answer that never comes;
* :func:`refused_port` is a port on 127.0.0.1 where nothing listens, so a
  connection to it is refused.

Both are plain sockets (stdlib only), and stop fast: a test sets a short
read timeout rather than waiting for anything.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class SilentServer:
    def __init__(self):
        self.url, self.port = "", 0
        self.connections = 0  # accepted so far
        self._listener: socket.socket | None = None
        self._held: list[socket.socket] = []
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> SilentServer:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept, daemon=True, name="fake-silent")
        self._thread.start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed
            if self._stopping.is_set():
                conn.close()
                return
            with self._lock:
                self._held.append(conn)
                self.connections += 1

    def stop(self) -> None:
        if self._listener is None:
            return
        self._stopping.set()
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
            pass  # wakes accept() so the thread sees _stopping
        self._thread.join()
        self._listener.close()
        with self._lock:
            for conn in self._held:
                conn.close()
            self._held.clear()
        self._listener = self._thread = None

    def __enter__(self) -> SilentServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def refused_port() -> int:
    """A port nothing listens on: bound to learn a free one, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
