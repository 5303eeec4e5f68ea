"""What the app keeps between requests: the team's store, the team as last
read from it (reloaded when the roster, record or ticket counts change),
rendered feeds, the editors and the clock. Views get all of it through the
functions here."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from datetime import datetime

import pendulum
from flask import Flask, current_app, g

from scheduler.errors import RotaError
from scheduler.store.base import Store
from scheduler.store.opening import open_store
from scheduler.store.signincounts import Policy
from scheduler.team import Team

from web.ticketpanel import TicketPanel


class TeamCache:
    """The team, re-read only when the store says it changed (another editor,
    a cron job, a git pull; the roster, its record, the kept ticket count),
    so that most requests parse nothing."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._key = None
        self._team: Team | None = None
        self._error: RotaError | None = None  # why the store as it is now cannot be read

    def get(self) -> Team:
        return self.current()[0]

    def current(self) -> tuple[Team, Hashable]:
        """The team and the store's stamp it was read at: a cache of what is
        made from the team keys on that stamp, asked once per request (on a
        database, asking is a round trip)."""
        key = self.store.stamp()
        with self._lock:
            if key != self._key or (self._team is None and self._error is None):
                # A broken file is parsed once per change, not once per request.
                try:
                    self._team, self._error = Team.load(self.store), None
                except RotaError as e:
                    self._team, self._error = None, e
                self._key = key
            if self._error is not None:
                raise self._error.with_traceback(None)  # raised again: keep its traceback from growing
            return self._team, key


class State:
    """The store is opened when the app starts or, when the database cannot
    be reached then, at the first request that needs it: an app started
    while its database is down answers 503 until it is back, instead of
    failing to start."""

    def __init__(self, app: Flask):
        self._app = app
        self._opened: tuple | None = None
        self._opening = threading.Lock()
        self.feeds: dict = {}  # (scope, window, files) -> rendered feed
        self.timelines: dict = {}  # (member, window, day, stamp) -> rendered picture
        # Each password check takes about 32 MiB (scrypt) for a moment: this
        # many at once per process, and the others are refused at once.
        self.hashing = threading.BoundedSemaphore(app.config["SIGNIN_CONCURRENCY"])
        self.tickets = TicketPanel(app.logger)
        self.lock = threading.Lock()
        try:
            self._open()
        except RotaError as e:
            if not getattr(e, "store_unavailable", False):
                raise
            app.logger.error("starting without the store: %s", e)

    def _open(self) -> tuple:
        opened = self._opened
        if opened is not None:  # every request asks: no lock once the store is open
            return opened
        with self._opening:
            if self._opened is None:
                app = self._app
                store = open_store(app.config["SETTINGS"], app.config["ROSTER"], app.config.get("TEAM"),
                                   editors=app.config["EDITORS"])
                client, account = app.config["SIGNIN_LIMIT"], app.config["SIGNIN_ACCOUNT_LIMIT"]
                failures = store.signin_failures(
                    {"client": Policy(client[0], client[1], client[1], client[1]),
                     "account": Policy(*account), "device": Policy(*account)},
                    max_entries=app.config["SIGNIN_TABLE_SIZE"])
                self._opened = (store, TeamCache(store), store.editors(), failures)
            return self._opened

    @property
    def store(self) -> Store:
        return self._open()[0]

    @property
    def teams(self) -> TeamCache:
        return self._open()[1]

    @property
    def editors(self):
        return self._open()[2]

    @property
    def signin_failures(self):
        return self._open()[3]


def init_app(app: Flask) -> None:
    app.extensions["rota"] = State(app)


def state() -> State:
    return current_app.extensions["rota"]


def team() -> Team:
    return state().teams.get()


def team_keyed() -> tuple[Team, Hashable]:
    """The team and the store's stamp it was read at."""
    return state().teams.current()


def team_as_seen() -> tuple[Team, Hashable]:
    """`team_keyed`, as the person asking may see it: someone not signed in
    gets the team without the roster's notes (a note may say why someone is
    away; the feeds that carry them are the team's too), keyed apart."""
    team, stamp = team_keyed()
    if g.get("person") is None:
        return team.for_outsiders(), ("outsiders", stamp)
    return team, stamp


def fresh_team() -> Team:
    """A private copy read now, for a change that is about to be written."""
    return Team.load(state().store)


def now() -> datetime:
    # The page's only instant. CLOCK is settable only from Python (tests), never
    # from the environment or a request, so no save can act ahead of the clock.
    clock = current_app.config["CLOCK"]
    return clock() if clock else pendulum.now("UTC")
