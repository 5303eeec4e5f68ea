"""Connecting to the database a URL from `dburl` names.

Imports SQLAlchemy, so only code that has a database configured imports it.

PostgreSQL: every connection has a connect timeout and a statement timeout,
so a database that stops answering fails a command instead of hanging it.

SQLite: the file is switched to WAL (readers never wait for the writer),
foreign keys are enforced, and a writer waits up to `SQLITE_BUSY_SECONDS`
for another. SQLAlchemy, not Python's sqlite3 module, begins transactions,
so that DDL is transactional too and a transaction that will write can take
the write lock at its start (``BEGIN IMMEDIATE``): without it, two
transactions that both read and then write deadlock and one fails at once.
Ask for that with ``connection.execution_options(immediate=True)`` before
``begin()``; on PostgreSQL the option does nothing.
"""

from __future__ import annotations

import functools
import time

import sqlalchemy as sa

from scheduler.errors import RotaError
from scheduler.store.dburl import is_sqlite, redacted

CONNECT_TIMEOUT = 10  # seconds
STATEMENT_TIMEOUT = 30  # seconds
SQLITE_BUSY_SECONDS = 10
PING_AFTER_IDLE = 1.0  # seconds


class DatabaseUnavailable(RotaError):
    """The database could not be reached or did not answer."""

    exit_code = 1
    store_unavailable = True  # the page says so (web), without importing this module


def create_engine(url: str) -> sa.Engine:
    if is_sqlite(url):
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = sa.create_engine(url, connect_args={
        "connect_timeout": CONNECT_TIMEOUT,
        "options": f"-c statement_timeout={STATEMENT_TIMEOUT * 1000}",
    })
    sa.event.listen(engine, "checkin", _idle_from_now)
    sa.event.listen(engine, "checkout", functools.partial(_ping_if_idle, engine.dialect))
    return engine


def unavailable(url: str, error: Exception) -> DatabaseUnavailable:
    """One line for a database that failed to answer; never the password."""
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    return DatabaseUnavailable(f"the database {redacted(url)} is unavailable: {reason[0] if reason else type(error).__name__}")


def schema_behind(url: str, error: Exception) -> RotaError | None:
    """What to do when the database lacks a table or a column rota uses (a
    new database, or one not yet upgraded for this release); None for any
    other failure."""
    kind = type(getattr(error, "orig", None)).__name__
    text = str(error)
    if kind == "UndefinedTable" or "no such table" in text:
        return RotaError(f"the database {redacted(url)} has no rota schema yet: run `rota db upgrade`")
    if kind == "UndefinedColumn" or "no such column" in text:
        return RotaError(f"the database {redacted(url)} has the schema of an older rota: run `rota db upgrade`")
    return None


def _idle_from_now(_dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dialect, dbapi_connection, record, _proxy) -> None:
    """Ask a pooled connection that has sat idle whether the server is still
    there (it may have restarted), so that a request after a restart gets a
    new connection instead of an error. Not one used a moment ago: under load
    that ping was a second round trip for every feed request's one query.
    Raising DisconnectionError makes the pool drop it and connect afresh."""
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < PING_AFTER_IDLE:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as e:
        raise sa.exc.DisconnectionError(str(e)) from e


def _sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event says BEGIN, not the driver
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_begin(connection) -> None:
    immediate = connection.get_execution_options().get("immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
