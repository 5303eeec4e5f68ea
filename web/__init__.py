"""rota's web page: who is on support, what is coming, how to subscribe, and
forms to change the roster.

`create_app()` is the factory (`gunicorn 'web:create_app()'`). Settings come
from the environment (`scheduler.settings`, read once here unless `rota
serve` hands its own in), or from `test_config`:

ROTA_ROSTER       the roster file (default rosters/example.yaml)
ROTA_SECRET_KEY   signs sessions and derives the feed tokens (32 bytes at
                  least); rotating it signs everyone out and revokes every
                  feed URL. Without it a key is generated once and kept in
                  the instance folder.
ROTA_PUBLIC_URL   the base URL people reach the app at (for feed links);
                  default: the URL of the request
ROTA_TRUSTED_PROXIES  how many proxies in front of the app append to
                  X-Forwarded-For (default 0: the header is ignored); with
                  1 or more, the client address and https come from them
ROTA_PRIVATE      "1": reading the page needs a signed-in editor or member too
ROTA_EDITORS      the editors file (default beside the roster)
ROTA_OIDC_ISSUER, ROTA_OIDC_CLIENT_ID, ROTA_OIDC_CLIENT_SECRET
                  sign people in with the organisation's OpenID Provider
                  (or a bound cloud-gov-identity-provider service): see web.sso
ROTA_LOCAL_PASSWORDS  "off": with a provider, editors' rota passwords are refused
"""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from scheduler.errors import FileError, RosterInvalid, RotaError
from scheduler.settings import MIN_SECRET, Settings

MAX_BODY = 64 * 1024
RETRY_AFTER = 300  # seconds a client should wait after a 503: a person has to fix a file
STORE_RETRY_AFTER = 30  # ... after a 503 for a database that did not answer: restarts take seconds
SESSION_IDLE = 9 * 3600  # seconds: a working day
# A sign-in through the organisation's provider is asked for again after this
# long, in use or not: sessions nothing else can end (members', readers')
# end, and someone the provider no longer knows is out within the day.
PROVIDER_SESSION_MAX = 12 * 3600  # seconds
# Pages load scripts, styles and images from this site only, and nothing
# inline: a name or note that slipped past escaping still could not run.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'")

csrf = CSRFProtect()


