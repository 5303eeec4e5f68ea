"""A team: its roster and record as read from its store, and the `Schedule`
every command asks.

The roster a team works with is the roster file's, with the absences rota
imported from members' out-of-office events (kept in the store, apart from
the file) added to its members: every command that computes the rotation
sees both, and edits to the file never touch the imported ones.

`Team.load` reads them from a `Store` (or from the folder store of a roster
file, given its path).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from scheduler.core import Record, RecordedStint, Schedule
from scheduler.core.model import ImportedAbsence, Roster
from scheduler.roster import holidaycal, rosterfile
from scheduler.roster.rosterfile import RosterFile
from scheduler.store import ticketcounts
from scheduler.store.base import Store
from scheduler.store.folder import FolderStore


def as_store(source: Store | Path | str) -> Store:
    return source if isinstance(source, Store) else FolderStore(source)


@dataclass
class Team:
    roster_file: RosterFile
    record: Record
    store: Store = field(default=None, compare=False)  # type: ignore[assignment]  # None: `roster_file.path`'s folder
    _schedule: Schedule | None = field(default=None, repr=False, compare=False)
    _imported: tuple[ImportedAbsence, ...] | None = field(default=None, repr=False, compare=False)
    _roster: Roster | None = field(default=None, repr=False, compare=False)
    _outsiders: Team | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.store is None:
            self.store = FolderStore(self.roster_file.path)

    @classmethod
    def load(cls, source: Store | Path | str) -> Team:
        store = as_store(source)
        roster_file = rosterfile.load(store)
        return cls(roster_file, store.read_record(), store)

    @property
    def path(self) -> Path:
        return self.roster_file.path

    @property
    def roster(self) -> Roster:
        """The roster file's roster with the imported absences (`with_imported`)."""
        if self._roster is None:
            self._roster = self.with_imported(self.roster_file.roster)
        return self._roster

    @property
    def imported(self) -> tuple[ImportedAbsence, ...]:
        """The absences imported from Google Calendar, as the store keeps them
        (read once: `reload_imported` after changing them)."""
        if self._imported is None:
            self._imported = tuple(self.store.imported_absences())
        return self._imported

    def with_imported(self, roster: Roster) -> Roster:
        """`roster` with this team's imported absences (none unless the
        roster turns out-of-office import on)."""
        google = roster.google
        if google is None or not google.out_of_office:
            return roster
        return roster.with_imported(self.imported)

    def reload_imported(self) -> None:
        self._imported = self._roster = self._schedule = self._outsiders = None

    def for_outsiders(self) -> Team:
        """This team as people outside it see it, with the roster's notes
        left out (`Roster.without_notes`); built once, for reading."""
        if self._outsiders is None:
            self._outsiders = Team(self.roster_file, self.record, self.store, _imported=self._imported,
                                   _roster=self.roster.without_notes())
        return self._outsiders

    def schedule(self) -> Schedule:
        """The schedule of this roster and record (built once: it remembers
        what it has computed)."""
        if self._schedule is None:
            self._schedule = Schedule(self.roster, holidaycal.calendar(self.roster.holidays), self.record,
                                      self.review_lines())
        return self._schedule

    def review_lines(self) -> dict[date, str]:
        """Last week's unresolved ticket counts, as `rota run` kept them."""
        return ticketcounts.review_lines(self.store.ticket_counts())

    def stamp(self) -> datetime:
        """When the roster, its record or the kept ticket count last changed:
        the feeds' DTSTAMP."""
        return self.store.changed_at()

    def record_begun(self, at: datetime, now: datetime) -> list[RecordedStint]:
        """Write every stint begun by `at` that the record lacks; returns those."""
        new = [s for s in self.schedule().begun(at) if self.record.get(s.week) is None]
        added = self.store.add_to_record(new, now) if new else []
        if added:
            self.record = self.store.read_record()
            self._schedule = None
        return added
