"""rota's scheduling core: pure functions of a roster, a record and `now`.

Nothing in this package performs I/O or reads the clock; a test walks its
imports to keep it that way. Adapters (roster files, feeds, Zendesk, Google
Calendar, the web page) sit around it and pass `now` in.
"""

from scheduler.core.model import (
    Absence, GoogleSettings, Meeting, Member, Override, Record, RecordedStint, Roster, Swap, ZendeskSettings,
)
from scheduler.core.schedule import Finding, Schedule, Window, monday_of

__all__ = [
    "Absence", "Finding", "GoogleSettings", "Meeting", "Member", "Override", "Record", "RecordedStint",
    "Roster", "Schedule", "Swap", "Window", "ZendeskSettings", "monday_of",
]
