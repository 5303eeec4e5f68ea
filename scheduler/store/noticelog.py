"""The handoff notices posted, one JSON object a line (``NAME.notices.jsonl``
beside the roster in the folder store)::

    {"week": "2027-01-11", "handoff": "2027-01-11T09:00:00-05:00", "posted_at": "...", "uncertain": true}

`uncertain` is there only when Slack's answer was lost. Lines are only
added; a week's line is claimed under a lock on the file itself, so that two
writers never both add one.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from scheduler.store import claimlog


def posted_weeks(path: Path) -> set[date]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return set()
    return {date.fromisoformat(json.loads(line)["week"]) for line in lines if line.strip()}


def claim(path: Path, monday: date, handoff: datetime, now: datetime, uncertain: bool = False) -> bool:
    entry = {"week": monday.isoformat(), "handoff": handoff.isoformat(), "posted_at": now.isoformat(timespec="seconds")}
    if uncertain:
        entry["uncertain"] = True  # posted or not, never again
    return claimlog.claim(path, entry, lambda p: monday in posted_weeks(p))
