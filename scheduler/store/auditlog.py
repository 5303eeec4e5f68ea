"""The audit log: every change rota applied to an outside system or to the
roster, one JSON object a line, beside the roster (``NAME.audit.jsonl``).

Each line: ``time`` (UTC), ``actor`` (the command or the editor), ``system``
(zendesk, google, roster), ``action``, ``who`` (the person the change is
about), ``result`` ("ok" or the error), and ``detail``. Lines are appended
and flushed to disk one batch at a time; nothing is ever rewritten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from scheduler.store.atomicfile import append_durably


@dataclass
class Entry:
    system: str
    action: str
    who: str | None
    result: str = "ok"
    detail: dict = field(default_factory=dict)


def append(path: Path, entries: list[Entry], *, actor: str, now: datetime) -> None:
    if not entries:
        return
    stamp = now.astimezone(UTC).isoformat(timespec="seconds")
    lines = "".join(
        json.dumps({"time": stamp, "actor": actor, "system": e.system, "action": e.action,
                    "who": e.who, "result": e.result, "detail": e.detail}) + "\n"
        for e in entries
    )
    append_durably(path, lines.encode("utf-8"))


def read(path: Path) -> list[dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]
