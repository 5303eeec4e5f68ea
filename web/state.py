"""What the app keeps between requests: the team as last read from disk
(reloaded when the roster or record file changes), rendered feeds, the
editors file and the clock. Views get all of it through the functions here."""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path

import pendulum
from flask import Flask, current_app

from scheduler.store import editors as editors_module
from scheduler.store import recordfile
from scheduler.store import ticketcounts
from scheduler.errors import RotaError
from scheduler.team import Team

from web import signinlimit
from web.ticketpanel import TicketPanel


class TeamCache:
    """The team, re-read only when its files change on disk (another editor,
    a cron job, a git pull; the roster, its record, the kept ticket count),
    so that most requests parse nothing."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._key = None
        self._team: Team | None = None
        self._error: RotaError | None = None  # why the files as they are now cannot be read

    def key(self):
        files = (self.path, recordfile.path_for(self.path), ticketcounts.path_for(self.path))
        return tuple(_stat(p) for p in files)

    def get(self) -> Team:
        key = self.key()
        with self._lock:
            if key != self._key or (self._team is None and self._error is None):
                # A broken file is parsed once per change, not once per request.
                try:
                    self._team, self._error = Team.load(self.path), None
                except RotaError as e:
                    self._team, self._error = None, e
                self._key = key
            if self._error is not None:
                raise self._error.with_traceback(None)  # raised again: keep its traceback from growing
            return self._team


def _stat(path: Path):
    try:
        s = os.stat(path)
    except FileNotFoundError:
        return None
    return (s.st_mtime_ns, s.st_size, s.st_ino)


class State:
    def __init__(self, app: Flask):
        roster = Path(app.config["ROSTER"])
        self.teams = TeamCache(roster)
        editors_path = Path(app.config["EDITORS"]) if app.config["EDITORS"] else editors_module.path_for(roster)
        self.editors = editors_module.EditorStore(editors_path)
        self.feeds: dict = {}  # (scope, window, files) -> rendered feed
        client, account = app.config["SIGNIN_LIMIT"], app.config["SIGNIN_ACCOUNT_LIMIT"]
        self.signin_failures = signinlimit.FileFailureCounts(
            signinlimit.path_for(roster),
            {"client": signinlimit.Policy(client[0], client[1], client[1], client[1]),
             "account": signinlimit.Policy(*account), "device": signinlimit.Policy(*account)},
            max_entries=app.config["SIGNIN_TABLE_SIZE"])
        # Each password check takes about 32 MiB (scrypt) for a moment: this
        # many at once per process, and the others are refused at once.
        self.hashing = threading.BoundedSemaphore(app.config["SIGNIN_CONCURRENCY"])
        self.tickets = TicketPanel(app.logger)
        self.lock = threading.Lock()


def init_app(app: Flask) -> None:
    app.extensions["rota"] = State(app)


def state() -> State:
    return current_app.extensions["rota"]


def team() -> Team:
    return state().teams.get()


def fresh_team() -> Team:
    """A private copy read now, for a change that is about to be written."""
    return Team.load(state().teams.path)


def now() -> datetime:
    # The page's only instant. CLOCK is settable only from Python (tests), never
    # from the environment or a request, so no save can act ahead of the clock.
    clock = current_app.config["CLOCK"]
    return clock() if clock else pendulum.now("UTC")
