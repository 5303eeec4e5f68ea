"""Advisory locks on a file beside the roster, so that the web app, cron
jobs and people running rota by hand never interleave their writes."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


class Busy(Exception):
    """Someone else holds the lock (only with wait=False)."""


@contextlib.contextmanager
def locked(path: Path, *, wait: bool = True):
    """Hold an exclusive lock on `path` (created if needed) for the block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise Busy(str(path)) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def lock_path(roster_path: Path, purpose: str = "write") -> Path:
    return roster_path.with_name(f".{roster_path.stem}.{purpose}.lock")
