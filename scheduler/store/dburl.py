"""Which database rota keeps its state in, if any.

The first of these that is set names it:

1. ``ROTA_DATABASE_URL``
2. ``DATABASE_URL`` (Cloud Foundry sets it when a database is bound)
3. the one ``aws-rds`` service bound in ``VCAP_SERVICES`` (its ``credentials.uri``)

With none, rota keeps its state in files beside the roster (the folder store).

Accepted URLs are PostgreSQL (``postgres://``, ``postgresql://``,
``postgresql+psycopg://``: all become ``postgresql+psycopg://``, since
SQLAlchemy refuses the ``postgres://`` that cloud.gov hands out) and SQLite
files (``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``).
PostgreSQL gets ``sslmode=require`` unless the URL says otherwise: cloud.gov's
PostgreSQL 15 refuses connections without TLS.

This module reads the environment and parses text only; SQLAlchemy and the
driver are imported by whoever connects, so commands on the folder store
start as fast as before. A URL holds a password: show it only through
`redacted`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scheduler import vcap
from scheduler.errors import RotaError

ENV_NAMES = ("ROTA_DATABASE_URL", "DATABASE_URL")
VCAP_SERVICE = "aws-rds"
POSTGRES = "postgresql+psycopg"
_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg"}


class DatabaseConfigError(RotaError):
    """The configured database URL cannot be used; the message names where it came from."""


def database_url(env: Mapping[str, str] = os.environ) -> str | None:
    """The database URL to use, normalised, or None for the folder store."""
    for name in ENV_NAMES:
        if env.get(name, "").strip():
            return normalise(env[name].strip(), source=name)
    uri = _bound_database(env)
    if uri is not None:
        return normalise(uri, source=f"VCAP_SERVICES {VCAP_SERVICE} credentials.uri")
    return None


def _bound_database(env: Mapping[str, str]) -> str | None:
    bound = vcap.bound(env, VCAP_SERVICE, DatabaseConfigError)
    if not bound:
        return None
    if len(bound) > 1:
        names = ", ".join(str(s.get("name", "?")) if isinstance(s, dict) else "?" for s in bound)
        raise DatabaseConfigError(f"VCAP_SERVICES: {len(bound)} {VCAP_SERVICE} services are bound ({names}); "
                                  "bind one, or say which with ROTA_DATABASE_URL")
    service = bound[0] if isinstance(bound[0], dict) else {}
    credentials = service.get("credentials")
    uri = credentials.get("uri") if isinstance(credentials, dict) else None
    if not isinstance(uri, str) or not uri.strip():
        raise DatabaseConfigError(f"VCAP_SERVICES: the {VCAP_SERVICE} service {service.get('name', '')!r} "
                                  "has no credentials.uri")
    return uri.strip()


def normalise(url: str, source: str = "the database URL") -> str:
    """`url` in the form SQLAlchemy and psycopg 3 accept; refuses what rota cannot use."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in _POSTGRES_SCHEMES:
        if not parts.hostname and "host=" not in parts.query:
            raise DatabaseConfigError(f"{source}: {redacted(url)} names no host")
        query = parse_qsl(parts.query, keep_blank_values=True)
        if not any(key == "sslmode" for key, _ in query):
            query.append(("sslmode", "require"))
        return urlunsplit((POSTGRES, parts.netloc, parts.path, urlencode(query), parts.fragment))
    if scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute.db; no memory database,
        # which every process would see empty.
        if parts.netloc or parts.path in ("", "/") or parts.path == "/:memory:":
            raise DatabaseConfigError(f"{source}: {url} is not a SQLite file: write sqlite:///path/to/rota.db")
        return url
    raise DatabaseConfigError(f"{source}: {redacted(url)} is neither PostgreSQL (postgresql://...) "
                              "nor SQLite (sqlite:///path)")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite:")


def redacted(url: str) -> str:
    """`url` with its password (and any password in its query) replaced by ***."""
    netloc = urlsplit(url).netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        if colon:
            url = url.replace(netloc, f"{user}:***@{hostport}", 1)
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", url, flags=re.IGNORECASE)
