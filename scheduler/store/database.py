"""The database store: one team's state in rows under its team id
(`dbschema`), on PostgreSQL or a SQLite file, with SQLAlchemy Core.

Exactly-once claims (a record week, a handoff notice, a roster version
number) rest on the tables' primary keys: an insert that finds the key taken
does nothing (ON CONFLICT DO NOTHING), so two processes never both win and
nothing is checked first and inserted after. A roster save inserts version
n+1 having read n; its `before` step (the audit entry) is written in the
same transaction, so a saved roster always has its audit entry and a
refused one leaves neither.

Imports SQLAlchemy: only `open_database` (and what it opens) imports this.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import wraps
from pathlib import Path

import sqlalchemy as sa

from scheduler.core.model import ImportedAbsence, Record, RecordedStint
from scheduler.errors import RotaError, StaleVersion
from scheduler.store import dbengine, ticketcounts
from scheduler.store.auditlog import Entry
from scheduler.store.base import Store, version_of
from scheduler.store.dbschema import (announcements, audit_entries, editors as editors_table, handoff_notices,
                                      imported_absences, locks, record_stints, roster_versions, signin_failures,
                                      teams, ticket_counts, trade_offers)
from scheduler.store.dburl import redacted
from scheduler.store.editors import Editor, checked_credentials, dummy_hash, password_matches
from scheduler.store.filelock import Busy, locked
from scheduler.store.offers import POSTS, Offer, check_close, refuse_duplicate
from scheduler.store.signincounts import Key, Policy, Unavailable, _hash

RUN_LOCK = "run"


class SchemaMissing(RotaError):
    """The database has no (or an older) schema: `rota db upgrade` makes it."""


def _guarded(method):
    """Database failures as one line naming the database (never its password)."""
    @wraps(method)
    def guarded(self, *args, **kwargs):
        store = getattr(self, "store", self)
        try:
            return method(self, *args, **kwargs)
        except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.ProgrammingError) as e:
            behind = dbengine.schema_behind(store.url, e)
            if behind is not None:
                raise SchemaMissing(str(behind)) from None
            raise dbengine.unavailable(store.url, e) from None
    return guarded


class DatabaseStore(Store):
    def __init__(self, engine: sa.Engine, team_id: str, url: str | None = None):
        self.engine = engine
        self.team_id = team_id
        self.url = url or engine.url.render_as_string(hide_password=True)
        self._sqlite = engine.dialect.name == "sqlite"
        self._insert = _upsert_for(engine.dialect.name)
        self._team_known = False
        self._saving = threading.local()  # the transaction of a roster save, while its `before` step runs

    def __repr__(self) -> str:
        return f"DatabaseStore({redacted(self.url)!r}, {self.team_id!r})"

    def where(self, part: str) -> str:
        # A path-like name whose stem is the team id: a roster without `id:` takes its id from it.
        if part == "roster":
            return f"database:/{self.team_id}.yaml"
        return f"database:/{self.team_id}/{part.replace(' ', '-')}"

    @contextlib.contextmanager
    def _write(self):
        """A transaction that will write: on SQLite it takes the write lock
        at its start, so that a read inside it cannot go stale."""
        with self.engine.connect() as c:
            c = c.execution_options(immediate=True)
            with c.begin():
                self._ensure_team(c)
                yield c

    def _ensure_team(self, c: sa.Connection) -> None:
        if not self._team_known:
            c.execute(self._insert(teams).values(id=self.team_id, name=self.team_id,
                                                 created_at=datetime.now(UTC)).on_conflict_do_nothing())
            self._team_known = True

    def _changed(self, c: sa.Connection, at: datetime) -> None:
        """Mark the team changed at `at`, in the transaction that changed it:
        every instance's caches key on the revision (see `stamp`), and the
        feeds' time of change never goes back (see `changed_at`)."""
        at = sa.literal(_seconds(at), teams.c.changed_at.type)  # stored as the column stores it, on either database
        later = sa.case((sa.or_(teams.c.changed_at.is_(None), teams.c.changed_at < at), at),
                        else_=teams.c.changed_at)
        c.execute(teams.update().where(teams.c.id == self._t)
                  .values(revision=teams.c.revision + 1, changed_at=later))

    def _read(self, query, parameters: dict | None = None):
        # One statement reads one snapshot by itself: outside a transaction it
        # takes one round trip, not three (BEGIN, it, ROLLBACK), and every
        # request of every instance reads the stamp.
        for last in (False, True):
            try:
                with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    return c.execute(query, parameters).all()
            except sa.exc.DBAPIError as e:
                # The server dropped the connection (it restarted, within a moment of
                # that connection's last use: see dbengine's ping), and the pool let go
                # of every connection it held then. A read is safe to ask again, once.
                if last or not e.connection_invalidated:
                    raise

    @property
    def _t(self) -> str:
        return self.team_id

    # -- the roster document ------------------------------------------------------
    @_guarded
    def read_roster(self, limit: int | None = None) -> bytes:
        row = self._current()
        if row is None:
            raise RotaError(f"{self.where('roster')}: the database {redacted(self.url)} has no roster for the team "
                            f"{self.team_id!r} (rota import --roster FILE puts one there)")
        data = row.text.encode("utf-8", "surrogateescape")
        return data if limit is None else data[:limit]

    def _current(self, c: sa.Connection | None = None):
        query = (sa.select(roster_versions.c.number, roster_versions.c.version, roster_versions.c.text)
                 .where(roster_versions.c.team_id == self._t).order_by(roster_versions.c.number.desc()).limit(1))
        if c is not None:
            return c.execute(query).first()
        with self.engine.connect() as conn:
            return conn.execute(query).first()

    @_guarded
    def roster_version(self) -> str | None:
        row = self._current()
        return None if row is None else row.version

    @_guarded
    def replace_roster(self, expected: str | None, data: bytes, before: Callable[[], None] | None = None,
                       *, saved_by: str | None = None, description: str | None = None) -> str:
        version = version_of(data)
        stale = StaleVersion(f"{self.where('roster')}: the roster changed since it was read (someone else saved "
                             "it); reload and make the change again")
        try:
            with self._write() as c:
                current = self._current(c)
                if (current.version if current else None) != expected:
                    raise stale
                self._saving.connection, self._saving.entries = c, []
                try:
                    if before is not None:
                        before()
                    entries = self._saving.entries
                finally:
                    self._saving.connection = None
                by, what = saved_by, description
                if entries:  # the audit entry says who saved and what changed
                    actor, entry = entries[0]
                    by = by or actor
                    what = what if what is not None else str(entry.detail.get("change") or entry.action)
                # Version n+1, having read n: of two saves from n the key lets one in.
                saved_at = datetime.now(UTC)
                c.execute(roster_versions.insert().values(
                    team_id=self._t, number=(current.number if current else 0) + 1, version=version,
                    text=data.decode("utf-8", "surrogateescape"), saved_by=by or "rota",
                    saved_at=saved_at, description=what or ""))
                self._changed(c, saved_at)
        except sa.exc.IntegrityError:
            raise stale from None
        return version

    @_guarded
    def history(self, last: int | None = None) -> list[dict]:
        """The saved versions, oldest first (only the `last` ones when given):
        number, version, saved_by, saved_at, description."""
        v = roster_versions.c
        query = (sa.select(v.number, v.version, v.saved_by, v.saved_at, v.description)
                 .where(v.team_id == self._t).order_by(v.number.desc()))
        if last is not None:
            query = query.limit(last)
        return [r._asdict() for r in reversed(self._read(query))]

    # -- the record -----------------------------------------------------------------
    @_guarded
    def read_record(self) -> Record:
        rows = self._read(sa.select(record_stints.c.week, record_stints.c.member, record_stints.c.handoff)
                          .where(record_stints.c.team_id == self._t).order_by(record_stints.c.week))
        stints = {}
        for row in rows:
            try:
                handoff = datetime.fromisoformat(row.handoff)
            except ValueError:
                raise RotaError(f"{self.where('record')}: the week of {row.week}: handoff {row.handoff!r} "
                                "is not a date and time with offset") from None
            stints[row.week] = RecordedStint(row.week, row.member, handoff)
        return Record(stints)

    @_guarded
    def add_to_record(self, stints: Sequence[RecordedStint], recorded_at: datetime) -> list[RecordedStint]:
        added = []
        with self._write() as c:
            for s in sorted(stints, key=lambda s: s.week):
                done = c.execute(self._insert(record_stints).values(
                    team_id=self._t, week=s.week, member=s.member, handoff=s.handoff.isoformat(),
                    recorded_at=_seconds(recorded_at)).on_conflict_do_nothing().returning(record_stints.c.week))
                if done.first() is not None:
                    added.append(s)
            if added:
                self._changed(c, recorded_at)
        return added

    # -- the audit log ----------------------------------------------------------------
    @_guarded
    def append_audit(self, entries: Sequence[Entry], *, actor: str, now: datetime) -> None:
        if not entries:
            return
        rows = [dict(team_id=self._t, time=_seconds(now), actor=actor, system=e.system, action=e.action,
                     who=e.who, result=e.result, detail=e.detail) for e in entries]
        saving = getattr(self._saving, "connection", None)
        if saving is not None:  # inside a roster save: its entry commits with it, or not at all
            saving.execute(audit_entries.insert(), rows)
            self._saving.entries.extend((actor, e) for e in entries)
            return
        with self._write() as c:
            c.execute(audit_entries.insert(), rows)

    @_guarded
    def read_audit(self) -> list[dict]:
        t = audit_entries.c
        rows = self._read(sa.select(t.time, t.actor, t.system, t.action, t.who, t.result, t.detail)
                          .where(t.team_id == self._t).order_by(t.id))
        return [{"time": r.time.isoformat(timespec="seconds"), "actor": r.actor, "system": r.system,
                 "action": r.action, "who": r.who, "result": r.result, "detail": r.detail} for r in rows]

    # -- handoff notices ---------------------------------------------------------------
    @_guarded
    def posted_notices(self) -> set[date]:
        return {r.week for r in self._read(sa.select(handoff_notices.c.week)
                                           .where(handoff_notices.c.team_id == self._t))}

    @_guarded
    def claim_notice(self, monday: date, handoff: datetime, now: datetime, uncertain: bool = False) -> bool:
        with self._write() as c:
            done = c.execute(self._insert(handoff_notices).values(
                team_id=self._t, week=monday, handoff=handoff.isoformat(), posted_at=_seconds(now),
                uncertain=uncertain).on_conflict_do_nothing().returning(handoff_notices.c.week)).first()
        return done is not None

    # -- trade offers -------------------------------------------------------------------
    @contextlib.contextmanager
    def _write_or_saving(self):
        """The roster save's transaction when called from its `before` step
        (a trade closes its offer with the save, or not at all), else a new one."""
        saving = getattr(self._saving, "connection", None)
        if saving is not None:
            yield saving
        else:
            with self._write() as c:
                yield c

    def _lock_team(self, c: sa.Connection) -> None:
        if not self._sqlite:  # one writer per team at a time, as SQLite's write lock gives
            c.execute(sa.select(teams.c.id).where(teams.c.id == self._t).with_for_update())

    def _offers(self, c: sa.Connection, *where) -> list[Offer]:
        t = trade_offers.c
        rows = c.execute(sa.select(trade_offers).where(t.team_id == self._t, *where)
                         .order_by(t.offered_at, t.id)).all()
        return [Offer(r.id, r.week, r.member, r.to_member, r.to_week, datetime.fromisoformat(r.expires),
                      r.offered_at, r.note, r.state, r.closed_by, r.closed_at) for r in rows]

    @_guarded
    def add_offer(self, offer: Offer) -> Offer:
        t = trade_offers.c
        with self._write_or_saving() as c:
            self._ensure_team(c)
            self._lock_team(c)
            refuse_duplicate(self._offers(c, t.member == offer.member, t.week == offer.week), offer)
            c.execute(trade_offers.insert().values(
                team_id=self._t, id=offer.id, week=offer.week, member=offer.member, to_member=offer.to,
                to_week=offer.to_week, expires=offer.expires.isoformat(), offered_at=_seconds(offer.offered_at),
                note=offer.note))
        return offer

    @_guarded
    def offers(self) -> list[Offer]:
        with self.engine.connect() as c:
            return self._offers(c)

    @_guarded
    def close_offer(self, offer_id: str, state: str, by: str, now: datetime) -> Offer:
        t = trade_offers.c
        with self._write_or_saving() as c:
            found = self._offers(c, t.id == offer_id)
            check_close(found[0] if found else None, state, now)
            # Only while still open: of two closes at once, the second finds it closed (on
            # PostgreSQL it waits for the first's row lock, then matches nothing).
            done = c.execute(trade_offers.update().where(t.team_id == self._t, t.id == offer_id, t.state == "open")
                             .values(state=state, closed_by=by, closed_at=_seconds(now))).rowcount
            [offer] = self._offers(c, t.id == offer_id)
            if done != 1:
                check_close(offer, state, now)
        return offer

    @_guarded
    def claim_offer_post(self, offer_id: str, what: str, now: datetime) -> bool:
        if what not in POSTS:
            raise ValueError(f"unknown post {what!r}")
        column = trade_offers.c[f"{what}_posted_at"]
        with self._write() as c:
            done = c.execute(trade_offers.update().where(trade_offers.c.team_id == self._t,
                                                         trade_offers.c.id == offer_id, column.is_(None))
                             .values({column: _seconds(now)})).rowcount
        return done == 1

    # -- kept ticket counts ---------------------------------------------------------------
    @_guarded
    def ticket_counts(self) -> dict[str, dict]:
        t = ticket_counts.c
        rows = self._read(sa.select(t.week, t.unresolved_last_week, t.as_of).where(t.team_id == self._t))
        return {r.week.isoformat(): {"unresolved_last_week": r.unresolved_last_week, "as_of": r.as_of} for r in rows}

    @_guarded
    def keep_ticket_count(self, monday: date, count: int, now: datetime) -> bool:
        t = ticket_counts.c
        with self._write() as c:
            if not self._sqlite:  # one writer per team at a time, as SQLite's write lock gives
                c.execute(sa.select(teams.c.id).where(teams.c.id == self._t).with_for_update())
            old = c.execute(sa.select(t.unresolved_last_week).where(t.team_id == self._t, t.week == monday)).first()
            if old is not None and old[0] == count:
                return False
            values = dict(unresolved_last_week=count, as_of=now.isoformat(timespec="minutes"))
            c.execute(self._insert(ticket_counts).values(team_id=self._t, week=monday, **values)
                      .on_conflict_do_update(index_elements=["team_id", "week"], set_=values))
            keep = sa.select(t.week).where(t.team_id == self._t).order_by(t.week.desc()).limit(ticketcounts.KEEP)
            c.execute(ticket_counts.delete().where(t.team_id == self._t, t.week.not_in(keep.scalar_subquery())))
            self._changed(c, now)
        return True

    # -- absences imported from Google Calendar, announcements ------------------------------
    @_guarded
    def imported_absences(self) -> list[ImportedAbsence]:
        t = imported_absences.c
        rows = self._read(sa.select(t.member, t.event_id, t.start_day, t.end_day).where(t.team_id == self._t)
                          .order_by(t.member, t.start_day, t.event_id))
        return [ImportedAbsence(r.member, r.event_id, r.start_day, r.end_day) for r in rows]

    @_guarded
    def keep_imported_absence(self, absence: ImportedAbsence, now: datetime) -> bool:
        t = imported_absences.c
        days = dict(start_day=absence.start, end_day=absence.end)
        with self._write() as c:
            insert = self._insert(imported_absences).values(team_id=self._t, member=absence.member,
                                                             event_id=absence.event_id, updated_at=_seconds(now),
                                                             **days)
            # Only a row whose days differ is updated: "changed" is whether a row was written.
            done = c.execute(insert.on_conflict_do_update(
                index_elements=["team_id", "member", "event_id"], set_={**days, "updated_at": _seconds(now)},
                where=sa.or_(t.start_day != absence.start, t.end_day != absence.end)).returning(t.event_id))
            changed = done.first() is not None
            if changed:
                self._changed(c, now)
            return changed

    @_guarded
    def drop_imported_absence(self, member: str, event_id: str, now: datetime) -> bool:
        t = imported_absences.c
        with self._write() as c:
            done = c.execute(imported_absences.delete().where(t.team_id == self._t, t.member == member,
                                                              t.event_id == event_id).returning(t.event_id))
            dropped = done.first() is not None
            if dropped:
                self._changed(c, now)
            return dropped

    @_guarded
    def claim_announcement(self, key: str, text: str, now: datetime) -> bool:
        with self._write() as c:
            done = c.execute(self._insert(announcements).values(
                team_id=self._t, key=key, text=text, claimed_at=_seconds(now))
                .on_conflict_do_nothing().returning(announcements.c.key)).first()
        return done is not None

    # -- editors, locks, sign-in failures ---------------------------------------------------
    def editors(self) -> DatabaseEditors:
        return DatabaseEditors(self)

    def run_lock(self, holder: dict | None):
        return self._sqlite_run_lock(holder) if self._sqlite else self._postgres_run_lock(holder)

    @contextlib.contextmanager
    def _sqlite_run_lock(self, holder):
        # Beside the database file: BEGIN IMMEDIATE would stop every other writer for the whole run.
        database = Path(self.engine.url.database)
        path = database.with_name(f".{database.name}.{self.team_id}.run.lock")
        try:
            with locked(path, wait=False):
                self._note_holder(holder)
                try:
                    yield
                finally:
                    self._note_holder(None)
        except Busy:
            raise Busy(self.where("run lock"), self._holder()) from None

    @contextlib.contextmanager
    def _postgres_run_lock(self, holder):
        key = int.from_bytes(hashlib.sha256(f"rota run {self.team_id}".encode()).digest()[:8], "big", signed=True)
        try:
            # Its own connection, kept for the run: the lock ends with it, so a killed run never leaves it taken.
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except sa.exc.OperationalError as e:
            raise dbengine.unavailable(self.url, e) from None
        try:
            if not self._try_advisory_lock(connection, key):
                raise Busy(self.where("run lock"), self._holder())
            try:
                self._note_holder(holder)
                yield
            finally:
                with contextlib.suppress(sa.exc.SQLAlchemyError):
                    self._note_holder(None)
                    connection.execute(sa.select(sa.func.pg_advisory_unlock(key)))
        finally:
            connection.close()

    @staticmethod
    def _try_advisory_lock(connection, key: int) -> bool:
        # A holder that has just died may keep its lock for a moment, until
        # the server sees its connection close: ask again a few times, briefly.
        for pause in (0.05, 0.1, 0.2, 0.4, None):
            if connection.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar():
                return True
            if pause is not None:
                time.sleep(pause)
        return False

    @_guarded
    def _note_holder(self, holder: dict | None) -> None:
        values = dict(holder=holder, taken_at=datetime.now(UTC) if holder is not None else None)
        with self._write() as c:
            c.execute(self._insert(locks).values(team_id=self._t, name=RUN_LOCK, **values)
                      .on_conflict_do_update(index_elements=["team_id", "name"], set_=values))

    @_guarded
    def _holder(self) -> dict | None:
        rows = self._read(sa.select(locks.c.holder).where(locks.c.team_id == self._t, locks.c.name == RUN_LOCK))
        holder = rows[0][0] if rows else None
        return holder if isinstance(holder, dict) else None

    def signin_failures(self, policies: Mapping[str, Policy], max_entries: int) -> DatabaseFailureCounts:
        return DatabaseFailureCounts(self, policies, max_entries)

    # -- for caches ---------------------------------------------------------------------
    @_guarded
    def stamp(self):
        # One primary-key lookup: every request of every instance asks (so
        # the statement is built once, not per request).
        revision = self._read(_REVISION, {"team_id": self.team_id})
        return (self.team_id, revision[0][0] if revision else None)

    @_guarded
    def changed_at(self) -> datetime:
        with self.engine.connect() as c:
            marked, saved, recorded, imported = c.execute(sa.select(
                sa.select(teams.c.changed_at).where(teams.c.id == self._t).scalar_subquery(),
                sa.select(sa.func.max(roster_versions.c.saved_at)).where(roster_versions.c.team_id == self._t)
                .scalar_subquery(),
                sa.select(sa.func.max(record_stints.c.recorded_at)).where(record_stints.c.team_id == self._t)
                .scalar_subquery(),
                sa.select(sa.func.max(imported_absences.c.updated_at))
                .where(imported_absences.c.team_id == self._t).scalar_subquery())).one()
        times = [_utc(x) for x in (marked, saved, recorded, imported) if x is not None]
        for entry in self.ticket_counts().values():
            with contextlib.suppress(ValueError, TypeError):
                times.append(datetime.fromisoformat(entry["as_of"]).astimezone(UTC))
        return max(times, default=datetime(1970, 1, 1, tzinfo=UTC)).replace(microsecond=0)


