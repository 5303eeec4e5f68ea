"""Signing in through a real OpenID Provider (oidc-provider under node, see
oidckit): the code flow end to end, every lie or failure of the provider
refused with a sentence, sign-out at the provider too, and who may then do
what."""

import html
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from oidckit import PUBLIC_URL, Browser, back_at_rota, sign_in, start_sign_in
from webkit import PASSWORD, csrf_of

from scheduler.settings import OidcProvider, Settings
from scheduler.store.editors import EditorStore
from web import create_app


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def sso(roster, clock, oidc_provider):
    EditorStore(roster.with_name("team.editors.json")).add("sam@example.gov", None, "Sam Sso")
    return create_app({"TESTING": True, "ROSTER": str(roster), "SECRET_KEY": "test-secret", "CLOCK": clock,
                       "PUBLIC_URL": PUBLIC_URL, "OIDC": oidc_provider.settings})


@pytest.fixture
def client(sso):
    return sso.test_client()


def test_the_first_leg_asks_for_the_code_flow_with_state_nonce_and_pkce(client, oidc_provider):
    authorize = urlsplit(start_sign_in(client))
    query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert f"{authorize.scheme}://{authorize.netloc}" == oidc_provider.issuer
    assert (query["response_type"], query["client_id"], query["code_challenge_method"]) == ("code", "rota", "S256")
    assert query["redirect_uri"] == f"{PUBLIC_URL}/auth/callback" and set(query["scope"].split()) == {"openid", "email"}
    assert len(query["state"]) >= 20 and len(query["nonce"]) >= 20 and len(query["code_challenge"]) >= 43


def test_a_member_signs_in_through_the_login_form_as_their_lower_cased_email(client):
    answer = sign_in(client, "ada@example.gov", next_path="/roster/")  # the provider's claim is Ada@Example.GOV
    assert answer.status_code == 302 and answer.headers["Location"] == "/roster/"
    page = client.get("/").get_data(as_text=True)
    assert "Signed in as ada@example.gov." in page and "Sign out Ada</button>" in page
    # a member, not an editor: their own absences, not the editors' forms
    mine = client.get("/roster/")
    assert mine.status_code == 200 and "<h1>My absences</h1>" in text(mine) and "Add a member" not in text(mine)


def test_an_editor_named_in_the_store_edits_after_signing_in_with_the_provider(client):
    assert sign_in(client, "sam@example.gov").status_code == 302
    assert "Signed in as Sam Sso." in client.get("/").get_data(as_text=True)
    page = client.get("/roster/")
    assert page.status_code == 200 and "Sign out Sam Sso" in page.get_data(as_text=True)


def test_a_stranger_signed_in_reads_the_page_and_is_refused_anything_else_with_a_logged_403(client, caplog):
    sign_in(client, "zed@example.gov")
    page = client.get("/")
    assert page.status_code == 200 and "Sign out zed@example.gov" in page.get_data(as_text=True)
    with caplog.at_level(logging.WARNING):
        refused = client.get("/roster/")
    assert refused.status_code == 403
    assert "zed@example.gov is not a current member of the roster" in refused.get_data(as_text=True)
    assert any("refused GET /roster/ for zed@example.gov" in r.getMessage() for r in caplog.records)


def test_an_email_the_provider_has_not_verified_is_refused(client):
    answer = sign_in(client, "eve@example.gov")
    assert answer.status_code == 403
    assert "has not verified that eve@example.gov is yours" in answer.get_data(as_text=True)
    assert "Sign in</a>" in client.get("/").get_data(as_text=True)  # nobody signed in


@pytest.mark.parametrize("mode, said", [
    ("tamper", "could not be trusted (BadSignatureError"),
    ("audience", "could not be trusted (MissingClaimError: missing_claim: Missing claim: 'azp'"),  # not for rota
    ("issuer", "could not be trusted (InvalidClaimError"),
    ("expired", "ID token has expired"),
])
def test_an_id_token_that_lies_signs_nobody_in(client, oidc_provider, mode, said):
    oidc_provider.lie_next(mode)
    answer = sign_in(client, "ada@example.gov")
    assert answer.status_code == 401 and said in text(answer)
    assert "Sign in</a>" in client.get("/").get_data(as_text=True)
    # the provider tells the truth again: the same person gets in
    assert sign_in(client, "ada@example.gov").status_code == 302


def test_a_replayed_callback_or_one_begun_in_another_browser_is_refused(sso, client):
    callback = Browser().follow(start_sign_in(client), login="ada@example.gov")
    assert back_at_rota(client, callback).status_code == 302
    client.post("/signout", data={"csrf_token": csrf_of(client, "/")})
    replayed = back_at_rota(client, callback)
    assert replayed.status_code == 400 and "already used" in replayed.get_data(as_text=True)
    other = sso.test_client()
    callback = Browser().follow(start_sign_in(client), login="ada@example.gov")
    stolen = back_at_rota(other, callback)
    assert stolen.status_code == 400 and "did not start here" in stolen.get_data(as_text=True)
    assert "Sign in</a>" in other.get("/").get_data(as_text=True)


def test_the_provider_saying_no_is_a_page_with_its_reason(client):
    start_sign_in(client)
    answer = client.get("/auth/callback?error=access_denied&error_description=End-User+aborted+interaction&state=x")
    assert answer.status_code == 401
    assert "The sign-in service said no (access_denied: End-User aborted interaction)" in answer.get_data(True)


