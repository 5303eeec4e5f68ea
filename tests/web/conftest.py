"""Every web test meets the same app: webkit's roster, clock, app and client
(and browserkit's site that signs in through the test provider)."""

from browserkit import sso_site  # noqa: F401  (fixtures)
from webkit import app, client, clock, roster  # noqa: F401  (fixtures)
