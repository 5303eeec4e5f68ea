"""`rota run --every SECONDS`: one process making `rota run` on a schedule
(the cloud.gov worker), its cycles on time, its failures reported and
outlived, and a stop that lets the cycle under way finish."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rosterkit import team, yaml_text

from scheduler.errors import RotaError
from scheduler.store.folder import FolderStore
from scheduler.sync.worker import repeat

REPO = Path(__file__).resolve().parent.parent.parent
T0 = datetime(2027, 1, 11, 14, 0, tzinfo=UTC)


class FakeTime:
    """A clock that moves only when a cycle works or the loop waits."""

    def __init__(self, cycles: int):
        self.now, self.left, self.waits = T0, cycles, []

    def clock(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.left -= 1
        if self.left == 0:
            return True  # asked to stop
        self.now += timedelta(seconds=seconds)
        return False


def test_cycles_begin_every_interval_and_a_long_one_is_followed_at_once():
    time, began = FakeTime(cycles=4), []
    durations = iter([30, 500, 10, 0])

    def cycle(now):
        began.append(now)
        time.now += timedelta(seconds=next(durations))

    assert repeat(cycle, time.clock, time.wait, 300, io.StringIO()) == 0
    assert [(b - T0).total_seconds() for b in began] == [0, 300, 800, 1100]
    assert time.waits == [270, 0, 290, 300]


def test_a_cycle_that_fails_says_why_and_the_next_one_runs():
    time, err, seen = FakeTime(cycles=3), io.StringIO(), []

    def cycle(now):
        seen.append(now)
        if len(seen) == 1:
            raise RotaError("the database postgresql://rota@db/rota is unavailable: connection refused")
        if len(seen) == 2:
            raise FileNotFoundError(2, "No such file or directory", "rosters/team.yaml")

    repeat(cycle, time.clock, time.wait, 300, err)
    assert len(seen) == 3
    assert err.getvalue().splitlines() == [
        "rota run: the database postgresql://rota@db/rota is unavailable: connection refused",
        "rota run: rosters/team.yaml: No such file or directory"]


def test_every_takes_no_fixed_instant_and_no_interval_under_a_minute(rota, roster_dir):
    path = roster_dir / "team.yaml"
    path.write_text(yaml_text(team("Ada", "Bob", "Cy")))
    code, _, err = rota("run", "--roster", path, "--every", "300", "--at", "2027-01-11T09:00")
    assert code == 2 and "takes no --at" in err
    for bad in ("30", "5m", "0"):
        proc = subprocess.run([sys.executable, "-m", "scheduler", "run", "--roster", str(path), "--every", bad],
                              capture_output=True, text=True, cwd=REPO, timeout=60)
        assert proc.returncode == 2 and "from 60 to 86400" in proc.stderr, bad


def test_the_worker_process_runs_at_once_and_a_stop_ends_it_cleanly(roster_dir):
    path = roster_dir / "team.yaml"
    path.write_text(yaml_text(team("Ada", "Bob", "Cy", start="2021-01-04")))  # begun long ago: a record to write
    worker = subprocess.Popen([sys.executable, "-m", "scheduler", "run", "--roster", str(path), "--apply",
                               "--every", "600"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        first = worker.stdout.readline()  # the first cycle's report begins: it did not wait 600 s
        assert first.startswith("rota run at "), first + worker.stderr.read()
        # Then it waits for the next cycle; `cf stop` sends SIGTERM once the report is out.
        report = [first]
        while not report[-1].startswith("  notice"):
            report.append(worker.stdout.readline())
            assert report[-1], "".join(report) + worker.stderr.read()
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert out == "" and err == ""  # no second cycle, no traceback
    assert any(line.startswith("  record   done: recorded") for line in report), report
    assert FolderStore(path).read_record().stints  # what the cycle recorded is kept
