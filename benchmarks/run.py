"""rota's benchmarks: run with `python benchmarks/run.py` (after installing rota).

Each benchmark prints its figure next to its target and says PASS or FAIL;
the exit code is 1 if any target is missed. Times are the median of several
runs (and the best, for reference); nothing here runs in the test suite.
"""

from __future__ import annotations

import gc
import random
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scheduler.roster import holidaycal  # noqa: E402
from scheduler.core import Absence, Meeting, Member, Override, Roster, Schedule, Swap, Window  # noqa: E402

results: list[tuple[str, float, float, str]] = []


def count(name: str, value: int, target: int, unit: str) -> None:
    ok = value <= target
    results.append((name, value, target, "PASS" if ok else "FAIL"))
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {value} {unit} (target <= {target})")


def measure(runs: int, fn) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        gc.collect()  # start each run from the same heap, so runs differ less
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def report(name: str, median: float, best: float, target: float, unit: str = "ms") -> None:
    scale, digits = (1000, 1) if unit == "ms" else (1, 3)
    ok = median <= target
    results.append((name, median, target, "PASS" if ok else "FAIL"))
    print(f"{'PASS' if ok else 'FAIL'}  {name}: median {median * scale:.{digits}f} {unit} "
          f"(best {best * scale:.{digits}f} {unit}; target < {target * scale:g} {unit})")


def big_roster(members: int = 50, absences: int = 200, years: int = 10) -> Roster:
    rng = random.Random(2027)
    start = date(2027, 1, 4)
    people = [[f"Member {i}", f"m{i}@example.gov", []] for i in range(members)]
    for _ in range(absences):
        first = start + timedelta(days=rng.randrange(years * 365))
        people[rng.randrange(members)][2].append(Absence(first, first + timedelta(days=rng.randrange(1, 15))))
    return Roster(
        name="Benchmark", id="benchmark", timezone="America/New_York", start=start, handoff_time=clock(9, 0), holidays="US",
        daily_triage=Meeting(clock(10, 0), 15), weekly_review=Meeting(clock(11, 0), 15),
        members=tuple(Member(n, e, start, None, tuple(a)) for n, e, a in people),
    )


def bench_rotation() -> None:
    roster = big_roster()
    holidays = holidaycal.calendar("US")
    weeks = 52 * 10

    def compute():
        s = Schedule(roster, holidays)
        s.rotation.stints(-1, weeks)

    compute()  # warm the holiday cache: it is built once per process
    median, best = measure(30, compute)
    report("10 years, 50 members, 200 absences, computed in-process", median, best, 0.050)

    # Each swap is judged by a trial run of the rotation without it, from
    # two weeks before its first stint.
    swapped = with_swaps(roster, holidays, 5)

    def compute_swapped():
        s = Schedule(swapped, holidays)
        s.rotation.stints(-1, weeks)

    median, best = measure(30, compute_swapped)
    report("the same with 5 swaps", median, best, 0.050)


def bench_fairness() -> None:
    """The fairness report over the whole of ten years: every day of it
    walked, overrides applied, from a fresh schedule (as a command would)."""
    roster = big_roster()
    holidays = holidaycal.calendar("US")
    rng = random.Random(14)
    overrides = []
    for _ in range(30):
        first = roster.start + timedelta(days=rng.randrange(10 * 365))
        replaced, cover = rng.sample(roster.members, 2)
        overrides.append(Override(first, first + timedelta(days=rng.randrange(1, 5)), replaced.email, cover.email))
    roster = replace(roster, overrides=tuple(overrides))
    first, last = roster.start, roster.start + timedelta(days=10 * 365 - 1)
    now = datetime(2032, 1, 1, 12, tzinfo=timezone.utc)

    def compute():
        Schedule(roster, holidays).fairness(first, last, now)

    compute()
    median, best = measure(20, compute)
    report("the fairness report over 10 years and 50 members (30 overrides)", median, best, 0.200)


