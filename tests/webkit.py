"""The web app as tests meet it: a roster with two editors, a clock passed
in, an app and its test client, and the steps of signing in and editing."""

import re

import pendulum
import pytest
from rosterkit import team, yaml_text

from scheduler.store.editors import EditorStore
from web import create_app

PASSWORD = "correct horse battery staple"
COMMENT = "# Platform experts: edited by hand and by rota\n"


class Clock:
    def __init__(self, at):
        self.at = pendulum.parse(at)

    def __call__(self):
        return self.at


@pytest.fixture
def roster(roster_dir):
    path = roster_dir / "team.yaml"
    path.write_text(COMMENT + yaml_text(team("Ada", "Bob", "Cy", "Di", holidays="US")))
    EditorStore(roster_dir / "team.editors.json").add("ed@example.gov", PASSWORD, "Ed Itor")
    EditorStore(roster_dir / "team.editors.json").add("flo@example.gov", PASSWORD, "Flo")
    return path


@pytest.fixture
def clock():
    return Clock("2027-01-12T15:00:00Z")  # Tuesday of week 1: Cy (week 1) and Bob (week 2)


@pytest.fixture
def app(roster, clock):
    return create_app({"TESTING": True, "ROSTER": str(roster), "SECRET_KEY": "test-secret", "CLOCK": clock})


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_of(client, url="/signin"):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def version_of(client):
    page = client.get("/roster/").get_data(as_text=True)
    return re.search(r'name="version" value="([^"]+)"', page).group(1)


def sign_in(client, email="ed@example.gov", password=PASSWORD):
    return client.post("/signin", data={"email": email, "password": password, "csrf_token": csrf_of(client)})


def change(client, step, kind, **fields):
    data = {"kind": kind, "csrf_token": csrf_of(client, "/roster/"), "version": fields.pop("version", None)
            or version_of(client), **fields}
    return client.post(f"/roster/{step}", data=data)
