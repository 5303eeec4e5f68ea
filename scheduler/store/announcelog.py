"""Announcements made about changes to the rotation (an imported absence
that moves someone's stint), one JSON object a line (``NAME.announcements.jsonl``
beside the roster in the folder store)::

    {"key": "3f1c...", "text": "Ada is out of office ...", "at": "2027-03-01T14:00:00+00:00"}

Lines are only added; a key is claimed under a lock on the file itself, so
that of two writers claiming one key only one adds it.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import datetime
from pathlib import Path


def claimed(path: Path) -> set[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return set()
    keys = set()
    for line in lines:
        try:
            keys.add(json.loads(line)["key"])
        except (ValueError, KeyError, TypeError):
            continue  # a torn line claims nothing
    return keys


def claim(path: Path, key: str, text: str, now: datetime) -> bool:
    entry = {"key": key, "text": text, "at": now.isoformat(timespec="seconds")}
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held until closed: the check and the append as one step
        if key in claimed(path):
            return False
        view = memoryview((json.dumps(entry) + "\n").encode("utf-8"))
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        return True
    finally:
        os.close(fd)