def test_sign_out_ends_the_session_here_and_at_the_provider(client, oidc_provider):
    browser = Browser()
    sign_in(client, "ada@example.gov", browser)
    signed_out = client.post("/signout", data={"csrf_token": csrf_of(client, "/")})
    away = urlsplit(signed_out.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(away.query).items()}
    assert f"{away.scheme}://{away.netloc}{away.path}" == f"{oidc_provider.issuer}/session/end"
    assert query["post_logout_redirect_uri"] == f"{PUBLIC_URL}/" and query["id_token_hint"].count(".") == 2
    assert browser.follow(signed_out.headers["Location"]).startswith(f"{PUBLIC_URL}/")
    assert "Sign in</a>" in client.get("/").get_data(as_text=True)
    # the provider's session is over too: signing in again asks for the login form
    with pytest.raises(AssertionError, match="asked to log in again"):
        browser.follow(start_sign_in(client))


def test_an_editor_signing_out_ends_their_other_sessions(sso, client):
    sign_in(client, "sam@example.gov")
    other = sso.test_client()
    sign_in(other, "sam@example.gov")
    client.post("/signout", data={"csrf_token": csrf_of(client, "/")})
    assert other.get("/roster/").status_code == 302  # sent to sign in again


def test_with_local_passwords_off_only_the_provider_signs_people_in(roster, clock, oidc_provider):
    config = {"TESTING": True, "ROSTER": str(roster), "SECRET_KEY": "test-secret", "CLOCK": clock,
              "PUBLIC_URL": PUBLIC_URL, "OIDC": oidc_provider.settings}
    before = create_app({**config, "LOCAL_PASSWORDS": True}).test_client()
    before.post("/signin", data={"email": "ed@example.gov", "password": PASSWORD, "csrf_token": csrf_of(before)})
    assert before.get("/roster/").status_code == 200
    token = csrf_of(before, "/")
    off = create_app({**config, "LOCAL_PASSWORDS": False}).test_client()
    form = text(off.get("/signin"))
    assert 'type="password"' not in form and "Sign in with your organisation's account" in form
    # a session begun with a password before they were turned off ends
    off.set_cookie("session", before.get_cookie("session").value)
    assert off.get("/roster/").status_code == 302
    refused = off.post("/signin", data={"email": "ed@example.gov", "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 403 and "Passwords kept by rota are turned off here" in text(refused)
    assert off.get("/roster/").status_code == 302
    assert sign_in(off, "ada@example.gov").status_code == 302


def test_a_provider_that_is_down_slow_or_not_a_provider_is_a_page_that_says_so(roster, clock, oidc_provider):
    from fakes.silent import SilentServer, refused_port

    def first_leg(issuer):
        app = create_app({"TESTING": True, "ROSTER": str(roster), "SECRET_KEY": "test-secret", "CLOCK": clock,
                          "OIDC": OidcProvider(issuer, "rota", "s3cret-of-the-client")},
                         settings=Settings(connect_timeout_text="0.5", read_timeout_text="0.3"))
        answer = app.test_client().get("/auth/login")
        return answer.status_code, answer.get_data(as_text=True)

    status, page = first_leg(f"http://127.0.0.1:{refused_port()}")
    assert status == 503 and "cannot be reached. Try again in a minute." in page
    silent = SilentServer().start()
    try:
        status, page = first_leg(silent.url)
    finally:
        silent.stop()
    assert status == 504 and f"The sign-in service at {silent.url} did not answer in time" in page
    status, page = first_leg(oidc_provider.issuer + "/not-an-issuer")
    assert status == 502 and "gave an answer rota cannot use (HTTPError" in page
    assert "s3cret-of-the-client" not in page


def test_without_a_provider_neither_the_page_nor_rota_who_imports_authlib(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; from scheduler.cli import main; main(['who', '--roster', 'rosters/example.yaml']); "
            "from web import create_app; app = create_app({'TESTING': True, 'ROSTER': 'rosters/example.yaml', "
            "'SECRET_KEY': 'k' * 40}); app.test_client().get('/signin'); "
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('authlib', 'joserfc')); "
            "sys.exit(f'imported {loaded}' if loaded else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2], capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr


def test_a_sign_in_through_the_provider_is_asked_for_again_after_12_hours_even_in_use(sso, client, clock):
    """Nothing in rota can end a member's session (they have no generation
    to bump): the provider is asked again within the day instead, so a copied
    cookie, or someone the provider no longer knows, is out by then."""
    from datetime import timedelta

    assert sign_in(client, "ada@example.gov").status_code == 302
    for _ in range(3):
        clock.at = clock.at + timedelta(hours=3, minutes=59)
        assert client.get("/roster/").status_code == 200  # in use: not idle
    clock.at = clock.at + timedelta(minutes=4)  # 12 h 1 min after signing in
    page = client.get("/roster/", follow_redirects=True)
    assert "Your sign-in is more than 12 hours old: sign in again." in text(page)
    assert client.get("/roster/").status_code == 302
    assert sign_in(client, "ada@example.gov").status_code == 302  # and the provider lets them straight back in
    assert client.get("/roster/").status_code == 200
