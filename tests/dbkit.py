"""Databases for the tests: a SQLite file per test, and a fresh database per
test on a real PostgreSQL server.

The server is the one `scripts/test` started (``ROTA_TEST_POSTGRES_URL``, a
superuser's URL; ``ROTA_TEST_POSTGRES_CTL`` runs pg_ctl on it). Run pytest
directly and a cluster of its own is started for the session the same way
(`scripts/postgres-cluster`), if PostgreSQL is installed; only where it is
not, and cannot be, are the tests that need it skipped, with the reason.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
CLUSTER = REPO / "scripts" / "postgres-cluster"


@dataclass(frozen=True)
class PostgresServer:
    url: str  # a superuser's, to the "postgres" database
    ctl: str | None  # pg_ctl on the cluster, when we know how to run it

    def database_url(self, name: str) -> str:
        head, _, query = self.url.partition("?")
        return f"{head.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def postgres_server():
    url = os.environ.get("ROTA_TEST_POSTGRES_URL")
    if url:
        yield PostgresServer(url, os.environ.get("ROTA_TEST_POSTGRES_CTL"))
        return
    if os.environ.get("ROTA_TEST_POSTGRES_SKIP"):
        pytest.skip(os.environ["ROTA_TEST_POSTGRES_SKIP"])
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        pytest.skip("PostgreSQL is not installed: ./scripts/test installs it (Debian's postgresql)")
    # Not under pytest's tmp_path: as root the cluster belongs to the postgres
    # user, who cannot enter pytest's private temporary directories.
    directory = tempfile.mkdtemp(prefix="rota-test-postgres.")
    try:
        started = subprocess.run([str(CLUSTER), "start", directory], capture_output=True, text=True,
                                 timeout=180, stdin=subprocess.DEVNULL)
        if started.returncode != 0:
            pytest.fail(f"scripts/postgres-cluster could not start PostgreSQL:\n{started.stderr}")
        yield PostgresServer(started.stdout.strip(), f"{directory}/ctl")
    finally:
        subprocess.run([str(CLUSTER), "stop", directory], capture_output=True, timeout=60)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def _postgres_admin(postgres_server):
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_server.url, isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 10})
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_server, _postgres_admin):
    """A URL to a new, empty database that is dropped after the test."""
    import sqlalchemy as sa

    name = f"rota_test_{uuid.uuid4().hex[:12]}"
    with _postgres_admin.connect() as admin:
        admin.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield postgres_server.database_url(name)
    with _postgres_admin.connect() as admin:
        admin.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path):
    """A URL to a SQLite file of this test's own."""
    return f"sqlite:///{tmp_path / 'rota.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request):
    """Each test that asks for it runs twice: on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


def point_rota_at(url: str, monkeypatch) -> str:
    """Give the database at `url` rota's schema and make it the store every
    command and app of this test opens (its only team, unless told)."""
    from scheduler.store import dbengine, migrations

    engine = dbengine.create_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("ROTA_DATABASE_URL", url)
    monkeypatch.delenv("ROTA_TEAM", raising=False)
    return url
