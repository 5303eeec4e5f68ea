"""A deployment as separate processes in separate directories on one
database: `rota run --apply` workers, web instances with no shared disk, the
PostgreSQL server restarted under them, every working directory wiped.
Against a SQLite file and a real PostgreSQL (no mocks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from fakes.slack import FakeSlack
from rosterkit import team, yaml_text
from webkit import PASSWORD, Clock, change, sign_in, version_of

from scheduler.store import dbengine, dbschema, migrations
from scheduler.store.editors import EditorStore
from web import create_app

PAST_START = "2021-01-04"  # a roster in the past: `run --apply` refuses instants ahead of the clock
HANDOFF = "2021-01-11T09:05"  # Ada out, Cy in
NEXT_HANDOFF = "2021-01-25T09:05"  # (the 18th is a holiday)
TEAM = "team"  # the id rota gives a roster named team.yaml


def _clean_env() -> dict:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("ROTA_", "ZENDESK_", "GOOGLE_", "SLACK_")) and k not in ("DATABASE_URL", "VCAP_SERVICES")}


class Deployment:
    """Processes that share nothing but the database URL (and Slack)."""

    def __init__(self, url: str, base: Path, slack: FakeSlack):
        self.url, self.base, self.slack = url, base, slack
        self.env = {**_clean_env(), "ROTA_DATABASE_URL": url, "SLACK_WEBHOOK_URL": slack.url}

    def directory(self, name: str) -> Path:
        path = self.base / name
        path.mkdir()
        return path

    def start(self, directory: Path, *args) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "scheduler", *map(str, args)], cwd=directory, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)

    def rota(self, directory: Path, *args) -> tuple[int, str, str]:
        process = self.start(directory, *args)
        out, err = process.communicate(timeout=120)
        return process.returncode, out, err

    def rows(self, table: sa.Table) -> list:
        engine = dbengine.create_engine(self.url)
        try:
            with engine.connect() as c:
                return list(c.execute(sa.select(table).where(table.c.team_id == TEAM)))
        finally:
            engine.dispose()


@pytest.fixture
def deployment(database_url, tmp_path, monkeypatch):
    engine = dbengine.create_engine(database_url)
    migrations.upgrade(engine)
    engine.dispose()
    with FakeSlack() as slack:
        yield Deployment(database_url, tmp_path, slack)
    from scheduler.store.database import dispose_engines

    dispose_engines()


def move_in(deployment: Deployment, start: str = PAST_START) -> bytes:
    """A folder team with an editor, moved in from a working directory that is then wiped."""
    here = deployment.directory("import")
    roster = here / "team.yaml"
    roster.write_text(yaml_text(team("Ada", "Bob", "Cy", "Di", holidays="US", start=start)))
    EditorStore(here / "team.editors.json").add("ed@example.gov", PASSWORD, "Ed Itor")
    EditorStore(here / "team.editors.json").add("flo@example.gov", PASSWORD, "Flo")
    code, _, err = deployment.rota(here, "import", "--roster", roster)
    assert code == 0, err
    data = roster.read_bytes()
    shutil.rmtree(here)
    return data


def test_two_runs_started_together_post_one_notice_and_record_each_week_once(deployment):
    move_in(deployment)
    workers = [deployment.start(deployment.directory(f"worker{i}"), "run", "--apply", "--at", HANDOFF)
               for i in (1, 2)]
    results = [(w.wait(timeout=120), *w.communicate()) for w in workers]
    assert [code for code, _, _ in results] == [0, 0], results
    outputs = [out for _, out, _ in results]
    assert sum("notice   done: posted the notice" in out for out in outputs) == 1, outputs
    assert len(deployment.slack.messages) == 1
    assert "Rotating in: *Cy*" in deployment.slack.messages[0]["text"]
    stints = deployment.rows(dbschema.record_stints)
    assert sorted(row.member for row in stints) == ["ada@example.gov", "bob@example.gov", "cy@example.gov"]
    assert len(deployment.rows(dbschema.handoff_notices)) == 1


def test_two_web_instances_see_one_roster_and_a_stale_save_is_refused(deployment, monkeypatch):
    move_in(deployment, start="2027-01-04")
    monkeypatch.setenv("ROTA_DATABASE_URL", deployment.url)
    monkeypatch.delenv("ROTA_TEAM", raising=False)
    clients = []
    for name in ("web1", "web2"):  # each started in its own empty directory: no disk in common
        monkeypatch.chdir(deployment.directory(name))
        app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "CLOCK": Clock("2027-01-12T15:00:00Z")})
        clients.append(app.test_client())
    one, two = clients
    sign_in(one)
    sign_in(two, email="flo@example.gov")
    seen_by_two = version_of(two)
    assert version_of(one) == seen_by_two
    saved = change(one, "save", "add_absence", email="di@example.gov", **{"from": "2027-02-01", "to": "2027-02-02"})
    assert saved.status_code == 302

    assert version_of(two) != seen_by_two  # the other instance's next request has the edit
    assert "2027-02-01" in two.get("/roster/").get_data(as_text=True)
    stale = change(two, "save", "add_absence", version=seen_by_two, email="ada@example.gov",
                   **{"from": "2027-03-01", "to": "2027-03-02"})
    assert stale.status_code == 409
    assert "Someone else changed the roster since you loaded it" in stale.get_data(as_text=True)
    code, text, _ = deployment.rota(deployment.directory("worker"), "export")
    assert code == 0 and "2027-02-01" in text and "2027-03-01" not in text

    again = change(two, "save", "add_absence", email="ada@example.gov", **{"from": "2027-03-01", "to": "2027-03-02"})
    assert again.status_code == 302
    assert "2027-03-01" in one.get("/roster/").get_data(as_text=True)
    code, text, _ = deployment.rota(deployment.directory("worker2"), "export")
    assert code == 0 and "2027-02-01" in text and "2027-03-01" in text  # nothing lost
    actors = [row.actor for row in deployment.rows(dbschema.audit_entries) if row.system == "roster"]
    assert actors == ["ed@example.gov", "flo@example.gov"]


def test_wiping_every_working_directory_loses_nothing(deployment):
    roster = move_in(deployment)  # the import's directory is gone already
    worker = deployment.directory("worker")
    assert deployment.rota(worker, "run", "--apply", "--at", HANDOFF)[0] == 0
    assert len(deployment.slack.messages) == 1
    shutil.rmtree(worker)  # the container is replaced: a fresh one starts empty

    fresh = deployment.directory("fresh")
    assert deployment.rota(fresh, "export") == (0, roster.decode(), "")
    code, out, _ = deployment.rota(fresh, "run", "--apply", "--at", "2021-01-11T09:20")
    assert code == 0 and "nothing to do" in out  # the record and the notice were kept
    assert len(deployment.slack.messages) == 1  # no second notice for the same handoff
    code, out, _ = deployment.rota(fresh, "user", "list")
    assert code == 0 and out.splitlines() == ["Ed Itor <ed@example.gov>", "Flo <flo@example.gov>"]
    code, out, _ = deployment.rota(fresh, "who", "--at", "2021-01-12T12:00")
    assert code == 0 and "Cy" in out


def test_the_next_run_converges_after_the_server_restarts(postgres_server, postgres_url, _postgres_admin, tmp_path,
                                                          monkeypatch):
    ctl = postgres_server.ctl  # $ROTA_TEST_POSTGRES_CTL, or the cluster's own when the tests started it
    if not ctl:
        pytest.skip("ROTA_TEST_POSTGRES_CTL is not set: no way to restart the server")
    engine = dbengine.create_engine(postgres_url)
    migrations.upgrade(engine)
    engine.dispose()
    log = Path(ctl).parent / "server.log"
    with FakeSlack() as slack:
        deployment = Deployment(postgres_url, tmp_path, slack)
        move_in(deployment)
        monkeypatch.setenv("ROTA_DATABASE_URL", postgres_url)
        monkeypatch.delenv("ROTA_TEAM", raising=False)
        monkeypatch.chdir(deployment.directory("web"))
        web = create_app({"TESTING": True, "SECRET_KEY": "test-secret"}).test_client()
        assert web.get("/healthz").status_code == 200  # its pool now holds a connection
        worker = deployment.directory("worker")
        assert deployment.rota(worker, "run", "--apply", "--at", HANDOFF)[0] == 0

        try:
            subprocess.run([ctl, "-w", "-t", "60", "-m", "fast", "stop"], check=True, capture_output=True, timeout=90)
            code, out, err = deployment.rota(worker, "run", "--apply", "--at", NEXT_HANDOFF)
            assert (code, out) == (1, "") and err.count("\n") == 1 and "is unavailable" in err
            health = web.get("/healthz")
            assert health.status_code == 503 and "is unavailable" in health.json["error"]
            page = web.get("/")
            assert page.status_code == 503 and "The store is unavailable" in page.get_data(as_text=True)
        finally:  # pg_ctl restart starts a stopped server with the options it last ran with
            subprocess.run([ctl, "-w", "-t", "60", "-l", str(log), "restart"], check=True, capture_output=True,
                           timeout=90)

        code, out, err = deployment.rota(worker, "run", "--apply", "--at", "2021-01-25T09:10")
        assert code == 0, err
        assert "posted the notice for the handoff of Mon 25 Jan 2021" in out
        assert len(slack.messages) == 2
        assert web.get("/healthz").status_code == 200  # the same app, without a restart of its own
        subprocess.run([ctl, "-w", "-t", "60", "-l", str(log), "restart"], check=True, capture_output=True,
                       timeout=90)
        assert web.get("/healthz").status_code == 200  # connections the restart cut are replaced
        code, out, _ = deployment.rota(worker, "run", "--apply", "--at", "2021-01-25T09:20")
        assert code == 0 and "nothing to do" in out
        assert len(slack.messages) == 2
        sorted_weeks = sorted(row.week.isoformat() for row in deployment.rows(dbschema.handoff_notices))
        assert sorted_weeks == ["2021-01-11", "2021-01-25"]
    from scheduler.store.database import dispose_engines

    dispose_engines()
    _postgres_admin.dispose()  # its connections died with the server: the fixture drops the database with new ones
