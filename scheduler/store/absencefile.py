"""The absences imported from Google Calendar, kept beside the roster
(``NAME.absences.json`` in the folder store), apart from the roster file so
that rota never rewrites what people typed::

    {"absences": [{"member": "ada@example.gov", "event_id": "abc123", "from": "2027-03-08",
                   "to": "2027-03-12", "updated_at": "2027-03-01T14:00:00+00:00"}]}

A change reads the file, changes one entry and rewrites it atomically,
under a lock beside it, so that two writers never lose each other's change
and a crash leaves the previous file whole.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from scheduler.core.model import ImportedAbsence
from scheduler.errors import FileError
from scheduler.store.atomicfile import write_atomic
from scheduler.store.filelock import locked


def load(path: Path) -> list[ImportedAbsence]:
    return [found for found, _ in _entries(path)]


def keep(path: Path, absence: ImportedAbsence, now: datetime) -> bool:
    with locked(_lock(path)):
        entries = _entries(path)
        key = (absence.member, absence.event_id)
        for i, (found, _) in enumerate(entries):
            if (found.member, found.event_id) == key:
                if found == absence:
                    return False
                entries[i] = (absence, now)
                break
        else:
            entries.append((absence, now))
        _write(path, entries)
    return True


def drop(path: Path, member: str, event_id: str) -> bool:
    with locked(_lock(path)):
        entries = _entries(path)
        kept = [(a, t) for a, t in entries if (a.member, a.event_id) != (member, event_id)]
        if len(kept) == len(entries):
            return False
        _write(path, kept)
    return True


def _lock(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


def _entries(path: Path) -> list[tuple[ImportedAbsence, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    try:
        data = json.loads(text)
    except ValueError as e:
        raise FileError(path, None, None, f"not valid JSON ({e})") from None
    items = data.get("absences") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise FileError(path, None, "absences", "expected a list")
    found = []
    for i, item in enumerate(items):
        try:
            absence = ImportedAbsence(str(item["member"]), str(item["event_id"]),
                                      date.fromisoformat(item["from"]), date.fromisoformat(item["to"]))
        except (KeyError, TypeError, ValueError):
            raise FileError(path, None, f"absences[{i}]", "needs member, event_id, from and to (YYYY-MM-DD)") from None
        found.append((absence, str(item.get("updated_at", ""))))
    return found


def _write(path: Path, entries: list[tuple[ImportedAbsence, object]]) -> None:
    items = [{"member": a.member, "event_id": a.event_id, "from": a.start.isoformat(), "to": a.end.isoformat(),
              "updated_at": t.isoformat(timespec="seconds") if isinstance(t, datetime) else t}
             for a, t in sorted(entries, key=lambda e: (e[0].member, e[0].start, e[0].event_id))]
    write_atomic(path, (json.dumps({"absences": items}, indent=1) + "\n").encode("utf-8"))