def create_app(test_config: dict | None = None, settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        ROSTER=settings.roster or "rosters/example.yaml",
        PUBLIC_URL=settings.public_url,
        PRIVATE=settings.private,
        EDITORS=settings.editors,
        OIDC=settings.oidc,  # the provider people sign in with, or None
        LOCAL_PASSWORDS=settings.local_passwords,
        SECRET_KEY=settings.secret_key,
        TRUSTED_PROXIES=settings.trusted_proxies,
        SETTINGS=settings,  # for what the page asks outside systems (Zendesk's credentials)
        MAX_CONTENT_LENGTH=MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=None,  # None: when PUBLIC_URL is https; https requests get Secure cookies anyway
        SESSION_IDLE=SESSION_IDLE,
        PROVIDER_SESSION_MAX=PROVIDER_SESSION_MAX,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=SESSION_IDLE),  # the signature's own limit, as a backstop
        WTF_CSRF_TIME_LIMIT=None,  # valid for the session: a form left open over lunch still works
        CLOCK=None,  # tests pass a function returning the current instant
        SIGNIN_LIMIT=(5, 15 * 60),  # failed sign-ins a client may make, then it waits that many seconds
        # Per account: 5 free failures, then a wait of 1 minute that doubles with each failure up to
        # an hour; forgotten a day after the last failure (see scheduler.store.signincounts.Policy).
        SIGNIN_ACCOUNT_LIMIT=(5, 60, 3600, 24 * 3600),
        SIGNIN_TABLE_SIZE=10_000,  # failure counts kept at most
        # Password checks at once per process: each takes about 32 MiB, and two workers with one
        # each stay near 200 MiB at peak, within the manifest's 256M.
        SIGNIN_CONCURRENCY=1,
        TICKETS_TTL=300,  # seconds between two ticket checks for the page
        TICKETS_RETRY=60,  # seconds before a failed ticket check is tried again
        TICKETS_WAIT=2.0,  # seconds the page waits for Zendesk before showing the page without it
    )
    if test_config:
        app.config.update(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = (app.config["PUBLIC_URL"] or "").startswith("https://")
    if app.config["TRUSTED_PROXIES"]:
        # The router in front of Cloud Foundry apps appends to X-Forwarded-For and passes
        # X-Forwarded-Proto on; the Host header reaches the app as the client sent it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=1, x_host=0)

    from web import auth, fairness, feeds, pages, roster, sso, state, trades

    app.session_interface = auth.SessionInterface()
    state.init_app(app)
    csrf.init_app(app)
    sso.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(roster.bp)
    app.register_blueprint(fairness.bp)
    app.register_blueprint(trades.bp)

    @app.errorhandler(413)
    def too_large(_error):
        return render_template("error.html", title="Too much data",
                               message=f"A request may carry at most {MAX_BODY // 1024} KiB."), 413

    @app.errorhandler(CSRFError)
    def bad_csrf(_error):
        return render_template("error.html", title="Form expired",
                               message="This form is no longer valid (or did not come from this site). "
                                       "Go back, reload the page and try again."), 400

    @app.errorhandler(404)
    def not_found(_error):
        return render_template("error.html", title="Not found", message="There is no such page."), 404

    @app.after_request
    def content_policy(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    _safety_net(app)
    # Made now, not on the first sign-in with an unknown email, which would
    # otherwise take twice as long as one with a known email and tell them apart.
    from scheduler.store.editors import dummy_hash
    dummy_hash()
    return app


def _safety_net(app: Flask) -> None:
    """Whatever goes wrong, the answer says what and carries a status that
    tells clients whether to come back: never a bare 500."""

    @app.errorhandler(RotaError)
    def cannot_answer(error):
        # Views handle the errors of their own forms; one that gets here means a
        # file the app depends on is broken or unreadable: a person must fix it.
        app.logger.error("%s %s: %s", request.method, request.path, error)
        problems = [str(p) for p in error.errors] if isinstance(error, RosterInvalid) else [str(error)]
        unavailable = getattr(error, "store_unavailable", False)
        wait = STORE_RETRY_AFTER if unavailable else RETRY_AFTER
        if request.blueprint == "feeds":  # calendar clients show no page: say it in text
            return _text(503, "This feed is unavailable until this is fixed:\n" + "\n".join(problems), wait)
        if unavailable:
            return _page(503, "The store is unavailable", "rota keeps its roster and record in a database that "
                         "did not answer; this page comes back as soon as it does:", problems, wait)
        if isinstance(error, (RosterInvalid, FileError)):
            return _page(503, "The roster cannot be read", "This page comes back as soon as the file is fixed "
                         "(rota check lists every problem):", problems)
        return _page(503, "rota cannot answer right now", "This page comes back as soon as this is fixed:", problems)

    @app.errorhandler(HTTPException)
    def http_error(error):
        return _page(error.code, error.name, error.description)

    @app.errorhandler(Exception)
    def unexpected(error):
        app.logger.exception("%s %s failed", request.method, request.path)
        reason = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        return _page(500, "Something went wrong",
                     f"rota failed to answer this request ({reason}). The details are in the server log.")


def _page(status: int, title: str, message: str, problems: list[str] | None = None, wait: int = RETRY_AFTER):
    try:
        body = render_template("error.html", title=title, message=message, problems=problems or [])
    except Exception:  # the page itself failed (a template, the session): still say what happened
        return _text(status, "\n".join([title, message, *(problems or [])]), wait)
    return body, status, _retry_after(status, wait)


def _text(status: int, text: str, wait: int = RETRY_AFTER):
    return text + "\n", status, {"Content-Type": "text/plain; charset=utf-8", **_retry_after(status, wait)}


def _retry_after(status: int, wait: int) -> dict:
    return {"Retry-After": str(wait)} if status == 503 else {}


def _instance_secret(instance: Path) -> str:
    """A key generated once and kept, so that feed URLs survive restarts.

    Workers starting together may all find no key: each writes a complete
    key to a temporary file and links it into place, which succeeds for the
    first only; the others read the winner's key. Nobody ever sees the file
    half-written."""
    path = instance / "secret_key"
    key = _read_secret(path)
    if key is None:
        instance.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".secret_key.", dir=instance)  # mode 0600
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another worker was first: use its key
        finally:
            os.unlink(tmp)
        key = _read_secret(path)
    if key is None or len(key.encode()) < MIN_SECRET:
        raise RotaError(f"{path}: the kept secret key is empty or shorter than {MIN_SECRET} bytes; delete the file "
                        "to have a new one made (every feed link changes), or set ROTA_SECRET_KEY")
    return key


def _read_secret(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None
