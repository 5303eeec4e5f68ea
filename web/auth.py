"""Signing in with rota's own passwords, and signing out; who is signed in
and what they may do is `web.people`'s, the organisation's provider `web.sso`'s.

Passwords are checked against salted hashes (werkzeug.security); the session
is a signed cookie that also carries the editor's session generation (see
`scheduler.store.editors`) and when it was last used, so that signing out or a new
password ends every copy of it, and a day's idleness ends it too.

Failed sign-ins are counted per client and per account (`scheduler.store.signincounts`)
before any password is hashed, and only a few hashes run at once, so that
neither guessing nor a flood of attempts gets far. A browser that has signed
in as an editor before keeps a device cookie, and its attempts for that
editor are counted on their own: someone guessing at an editor's password
slows down their own guesses, not the editor's.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, g, has_request_context, redirect, render_template, request,
                   session, url_for)
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from scheduler.errors import RotaError

from web import people, sso, state
from web.people import editor_required  # noqa: F401  (its old home: views import it from here too)
from scheduler.store.signincounts import Unavailable

bp = Blueprint("auth", __name__)
DEVICE_COOKIE = "rota_device"
DEVICE_DAYS = 365


class SessionInterface(SecureCookieSessionInterface):
    """Secure cookies whenever the request came over https (directly, or
    through a trusted proxy that said so), not only when configured."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure))


@bp.before_app_request
def load_person():
    people.load()


@bp.route("/signin", methods=("GET", "POST"))
def signin():
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("signin.html", next=target)
    if not current_app.config["LOCAL_PASSWORDS"]:
        return people.refuse("Passwords kept by rota are turned off here: sign in with your organisation's account.")
    email = request.form.get("email", "").strip().lower()
    st = state.state()
    if not st.hashing.acquire(blocking=False):
        return _refused(target, email, "Too many sign-ins at once. Try again in a few seconds.", 1)
    try:
        keys = [("client", request.remote_addr or ""), _account_key(email)]
        now = state.now().timestamp()
        wait = st.signin_failures.attempt(keys, now)
        if wait > 0:
            return _refused(target, email, f"Too many failed sign-ins. Try again in {math.ceil(wait / 60)} minute(s).",
                            math.ceil(wait))
        editor = st.editors.verify(email, request.form.get("password", ""))
        if editor is not None:
            st.signin_failures.succeeded(keys, now)
    except Unavailable:
        return render_template("signin.html", next=target, email=email,
                               error="Signing in is not possible just now. Try again in a minute."), 503
    finally:
        st.hashing.release()
    if editor is None:
        return render_template("signin.html", next=target, email=email, error="Wrong email or password."), 401
    people.begin_session(editor.email, people.PASSWORD, editor)
    flash(f"Signed in as {editor.name}.", "ok")
    response = redirect(target)
    response.set_cookie(DEVICE_COOKIE, _device_cookie(email), max_age=DEVICE_DAYS * 86400, path=url_for("auth.signin"),
                        secure=SessionInterface().get_cookie_secure(current_app), httponly=True, samesite="Lax")
    return response


@bp.route("/signout", methods=("POST",))
def signout():
    """Ends the session here and, for an editor, everywhere; signed in through
    a provider that offers it, the provider's session ends too."""
    if g.editor is not None:
        try:
            state.state().editors.end_sessions(g.editor.email)
        except (OSError, RotaError):
            flash("Signed out here, but sessions elsewhere could not be ended: the editors file cannot be written.",
                  "error")
    id_token = session.get("id_token") if session.get("via") == people.PROVIDER else None
    session.clear()
    flash("Signed out.", "ok")
    if id_token is not None:
        away = sso.end_session_url(id_token)
        if away is not None:
            return redirect(away)
    return redirect(url_for("pages.index"))


def _refused(target: str, email: str, message: str, retry_after: int):
    page = render_template("signin.html", next=target, email=email, error=message)
    return page, 429, {"Retry-After": str(retry_after)}


def _account_key(email: str) -> tuple[str, str]:
    """This browser's own count if it signed in as this editor before,
    else the account's."""
    device = _device_id(email)
    return ("device", device) if device else ("account", email)


def _device_id(email: str) -> str | None:
    try:
        device = _devices().loads(request.cookies.get(DEVICE_COOKIE, ""), max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    if isinstance(device, dict) and device.get("a") == _account_id(email) and isinstance(device.get("d"), str):
        return device["d"]
    return None


def _device_cookie(email: str) -> str:
    return _devices().dumps({"a": _account_id(email), "d": _device_id(email) or secrets.token_urlsafe(16)})


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="rota-device")


def _account_id(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else.

    Browsers drop tabs and newlines inside URLs and read a backslash as a
    slash, so `/\\t/evil.example/` and `/\\\\evil.example` both mean
    `//evil.example/`: anything with a control character or a backslash is
    refused outright, and what is left must parse as a bare path."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in target)):
        return url_for("pages.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return url_for("pages.index")
    return target
