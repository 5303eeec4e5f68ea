"""The folder store's append-only files after a process was killed in the
middle of an append: the line it cut short recorded nothing, everything
before it still counts, and what is appended next is kept whole."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from dbkit import point_rota_at
from rosterkit import team, yaml_text

from scheduler.store.auditlog import Entry
from scheduler.store.folder import FolderStore
from scheduler.store.offers import Offer

NOW = datetime(2027, 1, 4, 15, tzinfo=UTC)


@pytest.fixture
def store(tmp_path) -> FolderStore:
    roster = tmp_path / "team.yaml"
    roster.write_text(yaml_text(team("Ada", "Bob", "Cy", id="platform")))
    return FolderStore(roster)


def cut_short(path, text: str) -> None:
    """What a kill in the middle of writing `text`'s line leaves behind."""
    with path.open("a", encoding="utf-8") as f:
        f.write(text[: len(text) // 2])


def test_a_notice_claim_cut_short_claims_nothing_and_the_next_run_posts_once(store):
    first, second = date(2027, 1, 4), date(2027, 1, 11)
    handoff = datetime(2027, 1, 11, 9, tzinfo=timezone(-timedelta(hours=5)))
    assert store.claim_notice(first, handoff - timedelta(weeks=1), NOW)
    cut_short(store.path("notices"), '{"week": "2027-01-11", "handoff": "2027-01-11T09:00:00-05:00"}\n')
    assert store.posted_notices() == {first}  # the run that was killed never posted
    assert store.claim_notice(second, handoff, NOW) is True  # so the next run does
    assert store.claim_notice(second, handoff, NOW) is False  # and only once
    assert store.posted_notices() == {first, second}


def test_the_audit_log_keeps_what_came_before_a_cut_short_line_and_what_comes_after(store):
    store.append_audit([Entry("zendesk", "add", "ada@example.gov")], actor="rota run", now=NOW)
    cut_short(store.path("audit"), '{"time": "2027-01-04T15:00:00+00:00", "actor": "rota run", "system": "zendesk"}\n')
    store.append_audit([Entry("zendesk", "remove", "bob@example.gov")], actor="rota run", now=NOW)
    assert [(e["action"], e["who"]) for e in store.read_audit()] == [("add", "ada@example.gov"),
                                                                     ("remove", "bob@example.gov")]


def test_offers_survive_an_offer_cut_short(store):
    expires = datetime(2027, 2, 1, 9, tzinfo=timezone(-timedelta(hours=5)))
    store.add_offer(Offer("one", date(2027, 2, 1), "ada@example.gov", None, None, expires, NOW))
    cut_short(store.path("offers"), '{"event": "offer", "id": "two", "week": "2027-02-08"}\n')
    store.add_offer(Offer("three", date(2027, 2, 15), "bob@example.gov", None, None,
                          expires + timedelta(weeks=2), NOW))
    assert [o.id for o in store.offers()] == ["one", "three"]
    assert store.close_offer("three", "withdrawn", "bob@example.gov", NOW).state == "withdrawn"


def test_a_team_with_a_cut_short_audit_line_moves_into_a_database(rota, store, sqlite_url, monkeypatch):
    store.append_audit([Entry("roster", "edit", None)], actor="ed@example.gov", now=NOW)
    cut_short(store.path("audit"), '{"time": "2027-01-04T15:00:00+00:00", "actor": "rota run"}\n')
    point_rota_at(sqlite_url, monkeypatch)
    code, out, err = rota("import", "--roster", store.path("roster"))
    assert code == 0, err
    from scheduler.store.database import dispose_engines, open_database

    try:
        assert [e["actor"] for e in open_database(sqlite_url, "platform").read_audit()] == ["ed@example.gov"]
    finally:
        dispose_engines()
