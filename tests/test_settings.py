"""The environment, read once into `Settings`: names unchanged, secrets kept
out of reprs, bad values refused in one line when they are needed."""

import pytest

from scheduler.errors import RotaError
from scheduler.settings import Settings

ENV = {
    "ROTA_ROSTER": "rosters/team.yaml", "ROTA_PUBLIC_URL": "https://rota.agency.gov", "ROTA_PRIVATE": "1",
    "ROTA_EDITORS": "/srv/editors.json", "ROTA_SECRET_KEY": "k" * 40, "ROTA_TRUSTED_PROXIES": "1",
    "ROTA_CONNECT_TIMEOUT": "3", "ROTA_READ_TIMEOUT": "7.5", "ZENDESK_URL": "https://agency.zendesk.com",
    "ZENDESK_EMAIL": "bot@agency.gov", "ZENDESK_API_TOKEN": "zd-s3cret", "ZENDESK_OAUTH_TOKEN": "oauth-s3cret",
    "GOOGLE_APPLICATION_CREDENTIALS": "/srv/key.json", "ROTA_GOOGLE_API_ENDPOINT": "http://127.0.0.1:1/calendar/v3/",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/hook-s3cret",
    "ROTA_DATABASE_URL": "postgres://rota:db-s3cret@db.internal/rota",
}


def test_every_variable_is_read_under_its_name():
    s = Settings.from_env(ENV)
    assert (s.roster, s.public_url, s.private, s.editors) == (
        "rosters/team.yaml", "https://rota.agency.gov", True, "/srv/editors.json")
    assert (s.secret_key, s.trusted_proxies) == ("k" * 40, 1)
    assert (s.timeouts.connect, s.timeouts.read) == (3.0, 7.5)
    assert (s.zendesk_url, s.zendesk_email, s.zendesk_api_token, s.zendesk_oauth_token) == (
        "https://agency.zendesk.com", "bot@agency.gov", "zd-s3cret", "oauth-s3cret")
    assert (s.google_credentials, s.google_api_endpoint) == ("/srv/key.json", "http://127.0.0.1:1/calendar/v3/")
    assert s.slack_webhook_url.endswith("hook-s3cret")
    assert s.database_url == "postgresql+psycopg://rota:db-s3cret@db.internal/rota?sslmode=require"


def test_nothing_set_means_the_defaults():
    s = Settings.from_env({})
    assert (s.roster, s.private, s.secret_key, s.trusted_proxies, s.database_url) == (None, False, None, 0, None)
    assert (s.timeouts.connect, s.timeouts.read) == (10.0, 30.0)


def test_no_secret_shows_in_the_repr():
    shown = repr(Settings.from_env(ENV))
    assert "bot@agency.gov" in shown  # the repr is still useful
    for secret in ("k" * 40, "zd-s3cret", "oauth-s3cret", "hook-s3cret", "db-s3cret"):
        assert secret not in shown


@pytest.mark.parametrize("name, value, message", [
    ("ROTA_CONNECT_TIMEOUT", "0", "ROTA_CONNECT_TIMEOUT: '0' is not a number of seconds from 0 to 600"),
    ("ROTA_READ_TIMEOUT", "soon", "ROTA_READ_TIMEOUT: 'soon' is not a number of seconds from 0 to 600"),
    ("ROTA_TRUSTED_PROXIES", "two", "ROTA_TRUSTED_PROXIES must be a number of proxies (0, 1, 2...), not 'two'"),
    ("ROTA_SECRET_KEY", "short", "ROTA_SECRET_KEY must be at least 32 bytes long (it has 5)"),
])
def test_a_bad_value_is_refused_when_it_is_asked_for(name, value, message):
    s = Settings.from_env({name: value})  # reading never fails: `rota who` needs no timeout
    with pytest.raises(RotaError) as refused:
        s.timeouts, s.trusted_proxies, s.secret_key
    assert str(refused.value).startswith(message)
