"""The database store's tables (SQLAlchemy Core), one team's state per team id.

What the folder store keeps in files beside ``rosters/NAME.yaml``, the
database keeps in rows under the team's stable id (the roster's ``id:``):

``teams``             one row per team: its id, display name and ``revision``,
                      which every change to the roster, the record or the
                      ticket counts increments in its own transaction: what
                      every instance's caches key on, read with one lookup.
``roster_versions``   every saved roster, as its exact YAML text (comments and
                      all), numbered 1, 2, ... per team; the current roster is
                      the highest number. A save writes number n+1 having read
                      n, so of two concurrent saves from the same version the
                      primary key lets exactly one in: compare-and-swap with no
                      check-then-insert. ``version`` is the hash of the bytes,
                      as `rosterfile.version_of` gives it (not unique: a save
                      may bring back an earlier text).
``record_stints``     the record, one row per week that has begun; the primary
                      key (team, week) makes recording a week exactly-once.
``audit_entries``     the audit log; rows are only ever inserted.
``handoff_notices``   one row per handoff notice posted (or whose answer was
                      lost: ``uncertain``); the key (team, week) makes posting
                      exactly-once.
``trade_offers``      trade offers waiting for a second person, and what became
                      of them: one row per offer, closed by one conditional
                      update (``state = 'open'``), so that of two people
                      taking it at once exactly one does; ``offer_posted_at``
                      and ``outcome_posted_at`` claim the Slack posts likewise.
``ticket_counts``     last week's unresolved ticket count per rotation week.
``imported_absences`` absences imported from members' Google Calendar
                      out-of-office events, one row per (team, member, event
                      id), apart from the roster's typed absences.
``announcements``     changes to the rotation announced in Slack; the key
                      (team, key) makes announcing exactly-once.
``editors``           who may edit the team's roster on the page: email, name,
                      salted password hash, session generation.
``signin_failures``   failed sign-in counts per hashed client or account key.
``locks``             who holds a team's lock (the run lock), for the message
                      "the lock is taken by ...". Holding it is not this row:
                      on PostgreSQL it is a session advisory lock
                      (``pg_try_advisory_lock``, released when the holder's
                      connection ends, so a killed run never leaves it taken);
                      on SQLite, the embedded single-machine database, a file
                      lock beside the database file (``BEGIN IMMEDIATE`` would
                      also block every other writer for the whole run).

Times rota stamps (saved, recorded, posted, audited) are UTC instants. A
handoff is kept as the ISO 8601 text with its offset, as the folder store
keeps it, so that a team moved between stores reads back the same values;
``as_of`` likewise keeps the text the review note shows.

Changing a table here needs an Alembic revision in ``migrations/versions``:
a test compares this metadata with the schema the migrations build.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=NAMING)

TEAM_ID = 100  # characters: roster ids are short slugs
EMAIL = 320


class UTCDateTime(sa.TypeDecorator):
    """An aware datetime stored as UTC: timestamptz on PostgreSQL, naive UTC
    text on SQLite (which has no time zones), aware UTC when read back."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime has no instant: give it a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _team(**kw) -> sa.Column:
    return sa.Column("team_id", sa.String(TEAM_ID), sa.ForeignKey("teams.id", ondelete="CASCADE"),
                     nullable=False, **kw)


teams = sa.Table(
    "teams", metadata,
    sa.Column("id", sa.String(TEAM_ID), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revision", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("changed_at", UTCDateTime, nullable=True),  # every change's time, removals included
)

roster_versions = sa.Table(
    "roster_versions", metadata,
    _team(primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("saved_by", sa.Text, nullable=False),
    sa.Column("saved_at", UTCDateTime, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.CheckConstraint("number >= 1", name="number_positive"),
)
sa.Index("ix_roster_versions_team_version", roster_versions.c.team_id, roster_versions.c.version)

record_stints = sa.Table(
    "record_stints", metadata,
    _team(primary_key=True),
    sa.Column("week", sa.Date, primary_key=True),
    sa.Column("member", sa.Text, nullable=True),  # null: the stint began as a gap
    sa.Column("handoff", sa.String(40), nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)

audit_entries = sa.Table(
    "audit_entries", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    _team(),
    sa.Column("time", UTCDateTime, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("system", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("who", sa.Text, nullable=True),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
)
sa.Index("ix_audit_entries_team_id", audit_entries.c.team_id, audit_entries.c.id)

handoff_notices = sa.Table(
    "handoff_notices", metadata,
    _team(primary_key=True),
    sa.Column("week", sa.Date, primary_key=True),  # the Monday of the handoff's rotation week
    sa.Column("handoff", sa.String(40), nullable=False),
    sa.Column("posted_at", UTCDateTime, nullable=False),
    sa.Column("uncertain", sa.Boolean, nullable=False, server_default=sa.false()),
)

trade_offers = sa.Table(
    "trade_offers", metadata,
    _team(primary_key=True),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("week", sa.Date, nullable=False),  # the Monday of the offered stint's first week
    sa.Column("member", sa.String(EMAIL), nullable=False),
    sa.Column("to_member", sa.String(EMAIL), nullable=True),  # null: open to anyone
    sa.Column("to_week", sa.Date, nullable=True),
    sa.Column("expires", sa.String(40), nullable=False),  # the stint's handoff, ISO 8601 with its offset
    sa.Column("offered_at", UTCDateTime, nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("state", sa.String(20), nullable=False, server_default="open"),
    sa.Column("closed_by", sa.String(EMAIL), nullable=True),
    sa.Column("closed_at", UTCDateTime, nullable=True),
    sa.Column("offer_posted_at", UTCDateTime, nullable=True),
    sa.Column("outcome_posted_at", UTCDateTime, nullable=True),
)
sa.Index("ix_trade_offers_team_member_week", trade_offers.c.team_id, trade_offers.c.member, trade_offers.c.week)

ticket_counts = sa.Table(
    "ticket_counts", metadata,
    _team(primary_key=True),
    sa.Column("week", sa.Date, primary_key=True),
    sa.Column("unresolved_last_week", sa.Integer, nullable=False),
    sa.Column("as_of", sa.String(40), nullable=False),
)

imported_absences = sa.Table(
    "imported_absences", metadata,
    _team(primary_key=True),
    sa.Column("member", sa.String(EMAIL), primary_key=True),
    sa.Column("event_id", sa.String(1024), primary_key=True),
    sa.Column("start_day", sa.Date, nullable=False),
    sa.Column("end_day", sa.Date, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

announcements = sa.Table(
    "announcements", metadata,
    _team(primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("claimed_at", UTCDateTime, nullable=False),
)

editors = sa.Table(
    "editors", metadata,
    _team(primary_key=True),
    sa.Column("email", sa.String(EMAIL), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
)

signin_failures = sa.Table(
    "signin_failures", metadata,
    _team(primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),  # a hash: no email or address in the clear
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("t", sa.Float, nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
)
sa.Index("ix_signin_failures_expires", signin_failures.c.team_id, signin_failures.c.expires)

locks = sa.Table(
    "locks", metadata,
    _team(primary_key=True),
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("holder", sa.JSON, nullable=True),  # null: nobody holds it now
    sa.Column("taken_at", UTCDateTime, nullable=True),
)
