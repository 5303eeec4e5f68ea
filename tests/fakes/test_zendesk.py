"""The fake Zendesk behaves like the documented API, as zenpy 2.0.57 sees it.

Driven through zenpy itself, and through raw ``requests`` where zenpy hides
the detail (status codes, headers, paging keys).  No test goes through zenpy
with Retry-After > 0: zenpy would really sleep for it.
"""

import threading
from datetime import UTC, date, datetime, timedelta

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


# ---- tickets and search -------------------------------------------------------

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
LIMIT_BODY = {"error": "invalid", "description": "Search response limit exceeded"}


def stamp(minutes):
    """A fixed instant plus ``minutes``, in Zendesk's form: times without a clock read."""
    when = datetime(2027, 1, 4, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def desk(fake):
    """Support holds one ticket per status, a minute apart in status order, the
    open one assigned to Ada; Tier 1 has a new and an open ticket, Billing an open one."""
    ids = {"ada": fake.add_user("Ada", "ada@example.gov")}
    for name in ("Support", "Tier 1", "Billing"):
        ids[name] = fake.add_group(name)
    for i, status in enumerate(STATUSES):
        ids[f"Support {status}"] = fake.add_ticket(
            f"Support {status}", status=status, group_id=ids["Support"], created_at=stamp(i),
            assignee_id=ids["ada"] if status == "open" else None)
    for i, (group, status) in enumerate([("Tier 1", "new"), ("Tier 1", "open"),
                                         ("Billing", "open")]):
        ids[f"{group} {status}"] = fake.add_ticket(f"{group} {status}", status=status,
                                                   group_id=ids[group], created_at=stamp(10 + i))
    return ids


def subjects(tickets):
    return [t.subject for t in tickets]


def search_raw(fake, http, query, **params):
    """The subjects on the first page of a search made with plain requests."""
    response = http.get(f"{fake.url}/api/v2/search.json", params={"query": query, **params})
    assert response.status_code == 200
    return [t["subject"] for t in response.json()["results"]]


def test_zenpy_searches_250_tickets_over_three_offset_pages(fake, zen):
    group = fake.add_group("Support")
    ids = [fake.add_ticket(f"Ticket {i}", group_id=group, created_at=stamp(i))
           for i in range(250)]
    found = list(zen.search(type="ticket", group=group, status_less_than="solved"))
    assert [t.id for t in found] == ids  # oldest first
    assert {type(t).__name__ for t in found} == {"Ticket"}
    assert [(s.path, s.query.get("page"), s.status) for s in fake.requests] == [
        ("/api/v2/search.json", None, 200), ("/api/v2/search.json", "2", 200),
        ("/api/v2/search.json", "3", 200)]
    assert all(s.query["query"] == f"type:ticket group:{group} status<solved"
               and s.query["filter[type]"] == "ticket" for s in fake.requests)


def test_search_page_shape_and_absolute_next_page(fake, http):
    group = fake.add_group("Support")
    first_id = fake.add_ticket("Printer on fire", group_id=group, created_at=stamp(0))
    for i in range(1, 250):
        fake.add_ticket(f"Ticket {i}", group_id=group, created_at=stamp(i))
    url = f"{fake.url}/api/v2/search.json"
    first = http.get(url, params={"query": f"type:ticket group:{group}"}).json()
    assert set(first) == {"results", "facets", "next_page", "previous_page", "count"}
    assert first["count"] == 250 and len(first["results"]) == 100
    assert first["facets"] is None and first["previous_page"] is None
    assert first["next_page"].startswith(f"{fake.url}/api/v2/search.json?")
    assert first["results"][0] == {
        "id": first_id, "url": f"{fake.url}/api/v2/tickets/{first_id}.json",
        "subject": "Printer on fire", "description": "Printer on fire", "status": "new",
        "priority": None, "group_id": group, "assignee_id": None, "requester_id": None,
        "created_at": stamp(0), "updated_at": stamp(0), "via": {"channel": "web"}, "tags": [],
        "result_type": "ticket"}
    second = http.get(first["next_page"]).json()
    third = http.get(second["next_page"]).json()
    assert len(third["results"]) == 50 and third["next_page"] is None
    assert third["previous_page"].startswith(f"{fake.url}/api/v2/search.json?")
    assert len({t["id"] for page in (first, second, third) for t in page["results"]}) == 250
    # per_page is clamped to 100; the path works without .json like the others.
    clamped = http.get(f"{fake.url}/api/v2/search",
                       params={"query": f"group:{group}", "per_page": 150}).json()
    assert len(clamped["results"]) == 100


def test_search_ands_group_and_status(fake, zen, desk):
    assert subjects(zen.search(type="ticket", group=desk["Support"], status_less_than="solved")) \
        == ["Support new", "Support open", "Support pending", "Support hold"]
    assert subjects(zen.search(type="ticket", group=desk["Support"], status="open")) \
        == ["Support open"]  # not the open tickets of Tier 1 or Billing


def test_status_less_than_solved_leaves_out_solved_and_closed(fake, zen, http, desk):
    unsolved = subjects(zen.search(type="ticket", status_less_than="solved"))
    assert unsolved == ["Support new", "Support open", "Support pending", "Support hold",
                        "Tier 1 new", "Tier 1 open", "Billing open"]
    assert subjects(zen.search(type="ticket", status_greater_than="hold")) \
        == ["Support solved", "Support closed"]
    assert search_raw(fake, http, "type:ticket status:new") == ["Support new", "Tier 1 new"]
    # repeated ":" terms on one property are ORed
    assert search_raw(fake, http, f"group:{desk['Support']} status:pending status:hold") \
        == ["Support pending", "Support hold"]


def test_search_ors_repeated_groups(fake, zen, http, desk):
    both = zen.search(type="ticket", group=[desk["Support"], desk["Tier 1"]], status="open")
    assert subjects(both) == ["Support open", "Tier 1 open"]
    assert fake.requests[-1].query["query"] \
        == f'type:ticket status:open group:"{desk["Support"]}" group:"{desk["Tier 1"]}"'
    # group_id: is an alias, and Zendesk's group: also takes the group's name
    assert search_raw(fake, http, f'status:open group_id:{desk["Billing"]} group:"tier 1"') \
        == ["Tier 1 open", "Billing open"]


def test_created_and_updated_compare_as_instants(fake, zen, http):
    group = fake.add_group("Support")
    fake.add_ticket("early", group_id=group, created_at="2027-01-03T23:59:59Z",
                    updated_at="2027-01-05T12:00:00Z")
    fake.add_ticket("midnight", group_id=group, created_at="2027-01-04T00:00:00Z")
    late = fake.add_ticket("late", group_id=group, created_at="2027-01-04T14:00:00+05:00")
    assert fake.tickets[late]["created_at"] == "2027-01-04T09:00:00Z"  # stored as UTC "Z"

    def found(**terms):
        return subjects(zen.search(type="ticket", **terms))

    # a bare date is midnight UTC, and > and < are strict
    assert found(created_after=date(2027, 1, 4)) == ["late"]
    assert found(created_before=date(2027, 1, 4)) == ["early"]
    assert found(created_after=datetime(2027, 1, 4, 8, 59, 59, tzinfo=UTC)) == ["late"]
    assert found(updated_after=datetime(2027, 1, 5, tzinfo=UTC)) == ["early"]
    assert found(updated_before=date(2027, 1, 5)) == ["midnight", "late"]
    assert found(created_between=[datetime(2027, 1, 3, tzinfo=UTC),
                                  datetime(2027, 1, 4, 9, tzinfo=UTC)]) == ["early", "midnight"]
    assert fake.requests[-1].query["query"] \
        == "type:ticket created>2027-01-03T00:00:00Z created<2027-01-04T09:00:00Z"
    # offsets in the query are instants too; "created:DATE" is that whole UTC day
    assert search_raw(fake, http, "created<2027-01-04T04:00:01-05:00") \
        == ["early", "midnight", "late"]
    assert search_raw(fake, http, "created:2027-01-04") == ["midnight", "late"]


def test_assignee_none(fake, zen, http, desk):
    unassigned = subjects(zen.search(type="ticket", group=desk["Support"], assignee="none"))
    assert unassigned == [f"Support {status}" for status in STATUSES if status != "open"]
    assert search_raw(fake, http, f"assignee:{desk['ada']}") == ["Support open"]


def test_search_ignores_unknown_terms_but_not_bad_values(fake, zen, http, desk):
    support = f"type:ticket group:{desk['Support']}"
    everything = [f"Support {status}" for status in STATUSES]
    assert subjects(zen.search("printer words", type="ticket", group=desk["Support"],
                               priority="urgent")) == everything
    assert search_raw(fake, http, f"{support} -status:new -status:open") \
        == ["Support pending", "Support hold", "Support solved", "Support closed"]
    for bad in ("status:bogus", "created>4hours", "group:Nope", "type:user"):
        assert search_raw(fake, http, f"status<solved {bad}") == [], bad
    assert search_raw(fake, http, support, **{"filter[type]": "user"}) == []  # tickets only


def test_search_sort_by_and_sort_order(fake, zen, http):
    group = fake.add_group("Support")
    for name, created, updated, status in [("a", 0, 30, "open"), ("b", 10, 20, "new"),
                                           ("c", 20, 40, "pending")]:
        fake.add_ticket(name, group_id=group, status=status, created_at=stamp(created),
                        updated_at=stamp(updated))
    assert subjects(zen.search(type="ticket", sort_by="updated_at", sort_order="asc")) \
        == ["b", "a", "c"]
    assert subjects(zen.search(type="ticket", sort_by="created_at", sort_order="desc")) \
        == ["c", "b", "a"]
    # sort_order defaults to desc once sort_by is given; status sorts in Zendesk's order
    assert search_raw(fake, http, "type:ticket", sort_by="status") == ["c", "a", "b"]


def test_search_stops_cleanly_at_the_1000_result_limit(fake, zen, http):
    group = fake.add_group("Support")
    for i in range(1050):
        fake.add_ticket(f"Ticket {i}", group_id=group, created_at=stamp(i))
    assert len({t.id for t in zen.search(type="ticket", group=group)}) == 1000
    assert [s.status for s in fake.requests] == [200] * 10 + [422]
    assert fake.requests[-1].query["page"] == "11"
    url, query = f"{fake.url}/api/v2/search.json", {"query": f"group:{group}"}
    tenth = http.get(url, params={**query, "page": 10}).json()
    assert tenth["count"] == 1050 and len(tenth["results"]) == 100  # count is the real total
    past = http.get(tenth["next_page"])
    assert past.status_code == 422 and past.json() == LIMIT_BODY
    straddling = http.get(url, params={**query, "per_page": 30, "page": 34}).json()
    assert [t["subject"] for t in straddling["results"]] \
        == [f"Ticket {i}" for i in range(990, 1000)]  # cut at the 1,000th
    few = http.get(url, params={"query": "status:hold", "page": 11})  # checked on the request
    assert few.status_code == 422 and few.json() == LIMIT_BODY


def test_faults_apply_to_search(fake, zen, http, desk):
    fake.fail_next(429, path_contains="/api/v2/search", retry_after=3)
    fake.drop_next(path_contains="status<solved")
    params = {"query": "type:ticket status<solved"}
    limited = http.get(f"{fake.url}/api/v2/search.json", params=params)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert limited.json() == {"error": "APIRateLimitExceeded", "description": "Rate limit exceeded"}
    with pytest.raises(requests.ConnectionError):
        http.get(f"{fake.url}/api/v2/search.json", params=params)
    assert len(search_raw(fake, http, params["query"])) == 7  # the rules are used up
    assert [(s.path, s.query, s.status) for s in fake.requests] \
        == [("/api/v2/search.json", params, status) for status in (429, 0, 200)]
    fake.fail_next(429)  # no Retry-After, so zenpy raises instead of sleeping
    with pytest.raises(APIException) as raised:
        list(zen.search(type="ticket"))
    assert raised.value.response.status_code == 429


def test_show_ticket(fake, zen, http, desk):
    tid = desk["Support open"]
    ticket = zen.tickets(id=tid)
    assert (ticket.subject, ticket.status, ticket.group_id, ticket.assignee_id) \
        == ("Support open", "open", desk["Support"], desk["ada"])
    assert ticket.created == datetime(2027, 1, 4, 9, 1, tzinfo=UTC)
    for suffix in ("", ".json"):
        shown = http.get(f"{fake.url}/api/v2/tickets/{tid}{suffix}").json()
        assert shown == {"ticket": {**fake.tickets[tid],
                                    "url": f"{fake.url}/api/v2/tickets/{tid}.json"}}
    with pytest.raises(RecordNotFoundException) as raised:
        zen.tickets(id=424242)
    assert raised.value.response.json() == {"error": "RecordNotFound", "description": "Not found"}


def test_add_ticket_numbers_from_9001_and_defaults_updated_at(fake):
    group, ada = fake.add_group("Support"), fake.add_user("Ada", "ada@example.gov")
    assert fake.add_ticket("a", group_id=group, created_at=stamp(0)) == 9001
    assert fake.add_ticket("b", group_id=group, created_at=stamp(0), assignee_id=ada,
                           requester_id=ada, status="hold") == 9002
    assert fake.add_ticket("c", group_id=group, created_at=stamp(0), id=9100) == 9100
    assert fake.tickets[9001]["updated_at"] == stamp(0)
    assert (fake.tickets[9002]["assignee_id"], fake.tickets[9002]["status"]) == (ada, "hold")


@pytest.mark.parametrize("bad", [
    {"status": "deleted"}, {"group_id": 424242}, {"assignee_id": 424242},
    {"requester_id": 424242}, {"created_at": "2027-01-04T09:00:00"},  # no zone
    {"created_at": "2027-01-04"}, {"updated_at": "2027-01-04T08:59:59Z"},  # before created
])
def test_add_ticket_rejects_bad_arguments(fake, bad):
    group = fake.add_group("Support")
    with pytest.raises(ValueError):
        fake.add_ticket("x", **{"group_id": group, "created_at": stamp(0), **bad})
    assert fake.tickets == {}


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
    assert http.get(f"{fake.url}/api/v2/macros.json").status_code == 404  # not served


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


def test_garble_next_answers_200_with_a_body_that_is_not_json(fake, http, team):
    fake.garble_next(path_contains="/groups")
    garbled = http.get(f"{fake.url}/api/v2/groups.json")
    assert garbled.status_code == 200 and garbled.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        garbled.json()
    assert http.get(f"{fake.url}/api/v2/groups.json").json()["groups"][0]["name"] == "Support"


def test_hang_next_never_answers_until_the_fake_stops():
    fake = FakeZendesk().start()
    fake.add_group("Support")
    fake.hang_next()
    outcome = []

    def ask():
        try:
            requests.get(f"{fake.url}/api/v2/groups.json", auth=AUTH, timeout=30)
        except requests.ConnectionError as e:
            outcome.append(e)

    asking = threading.Thread(target=ask)
    asking.start()
    for _ in range(500):  # until the request has arrived: then only stop() ends it
        if fake.requests:
            break
        asking.join(0.01)
    assert fake.requests and asking.is_alive() and not outcome
    fake.stop()
    asking.join(5)
    assert not asking.is_alive() and len(outcome) == 1
    assert [(s.path, s.status) for s in fake.requests] == [("/api/v2/groups.json", 0)]
