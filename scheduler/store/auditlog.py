"""The audit log: every change rota applied to an outside system or to the
roster, one JSON object a line, beside the roster (``NAME.audit.jsonl``).

Each line: ``time`` (UTC), ``actor`` (the command or the editor), ``system``
(zendesk, google, roster), ``action``, ``who`` (the person the change is
about), ``result`` ("ok" or the error), and ``detail``. Lines are appended
and flushed to disk one batch at a time; nothing is ever rewritten (a line a
crash cut short is skipped: see `jsonlines`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from scheduler.store import jsonlines


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
    with jsonlines.opened(path) as fd:
        jsonlines.append(fd, [{"time": stamp, "actor": actor, "system": e.system, "action": e.action,
                               "who": e.who, "result": e.result, "detail": e.detail} for e in entries])


def read(path: Path) -> list[dict]:
    return jsonlines.entries(path)
