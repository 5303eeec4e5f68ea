"""Outside systems that hang, refuse or answer nonsense: every request has a
timeout, every failure is one line naming the system, its host and port and
what went wrong.

Timeouts are set short through the environment (0.2 s where nothing but
the silent server is asked, 1 s where a working fake answers too), so
nothing here waits long."""

import json
import socket
import ssl
import urllib.error

import httplib2
import pytest
import requests
from fakes.google import FakeGoogle
from fakes.silent import SilentServer, refused_port
from fakes.slack import FakeSlack
from fakes.zendesk import FakeZendesk
from rosters import team, yaml_text

from scheduler import transport
from scheduler.cli import main

CALENDAR = "team@group.calendar.google.com"
NAMES = ("Ada", "Bob", "Cy", "Di")
ZENDESK = {"url": "https://acme.zendesk.com", "group": "Platform experts"}


@pytest.fixture
def world(roster_dir, tmp_path, monkeypatch):
    """Working fakes for all three systems, their settings in the environment;
    a test swaps one URL for a broken one."""
    with FakeZendesk() as zd, FakeGoogle() as google, FakeSlack() as slack:
        ids = {n: zd.add_user(n, f"{n.lower()}@example.gov") for n in NAMES}
        zd.group = zd.add_group("Platform experts")
        zd.add_group("Tier 1")
        for n in ("Ada", "Bob"):
            zd.add_membership(ids[n], zd.group)
        path = roster_dir / "team.yaml"
        path.write_text(yaml_text(team(*NAMES, holidays="US", zendesk=ZENDESK, google={"calendar_id": CALENDAR})))
        env = {
            "ZENDESK_URL": zd.url, "ZENDESK_EMAIL": zd.email, "ZENDESK_API_TOKEN": zd.token,
            "GOOGLE_APPLICATION_CREDENTIALS": str(google.write_key_file(tmp_path / "key.json")),
            "ROTA_GOOGLE_API_ENDPOINT": google.url + "/calendar/v3/",
            "SLACK_WEBHOOK_URL": slack.url,
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield type("World", (), {"zd": zd, "google": google, "slack": slack, "path": path, "env": env,
                                 "tmp_path": tmp_path})()


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
