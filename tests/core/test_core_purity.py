"""scheduler.core, and each outside system's plan, do no I/O and never read
the clock: `now` is passed in."""

import ast
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pendulum
import pytest
from rosterkit import schedule, team, utc

SCHEDULER = Path(__file__).parents[2] / "scheduler"
CORE = SCHEDULER / "core"
# The pure halves of the outside systems: what to change, decided without asking anyone.
PLANS = [SCHEDULER / "sync" / "zendesk" / "plan.py", SCHEDULER / "sync" / "zendesk" / "ticketrules.py",
         SCHEDULER / "sync" / "google" / "plan.py"]

# What the core may import: the standard library's pure parts and pendulum.
ALLOWED = {"__future__", "base64", "bisect", "collections", "dataclasses", "datetime", "functools", "hashlib", "re",
           "typing", "pendulum"}
# Modules that mean I/O, a network, a process, or one of rota's adapters.
FORBIDDEN = {"socket", "ssl", "http", "urllib.request", "requests", "httplib2", "sqlite3", "subprocess",
             "ruamel", "ics", "holidays", "zenpy", "googleapiclient", "google", "flask", "click", "slack_sdk",
             "scheduler.roster.rosterfile", "scheduler.store.recordfile", "scheduler.cli", "web"}
CLOCK_CALLS = {"now", "today", "utcnow", "time", "time_ns", "monotonic", "perf_counter", "localtime", "gmtime"}


def core_modules():
    return sorted(CORE.glob("*.py")) + PLANS


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: p.name)
def test_core_modules_import_only_pure_libraries(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level or node.module == "scheduler.core" or node.module.startswith("scheduler.core."):
                continue  # the core itself
            names = [node.module]
        else:
            continue
        for name in names:
            assert name.split(".")[0] in ALLOWED, f"{path.name}:{node.lineno} imports {name}"


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: p.name)
def test_core_modules_never_call_the_clock_or_open_files(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                name = func.attr
                assert name not in CLOCK_CALLS, f"{path.name}:{node.lineno} calls .{name}()"
            else:
                name = getattr(func, "id", None)  # a bare time(9, 0) is datetime.time, not the clock
                assert name not in CLOCK_CALLS - {"time"}, f"{path.name}:{node.lineno} calls {name}()"
            assert name not in {"open", "print", "input"}, f"{path.name}:{node.lineno} calls {name}()"


def test_importing_the_core_loads_no_io_library():
    code = ("import sys, scheduler.core, scheduler.sync.zendesk.plan, scheduler.sync.zendesk.ticketrules, "
            "scheduler.sync.google.plan; print('\\n'.join(sorted(sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    bad = {m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad


def test_a_whole_schedule_is_computed_with_the_clock_unplugged(monkeypatch):
    def no_clock(*args, **kwargs):
        raise AssertionError("the core read the clock")

    s = schedule(team("Ada", "Bob", "Cy", "Di", holidays="US"))
    for target, name in ((time, "time"), (time, "monotonic"), (time, "time_ns"), (pendulum, "now"),
                         (pendulum, "today"), (pendulum.DateTime, "now")):
        monkeypatch.setattr(target, name, no_clock)
    from scheduler.core import Window

    events = s.events(Window(date(2027, 1, 4), 30))
    assert events
    assert s.duty(utc("2027-03-10T12:00:00-05:00")).members
    assert s.check(utc("2027-01-04T00:00:00-05:00"), 26) is not None
