"""A real OpenID Provider for the tests, and the steps of signing in through it.

`oidc_provider` (a session fixture) runs the npm package oidc-provider
(tests/fakes/oidc/provider.mjs) under node on a free loopback port, with rota
registered as a client and the ACCOUNTS below; the packages are installed from
the committed package-lock.json the first time (`npm ci`), as scripts/test does.

People sign in through the provider's own login form: over HTTP with
`sign_in(client, provider, email)` (the Flask test client for rota, requests
for the provider), or in Chromium with `log_in_on_page(page, email)`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from scheduler.settings import OidcProvider

HERE = Path(__file__).parent / "fakes" / "oidc"
CLIENT_ID = "rota"
CLIENT_SECRET = "rota-test-client-secret"
PUBLIC_URL = "http://127.0.0.1"  # rota's address in the Flask tests; any loopback port works in Chromium
TIMEOUT = 10  # seconds for every request the kit makes
# Login name -> claims. The webkit roster's members are ada, bob, cy and di; ed is its
# password editor; sam an editor without a password; zed nobody rota knows.
ACCOUNTS = {
    "ada@example.gov": {"email": "Ada@Example.GOV"},  # the provider's own capitals: rota lower-cases
    "bob@example.gov": {"email": "bob@example.gov"},
    "cy@example.gov": {"email": "cy@example.gov"},
    "di@example.gov": {"email": "di@example.gov"},
    "ed@example.gov": {"email": "ed@example.gov"},
    "sam@example.gov": {"email": "sam@example.gov"},
    "zed@example.gov": {"email": "zed@example.gov"},
    "eve@example.gov": {"email": "eve@example.gov", "email_verified": False},
}


class Provider:
    def __init__(self, issuer: str, process: subprocess.Popen):
        self.issuer, self.process = issuer, process

    @property
    def settings(self) -> OidcProvider:
        """What rota is configured with (ROTA_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET)."""
        return OidcProvider(self.issuer, CLIENT_ID, CLIENT_SECRET)

    def lie_next(self, mode: str) -> None:
        """The next ID token the provider hands out lies: "tamper", "audience", "expired" or "issuer"."""
        requests.post(f"{self.issuer}/_test/next-id-token", json={"mode": mode}, timeout=TIMEOUT).raise_for_status()


class Browser:
    """One person's browser at the provider (its cookies): logs in through the
    form, and comes back with the URL the provider sends them to."""

    def __init__(self):
        self.http = requests.Session()

    def follow(self, url: str, login: str | None = None) -> str:
        """Follows the provider's redirects from `url`, filling its login
        form as `login` when it asks; returns the first URL outside the
        provider (rota's callback, or where sign-out returns to)."""
        provider = urlsplit(url).netloc
        response = self.http.get(url, allow_redirects=False, timeout=TIMEOUT)
        for _ in range(10):
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                if urlsplit(url).netloc != provider:
                    return url
                response = self.http.get(url, allow_redirects=False, timeout=TIMEOUT)
                continue
            page = response.text
            if 'name="prompt" value="login"' in page:
                if login is None:
                    raise AssertionError("the provider asked to log in again")
                fields = {"prompt": "login", "login": login, "password": "any password: the provider's test form"}
            elif 'name="prompt" value="consent"' in page:
                fields = {"prompt": "consent"}  # rota is a native (loopback) client: the provider always asks
            elif 'id="op.logoutForm"' in page:
                fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
                fields["logout"] = "yes"
            else:
                raise AssertionError(f"the provider answered {response.status_code}: {page[:500]}")
            action = urljoin(url, re.search(r'<form[^>]*action="([^"]+)"', page).group(1).replace("&amp;", "&"))
            response = self.http.post(action, data=fields, allow_redirects=False, timeout=TIMEOUT)
            url = action
        raise AssertionError("the provider kept redirecting")


def start_sign_in(client, next_path: str = "/"):
    """rota's first leg: the redirect to the provider's authorization endpoint."""
    response = client.get(f"/auth/login?next={next_path}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def back_at_rota(client, url: str):
    """The browser arriving at rota from the provider (the Flask test client serves every host)."""
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client, email: str, browser: Browser | None = None, next_path: str = "/"):
    """Signs `email` in through the provider's login form; returns rota's answer to the callback."""
    callback = (browser or Browser()).follow(start_sign_in(client, next_path), login=email)
    return back_at_rota(client, callback)


def log_in_on_page(page, email: str) -> None:
    """In Chromium, at the provider's login form: fill it in, send it and confirm."""
    page.locator('input[name="login"]').fill(email)
    page.locator('input[name="password"]').fill("any password: the provider's test form")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def _install() -> None:
    if (HERE / "node_modules" / "oidc-provider").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("needs node and npm for the OpenID Provider (scripts/test installs them)")
    subprocess.run([npm, "ci", "--prefix", str(HERE), "--no-audit", "--no-fund"], check=True, timeout=300,
                   capture_output=True)


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs node (20 or later) for the OpenID Provider")
    _install()
    where = tmp_path_factory.mktemp("oidc")
    config = where / "config.json"
    config.write_text(json.dumps({
        "clients": [{
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token_endpoint_auth_method": "client_secret_basic",
            # native: the provider accepts any port on a loopback address (RFC 8252), as the
            # live server in the browser tests has one of its own
            "application_type": "native",
            "redirect_uris": [f"{PUBLIC_URL}/auth/callback"], "post_logout_redirect_uris": [f"{PUBLIC_URL}/"],
        }],
        "accounts": ACCOUNTS,
    }))
    log = where / "provider.log"
    with log.open("w") as errors:
        process = subprocess.Popen([node, str(HERE / "provider.mjs"), str(config)], stdout=subprocess.PIPE,
                                   stderr=errors, text=True)
    try:
        line = process.stdout.readline()  # the provider prints its issuer once it listens
        if not line:
            raise RuntimeError(f"the OpenID Provider exited ({process.wait(timeout=10)}) before it listened:\n"
                               + log.read_text()[-2000:])
        yield Provider(json.loads(line)["issuer"], process)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
