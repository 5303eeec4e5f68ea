"""The fake Zendesk behaves like the documented API, as zenpy 2.0.57 sees it.

Driven through zenpy itself, and through raw ``requests`` where zenpy hides
the detail (status codes, headers, paging keys).  No test goes through zenpy
with Retry-After > 0: zenpy would really sleep for it.
"""

import threading

import pytest
import requests
from zenpy import Zenpy
from zenpy.lib.api import BaseApi
from zenpy.lib.api_objects import GroupMembership
from zenpy.lib.exception import APIException, RecordNotFoundException

from fakes.zendesk import FakeZendesk, Seen

EMAIL, TOKEN = "rota-bot@example.gov", "test-token"
AUTH = (f"{EMAIL}/token", TOKEN)


def plain_http(obj, seen=None):
    """Point every BaseApi of a Zenpy client at http, nested ones included:
    ``z.users.search`` and ``z.users.identities`` are not attributes of ``z``."""
    seen = set() if seen is None else seen
    for value in vars(obj).values():
        if isinstance(value, BaseApi) and id(value) not in seen:
            seen.add(id(value))
            value.protocol = "http"
            plain_http(value, seen)


def make_zenpy(fake, session, **auth):
    auth = auth or {"email": EMAIL, "token": TOKEN}
    z = Zenpy(subdomain="127", domain=f"0.0.1:{fake.port}", session=session,
              disable_cache=True, **auth)
    plain_http(z)
    return z


@pytest.fixture
def fake():
    with FakeZendesk() as server:
        yield server


@pytest.fixture
def http():
    with requests.Session() as session:
        session.auth = AUTH
        yield session


@pytest.fixture
def zen(fake):
    with requests.Session() as session:
        yield make_zenpy(fake, session)


@pytest.fixture
def team(fake):
    """A group with two agent members, plus an end-user and an admin outside it."""
    group = fake.add_group("Support")
    ada, bob = fake.add_user("Ada", "ada@example.gov"), fake.add_user("Bob", "bob@example.gov")
    fake.add_membership(ada, group)
    fake.add_membership(bob, group)
    cleo = fake.add_user("Cleo", "cleo@example.gov", role="end-user")
    dan = fake.add_user("Dan", "dan@example.gov", role="admin")
    return {"group": group, "ada": ada, "bob": bob, "cleo": cleo, "dan": dan}


def seed_members(fake, n):
    group = fake.add_group("Big")
    for i in range(n):
        fake.add_membership(fake.add_user(f"Agent {i}", f"agent{i}@example.gov"), group)
    return group


# ---- paging -----------------------------------------------------------------

def test_zenpy_lists_250_memberships_over_three_cursor_pages(fake, zen):
    group = seed_members(fake, 250)
    memberships = list(zen.groups.memberships(group))
    assert len({m.id for m in memberships}) == 250
    assert {m.user_id for m in memberships} == fake.member_ids(group)
    assert {m.group_id for m in memberships} == {group}
    pages = [seen.query for seen in fake.requests]
    assert len(pages) == 3
    assert pages[0]["page[size]"] == "100" and "page[after]" not in pages[0]
    assert all("page[after]" in page for page in pages[1:])


def test_cursor_page_shape_and_absolute_links(fake, http):
    group = seed_members(fake, 250)
    first = http.get(f"{fake.url}/api/v2/groups/{group}/memberships.json?page[size]=100").json()
    assert set(first) == {"group_memberships", "meta", "links"}
    assert first["meta"]["has_more"] is True and first["links"]["prev"] is None
    assert first["links"]["next"].startswith(f"{fake.url}/api/v2/groups/{group}/memberships.json?")
    membership = first["group_memberships"][0]
    assert set(membership) == {"id", "url", "user_id", "group_id", "default",
                               "created_at", "updated_at"}
    assert membership["url"] == f"{fake.url}/api/v2/group_memberships/{membership['id']}.json"
    second = http.get(first["links"]["next"]).json()
    assert second["meta"]["before_cursor"] and second["links"]["prev"]
    back = http.get(second["links"]["prev"]).json()
    assert back["group_memberships"] == first["group_memberships"]


def test_exactly_full_last_page_says_no_more(fake, zen):
    group = seed_members(fake, 200)
    assert len(list(zen.groups.memberships(group))) == 200
    assert len(fake.requests) == 2  # no trailing empty page is fetched


