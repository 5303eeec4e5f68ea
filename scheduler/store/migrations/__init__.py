"""Creating and migrating the database store's schema with Alembic.

The revisions live in ``versions/``; `upgrade` brings a database to the
newest one and is safe to run any number of times, including by several
instances deploying at once: the upgrade runs in one transaction that first
takes a lock (an advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite),
so the second waits, then finds the schema current and does nothing. A
failed upgrade changes nothing (DDL is transactional on both databases).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

# pg_advisory_xact_lock key for "the schema is being migrated": any fixed 64-bit number.
_MIGRATION_LOCK = 0x726F74615F6462  # "rota_db"


@dataclass(frozen=True)
class Upgrade:
    before: str | None  # the revision found (None: an empty database)
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(config()).get_current_head()


def current(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: sa.Engine, target: str = "head") -> Upgrade:
    """Bring the schema to `target` (the newest revision unless told: an
    older one is for testing upgrades from it)."""
    cfg = config()
    with engine.connect() as connection:
        connection = connection.execution_options(immediate=True)
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            before = current(connection)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, target)
            after = current(connection)
    return Upgrade(before, after)
