"""How long an adapter keeps trying before it gives up and says why.

Shared by the Zendesk, Google and Slack adapters: a number of retries for
passing failures (5xx, dropped connections) with exponential backoff and
jitter, a budget of seconds for waiting out rate limits, the connect and
read timeouts of every request, and optionally a deadline (`rota run` has
one) that no request and no wait may run past. The waiting goes through an
injected `sleep` and the deadline is read from an injected monotonic
`clock`, so tests pass time in instead of sleeping.

`Patience.call(ask, classify)` runs the loop: it asks, and the adapter's
`classify` says what the answer (or the exception) means in its library's
terms: it stands (None), or ask again (`Retry`), or give up now (classify
raises). The policy decides whether there is still patience for the wait,
and when there is not, the `Retry`'s `give_up` says so in the adapter's
words.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from scheduler.settings import Settings

CONNECT_TIMEOUT, READ_TIMEOUT = 10.0, 30.0
MAX_TIMEOUT = 600.0
MAX_DOUBLINGS = 6  # backoff grows 1 s, 2 s, ... and stops growing at 64 s

T = TypeVar("T")


@dataclass
class Tries:
    """Where one call stands: backoffs made so far (`attempt`), seconds spent
    waiting out rate limits, and, once patience ran out, why: "retries",
    "budget" (of rate-limit waits) or "deadline"."""

    attempt: int = 0
    rate_waited: float = 0.0
    reason: str | None = None


@dataclass(frozen=True)
class Retry:
    """Ask again. `wait`: seconds the service asked for (Retry-After), else
    exponential backoff (which counts as an attempt). A `rate_limited` wait
    is bounded by the rate-limit budget instead of the number of retries.
    `give_up(tries)` is the exception to raise when patience runs out, or
    None to let the last answer stand."""

    give_up: Callable[[Tries], BaseException | None] = lambda tries: None
    wait: float | None = None
    rate_limited: bool = False


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a connection, and for each answer once connected."""

    connect: float = CONNECT_TIMEOUT
    read: float = READ_TIMEOUT


class Patience:
    def __init__(self, sleep: Callable[[float], None] = time.sleep, *, retries: int = 4,
                 rate_limit_budget: float = 120.0, backoff: float = 1.0,
                 jitter: Callable[[], float] = random.random, timeouts: Timeouts | None = None,
                 clock: Callable[[], float] = time.monotonic, deadline: float | None = None):
        self.sleep, self.retries, self.budget = sleep, retries, rate_limit_budget
        self.backoff, self.jitter = backoff, jitter
        self.timeouts = timeouts  # None: the adapter's client takes them from the settings
        self.clock, self.deadline = clock, deadline  # deadline: a reading of `clock`, or None
        self.waited = 0.0

    def backoff_delay(self, attempt: int) -> float:
        """1 s, 2 s, 4 s, ... plus up to a second of jitter, so that many
        clients failing together do not retry together."""
        return self.backoff * 2**min(attempt, MAX_DOUBLINGS) + self.jitter()

    def call(self, ask: Callable[[], T], classify: Callable[[Any, Tries], Retry | None]) -> T:
        """`ask()` until its answer stands. `classify(answer, tries)` sees each
        answer, or the exception `ask` raised, and returns None (it stands:
        returned, or raised again), a `Retry`, or raises to give up at once."""
        tries = Tries()
        while True:
            try:
                answer, failed = ask(), False
            except Exception as e:  # classify says what it means; a KeyboardInterrupt is not ours to judge
                answer, failed = e, True
            retry = classify(answer, tries)
            if retry is not None:
                delay = retry.wait if retry.wait is not None else self.backoff_delay(tries.attempt)
                if retry.rate_limited and tries.rate_waited + delay > self.budget:
                    tries.reason = "budget"
                elif not retry.rate_limited and tries.attempt >= self.retries:
                    tries.reason = "retries"
                elif not self.allows(delay):
                    tries.reason = "deadline"
                else:
                    tries.rate_waited += delay if retry.rate_limited else 0.0
                    self.wait(delay)
                    tries.attempt += retry.wait is None
                    continue
                error = retry.give_up(tries)
                if error is not None:
                    raise error
            if failed:
                raise answer
            return answer

    def wait(self, seconds: float) -> None:
        self.waited += seconds
        self.sleep(seconds)

    # -- the deadline ------------------------------------------------------------------
    def stop_at(self, seconds_from_now: float) -> None:
        self.deadline = self.clock() + seconds_from_now

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline - self.clock()

    def allows(self, seconds: float) -> bool:
        """Whether waiting `seconds` still leaves time to ask again."""
        left = self.remaining()
        return left is None or seconds < left

    def request_timeouts(self) -> tuple[float, float]:
        """(connect, read) for the next request: the configured timeouts,
        cut short where the deadline comes first. Callers check `allows(0)`
        before asking."""
        t = self.timeouts or Timeouts()
        left = self.remaining()
        if left is None:
            return t.connect, t.read
        left = max(left, 0.001)
        return min(t.connect, left), min(t.read, left)


def with_timeouts(patience: Patience | None, settings: Settings) -> Patience:
    """`patience` (or the default one), with the settings' timeouts unless it
    was given its own (then bad ones in the environment do not matter)."""
    patience = patience or Patience()
    if patience.timeouts is None:
        patience.timeouts = settings.timeouts
    return patience


def retry_after_seconds(value) -> float:
    """A Retry-After header as seconds to wait: at least one, so that a zero
    repeated still uses up the budget. Clients give header values as a string,
    or as a list of them."""
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1.0, float(value))
    except (TypeError, ValueError):
        return 1.0

