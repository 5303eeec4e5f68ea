"""Outside systems that hang, refuse or answer nonsense: every request has a
timeout, every failure is one line naming the system, its host and port and
what went wrong, and `rota run` keeps to its deadline.

Timeouts are set short through the environment (0.2 s where nothing but
the silent server is asked, 1 s where a working fake answers too) and the
run's clock is a fake one that advances only when told, so nothing here
waits long."""

import io
import json
import os
import socket
import ssl
import urllib.error

import httplib2
import pytest
import requests
from fakes.silent import SilentServer, refused_port
from rosterkit import team, utc, yaml_text
from synckit import CALENDAR, NAMES

from scheduler.store.folder import FolderStore
from scheduler.sync import runjob
from scheduler.sync import transport
from scheduler.cli import main
from scheduler.settings import Settings
from scheduler.sync.retry import Patience

MONDAY = "2027-01-11T09:05:00-05:00"  # the handoff: Ada out, Cy in


class FakeClock:
    """A monotonic clock that moves only when something says time passed."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def world(world, monkeypatch):
    """The settings in the environment; a test swaps one URL for a broken one."""
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    return world


def sync(world, system, *extra):
    return main(["sync", system, "--roster", str(world.path), *extra])


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# -- Zendesk ----------------------------------------------------------------------------
def test_a_zendesk_that_never_answers_fails_after_the_read_timeout_without_retrying(world, monkeypatch, capsys):
    monkeypatch.setenv("ROTA_READ_TIMEOUT", "0.2")
    with SilentServer() as silent:
        monkeypatch.setenv("ZENDESK_URL", silent.url)
        assert sync(world, "zendesk", "--at", "2027-01-11T10:00") == 1
        assert silent.connections == 1  # waiting longer would not help: the next run tries again
    err = one_line(capsys)
    assert err.startswith(f"rota: Zendesk at 127.0.0.1:{silent.port} did not answer within 0.2 s")


def test_a_refused_zendesk_connection_says_refused_at_once(world, monkeypatch, capsys):
    port = refused_port()
    monkeypatch.setenv("ZENDESK_URL", f"http://127.0.0.1:{port}")
    assert sync(world, "zendesk", "--at", "2027-01-11T10:00") == 1
    assert one_line(capsys).startswith(f"rota: Zendesk at 127.0.0.1:{port} refused the connection")


def test_a_tls_failure_says_tls(world, monkeypatch, capsys):
    monkeypatch.setenv("ZENDESK_URL", f"https://127.0.0.1:{world.zd.port}")  # the fake speaks plain HTTP
    assert sync(world, "zendesk", "--at", "2027-01-11T10:00") == 1
    assert one_line(capsys).startswith(f"rota: Zendesk at 127.0.0.1:{world.zd.port}: TLS failed")


def test_a_200_that_is_not_json_is_one_line_not_a_traceback(world, capsys):
    world.zd.garble_next(path_contains="/groups")
    assert sync(world, "zendesk", "--at", "2027-01-11T10:00") == 1
    err = one_line(capsys)
    assert f"unexpected answer from Zendesk at 127.0.0.1:{world.zd.port} to GET /api/v2/groups" in err
    assert ": 200 but not JSON (text/html" in err and "Down for maintenance" in err


def test_a_422_on_a_read_names_zendesks_error_code(world, capsys):
    world.zd.fail_next(422, path_contains="/memberships",
                       body={"error": "InvalidPaginationParameter", "description": "page[size] is not valid"})
    assert sync(world, "zendesk", "--at", "2027-01-11T10:00") == 1
    err = one_line(capsys)
    assert err == (f"rota: Zendesk at 127.0.0.1:{world.zd.port} answered 422 InvalidPaginationParameter: "
                   "page[size] is not valid\n")


def test_rota_tickets_says_the_same(world, monkeypatch, capsys):
    monkeypatch.setenv("ROTA_READ_TIMEOUT", "0.2")
    with SilentServer() as silent:
        monkeypatch.setenv("ZENDESK_URL", silent.url)
        assert main(["tickets", "--roster", str(world.path), "--at", "2027-01-11T10:00"]) == 1
    assert f"Zendesk at 127.0.0.1:{silent.port} did not answer within 0.2 s" in one_line(capsys)


def test_bad_timeout_settings_are_refused(world, monkeypatch, capsys):
    monkeypatch.setenv("ROTA_READ_TIMEOUT", "soon")
    assert sync(world, "zendesk") == 2
    assert one_line(capsys) == "rota: ROTA_READ_TIMEOUT: 'soon' is not a number of seconds from 0 to 600\n"


# -- Google -----------------------------------------------------------------------------
def test_a_silent_calendar_api_fails_after_the_read_timeout(world, monkeypatch, capsys):
    monkeypatch.setenv("ROTA_READ_TIMEOUT", "1")  # the token still comes from the working fake
    with SilentServer() as silent:
        monkeypatch.setenv("ROTA_GOOGLE_API_ENDPOINT", silent.url + "/calendar/v3/")
        assert sync(world, "gcal", "--from", "2027-01-04", "--weeks", "2", "--apply") == 1
        assert silent.connections == 1
    err = one_line(capsys)
    assert err.startswith(f"rota: Google Calendar at 127.0.0.1:{silent.port} did not answer within 1 s")


def key_with_token_uri(world, token_uri):
    info = world.google.service_account_info()
    path = world.tmp_path / "other-key.json"
    path.write_text(json.dumps({**info, "token_uri": token_uri}))
    return str(path)


def test_an_unreachable_token_server_is_not_a_refused_service_account(world, monkeypatch, capsys):
    port = refused_port()
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", key_with_token_uri(world, f"http://127.0.0.1:{port}/token"))
    assert sync(world, "gcal", "--weeks", "2") == 1
    err = one_line(capsys)
    assert err.startswith(f"rota: Google's token server at 127.0.0.1:{port} refused the connection")
    assert "service account" not in err


def test_a_silent_token_server_fails_after_the_read_timeout(world, monkeypatch, capsys):
    monkeypatch.setenv("ROTA_READ_TIMEOUT", "0.2")
    with SilentServer() as silent:
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", key_with_token_uri(world, silent.url + "/token"))
        assert sync(world, "gcal", "--weeks", "2") == 1
    assert one_line(capsys).startswith(f"rota: Google's token server at 127.0.0.1:{silent.port} "
                                       "did not answer within 0.2 s")


def test_a_token_server_that_says_no_is_a_refused_service_account(world, monkeypatch, capsys):
    info = world.google.service_account_info()
    path = world.tmp_path / "stranger.json"
    path.write_text(json.dumps({**info, "client_email": "stranger@rota-test.iam.gserviceaccount.com"}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    assert sync(world, "gcal", "--weeks", "2") == 1
    assert one_line(capsys).startswith(
        f"rota: Google's token server at 127.0.0.1:{world.google.port} refused the service account "
        "stranger@rota-test.iam.gserviceaccount.com: invalid_grant: Invalid grant: account not found")


def test_a_calendar_google_does_not_know_may_not_be_shared(world, capsys):
    world.path.write_text(yaml_text(team(*NAMES, google={"calendar_id": "unshared@group.calendar.google.com"})))
    assert sync(world, "gcal", "--weeks", "2") == 1
    err = one_line(capsys)
    assert err.startswith(f"rota: Google Calendar at 127.0.0.1:{world.google.port} answered 404 notFound")
    assert ("calendar unshared@group.calendar.google.com: it does not exist, or it is not shared with the "
            "service account rota-sync@rota-test.iam.gserviceaccount.com") in err


# -- rota run ---------------------------------------------------------------------------
def run_job(world, at=MONDAY, clock=None, deadline=None, env=None):
    clock = clock or FakeClock()
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        clock.advance(seconds)

    out = io.StringIO()
    code = runjob.run(world.path, utc(at), utc(at), apply=True, out=out,
                      settings=Settings.from_env(env or os.environ),
                      patience=Patience(sleep, clock=clock, jitter=lambda: 0.0), deadline=deadline)
    return code, out.getvalue(), waits


def step_line(output, name):
    return next(line for line in output.splitlines() if line.startswith(f"  {name} "))


def test_a_run_with_every_service_hanging_fails_each_step_once_and_says_where(world):
    with SilentServer() as zd, SilentServer() as google, SilentServer() as slack:
        env = dict(os.environ, ZENDESK_URL=zd.url, ROTA_GOOGLE_API_ENDPOINT=google.url + "/calendar/v3/",
                   SLACK_WEBHOOK_URL=slack.url + "/services/T0001/B0001/s3cret", ROTA_READ_TIMEOUT="1")
        code, output, waits = run_job(world, env=env)
        assert (zd.connections, google.connections, slack.connections) == (1, 1, 1)
    assert code == 1 and waits == []
    assert f"zendesk  failed: Zendesk at 127.0.0.1:{zd.port} did not answer within 1 s" in output
    assert step_line(output, "tickets").endswith("not tried again in this run")
    assert f"gcal     failed: Google Calendar at 127.0.0.1:{google.port} did not answer within 1 s" in output
    assert (f"notice   failed: Slack at 127.0.0.1:{slack.port} did not answer within 1 s after the message "
            "was sent: it may have been posted") in output
    assert "s3cret" not in output
    assert output.splitlines()[-1] == "4 step(s) failed: zendesk, tickets, gcal, notice."


def test_a_refused_slack_is_not_retried_and_the_next_run_posts(world):
    port = refused_port()
    code, output, waits = run_job(world, env=dict(os.environ, SLACK_WEBHOOK_URL=f"http://127.0.0.1:{port}/services/x"))
    assert code == 1 and waits == []
    assert f"notice   failed: Slack at 127.0.0.1:{port} refused the connection; the next run will try again" in output
    code, output, _ = run_job(world, at="2027-01-11T09:10:00-05:00")
    assert code == 0 and len(world.slack.messages) == 1


def test_steps_not_started_by_the_deadline_are_skipped_and_the_run_exits_1(world):
    clock = FakeClock()
    world.zd.on_request = lambda: clock.advance(50)  # a slow Zendesk: each request takes 50 s
    code, output, _ = run_job(world, clock=clock, deadline=240)
    assert code == 1
    assert step_line(output, "record").startswith("  record   done")
    assert "the run's deadline has passed" in step_line(output, "zendesk")
    for name in ("tickets", "gcal", "notice"):
        assert step_line(output, name).startswith(f"  {name:8} skipped: deadline")
    assert output.splitlines()[-1] == "3 step(s) not started before the run's deadline (240 s): tickets, gcal, notice."
    assert len(world.zd.requests) == 5  # none sent once the deadline had passed
    assert world.google.requests == [] and world.slack.requests == []


def test_no_retry_waits_past_the_deadline(world):
    world.zd.fail_next(429, retry_after=100, path_contains="/groups")
    code, output, waits = run_job(world, deadline=60)
    assert code == 1 and 100 not in waits
    assert "asks to wait 100 s, past the run's deadline" in step_line(output, "zendesk")


def test_google_batches_are_not_retried_past_the_deadline(world):
    world.google.fail_next(503, count=10, path_contains="/batch", in_batch=False)
    code, output, waits = run_job(world, deadline=2.5)
    assert code == 1 and waits == [1.0]  # the next backoff (2 s) would end past the deadline
    assert "gcal     failed: 0 of" in output
    assert "not retried: the run's deadline is near; the next run will carry on" in output
    assert world.google.events[CALENDAR] == {}


def test_a_second_run_names_the_one_holding_the_lock(world):
    seen = []

    def second_run():  # starts while the first run is talking to Zendesk
        if not seen:
            seen.append(run_job(world, at="2027-01-11T09:07:00-05:00"))

    world.zd.on_request = second_run
    code, _, _ = run_job(world)
    assert code == 0
    (second_code, second_output, _), = seen
    assert second_code == 0
    assert second_output == (f"rota run: another run holds {FolderStore(world.path).where('run lock')} (pid {os.getpid()}, "
                             "since 2027-01-11 14:05:00 UTC, 2 min ago); it does the work, this run stops.\n")


def test_a_lock_held_far_past_any_deadline_looks_stuck(world):
    holder = {"pid": 4242, "since": "2027-01-11T13:00:00+00:00"}
    with FolderStore(world.path).run_lock(holder=holder):
        code, output, _ = run_job(world)
    assert code == 1
    assert "(pid 4242, since 2027-01-11 13:00:00 UTC, 65 min ago)" in output
    assert "it may be stuck, check pid 4242" in output and output.count("\n") == 1


def test_the_cli_takes_a_deadline(world, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["run", "--roster", str(world.path), "--deadline", "0"])
    assert exited.value.code == 2
    assert "--deadline: '0': give a positive number of seconds, at most 3600" in capsys.readouterr().err
    assert main(["run", "--roster", str(world.path), "--at", "2027-01-11T09:05", "--deadline", "100"]) == 0


# -- one way to say what went wrong -------------------------------------------------------
@pytest.mark.parametrize("exc", [
    httplib2.ServerNotFoundError("Unable to find the server at calendar.invalid"),
    urllib.error.URLError(socket.gaierror(-2, "Name or service not known")),
    requests.ConnectionError(socket.gaierror(-2, "Name or service not known")),
])
def test_a_name_that_does_not_resolve_is_said_so_by_every_library(exc):
    failure = transport.failure("Slack", "https://hooks.example.invalid/services/x", exc)
    assert str(failure) == "Slack at hooks.example.invalid:443: name not resolved (check the URL, and DNS)"
    assert not failure.retryable


def test_certificate_problems_are_tls_failures():
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "self-signed certificate"
    failure = transport.failure("Zendesk", "https://acme.zendesk.com", requests.exceptions.SSLError(error))
    assert str(failure) == "Zendesk at acme.zendesk.com:443: TLS failed: self-signed certificate"
