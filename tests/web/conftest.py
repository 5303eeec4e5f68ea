"""Every web test meets the same app: webkit's roster, clock, app and client."""

from webkit import app, client, clock, roster  # noqa: F401  (fixtures)
