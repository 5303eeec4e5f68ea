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

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect

MAX_BODY = 64 * 1024

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

    return app


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
