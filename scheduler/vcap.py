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
