"""Cloud Foundry's `VCAP_SERVICES`: the services bound to the app, by label.

Read in one place so that the database URL and the secrets service agree
on what a malformed binding is and how it is reported."""

from __future__ import annotations

import json
from collections.abc import Mapping

from scheduler.errors import ConfigError


def bound(env: Mapping[str, str], label: str, error: type[Exception] = ConfigError) -> list:
    """The services bound under `label` (`[]` when none, or no VCAP_SERVICES);
    `error` (a configuration error) names what is malformed."""
    vcap = env.get("VCAP_SERVICES", "").strip()
    if not vcap:
        return []
    try:
        services = json.loads(vcap)
    except ValueError as e:
        raise error(f"VCAP_SERVICES is not valid JSON ({e.msg} at character {e.pos})") from None
    if not isinstance(services, dict):
        raise error("VCAP_SERVICES is not a JSON object of service lists")
    found = services.get(label) or []
    if not isinstance(found, list):
        raise error(f"VCAP_SERVICES: {label} is not a list of services")
    return found


def credentials(env: Mapping[str, str], label: str, error: type[Exception] = ConfigError) -> tuple[str, dict] | None:
    """The name and credentials of the one service bound under `label` (None
    when none is); more than one, or credentials that are not an object,
    is an `error` that names them."""
    services = [s for s in bound(env, label, error) if isinstance(s, dict)]
    if not services:
        return None
    if len(services) > 1:
        names = ", ".join(repr(s.get("name", "?")) for s in services)
        raise error(f"VCAP_SERVICES: {len(services)} {label} services are bound ({names}); bind only one")
    name = str(services[0].get("name", label))
    found = services[0].get("credentials") or {}
    if not isinstance(found, dict):
        raise error(f"VCAP_SERVICES: the {label} service {name!r} has credentials that are not a JSON object")
    return name, found
