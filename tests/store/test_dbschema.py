"""The database store's schema: created and migrated by `rota db upgrade`,
the same on SQLite and on a real PostgreSQL, its constraints holding between
processes."""

import socket
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import claimrace
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from scheduler.store import dbengine, dbschema, editors, migrations
from scheduler.store.base import version_of
from scheduler.store.database import DatabaseStore, dispose_engines
from scheduler.store.folder import FolderStore

REPO = Path(__file__).parent.parent.parent
T0 = datetime(2027, 1, 4, 14, 0, tzinfo=timezone.utc)


@pytest.fixture
def engine(database_url):
    engine = dbengine.create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def upgrade(rota, monkeypatch):
    """`rota db upgrade` with ROTA_DATABASE_URL set to the given URL."""

    def run(url):
        monkeypatch.setenv("ROTA_DATABASE_URL", url)
        return rota("db", "upgrade")

    return run


def test_db_upgrade_creates_the_schema_then_finds_it_current(upgrade, database_url, engine):
    code, out, err = upgrade(database_url)
    assert (code, err) == (0, "")
    assert f"created the schema (revision {migrations.head()})" in out
    code, out, err = upgrade(database_url)
    assert (code, err) == (0, "")
    assert f"the schema is up to date (revision {migrations.head()})" in out
    with engine.connect() as c:
        assert migrations.current(c) == migrations.head()
        assert set(sa.inspect(c).get_table_names()) == set(dbschema.metadata.tables) | {"alembic_version"}


def test_the_migrations_build_exactly_the_schema_the_code_describes(engine):
    migrations.upgrade(engine)
    with engine.connect() as c:
        differences = compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), dbschema.metadata)
    assert differences == []


def test_the_password_never_reaches_the_output(upgrade, postgres_url):
    code, out, err = upgrade(postgres_url)
    password = postgres_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert code == 0 and "rota:***@127.0.0.1" in out
    assert password not in out + err


def test_an_unreachable_database_is_one_line_and_exit_1(upgrade):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        code, out, err = upgrade(f"postgres://rota:hunter2@127.0.0.1:{port}/rota?sslmode=disable")
    assert code == 1 and out == ""
    assert err.startswith(f"rota: the database postgresql+psycopg://rota:***@127.0.0.1:{port}/rota?sslmode=disable "
                          "is unavailable: ")
    assert err.count("\n") == 1 and "hunter2" not in err


def test_db_upgrade_without_a_database_says_how_to_configure_one(rota):
    code, out, err = rota("db", "upgrade")
    assert code == 2 and out == ""
    assert "no database configured: set ROTA_DATABASE_URL" in err


