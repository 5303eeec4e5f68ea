"""Commands on the database store: a folder team moved in by `rota import`
and given back byte for byte by `rota export`, the versions `rota history`
lists, and which team a command opens. Against a SQLite file and a real
PostgreSQL (no mocks)."""

from __future__ import annotations

import pytest
from dbkit import point_rota_at

from scheduler.store.folder import FolderStore

ROSTER = b"""# the team's roster: this comment must survive the database
team: Platform experts   # display name
id: platform
timezone: America/New_York
rotation:
  start: 2026-01-05
  handoff_time: "09:00"
  holidays: none
members:
  - {name: Ada, email: ada@example.gov}
  - {name: Bob, email: bob@example.gov}
  - {name: Cy, email: cy@example.gov}   # joined late
"""


@pytest.fixture
def db(database_url, monkeypatch):
    point_rota_at(database_url, monkeypatch)
    yield database_url
    from scheduler.store.database import dispose_engines

    dispose_engines()


def test_a_folder_team_moves_in_and_comes_back_out_byte_for_byte(rota, db, tmp_path, monkeypatch):
    roster = tmp_path / "team.yaml"
    roster.write_bytes(ROSTER)
    monkeypatch.delenv("ROTA_DATABASE_URL")  # first, on the files: a record and an editor
    assert rota("record", "--roster", roster, "--at", "2026-01-20T10:00")[0] == 0
    FolderStore(roster).editors().add("ed@example.gov", "correct horse battery", "Ed")
    folder_show = rota("show", "--roster", roster, "--from", "2026-01-05", "--weeks", "6", "--format", "json")[1]
    monkeypatch.setenv("ROTA_DATABASE_URL", db)

    code, out, err = rota("import", "--roster", roster)
    assert code == 0, err
    assert "platform" in out
    out_file = tmp_path / "exported.yaml"
    assert rota("export", "-o", out_file)[0] == 0
    assert out_file.read_bytes() == ROSTER  # comments and all
    # the same rotation and record, now from the database, with the files gone
    for p in tmp_path.glob("team.*"):
        p.unlink()
    code, out, err = rota("show", "--from", "2026-01-05", "--weeks", "6", "--format", "json")
    assert code == 0, err
    assert out == folder_show
    code, out, _ = rota("user", "list")
    assert code == 0 and out == "Ed <ed@example.gov>\n"  # the editors came along, passwords and all
    code, out, _ = rota("history")
    assert code == 0 and "rota import" in out and out.startswith("   1")
    code, _, err = rota("import", "--roster", out_file)
    assert code == 2 and "already holds the team 'platform'" in err


def test_with_several_teams_a_command_needs_one_named(rota, db, tmp_path):
    for team in ("alpha", "beta"):
        path = tmp_path / f"{team}.yaml"
        path.write_bytes(ROSTER.replace(b"id: platform", f"id: {team}".encode()))
        assert rota("import", "--roster", path)[0] == 0
    code, _, err = rota("who", "--at", "2026-02-02T10:00")
    assert code == 2 and err.count("\n") == 1 and "2 teams (alpha, beta)" in err and "--team" in err
    assert rota("who", "--team", "beta", "--at", "2026-02-02T10:00")[0] == 0


def test_an_empty_database_says_how_to_move_a_team_in(rota, db):
    code, _, err = rota("who")
    assert code == 2 and "rota import --roster FILE" in err


def test_trade_offers_move_in_with_their_state_and_posts(rota, db, tmp_path, monkeypatch):
    from datetime import date, datetime, timedelta, timezone

    from scheduler.store.database import open_database
    from scheduler.store.offers import Offer

    roster = tmp_path / "team.yaml"
    roster.write_bytes(ROSTER)
    folder = FolderStore(roster)
    at = datetime(2026, 1, 6, 15, tzinfo=timezone.utc)
    expires = datetime(2026, 1, 19, 9, tzinfo=timezone(-timedelta(hours=5)))
    folder.add_offer(Offer("open1", date(2026, 1, 19), "ada@example.gov", None, None, expires, at, "dentist"))
    folder.add_offer(Offer("swap1", date(2026, 1, 26), "bob@example.gov", "cy@example.gov", date(2026, 2, 2),
                           expires, at))
    folder.claim_offer_post("open1", "offer", at)
    folder.close_offer("swap1", "declined", "cy@example.gov", at)
    code, out, err = rota("import", "--roster", roster)
    assert code == 0, err
    assert "2 offers" in out
    db_store = open_database(db, "platform")
    assert db_store.offers() == folder.offers()
    assert db_store.claim_offer_post("open1", "offer", at) is False  # posted before the move: not again
    assert db_store.claim_offer_post("open1", "outcome", at) is True
