"""The roster as the core sees it: plain, validated, immutable values.

The file format (YAML, comments and all) is the adapter's business
(`scheduler.roster.rosterfile`); by the time a `Roster` exists every date is a date,
every email is lower-case and unique, and every reference names a member.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time


ROSTER, GOOGLE = "roster", "google"  # where an absence comes from
LABELS = {ROSTER: "away", GOOGLE: "out of office (Google)"}


@dataclass(frozen=True)
class Absence:
    """Days a member is away, inclusive at both ends. `source` says where it
    comes from: typed into the roster, or imported from the member's
    out-of-office events in Google Calendar (`event_id`: which one)."""

    start: date
    end: date
    note: str = ""
    source: str = ROSTER
    event_id: str | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def label(self) -> str:
        """How people read it: "away", or "out of office (Google)"."""
        return LABELS.get(self.source, self.source)

    @property
    def typed(self) -> bool:
        """Typed into the roster by a person (rota never changes those)."""
        return self.source == ROSTER


@dataclass(frozen=True)
class ImportedAbsence:
    """An absence rota keeps for a member, taken from one of their Google
    Calendar out-of-office events: the business days it makes them away."""

    member: str  # email, lower-case
    event_id: str
    start: date
    end: date

    def absence(self) -> Absence:
        return Absence(self.start, self.end, source=GOOGLE, event_id=self.event_id)


@dataclass(frozen=True)
class Member:
    name: str
    email: str
    joined: date
    left: date | None = None
    away: tuple[Absence, ...] = ()
    zendesk_id: int | None = None  # found by exact email match when absent

    def is_away(self, day: date) -> bool:
        return any(a.covers(day) for a in self.away)

    def absence_on(self, day: date) -> Absence | None:
        return next((a for a in self.away if a.covers(day)), None)

    def off_team(self, first: date, last: date | None = None) -> str | None:
        """Why the member is not on the team on every day from `first` to
        `last` (inclusive; default: just `first`), or None when they are."""
        if self.joined > first:
            return f"joins {self.joined.isoformat()}"
        if self.left is not None and self.left < (last or first):
            return f"left {self.left.isoformat()}"
        return None


@dataclass(frozen=True)
class Override:
    """`cover` stands in for `replace` on the days from `start` to `end`, inclusive."""

    start: date
    end: date
    replace: str
    cover: str
    note: str = ""

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Swap:
    """Two members trade stints: the stint that begins in the week of `week`
    goes to `other`, and the one that begins in the week of `other_week` goes
    to `member`. Without `other_week` it is a handover, one way: `member`'s
    stint of the week of `week` goes to `other` (an open offer taken) and
    nothing comes back. Weeks are the Mondays of rotation weeks. Whether it
    applies is the rotation's call (`Rotation.swap_outcomes`)."""

    week: date
    member: str
    other_week: date | None
    other: str
    note: str = ""

    @property
    def one_way(self) -> bool:
        return self.other_week is None


@dataclass(frozen=True)
class Meeting:
    at: time
    minutes: int


@dataclass(frozen=True)
class ZendeskSettings:
    """Where the group that Tier 1 escalates to lives. Credentials are never
    here: they come from the environment."""

    url: str | None  # https://SUBDOMAIN.zendesk.com; $ZENDESK_URL overrides it
    group: str | int  # the group's name, or its id
    exclusive: bool = False  # also remove members who are not on the roster
    ticket_groups: tuple[str | int, ...] = ()  # groups `rota tickets` checks; () means Tier 1 and `group`

    def checked_groups(self) -> tuple[str | int, ...]:
        return self.ticket_groups or ("Tier 1", self.group)


@dataclass(frozen=True)
class GoogleSettings:
    """The shared calendar rota publishes to, and whether members'
    out-of-office events become absences. The service account key comes
    from the environment (GOOGLE_APPLICATION_CREDENTIALS), never from here."""

    calendar_id: str | None  # None: no shared calendar (only out-of-office is read)
    delegate: str | None = None  # act as this user (domain-wide delegation) to invite attendees
    send_updates: str = "none"  # all, externalOnly or none: who Google emails about changes
    out_of_office: bool = False  # import members' out-of-office events as absences


@dataclass(frozen=True)
class Roster:
    name: str  # the display name: the roster file's `team:`
    timezone: str
    start: date
    handoff_time: time
    holidays: str | None
    daily_triage: Meeting
    weekly_review: Meeting
    members: tuple[Member, ...]
    overrides: tuple[Override, ...] = ()
    swaps: tuple[Swap, ...] = ()
    zendesk: ZendeskSettings | None = None
    google: GoogleSettings | None = None
    # The team's identity in feed UIDs and calendar marks (and, later, in any
    # store): a slug that stays when `name`, the display name, is renamed.
    # The roster loader fills it; there is no default here, so that nothing
    # builds a roster whose identity would follow its name.
    id: str = field(kw_only=True)

    def member(self, email: str) -> Member | None:
        return self._by_email.get(email)

    def with_imported(self, imported) -> Roster:
        """This roster with `imported` (`ImportedAbsence`s) added to its
        members' absences, after the ones typed in the roster. Absences of
        people no longer on the roster are left out."""
        by_member: dict[str, list[Absence]] = {}
        for found in imported:
            if found.member in self._by_email:
                by_member.setdefault(found.member, []).append(found.absence())
        if not by_member:
            return self
        members = tuple(
            replace(m, away=m.away + tuple(sorted(by_member[m.email], key=lambda a: (a.start, a.end, a.event_id))))
            if m.email in by_member else m
            for m in self.members)
        return replace(self, members=members)

    def without_notes(self) -> Roster:
        """This roster as people outside the team see it: the notes on
        absences, covers and swaps left out (they may say why someone is
        away). Everything else, and so every decision, is the same."""
        members = tuple(replace(m, away=tuple(replace(a, note="") for a in m.away)) if m.away else m
                        for m in self.members)
        return replace(self, members=members, overrides=tuple(replace(o, note="") for o in self.overrides),
                       swaps=tuple(replace(s, note="") for s in self.swaps))

    def cover_problem(self, override: Override) -> str | None:
        """Why `override` cannot put its cover on (they are not a member on
        every day it covers), or None. Such an override puts nobody on."""
        cover = self.member(override.cover)
        if cover is None:
            return "is not on the roster"
        return cover.off_team(override.start, override.end)

    def name_of(self, email: str | None) -> str:
        """A display name; people who left the roster keep their email."""
        if email is None:
            return "(gap)"
        member = self._by_email.get(email)
        return member.name if member else email

    @property
    def _by_email(self) -> dict[str, Member]:
        cached = self.__dict__.get("_by_email_cache")
        if cached is None:
            cached = {m.email: m for m in self.members}
            object.__setattr__(self, "_by_email_cache", cached)
        return cached


@dataclass(frozen=True)
class RecordedStint:
    """A stint that has begun, as the record file keeps it: fixed forever."""

    week: date  # Monday of the stint's first week
    member: str | None  # None: the stint began as a gap
    handoff: datetime  # the instant it began


@dataclass(frozen=True)
class Record:
    stints: dict[date, RecordedStint] = field(default_factory=dict)

    def get(self, week: date) -> RecordedStint | None:
        return self.stints.get(week)