def with_swaps(roster: Roster, holidays, count: int) -> Roster:
    """`roster` with `count` swaps that apply, each of stints as the rotation
    with the earlier ones gives them, as the page would make them."""
    rng = random.Random(5)
    swaps: list[Swap] = []
    for week in sorted(rng.sample(range(10, 500), count)):
        other = week + rng.randrange(1, 12)
        rotation = Schedule(replace(roster, swaps=tuple(swaps)), holidays).rotation
        swaps.append(Swap(roster.start + timedelta(weeks=week), rotation.stint(week).member,
                          roster.start + timedelta(weeks=other), rotation.stint(other).member))
    return replace(roster, swaps=tuple(swaps))


def bench_feed() -> None:
    from scheduler.publish import icsfeed
    from scheduler.team import Team

    team = Team.load(REPO / "rosters" / "example.yaml")
    stamp = team.stamp()

    def build():
        s = team.schedule()
        events = s.events(Window(date(2026, 11, 30), 52))
        return icsfeed.render(events, name="Platform experts support", timezone=team.roster.timezone, stamp=stamp)

    data = build()
    median, best = measure(30, build)
    count = data.count(b"BEGIN:VEVENT")
    report(f"52-week team feed built ({count} events, {len(data) // 1024} KiB)", median, best, 0.100)


def bench_who(db: Database | None = None) -> None:
    import os

    script = Path(sys.executable).parent / "rota"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "scheduler.cli"]
    env = os.environ
    if db:
        env = {**os.environ, "ROTA_DATABASE_URL": db.team("who", REPO / "rosters" / "example.yaml")}
        command += ["who"]
    else:
        command += ["who", "--roster", str(REPO / "rosters" / "example.yaml")]
    run = lambda: subprocess.run(command, check=True, capture_output=True, env=env)  # noqa: E731
    run()  # warm the OS file cache and the holiday cache
    median, best = measure(10, run)
    if db:
        report("`rota who` as a whole process (PostgreSQL)", median, best, 0.8, unit="s")
    else:
        report("`rota who` as a whole process", median, best, 0.5, unit="s")


def bench_hostile_rosters() -> None:
    from scheduler.roster import rosterfile
    from scheduler.errors import RosterInvalid

    header = 'team: T\ntimezone: UTC\nrotation: {start: 2027-01-04, handoff_time: "09:00"}\n'
    anchors = ['x0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    anchors += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    files = {
        "a 1 KB 'billion laughs' roster refused": header + "\n".join(anchors) + "\nmembers: *a9\n",
        "a roster nested 20,000 levels deep refused": header + "members: " + "[" * 20_000 + "]" * 20_000 + "\n",
    }
    for name, text in files.items():
        data = text.encode()

        def refuse():
            try:
                rosterfile.parse(data)
            except RosterInvalid:
                return
            raise AssertionError(f"{name}: not refused")

        median, best = measure(10, refuse)
        report(name, median, best, 0.100)


def bench_zendesk_requests() -> None:
    """Request counts against the fake Zendesk of the tests (real zenpy, real HTTP)."""
    import io
    import tempfile

    sys.path.insert(0, str(REPO / "tests"))
    from fakes.zendesk import FakeZendesk
    from rosterkit import team, yaml_text

    from scheduler.sync.zendesk import sync as zendesksync
    from scheduler.team import Team
    from scheduler.sync.zendesk.client import Credentials, ZendeskClient

    names = ("Ada", "Bob", "Cy", "Di")
    with FakeZendesk() as fake, tempfile.TemporaryDirectory() as tmp:
        ids = {n: fake.add_user(n, f"{n.lower()}@example.gov") for n in names}
        group = fake.add_group("Platform experts")
        for n in ("Ada", "Bob"):
            fake.add_membership(ids[n], group)
        for i in range(98):
            fake.add_membership(fake.add_user(f"Agent {i}", f"agent{i}@example.gov"), group)
        path = Path(tmp) / "team.yaml"
        path.write_text(yaml_text(team(*names, zendesk={"url": fake.url, "group": "Platform experts"})))

        def sync(at: str) -> None:
            client = ZendeskClient(fake.url, Credentials(fake.email, fake.token, None))
            when = datetime.fromisoformat(at)
            zendesksync.sync(Team.load(path), when, client, apply=True, force=False, now=when, out=io.StringIO())

        fake.clear_log()
        sync("2027-01-05T10:00:00-05:00")  # week 0: Bob and Ada already in the group
        count("no-op Zendesk sync, group of 100 memberships", len(fake.requests), 3, "HTTP requests")
        fake.clear_log()
        sync("2027-01-11T10:00:00-05:00")  # the Monday handoff: Cy in, Ada out
        count("Zendesk sync of a Monday swap", len(fake.writes()), 2, "writes")
        print(f"      ({len(fake.requests)} requests in all, the check after the writes included)")