def test_offset_paging_without_page_size(fake, http):
    group = seed_members(fake, 150)
    first = http.get(f"{fake.url}/api/v2/groups/{group}/memberships").json()
    assert len(first["group_memberships"]) == 100 and first["count"] == 150
    assert first["previous_page"] is None and "meta" not in first
    assert first["next_page"].startswith(f"{fake.url}/api/v2/groups/{group}/memberships.json?")
    second = http.get(first["next_page"]).json()
    assert len(second["group_memberships"]) == 50 and second["next_page"] is None
    assert second["previous_page"].startswith(fake.url)
    small = http.get(f"{fake.url}/api/v2/groups/{group}/memberships.json",
                     params={"per_page": 40, "page": 4}).json()
    assert len(small["group_memberships"]) == 30 and small["next_page"] is None


@pytest.mark.parametrize("params", [{"page[size]": 101}, {"page[size]": 0},
                                    {"page[size]": 10, "page[after]": "not-a-cursor"},
                                    {"page": "two"}])
def test_bad_paging_parameters_are_a_400(fake, http, team, params):
    response = http.get(f"{fake.url}/api/v2/groups/{team['group']}/memberships.json",
                        params=params)
    assert response.status_code == 400 and "error" in response.json()


def test_groups_list_and_show(fake, zen, team):
    second = fake.add_group("Escalations")
    assert [g.name for g in zen.groups()] == ["Support", "Escalations"]
    assert zen.groups(id=second).name == "Escalations"
    with pytest.raises(RecordNotFoundException) as raised:
        list(zen.groups.memberships(9999))
    assert raised.value.response.status_code == 404
    assert raised.value.response.json() == {"error": "RecordNotFound", "description": "Not found"}


def test_sideloading_users(fake, http, zen, team):
    body = http.get(f"{fake.url}/api/v2/groups/{team['group']}/memberships.json",
                    params={"include": "users"}).json()
    assert [u["email"] for u in body["users"]] == ["ada@example.gov", "bob@example.gov"]
    # zenpy quirk: with a sideload it yields the sideloaded Users, not the memberships.
    assert {type(x).__name__ for x in zen.groups.memberships(team["group"], include="users")} \
        == {"User"}


# ---- users ------------------------------------------------------------------

def test_user_search_is_loose(fake, zen, http):
    ada = fake.add_user("Ada", "ada@example.gov")
    decoy = fake.add_user("Ada UK", "Ada@Example.gov.uk")
    fake.add_user("Bob", "bob@example.gov")
    found = list(zen.users.search(query="email:ada@example.gov"))
    assert [u.id for u in found] == [ada, decoy]  # the caller must compare exactly
    raw = http.get(f"{fake.url}/api/v2/users/search", params={"query": "email:ada@example.gov"})
    assert set(raw.json()) == {"users", "next_page", "previous_page", "count"}


def test_show_many_omits_unknown_ids(fake, zen, team):
    users = list(zen.users(ids=[team["ada"], 424242, team["dan"]]))
    assert [(u.id, u.role) for u in users] == [(team["ada"], "agent"), (team["dan"], "admin")]
    assert zen.users(id=team["cleo"]).role == "end-user"
    with pytest.raises(RecordNotFoundException):
        zen.users(id=424242)


# ---- writes -----------------------------------------------------------------

def test_create_membership(fake, zen, team):
    created = zen.group_memberships.create(GroupMembership(user_id=team["dan"],
                                                           group_id=team["group"]))
    assert isinstance(created, GroupMembership) and created.id == 5003
    assert created.user_id == team["dan"] and created.default is False
    assert fake.requests[-1].status == 201
    assert fake.requests[-1].body == {"group_membership": {"user_id": team["dan"],
                                                           "group_id": team["group"]}}
    assert fake.member_ids(team["group"]) == {team["ada"], team["bob"], team["dan"]}


@pytest.mark.parametrize("who, description, error", [
    ("cleo", "User is not an agent", "InvalidValue"),
    ("ada", "User is already a member of this group", "DuplicateValue"),
])
def test_create_membership_is_rejected_with_422(fake, zen, team, who, description, error):
    before = dict(fake.memberships)
    with pytest.raises(APIException) as raised:
        zen.group_memberships.create(GroupMembership(user_id=team[who], group_id=team["group"]))
    assert raised.value.response.status_code == 422
    assert raised.value.response.json() == {
        "error": "RecordInvalid", "description": "Record validation errors",
        "details": {"user_id": [{"description": description, "error": error}]}}
    assert fake.memberships == before


