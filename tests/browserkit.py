"""What the browser tests share: Debian's Chromium started headless through
Playwright, the app served on a loopback port for it, and the screenshots
kept as test artifacts in $ROTA_TEST_ARTIFACTS (default test-artifacts/ at
the top of the repository)."""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
ARTIFACTS = Path(os.environ.get("ROTA_TEST_ARTIFACTS", Path(__file__).parents[1] / "test-artifacts"))

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="needs Debian's chromium (scripts/test installs it)")


@contextmanager
def serving(app):
    """The app on a free loopback port, in a thread: its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def chromium():
    """A headless Chromium, closed when the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def artifact(name: str) -> str:
    """Where to keep the screenshot `name`."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS / name)


@pytest.fixture
def sso_site(roster_dir, oidc_provider):
    """A team of four served on loopback, signing in only through the test
    OpenID Provider, on Tue 2027-01-12: (its URL, its roster's path)."""
    import pendulum

    from rosterkit import team, yaml_text
    from web import create_app

    path = roster_dir / "team.yaml"
    path.write_text(yaml_text(team("Ada Lovelace", "Bob Kahn", "Cy Young", "Di Fox", holidays="US")))
    now = pendulum.datetime(2027, 1, 12, 15, tz="UTC")
    # No ROTA_PUBLIC_URL: the redirect URI is this server's own loopback address and port.
    app = create_app({"ROSTER": str(path), "SECRET_KEY": "browser-test", "CLOCK": lambda: now,
                      "OIDC": oidc_provider.settings, "LOCAL_PASSWORDS": False})
    with serving(app) as url:
        yield url, path
