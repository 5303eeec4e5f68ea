"""Signing in with the organisation's OpenID Provider (cloud.gov's identity
provider, Login.gov, Google Workspace, Okta, Keycloak...).

Authlib's Flask client does the protocol: the authorization code flow with
state, nonce and PKCE (S256), kept in the session between the two legs; the
ID token's signature checked against the provider's published keys (JWKS),
its issuer, audience, expiry and nonce. What rota adds: the person is the
token's `email` claim, lower-cased, and an email the provider says it has
not verified is refused. What they may then do is `web.people`'s business.

Every call to the provider has the configured timeouts; a provider that is
down, slow or answers what cannot be trusted gets a page that says so, and
nobody is signed in. Authlib is imported only when a provider is configured.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from web import people, state

bp = Blueprint("sso", __name__, url_prefix="/auth")
NAME = "provider"
NEXT = "sso_next"  # where to go once signed in, kept in the session across the provider's pages


def init_app(app) -> None:
    provider = app.config["OIDC"]
    if provider is None:
        return
    from authlib.integrations.flask_client import OAuth

    timeouts = app.config["SETTINGS"].timeouts
    oauth = OAuth(app)
    oauth.register(NAME, client_id=provider.client_id, client_secret=provider.client_secret,
                   server_metadata_url=provider.discovery_url,
                   client_kwargs={"scope": "openid email", "code_challenge_method": "S256",
                                  "default_timeout": (timeouts.connect, timeouts.read)})
    app.extensions["rota_sso"] = oauth.create_client(NAME)
    app.register_blueprint(bp)


def _client():
    return current_app.extensions["rota_sso"]


def _base_url() -> str:
    return (current_app.config["PUBLIC_URL"] or request.url_root).rstrip("/")


@bp.route("/login")
def login():
    from web.auth import _safe_next

    target = _safe_next(request.args.get("next"))
    try:
        response = _client().authorize_redirect(_base_url() + url_for("sso.callback"))
    except Exception as error:  # noqa: BLE001 - whatever the provider did, say so on a page
        return _provider_failed(error)
    session[NEXT] = target
    return response


@bp.route("/callback")
def callback():
    from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError

    client = _client()
    if request.args.get("error"):
        return _not_signed_in(f"The sign-in service said no ({_said(request.args)}).", 401)
    try:
        token = client.authorize_access_token()
    except MismatchingStateError:
        return _not_signed_in("This sign-in did not start here, or was already used (its state does not match "
                              "one this browser began). Sign in again.", 400)
    except OAuthError as error:
        return _not_signed_in(f"The sign-in service refused to complete the sign-in ({error.error}"
                              f"{': ' + error.description if error.description else ''}). Sign in again.", 401)
    except Exception as error:  # noqa: BLE001
        return _provider_failed(error)
    claims = token.get("userinfo")
    if claims is None:
        return _not_signed_in("The sign-in service gave no ID token, so nobody can be signed in.", 502)
    email = str(claims.get("email") or "").strip().lower()
    if "@" not in email:
        return _not_signed_in("The sign-in service did not give an email address, which rota needs to know who "
                              "you are. Ask its administrators to release the email claim to rota.", 403)
    if claims.get("email_verified") is False:
        return _not_signed_in(f"The sign-in service has not verified that {email} is yours, so rota cannot sign "
                              "you in with it. Verify the address with the sign-in service and try again.", 403)
    target = session.get(NEXT) or url_for("pages.index")
    editor = state.state().editors.get(email)
    people.begin_session(email, people.PROVIDER, editor, id_token=token["id_token"])
    flash(f"Signed in as {editor.name if editor else email}.", "ok")
    return redirect(target)


def end_session_url(id_token: str) -> str | None:
    """Where to send the browser so that the provider's session ends too, and
    back to the page after; None when the provider offers no end-session
    endpoint or cannot be asked."""
    try:
        endpoint = _client().load_server_metadata().get("end_session_endpoint")
    except Exception as error:  # noqa: BLE001
        current_app.logger.warning("sign-out: the provider's discovery document could not be read: %s", _why(error))
        flash("Signed out of rota; the sign-in service could not be reached, so you may still be signed in there.",
              "error")
        return None
    if not endpoint:
        return None
    query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": _base_url() + url_for("pages.index"),
                       "client_id": current_app.config["OIDC"].client_id})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def _said(args) -> str:
    return args["error"] + (f": {args['error_description']}" if args.get("error_description") else "")


def _not_signed_in(sentence: str, status: int):
    session.pop(NEXT, None)
    current_app.logger.warning("sign-in through the provider refused: %s", sentence)
    return render_template("error.html", title="Not signed in", message=sentence, problems=[]), status


def _provider_failed(error: Exception):
    """Down, slow, or an answer rota cannot trust: which, in one sentence."""
    import requests
    from joserfc.errors import ExpiredTokenError, JoseError

    where = current_app.config["OIDC"].issuer
    if isinstance(error, requests.Timeout):
        sentence, status = f"The sign-in service at {where} did not answer in time. Try again in a minute.", 504
    elif isinstance(error, requests.ConnectionError):
        sentence, status = f"The sign-in service at {where} cannot be reached. Try again in a minute.", 503
    elif isinstance(error, ExpiredTokenError):
        sentence, status = "The sign-in service's ID token has expired (is a clock wrong?). Sign in again.", 401
    elif isinstance(error, JoseError):
        sentence, status = (f"The sign-in service's ID token could not be trusted ({_why(error)}), so nobody was "
                            "signed in.", 401)
    else:
        sentence, status = (f"The sign-in service at {where} gave an answer rota cannot use ({_why(error)}). "
                            "Try again later, or tell whoever runs rota.", 502)
    current_app.logger.warning("sign-in through the provider failed: %s", sentence)
    session.pop(NEXT, None)
    return render_template("error.html", title="Not signed in", message=sentence, problems=[]), status


def _why(error: Exception) -> str:
    text = str(error).splitlines()[0][:200] if str(error) else ""
    return f"{type(error).__name__}{': ' + text if text else ''}"
