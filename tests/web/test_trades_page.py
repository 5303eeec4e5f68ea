"""Trades on the page, with people signed in through a real OpenID Provider
(oidc-provider under node, see oidckit): a swap offered, previewed and
accepted; an open offer taken; refusals with their sentence; offers that
expire or are withdrawn; Slack told once each, against the fake webhook."""

from __future__ import annotations

import html
import json
import re

import pendulum
import pytest
from fakes.slack import FakeSlack
from oidckit import PUBLIC_URL, sign_in
from webkit import PASSWORD, csrf_of
from webkit import sign_in as password_sign_in

from scheduler.settings import Settings
from scheduler.store.folder import FolderStore
from web import create_app

# The webkit roster: Ada, Bob, Cy, Di; on 2027-01-12 Cy is in week 1 and Bob in week 2.
# Coming stints: Di 01-18, Ada 01-25, Bob 02-01, Cy 02-08.


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def make_app(roster, clock, oidc_provider):
    def make(**env):
        settings = Settings.from_env({"ROTA_ROSTER": str(roster), **env})
        return create_app({"TESTING": True, "ROSTER": str(roster), "SECRET_KEY": "test-secret", "CLOCK": clock,
                           "PUBLIC_URL": PUBLIC_URL, "OIDC": oidc_provider.settings}, settings=settings)
    return make


@pytest.fixture
def app(make_app):
    return make_app()


def person(app, email):
    """A browser of `email`'s, signed in through the provider."""
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def post(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_of(client, "/trades/"), **fields})


def offer_ids(client) -> list[str]:
    found = re.findall(r'/trades/([0-9a-f]{16})/', client.get("/trades/").get_data(as_text=True))
    return list(dict.fromkeys(found))  # each once, in the page's order


def swaps_of(roster):
    return FolderStore(roster).read_roster().decode()


def test_a_swap_is_offered_previewed_and_accepted_and_shows_in_rota_show_and_the_feeds(app, roster, rota):
    ada, bob = person(app, "ada@example.gov"), person(app, "bob@example.gov")
    mine = text(ada.get("/trades/"))
    assert "Your upcoming stints" in mine and "Week of 2027-01-25" in mine
    answer = post(ada, "/trades/offer", week="2027-01-25", **{"for": "bob@example.gov|2027-02-01"}, note="wedding")
    assert answer.status_code == 302
    assert "Offered your stint of the week of 2027-01-25 to Bob." in text(ada.get("/trades/"))
    [offer_id] = offer_ids(bob)
    page = text(bob.get("/trades/"))
    assert "Swaps offered to you" in page and "Ada's stint of the week of 2027-01-25 for Bob's of the week of 2027-02-01" in page
    before = roster.read_bytes()
    preview = bob.get(f"/trades/{offer_id}/preview")
    shown = text(preview)
    assert preview.status_code == 200
    assert "Preview: Ada (week of 2027-01-25) and Bob (week of 2027-02-01) trade stints" in shown
    assert "This changes" in shown and "with_week: 2027-02-01" in shown  # the weeks and the file's lines
    assert roster.read_bytes() == before  # nothing changes until Bob confirms
    result = re.search(r'name="result" value="([^"]+)"', shown).group(1)
    answer = post(bob, f"/trades/{offer_id}/confirm", result=result)
    assert answer.status_code == 302
    assert "Swap accepted: you now have the stint of the week of 2027-01-25." in text(bob.get("/trades/"))
    assert "swaps: [{week: 2027-01-25, member: ada@example.gov, with_week: 2027-02-01, with: bob@example.gov}]" in \
        swaps_of(roster)
    audit = FolderStore(roster).read_audit()
    assert (audit[-1]["actor"], audit[-1]["action"], audit[-1]["detail"]["editor"]) == ("bob@example.gov", "swap", "Bob")
    code, out, _ = rota("show", "--roster", roster, "--from", "2027-01-25", "--weeks", "2", "--format", "json")
    weeks = json.loads(out)["weeks"]
    assert code == 0 and [w["incoming"] for w in weeks] == ["bob@example.gov", "ada@example.gov"]
    code, out, _ = rota("ics", "--roster", roster, "--member", "bob@example.gov", "--from", "2027-01-25", "--weeks", "1")
    assert "DTSTART:20270125T140000Z" in out


def test_an_open_offer_is_taken_by_a_member_free_for_it(app, roster):
    ada, bob = person(app, "ada@example.gov"), person(app, "bob@example.gov")
    assert post(ada, "/trades/offer", week="2027-01-25", **{"for": "anyone"}).status_code == 302
    [offer_id] = offer_ids(bob)
    assert "Preview and take" in text(bob.get("/trades/"))
    shown = text(bob.get(f"/trades/{offer_id}/preview"))
    assert "Preview: Bob takes Ada's stint of the week of 2027-01-25" in shown
    result = re.search(r'name="result" value="([^"]+)"', shown).group(1)
    assert post(bob, f"/trades/{offer_id}/confirm", result=result).status_code == 302
    assert "swaps: [{week: 2027-01-25, member: ada@example.gov, with: bob@example.gov}]" in swaps_of(roster)
    assert FolderStore(roster).offers()[0].closed_by == "bob@example.gov"


