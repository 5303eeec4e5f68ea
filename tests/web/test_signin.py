"""Signing in holds: no open redirect, failures counted per client and per
account across threads and processes, bounded memory, sessions that end,
https behind a proxy, and a secret key that is never empty."""

import io
import multiprocessing
import re
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from webkit import PASSWORD, csrf_of, sign_in

import web
from scheduler.cli import main
from scheduler.store.editors import EditorStore
from scheduler.errors import RotaError
from web import create_app
from web.auth import _safe_next
from scheduler.store.signincounts import FileFailureCounts, Policy


def make_app(roster, clock, **config):
    return create_app({"TESTING": True, "ROSTER": str(roster), "SECRET_KEY": "test-secret", "CLOCK": clock, **config})


@pytest.fixture
def roster(roster_dir):
    from rosterkit import team, yaml_text

    path = roster_dir / "team.yaml"
    path.write_text(yaml_text(team("Ada", "Bob", "Cy", "Di", holidays="US")))
    EditorStore(roster_dir / "team.editors.json").add("ed@example.gov", PASSWORD, "Ed Itor")
    return path


def post_signin(client, password, email="ed@example.gov", headers=None, csrf=None):
    data = {"email": email, "password": password, "csrf_token": csrf or csrf_of(client)}
    return client.post("/signin", data=data, headers=headers or {})


def in_parallel(calls):
    """Run every call at the same moment, each in its own thread."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


# -- where sign-in sends you ---------------------------------------------------------------
ATTACKS = ["/\t/evil.example/", "//evil.example/", "/\\evil.example/", "\\/evil.example/", "/\r\n/evil.example",
           "/\n/evil.example", " //evil.example", "\t//evil.example", "https://evil.example/", "http:evil.example",
           "javascript:alert(1)", "/\\\\evil.example", "/\x00/evil.example", "/\x7f/evil.example",
           "///evil.example", "//\tevil.example", "/%09/evil.example/", "@evil.example", "evil.example"]


def browser_resolves(location: str) -> tuple[str, str]:
    """Where a browser goes for a Location header, as the URL standard says:
    tabs and newlines vanish, leading and trailing controls and spaces are
    trimmed, and in http(s) URLs a backslash is a slash."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip("".join(map(chr, range(0x21))))
    url = urljoin("https://rota.example.gov/signin", cleaned.replace("\\", "/"))
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


@pytest.mark.parametrize("attack", ATTACKS)
def test_known_redirect_attacks_stay_on_the_site(app_context, attack):
    target = _safe_next(attack)
    assert browser_resolves(target) == ("https", "rota.example.gov")


@given(st.one_of(st.text(alphabet="/\\\t\r\n \x00\x0b\x7f\x85:@.%?#evilhtps\u3000\u2028"),
                 st.text().map(lambda s: "/" + s)))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@example("/\t/evil.example/")
@example("/ok/path?with=query#and-fragment")
def test_next_never_leaves_the_site_and_keeps_plain_paths(app_context, target):
    safe = _safe_next(target)
    assert browser_resolves(safe) == ("https", "rota.example.gov")
    assert safe in (target, "/")


def test_plain_paths_are_kept(app_context):
    assert _safe_next("/roster/?week=2027-01-18") == "/roster/?week=2027-01-18"


@pytest.fixture
def app_context(tmp_path):
    app = create_app({"TESTING": True, "ROSTER": str(tmp_path / "team.yaml"), "SECRET_KEY": "test-secret"})
    with app.test_request_context("/signin"):
        yield


@pytest.mark.parametrize("target", ["/\r\n/evil.example", "/roster/\r\nSet-Cookie: x=1", "/\u2028/evil.example"])
def test_a_next_with_line_breaks_signs_in_and_lands_on_the_site_never_a_500(roster, clock, target):
    client = make_app(roster, clock).test_client()
    assert client.get("/signin", query_string={"next": target}).status_code == 200
    response = client.post("/signin", data={"email": "ed@example.gov", "password": PASSWORD, "csrf_token":
                                            csrf_of(client), "next": target})
    assert response.status_code == 302
    assert browser_resolves(response.headers["Location"]) == ("https", "rota.example.gov")
    assert "\r" not in response.headers["Location"] and "\n" not in response.headers["Location"]


