"""A team on disk: the roster file and the files rota keeps beside it.

``rosters/team.yaml``            the roster people edit
``rosters/team.record.jsonl``    stints that have begun (see `recordfile`)

`Team.load` reads them and builds the `Schedule` every command asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from scheduler.roster import holidaycal
from scheduler.store import recordfile
from scheduler.roster import rosterfile
from scheduler.store import ticketcounts
from scheduler.core import Record, RecordedStint, Schedule
from scheduler.roster.rosterfile import RosterFile


@dataclass
class Team:
    roster_file: RosterFile
    record: Record
    _schedule: Schedule | None = field(default=None, repr=False, compare=False)

    @classmethod
    def load(cls, path: Path | str) -> Team:
        roster_file = rosterfile.load(path)
        return cls(roster_file, recordfile.load(recordfile.path_for(roster_file.path)))

    @property
    def path(self) -> Path:
        return self.roster_file.path

    @property
    def roster(self):
        return self.roster_file.roster

    @property
    def record_path(self) -> Path:
        return recordfile.path_for(self.path)

    def schedule(self) -> Schedule:
        """The schedule of this roster and record (built once: it remembers
        what it has computed)."""
        if self._schedule is None:
            self._schedule = Schedule(self.roster, holidaycal.calendar(self.roster.holidays), self.record,
                                      self.review_notes())
        return self._schedule

    def review_notes(self) -> dict[date, str]:
        """Last week's unresolved ticket counts, as `rota run` kept them."""
        return ticketcounts.review_notes(ticketcounts.path_for(self.path))

    def stamp(self) -> datetime:
        """When the roster, its record or the kept ticket count last changed:
        the feeds' DTSTAMP."""
        files = (self.path, self.record_path, ticketcounts.path_for(self.path))
        times = [p.stat().st_mtime for p in files if p.exists()]
        return datetime.fromtimestamp(int(max(times)), tz=timezone.utc)

    def record_begun(self, at: datetime, now: datetime) -> list[RecordedStint]:
        """Write every stint begun by `at` that the record lacks; returns those."""
        added = recordfile.add(self.record_path, self.record, self.schedule().begun(at), now)
        if added:
            self.record = recordfile.load(self.record_path)
            self._schedule = None
        return added
