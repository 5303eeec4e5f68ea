"""The outside systems as sync tests meet them: a fake Zendesk that knows the
team, the names in its group, and rota's client pointed at it."""

from scheduler.sync.retry import Patience
from scheduler.sync.zendesk.client import Credentials, ZendeskClient

CALENDAR = "team@group.calendar.google.com"
NAMES = ("Ada", "Bob", "Cy", "Di")
ZENDESK = {"url": "https://acme.zendesk.com", "group": "Platform experts"}


def with_team(zd, names, group="Platform experts"):
    """Give a fake Zendesk an agent per name (ada@example.gov, ...) and the
    team's group; `zd.ids` maps each name to its user id."""
    zd.ids = {n: zd.add_user(n, f"{n.lower()}@example.gov") for n in names}
    zd.group = zd.add_group(group)
    return zd


def group_names(zd) -> list[str]:
    """Who is in the team's group, by name."""
    names = {v: k for k, v in zd.ids.items()}
    return sorted(names[u] for u in zd.member_ids(zd.group))


def zendesk_client(zd, sleep=lambda seconds: None, **patience) -> ZendeskClient:
    """rota's Zendesk client for the fake, waiting through `sleep` without jitter."""
    return ZendeskClient(zd.url, Credentials(zd.email, zd.token, None),
                         Patience(sleep, jitter=lambda: 0.0, **patience))
