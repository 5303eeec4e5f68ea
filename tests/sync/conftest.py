"""The world `rota run` meets: fake Zendesk, Google and Slack servers, a roster
that names all three, and their settings as the environment would give them."""

import pytest
from fakes.google import FakeGoogle
from fakes.slack import FakeSlack
from fakes.zendesk import FakeZendesk
from rosterkit import team, yaml_text
from synckit import CALENDAR, NAMES, ZENDESK, with_team


@pytest.fixture
def world(roster_dir, tmp_path):
    """Ada and Bob in the Zendesk group (week 0's pair); the team's roster; the
    settings in `world.env`, for a test to pass on or to break one of."""
    with FakeZendesk() as zd, FakeGoogle() as google, FakeSlack() as slack:
        with_team(zd, NAMES)
        zd.tier1 = zd.add_group("Tier 1")
        for n in ("Ada", "Bob"):
            zd.add_membership(zd.ids[n], zd.group)
        path = roster_dir / "team.yaml"
        path.write_text(yaml_text(team(*NAMES, holidays="US", zendesk=ZENDESK, google={"calendar_id": CALENDAR})))
        env = {
            "ZENDESK_URL": zd.url, "ZENDESK_EMAIL": zd.email, "ZENDESK_API_TOKEN": zd.token,
            "GOOGLE_APPLICATION_CREDENTIALS": str(google.write_key_file(tmp_path / "key.json")),
            "ROTA_GOOGLE_API_ENDPOINT": google.url + "/calendar/v3/",
            "SLACK_WEBHOOK_URL": slack.url, "ROTA_PUBLIC_URL": "https://rota.agency.gov/",
        }
        yield type("World", (), {"zd": zd, "google": google, "slack": slack, "path": path, "env": env,
                                 "tmp_path": tmp_path})()
