"""Trades: a member offers a stint, a second person confirms, and the roster,
`rota show`, the feeds, the audit log and the history say who did it. On the
folder store, and on SQLite and PostgreSQL where the store matters."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from rosterkit import away, member, team, yaml_text

from scheduler.roster.trades import (NotAllowed, Person, PreviewChanged, TradeRefused, confirm, decline,
                                     make_offer, open_offers, preview, withdraw)
from scheduler.store.folder import FolderStore
from scheduler.store.offers import OfferClosed, OfferRefused
from scheduler.team import Team

# Tuesday of week 1 (2027-01-11): Cy is in week 1 of their stint, Bob in week 2.
NOW = datetime(2027, 1, 12, 15, 0, tzinfo=timezone.utc)
ADA, BOB, CY, DI, EVE = (Person(f"{n.lower()}@example.gov", n) for n in ("Ada", "Bob", "Cy", "Di", "Eve"))
# Without trades: Di 01-18, Ada 01-25, Bob 02-01, Cy 02-08, Di 02-15, Ada 02-22, Eve (joins 02-01) ...
FIVE = team("Ada", "Bob", "Cy", "Di", member("Eve", joined="2027-02-01"))


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture
def path(roster_dir):
    p = roster_dir / "team.yaml"
    p.write_text("# edited by hand and by rota\n" + yaml_text(FIVE))
    return p


def load(path) -> Team:
    return Team.load(FolderStore(path))


def holder(team_: Team, monday: str) -> str:
    s = team_.schedule()
    return s.stint(s.week_index(d(monday))).member


def test_the_rotation_these_tests_start_from(path):
    t = load(path)
    assert [holder(t, m) for m in ("2027-01-18", "2027-01-25", "2027-02-01", "2027-02-08")] == \
        ["di@example.gov", "ada@example.gov", "bob@example.gov", "cy@example.gov"]


def test_a_swap_offered_previewed_and_accepted_shows_in_rota_show_and_the_feeds(path, rota):
    offer = make_offer(load(path), ADA, d("2027-01-25"), NOW, to=BOB.email, to_week=d("2027-02-01"), note="wedding")
    assert (offer.to, offer.to_week, offer.state) == ("bob@example.gov", d("2027-02-01"), "open")
    before = path.read_bytes()
    # Bob looks at it first: the coming weeks as they would become, nothing written yet.
    shown, edit = preview(load(path), offer.id, BOB, NOW)
    assert shown == offer and path.read_bytes() == before
    rows = {r.monday.isoformat(): r for r in edit.changed_rows}
    assert rows["2027-01-25"].before[0] == "Ada" and rows["2027-01-25"].after[0] == "Bob"
    assert rows["2027-02-01"].before[0] == "Bob" and rows["2027-02-01"].after[0] == "Ada"
    assert edit.diff[-1] == "+  - {week: 2027-01-25, member: ada@example.gov, with_week: 2027-02-01, with: bob@example.gov}" \
        or any("with_week" in line and line.startswith("+") for line in edit.diff)

    confirm(load(path), offer.id, BOB, NOW, previewed=edit.version)
    t = load(path)
    assert path.read_text().startswith("# edited by hand and by rota\n")  # the comment stays
    assert [(s.week, s.member, s.other_week, s.other) for s in t.roster.swaps] == \
        [(d("2027-01-25"), "ada@example.gov", d("2027-02-01"), "bob@example.gov")]
    assert [o.state for o in t.store.offers()] == ["accepted"] and open_offers(t, NOW) == []
    audit = t.store.read_audit()
    assert [(e["system"], e["action"], e["actor"]) for e in audit] == \
        [("trades", "offer", "ada@example.gov"), ("roster", "swap", "bob@example.gov")]
    assert audit[1]["detail"]["change"] == "Ada (week of 2027-01-25) and Bob (week of 2027-02-01) trade stints"

    code, out, _ = rota("show", "--roster", path, "--from", "2027-01-18", "--weeks", "4", "--format", "json")
    weeks = {w["start"]: w for w in json.loads(out)["weeks"]}
    assert code == 0
    assert (weeks["2027-01-25"]["incoming"], weeks["2027-02-01"]["incoming"]) == ("bob@example.gov", "ada@example.gov")
    assert weeks["2027-01-25"]["reason"] == "swap with Ada (week of 2027-02-01)"
    code, out, _ = rota("ics", "--roster", path, "--member", "bob@example.gov", "--from", "2027-01-18", "--weeks", "4")
    assert code == 0 and "DTSTART:20270125T140000Z" in out  # Bob's stint now begins on the 25th
    code, out, _ = rota("ics", "--roster", path, "--member", "ada@example.gov", "--from", "2027-01-18", "--weeks", "4")
    assert "DTSTART:20270125T140000Z" not in out and "DTSTART:20270201T140000Z" in out


def test_an_open_offer_is_taken_by_someone_free_and_the_rule_re_picks_fairly(path, rota):
    offer = make_offer(load(path), ADA, d("2027-01-25"), NOW)
    assert offer.to is None
    _, edit = preview(load(path), offer.id, BOB, NOW)
    assert edit.description == "Bob takes Ada's stint of the week of 2027-01-25"
    confirm(load(path), offer.id, BOB, NOW, previewed=edit.version)
    t = load(path)
    [handover] = t.roster.swaps
    assert (handover.member, handover.other, handover.one_way) == ("ada@example.gov", "bob@example.gov", True)
    assert holder(t, "2027-01-25") == "bob@example.gov"
    # Bob served the stint, so he no longer comes in on 02-01; Ada gave it away and has
    # waited longest: she comes in then instead.
    assert holder(t, "2027-02-01") == "ada@example.gov"
    code, out, _ = rota("show", "--roster", path, "--from", "2027-01-25", "--weeks", "1", "--format", "json")
    assert json.loads(out)["weeks"][0]["reason"] == "took over the stint from Ada"
    assert t.store.offers()[0].closed_by == "bob@example.gov" and t.store.offers()[0].state == "taken"
    assert t.store.read_audit()[-1]["actor"] == "bob@example.gov"


def test_taking_a_stint_that_would_keep_someone_on_four_weeks_running_is_refused_with_the_reason(path):
    offer = make_offer(load(path), ADA, d("2027-01-25"), NOW)
    # Cy's stint of 2027-01-11 ends as the one of 2027-01-25 begins, and others are free.
    with pytest.raises(TradeRefused) as refused:
        preview(load(path), offer.id, CY, NOW)
    assert refused.value.message == (
        "Handover of Ada's stint (week of 2027-01-25) to Cy ignored: Cy would be on support four weeks "
        "running (stints of the weeks of 2027-01-11 and 2027-01-25) while others are free")
    with pytest.raises(TradeRefused, match="four weeks running"):
        confirm(load(path), offer.id, CY, NOW)
    assert load(path).roster.swaps == () and open_offers(load(path), NOW)[0].id == offer.id


def test_an_open_offer_is_refused_to_someone_away_or_not_yet_a_member_with_the_reason(path):
    data = json.loads(path.read_text().split("\n", 1)[1])
    data["members"][2]["away"] = [away("2027-01-27", "2027-01-27", "training")]
    path.write_text(yaml_text(data))
    offer = make_offer(load(path), ADA, d("2027-01-25"), NOW)
    with pytest.raises(TradeRefused, match="Cy cannot serve the whole stint of the week of 2027-01-25: "
                                           r"away 2027-01-27 \(training\)"):
        preview(load(path), offer.id, CY, NOW)
    with pytest.raises(TradeRefused, match="Eve cannot serve the whole stint of the week of 2027-01-25: joins 2027-02-01"):
        confirm(load(path), offer.id, EVE, NOW)
    assert load(path).roster.swaps == () and open_offers(load(path), NOW)[0].id == offer.id


def test_an_offer_expires_when_its_stint_begins(path):
    offer = make_offer(load(path), ADA, d("2027-01-25"), NOW, to=BOB.email, to_week=d("2027-02-01"))
    begins = offer.expires
    assert begins == load(path).schedule().stint(3).start  # Monday 2027-01-25, 09:00 New York
    _, edit = preview(load(path), offer.id, BOB, begins - timedelta(minutes=1))
    with pytest.raises(OfferClosed, match="This offer expired: the stint of the week of 2027-01-25 has begun."):
        confirm(load(path), offer.id, BOB, begins, previewed=edit.version)
    assert open_offers(load(path), begins) == [] and load(path).roster.swaps == ()


def test_a_withdrawn_offer_cannot_be_taken_and_only_its_member_or_an_editor_withdraws(path):
    offer = make_offer(load(path), ADA, d("2027-01-25"), NOW)
    with pytest.raises(NotAllowed, match="Only the member who made an offer, or an editor, can withdraw it."):
        withdraw(load(path), offer.id, BOB, NOW)
    withdraw(load(path), offer.id, ADA, NOW)
    with pytest.raises(OfferClosed, match="This offer was already withdrawn by ada@example.gov."):
        confirm(load(path), offer.id, CY, NOW)
    second = make_offer(load(path), ADA, d("2027-01-25"), NOW)  # offered again
    withdraw(load(path), second.id, Person("ed@example.gov", "Ed Itor"), NOW, editor=True)
    assert [(o.state, o.closed_by) for o in load(path).store.offers()] == \
        [("withdrawn", "ada@example.gov"), ("withdrawn", "ed@example.gov")]
    assert [e["action"] for e in load(path).store.read_audit()] == ["offer", "withdraw", "offer", "withdraw"]
    assert load(path).roster.swaps == ()


def test_a_swap_is_declined_only_by_the_teammate_named(path):
    offer = make_offer(load(path), ADA, d("2027-01-25"), NOW, to=BOB.email, to_week=d("2027-02-01"))
    with pytest.raises(NotAllowed, match="Only Bob can accept this swap."):
        preview(load(path), offer.id, CY, NOW)
    with pytest.raises(NotAllowed):
        decline(load(path), offer.id, CY, NOW)
    assert decline(load(path), offer.id, BOB, NOW).state == "declined"
    with pytest.raises(OfferClosed, match="already declined by bob@example.gov"):
        confirm(load(path), offer.id, BOB, NOW)


def test_only_your_own_upcoming_stint_can_be_offered_and_once(path):
    with pytest.raises(NotAllowed, match=r"The stint of the week of 2027-01-25 is not yours to offer \(Ada holds it\)."):
        make_offer(load(path), BOB, d("2027-01-25"), NOW)
    with pytest.raises(TradeRefused, match="The stint of the week of 2027-01-11 has begun"):
        make_offer(load(path), CY, d("2027-01-11"), NOW)
    with pytest.raises(TradeRefused, match=r"Bob does not hold the stint of the week of 2027-02-08 \(Cy does\)."):
        make_offer(load(path), ADA, d("2027-01-25"), NOW, to=BOB.email, to_week=d("2027-02-08"))
    make_offer(load(path), ADA, d("2027-01-25"), NOW)
    with pytest.raises(OfferRefused, match="already on offer"):
        make_offer(load(path), ADA, d("2027-01-25"), NOW, to=BOB.email, to_week=d("2027-02-01"))


def test_a_swap_that_would_put_someone_on_twice_in_a_week_is_refused_before_it_is_offered(path):
    # Ada takes Di's stint of 01-18; then whoever now holds 01-25 offers it to Ada for her
    # next one: she would be on twice in the week of 01-25, next to the stint she took.
    first = make_offer(load(path), DI, d("2027-01-18"), NOW)
    confirm(load(path), first.id, ADA, NOW)
    t = load(path)
    assert holder(t, "2027-01-18") == "ada@example.gov"
    x = holder(t, "2027-01-25")
    s = t.schedule()
    hers = next(s.stint(k).monday for k in range(4, 20) if s.stint(k).member == ADA.email)
    with pytest.raises(TradeRefused) as refused:
        make_offer(t, Person(x, x), d("2027-01-25"), NOW, to=ADA.email, to_week=hers)
    assert refused.value.message == (
        f"Swap of {t.roster.name_of(x)} (week of 2027-01-25) and Ada (week of {hers.isoformat()}) ignored: Ada would "
        "be on support twice in the week of 2027-01-25: their stint of the week of 2027-01-18 comes from another swap")
    assert [o.state for o in load(path).store.offers()] == ["taken"]  # nothing more was offered


def test_a_trade_previewed_on_a_roster_that_then_changed_shows_the_new_preview(path):
    offer = make_offer(load(path), ADA, d("2027-01-25"), NOW)
    _, edit = preview(load(path), offer.id, BOB, NOW)
    path.write_text(path.read_text().replace("# edited by hand and by rota", "# edited again"))
    with pytest.raises(PreviewChanged) as changed:
        confirm(load(path), offer.id, BOB, NOW, previewed=edit.version)
    assert changed.value.edit.version != edit.version and load(path).roster.swaps == ()


# -- two people taking one offer at once ------------------------------------------------
def _race(open_team, offer_id, takers):
    barrier = threading.Barrier(len(takers))
    results = {}

    def take(person):
        t = open_team()
        barrier.wait()
        try:
            confirm(t, offer_id, person, NOW)
            results[person.email] = "won"
        except OfferClosed as e:
            results[person.email] = e.message

    threads = [threading.Thread(target=take, args=(p,)) for p in takers]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    return results


def _check_one_won(results, t: Team):
    assert sorted(results.values())[-1] == "won" and list(results.values()).count("won") == 1, results
    winner = next(e for e, r in results.items() if r == "won")
    loser = next(e for e, r in results.items() if r != "won")
    assert results[loser] == f"This offer was already taken by {winner}."
    [handover] = t.roster.swaps
    assert handover.other == winner
    assert [e["actor"] for e in t.store.read_audit() if e["system"] == "roster"] == [winner]


@pytest.mark.parametrize("attempt", range(3))
def test_two_people_taking_one_offer_at_once_on_the_folder_store_one_wins(path, attempt):
    offer = make_offer(load(path), ADA, d("2027-01-25"), NOW)
    results = _race(lambda: load(path), offer.id, [BOB, DI])
    _check_one_won(results, load(path))


def test_two_people_taking_one_offer_at_once_on_a_database_one_wins(path, database_url):
    from scheduler.store import dbengine, dbimport, migrations
    from scheduler.store.database import dispose_engines, open_database

    engine = dbengine.create_engine(database_url)
    migrations.upgrade(engine)
    engine.dispose()
    db = open_database(database_url, "team")
    dbimport.import_folder(FolderStore(path), db, "Platform experts", NOW)
    try:
        offer = make_offer(Team.load(db), ADA, d("2027-01-25"), NOW)
        results = _race(lambda: Team.load(open_database(database_url, "team")), offer.id, [BOB, DI])
        t = Team.load(db)
        _check_one_won(results, t)
        winner = t.roster.swaps[0].other
        assert db.history()[-1]["saved_by"] == winner  # the roster history names who took it
    finally:
        dispose_engines()
