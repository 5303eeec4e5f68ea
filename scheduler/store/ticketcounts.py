"""Last week's unresolved ticket count, kept for the weekly review.

`rota run` stores the count for the current rotation week in
``NAME.tickets.json`` beside the roster (the folder store); the feeds and the Google calendar
then show it in that week's review description. Kept apart from the ticket
check so that reading it needs no Zendesk client.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from scheduler.store.atomicfile import write_atomic

KEEP = 8  # weeks: a couple of months is plenty


def load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def store(path: Path, week_monday: date, count: int, now: datetime) -> bool:
    """Keep the count for the week starting `week_monday`; True if it changed."""
    counts = load(path)
    key = week_monday.isoformat()
    if counts.get(key, {}).get("unresolved_last_week") == count:
        return False
    counts[key] = {"unresolved_last_week": count, "as_of": now.isoformat(timespec="minutes")}
    for old in sorted(counts)[:-KEEP]:
        del counts[old]
    write_atomic(path, (json.dumps(counts, indent=2, sort_keys=True) + "\n").encode())
    return True


def review_lines(counts: dict) -> dict[date, str]:
    """The review descriptions' lines for the counts kept (see `load`)."""
    lines = {}
    for monday, entry in counts.items():
        try:
            lines[date.fromisoformat(monday)] = (
                f"Unresolved tickets from the week before: {int(entry['unresolved_last_week'])} "
                f"(as of {entry.get('as_of', '?')})")
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a damaged entry only loses its line
    return lines