def _upsert_for(dialect: str):
    """The dialect's INSERT (with ON CONFLICT), imported for the database in use only."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert


def _seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _utc(moment) -> datetime:
    if isinstance(moment, str):  # SQLite's max() of a timestamp column is its text
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class DatabaseEditors:
    """The team's editors in the database: the same methods as
    `editors.EditorStore`; each change is one statement or transaction."""

    def __init__(self, store: DatabaseStore):
        self.store = store
        self.path = store.where("editors")

    def _select(self):
        e = editors_table.c
        return sa.select(e.email, e.name, e.password_hash, e.generation).where(e.team_id == self.store.team_id)

    def _row(self, email: str):
        rows = self.store._read(self._select().where(editors_table.c.email == email))
        return rows[0] if rows else None

    @_guarded
    def list(self) -> list[Editor]:
        return [Editor(r.email, r.name, r.generation)
                for r in self.store._read(self._select().order_by(editors_table.c.email))]

    @_guarded
    def add(self, email: str, password: str | None, name: str | None = None) -> Editor:
        email, hashed = checked_credentials(email, password)
        e = editors_table.c
        insert = self.store._insert(editors_table).values(team_id=self.store.team_id, email=email,
                                                          name=name or email, password_hash=hashed, generation=0)
        # A new password ends the sessions begun with the old one; the name stays unless a new one is given.
        changes = {"password_hash": insert.excluded.password_hash, "generation": e.generation + 1}
        if name:
            changes["name"] = insert.excluded.name
        with self.store._write() as c:
            c.execute(insert.on_conflict_do_update(index_elements=["team_id", "email"], set_=changes))
            row = c.execute(self._select().where(e.email == email)).one()
        return Editor(row.email, row.name, row.generation)

    @_guarded
    def remove(self, email: str) -> bool:
        e = editors_table.c
        with self.store._write() as c:
            done = c.execute(editors_table.delete().where(e.team_id == self.store.team_id,
                                                          e.email == email.strip().lower())).rowcount
        return done == 1

    @_guarded
    def end_sessions(self, email: str) -> None:
        e = editors_table.c
        with self.store._write() as c:
            c.execute(editors_table.update().where(e.team_id == self.store.team_id, e.email == email)
                      .values(generation=e.generation + 1))

    @_guarded
    def verify(self, email: str, password: str) -> Editor | None:
        row = self._row(email.strip().lower())
        if row is None or not row.password_hash:
            password_matches(dummy_hash(), password)  # as long as a wrong password: nobody learns who is an editor
            return None
        if not password_matches(row.password_hash, password):
            return None
        return Editor(row.email, row.name, row.generation)

    @_guarded
    def get(self, email: str) -> Editor | None:
        row = self._row(email)
        return Editor(row.email, row.name, row.generation) if row else None


class DatabaseFailureCounts:
    """Failed sign-in counts in the database (see `signincounts`): each
    attempt is checked and counted in one transaction, the rows it reads
    locked (SQLite: the write lock; PostgreSQL: FOR UPDATE, in key order so
    that two attempts never wait on each other)."""

    def __init__(self, store: DatabaseStore, policies: Mapping[str, Policy], max_entries: int = 10_000):
        self.store = store
        self.policies = dict(policies)
        self.max_entries = max_entries

    @contextlib.contextmanager
    def _transaction(self):
        try:
            with self.store._write() as c:
                yield c
        except sa.exc.SQLAlchemyError as e:
            raise Unavailable(f"{self.store.where('signin')}: {str(getattr(e, 'orig', e)).strip()}") from None

    def _rows(self, c, keys: Sequence[Key], now: float) -> dict[str, tuple]:
        f, team = signin_failures.c, self.store.team_id
        hashed = sorted({_hash(k) for k in keys})
        for h in hashed:
            c.execute(self.store._insert(signin_failures).values(team_id=team, key=h, n=0, t=now, expires=now)
                      .on_conflict_do_nothing())
        query = sa.select(f.key, f.n, f.t).where(f.team_id == team, f.key.in_(hashed)).order_by(f.key)
        if not self.store._sqlite:
            query = query.with_for_update()
        return {key: (n, t) for key, n, t in c.execute(query)}

    def attempt(self, keys: Sequence[Key], now: float) -> float:
        f, team = signin_failures.c, self.store.team_id
        with self._transaction() as c:
            found = self._rows(c, keys, now)
            rows = []
            for k in keys:
                policy = self.policies[k[0]]
                n, t = found[_hash(k)]
                rows.append((policy, _hash(k), (0, now) if now - t >= policy.forget else (n, t)))
            wait = max((p.wait(n) - (now - t) for p, _, (n, t) in rows), default=0.0)
            if wait > 0:
                return wait
            for policy, key, (n, _) in rows:
                c.execute(signin_failures.update().where(f.team_id == team, f.key == key)
                          .values(n=n + 1, t=now, expires=now + policy.forget))
            self._prune(c, now)
            return 0.0

    def succeeded(self, keys: Sequence[Key], now: float) -> None:
        f, team = signin_failures.c, self.store.team_id
        with self._transaction() as c:
            c.execute(signin_failures.update().where(f.team_id == team, f.key.in_([_hash(k) for k in keys]), f.n > 0)
                      .values(n=f.n - 1))
            c.execute(signin_failures.delete().where(f.team_id == team, f.n <= 0))

    def __len__(self) -> int:
        f = signin_failures.c
        with self._transaction() as c:
            return c.execute(sa.select(sa.func.count()).where(f.team_id == self.store.team_id, f.n > 0)).scalar()

    def _prune(self, c, now: float) -> None:
        f, team = signin_failures.c, self.store.team_id
        c.execute(signin_failures.delete().where(f.team_id == team, f.expires <= now))
        count = c.execute(sa.select(sa.func.count()).where(f.team_id == team)).scalar()
        if count > self.max_entries:
            # Make room for a tenth more at once, rather than deleting a row per attempt.
            oldest = (sa.select(f.key).where(f.team_id == team).order_by(f.t)
                      .limit(count - self.max_entries + self.max_entries // 10))
            c.execute(signin_failures.delete().where(f.team_id == team, f.key.in_(oldest.scalar_subquery())))


_REVISION = sa.select(teams.c.revision).where(teams.c.id == sa.bindparam("team_id"))

_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()


def engine_for(url: str) -> sa.Engine:
    """One engine (one pool of connections) per database in a process."""
    with _engines_lock:
        if url not in _engines:
            _engines[url] = dbengine.create_engine(url)
        return _engines[url]


def dispose_engines() -> None:
    """Close every connection this process holds (before a database is dropped)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


# Say goodbye to the server when the process ends, rather than leave it to
# notice the sockets close (the `rota` command skips collecting the pools).
atexit.register(dispose_engines)


def open_database(url: str, team_id: str) -> DatabaseStore:
    return DatabaseStore(engine_for(url), team_id, url)


def team_ids(engine: sa.Engine) -> list[str]:
    """The teams that have a roster in the database."""
    with engine.connect() as c:
        return [r[0] for r in c.execute(sa.select(roster_versions.c.team_id).distinct().order_by(roster_versions.c.team_id))]
