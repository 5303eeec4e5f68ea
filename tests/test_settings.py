"""The environment, read once into `Settings`: names unchanged, secrets kept
out of reprs, bad values refused in one line when they are needed."""

import json

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


# -- secrets from a Cloud Foundry user-provided service -------------------------------------------

def vcap(*user_provided, rds=True) -> str:
    services = {"user-provided": list(user_provided)}
    if rds:
        services["aws-rds"] = [{"name": "rota-db", "label": "aws-rds", "plan": "micro-psql",
                                "credentials": {"uri": "postgres://u:rds-s3cret@rds.internal:5432/rota"}}]
    return json.dumps(services)


def cups(name="rota-secrets", **credentials) -> dict:
    return {"name": name, "label": "user-provided", "credentials": credentials}


SECRETS = cups(ZENDESK_EMAIL="bot@agency.gov", ZENDESK_API_TOKEN="zd-s3cret", ZENDESK_URL="https://agency.zendesk.com",
               SLACK_WEBHOOK_URL="https://hooks.slack.com/services/T0/B0/hook-s3cret", ROTA_SECRET_KEY="k" * 40,
               ROTA_TRUSTED_PROXIES=2, ROTA_PRIVATE=True,
               GOOGLE_SERVICE_ACCOUNT_JSON={"type": "service_account", "private_key": "key-s3cret"})


def test_a_bound_secrets_service_supplies_the_environments_names():
    s = Settings.from_env({"VCAP_SERVICES": vcap(SECRETS, cups("log-drain", syslog_drain_url="syslog://x"))})
    assert (s.zendesk_email, s.zendesk_api_token, s.zendesk_url) == (
        "bot@agency.gov", "zd-s3cret", "https://agency.zendesk.com")
    assert s.slack_webhook_url.endswith("hook-s3cret") and s.secret_key == "k" * 40
    assert (s.trusted_proxies, s.private) == (2, True)  # JSON numbers and booleans read as their text
    assert json.loads(s.google_key_json)["private_key"] == "key-s3cret"  # a key object, accepted as it is
    assert s.google_key_source == "the rota-secrets service's GOOGLE_SERVICE_ACCOUNT_JSON"
    assert s.database_url == "postgresql+psycopg://u:rds-s3cret@rds.internal:5432/rota?sslmode=require"


def test_the_environment_wins_over_the_service():
    s = Settings.from_env({"VCAP_SERVICES": vcap(SECRETS), "ZENDESK_API_TOKEN": "from-env",
                           "GOOGLE_SERVICE_ACCOUNT_JSON": "{}", "ROTA_TRUSTED_PROXIES": "1"})
    assert (s.zendesk_api_token, s.zendesk_email, s.trusted_proxies) == ("from-env", "bot@agency.gov", 1)
    assert (s.google_key_json, s.google_key_source) == ("{}", "GOOGLE_SERVICE_ACCOUNT_JSON")


def test_the_only_user_provided_service_or_the_one_named():
    only = Settings.from_env({"VCAP_SERVICES": vcap(cups("team-secrets", ZENDESK_EMAIL="only@agency.gov"))})
    assert only.zendesk_email == "only@agency.gov"
    env = {"VCAP_SERVICES": vcap(cups("a", ZENDESK_EMAIL="a@agency.gov"), cups("b", ZENDESK_EMAIL="b@agency.gov")),
           "ROTA_SECRETS_SERVICE": "b"}
    assert Settings.from_env(env).zendesk_email == "b@agency.gov"
    assert Settings.from_env({"VCAP_SERVICES": vcap(rds=True)}).zendesk_email is None  # none bound: no secrets


def test_a_service_cannot_say_which_services_there_are():
    s = Settings.from_env({"VCAP_SERVICES": vcap(cups(VCAP_SERVICES="{}"))})
    assert s.database_url.startswith("postgresql+psycopg://u:rds-s3cret@rds.internal")  # VCAP_SERVICES kept
    s = Settings.from_env({"VCAP_SERVICES": vcap(cups(ROTA_DATABASE_URL="sqlite:///rota.db"))})
    assert s.database_url == "sqlite:///rota.db"  # but a database URL is a secret like the others


@pytest.mark.parametrize("env, message", [
    ({"VCAP_SERVICES": "{not json"}, "VCAP_SERVICES is not valid JSON (Expecting property name"),
    ({"VCAP_SERVICES": vcap(cups("a", ZENDESK_API_TOKEN="zd-s3cret"), cups("b"))},
     "VCAP_SERVICES: 2 user-provided services are bound ('a', 'b') and none is named 'rota-secrets'; "
     "say which holds rota's secrets with ROTA_SECRETS_SERVICE"),
    ({"VCAP_SERVICES": vcap(cups("a", ZENDESK_API_TOKEN="zd-s3cret")), "ROTA_SECRETS_SERVICE": "rota-prod"},
     "ROTA_SECRETS_SERVICE: no user-provided service named 'rota-prod' is bound (bound: 'a')"),
    ({"VCAP_SERVICES": vcap(cups(ZENDESK_API_TOKEN=["zd-s3cret"]))},
     "VCAP_SERVICES: the user-provided service 'rota-secrets': ZENDESK_API_TOKEN is a JSON array, not a text value"),
])
def test_an_unusable_service_is_one_line_without_its_secrets(env, message):
    with pytest.raises(RotaError) as refused:
        Settings.from_env(env)
    assert str(refused.value).startswith(message)
    assert "s3cret" not in str(refused.value)


