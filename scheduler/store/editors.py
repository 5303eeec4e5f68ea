"""The people allowed to edit the roster on the web page.

Kept beside the roster in ``NAME.editors.json`` (or wherever $ROTA_EDITORS
says), never in the roster itself: each editor's email, name and a salted
password hash from `werkzeug.security`, and a session generation. The file
is written atomically with mode 0600, under a lock so that the web page and
`rota user` never lose each other's changes; `rota user add` and
`rota user remove` manage it. An editor added without a password (`rota
user add --sso`) signs in only through the organisation's provider.

A signed-in session carries the generation it began with; bumping it (on
sign-out, and whenever the password changes) ends every session of that
editor, including copies of the cookie.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from scheduler.store.atomicfile import write_atomic
from scheduler.errors import RotaError
from scheduler.store.filelock import locked

MIN_PASSWORD = 12


def hash_password(password: str) -> str:
    from werkzeug.security import generate_password_hash  # only where a password is set or checked

    return generate_password_hash(password)


def password_matches(hashed: str, password: str) -> bool:
    from werkzeug.security import check_password_hash

    return check_password_hash(hashed, password)


@functools.cache
def dummy_hash() -> str:
    """Checked against when the email is unknown, so that a wrong email takes
    as long as a wrong password and sign-in does not reveal who is an editor.
    Made on first use: hashing takes a tenth of a second, which every command
    that opens a store would otherwise pay at import."""
    return hash_password("not a real password, only for timing")


@dataclass(frozen=True)
class Editor:
    email: str
    name: str
    generation: int = field(default=0, compare=False)


class EditorStore:
    def __init__(self, path: Path):
        self.path = path

    def _load(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            raise RotaError(f"{self.path}: cannot read the editors file: {e}") from None
        return data.get("editors", {})

    def _save(self, editors: dict[str, dict]) -> None:
        data = (json.dumps({"editors": editors}, indent=2, sort_keys=True) + "\n").encode()
        write_atomic(self.path, data, mode=0o600)  # password hashes: for rota's user only

    def _lock(self):
        return locked(self.path.with_name(f".{self.path.name}.lock"))

    def list(self) -> list[Editor]:
        return [_editor(email, e) for email, e in sorted(self._load().items())]

    def add(self, email: str, password: str | None, name: str | None = None) -> Editor:
        email, hashed = checked_credentials(email, password)
        with self._lock():
            editors = self._load()
            old = editors.get(email, {})
            # A new password ends the sessions begun with the old one.
            editors[email] = {"name": name or old.get("name") or email, "hash": hashed,
                              "generation": old.get("generation", 0) + 1 if old else 0}
            self._save(editors)
        return _editor(email, editors[email])

    def remove(self, email: str) -> bool:
        with self._lock():
            editors = self._load()
            if editors.pop(email.strip().lower(), None) is None:
                return False
            self._save(editors)
        return True

    def end_sessions(self, email: str) -> None:
        """Every session of this editor ends (signing out does this)."""
        with self._lock():
            editors = self._load()
            entry = editors.get(email)
            if entry is None:
                return
            entry["generation"] = entry.get("generation", 0) + 1
            self._save(editors)

    def verify(self, email: str, password: str) -> Editor | None:
        email = email.strip().lower()
        entry = self._load().get(email)
        if entry is None or not entry["hash"]:
            password_matches(dummy_hash(), password)
            return None
        if not password_matches(entry["hash"], password):
            return None
        return _editor(email, entry)

    def get(self, email: str) -> Editor | None:
        entry = self._load().get(email)
        return _editor(email, entry) if entry else None


def checked_credentials(email: str, password: str | None) -> tuple[str, str]:
    """The editor's email as kept (lower-case) and the password's hash (empty
    for no password: no password matches it), or the reason either is
    refused: the same rules for every store."""
    email = email.strip().lower()
    if "@" not in email:
        raise RotaError(f"{email!r} is not an email address")
    if password is None:
        return email, ""
    if len(password) < MIN_PASSWORD:
        raise RotaError(f"the password must have at least {MIN_PASSWORD} characters")
    return email, hash_password(password)


def _editor(email: str, entry: dict) -> Editor:
    return Editor(email, entry.get("name", email), entry.get("generation", 0))
