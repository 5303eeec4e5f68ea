"""The record: every stint that has begun, kept beside the roster.

``rosters/team.yaml`` keeps its record in ``rosters/team.record.jsonl``, one
JSON object per line, oldest first::

    {"week": "2027-01-04", "member": "ada@example.gov", "handoff": "2027-01-04T09:00:00-05:00", "recorded_at": "..."}

`member` is null for a stint that began as a gap. Lines are only ever added:
the past never changes, whatever happens to the roster later. The file is
rewritten atomically, so a crash leaves the previous record whole.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from scheduler.store.atomicfile import write_atomic
from scheduler.store.filelock import locked
from scheduler.core.model import Record, RecordedStint
from scheduler.errors import FileError


def load(path: Path) -> Record:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Record()
    stints: dict[date, RecordedStint] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        stint = _parse_line(path, number, line)
        if stint.week in stints:
            raise FileError(path, number, "week", f"a second stint for the week of {stint.week.isoformat()}")
        stints[stint.week] = stint
    return Record(stints)


def _parse_line(path: Path, number: int, line: str) -> RecordedStint:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as e:
        raise FileError(path, number, None, f"not valid JSON: {e.msg}") from None
    if not isinstance(item, dict):
        raise FileError(path, number, None, "expected a JSON object")
    try:
        week = date.fromisoformat(item["week"])
    except (KeyError, TypeError, ValueError):
        raise FileError(path, number, "week", "missing or not a date (YYYY-MM-DD)") from None
    member = item.get("member")
    if member is not None and not isinstance(member, str):
        raise FileError(path, number, "member", "expected an email or null")
    try:
        handoff = datetime.fromisoformat(item["handoff"])
    except (KeyError, TypeError, ValueError):
        raise FileError(path, number, "handoff", "missing or not a date and time with offset") from None
    if handoff.tzinfo is None:
        raise FileError(path, number, "handoff", "needs a UTC offset")
    return RecordedStint(week, member, handoff)


def add(path: Path, record: Record, stints: list[RecordedStint], recorded_at: datetime) -> list[RecordedStint]:
    """Append the stints the record does not have yet; returns those added."""
    new = [s for s in stints if record.get(s.week) is None]
    if not new:
        return []
    with locked(path.with_name(f".{path.name}.lock")):
        return _append(path, new, recorded_at)


def _append(path: Path, new: list[RecordedStint], recorded_at: datetime) -> list[RecordedStint]:
    on_disk = load(path)  # another process may have recorded some of them meanwhile
    new = [s for s in new if on_disk.get(s.week) is None]
    if not new:
        return []
    try:
        existing = path.read_bytes()
    except FileNotFoundError:
        existing = b""
    if existing and not existing.endswith(b"\n"):
        existing += b"\n"
    lines = [
        json.dumps({
            "week": s.week.isoformat(),
            "member": s.member,
            "handoff": s.handoff.isoformat(),
            "recorded_at": recorded_at.isoformat(timespec="seconds"),
        })
        for s in sorted(new, key=lambda s: s.week)
    ]
    write_atomic(path, existing + ("\n".join(lines) + "\n").encode("utf-8"))
    return new
