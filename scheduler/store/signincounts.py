"""Failed sign-ins, counted so that a password cannot be guessed by trying
many, by one client or by many clients against one account.

`FailureCounts` is the interface the sign-in view uses (a `Store` hands one
out); `FileFailureCounts` keeps the counts in a small SQLite file (the folder
store puts it beside the roster), so that every worker process on the
machine sees the same counts and an attempt is checked and counted in one
transaction (fifty guesses sent at once cannot all slip past the limit).
When rota gets a shared database, a store on it replaces this one behind
the same two methods.

The table stays small whatever arrives: keys are hashed (a 60 KiB email
costs as much as a short one), rows are dropped once their counts are
forgotten, and past `max_entries` the oldest rows go first.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

Key = tuple[str, str]  # (kind, who): ("client", "203.0.113.9"), ("account", "ed@example.gov")


@dataclass(frozen=True)
class Policy:
    """How many failures are free, and how long to wait after the others.

    The wait after the `free`-th failure is `first_wait` seconds and doubles
    with each further failure up to `max_wait`; attempts refused while
    waiting are not counted. `forget` seconds after the last failure the
    count starts again from zero."""

    free: int
    first_wait: float
    max_wait: float
    forget: float

    def wait(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.first_wait * 2 ** min(failures - self.free, 32), self.max_wait)


class Unavailable(Exception):
    """The counts cannot be read or written now (so nobody is let in)."""


class FailureCounts(Protocol):
    def attempt(self, keys: Sequence[Key], now: float) -> float:
        """Check every key and, if none is waiting, count this attempt as a
        failure on each of them, atomically. Returns 0 when the attempt may
        go ahead, else the seconds to wait (and counts nothing)."""

    def succeeded(self, keys: Sequence[Key], now: float) -> None:
        """The attempt counted by `attempt` was right: take it back."""


class FileFailureCounts:
    def __init__(self, path: Path, policies: Mapping[str, Policy], max_entries: int = 10_000):
        self.path = path
        self.policies = dict(policies)
        self.max_entries = max_entries
        # One connection per thread, kept: opening one (and the checkpoint
        # on closing the last) costs far more than the transaction itself.
        self._local = threading.local()

    def attempt(self, keys: Sequence[Key], now: float) -> float:
        with self._transaction() as db:
            rows = [(self._policy(k), _hash(k), self._live(db, k, now)) for k in keys]
            wait = max((p.wait(n) - (now - t) for p, _, (n, t) in rows), default=0.0)
            if wait > 0:
                return wait
            for policy, key, (n, _) in rows:
                db.execute("INSERT OR REPLACE INTO failures (key, n, t, expires) VALUES (?, ?, ?, ?)",
                           (key, n + 1, now, now + policy.forget))
            self._prune(db, now)
            return 0.0

    def succeeded(self, keys: Sequence[Key], now: float) -> None:
        with self._transaction() as db:
            for k in keys:
                db.execute("UPDATE failures SET n = n - 1 WHERE key = ? AND n > 0", (_hash(k),))
            db.execute("DELETE FROM failures WHERE n <= 0")

    def __len__(self) -> int:
        with self._transaction() as db:
            return db.execute("SELECT count(*) FROM failures").fetchone()[0]

    def _policy(self, key: Key) -> Policy:
        return self.policies[key[0]]

    def _live(self, db, key: Key, now: float) -> tuple[int, float]:
        row = db.execute("SELECT n, t FROM failures WHERE key = ?", (_hash(key),)).fetchone()
        if row is None or now - row[1] >= self._policy(key).forget:
            return 0, now
        return row

    def _prune(self, db, now: float) -> None:
        db.execute("DELETE FROM failures WHERE expires <= ?", (now,))
        count = db.execute("SELECT count(*) FROM failures").fetchone()[0]
        if count > self.max_entries:
            # Make room for a tenth more at once, rather than deleting a row per attempt.
            db.execute("DELETE FROM failures WHERE key IN (SELECT key FROM failures ORDER BY t LIMIT ?)",
                       (count - self.max_entries + self.max_entries // 10,))

    def _transaction(self):
        return _Transaction(self)

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=True)
            try:
                if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    try:
                        db.execute("PRAGMA journal_mode = WAL")
                    except sqlite3.OperationalError:
                        pass  # busy: another process is switching the new file to WAL just now
                # Losing the last few counts in a power cut is fine; an fsync per sign-in is not needed.
                db.execute("PRAGMA synchronous = NORMAL")
                # Keep the write-ahead log small too: checkpoint every 256 pages, then shrink it.
                db.execute("PRAGMA wal_autocheckpoint = 256")
                db.execute("PRAGMA journal_size_limit = 1048576")
                db.execute("CREATE TABLE IF NOT EXISTS failures "
                           "(key TEXT PRIMARY KEY, n INTEGER NOT NULL, t REAL NOT NULL, expires REAL NOT NULL)")
                db.execute("CREATE INDEX IF NOT EXISTS failures_t ON failures (t)")
                db.execute("CREATE INDEX IF NOT EXISTS failures_expires ON failures (expires)")
            except sqlite3.Error:
                db.close()
                raise
            self._local.db = db
        return db

    def _forget_connection(self) -> None:
        db = getattr(self._local, "db", None)
        self._local.db = None
        if db is not None:
            db.close()


class _Transaction:
    """BEGIN IMMEDIATE: the write lock is taken before reading, so that two
    processes cannot both read a count of 4 and both let a fifth guess in."""

    def __init__(self, store: FileFailureCounts):
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.db = self.store._connect()
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            self.store._forget_connection()
            raise Unavailable(f"{self.store.path}: {e}") from None
        return self.db

    def __exit__(self, kind, error, tb):
        try:
            self.db.execute("ROLLBACK" if kind else "COMMIT")
        except sqlite3.Error as e:
            self.store._forget_connection()
            if kind is None:
                raise Unavailable(f"{self.store.path}: {e}") from None
        if isinstance(error, sqlite3.Error):
            self.store._forget_connection()
            raise Unavailable(f"{self.store.path}: {error}") from None
        return False


def _hash(key: Key) -> str:
    kind, who = key
    return kind + ":" + hashlib.sha256(who.encode("utf-8", "surrogatepass")).hexdigest()[:32]
