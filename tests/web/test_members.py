"""Members signed in through the provider handle their own absences, from
today on, through the editors' own preview-then-save pages; someone else's,
or anything else, is a 403 with a sentence. The page shows them their next
stints and their own feed link. (webkit's roster: Ada, Bob, Cy and Di; today
is Tuesday 2027-01-12, in week 1 of Cy's stint.)"""

import html
import json
import logging
import re

import pytest
from dbkit import point_rota_at
from oidckit import PUBLIC_URL, sign_in
from webkit import csrf_of, version_of

from web import create_app


@pytest.fixture
def client(roster, clock, oidc_provider):
    app = create_app({"TESTING": True, "ROSTER": str(roster), "SECRET_KEY": "test-secret", "CLOCK": clock,
                      "PUBLIC_URL": PUBLIC_URL, "OIDC": oidc_provider.settings})
    return app.test_client()


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def send(client, step, kind, **fields):
    data = {"kind": kind, "csrf_token": csrf_of(client, "/"), "version": version_of(client), **fields}
    return client.post(f"/roster/{step}", data=data)


def audit(roster) -> list[dict]:
    log = roster.with_name("team.audit.jsonl")
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_a_member_adds_their_own_absence_previewed_then_saved_and_audited_with_their_email(client, roster):
    sign_in(client, "ada@example.gov")
    page = text(client.get("/roster/"))
    assert "<h1>My absences</h1>" in page and "Add an absence" in page
    assert "Someone covers for someone else" not in page and "Add a member" not in page  # the editors' forms
    assert re.findall(r'<option value="([^"]+)"', page) == ["ada@example.gov"]  # only themselves to choose
    preview = send(client, "preview", "add_absence", email="ada@example.gov", **{"from": "2027-01-25", "to": "2027-01-29"})
    assert preview.status_code == 200 and "Preview: Ada away 2027-01-25 to 2027-01-29" in text(preview)
    assert "2027-01-25" not in roster.read_text()  # previewing writes nothing
    result = re.search(r'name="result" value="([^"]+)"', text(preview)).group(1)
    saved = send(client, "save", "add_absence", email="ada@example.gov", result=result,
                 **{"from": "2027-01-25", "to": "2027-01-29"})
    assert saved.status_code == 302
    assert "Saved: Ada away 2027-01-25 to 2027-01-29." in text(client.get("/roster/"))
    assert "2027-01-25" in roster.read_text()
    entry = audit(roster)[-1]
    assert (entry["actor"], entry["action"], entry["detail"]["editor"]) == ("ada@example.gov", "add_absence", "Ada")
    # and takes it away again, the same way
    preview = send(client, "preview", "remove_absence", email="ada@example.gov", **{"from": "2027-01-25", "to": "2027-01-29"})
    result = re.search(r'name="result" value="([^"]+)"', text(preview)).group(1)
    send(client, "save", "remove_absence", email="ada@example.gov", result=result,
         **{"from": "2027-01-25", "to": "2027-01-29"})
    assert "2027-01-25" not in roster.read_text() and audit(roster)[-1]["actor"] == "ada@example.gov"


@pytest.mark.parametrize("step", ["preview", "save"])
def test_someone_elses_absence_is_a_logged_403_and_nothing_changes(client, roster, caplog, step):
    sign_in(client, "ada@example.gov")
    before = roster.read_bytes()
    with caplog.at_level(logging.WARNING):
        refused = send(client, step, "add_absence", email="bob@example.gov", **{"from": "2027-01-20", "to": "2027-01-21"})
    assert refused.status_code == 403
    assert "You may change only your own absences (ada@example.gov)" in text(refused)
    assert any(f"refused POST /roster/{step} for ada@example.gov" in r.getMessage() for r in caplog.records)
    assert roster.read_bytes() == before and audit(roster) == []


def test_a_member_may_not_make_the_editors_changes(client, roster):
    sign_in(client, "ada@example.gov")
    refused = send(client, "preview", "add_override", replace="ada@example.gov", **{"with": "bob@example.gov"},
                   **{"from": "2027-01-20", "to": "2027-01-21"})
    assert refused.status_code == 403 and "other changes to the roster are for its editors" in text(refused)