@pytest.mark.parametrize("user, group", [(424242, "group"), ("dan", 424242)])
def test_create_membership_for_unknown_ids_is_404(fake, zen, team, user, group):
    with pytest.raises(RecordNotFoundException) as raised:
        zen.group_memberships.create(GroupMembership(user_id=team.get(user, user),
                                                     group_id=team.get(group, group)))
    assert raised.value.response.status_code == 404


def test_malformed_create_body_is_400(fake, http, team):
    for body in ("not json", '{"user_id": 1}'):
        response = http.post(f"{fake.url}/api/v2/group_memberships.json", data=body,
                             headers={"Content-Type": "application/json"})
        assert response.status_code == 400
    assert fake.member_ids(team["group"]) == {team["ada"], team["bob"]}


def test_delete_is_204_then_404(fake, zen, team):
    mid = next(k for k, m in fake.memberships.items() if m["user_id"] == team["bob"])
    response = zen.group_memberships.delete(GroupMembership(id=mid))
    assert response.status_code == 204 and response.content == b""
    assert "Content-Type" not in response.headers
    assert fake.member_ids(team["group"]) == {team["ada"]}
    with pytest.raises(RecordNotFoundException) as raised:
        zen.group_memberships.delete(GroupMembership(id=mid))
    assert raised.value.response.status_code == 404
    assert [(w.method, w.status) for w in fake.writes()] == [("DELETE", 204), ("DELETE", 404)]


def test_show_membership_and_paths_without_json_suffix(fake, http, team):
    mid = min(fake.memberships)
    for suffix in ("", ".json"):
        shown = http.get(f"{fake.url}/api/v2/group_memberships/{mid}{suffix}")
        assert shown.json()["group_membership"]["user_id"] == team["ada"]
        assert http.get(f"{fake.url}/api/v2/users/{team['ada']}{suffix}").ok
        assert http.get(f"{fake.url}/api/v2/groups{suffix}").ok
    assert http.get(f"{fake.url}/api/v2/tickets.json").status_code == 404


# ---- auth -------------------------------------------------------------------

@pytest.mark.parametrize("auth", [None, (f"{EMAIL}/token", "wrong"), (EMAIL, TOKEN)])
def test_bad_auth_is_401(fake, team, auth):
    response = requests.get(f"{fake.url}/api/v2/groups.json", auth=auth)
    assert response.status_code == 401
    assert response.json() == {"error": "Couldn't authenticate you"}


