"""The handoff notices posted, one JSON object a line (``NAME.notices.jsonl``
beside the roster in the folder store)::

    {"week": "2027-01-11", "handoff": "2027-01-11T09:00:00-05:00", "posted_at": "...", "uncertain": true}

`uncertain` is there only when Slack's answer was lost. Lines are only
added; a week's line is claimed under a lock on the file itself, so that two
writers never both add one.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from scheduler.store import jsonlines


def posted_weeks(path: Path) -> set[date]:
    weeks = set()
    for entry in jsonlines.entries(path):
        try:
            weeks.add(date.fromisoformat(entry["week"]))
        except (KeyError, TypeError, ValueError):
            continue  # not a claim: it claims nothing
    return weeks


def claim(path: Path, monday: date, handoff: datetime, now: datetime, uncertain: bool = False) -> bool:
    entry = {"week": monday.isoformat(), "handoff": handoff.isoformat(), "posted_at": now.isoformat(timespec="seconds")}
    if uncertain:
        entry["uncertain"] = True  # posted or not, never again
    return jsonlines.claim(path, entry, lambda p: monday in posted_weeks(p))
