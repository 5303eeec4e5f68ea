"""A database that cannot be reached: commands say so in one line and exit 1,
the page answers 503 saying the store is unavailable (never the password),
and an app started while it was down serves again once it is back."""

from __future__ import annotations

import socket

import pytest
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
