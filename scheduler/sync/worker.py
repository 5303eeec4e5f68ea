"""`rota run --every SECONDS`: one process that makes `rota run` again and
again, for a host with no scheduler of its own (the cloud.gov worker app).

Its libraries are imported once instead of every few minutes (most of a
run that finds nothing to do); each cycle is still a whole `rota run`: it
reads the store afresh, takes the run lock and keeps to its deadline.
Cycles begin `every` seconds apart, a cycle that ran long being followed at
once by the next; a cycle that fails says why in one line and the next one
tries again; asked to stop, it finishes the cycle under way and ends.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from scheduler.errors import RotaError, os_error_line

MIN_EVERY = 60  # seconds: the run lock and the deadline are sized for minutes, not seconds


def repeat(cycle: Callable[[datetime], object], clock: Callable[[], datetime], wait: Callable[[float], bool],
           every: float, err: TextIO) -> int:
    """Call `cycle(now)` every `every` seconds until `wait(seconds)` says
    stop (it returns True when asked to stop, before or while waiting)."""
    while True:
        began = clock()
        try:
            cycle(began)
        except RotaError as e:  # the store or a file could not be read: the next cycle tries again
            print(f"rota run: {e}", file=err, flush=True)
        except OSError as e:
            print(f"rota run: {os_error_line(e)}", file=err, flush=True)
        left = every - (clock() - began).total_seconds()
        if wait(max(left, 0.0)):
            return 0