def bench_gcal_requests() -> None:
    """Request counts against the fake Google of the tests (real google-auth and googleapiclient)."""
    import io
    import tempfile

    sys.path.insert(0, str(REPO / "tests"))
    from fakes.google import FakeGoogle
    from google.oauth2 import service_account
    from rosterkit import team, yaml_text

    from scheduler.sync.google import sync as gcalsync
    from scheduler.sync.google.client import SCOPE, CalendarClient
    from scheduler.team import Team

    calendar = "team@group.calendar.google.com"
    with FakeGoogle() as fake, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "team.yaml"
        path.write_text(yaml_text(team("Ada", "Bob", "Cy", "Di", "Eve", holidays="US",
                                       google={"calendar_id": calendar})))
        now = datetime(2027, 1, 5, 15, 0).astimezone()

        def sync() -> None:  # as a fresh process would: new credentials, so a new token
            creds = service_account.Credentials.from_service_account_info(fake.service_account_info(), scopes=[SCOPE])
            with CalendarClient(calendar, creds, endpoint=fake.url + "/calendar/v3/") as client:
                gcalsync.sync(Team.load(path), Window(date(2027, 1, 4), 26), client, apply=True, force=False,
                              now=now, out=io.StringIO())

        sync()
        events = len(fake.events[calendar])
        writes = [r for r in fake.http_requests() if r.path.startswith("/batch/")]
        count(f"first Google Calendar publish, 26 weeks ({events} events)", len(writes), 5, "write requests")
        fake.clear_log()
        sync()
        calls = fake.http_requests()
        lists = [r for r in calls if r.path.startswith("/calendar/")]
        # One list per mark: the team id (`team`, the file's name) and, as it
        # differs, the display name's slug an earlier release marked with.
        count("no-op Google Calendar sync", len(lists), 2, "list requests")
        print(f"      ({len(calls)} HTTP requests in all: {len(calls) - len(lists)} token request(s) and the lists)")


def bench_absence_import() -> None:
    """A 50-member team's out-of-office events imported against the fake
    Google of the tests: one token and one list request per member, each as
    that member (real google-auth and googleapiclient, over loopback)."""
    import io
    import tempfile

    sys.path.insert(0, str(REPO / "tests"))
    from fakes.google import FakeGoogle
    from google.oauth2 import service_account
    from rosterkit import member, team, yaml_text

    from scheduler.sync.google import absences
    from scheduler.sync.google.outofoffice import OutOfOfficeClient
    from scheduler.team import Team

    rng = random.Random(2027)
    people = [member(f"Member {i}", email=f"m{i}@example.gov") for i in range(50)]
    with FakeGoogle() as fake, tempfile.TemporaryDirectory() as tmp:
        for i, person in enumerate(people):
            fake.add_user(person["email"])
            for n in range(3):  # a few days off each in the next half year
                first = date(2027, 1, 11) + timedelta(days=rng.randrange(180))
                fake.out_of_office(person["email"], first, first + timedelta(days=rng.randrange(1, 6)),
                                   event_id=f"mem{i:03d}e{n}")
        path = Path(tmp) / "team.yaml"
        path.write_text(yaml_text(team(*people, holidays="US", google={"out_of_office": True})))
        now = datetime(2027, 1, 5, 15, 0).astimezone()
        out = io.StringIO()

        def imported() -> None:  # as a fresh process would: new credentials, so new tokens
            creds = service_account.Credentials.from_service_account_info(fake.service_account_info())
            with OutOfOfficeClient(creds, endpoint=fake.url + "/calendar/v3/") as client:
                absences.sync(Team.load(path), Window(date(2027, 1, 4), 26), client, apply=True, now=now, out=out)

        t0 = time.perf_counter()
        imported()
        first = time.perf_counter() - t0
        kept = len(Team.load(path).store.imported_absences())
        calls = fake.http_requests()
        report(f"out-of-office import, 50 members ({kept} absences), first run", first, first, 10.0, unit="s")
        print(f"      ({len(calls)} HTTP requests: {sum(1 for c in calls if c.path == '/token')} token, "
              f"{sum(1 for c in calls if c.path.endswith('/events'))} list)")
        median, best = measure(3, imported)
        report("out-of-office import, 50 members, nothing to change", median, best, 10.0, unit="s")


