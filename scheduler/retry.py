"""How long an adapter keeps trying before it gives up and says why.

Shared by the Zendesk and Google adapters: a number of retries for passing
failures (5xx, dropped connections) with exponential backoff and jitter, and
a budget of seconds for waiting out rate limits. The waiting goes through an
injected `sleep`, so tests pass time in instead of sleeping.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable


class Patience:
    def __init__(self, sleep: Callable[[float], None] = time.sleep, *, retries: int = 4,
                 rate_limit_budget: float = 120.0, backoff: float = 1.0,
                 jitter: Callable[[], float] = random.random):
        self.sleep, self.retries, self.budget = sleep, retries, rate_limit_budget
        self.backoff, self.jitter = backoff, jitter
        self.waited = 0.0

    def backoff_delay(self, attempt: int) -> float:
        """1 s, 2 s, 4 s, ... plus up to a second of jitter, so that many
        clients failing together do not retry together."""
        return self.backoff * 2**attempt + self.jitter()

    def wait(self, seconds: float) -> None:
        self.waited += seconds
        self.sleep(seconds)


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
