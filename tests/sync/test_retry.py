"""The one retry policy every adapter runs its calls through: time is passed
in (an injected sleep and clock), nothing sleeps."""

import pytest

from scheduler.sync.retry import Patience, Retry


class Clock:
    def __init__(self):
        self.now, self.waits = 0.0, []

    def sleep(self, seconds):
        self.waits.append(seconds)
        self.now += seconds


def answers(*items):
    """ask() giving each item in turn (raising it if it is an exception)."""
    queue = list(items)

    def ask():
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return ask


def gave_up(tries):
    return RuntimeError(f"gave up: {tries.reason} after {tries.attempt} backoffs, {tries.rate_waited:.0f} s limited")


def test_passing_failures_back_off_then_the_answer_stands():
    clock = Clock()
    p = Patience(clock.sleep, jitter=lambda: 0.0, clock=lambda: clock.now)
    ask = answers(ConnectionError("dropped"), ConnectionError("dropped"), "ok")
    result = p.call(ask, lambda a, tries: Retry(gave_up) if isinstance(a, ConnectionError) else None)
    assert result == "ok" and clock.waits == [1.0, 2.0]


def test_out_of_retries_the_adapter_says_why():
    clock = Clock()
    p = Patience(clock.sleep, retries=2, jitter=lambda: 0.0)
    with pytest.raises(RuntimeError, match="gave up: retries after 2 backoffs"):
        p.call(answers(*[ConnectionError()] * 5), lambda a, tries: Retry(gave_up))
    assert clock.waits == [1.0, 2.0]


def test_rate_limits_use_the_budget_not_the_retries():
    clock = Clock()
    p = Patience(clock.sleep, retries=1, rate_limit_budget=50, jitter=lambda: 0.0)
    limited = Retry(gave_up, wait=20, rate_limited=True)
    assert p.call(answers(429, 429, 200), lambda a, tries: limited if a == 429 else None) == 200
    assert clock.waits == [20, 20]
    with pytest.raises(RuntimeError, match="gave up: budget after 0 backoffs, 40 s limited"):
        p.call(answers(429, 429, 429, 200), lambda a, tries: limited if a == 429 else None)


def test_no_wait_runs_past_the_deadline():
    clock = Clock()
    p = Patience(clock.sleep, jitter=lambda: 0.0, clock=lambda: clock.now, deadline=10.0)
    limited = Retry(gave_up, wait=30, rate_limited=True)
    with pytest.raises(RuntimeError, match="gave up: deadline"):
        p.call(answers(429, 200), lambda a, tries: limited if a == 429 else None)
    assert clock.waits == []


def test_a_give_up_without_an_error_lets_the_last_answer_stand():
    p = Patience(Clock().sleep, retries=1, jitter=lambda: 0.0)
    assert p.call(answers(503, 503, 200), lambda a, tries: Retry() if a == 503 else None) == 503
    with pytest.raises(KeyError):  # an exception classify does not judge is raised as it came
        p.call(answers(KeyError("x")), lambda a, tries: None)
