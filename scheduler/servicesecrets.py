"""Secrets from a Cloud Foundry user-provided service.

On cloud.gov the secrets live in one service made with
``cf cups rota-secrets -p '{"ZENDESK_EMAIL": "...", ...}'`` and bound to
every app, so the web app and the worker get the same ones, from one place,
without ``cf set-env`` on each. Cloud Foundry hands the service to the app in
``VCAP_SERVICES``; its ``credentials`` use the environment's own names.

The service is the ``user-provided`` one named by ``ROTA_SECRETS_SERVICE``
(default ``rota-secrets``), or, with no such name given, the only one bound.
A real environment variable wins over the service, so one value can be
overridden for one app with ``cf set-env``.

Values are strings; numbers and booleans become their JSON text, null is
left out. ``GOOGLE_SERVICE_ACCOUNT_JSON`` may also be the key itself, a JSON
object, as Google hands it out. Errors name the service and the key, never
a value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from scheduler import vcap
from scheduler.errors import ConfigError

SERVICE_NAME_VARIABLE = "ROTA_SECRETS_SERVICE"
DEFAULT_SERVICE = "rota-secrets"
LABEL = "user-provided"
GOOGLE_KEY = "GOOGLE_SERVICE_ACCOUNT_JSON"
# What a service cannot set: which services there are, and which one holds the secrets.
NOT_FROM_A_SERVICE = {"VCAP_SERVICES", SERVICE_NAME_VARIABLE}


def with_service_secrets(env: Mapping[str, str]) -> tuple[Mapping[str, str], str | None]:
    """`env` with the bound secrets service's credentials under it, and the service's name."""
    name, credentials = service_credentials(env)
    if not credentials:
        return env, name
    return {**credentials, **env}, name


def service_credentials(env: Mapping[str, str]) -> tuple[str | None, dict[str, str]]:
    """The secrets service's name and its credentials as environment values (None, {} when none is bound)."""
    services = vcap.bound(env, LABEL)
    if not services:
        return None, {}
    service = _the_service(services, env.get(SERVICE_NAME_VARIABLE, "").strip())
    if service is None:
        return None, {}
    name = str(service.get("name", ""))
    credentials = service.get("credentials") or {}
    if not isinstance(credentials, dict):
        raise ConfigError(f"VCAP_SERVICES: the {LABEL} service {name!r} has credentials that are not "
                          "a JSON object of names and values")
    return name, {key: text for key, value in credentials.items()
                  if key not in NOT_FROM_A_SERVICE and (text := _text(name, key, value)) is not None}


def _the_service(bound: list, wanted: str) -> dict | None:
    services = [s for s in bound if isinstance(s, dict)]
    named = [s for s in services if s.get("name") == (wanted or DEFAULT_SERVICE)]
    if named:
        return named[0]
    names = ", ".join(repr(s.get("name", "?")) for s in services) or "none"
    if wanted:
        raise ConfigError(f"{SERVICE_NAME_VARIABLE}: no {LABEL} service named {wanted!r} is bound "
                          f"(bound: {names})")
    if len(services) > 1:
        raise ConfigError(f"VCAP_SERVICES: {len(services)} {LABEL} services are bound ({names}) and none is "
                          f"named {DEFAULT_SERVICE!r}; say which holds rota's secrets with {SERVICE_NAME_VARIABLE}")
    return services[0] if services else None


def _text(service: str, key: str, value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    if key == GOOGLE_KEY and isinstance(value, dict):
        return json.dumps(value)  # the key file's contents pasted in as they are
    raise ConfigError(f"VCAP_SERVICES: the {LABEL} service {service!r}: {key} is a JSON "
                      f"{type(value).__name__.replace('dict', 'object').replace('list', 'array')}, "
                      "not a text value")
