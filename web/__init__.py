"""rota's web page: who is on support, what is coming, how to subscribe, and
forms to change the roster.

`create_app()` is the factory (`gunicorn 'web:create_app()'`). Settings come
from the environment, or from `test_config`:

ROTA_ROSTER       the roster file (default rosters/example.yaml)
ROTA_SECRET_KEY   signs sessions and derives the feed tokens; rotating it
                  signs everyone out and revokes every feed URL. Without it
                  a key is generated once and kept in the instance folder.
ROTA_PUBLIC_URL   the base URL people reach the app at (for feed links);
                  default: the URL of the request
ROTA_PRIVATE      "1": reading the page needs a signed-in editor too
ROTA_EDITORS      the editors file (default beside the roster)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from scheduler.errors import FileError, RosterInvalid, RotaError

MAX_BODY = 64 * 1024
RETRY_AFTER = 300  # seconds a client should wait after a 503: a person has to fix a file

csrf = CSRFProtect()


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        ROSTER=os.environ.get("ROTA_ROSTER", "rosters/example.yaml"),
        PUBLIC_URL=os.environ.get("ROTA_PUBLIC_URL"),
        PRIVATE=os.environ.get("ROTA_PRIVATE", "") in ("1", "true", "yes"),
        EDITORS=os.environ.get("ROTA_EDITORS"),
        SECRET_KEY=os.environ.get("ROTA_SECRET_KEY"),
        MAX_CONTENT_LENGTH=MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("ROTA_PUBLIC_URL", "").startswith("https://"),
        WTF_CSRF_TIME_LIMIT=None,  # valid for the session: a form left open over lunch still works
        CLOCK=None,  # tests pass a function returning the current instant
        SIGNIN_LIMIT=(5, 15 * 60),  # failed sign-ins allowed per (address, email) in that many seconds
        TICKETS_TTL=300,  # seconds between two ticket checks for the page
        TICKETS_RETRY=60,  # seconds before a failed ticket check is tried again
        TICKETS_WAIT=2.0,  # seconds the page waits for Zendesk before showing the page without it
    )
    if test_config:
        app.config.update(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    from . import auth, feeds, pages, roster, state

    state.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(roster.bp)

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

    _safety_net(app)
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
        if request.blueprint == "feeds":  # calendar clients show no page: say it in text
            return _text(503, "This feed is unavailable until this is fixed:\n" + "\n".join(problems))
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


def _page(status: int, title: str, message: str, problems: list[str] | None = None):
    try:
        body = render_template("error.html", title=title, message=message, problems=problems or [])
    except Exception:  # the page itself failed (a template, the session): still say what happened
        return _text(status, "\n".join([title, message, *(problems or [])]))
    return body, status, _retry_after(status)


def _text(status: int, text: str):
    return text + "\n", status, {"Content-Type": "text/plain; charset=utf-8", **_retry_after(status)}


def _retry_after(status: int) -> dict:
    return {"Retry-After": str(RETRY_AFTER)} if status == 503 else {}


def _instance_secret(instance: Path) -> str:
    """A key generated once and kept, so that feed URLs survive restarts."""
    path = instance / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key