def bench_page(db: Database | None = None) -> None:
    import os

    from scheduler.settings import Settings
    from web import create_app

    env = dict(os.environ)
    if db:
        env["ROTA_DATABASE_URL"] = db.team("page", REPO / "rosters" / "example.yaml")
    app = create_app({"ROSTER": str(REPO / "rosters" / "example.yaml"), "SECRET_KEY": "benchmark"},
                     settings=Settings.from_env(env))
    client = app.test_client()
    assert client.get("/").status_code == 200  # the first request reads the roster

    def get():
        assert client.get("/").status_code == 200

    median, best = measure(50, get)
    report("`/` in-process (Flask test client)" + (" (PostgreSQL)" if db else ""), median, best, 0.020)


def bench_timeline_afresh() -> None:
    """`/` when its timeline is not cached (a range not asked for before: as
    after every change of the roster or the record, or each new day)."""
    from web import create_app

    app = create_app({"ROSTER": str(REPO / "rosters" / "example.yaml"), "SECRET_KEY": "benchmark"})
    client = app.test_client()
    assert client.get("/").status_code == 200  # reads the roster and computes the rotation
    for weeks, target in ((26, 0.050), (104, 0.150)):
        mondays = iter(range(1, 1000))

        def get():
            first = date(2026, 1, 5) + timedelta(weeks=next(mondays))
            assert client.get(f"/?from={first.isoformat()}&weeks={weeks}").status_code == 200

        median, best = measure(20, get)
        report(f"`/` with its timeline drawn afresh, {weeks} weeks", median, best, target)


def bench_page_with_zendesk_hung() -> None:
    """An editor's `/` while Zendesk accepts connections and never answers:
    the first page waits for the ticket panel's bound, the next ones not at all."""
    import os
    import re
    import tempfile

    sys.path.insert(0, str(REPO / "tests"))
    from fakes.zendesk import FakeZendesk
    from rosterkit import team, yaml_text

    from scheduler.store.folder import FolderStore
    from web import create_app

    with FakeZendesk() as zd, tempfile.TemporaryDirectory() as tmp:
        zd.hang_next(count=1000)
        path = Path(tmp) / "team.yaml"
        path.write_text(yaml_text(team("Ada", "Bob", "Cy", "Di", zendesk={"url": zd.url, "group": "Support"})))
        FolderStore(path).editors().add("ed@example.gov", "benchmark password", "Ed")
        saved = {k: os.environ.get(k) for k in ("ZENDESK_EMAIL", "ZENDESK_API_TOKEN")}
        os.environ.update({"ZENDESK_EMAIL": zd.email, "ZENDESK_API_TOKEN": zd.token})
        try:
            client = create_app({"ROSTER": str(path), "SECRET_KEY": "benchmark"}).test_client()
            client.get("/")  # reads the roster and the holidays: what is measured is the wait for Zendesk
            form = client.get("/signin").get_data(as_text=True)
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            client.post("/signin", data={"email": "ed@example.gov", "password": "benchmark password",
                                         "csrf_token": csrf})
            first, _ = measure(1, lambda: client.get("/"))
            report("editor's `/`, Zendesk hung: the first page", first, first, 2.25, unit="s")
            median, best = measure(20, lambda: client.get("/"))
            report("editor's `/`, Zendesk hung: the pages after it", median, best, 0.050)
            count("requests that reached the hung Zendesk", len(zd.requests), 1, "requests")
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def big_roster_text(members: int = 1000) -> str:
    """A roster as people write it, 1,000 members long: comments, absences."""
    rng = random.Random(2027)
    lines = ["# A large team", "team: Benchmark  # display name", "timezone: America/New_York", "rotation:",
             "  start: 2027-01-04", '  handoff_time: "09:00"', "  holidays: US", "members:", "  # order matters"]
    for i in range(members):
        lines += [f"  - name: Member {i}", f"    email: m{i}@example.gov  # desk {i}"]
        if i % 3 == 0:
            first = date(2027, 1, 4) + timedelta(days=rng.randrange(700))
            lines += ["    away:", f"      - {{from: {first}, to: {first + timedelta(days=4)}, note: PTO}}"]
    lines += ["overrides:", "  # who covers whom"]
    return "\n".join(lines) + "\n"


