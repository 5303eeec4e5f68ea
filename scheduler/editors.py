"""The people allowed to edit the roster on the web page.

Kept beside the roster in ``NAME.editors.json`` (or wherever $ROTA_EDITORS
says), never in the roster itself: each editor's email, name and a salted
password hash from `werkzeug.security`. The file is written atomically with
mode 0600; `rota user add` and `rota user remove` manage it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from .atomicfile import write_atomic
from .errors import RotaError

MIN_PASSWORD = 12
# Checked against when the email is unknown, so that a wrong email takes as
# long as a wrong password and sign-in does not reveal who is an editor.
_DUMMY_HASH = generate_password_hash("not a real password, only for timing")


@dataclass(frozen=True)
class Editor:
    email: str
    name: str


def path_for(roster_path: Path, env=os.environ) -> Path:
    override = env.get("ROTA_EDITORS")
    return Path(override) if override else roster_path.with_name(f"{roster_path.stem}.editors.json")


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

    def list(self) -> list[Editor]:
        return [Editor(email, e.get("name", email)) for email, e in sorted(self._load().items())]

    def add(self, email: str, password: str, name: str | None = None) -> Editor:
        email = email.strip().lower()
        if "@" not in email:
            raise RotaError(f"{email!r} is not an email address")
        if len(password) < MIN_PASSWORD:
            raise RotaError(f"the password must have at least {MIN_PASSWORD} characters")
        editors = self._load()
        editors[email] = {"name": name or editors.get(email, {}).get("name") or email,
                          "hash": generate_password_hash(password)}
        self._save(editors)
        return Editor(email, editors[email]["name"])

    def remove(self, email: str) -> bool:
        editors = self._load()
        if editors.pop(email.strip().lower(), None) is None:
            return False
        self._save(editors)
        return True

    def verify(self, email: str, password: str) -> Editor | None:
        email = email.strip().lower()
        entry = self._load().get(email)
        if entry is None:
            check_password_hash(_DUMMY_HASH, password)
            return None
        if not check_password_hash(entry["hash"], password):
            return None
        return Editor(email, entry.get("name", email))

    def get(self, email: str) -> Editor | None:
        entry = self._load().get(email)
        return Editor(email, entry.get("name", email)) if entry else None
