"""manifest.yml deploys what the README promises on cloud.gov: two web instances and a
worker on one database, secrets from a bound service and never in the file, the schema
migrated before the page starts."""

import re
import shlex
from pathlib import Path

from ruamel.yaml import YAML

REPO = Path(__file__).parent.parent
TEXT = (REPO / "manifest.yml").read_text()
APPS = {app["name"]: app for app in YAML(typ="safe").load(TEXT)["applications"]}
WEB, WORKER = APPS["rota"], APPS["rota-run"]
SECRET_NAMES = {"ROTA_SECRET_KEY", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN", "SLACK_WEBHOOK_URL",
                "GOOGLE_SERVICE_ACCOUNT_JSON", "GOOGLE_APPLICATION_CREDENTIALS", "ROTA_DATABASE_URL", "DATABASE_URL"}


def test_the_web_page_runs_two_instances_under_gunicorn_behind_cloud_govs_two_proxies():
    assert WEB["instances"] == 2 and WEB.get("no-route") is not True
    gunicorn = shlex.split(WEB["command"].split("&&")[-1])
    assert gunicorn[:2] == ["exec", "gunicorn"] and gunicorn[-1] == "web:create_app()"
    assert " ".join(gunicorn[2:-1]) == "--worker-class gthread --workers 2 --threads 8 --bind 0.0.0.0:$PORT"
    assert (WEB["health-check-type"], WEB["health-check-http-endpoint"]) == ("http", "/healthz")
    assert WEB["env"]["ROTA_TRUSTED_PROXIES"] == "2"


def test_the_schema_is_migrated_before_the_page_starts_and_a_failure_stops_it():
    first, *rest = WEB["command"].split("&&")
    assert first.strip() == "rota db upgrade" and len(rest) == 1 and ";" not in WEB["command"]


def test_the_worker_has_no_route_and_runs_every_five_minutes():
    assert WORKER["no-route"] is True and WORKER["health-check-type"] == "process" and WORKER["instances"] == 1
    assert WORKER["command"] == "rota run --apply --every 300"


def test_both_apps_share_the_database_and_the_secrets_service():
    for app in (WEB, WORKER):
        assert {"rota-db", "rota-secrets"} <= set(app["services"]), app["name"]
    assert "cf create-service aws-rds micro-psql rota-db" in TEXT and "cf cups rota-secrets" in TEXT


def test_memory_stays_within_what_the_page_was_sized_for():
    assert WEB["memory"] == WORKER["memory"] == "256M"  # web/__init__.py: SIGNIN_CONCURRENCY keeps peaks under it


def test_no_secret_is_in_the_manifest():
    for app in APPS.values():
        assert not SECRET_NAMES & set(app.get("env") or {}), app["name"]
    assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", TEXT)  # no URL with a password
    assert "hooks.slack.com" not in TEXT and "PRIVATE KEY" not in TEXT
    assert not re.search(r"[0-9a-f]{32}", TEXT)  # no generated key


def test_the_buildpack_installs_the_server_and_the_database_driver():
    assert (REPO / "requirements.txt").read_text().split() == [".[serve,db]"]


def test_cf_push_leaves_local_environments_and_instance_secrets_behind():
    ignored = (REPO / ".cfignore").read_text().splitlines()
    assert {".venv/", "rosters/*.editors.json", ".env", "*.db"} <= set(ignored)