def test_oauth_bearer_token():
    with FakeZendesk(oauth_token="oauth-secret") as fake, requests.Session() as session:
        fake.add_group("Support")
        zen = make_zenpy(fake, session, oauth_token="oauth-secret")
        assert [g.name for g in zen.groups()] == ["Support"]
        wrong = requests.get(f"{fake.url}/api/v2/groups.json",
                             headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401


# ---- faults -----------------------------------------------------------------

def test_fail_next_429_carries_retry_after_and_leaves_state(fake, http, team):
    fake.fail_next(429, method="POST", retry_after=7)
    payload = {"group_membership": {"user_id": team["dan"], "group_id": team["group"]}}
    url = f"{fake.url}/api/v2/group_memberships.json"
    limited = http.post(url, json=payload)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json() == {"error": "APIRateLimitExceeded", "description": "Rate limit exceeded"}
    assert team["dan"] not in fake.member_ids(team["group"])
    assert http.post(url, json=payload).status_code == 201  # the rule is used up


def test_injected_errors_reach_zenpy_without_sleeping(fake, zen, team):
    fake.fail_next(429)  # no Retry-After, so zenpy raises instead of sleeping
    fake.fail_next(503, path_contains="/memberships")
    with pytest.raises(APIException) as raised:
        list(zen.groups())
    assert raised.value.response.status_code == 429
    assert zen.groups(id=team["group"]).name == "Support"  # path does not match the 503
    with pytest.raises(APIException) as raised:
        list(zen.groups.memberships(team["group"]))
    assert raised.value.response.json() == {"error": "ServerError"}
    assert [s.status for s in fake.requests] == [429, 200, 503]


def test_faults_match_in_injection_order_and_are_used_up(fake, http, team):
    fake.fail_next(500, count=2, path_contains="page[after]")
    fake.fail_next(502)
    url = f"{fake.url}/api/v2/groups.json"
    assert http.get(url).status_code == 502
    assert http.get(url, params={"page[size]": 1, "page[after]": "x"}).status_code == 500
    assert http.get(url, params={"page[size]": 1, "page[after]": "x"}).status_code == 500
    assert http.get(url).status_code == 200


def test_drop_next_gives_a_connection_error(fake, http, team):
    fake.drop_next(method="POST")
    payload = {"group_membership": {"user_id": team["dan"], "group_id": team["group"]}}
    with pytest.raises(requests.ConnectionError):
        http.post(f"{fake.url}/api/v2/group_memberships.json", json=payload)
    assert team["dan"] not in fake.member_ids(team["group"])
    assert fake.requests[-1] == Seen("POST", "/api/v2/group_memberships.json", {}, payload, 0)
    assert http.get(f"{fake.url}/api/v2/groups.json").ok


def test_fail_after_write_applies_the_write_but_loses_the_answer(fake, zen, team):
    fake.fail_after_write(method="POST")
    attempt = GroupMembership(user_id=team["dan"], group_id=team["group"])
    with pytest.raises(requests.ConnectionError):
        zen.group_memberships.create(attempt)
    assert team["dan"] in fake.member_ids(team["group"])
    assert fake.writes()[-1].status == 0
    with pytest.raises(APIException) as raised:  # a blind retry now meets the duplicate
        zen.group_memberships.create(GroupMembership(user_id=team["dan"], group_id=team["group"]))
    assert raised.value.response.status_code == 422


def test_forbid_writes_records_a_violation(fake, zen, team):
    fake.forbid_writes()
    with pytest.raises(APIException) as raised:
        zen.group_memberships.create(GroupMembership(user_id=team["dan"], group_id=team["group"]))
    assert raised.value.response.status_code == 500
    assert len(fake.violations) == 1 and "POST /api/v2/group_memberships" in fake.violations[0]
    assert fake.member_ids(team["group"]) == {team["ada"], team["bob"]}
    assert len(list(zen.groups.memberships(team["group"]))) == 2  # reads still work


def test_fault_method_filter_ignores_case(fake, http, team):
    fake.fail_next(503, method="delete")
    assert http.get(f"{fake.url}/api/v2/groups.json").ok
    mid = min(fake.memberships)
    assert http.delete(f"{fake.url}/api/v2/group_memberships/{mid}.json").status_code == 503
    assert mid in fake.memberships


# ---- lifecycle, headers and log -----------------------------------------------

def test_stop_hangs_up_idle_keep_alive_connections():
    with requests.Session() as session:
        fake = FakeZendesk().start()
        assert fake.url == f"http://127.0.0.1:{fake.port}" and fake.port > 0
        assert session.get(f"{fake.url}/api/v2/groups.json", auth=AUTH).ok  # pooled, kept alive
        fake.stop()
        assert not [t for t in threading.enumerate() if "process_request" in t.name]
        with pytest.raises(requests.ConnectionError):
            session.get(f"{fake.url}/api/v2/groups.json", auth=AUTH)
        fake.stop()  # a second stop is harmless


def test_rate_limit_headers_count_down_and_stop_at_zero(fake, http, team):
    url = f"{fake.url}/api/v2/groups.json"
    answers = [http.get(url) for _ in range(3)]
    assert all(a.headers["X-Rate-Limit"] == "700" for a in answers)
    assert all(a.headers["Content-Type"] == "application/json; charset=utf-8" for a in answers)
    left = [int(a.headers["X-Rate-Limit-Remaining"]) for a in answers]
    assert left == [left[0], left[0] - 1, left[0] - 2]
    fake.rate_limit_remaining = 1
    assert [http.get(url).headers["X-Rate-Limit-Remaining"] for _ in range(2)] == ["0", "0"]


def test_log_records_every_request_and_clears(fake, http, zen, team):
    list(zen.groups.memberships(team["group"]))
    mid = min(fake.memberships)
    zen.group_memberships.delete(GroupMembership(id=mid))
    assert [s.method for s in fake.requests] == ["GET", "DELETE"]
    # zenpy sends the literal string "None" when no include was asked for
    assert fake.requests[0].query == {"page[size]": "100", "include": "None"}
    assert fake.writes() == [Seen("DELETE", f"/api/v2/group_memberships/{mid}.json", {},
                                  {"group_membership": {"id": mid}}, 204)]
    fake.clear_log()
    assert fake.requests == [] and fake.writes() == []
