"""The roster page's recent changes: the last saved versions (when, who,
what) where the store keeps them (a database), nothing new on files."""

from __future__ import annotations

import re

import pytest
from dbkit import point_rota_at
from webkit import Clock, change, sign_in

from web import create_app


@pytest.fixture
def database_app(database_url, rota, roster, monkeypatch):
    point_rota_at(database_url, monkeypatch)
    code, _, err = rota("import", "--roster", roster)
    assert code == 0, err
    yield create_app({"TESTING": True, "SECRET_KEY": "test-secret", "CLOCK": Clock("2027-01-12T15:00:00Z")})
    from scheduler.store.database import dispose_engines

    dispose_engines()


def recent_changes(page: str) -> list[list[str]]:
    table = page.split("<h2>Recent changes</h2>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table)
    return [list(row) for row in rows]


def test_the_last_ten_saved_versions_show_newest_first_with_when_who_and_what(database_app):
    client = database_app.test_client()
    sign_in(client)
    rows = recent_changes(client.get("/roster/").get_data(as_text=True))
    assert len(rows) == 1 and rows[0][1] == "rota import"
    for n in range(1, 12):
        saved = change(client, "save", "add_member", name=f"Eve {n}", email=f"eve{n}@example.gov", joined="2027-02-01")
        assert saved.status_code == 302
    sign_in(client, email="flo@example.gov")
    assert change(client, "save", "add_absence", email="di@example.gov",
                  **{"from": "2027-01-20", "to": "2027-01-21"}).status_code == 302

    rows = recent_changes(client.get("/roster/").get_data(as_text=True))
    assert len(rows) == 10
    assert rows[0][1:] == ["flo@example.gov", "Di away 2027-01-20 to 2027-01-21"]
    assert [who for _, who, _ in rows[1:]] == ["ed@example.gov"] * 9
    assert [what for _, _, what in rows[1:]] == [f"add Eve {n} &lt;eve{n}@example.gov&gt;, joining 2027-02-01"
                                                 for n in range(11, 2, -1)]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", when) for when, _, _ in rows)


def test_the_folder_store_shows_no_recent_changes(client):
    sign_in(client)
    page = client.get("/roster/").get_data(as_text=True)
    assert page.startswith("<!doctype html>") and "Members" in page
    assert "Recent changes" not in page