def bench_roster_edit() -> None:
    """Preview and save of a change to a 1,000-member roster, through the page."""
    import re
    import tempfile

    import pendulum

    from scheduler.store.folder import FolderStore
    from web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "team.yaml"
        path.write_text(big_roster_text())
        FolderStore(path).editors().add("ed@example.gov", "benchmark password", "Ed")
        app = create_app({"ROSTER": str(path), "SECRET_KEY": "benchmark", "WTF_CSRF_ENABLED": False,
                          "CLOCK": lambda: pendulum.parse("2027-01-12T15:00:00Z")})
        client = app.test_client()
        client.post("/signin", data={"email": "ed@example.gov", "password": "benchmark password"})
        previews, saves = [], []
        for i in range(5):
            page = client.get("/roster/").get_data(as_text=True)  # as after the last save's redirect
            form = {"kind": "add_absence", "version": re.search(r'name="version" value="(\w+)"', page).group(1),
                    "email": f"m{i * 7}@example.gov", "from": "2027-03-01", "to": "2027-03-05", "note": "? - :"}
            gc.collect()
            t0 = time.perf_counter()
            preview = client.post("/roster/preview", data=form)
            previews.append(time.perf_counter() - t0)
            result = re.search(r'name="result" value="(\w+)"', preview.get_data(as_text=True)).group(1)
            gc.collect()
            t0 = time.perf_counter()
            saved = client.post("/roster/save", data={**form, "result": result})
            saves.append(time.perf_counter() - t0)
            assert saved.status_code == 302, saved.get_data(as_text=True)
        assert path.read_text().count("? - :") == 5
    report("preview of a change to a 1,000-member roster", statistics.median(previews), min(previews), 1.0, "s")
    report("save of a change to a 1,000-member roster", statistics.median(saves), min(saves), 1.0, "s")


def _hammer(args: tuple[int, str, int]) -> int:
    """One client process: `count` GETs of `path` on one keep-alive connection."""
    import http.client

    port, path, count = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    ok = 0
    for _ in range(count):
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        ok += response.status == 200
    conn.close()
    return ok


