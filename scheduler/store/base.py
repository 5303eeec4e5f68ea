"""Everything rota keeps for a team, behind one interface.

A `Store` holds one team's roster document and the things rota keeps
beside it: the record, the audit log, the handoff notices posted, the trade
offers waiting for a second person, the kept ticket counts, the absences
imported from Google Calendar and the announcements made about them, the
editors, the run lock and the sign-in failure counts.
Code outside `scheduler.store` asks the store for them and never names a
file. `FolderStore` (today's files beside the roster) is the first
implementation; a database store is the next.

The contract below is what callers rely on; `tests/store/test_contract.py`
checks every implementation against it, and a new store must pass it
unchanged.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import TYPE_CHECKING

from scheduler.core.model import ImportedAbsence, Record, RecordedStint
from scheduler.errors import StaleVersion
from scheduler.store.auditlog import Entry
from scheduler.store.filelock import Busy
from scheduler.store.offers import Offer

if TYPE_CHECKING:  # imported when used: hashing setup and sqlite3 are not free, and most commands need neither
    from scheduler.store.editors import EditorStore
    from scheduler.store.signincounts import FailureCounts, Policy

__all__ = ["Busy", "Entry", "StaleVersion", "Store", "version_of"]


def version_of(data: bytes) -> str:
    """The version of a roster document: a hash of its exact bytes, so that
    any store gives the same bytes the same version."""
    return hashlib.sha256(data).hexdigest()[:16]


class Store(ABC):
    """One team's kept state. Every method may raise OSError (or the
    store's own error) when the storage refuses; none leaves a part half
    written."""

    @abstractmethod
    def where(self, part: str) -> str:
        """Where a person finds `part` ("roster", "record", "audit",
        "notices", "tickets", "absences", "announcements", "editors",
        "run lock"), for messages."""

    # -- the roster document ------------------------------------------------------
    @abstractmethod
    def read_roster(self, limit: int | None = None) -> bytes:
        """The roster document, byte for byte as last written (comments,
        line endings and all); at most `limit` bytes when given. Raises
        RotaError naming the roster when there is none or it cannot be read."""

    @abstractmethod
    def roster_version(self) -> str | None:
        """`version_of` the document kept now; None when there is none."""

    @abstractmethod
    def replace_roster(self, expected: str | None, data: bytes,
                       before: Callable[[], None] | None = None) -> str:
        """Compare and swap: keep `data` as the roster document if the kept
        one is still at version `expected` (None: there is none yet), and
        return the new version. Otherwise raise StaleVersion and keep
        nothing. `before` runs after the check and once `data` is ready to
        take the old document's place, with no other writer in between: if
        it raises, the document stays as it was and the error propagates."""

    # -- the record -----------------------------------------------------------------
    @abstractmethod
    def read_record(self) -> Record:
        """Every stint recorded so far (empty when none is). Raises FileError
        naming the entry when one cannot be read."""

    @abstractmethod
    def add_to_record(self, stints: Sequence[RecordedStint], recorded_at: datetime) -> list[RecordedStint]:
        """Append the stints whose week the record lacks, and return them.
        Each week is claimed exactly once: of concurrent writers adding the
        same week, one adds it and the others get it back as not added.
        Recorded stints are never changed or removed."""

    # -- the audit log ----------------------------------------------------------------
    @abstractmethod
    def append_audit(self, entries: Sequence[Entry], *, actor: str, now: datetime) -> None:
        """Append the entries, all stamped `now` and signed `actor`, once
        they are durable. Earlier entries are never rewritten."""

    @abstractmethod
    def read_audit(self) -> list[dict]:
        """Every entry, oldest first: time, actor, system, action, who,
        result, detail."""

    # -- handoff notices ---------------------------------------------------------------
    @abstractmethod
    def posted_notices(self) -> set[date]:
        """The Mondays of the rotation weeks whose handoff notice was posted
        (or may have been: see `claim_notice`)."""

    @abstractmethod
    def claim_notice(self, monday: date, handoff: datetime, now: datetime, uncertain: bool = False) -> bool:
        """Mark the notice of the handoff of the week of `monday` posted;
        True if this call marked it, False if it was already. Exactly once:
        of concurrent claims for one week, one wins. `uncertain`: Slack's
        answer was lost, so it may or may not have been posted."""

    # -- trade offers -------------------------------------------------------------------
    @abstractmethod
    def add_offer(self, offer: Offer) -> Offer:
        """Keep a new open offer. Raises OfferRefused when the same member's
        stint of the same week is already on offer (open at the new offer's
        `offered_at`): two offers of one stint could both be taken."""

    @abstractmethod
    def offers(self) -> list[Offer]:
        """Every offer kept, oldest first, each as it now stands (an open
        one whose stint has begun is expired: `Offer.status(now)`)."""

    @abstractmethod
    def close_offer(self, offer_id: str, state: str, by: str, now: datetime) -> Offer:
        """Close the offer as `state` (taken, accepted, declined, withdrawn)
        by `by`, if it is open at `now`, and return it closed. Exactly once:
        of concurrent closes of one offer, one wins and the others raise
        OfferClosed (with the offer as it then stands), as does a close of
        an expired or unknown offer. Called from a roster save's `before`
        step, it runs after the save's version check, so a stale save closes
        nothing; in the database it commits with the save or not at all."""

    @abstractmethod
    def claim_offer_post(self, offer_id: str, what: str, now: datetime) -> bool:
        """Mark what was posted about an offer ("offer" or "outcome"); True
        if this call marked it, False if it was already (or there is no
        such offer). Exactly once, like `claim_notice`."""

    # -- kept ticket counts ---------------------------------------------------------------
    @abstractmethod
    def ticket_counts(self) -> dict[str, dict]:
        """Monday (ISO) -> {"unresolved_last_week": n, "as_of": "..."}; a
        count that cannot be read is simply not there."""

    @abstractmethod
    def keep_ticket_count(self, monday: date, count: int, now: datetime) -> bool:
        """Keep the count for the week of `monday` (the newest few weeks
        only); True if it changed."""

    # -- absences imported from Google Calendar --------------------------------------------
    @abstractmethod
    def imported_absences(self) -> list[ImportedAbsence]:
        """Every absence imported from a member's out-of-office event, by
        member and event id; kept apart from the roster, whose typed
        absences rota never changes. Empty when none is."""

    @abstractmethod
    def keep_imported_absence(self, absence: ImportedAbsence, now: datetime) -> bool:
        """Keep `absence` as the one of its (member, event id), adding it or
        moving the one kept to its days; True if that changed anything."""

    @abstractmethod
    def drop_imported_absence(self, member: str, event_id: str, now: datetime) -> bool:
        """Forget the absence of that member's event; True if one was kept.
        A removal is a change at `now`: `changed_at` never goes back."""

    # -- announcements ------------------------------------------------------------------
    @abstractmethod
    def claim_announcement(self, key: str, text: str, now: datetime) -> bool:
        """Mark the announcement `key` (a change to the rotation people are
        told about in Slack) made; True if this call marked it, False if it
        was already. Exactly once: of concurrent claims for one key, one wins."""

    # -- editors ------------------------------------------------------------------------
    @abstractmethod
    def editors(self) -> EditorStore:
        """The people who may edit the roster on the page: add, remove,
        list, get, verify, end_sessions (which bumps the session generation)."""

    # -- the run lock -------------------------------------------------------------------
    @abstractmethod
    def run_lock(self, holder: dict | None) -> AbstractContextManager:
        """Hold the lock for `rota run` for the block, never waiting: Busy
        (with the holder's `holder` dict, or None if it has not said) if
        someone holds it. Released when the block ends, and when the holding
        process dies."""

    # -- sign-in failures ---------------------------------------------------------------
    @abstractmethod
    def signin_failures(self, policies: Mapping[str, Policy], max_entries: int) -> FailureCounts:
        """Failed sign-in counts, shared by every process of the team: each
        attempt is checked and counted in one step."""

    # -- for caches ---------------------------------------------------------------------
    @abstractmethod
    def stamp(self) -> Hashable:
        """A value that changes whenever the roster, the record, the kept
        ticket counts or the imported absences change: a cache of what is
        read from them keys on it."""

    @abstractmethod
    def changed_at(self) -> datetime:
        """When the roster, the record, the kept ticket counts or the
        imported absences last changed (UTC, whole seconds): the feeds' DTSTAMP."""
