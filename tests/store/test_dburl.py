"""Which database rota uses, and the URL it connects with."""

import json

import pytest

from scheduler.store.dburl import DatabaseConfigError, database_url, normalise, redacted

RDS = "postgres://u_abc:s3cret@db.example.us-gov-west-1.rds.amazonaws.com:5432/cgawsbrokerprod"


def vcap(**services):
    return json.dumps(services)


def rds(uri=RDS, name="rota-db"):
    return {"name": name, "label": "aws-rds", "plan": "micro-psql",
            "credentials": {"uri": uri, "username": "u_abc", "password": "s3cret", "host": "db", "port": "5432"}}


def test_no_database_configured_means_the_folder_store():
    assert database_url({}) is None
    assert database_url({"ROTA_DATABASE_URL": "  ", "DATABASE_URL": ""}) is None
    # Other bound services are not a database.
    assert database_url({"VCAP_SERVICES": vcap(**{"user-provided": [{"name": "secrets", "credentials": {"uri": "x"}}]})}) is None


def test_rota_database_url_wins_then_database_url_then_the_bound_service():
    env = {"ROTA_DATABASE_URL": "sqlite:///rota.db", "DATABASE_URL": "postgres://a:b@h/one",
           "VCAP_SERVICES": vcap(**{"aws-rds": [rds()]})}
    assert database_url(env) == "sqlite:///rota.db"
    del env["ROTA_DATABASE_URL"]
    assert database_url(env) == "postgresql+psycopg://a:b@h/one?sslmode=require"
    del env["DATABASE_URL"]
    assert database_url(env) == ("postgresql+psycopg://u_abc:s3cret@db.example.us-gov-west-1.rds.amazonaws.com:5432/"
                                 "cgawsbrokerprod?sslmode=require")


def test_the_aws_rds_service_is_found_beside_user_provided_ones():
    env = {"VCAP_SERVICES": vcap(**{
        "user-provided": [{"name": "rota-secrets", "credentials": {"ZENDESK_TOKEN": "t", "uri": "postgres://not/this"}}],
        "aws-rds": [rds("postgres://x:y@rds.internal:5432/rota")],
    })}
    assert database_url(env) == "postgresql+psycopg://x:y@rds.internal:5432/rota?sslmode=require"


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg", "POSTGRES"])
def test_every_postgresql_spelling_becomes_psycopg_with_tls_required(scheme):
    assert normalise(f"{scheme}://u:p@host:5432/db") == "postgresql+psycopg://u:p@host:5432/db?sslmode=require"


def test_a_url_that_says_how_to_use_tls_keeps_it():
    assert normalise("postgres://u:p@127.0.0.1:5432/db?sslmode=disable") == \
        "postgresql+psycopg://u:p@127.0.0.1:5432/db?sslmode=disable"
    assert normalise("postgresql://u:p@h/db?application_name=rota&sslmode=verify-full") == \
        "postgresql+psycopg://u:p@h/db?application_name=rota&sslmode=verify-full"
    assert normalise("postgresql://u:p@h/db?application_name=rota") == \
        "postgresql+psycopg://u:p@h/db?application_name=rota&sslmode=require"


def test_sqlite_files_are_accepted_as_they_are():
    assert normalise("sqlite:///rota.db") == "sqlite:///rota.db"
    assert normalise("sqlite:////var/lib/rota/rota.db") == "sqlite:////var/lib/rota/rota.db"


@pytest.mark.parametrize("url, says", [
    ("sqlite://", "not a SQLite file"),
    ("sqlite:///:memory:", "not a SQLite file"),
    ("mysql://u:hunter2@h/db", "neither PostgreSQL"),
    ("rota.db", "neither PostgreSQL"),
    ("postgres:///db", "names no host"),
])
def test_a_url_rota_cannot_use_is_one_clear_error_naming_where_it_came_from(url, says):
    with pytest.raises(DatabaseConfigError) as e:
        database_url({"ROTA_DATABASE_URL": url})
    assert e.value.exit_code == 2
    assert says in str(e.value) and str(e.value).startswith("ROTA_DATABASE_URL: ")
    assert "hunter2" not in str(e.value)


@pytest.mark.parametrize("text, says", [
    ("{not json", "VCAP_SERVICES is not valid JSON"),
    ("[]", "not a JSON object"),
    (vcap(**{"aws-rds": {"uri": RDS}}), "aws-rds is not a list"),
    (vcap(**{"aws-rds": [{"name": "rota-db", "credentials": {}}]}), "'rota-db' has no credentials.uri"),
    (vcap(**{"aws-rds": [rds(name="one"), rds(name="two")]}), "2 aws-rds services are bound (one, two)"),
])
def test_a_bad_vcap_services_is_one_clear_error(text, says):
    with pytest.raises(DatabaseConfigError) as e:
        database_url({"VCAP_SERVICES": text})
    assert says in str(e.value)
    assert "s3cret" not in str(e.value)


def test_a_bad_vcap_services_does_not_matter_when_a_url_is_set():
    assert database_url({"DATABASE_URL": "sqlite:///rota.db", "VCAP_SERVICES": "{not json"}) == "sqlite:///rota.db"


@pytest.mark.parametrize("url, shown", [
    (RDS, "postgres://u_abc:***@db.example.us-gov-west-1.rds.amazonaws.com:5432/cgawsbrokerprod"),
    ("postgresql+psycopg://rota:p%40ss@127.0.0.1:5/db?sslmode=disable",
     "postgresql+psycopg://rota:***@127.0.0.1:5/db?sslmode=disable"),
    ("postgresql://h/db?user=rota&password=s3cret&sslmode=require", "postgresql://h/db?user=rota&password=***&sslmode=require"),
    ("postgresql://rota@h/db", "postgresql://rota@h/db"),
    ("sqlite:////var/lib/rota.db", "sqlite:////var/lib/rota.db"),
])
def test_redacted_never_shows_a_password(url, shown):
    assert redacted(url) == shown