def test_two_deploys_upgrading_at_once_both_succeed(database_url):
    env = {"ROTA_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "scheduler", "db", "upgrade"]
    runs = [subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    results = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    said = sorted("created" if "created the schema" in out else "current" if "up to date" in out else out
                  for out, _ in results)
    assert said == ["created", "current"]


def test_times_come_back_as_the_same_instant_and_handoffs_as_written(engine):
    migrations.upgrade(engine)
    recorded = datetime(2027, 1, 4, 9, 0, 5, tzinfo=timezone(timedelta(hours=-5)))
    with engine.begin() as c:
        c.execute(dbschema.teams.insert().values(id="platform", name="Platform", created_at=T0))
        c.execute(dbschema.record_stints.insert().values(
            team_id="platform", week=date(2027, 1, 4), member=None,
            handoff="2027-01-04T09:00:00-05:00", recorded_at=recorded))
    with engine.connect() as c:
        row = c.execute(sa.select(dbschema.record_stints)).one()
    assert row.recorded_at == recorded and row.recorded_at.utcoffset() == timedelta(0)
    assert row.handoff == "2027-01-04T09:00:00-05:00" and row.member is None and row.week == date(2027, 1, 4)


def test_a_team_is_deleted_with_everything_it_keeps(engine):
    migrations.upgrade(engine)
    with engine.begin() as c:
        c.execute(dbschema.teams.insert().values(id="platform", name="Platform", created_at=T0))
        c.execute(dbschema.editors.insert().values(team_id="platform", email="ada@example.gov", name="Ada",
                                                   password_hash="x"))
        with pytest.raises(sa.exc.IntegrityError):  # foreign keys hold on SQLite too
            with c.begin_nested():
                c.execute(dbschema.editors.insert().values(team_id="nobody", email="a@b", name="A", password_hash="x"))
        c.execute(dbschema.teams.delete())
        assert c.execute(sa.select(sa.func.count()).select_from(dbschema.editors)).scalar() == 0


# -- exactly once, between processes ---------------------------------------------------
def test_two_processes_claiming_the_same_key_exactly_one_wins(engine, database_url):
    """A record week, a handoff notice, the next roster version."""
    migrations.upgrade(engine)
    with engine.begin() as c:
        c.execute(dbschema.teams.insert().values(id=claimrace.TEAM, name="Platform", created_at=T0))
        c.execute(dbschema.roster_versions.insert().values(team_id=claimrace.TEAM, number=1, version="v1",
                                                           text="team: first\n", saved_by="import", saved_at=T0))
    outcomes = claimrace.race(database_url, ("ada", "bob"))
    for claim, (table, row) in claimrace.ROWS.items():
        assert sorted(outcomes[claim].values()) == ["refused", "won"], claim
        winner = next(who for who, outcome in outcomes[claim].items() if outcome == "won")
        with engine.connect() as c:
            rows = c.execute(sa.select(dbschema.metadata.tables[table])).mappings().all()
        kept = [r for r in rows if r.get("number", 2) == 2]  # the roster's version 1 was there before
        assert len(kept) == 1, claim
        assert {k: kept[0][k] for k in row(winner)} == row(winner), claim


def test_the_folder_store_never_imports_the_database_libraries():
    code = ("import sys; from scheduler.cli import main; main(['who', '--roster', 'rosters/example.yaml']); "
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic', 'psycopg')); "
            "sys.exit(f'imported {loaded}' if loaded else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


FIRST_ROSTER = b"""# kept by the first release
team: Platform experts
id: platform
timezone: America/New_York
rotation: {start: 2026-01-05, handoff_time: "09:00", holidays: none}
members:
  - {name: Ada, email: ada@example.gov}
  - {name: Bob, email: bob@example.gov}
  - {name: Cy, email: cy@example.gov}
"""


def test_a_team_kept_in_the_first_schema_is_whole_after_rota_db_upgrade(rota, database_url, tmp_path, monkeypatch):
    """A deployment of the first release (revision 0001) upgraded in place:
    the roster, its history, the record and the editors all come through,
    and the upgraded team is kept and cached as a new one would be."""
    folder = tmp_path / "team.yaml"  # what the team looks like, made the ordinary way
    folder.write_bytes(FIRST_ROSTER)
    assert rota("record", "--roster", folder, "--at", "2026-01-20T10:00")[0] == 0
    record = FolderStore(folder).read_record()
    shown = rota("show", "--roster", folder, "--from", "2026-01-05", "--weeks", "8", "--format", "json")[1]

    engine = dbengine.create_engine(database_url)
    migrations.upgrade(engine, "0001")
    with engine.begin() as c:  # rows as the first release wrote them, into its tables as they were
        first = sa.MetaData()
        first.reflect(c)
        tables = first.tables
        c.execute(tables["teams"].insert().values(id="platform", name="Platform experts", created_at=T0))
        c.execute(tables["roster_versions"].insert().values(
            team_id="platform", number=1, version=version_of(FIRST_ROSTER), text=FIRST_ROSTER.decode(),
            saved_by="ed@example.gov", saved_at=T0, description="first version"))
        c.execute(tables["record_stints"].insert(), [
            dict(team_id="platform", week=s.week, member=s.member, handoff=s.handoff.isoformat(), recorded_at=T0)
            for s in record.stints.values()])
        c.execute(tables["editors"].insert().values(team_id="platform", email="ed@example.gov", name="Ed",
                                                    password_hash=editors.hash_password("correct horse battery")))
    with engine.connect() as c:
        assert "revision" not in {column["name"] for column in sa.inspect(c).get_columns("teams")}
    engine.dispose()

    monkeypatch.setenv("ROTA_DATABASE_URL", database_url)
    code, out, err = rota("db", "upgrade")
    assert (code, err) == (0, "")
    assert f"migrated the schema from revision 0001 to {migrations.head()}" in out

    assert rota("show", "--from", "2026-01-05", "--weeks", "8", "--format", "json")[1] == shown
    store = DatabaseStore(dbengine.create_engine(database_url), "platform", database_url)
    assert store.read_record() == record
    assert store.read_roster() == FIRST_ROSTER
    assert store.editors().verify("ed@example.gov", "correct horse battery").name == "Ed"
    code, out, _ = rota("history")
    assert code == 0 and "ed@example.gov" in out and "first version" in out

    before = store.stamp()  # a save after the upgrade is seen by every instance's cache
    store.replace_roster(version_of(FIRST_ROSTER), FIRST_ROSTER.replace(b"first release", b"second"))
    assert store.stamp() != before
    assert rota("history")[1].count("\n") == 2
    store.engine.dispose()
    dispose_engines()


def test_a_database_from_a_newer_rota_is_one_line_and_left_alone(upgrade, database_url, engine):
    """Rolled back to an older release after a newer one migrated the
    database: the upgrade says so and changes nothing, no traceback."""
    migrations.upgrade(engine)
    with engine.begin() as c:
        c.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    code, out, err = upgrade(database_url)
    assert (code, out) == (1, "")
    assert "the schema upgrade failed and nothing was changed" in err and "9999" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    with engine.connect() as c:
        assert migrations.current(c) == "9999"
