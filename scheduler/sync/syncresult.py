"""What a sync reports back to its caller (the CLI, `rota run`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SyncResult:
    code: int  # 0: the outside system matches the rotation; 1: it does not (the reason is printed)
    planned: int  # changes the plan held
    applied: int  # changes made (0 in a dry run)
    summary: str  # one line: what happened
    skipped: int = 0  # parts it could not look at, which people must hear of (a calendar it cannot read)

    @property
    def ok(self) -> bool:
        return self.code == 0
