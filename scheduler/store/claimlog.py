"""Append-only JSON-lines files in which each line claims something once (a
handoff notice's week, an announcement's key): the check and the append are
one step under a lock on the file itself, so of two writers claiming the
same thing only one adds its line."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path


def claim(path: Path, entry: dict, taken: Callable[[Path], bool]) -> bool:
    """Append `entry` as a line unless `taken(path)` says the file already
    claims it; True if this call appended it. Durable (fsync) before True."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held until closed
        if taken(path):
            return False
        view = memoryview((json.dumps(entry) + "\n").encode("utf-8"))
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        return True
    finally:
        os.close(fd)
