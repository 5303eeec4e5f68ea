"""Who is signed in, and what they may do.

Signed in, a person is one of:

* an editor: named in the store (`rota user add`), signed in with their
  password or, with a provider configured, through it under the same email:
  they change anything;
* a member: signed in through the provider with the email of a current member
  of the roster: they handle their own absences (and trades);
* anyone else: they read the page, as everyone may.

`g.person` is who is signed in for this request (None: nobody), `g.editor`
their editor entry (None: not an editor). Views ask for a role with
`editor_required` or `member_required`; `refuse` is the one way to say no to
someone signed in: a 403 with a sentence, logged.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flask import current_app, flash, g, redirect, render_template, request, session, url_for

from web import state

PASSWORD, PROVIDER = "password", "provider"  # how the person signed in


@dataclass
class Person:
    email: str  # lower-case: the provider's email claim, or the editor's kept email
    via: str  # PASSWORD or PROVIDER
    editor: object | None = None  # the store's Editor while they are one, else None
    _member: tuple = field(default=(), repr=False)  # (Member or None,) once looked up

    @property
    def member(self):
        """The roster member with this email who has not left (None: not a
        current member); read from the team as it is now."""
        if not self._member:
            team = state.team()
            today = team.schedule().local_date(state.now())
            self._member = (next((m for m in team.roster.members if m.email.lower() == self.email
                                  and (m.left is None or m.left >= today)), None),)
        return self._member[0]

    @property
    def is_editor(self) -> bool:
        return self.editor is not None

    @property
    def name(self) -> str:
        """How the page and the audit log name them."""
        if self.editor is not None:
            return self.editor.name
        member = self.member
        return member.name if member is not None else self.email

    def may_change_absences_of(self, member) -> bool:
        return self.is_editor or (self.member is not None and self.member.email.lower() == member.email.lower())


def load() -> None:
    """Who this request comes from, from the session; a session that no
    longer holds (signed out elsewhere, no longer an editor, idle for a day,
    a provider's sign-in older than the day, its way of signing in turned
    off) ends here."""
    g.person = g.editor = None
    email = session.get("editor")
    if not email:
        return
    via = session.get("via", PASSWORD)
    config = current_app.config
    if (via == PASSWORD and not config["LOCAL_PASSWORDS"]) or (via == PROVIDER and config["OIDC"] is None):
        end_session()
        return
    editor = state.state().editors.get(email)
    generation = session.get("generation")
    if via == PASSWORD and (editor is None or generation != editor.generation):
        end_session()
        return
    if via == PROVIDER and generation is not None and (editor is None or generation != editor.generation):
        end_session()  # an editor's session, ended by signing out elsewhere (or no longer an editor)
        return
    now = state.now().timestamp()
    idle = now - session.get("seen", 0)
    if idle > config["SESSION_IDLE"]:
        end_session()
        flash("You were signed out after a long time without using the page.", "error")
        return
    if via == PROVIDER and now - session.setdefault("since", int(now)) > config["PROVIDER_SESSION_MAX"]:
        end_session()
        flash(f"Your sign-in is more than {config['PROVIDER_SESSION_MAX'] // 3600} hours old: sign in again.", "error")
        return
    if idle >= SEEN_EVERY:
        session["seen"] = int(now)
    if via == PROVIDER and generation is None:
        editor = None  # made an editor after signing in: it takes effect at the next sign-in
    g.person = Person(email, via, editor)
    g.editor = editor


SEEN_EVERY = 60  # seconds: how stale `seen` may get before the cookie is rewritten


def begin_session(email: str, via: str, editor=None, **extra) -> None:
    """A fresh session for this person: nothing from before signing in carries over."""
    session.clear()
    now = int(state.now().timestamp())
    session.update(editor=email, via=via, seen=now, since=now, **extra)
    if editor is not None:
        session["generation"] = editor.generation


def end_session() -> None:
    for name in ("editor", "via", "generation", "seen", "since", "id_token"):
        session.pop(name, None)


def refuse(sentence: str, status: int = 403):
    """No, with the reason, to someone signed in; logged with who and what."""
    who = g.person.email if g.get("person") else "nobody signed in"
    current_app.logger.warning("refused %s %s for %s: %s", request.method, request.path, who, sentence)
    return render_template("error.html", title="Not allowed", message=sentence, problems=[]), status


def _sign_in_first(message: str):
    if request.method == "GET":
        flash(message, "error")
        back = request.full_path if request.query_string else request.path
    else:
        # Sending them back to a form's POST address after sign-in would end on a 405:
        # back to the page of the form's part of the site (/roster/, /trades/) instead.
        flash("You are not signed in, so your change was not saved: sign in and make it again.", "error")
        blueprint = current_app.blueprints.get(request.blueprint or "")
        back = ((blueprint.url_prefix if blueprint else None) or "") + "/"
    return redirect(url_for("auth.signin", next=back))


def editor_required(view):
    """Only editors; nobody signed in is sent to sign in, anyone else refused."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.person is None:
            return _sign_in_first("Sign in as an editor to change the roster.")
        if g.editor is None:
            return refuse(f"Only the roster's editors may do this; you are signed in as {g.person.email}, "
                          "who is not one.")
        return view(*args, **kwargs)

    return wrapped


def member_required(view):
    """Editors and current members of the roster; nobody signed in is sent to
    sign in, anyone else refused."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.person is None:
            return _sign_in_first("Sign in to change your own time on the rota.")
        if g.editor is None and g.person.member is None:
            return refuse(f"Only members of the team and its editors may do this; {g.person.email} is not a "
                          "current member of the roster.")
        return view(*args, **kwargs)

    return wrapped


def closed_to_outsiders(back: str):
    """With ROTA_PRIVATE, the pages are for the team's members and editors:
    nobody signed in is sent to sign in (then back to `back`), anyone else
    refused. None: this person may read on."""
    if not current_app.config["PRIVATE"] or g.editor is not None:
        return None
    if g.person is None:
        return redirect(url_for("auth.signin", next=back))
    if g.person.member is None:
        return refuse(f"This page is only for the team and its editors; {g.person.email} is not a "
                      "current member of the roster.")
    return None
