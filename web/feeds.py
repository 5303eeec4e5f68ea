"""ICS feeds behind secret URLs: the team's and each member's.

A feed URL carries a token derived from the app's secret key and the feed's
scope, so anyone with the link can subscribe without signing in, and
rotating the key revokes every link. Feeds are rendered once per change of
the roster, the record or the window, and answer 304 to clients that
already have the current bytes (ETag / Last-Modified)."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, request, url_for

from scheduler.publish import icsfeed
from scheduler.core.schedule import WEEKS_BACK

from web import state

bp = Blueprint("feeds", __name__, url_prefix="/feeds")
TOKEN = re.compile(r"[0-9a-f]{32}")
CACHE_LIMIT = 256  # rendered feeds kept; old windows and versions fall out


def token(scope: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"feed:{scope}".encode(), hashlib.sha256).hexdigest()[:32]


def links(scope: str, email: str | None = None) -> dict[str, str]:
    """The feed's URL as https (or http locally) and as webcal."""
    if email:
        path = url_for("feeds.member_feed", email=email, token=token(scope))
    else:
        path = url_for("feeds.team_feed", token=token(scope))
    base = (current_app.config["PUBLIC_URL"] or request.url_root).rstrip("/")
    web = base + path
    return {"https": web, "webcal": "webcal://" + web.split("://", 1)[1]}


@bp.route("/team/<token>.ics")
def team_feed(token):
    return _serve("team", token, None)


@bp.route("/member/<email>/<token>.ics")
def member_feed(email, token):
    return _serve(f"member:{email.lower()}", token, email.lower())


def _serve(scope: str, given: str, email: str | None):
    # A wrong token, of any shape or alphabet, looks like no feed at all.
    if not TOKEN.fullmatch(given) or not hmac.compare_digest(given.encode(), token(scope).encode()):
        abort(404)
    st = state.state()
    team, stamp = st.teams.current()
    schedule = team.schedule()
    now = state.now()
    window = schedule.default_window(now)
    key = (scope, window, stamp)
    cached = st.feeds.get(key)
    if cached is None:
        cached = _render(team, schedule, window, email)
        with st.lock:
            if len(st.feeds) >= CACHE_LIMIT:
                st.feeds.clear()
            st.feeds[key] = cached
    data, etag, modified = cached
    response = current_app.response_class(data, mimetype="text/calendar")
    response.charset = "utf-8"
    response.set_etag(etag)
    response.last_modified = modified
    response.cache_control.private = True
    response.cache_control.max_age = 900
    response.headers["Content-Disposition"] = f'inline; filename="{team.roster.id}.ics"'
    return response.make_conditional(request)


def _render(team, schedule, window, email: str | None) -> tuple[bytes, str, datetime]:
    member = None
    if email is not None:
        member = team.roster.member(email)
        if member is None:
            abort(404)
    feed = icsfeed.team_feed(team, window, member)
    # The window moves every Monday even when no file changes: so does the feed.
    moved = schedule.day_start(window.first + timedelta(weeks=WEEKS_BACK)).in_timezone("UTC")
    modified = max(feed.stamp, moved).replace(microsecond=0)
    return feed.data, hashlib.sha256(feed.data).hexdigest()[:32], modified
