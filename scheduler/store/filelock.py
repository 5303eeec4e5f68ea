"""Advisory locks on a file beside the roster, so that the web app, cron
jobs and people running rota by hand never interleave their writes."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path


class Busy(Exception):
    """Someone else holds the lock (only with wait=False). `holder` is what
    they wrote into it (see `locked`), or None if they wrote nothing."""

    def __init__(self, path: Path, holder: dict | None = None):
        super().__init__(str(path))
        self.path, self.holder = path, holder


@contextlib.contextmanager
def locked(path: Path, *, wait: bool = True, holder: dict | None = None):
    """Hold an exclusive lock on `path` (created if needed) for the block.
    `holder` (JSON, e.g. a pid and a start time) is written into the file
    while the lock is held, so that whoever finds it taken can say who has it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise Busy(path, _read_holder(fd)) from None
        if holder is not None:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder).encode(), 0)
        try:
            yield
        finally:
            if holder is not None:
                os.ftruncate(fd, 0)  # nobody holds it now
    finally:
        os.close(fd)  # closing releases the lock


def _read_holder(fd: int) -> dict | None:
    """What the holder wrote; None when it wrote nothing yet (it may have
    only just taken the lock) or something unreadable."""
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"null")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
