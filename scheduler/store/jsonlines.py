"""The files rota only ever appends to, one JSON object a line: the audit log,
the handoff notices, the announcements, the trade offers.

A process killed in the middle of an append (or a disk that filled) can
leave a last line cut short. Such a line recorded nothing, since its append
never finished: readers skip it, and the next append starts a line of its
own instead of running on from the debris, which would lose that entry too.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def read(path: Path) -> list[tuple[int, dict]]:
    """(line number, object) for each whole line; [] when there is no file."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    kept = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # cut short by a crash: see the module's note
        if isinstance(entry, dict):
            kept.append((number, entry))
    return kept


def entries(path: Path) -> list[dict]:
    return [entry for _, entry in read(path)]


@contextmanager
def opened(path: Path, *, lock: bool = False) -> Iterator[int]:
    """The file open for appending (created if missing); with `lock`, held
    under an exclusive lock until closed, for a check and an append as one step."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if lock:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


def append(fd: int, objects: Sequence[dict]) -> None:
    """Add one line per object at the end of `fd` (from `opened`) and flush
    them to disk. Concurrent appenders each add whole lines (O_APPEND)."""
    data = "".join(json.dumps(o) + "\n" for o in objects).encode("utf-8")
    if not data:
        return
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        data = b"\n" + data  # after a line a crash cut short
    view = memoryview(data)
    while view:  # a short write (a nearly full disk) goes on or raises ENOSPC
        view = view[os.write(fd, view):]
    os.fsync(fd)


def claim(path: Path, entry: dict, taken) -> bool:
    """Append `entry` unless `taken(path)` says the file already claims it;
    True if this call appended it (and it is on disk). The check and the
    append are one step under a lock on the file itself, so of two writers
    claiming the same thing (a handoff notice's week, an announcement's key)
    only one adds its line."""
    with opened(path, lock=True) as fd:
        if taken(path):
            return False
        append(fd, [entry])
        return True