def bench_feed_server(db: Database | None = None) -> None:
    """The team feed, cached, under gunicorn on loopback: requests per second."""
    import multiprocessing
    import os
    import socket
    import urllib.request

    from web import create_app

    gunicorn = Path(sys.executable).parent / "gunicorn"
    if not gunicorn.exists():
        print("SKIP  team feed under gunicorn: gunicorn is not installed (pip install '.[serve]')")
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    key = "benchmark-" + "0" * 32  # the app refuses keys shorter than 32 bytes
    env = {**os.environ, "ROTA_ROSTER": str(REPO / "rosters" / "example.yaml"), "ROTA_SECRET_KEY": key}
    with create_app({"ROSTER": env["ROTA_ROSTER"], "SECRET_KEY": key}).test_request_context():
        from web.feeds import token

        path = f"/feeds/team/{token('team')}.ics"
    if db:
        env["ROTA_DATABASE_URL"] = db.team("feed", REPO / "rosters" / "example.yaml")
    server = subprocess.Popen(
        [str(gunicorn), "--worker-class", "gthread", "--workers", "2", "--threads", "8", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "web:create_app()"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):  # up to 10 s for the workers to boot
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit(f"gunicorn exited with {server.returncode} before answering") from None
                time.sleep(0.1)
        _hammer((port, path, 50))  # warm every worker's cache
        clients, each = 4, 1000
        with multiprocessing.Pool(clients) as pool:
            t0 = time.perf_counter()
            ok = sum(pool.map(_hammer, [(port, path, each)] * clients))
            elapsed = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(timeout=10)
    rate = ok / elapsed
    good = ok == clients * each and rate >= 500
    where = " (PostgreSQL)" if db else ""
    results.append(("team feed under gunicorn" + where, rate, 500, "PASS" if good else "FAIL"))
    print(f"{'PASS' if good else 'FAIL'}  team feed, cached, under gunicorn (2 workers x 8 threads) on loopback"
          f"{where}: "
          f"{rate:.0f} requests/s ({ok} of {clients * each} answered 200, {clients} client processes on the same "
          f"2 cores; target >= 500)")


def bench_run_job(db: Database | None = None) -> None:
    """`rota run --apply` with nothing to do, as a whole process, against the fakes."""
    import os
    import tempfile

    sys.path.insert(0, str(REPO / "tests"))
    from fakes.google import FakeGoogle
    from fakes.slack import FakeSlack
    from fakes.zendesk import FakeZendesk
    from rosterkit import team, yaml_text

    names = ("Ada", "Bob", "Cy", "Di")
    script = Path(sys.executable).parent / "rota"
    with FakeZendesk() as zd, FakeGoogle() as google, FakeSlack() as slack, tempfile.TemporaryDirectory() as tmp:
        ids = {n: zd.add_user(n, f"{n.lower()}@example.gov") for n in names}
        group = zd.add_group("Platform experts")
        zd.add_group("Tier 1")
        for n in ("Ada", "Bob"):
            zd.add_membership(ids[n], group)
        path = Path(tmp) / "team.yaml"
        # A rotation in the past (2021 has 2027's weekdays): `rota run --apply` acts only on the
        # present or the past, never on an instant ahead of the clock.
        path.write_text(yaml_text(team(*names, holidays="US", start="2021-01-04",
                                       zendesk={"url": "https://acme.zendesk.com", "group": "Platform experts"},
                                       google={"calendar_id": "team@group.calendar.google.com"})))
        env = {**os.environ, "ZENDESK_URL": zd.url, "ZENDESK_EMAIL": zd.email, "ZENDESK_API_TOKEN": zd.token,
               "GOOGLE_APPLICATION_CREDENTIALS": str(google.write_key_file(Path(tmp) / "key.json")),
               "ROTA_GOOGLE_API_ENDPOINT": google.url + "/calendar/v3/", "SLACK_WEBHOOK_URL": slack.url}
        where = ["--roster", str(path)]
        if db:
            env["ROTA_DATABASE_URL"] = db.team("run", path)
            where = []

        def rota_run(at: str) -> subprocess.CompletedProcess:
            return subprocess.run([str(script), "run", *where, "--apply", "--at", at],
                                  env=env, capture_output=True, text=True)

        first = rota_run("2021-01-11T09:05:00-05:00")  # the handoff: does the work
        assert first.returncode == 0, first.stdout + first.stderr
        zd.clear_log()
        google.clear_log()
        slack.requests.clear()
        median, best = measure(5, lambda: rota_run("2021-01-11T09:35:00-05:00"))
        last = rota_run("2021-01-11T09:35:00-05:00")
        runs = 7  # the five measured, the one above, and the check
        zd_calls, g_calls = len(zd.requests) // runs, len(google.http_requests()) // runs
        writes = len(zd.writes()) + len(google.writes()) + len(slack.requests)
        label = " (PostgreSQL)" if db else ""
        report("`rota run --apply` with nothing to do, whole process" + label, median, best, 1.0, unit="s")
        count("write requests in those runs" + label, writes, 0, "writes")
        print(f"      (per run: {zd_calls} Zendesk requests, {g_calls} Google requests (token and lists), "
              f"0 Slack; it said: {last.stdout.strip()!r})")


class Database:
    """A throwaway PostgreSQL server ($ROTA_TEST_POSTGRES_URL, else a cluster of
    scripts/postgres-cluster), with a fresh database per team."""

    def __init__(self, url: str) -> None:
        head, _, query = url.partition("?")
        self.url = url if "sslmode=" in query else f"{url}{'&' if query else '?'}sslmode=disable"

    def team(self, name: str, roster: Path) -> str:
        """A URL to a new database `rota_bench_<name>` holding the team of `roster`."""
        import os

        import sqlalchemy as sa

        head, _, query = self.url.partition("?")
        url = f"{head.rsplit('/', 1)[0]}/rota_bench_{name}?{query}"
        admin = sa.create_engine(self.url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 10})
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "rota_bench_{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "rota_bench_{name}"'))
        admin.dispose()
        script = Path(sys.executable).parent / "rota"
        env = {**os.environ, "ROTA_DATABASE_URL": url}
        for args in (["db", "upgrade"], ["import", "--roster", str(roster)]):
            done = subprocess.run([str(script), *args], env=env, capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                raise SystemExit(f"rota {' '.join(args)} failed: {done.stdout}{done.stderr}")
        return url


def bench_database() -> None:
    """The page, the feed, `rota run` and `rota who` again, over PostgreSQL on loopback."""
    import glob
    import os
    import shutil
    import tempfile

    try:
        import sqlalchemy  # noqa: F401
    except ImportError:
        print("SKIP  PostgreSQL: the database store is not installed (pip install '.[db]')")
        return
    url = os.environ.get("ROTA_TEST_POSTGRES_URL")
    directory = None
    if not url:
        if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
            print("SKIP  PostgreSQL: it is not installed (Debian's postgresql) and ROTA_TEST_POSTGRES_URL is unset")
            return
        # Not under a private temporary directory: as root the cluster belongs to the postgres user.
        directory = tempfile.mkdtemp(prefix="rota-bench-postgres.")
        os.chmod(directory, 0o755)
    cluster = REPO / "scripts" / "postgres-cluster"
    try:
        if directory:
            started = subprocess.run([str(cluster), "start", directory], capture_output=True, text=True,
                                     timeout=180, stdin=subprocess.DEVNULL)
            if started.returncode != 0:
                print(f"SKIP  PostgreSQL: scripts/postgres-cluster could not start it: {started.stderr.strip()}")
                return
            url = started.stdout.strip()
        db = Database(url)
        bench_page(db)
        bench_feed_server(db)
        bench_run_job(db)
        bench_who(db)
    finally:
        if directory:
            subprocess.run([str(cluster), "stop", directory], capture_output=True, timeout=60)
            shutil.rmtree(directory, ignore_errors=True)


def compile_bytecode() -> None:
    """Measure rota's processes as installed: pip compiles an installed package's
    bytecode, and a process of an editable install writes it on first import.
    Unless PYTHONDONTWRITEBYTECODE is set (this project's sandbox sets it), when
    every process would compile rota's sources again; that is not rota's cost."""
    import compileall

    for package in ("scheduler", "web"):
        compileall.compile_dir(str(REPO / package), quiet=1)


def main() -> int:
    print(f"rota benchmarks on Python {sys.version.split()[0]}")
    compile_bytecode()
    bench_rotation()
    bench_fairness()
    bench_feed()
    bench_who()
    bench_hostile_rosters()
    bench_page()
    bench_timeline_afresh()
    bench_roster_edit()
    bench_page_with_zendesk_hung()
    bench_feed_server()
    bench_zendesk_requests()
    bench_gcal_requests()
    bench_absence_import()
    bench_run_job()
    bench_database()
    failed = [r for r in results if r[3] == "FAIL"]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
