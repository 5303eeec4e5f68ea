"""The folder store: a roster file and the files rota keeps beside it.

For ``rosters/team.yaml``:

``team.yaml``               the roster people edit (written atomically, through a symlink)
``team.record.jsonl``       stints that have begun (`recordfile`)
``team.audit.jsonl``        every change applied (`auditlog`)
``team.notices.jsonl``      handoff notices posted (`noticelog`)
``team.offers.jsonl``       trade offers and what became of them (`offers`)
``team.tickets.json``       last week's unresolved ticket counts (`ticketcounts`)
``team.absences.json``      absences imported from Google Calendar (`absencefile`)
``team.announcements.jsonl``  changes to the rotation announced in Slack (`announcelog`)
``team.editors.json``       the page's editors (`editors`; $ROTA_EDITORS may put it elsewhere)
``.team.signin.sqlite3``    failed sign-in counts (`signincounts`)
``.team.run.lock``          held by `rota run`; ``.team.write.lock`` by a roster write

This module is the one place that names them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from scheduler.core.model import ImportedAbsence, Record, RecordedStint
from scheduler.errors import RotaError, StaleVersion
from scheduler.store import absencefile, announcelog, auditlog, noticelog, recordfile, ticketcounts
from scheduler.store import offers as offerlog
from scheduler.store.atomicfile import Staged
from scheduler.store.base import Store, version_of
from scheduler.store.filelock import locked

if TYPE_CHECKING:
    from scheduler.store.editors import EditorStore
    from scheduler.store.signincounts import FileFailureCounts, Policy

_BESIDE = {
    "record": "{}.record.jsonl",
    "audit": "{}.audit.jsonl",
    "notices": "{}.notices.jsonl",
    "offers": "{}.offers.jsonl",
    "tickets": "{}.tickets.json",
    "absences": "{}.absences.json",
    "announcements": "{}.announcements.jsonl",
    "editors": "{}.editors.json",
    "signin": ".{}.signin.sqlite3",
    "run lock": ".{}.run.lock",
}


def open_folder(roster_path: Path | str, editors: Path | str | None = None) -> FolderStore:
    """The store of the roster at `roster_path`, its editors file being
    `editors` (the settings' ROTA_EDITORS), else the one beside the roster."""
    return FolderStore(roster_path, editors or None)


class FolderStore(Store):
    def __init__(self, roster_path: Path | str, editors_path: Path | str | None = None):
        self.roster_path = Path(roster_path)
        self.editors_path = Path(editors_path) if editors_path else self.path("editors")

    def path(self, part: str) -> Path:
        if part == "roster":
            return self.roster_path
        return self.roster_path.with_name(_BESIDE[part].format(self.roster_path.stem))

    def where(self, part: str) -> str:
        return str(self.editors_path if part == "editors" else self.path(part))

    def __repr__(self) -> str:
        return f"FolderStore({str(self.roster_path)!r})"

    # -- the roster document ------------------------------------------------------
    def read_roster(self, limit: int | None = None) -> bytes:
        path = self.roster_path
        try:
            with path.open("rb") as f:
                return f.read(-1 if limit is None else limit)
        except FileNotFoundError:
            raise RotaError(f"{path}: no such roster file (set --roster or $ROTA_ROSTER)") from None
        except OSError as e:
            raise RotaError(f"{path}: cannot read the roster: {e.strerror}") from None

    def roster_version(self) -> str | None:
        try:
            return version_of(self.roster_path.read_bytes())
        except FileNotFoundError:
            return None

    def replace_roster(self, expected: str | None, data: bytes,
                       before: Callable[[], None] | None = None) -> str:
        # A roster that is a symbolic link is written through to its target,
        # and the write lock sits beside the target.
        real = Path(os.path.realpath(self.roster_path))
        with locked(real.with_name(f".{real.stem}.write.lock")):  # the check and the write, as one step
            if FolderStore(real).roster_version() != expected:
                raise StaleVersion(
                    f"{self.roster_path}: the roster changed since it was read (someone else saved it); "
                    "reload and make the change again"
                )
            with Staged(real, data) as staged:
                if before is not None:
                    before()
                staged.commit()
        return version_of(data)

    # -- the record -----------------------------------------------------------------
    def read_record(self) -> Record:
        return recordfile.load(self.path("record"))

    def add_to_record(self, stints: Sequence[RecordedStint], recorded_at: datetime) -> list[RecordedStint]:
        return recordfile.add(self.path("record"), Record(), list(stints), recorded_at)

    # -- the audit log ----------------------------------------------------------------
    def append_audit(self, entries: Sequence[auditlog.Entry], *, actor: str, now: datetime) -> None:
        auditlog.append(self.path("audit"), list(entries), actor=actor, now=now)

    def read_audit(self) -> list[dict]:
        return auditlog.read(self.path("audit"))

    # -- handoff notices ---------------------------------------------------------------
    def posted_notices(self) -> set[date]:
        return noticelog.posted_weeks(self.path("notices"))

    def claim_notice(self, monday: date, handoff: datetime, now: datetime, uncertain: bool = False) -> bool:
        return noticelog.claim(self.path("notices"), monday, handoff, now, uncertain)

    # -- trade offers -------------------------------------------------------------------
    def add_offer(self, offer: offerlog.Offer) -> offerlog.Offer:
        return offerlog.add(self.path("offers"), offer)

    def offers(self) -> list[offerlog.Offer]:
        return list(offerlog.load(self.path("offers"))[0].values())

    def close_offer(self, offer_id: str, state: str, by: str, now: datetime) -> offerlog.Offer:
        return offerlog.close(self.path("offers"), offer_id, state, by, now)

    def claim_offer_post(self, offer_id: str, what: str, now: datetime) -> bool:
        return offerlog.claim_post(self.path("offers"), offer_id, what, now)

    # -- kept ticket counts ---------------------------------------------------------------
    def ticket_counts(self) -> dict[str, dict]:
        return ticketcounts.load(self.path("tickets"))

    def keep_ticket_count(self, monday: date, count: int, now: datetime) -> bool:
        return ticketcounts.store(self.path("tickets"), monday, count, now)

    # -- absences imported from Google Calendar, announcements ------------------------------
    def imported_absences(self) -> list[ImportedAbsence]:
        return absencefile.load(self.path("absences"))

    def keep_imported_absence(self, absence: ImportedAbsence, now: datetime) -> bool:
        return absencefile.keep(self.path("absences"), absence, now)

    def drop_imported_absence(self, member: str, event_id: str, now: datetime) -> bool:
        return absencefile.drop(self.path("absences"), member, event_id)

    def claim_announcement(self, key: str, text: str, now: datetime) -> bool:
        return announcelog.claim(self.path("announcements"), key, text, now)

    # -- editors, locks, sign-in failures ---------------------------------------------------
    def editors(self) -> EditorStore:
        from scheduler.store.editors import EditorStore

        return EditorStore(self.editors_path)

    def run_lock(self, holder: dict | None):
        return locked(self.path("run lock"), wait=False, holder=holder)

    def signin_failures(self, policies: Mapping[str, Policy], max_entries: int) -> FileFailureCounts:
        from scheduler.store.signincounts import FileFailureCounts

        return FileFailureCounts(self.path("signin"), policies, max_entries=max_entries)

    # -- for caches ---------------------------------------------------------------------
    def _versioned(self) -> tuple[Path, ...]:
        return (self.roster_path, self.path("record"), self.path("tickets"), self.path("absences"))

    def stamp(self):
        return tuple(_stat(p) for p in self._versioned())

    def changed_at(self) -> datetime:
        times = [s[0] for s in self.stamp() if s is not None]
        return datetime.fromtimestamp(max(times) // 1_000_000_000, tz=timezone.utc)


def _stat(path: Path):
    try:
        s = os.stat(path)
    except FileNotFoundError:
        return None
    return (s.st_mtime_ns, s.st_size, s.st_ino)
