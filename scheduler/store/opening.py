"""Which store a command or the web app opens.

The folder store of the roster file is the default. When a database is
configured (`dburl`: ``ROTA_DATABASE_URL``, ``DATABASE_URL`` or a bound
``aws-rds``), the team's state is in it instead, under a team id: the one
given (``--team``, else ``ROTA_TEAM``), else the only team the database
holds. SQLAlchemy is imported only then, so commands on files start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scheduler.errors import RotaError
from scheduler.store.base import Store
from scheduler.store.dburl import redacted

if TYPE_CHECKING:
    from scheduler.settings import Settings

DEFAULT_ROSTER = "rosters/example.yaml"  # also scheduler.cli.DEFAULT_ROSTER


def open_store(settings: Settings, roster: Path | str | None = None, team: str | None = None,
               editors: Path | str | None = None) -> Store:
    """The store of `roster` (else $ROTA_ROSTER, else the example) or, with a
    database configured, of the team `team` (else $ROTA_TEAM, else the only one)."""
    url = settings.database_url
    if url is None:
        from scheduler.store.folder import FolderStore

        return FolderStore(Path(roster or settings.roster or DEFAULT_ROSTER), editors or settings.editors or None)
    database = _database_module()
    engine = database.engine_for(url)
    team = team or (settings.team or "").strip() or None
    if team is None:
        try:
            ids = database.team_ids(engine)
        except Exception as e:  # the driver's errors: unreachable, no schema
            raise _failure(database, url, e) from None
        if len(ids) == 1:
            team = ids[0]
        elif not ids:
            raise RotaError(f"the database {redacted(url)} holds no team yet: move one in with "
                            "`rota import --roster FILE`")
        else:
            raise RotaError(f"the database {redacted(url)} holds {len(ids)} teams ({', '.join(ids)}): "
                            "say which with --team ID or $ROTA_TEAM")
    return database.DatabaseStore(engine, team, url)


def open_database(settings: Settings, team: str):
    """The database's store for `team` (for `rota import`): RotaError when none is configured."""
    url = settings.database_url
    if url is None:
        raise RotaError("no database configured: set ROTA_DATABASE_URL (or DATABASE_URL, or bind an aws-rds "
                        "service)")
    database = _database_module()
    return database.DatabaseStore(database.engine_for(url), team, url)


def _database_module():
    try:
        from scheduler.store import database
    except ImportError as e:
        raise RotaError(f"the database store needs {e.name}: pip install 'rota[db]'") from None
    return database


def _failure(database, url: str, error: Exception) -> RotaError:
    import sqlalchemy as sa

    if isinstance(error, sa.exc.DBAPIError):
        from scheduler.store import dbengine

        return dbengine.schema_behind(url, error) or dbengine.unavailable(url, error)
    raise error