def test_the_cli_says_an_unusable_service_in_one_line(monkeypatch, capsys):
    from scheduler.cli import main

    monkeypatch.setenv("VCAP_SERVICES", vcap(cups(ZENDESK_API_TOKEN={"token": "zd-s3cret"})))
    assert main(["who"]) == 2
    err = capsys.readouterr().err
    assert err == ("rota: VCAP_SERVICES: the user-provided service 'rota-secrets': ZENDESK_API_TOKEN is a JSON "
                   "object, not a text value\n")


def test_no_secret_from_the_service_shows_in_the_repr():
    shown = repr(Settings.from_env({"VCAP_SERVICES": vcap(SECRETS)}))
    assert "bot@agency.gov" in shown
    for secret in ("k" * 40, "zd-s3cret", "hook-s3cret", "key-s3cret", "rds-s3cret"):
        assert secret not in shown


# -- signing in with an OpenID Provider ----------------------------------------------------------

OIDC = {"ROTA_OIDC_ISSUER": "https://idp.agency.gov/", "ROTA_OIDC_CLIENT_ID": "rota",
        "ROTA_OIDC_CLIENT_SECRET": "client-s3cret"}


def sso_service(**credentials) -> dict:
    return {"name": "rota-sso", "label": "cloud-gov-identity-provider", "plan": "oauth-client",
            "credentials": credentials}


def test_a_provider_is_configured_by_its_issuer_client_id_and_secret():
    s = Settings.from_env(OIDC)
    assert (s.oidc.issuer, s.oidc.client_id, s.oidc.client_secret) == ("https://idp.agency.gov", "rota", "client-s3cret")
    assert s.oidc.discovery_url == "https://idp.agency.gov/.well-known/openid-configuration"
    assert Settings.from_env({**OIDC, "ROTA_OIDC_ISSUER": s.oidc.discovery_url}).oidc.issuer == "https://idp.agency.gov"
    assert s.local_passwords is True  # on until turned off
    assert Settings.from_env({**OIDC, "ROTA_LOCAL_PASSWORDS": "off"}).local_passwords is False
    assert "client-s3cret" not in repr(s) and "client-s3cret" not in repr(s.oidc)
    assert Settings.from_env({}).oidc is None


def test_a_bound_cloud_gov_identity_provider_gives_the_client_and_cloud_govs_issuer():
    env = {"VCAP_SERVICES": json.dumps({"cloud-gov-identity-provider": [
        sso_service(client_id="uaa-client", client_secret="uaa-s3cret")]})}
    s = Settings.from_env(env)
    assert (s.oidc.issuer, s.oidc.client_id, s.oidc.client_secret) == (
        "https://login.fr.cloud.gov", "uaa-client", "uaa-s3cret")
    assert s.oidc.discovery_url == "https://login.fr.cloud.gov/.well-known/openid-configuration"
    assert Settings.from_env({**env, **OIDC}).oidc.client_id == "rota"  # the environment wins
    assert "uaa-s3cret" not in repr(s)


@pytest.mark.parametrize("env, message", [
    ({"ROTA_OIDC_ISSUER": "https://idp.agency.gov"},
     "signing in with a provider needs ROTA_OIDC_CLIENT_ID, ROTA_OIDC_CLIENT_SECRET too"),
    ({**OIDC, "ROTA_OIDC_ISSUER": "idp.agency.gov"}, "ROTA_OIDC_ISSUER must be an https:// URL"),
    ({"VCAP_SERVICES": json.dumps({"cloud-gov-identity-provider": [sso_service(client_id="c")]})},
     "signing in with a provider needs ROTA_OIDC_CLIENT_SECRET too (none in the rota-sso service)"),
    ({"VCAP_SERVICES": json.dumps({"cloud-gov-identity-provider": [sso_service(), sso_service()]})},
     "VCAP_SERVICES: 2 cloud-gov-identity-provider services are bound ('rota-sso', 'rota-sso'); bind only one"),
    ({"ROTA_LOCAL_PASSWORDS": "off"}, "ROTA_LOCAL_PASSWORDS=off needs a provider to sign in with"),
    ({**OIDC, "ROTA_LOCAL_PASSWORDS": "nope"}, "ROTA_LOCAL_PASSWORDS must be on or off, not 'nope'"),
])
def test_a_provider_half_configured_is_one_line_without_its_secret(env, message):
    s = Settings.from_env(env)
    with pytest.raises(RotaError) as refused:
        s.oidc, s.local_passwords
    assert str(refused.value).startswith(message) and "s3cret" not in str(refused.value)


def test_the_page_refuses_to_start_half_configured(tmp_path):
    from web import create_app

    with pytest.raises(RotaError, match="ROTA_LOCAL_PASSWORDS=off needs a provider"):
        create_app({"ROSTER": str(tmp_path / "none.yaml")}, settings=Settings.from_env({"ROTA_LOCAL_PASSWORDS": "off"}))