def test_a_trade_breaking_the_rules_is_refused_with_the_reason(app, roster):
    ada, cy = person(app, "ada@example.gov"), person(app, "cy@example.gov")
    post(ada, "/trades/offer", week="2027-01-25", **{"for": "anyone"})
    [offer_id] = offer_ids(cy)
    refused = cy.get(f"/trades/{offer_id}/preview")
    assert refused.status_code == 409
    assert ("Handover of Ada's stint (week of 2027-01-25) to Cy ignored: Cy would be on support four weeks running "
            "(stints of the weeks of 2027-01-11 and 2027-01-25) while others are free") in text(refused)
    refused = post(cy, f"/trades/{offer_id}/confirm")
    assert refused.status_code == 409 and "four weeks running" in text(refused)
    assert "swaps:" not in swaps_of(roster)


def test_what_a_person_may_not_do_is_a_403_with_a_sentence(app, roster):
    ada, cy, zed = person(app, "ada@example.gov"), person(app, "cy@example.gov"), person(app, "zed@example.gov")
    post(ada, "/trades/offer", week="2027-01-25", **{"for": "bob@example.gov|2027-02-01"})
    [offer_id] = offer_ids(ada)
    refused = cy.get(f"/trades/{offer_id}/preview")
    assert refused.status_code == 403 and "Only Bob can accept this swap." in text(refused)
    refused = post(cy, f"/trades/{offer_id}/decline")
    assert refused.status_code == 403 and "Only the teammate a swap is offered to can decline it." in text(refused)
    refused = post(cy, f"/trades/{offer_id}/withdraw")
    assert refused.status_code == 403 and "Only the member who made an offer, or an editor, can withdraw it." in text(refused)
    refused = post(cy, "/trades/offer", week="2027-02-01", **{"for": "anyone"})  # Bob's stint, not Cy's
    assert refused.status_code == 403 and "The stint of the week of 2027-02-01 is not yours to offer (Bob holds it)." in text(refused)
    stranger = zed.get("/trades/")
    assert stranger.status_code == 403 and "zed@example.gov is not a current member of the roster" in text(stranger)
    nobody = app.test_client().get("/trades/")
    assert nobody.status_code == 302 and "/signin" in nobody.headers["Location"]
    assert [o.state for o in FolderStore(roster).offers()] == ["open"]


def test_an_offer_expires_when_its_stint_begins(app, roster, clock):
    ada, bob = person(app, "ada@example.gov"), person(app, "bob@example.gov")
    post(ada, "/trades/offer", week="2027-01-25", **{"for": "anyone"})
    [offer_id] = offer_ids(bob)
    clock.at = pendulum.parse("2027-01-25T14:00:00Z")  # 09:00 in New York: the stint begins
    bob = person(app, "bob@example.gov")  # a new session: the old one ended after a day idle
    assert "Ada's stint of the week of 2027-01-25" not in text(bob.get("/trades/"))
    gone = bob.get(f"/trades/{offer_id}/preview")
    assert gone.status_code == 409
    assert "This offer expired: the stint of the week of 2027-01-25 has begun." in text(gone)


def test_a_withdrawn_offer_is_gone_and_editors_see_and_withdraw_everyones(app, roster):
    ada, bob = person(app, "ada@example.gov"), person(app, "bob@example.gov")
    post(ada, "/trades/offer", week="2027-01-25", **{"for": "anyone"})
    [first] = offer_ids(ada)
    assert post(ada, f"/trades/{first}/withdraw").status_code == 302
    gone = bob.get(f"/trades/{first}/preview")
    assert gone.status_code == 409 and "This offer was already withdrawn by ada@example.gov." in text(gone)
    post(ada, "/trades/offer", week="2027-01-25", **{"for": "anyone"})
    ed = app.test_client()
    password_sign_in(ed, "ed@example.gov", PASSWORD)
    page = text(ed.get("/trades/"))
    assert "Everyone's open offers" in page and "Ada's stint of the week of 2027-01-25, to anyone" in page
    [second] = offer_ids(ed)
    assert post(ed, f"/trades/{second}/withdraw").status_code == 302
    assert [(o.state, o.closed_by) for o in FolderStore(roster).offers()] == \
        [("withdrawn", "ada@example.gov"), ("withdrawn", "ed@example.gov")]


def test_slack_hears_of_an_offer_and_its_outcome_once_each(make_app, roster):
    with FakeSlack() as slack:
        app = make_app(SLACK_WEBHOOK_URL=slack.url)
        ada, bob = person(app, "ada@example.gov"), person(app, "bob@example.gov")
        post(ada, "/trades/offer", week="2027-01-25", **{"for": "bob@example.gov|2027-02-01"})
        [offer_id] = offer_ids(bob)
        assert post(bob, f"/trades/{offer_id}/decline").status_code == 302
        assert post(bob, f"/trades/{offer_id}/decline").status_code == 409  # once only
        assert [m["text"] for m in slack.messages] == [
            "Ada offers Bob a swap: Ada's stint of the week of 2027-01-25 for Bob's of the week of 2027-02-01. "
            f"<{PUBLIC_URL}/trades/|Trades on the rota page>",
            "Bob declined Ada's swap of the week of 2027-01-25.",
        ]
