"""The editors' ticket panel: Zendesk's view of the support groups, fetched
beside the request so that Zendesk can never hold the page.

A check runs in a worker thread and the page waits for it at most
TICKETS_WAIT seconds. What a check learns, a report or a failure, is kept
(TICKETS_TTL, or TICKETS_RETRY for a failure), so that a broken or hung
Zendesk costs one short wait per period rather than one per request; and at
most one check per Zendesk runs at a time, however many people load the
page. A check that answers after the page stopped waiting still fills the
panel for the next request."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from logging import Logger

from scheduler.errors import RotaError


@dataclass
class Outcome:
    at: datetime  # the page's clock when the check began
    report: object | None = None
    error: str | None = None


@dataclass
class _Check:
    at: datetime
    done: threading.Event
    outcome: Outcome | None = None


class TicketPanel:
    def __init__(self, logger: Logger):
        self._logger = logger
        self._lock = threading.Lock()
        self._kept: dict[str, Outcome] = {}
        self._running: dict[str, _Check] = {}

    def get(self, key: str, fetch: Callable[[], object], now: datetime, *,
            ttl: float, retry: float, wait: float) -> tuple[object | None, str | None]:
        """(report, error) for the page: what is kept while it is fresh, else
        what a check (the running one, or a new one) tells within `wait` s."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and now - kept.at < timedelta(seconds=retry if kept.error else ttl):
                return kept.report, kept.error
            check = self._running.get(key)
            if check is None:
                check = self._running[key] = _Check(now, threading.Event())
                try:
                    threading.Thread(target=self._run, args=(key, check, fetch), daemon=True,
                                     name="rota-tickets").start()
                except RuntimeError as e:  # no thread to be had: the page goes on without tickets
                    del self._running[key]
                    return None, f"could not start the check: {e}"
        if check.done.wait(wait):
            return check.outcome.report, check.outcome.error
        late = Outcome(now, error=f"Zendesk did not answer within {wait:g} s; the page asks again after {retry:g} s")
        with self._lock:
            if not check.done.is_set():
                self._kept[key] = late
                return None, late.error
        return check.outcome.report, check.outcome.error

    def _run(self, key: str, check: _Check, fetch: Callable[[], object]) -> None:
        try:
            outcome = Outcome(check.at, report=fetch())
        except RotaError as e:
            outcome = Outcome(check.at, error=str(e))
        except Exception as e:  # zenpy lets some odd answers escape as anything at all
            self._logger.exception("the ticket check failed")
            outcome = Outcome(check.at, error=f"unexpected answer ({type(e).__name__}: {e})")
        with self._lock:
            check.outcome = outcome
            self._kept[key] = outcome
            del self._running[key]
            check.done.set()
