"""Announcements made about changes to the rotation (an imported absence
that moves someone's stint), one JSON object a line (``NAME.announcements.jsonl``
beside the roster in the folder store)::

    {"key": "3f1c...", "text": "Ada is out of office ...", "at": "2027-03-01T14:00:00+00:00"}

Lines are only added; a key is claimed under a lock on the file itself, so
that of two writers claiming one key only one adds it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from scheduler.store import jsonlines


def claimed(path: Path) -> set[str]:
    return {entry["key"] for entry in jsonlines.entries(path) if isinstance(entry.get("key"), str)}


def claim(path: Path, key: str, text: str, now: datetime) -> bool:
    entry = {"key": key, "text": text, "at": now.isoformat(timespec="seconds")}
    return jsonlines.claim(path, entry, lambda p: key in claimed(p))