def test_signing_in_with_a_tab_trick_ends_on_the_site(roster, clock):
    client = make_app(roster, clock).test_client()
    page = client.get("/signin?next=%2F%09%2Fevil.example%2F").get_data(as_text=True)
    assert 'name="next" value="/"' in page
    response = client.post("/signin", data={"email": "ed@example.gov", "password": PASSWORD, "csrf_token":
                                            csrf_of(client), "next": "/\t/evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"


# -- counting failures -----------------------------------------------------------------------
def test_fifty_guesses_at_once_from_one_client_get_at_most_the_limit_checked(roster, clock):
    # Two apps over one roster stand for two workers; no help from the hashing bound: only the count stops them.
    workers = [make_app(roster, clock, SIGNIN_CONCURRENCY=50) for _ in range(2)]
    clients = [workers[i % 2].test_client() for i in range(50)]
    tokens = [csrf_of(c) for c in clients]
    responses = in_parallel([lambda c=c, t=t: post_signin(c, "a wrong guess!!", csrf=t) for c, t in zip(clients, tokens)])
    codes = sorted(r.status_code for r in responses)
    assert codes.count(401) == 5 and codes.count(429) == 45
    assert all(r.headers["Retry-After"] == str(15 * 60) for r in responses if r.status_code == 429)


def test_attempts_beyond_the_hashing_bound_are_refused_at_once_and_not_counted(roster, clock):
    app = make_app(roster, clock, SIGNIN_CONCURRENCY=2)
    client = app.test_client()
    hashing = app.extensions["rota"].hashing
    assert hashing.acquire(blocking=False) and hashing.acquire(blocking=False)  # as if two checks were running
    try:
        busy = post_signin(client, PASSWORD)
    finally:
        hashing.release()
        hashing.release()
    assert busy.status_code == 429 and busy.headers["Retry-After"] == "1"
    assert "Too many sign-ins at once" in busy.get_data(as_text=True)
    for _ in range(4):
        assert post_signin(client, "a wrong guess!!").status_code == 401
    assert post_signin(client, PASSWORD).status_code == 302  # the refused attempt did not count


def from_address(address):
    return {"X-Forwarded-For": address}


def test_one_account_is_guarded_across_many_addresses_and_waits_grow(roster, clock):
    app = make_app(roster, clock, TRUSTED_PROXIES=1)
    attacker = app.test_client()
    codes = [post_signin(attacker, f"guess number {i}", headers=from_address(f"198.51.100.{i // 5}")).status_code
             for i in range(100)]  # 20 addresses, 5 guesses each
    assert codes.count(401) == 5 and codes[5:] == [429] * 95
    refused = post_signin(attacker, PASSWORD, headers=from_address("198.51.100.99"))
    assert refused.status_code == 429 and "Try again in 1 minute(s)." in refused.get_data(as_text=True)
    clock.at = clock.at.add(seconds=61)
    assert post_signin(attacker, "guess number 100", headers=from_address("198.51.100.50")).status_code == 401
    doubled = post_signin(attacker, "guess number 101", headers=from_address("198.51.100.51"))
    assert doubled.status_code == 429 and "Try again in 2 minute(s)." in doubled.get_data(as_text=True)


def test_an_editor_who_signed_in_here_before_is_not_locked_out_by_someone_guessing(roster, clock):
    app = make_app(roster, clock, TRUSTED_PROXIES=1)
    editor = app.test_client()
    assert post_signin(editor, PASSWORD, headers=from_address("192.0.2.7")).status_code == 302
    editor.post("/signout", data={"csrf_token": csrf_of(editor, "/")}, headers=from_address("192.0.2.7"))
    attacker = app.test_client()
    for i in range(30):
        post_signin(attacker, f"guess number {i}", headers=from_address(f"198.51.100.{i}"))
    assert post_signin(app.test_client(), PASSWORD, headers=from_address("192.0.2.8")).status_code == 429
    assert post_signin(editor, PASSWORD, headers=from_address("192.0.2.7")).status_code == 302


def test_without_trusted_proxies_x_forwarded_for_is_ignored(roster, clock):
    client = make_app(roster, clock).test_client()
    codes = [post_signin(client, "a wrong guess!!", email=f"x{i}@example.gov",
                         headers=from_address(f"198.51.100.{i}")).status_code for i in range(6)]
    assert codes == [401] * 5 + [429]


def test_the_failure_table_stays_small_after_ten_thousand_long_failures(tmp_path):
    path = tmp_path / "failures.sqlite3"
    counts = FileFailureCounts(path, {"account": Policy(5, 60, 3600, 86400)}, max_entries=1000)
    now = 1_800_000_000.0
    for i in range(10_000):
        assert counts.attempt([("account", f"{i}-" + "x" * 10_000 + "@example.gov")], now + i) == 0
    assert len(counts) <= 1000
    assert path.stat().st_size < 512 * 1024
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) < 2 * 1024 * 1024  # with the write-ahead log
    assert b"xxxxxxxx" not in path.read_bytes()
    recent = ("account", "9999-" + "x" * 10_000 + "@example.gov")
    for _ in range(4):
        counts.attempt([recent], now + 10_000)
    assert counts.attempt([recent], now + 10_000) == 60  # the newest counts survived the pruning


def test_failures_are_forgotten_and_their_rows_dropped(tmp_path):
    counts = FileFailureCounts(tmp_path / "f.sqlite3", {"client": Policy(5, 900, 900, 900)})
    for i in range(50):
        counts.attempt([("client", f"203.0.113.{i}")], 1000.0)
    counts.attempt([("client", "203.0.113.200")], 1000.0 + 901)
    assert len(counts) == 1


def test_a_long_email_is_counted_by_its_hash(roster, clock):
    client = make_app(roster, clock).test_client()
    assert post_signin(client, "whatever", email="e" * 50_000 + "@example.gov").status_code == 401
    table = next(roster.parent.glob(".team.signin.sqlite3"))
    assert len(table.read_bytes()) < 64 * 1024


# -- sessions --------------------------------------------------------------------------------
def copy_of_session(app, client):
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_a_copied_cookie_stops_working_after_sign_out(roster, clock):
    app = make_app(roster, clock)
    client = app.test_client()
    sign_in(client)
    copy = copy_of_session(app, client)
    assert copy.get("/roster/").status_code == 200
    client.post("/signout", data={"csrf_token": csrf_of(client, "/")})
    response = copy.get("/roster/")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_a_new_password_ends_every_session(roster, clock, monkeypatch, capsys):
    app = make_app(roster, clock)
    client = app.test_client()
    sign_in(client)
    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new password\n"))
    assert main(["user", "add", "ed@example.gov", "--password-stdin", "--reset-password", "--roster", str(roster)]) == 0
    assert client.get("/roster/").status_code == 302
    assert EditorStore(roster.parent / "team.editors.json").list()[0].name == "Ed Itor"
    assert sign_in(client, password="a brand new password").status_code == 302
    assert client.get("/roster/").status_code == 200


def test_a_session_ends_after_a_working_day_idle_but_not_while_in_use(roster, clock):
    client = make_app(roster, clock).test_client()
    sign_in(client)
    for _ in range(3):
        clock.at = clock.at + timedelta(hours=8, minutes=59)
        assert client.get("/roster/").status_code == 200
    clock.at = clock.at + timedelta(hours=9, minutes=1)
    response = client.get("/roster/", follow_redirects=True)
    assert "You were signed out after a long time without using the page." in response.get_data(as_text=True)
    assert client.get("/roster/").status_code == 302


def test_a_form_posted_while_signed_out_returns_to_the_roster_page_after_sign_in(roster, clock):
    client = make_app(roster, clock).test_client()
    token = csrf_of(client)
    response = client.post("/roster/save", data={"kind": "add_member", "name": "Zed", "email": "zed@example.gov",
                                                 "csrf_token": token, "version": "x"}, follow_redirects=True)
    assert "your change was not saved" in response.get_data(as_text=True)
    signed_in = client.post("/signin", data={"email": "ed@example.gov", "password": PASSWORD, "csrf_token": token,
                                             "next": re.search(r'name="next" value="([^"]+)"',
                                                               response.get_data(as_text=True)).group(1)})
    assert signed_in.headers["Location"] == "/roster/"
    assert client.get("/roster/").status_code == 200


# -- behind a TLS proxy -------------------------------------------------------------------------
HTTPS = {"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https", "Referer": "https://localhost/signin"}


def signed_in_page(client, headers):
    """Sign in and read the page (feed links are for editors), all through `headers`."""
    page = client.get("/signin", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = post_signin(client, PASSWORD, headers=headers, csrf=token)
    assert response.status_code == 302
    return response, client.get("/", headers=headers).get_data(as_text=True)


def test_behind_a_trusted_proxy_cookies_are_secure_and_links_https(roster, clock):
    client = make_app(roster, clock, TRUSTED_PROXIES=1).test_client()
    response, page = signed_in_page(client, HTTPS)
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c for c in cookies)
    assert re.search(r'href="https://localhost/feeds/team/[0-9a-f]+\.ics"', page)


def test_an_untrusted_proxy_header_changes_nothing(roster, clock):
    client = make_app(roster, clock).test_client()
    response, page = signed_in_page(client, HTTPS)
    assert not any("Secure" in c for c in response.headers.getlist("Set-Cookie"))
    assert re.search(r'href="http://localhost/feeds/team/', page)


def test_links_use_the_public_url_whatever_the_host_header(roster, clock):
    client = make_app(roster, clock, PUBLIC_URL="https://rota.agency.gov").test_client()
    response, page = signed_in_page(client, {"Host": "evil.example"})
    assert all("Secure" in c for c in response.headers.getlist("Set-Cookie"))
    assert re.search(r'href="https://rota\.agency\.gov/feeds/team/[0-9a-f]+\.ics"', page)
    assert "evil.example" not in page


# -- the secret key ---------------------------------------------------------------------------
def _make_keys(instances, barrier, out):
    for instance in instances:
        barrier.wait()
        out.put((instance, web._instance_secret(Path(instance))))


def test_workers_starting_together_share_one_complete_key(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    rounds = [str(tmp_path / f"instance{i}") for i in range(10)]
    barrier, out = ctx.Barrier(4), ctx.Queue()
    workers = [ctx.Process(target=_make_keys, args=(rounds, barrier, out)) for _ in range(4)]
    for w in workers:
        w.start()
    keys = [out.get(timeout=120) for _ in range(4 * len(rounds))]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    for instance in rounds:
        found = {key for where, key in keys if where == instance}
        assert len(found) == 1 and len(found.pop()) == 64
        assert (Path(instance) / "secret_key").read_text().strip() and len(list(Path(instance).iterdir())) == 1


def test_an_empty_kept_key_is_refused_with_a_clear_message(tmp_path):
    (tmp_path / "secret_key").write_text("\n")
    with pytest.raises(RotaError, match="secret key is empty or shorter than 32 bytes"):
        web._instance_secret(tmp_path)


def test_a_short_secret_key_in_the_environment_is_refused(roster, monkeypatch):
    monkeypatch.setenv("ROTA_SECRET_KEY", "too short")
    with pytest.raises(RotaError, match="ROTA_SECRET_KEY must be at least 32 bytes"):
        create_app({"ROSTER": str(roster)})
    monkeypatch.setenv("ROTA_SECRET_KEY", "k" * 32)
    assert create_app({"ROSTER": str(roster)}).config["SECRET_KEY"] == "k" * 32