def test_a_member_adds_absences_from_today_on_and_leaves_begun_ones_to_the_editors(client, roster):
    sign_in(client, "di@example.gov")
    past = send(client, "preview", "add_absence", email="di@example.gov", **{"from": "2027-01-11", "to": "2027-01-13"})
    assert past.status_code == 400
    assert "You can add absences from today (2027-01-12) on: 2027-01-11 has passed." in text(past)
    today = send(client, "preview", "add_absence", email="di@example.gov", **{"from": "2027-01-12", "to": "2027-01-13"})
    assert today.status_code == 200
    # an absence an editor recorded that has begun: shown, but not the member's to remove
    roster.write_text(roster.read_text().replace('"email": "di@example.gov"',
                                                 '"email": "di@example.gov", "away": [{"from": "2027-01-11", "to": "2027-01-14"}]'))
    page = text(client.get("/roster/"))
    assert "2027-01-11 to 2027-01-14" in page and "Remove…" not in page
    begun = send(client, "preview", "remove_absence", email="di@example.gov", **{"from": "2027-01-11", "to": "2027-01-14"})
    assert begun.status_code == 400 and "This absence began on 2027-01-11, before today: ask an editor" in text(begun)


def test_a_stranger_may_change_nothing(client, roster):
    sign_in(client, "zed@example.gov")
    page = client.get("/roster/")
    assert page.status_code == 403 and "zed@example.gov is not a current member of the roster" in text(page)
    token = csrf_of(client, "/")
    refused = client.post("/roster/preview", data={"kind": "add_absence", "email": "zed@example.gov",
                                                   "from": "2027-01-20", "to": "2027-01-21", "csrf_token": token})
    assert refused.status_code == 403
    index = text(client.get("/"))
    assert "/feeds/" not in index and "My next stints" not in index


def test_a_member_sees_their_next_stints_first_and_only_their_own_feed_link(client):
    sign_in(client, "ada@example.gov")
    page = text(client.get("/"))
    mine = page[page.index('<h2 id="mine">'):page.index('<h2 id="now">')]
    stints = re.findall(r"<li>From (.*?)</li>", mine, re.S)
    # `rota show`: Ada comes in on 2027-01-25 (Di continuing, Bob next) and again four weeks later
    assert stints[0].startswith("Mon 25 Jan 2027 09:00 EST to Mon 8 Feb 2027 09:00 EST: with Di the first week")
    assert "Bob the second" in stints[0]
    assert stints[1].startswith("Mon 22 Feb 2027")
    feeds = re.findall(r'href="(https?://[^"]*/feeds/[^"]+)"', page)
    assert any("/feeds/team/" in f for f in feeds)
    assert {f.split("/feeds/member/")[1].split("/")[0] for f in feeds if "/feeds/member/" in f} == {"ada@example.gov"}


def test_with_the_database_the_history_names_the_member_who_saved(database_url, rota, roster, clock, oidc_provider,
                                                                  monkeypatch):
    from scheduler.store.database import dispose_engines

    point_rota_at(database_url, monkeypatch)
    assert rota("import", "--roster", roster)[0] == 0
    try:
        client = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "CLOCK": clock, "PUBLIC_URL": PUBLIC_URL,
                             "OIDC": oidc_provider.settings}).test_client()
        sign_in(client, "bob@example.gov")
        preview = send(client, "preview", "add_absence", email="bob@example.gov", **{"from": "2027-02-01", "to": "2027-02-02"})
        result = re.search(r'name="result" value="([^"]+)"', text(preview)).group(1)
        assert send(client, "save", "add_absence", email="bob@example.gov", result=result,
                    **{"from": "2027-02-01", "to": "2027-02-02"}).status_code == 302
        code, out, _ = rota("history")
        assert code == 0 and out.splitlines()[-1].split()[4:] == ["bob@example.gov", "Bob", "away", "2027-02-01", "to",
                                                                 "2027-02-02"]
    finally:
        dispose_engines()
