"""Everything rota reads from the environment, read once.

The `rota` command builds a `Settings` in `main` and the web app in
`create_app`; everything below them is handed the values and never reads
`os.environ` itself, so a test passes its settings in rather than editing
the process's environment. The names are an interface and stay as they are.

A value that can be wrong (a timeout, the secret key, the proxy count) is
checked here, when it is asked for: a misconfigured Google timeout does not
stop `rota who`, and the command that needs it fails in one line, exit 2.
Secrets never appear in a repr, so not in a traceback or a log either.

On Cloud Foundry the same names may come from a bound user-provided service
(`scheduler.servicesecrets`); a variable set in the environment wins. A
`VCAP_SERVICES` that cannot be read is refused here, in one line: which
secrets apply is unknown until it is fixed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from scheduler import servicesecrets, vcap
from scheduler.errors import ConfigError
from scheduler.store import dburl
from scheduler.sync.retry import CONNECT_TIMEOUT, MAX_TIMEOUT, READ_TIMEOUT, Timeouts

# The service cloud.gov's identity provider is bound as, and where its discovery starts.
IDENTITY_PROVIDER_SERVICE = "cloud-gov-identity-provider"
CLOUD_GOV_ISSUER = "https://login.fr.cloud.gov"
DISCOVERY = "/.well-known/openid-configuration"
MIN_SECRET = 32  # bytes of ROTA_SECRET_KEY: a short key would let anyone compute the feed tokens


@dataclass(frozen=True)
class Settings:
    roster: str | None = None  # ROTA_ROSTER: the roster file when --roster is not given
    public_url: str | None = None  # ROTA_PUBLIC_URL: the page's address, for links in feeds and notices
    private: bool = False  # ROTA_PRIVATE: the page only for signed-in editors
    editors: str | None = None  # ROTA_EDITORS: the editors file, instead of the one beside the roster
    team: str | None = None  # ROTA_TEAM: with a database, the team's id when --team is not given
    secret_key_text: str | None = field(default=None, repr=False)  # ROTA_SECRET_KEY
    trusted_proxies_text: str = "0"  # ROTA_TRUSTED_PROXIES
    connect_timeout_text: str | None = None  # ROTA_CONNECT_TIMEOUT
    read_timeout_text: str | None = None  # ROTA_READ_TIMEOUT
    zendesk_url: str | None = None  # ZENDESK_URL, over the roster's zendesk.url
    zendesk_email: str | None = None  # ZENDESK_EMAIL
    zendesk_api_token: str | None = field(default=None, repr=False)  # ZENDESK_API_TOKEN
    zendesk_oauth_token: str | None = field(default=None, repr=False)  # ZENDESK_OAUTH_TOKEN
    google_credentials: str | None = None  # GOOGLE_APPLICATION_CREDENTIALS: a key file's path
    # GOOGLE_SERVICE_ACCOUNT_JSON: the key itself, used over the file; and where it came from, for errors
    google_key_json: str | None = field(default=None, repr=False)
    google_key_source: str = servicesecrets.GOOGLE_KEY
    google_api_endpoint: str | None = None  # ROTA_GOOGLE_API_ENDPOINT (tests, proxies)
    slack_webhook_url: str | None = field(default=None, repr=False)  # SLACK_WEBHOOK_URL: the URL is the secret
    # ROTA_DATABASE_URL, DATABASE_URL and VCAP_SERVICES as set (they hold passwords): see `database_url`
    database_env: Mapping[str, str] = field(default_factory=dict, repr=False)
    oidc_issuer: str | None = None  # ROTA_OIDC_ISSUER: where the provider's discovery document is
    oidc_client_id: str | None = None  # ROTA_OIDC_CLIENT_ID
    oidc_client_secret: str | None = field(default=None, repr=False)  # ROTA_OIDC_CLIENT_SECRET
    local_passwords_text: str | None = None  # ROTA_LOCAL_PASSWORDS: "off" once a provider signs people in

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        given = env
        env, service = servicesecrets.with_service_secrets(given)
        google_key_source = servicesecrets.GOOGLE_KEY
        if servicesecrets.GOOGLE_KEY not in given and servicesecrets.GOOGLE_KEY in env:
            google_key_source = f"the {service} service's {servicesecrets.GOOGLE_KEY}"
        return cls(
            roster=env.get("ROTA_ROSTER"),
            public_url=env.get("ROTA_PUBLIC_URL"),
            private=env.get("ROTA_PRIVATE", "") in ("1", "true", "yes"),
            editors=env.get("ROTA_EDITORS"),
            team=env.get("ROTA_TEAM"),
            secret_key_text=env.get("ROTA_SECRET_KEY"),
            trusted_proxies_text=env.get("ROTA_TRUSTED_PROXIES", "0"),
            connect_timeout_text=env.get("ROTA_CONNECT_TIMEOUT"),
            read_timeout_text=env.get("ROTA_READ_TIMEOUT"),
            zendesk_url=env.get("ZENDESK_URL"),
            zendesk_email=env.get("ZENDESK_EMAIL"),
            zendesk_api_token=env.get("ZENDESK_API_TOKEN"),
            zendesk_oauth_token=env.get("ZENDESK_OAUTH_TOKEN"),
            google_credentials=env.get("GOOGLE_APPLICATION_CREDENTIALS"),
            google_key_json=env.get(servicesecrets.GOOGLE_KEY),
            google_key_source=google_key_source,
            google_api_endpoint=env.get("ROTA_GOOGLE_API_ENDPOINT"),
            slack_webhook_url=env.get("SLACK_WEBHOOK_URL"),
            database_env={name: env[name] for name in (*dburl.ENV_NAMES, "VCAP_SERVICES") if name in env},
            oidc_issuer=env.get("ROTA_OIDC_ISSUER"),
            oidc_client_id=env.get("ROTA_OIDC_CLIENT_ID"),
            oidc_client_secret=env.get("ROTA_OIDC_CLIENT_SECRET"),
            local_passwords_text=env.get("ROTA_LOCAL_PASSWORDS"),
        )

    @property
    def oidc(self) -> OidcProvider | None:
        """The OpenID Provider people sign in with (None: local passwords only):
        ROTA_OIDC_* as set, each missing one taken from a bound
        cloud-gov-identity-provider service, whose issuer is cloud.gov's."""
        found = vcap.credentials(self.database_env, IDENTITY_PROVIDER_SERVICE)
        bound = found[1] if found else {}
        where = f"the {found[0]} service" if found else None
        issuer = (self.oidc_issuer or "").strip() or (CLOUD_GOV_ISSUER if found else "")
        client_id = (self.oidc_client_id or "").strip() or str(bound.get("client_id") or "")
        secret = self.oidc_client_secret or str(bound.get("client_secret") or "")
        if not (issuer or client_id or secret):
            return None
        missing = [name for name, value in (("ROTA_OIDC_ISSUER", issuer), ("ROTA_OIDC_CLIENT_ID", client_id),
                                            ("ROTA_OIDC_CLIENT_SECRET", secret)) if not value]
        if missing:
            raise ConfigError(f"signing in with a provider needs {', '.join(missing)} too"
                              + (f" (none in {where})" if where else ""))
        if not issuer.startswith(("https://", "http://")):
            raise ConfigError(f"ROTA_OIDC_ISSUER must be an https:// URL (the provider's issuer), not {issuer!r}")
        return OidcProvider(issuer.removesuffix(DISCOVERY).rstrip("/"), client_id, secret)

    @property
    def local_passwords(self) -> bool:
        """Whether editors may sign in with a password kept by rota (the
        default); off only when a provider signs people in instead."""
        text = (self.local_passwords_text or "on").strip().lower()
        if text not in ("on", "off", "1", "0", "true", "false", "yes", "no"):
            raise ConfigError(f"ROTA_LOCAL_PASSWORDS must be on or off, not {text!r}")
        on = text in ("on", "1", "true", "yes")
        if not on and self.oidc is None:
            raise ConfigError("ROTA_LOCAL_PASSWORDS=off needs a provider to sign in with (ROTA_OIDC_ISSUER, "
                              "ROTA_OIDC_CLIENT_ID, ROTA_OIDC_CLIENT_SECRET): otherwise nobody could sign in")
        return on

    @property
    def database_url(self) -> str | None:
        """The database rota keeps its state in (None: files beside the roster)."""
        return dburl.database_url(self.database_env)

    @property
    def timeouts(self) -> Timeouts:
        """ROTA_CONNECT_TIMEOUT and ROTA_READ_TIMEOUT, in seconds."""
        return Timeouts(_seconds("ROTA_CONNECT_TIMEOUT", self.connect_timeout_text, CONNECT_TIMEOUT),
                        _seconds("ROTA_READ_TIMEOUT", self.read_timeout_text, READ_TIMEOUT))

    @property
    def secret_key(self) -> str | None:
        """ROTA_SECRET_KEY, if set (None: the page keeps a generated one)."""
        key = self.secret_key_text
        if key is not None and len(key.encode()) < MIN_SECRET:
            raise ConfigError(f"ROTA_SECRET_KEY must be at least {MIN_SECRET} bytes long (it has {len(key.encode())}); "
                            "make one with: python3 -c 'import secrets; print(secrets.token_hex(32))'")
        return key

    @property
    def trusted_proxies(self) -> int:
        text = self.trusted_proxies_text.strip() or "0"
        if not text.isdigit():
            raise ConfigError(f"ROTA_TRUSTED_PROXIES must be a number of proxies (0, 1, 2...), not {text!r}")
        return int(text)


@dataclass(frozen=True)
class OidcProvider:
    issuer: str  # the base of the discovery URL
    client_id: str
    client_secret: str = field(repr=False)

    @property
    def discovery_url(self) -> str:
        return self.issuer + DISCOVERY


def _seconds(name: str, text: str | None, default: float) -> float:
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= MAX_TIMEOUT:
        raise ConfigError(f"{name}: {text!r} is not a number of seconds from 0 to {MAX_TIMEOUT:g}")
    return value
