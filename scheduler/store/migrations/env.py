"""Alembic's entry point for rota's schema (see `scheduler.store.migrations`).

`rota db upgrade` hands over a connection already inside a transaction that
holds the migration lock; run by hand (``alembic -x url=...``, or with the
database configured as rota reads it) this connects itself.
"""

from alembic import context

from scheduler.store.dbschema import metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters a table by copying it: Alembic's batch mode does that.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _connect_and_run() -> None:
    from scheduler.store import dbengine, dburl

    url = context.get_x_argument(as_dictionary=True).get("url") or dburl.database_url()
    if not url:
        raise SystemExit("no database configured: set ROTA_DATABASE_URL or pass -x url=...")
    engine = dbengine.create_engine(dburl.normalise(url))
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("rota's migrations run against a database, not as SQL scripts (no --sql)")
connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    _connect_and_run()
