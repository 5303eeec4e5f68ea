"""A database that cannot be reached: commands say so in one line and exit 1,
the page answers 503 saying the store is unavailable (never the password),
and an app started while it was down serves again once it is back."""

from __future__ import annotations

import socket

import pytest
from dbkit import point_rota_at
from flask import url_for
from rosterkit import team, yaml_text

from scheduler.store import dbengine, migrations
from web import create_app, feeds

PASSWORD = "not-for-your-eyes"


@pytest.fixture
def refused_url(monkeypatch):
    with socket.socket() as s:  # a port nothing listens on once this closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://rota:{PASSWORD}@127.0.0.1:{port}/rota?sslmode=disable"
    monkeypatch.setenv("ROTA_DATABASE_URL", url)
    monkeypatch.delenv("ROTA_TEAM", raising=False)
    yield url
    from scheduler.store.database import dispose_engines

    dispose_engines()


@pytest.mark.parametrize("command", [["who"], ["run"], ["run", "--apply"], ["who", "--team", "platform"],
                                     ["run", "--apply", "--team", "platform"]])
def test_a_command_says_the_database_is_unavailable_in_one_line_and_exits_1(rota, refused_url, command):
    code, out, err = rota(*command)
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and "is unavailable" in err and "Connection refused" in err
    assert PASSWORD not in err


@pytest.mark.parametrize("team_id", [None, "platform"])
def test_the_page_and_healthz_answer_503_while_the_database_is_unreachable(refused_url, team_id):
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "TEAM": team_id})  # starts all the same
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["status"] == "error"
    assert "is unavailable" in health.json["error"] and PASSWORD not in health.get_data(as_text=True)
    with app.test_request_context():
        feed = url_for("feeds.team_feed", token=feeds.token("team"))
    for path in ("/", feed):
        response = client.get(path)
        assert response.status_code == 503, path
        # come back soon: a database restarts in seconds (a broken roster file waits for a person)
        assert int(response.headers["Retry-After"]) <= 60
        assert PASSWORD not in response.get_data(as_text=True)
    assert client.get(feed).get_data(as_text=True).startswith("This feed is unavailable")
    page = client.get("/").get_data(as_text=True)
    assert "The store is unavailable" in page and "Connection refused" in page


def test_an_app_started_while_its_database_was_missing_serves_once_it_is_there(rota, tmp_path, monkeypatch):
    folder = tmp_path / "db"  # not there yet: SQLite cannot open the file
    url = f"sqlite:///{folder / 'rota.db'}"
    monkeypatch.setenv("ROTA_DATABASE_URL", url)
    monkeypatch.delenv("ROTA_TEAM", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret"})
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    assert "The store is unavailable" in client.get("/").get_data(as_text=True)

    folder.mkdir()
    engine = dbengine.create_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    roster = tmp_path / "team.yaml"
    roster.write_text(yaml_text(team("Ada", "Bob", "Cy")))
    assert rota("import", "--roster", roster)[0] == 0
    health = client.get("/healthz")
    assert health.status_code == 200, health.get_data(as_text=True)
    assert client.get("/").status_code == 200
    from scheduler.store.database import dispose_engines

    dispose_engines()


def _drop_connections(admin, url: str) -> int:
    """What a server restart does to every connection a pool holds."""
    import sqlalchemy as sa

    name = url.partition("?")[0].rsplit("/", 1)[1]
    with admin.connect() as c:
        return len(c.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name}).all())


@pytest.fixture
def postgres_team(rota, postgres_url, tmp_path, monkeypatch):
    point_rota_at(postgres_url, monkeypatch)
    roster = tmp_path / "team.yaml"
    roster.write_text(yaml_text(team("Ada", "Bob", "Cy")))
    assert rota("import", "--roster", roster)[0] == 0
    yield postgres_url
    from scheduler.store.database import dispose_engines

    dispose_engines()


def test_pages_and_feeds_keep_answering_when_the_server_drops_connections_just_used(postgres_team, _postgres_admin):
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret"})
    client = app.test_client()
    with app.test_request_context():
        feed = url_for("feeds.team_feed", token=feeds.token("team"))
    assert client.get(feed).status_code == 200  # the pool now holds a connection, used a moment ago
    for path in ("/healthz", feed, "/"):
        assert _drop_connections(_postgres_admin, postgres_team) >= 1
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])


def test_a_save_after_the_server_dropped_idle_connections_is_kept(postgres_team, _postgres_admin, monkeypatch):
    from datetime import UTC, datetime

    from scheduler.store.auditlog import Entry
    from scheduler.store.database import engine_for, open_database, team_ids

    monkeypatch.setattr(dbengine, "PING_AFTER_IDLE", 0.0)  # every connection counts as idle: no waiting
    store = open_database(postgres_team, team_ids(engine_for(postgres_team))[0])
    before = len(store.read_audit())
    assert _drop_connections(_postgres_admin, postgres_team) >= 1
    entry = Entry("roster", "edit", "a save after a restart", "ok", {})
    store.append_audit([entry], actor="ed@example.gov", now=datetime(2027, 1, 4, tzinfo=UTC))
    assert len(store.read_audit()) == before + 1
