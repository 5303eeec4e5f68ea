"""Slack hears about each trade offer once and about its outcome once, over
real HTTP against the fake webhook, however many processes handle it."""

from __future__ import annotations

import threading
from datetime import date, datetime, timezone

from fakes.slack import FakeSlack
from rosterkit import team, yaml_text

from scheduler.roster.trades import Person, confirm, make_offer, withdraw
from scheduler.store.folder import FolderStore
from scheduler.sync.retry import Patience
from scheduler.sync.tradeposts import announce
from scheduler.team import Team

NOW = datetime(2027, 1, 12, 15, 0, tzinfo=timezone.utc)
ADA, BOB = Person("ada@example.gov", "Ada"), Person("bob@example.gov", "Bob")
PAGE = "https://rota.agency.gov/trades/"


def _team(roster_dir) -> Team:
    path = roster_dir / "team.yaml"
    if not path.exists():
        path.write_text(yaml_text(team("Ada", "Bob", "Cy", "Di <dev>")))
    return Team.load(FolderStore(path))


def test_an_offer_and_its_outcome_are_posted_once_each_even_from_two_processes_at_once(roster_dir):
    with FakeSlack() as slack:
        offer = make_offer(_team(roster_dir), ADA, date(2027, 1, 25), NOW)
        barrier = threading.Barrier(2)
        answers = []

        def post():
            t = _team(roster_dir)  # each as another instance would: its own reading of the store
            barrier.wait()
            answers.append(announce(t.store, t.roster, offer, "offer", slack.url, NOW, page=PAGE))

        threads = [threading.Thread(target=post) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        assert answers == [None, None]
        assert [m["text"] for m in slack.messages] == [
            "Ada's stint of the week of 2027-01-25 is on offer: anyone free for all of it can take it. "
            "<https://rota.agency.gov/trades/|Trades on the rota page>"]
        t = _team(roster_dir)
        confirm(t, offer.id, BOB, NOW)
        [taken] = _team(roster_dir).store.offers()
        for _ in range(2):
            assert announce(t.store, t.roster, taken, "outcome", slack.url, NOW) is None
        assert [m["text"] for m in slack.messages][1:] == ["Bob took Ada's stint of the week of 2027-01-25."]
        assert len(slack.requests) == 2


def test_a_swap_offer_names_both_stints_and_names_are_escaped(roster_dir):
    with FakeSlack() as slack:
        t = _team(roster_dir)
        di = Person("di@example.gov", "Di <dev>")
        offer = make_offer(t, di, date(2027, 1, 18), NOW, to=ADA.email, to_week=date(2027, 1, 25), note="R&R")
        announce(t.store, t.roster, offer, "offer", slack.url, NOW)
        closed = withdraw(_team(roster_dir), offer.id, di, NOW)
        announce(t.store, t.roster, closed, "outcome", slack.url, NOW)
        assert [m["text"] for m in slack.messages] == [
            "Di &lt;dev&gt; offers Ada a swap: Di &lt;dev&gt;'s stint of the week of 2027-01-18 for Ada's of the week "
            "of 2027-01-25. (R&amp;R)",
            "Di &lt;dev&gt;'s offer of the stint of the week of 2027-01-18 was withdrawn by Di &lt;dev&gt;.",
        ]


def test_a_post_slack_refuses_is_reported_and_not_sent_again(roster_dir):
    with FakeSlack() as slack:
        t = _team(roster_dir)
        offer = make_offer(t, ADA, date(2027, 1, 25), NOW)
        slack.disable()
        why = announce(t.store, t.roster, offer, "offer", slack.url, NOW, patience=Patience(sleep=lambda s: None))
        assert why.startswith("Slack refused the message: 404 no_service") and why.endswith("will not be posted again")
        assert announce(t.store, t.roster, offer, "offer", slack.url, NOW) is None
        assert len(slack.requests) == 1 and slack.messages == []


def test_without_a_webhook_nothing_is_claimed(roster_dir):
    t = _team(roster_dir)
    offer = make_offer(t, ADA, date(2027, 1, 25), NOW)
    assert announce(t.store, t.roster, offer, "offer", None, NOW) is None
    assert t.store.claim_offer_post(offer.id, "offer", NOW) is True  # still unclaimed until a post goes out
