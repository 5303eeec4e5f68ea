"""Signing in and out; only signed-in editors change anything.

Passwords are checked against salted hashes (werkzeug.security); the session
is a signed cookie. Failed sign-ins are limited per address and email, so a
password cannot be guessed by trying many."""

from __future__ import annotations

import functools
import math
from datetime import timedelta

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for

from . import state

bp = Blueprint("auth", __name__)


@bp.before_app_request
def load_editor():
    email = session.get("editor")
    g.editor = state.state().editors.get(email) if email else None


def editor_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.editor is None:
            flash("Sign in as an editor to change the roster.", "error")
            return redirect(url_for("auth.signin", next=request.path))
        return view(*args, **kwargs)

    return wrapped


@bp.route("/signin", methods=("GET", "POST"))
def signin():
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("signin.html", next=target)
    email = request.form.get("email", "").strip().lower()
    limit, window = current_app.config["SIGNIN_LIMIT"]
    now = state.now()
    key = (request.remote_addr, email)
    with state.state().lock:
        recent = [t for t in state.state().signin_failures.get(key, []) if now - t < timedelta(seconds=window)]
        state.state().signin_failures[key] = recent
    if len(recent) >= limit:
        wait = math.ceil((recent[0] + timedelta(seconds=window) - now).total_seconds() / 60)
        return render_template("signin.html", next=target, email=email,
                               error=f"Too many failed sign-ins. Try again in {wait} minute(s)."), 429
    editor = state.state().editors.verify(email, request.form.get("password", ""))
    if editor is None:
        with state.state().lock:
            state.state().signin_failures.setdefault(key, []).append(now)
        return render_template("signin.html", next=target, email=email,
                               error="Wrong email or password."), 401
    session.clear()
    session["editor"] = editor.email
    flash(f"Signed in as {editor.name}.", "ok")
    return redirect(target)


@bp.route("/signout", methods=("POST",))
def signout():
    session.clear()
    flash("Signed out.", "ok")
    return redirect(url_for("pages.index"))


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never an open redirect to somewhere else.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("pages.index")
