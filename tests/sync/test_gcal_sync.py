"""`rota sync gcal` against a fake Google (OAuth token endpoint and Calendar v3),
through google-auth service-account credentials and googleapiclient, over real HTTP."""

import base64
import io
import json
import re
from datetime import UTC, date, datetime

import pytest
from fakes.google import FakeGoogle
from rosterkit import away, team, yaml_text
from synckit import CALENDAR

from scheduler.store import auditlog
from scheduler.sync.google import sync as gcalsync
from scheduler.cli import main
from scheduler.core import Window
from scheduler.sync.google.plan import event_id, resource
from scheduler.errors import ServiceError
from scheduler.settings import Settings
from scheduler.sync.google.client import CalendarClient, credentials_from_file
from scheduler.sync.retry import Patience
from scheduler.team import Team

NOW = datetime(2027, 1, 5, 15, 0, tzinfo=UTC)
WINDOW = Window(date(2027, 1, 4), 26)
NAMES = ("Ada", "Bob", "Cy", "Di", "Eve")


@pytest.fixture
def google(tmp_path, monkeypatch):
    with FakeGoogle() as fake:
        key = fake.write_key_file(tmp_path / "key.json")
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
        monkeypatch.setenv("ROTA_GOOGLE_API_ENDPOINT", fake.url + "/calendar/v3/")
        yield fake


def write_roster(roster_dir, *names, name="team.yaml", team_id=None, **google):
    data = team(*(names or NAMES), holidays="US", google={"calendar_id": CALENDAR, **google},
                **({"id": team_id} if team_id else {}))
    path = roster_dir / name
    path.write_text(yaml_text(data))
    return path


class Run:
    def __init__(self, google, path):
        self.google, self.path, self.waits = google, path, []

    def __call__(self, apply=True, force=False, window=WINDOW, retries=4, budget=120.0):
        team = Team.load(self.path)
        settings = team.roster.google
        out = io.StringIO()
        with CalendarClient(
            settings.calendar_id, credentials_from_file(Settings.from_env().google_credentials, settings.delegate), endpoint=self.google.url + "/calendar/v3/",
            patience=Patience(self.waits.append, retries=retries, rate_limit_budget=budget, jitter=lambda: 0.0),
            send_updates=settings.send_updates,
        ) as client:
            code = gcalsync.sync(team, window, client, apply=apply, force=force, now=NOW, out=out).code
        self.output = out.getvalue()
        return code


@pytest.fixture
def run(google, roster_dir):
    return Run(google, write_roster(roster_dir))


def live(google):
    return {i: e for i, e in google.events[CALENDAR].items() if e.get("status") != "cancelled"}


def desired(path):
    team = Team.load(path)
    invite = team.roster.google.delegate is not None
    return {b["id"]: b for b in (resource(e, team.roster.id, team.roster.timezone, invite)
                                 for e in team.schedule().events(WINDOW))}


def test_first_publish_puts_every_event_in_the_calendar_in_five_batches(google, run):
    assert run() == 0
    want = desired(run.path)
    assert len(want) > 150
    assert set(live(google)) == set(want)
    stint = live(google)[event_id("stint-20270104-team@rota")]
    assert stint["summary"] == "Bob on support (Platform experts)"
    assert datetime.fromisoformat(stint["start"]["dateTime"]) == datetime.fromisoformat("2027-01-04T09:00:00-05:00")
    assert stint["start"]["timeZone"] == "America/New_York"
    batches = [r for r in google.http_requests() if "/batch/" in r.path]
    assert len(batches) <= 5
    assert f"{len(want)} to insert, 0 to update, 0 to delete, 0 unchanged" in run.output
    assert "The calendar matches the rotation." in run.output
    log = auditlog.read(run.path.with_name("team.audit.jsonl"))
    assert len(log) == len(want) and {e["action"] for e in log} == {"insert"}


@pytest.mark.parametrize("team_id, lists", [("platform-experts", 1), (None, 2)])
def test_the_second_run_plans_nothing_and_costs_one_list_request_per_mark(google, roster_dir, team_id, lists):
    # Without `id:` (the id is the file's name, `team`) rota also lists the
    # events an earlier release marked with the display name's slug.
    run = Run(google, write_roster(roster_dir, team_id=team_id))
    assert run() == 0
    google.forbid_writes()
    google.clear_log()
    assert run() == 0
    assert google.violations == []
    calendar_calls = [r for r in google.http_requests() if r.path.startswith("/calendar/")]
    assert len(calendar_calls) == lists
    assert "0 to insert, 0 to update, 0 to delete" in run.output


def test_a_dry_run_writes_nothing(google, run):
    assert run(apply=False) == 1
    assert google.writes() == [] and live(google) == {}
    assert "Dry run:" in run.output


def test_a_reassigned_stint_updates_exactly_the_touched_events(google, roster_dir):
    path = write_roster(roster_dir)
    assert Run(google, path)() == 0
    before = desired(path)
    # Cy cannot take the stint of 2027-01-11 after all.
    data = json.loads(path.read_text())
    data["members"][2]["away"] = [away("2027-01-13", "2027-01-13")]
    path.write_text(yaml_text(data))
    after = desired(path)
    touched = {i for i in after if after[i] != before.get(i)}
    assert touched and set(after) == set(before)
    google.clear_log()
    run = Run(google, path)
    assert run() == 0
    written = {r.path.rsplit("/", 1)[-1] for r in google.writes()}
    assert written == touched
    assert {r.method for r in google.writes()} == {"PUT"}  # updated in place, never re-inserted
    assert live(google)[event_id("stint-20270111-team@rota")]["summary"].startswith("Di on support")


def test_a_removed_members_future_events_vanish(google, roster_dir):
    path = write_roster(roster_dir)
    assert Run(google, path)() == 0
    path.write_text(yaml_text(team("Ada", "Bob", "Cy", "Di", holidays="US", google={"calendar_id": CALENDAR})))
    google.clear_log()
    assert Run(google, path)() == 0
    assert {r.method for r in google.writes()} == {"PUT"}  # her stints go to others: updated in place
    for event in live(google).values():
        text = json.dumps(event)
        assert "Eve" not in text and "eve@example.gov" not in text


def test_foreign_events_in_the_same_calendar_are_left_alone(google, roster_dir):
    lunch = google.add_event(CALENDAR, {
        "id": "lunch0000", "summary": "Team lunch",
        "start": {"dateTime": "2027-01-06T12:00:00-05:00"}, "end": {"dateTime": "2027-01-06T13:00:00-05:00"}})
    other = google.add_event(CALENDAR, {
        "id": "other00000", "summary": "Another team's stint",
        "start": {"dateTime": "2027-01-06T12:00:00-05:00"}, "end": {"dateTime": "2027-01-20T12:00:00-05:00"},
        "extendedProperties": {"private": {"rota": "another-team", "rotaUid": "x"}}})
    run = Run(google, write_roster(roster_dir))
    assert run() == 0 and run() == 0
    assert google.events[CALENDAR]["lunch0000"] == lunch
    assert google.events[CALENDAR]["other00000"] == other
    assert not any(r.path.endswith(("lunch0000", "other00000")) for r in google.writes())


def test_events_outside_the_window_are_left_alone(google, roster_dir):
    path = write_roster(roster_dir)
    run = Run(google, path)
    assert run() == 0
    count = len(live(google))
    shorter = Window(date(2027, 1, 4), 4)
    google.clear_log()
    assert run(window=shorter) == 0
    assert google.writes() == [] and len(live(google)) == count


def test_without_a_delegate_attendees_are_named_not_invited(google, run):
    assert run() == 0
    assert run.output.count("note: attendees are named in the descriptions") == 1
    triage = live(google)[event_id("triage-20270105-team@rota")]
    assert "attendees" not in triage
    assert triage["description"].endswith("Attendees: Bob <bob@example.gov>, Ada <ada@example.gov>")
    assert all(t["sub"] is None for t in google.tokens_issued)


def test_with_a_delegate_attendees_are_invited_and_updates_follow_the_roster(google, roster_dir):
    run = Run(google, write_roster(roster_dir, delegate="rota-bot@agency.gov", send_updates="all"))
    assert run() == 0
    assert {t["sub"] for t in google.tokens_issued} == {"rota-bot@agency.gov"}
    triage = live(google)[event_id("triage-20270105-team@rota")]
    assert [a["email"] for a in triage["attendees"]] == ["bob@example.gov", "ada@example.gov"]
    assert "Attendees:" not in triage["description"]
    assert {tuple(r.query.get("sendUpdates", [])) for r in google.writes()} == {("all",)}
    assert "note: attendees" not in run.output


def test_a_rate_limit_storm_is_ridden_out_within_the_budget(google, run):
    google.fail_next(403, count=3, reason="rateLimitExceeded", in_batch=True)
    google.fail_next(429, count=2, in_batch=False, path_contains="/batch")
    assert run() == 0
    assert set(live(google)) == set(desired(run.path))
    assert run.waits and sum(run.waits) <= 120
    assert "The calendar matches the rotation." in run.output


def test_quota_exceeded_stops_at_once_with_a_clear_message(google, run):
    google.fail_next(403, count=1, reason="quotaExceeded", path_contains="/calendar/")
    with pytest.raises(ServiceError, match="usage limits exceeded"):
        run()
    assert run.waits == []
    google.fail_next(403, count=1, reason="quotaExceeded", in_batch=True)
    with pytest.raises(ServiceError, match="usage limits exceeded"):
        run()
    assert run.waits == []


def test_a_half_applied_run_converges_next_time(google, run):
    google.fail_next(503, count=1, in_batch=False, path_contains="/batch")
    assert run(retries=0) == 1  # the first batch failed and was not retried
    assert "does not match yet" in run.output
    assert 0 < len(live(google)) < len(desired(run.path))
    assert run() == 0
    assert set(live(google)) == set(desired(run.path))


def test_an_event_rota_deleted_long_ago_is_restored_not_reinserted(google, run):
    assert run() == 0
    target = event_id("review-20270111-team@rota")
    google.events[CALENDAR][target]["status"] = "cancelled"
    google.clear_log()
    assert run() == 0
    assert live(google)[target]["status"] == "confirmed"
    assert [r.method for r in google.writes()] == ["PUT"]


def test_an_insert_that_meets_its_own_cancelled_event_restores_it(google, run):
    # A cancelled copy that the window listing cannot see (it once started elsewhere).
    target = event_id("triage-20270106-team@rota")
    google.add_event(CALENDAR, {
        "id": target, "status": "cancelled", "summary": "old",
        "start": {"dateTime": "2026-06-01T10:00:00-04:00"}, "end": {"dateTime": "2026-06-01T10:15:00-04:00"},
        "extendedProperties": {"private": {"rota": "team", "rotaVersion": "2", "rotaUid": "triage-20270106-team@rota"}}})
    assert run() == 0
    assert live(google)[target]["summary"] == "Daily triage (Platform experts)"


def test_deleting_more_than_a_quarter_needs_force(google, roster_dir):
    path = write_roster(roster_dir)
    assert Run(google, path)() == 0
    # The rotation now starts ten weeks later: every event before that vanishes.
    data = json.loads(path.read_text())
    data["rotation"]["start"] = "2027-03-15"
    path.write_text(yaml_text(data))
    run = Run(google, path)
    before = dict(live(google))
    google.clear_log()
    assert run() == 1
    assert "Refused: this would delete" in run.output and "more than a quarter" in run.output
    assert google.writes() == [] and live(google) == before
    assert run(force=True) == 0
    assert min(e["start"].get("dateTime", e["start"].get("date")) for e in live(google).values()) >= "2027-03-15"


def test_the_cli_publishes_with_credentials_from_the_environment(google, roster_dir, capsys):
    path = write_roster(roster_dir)
    assert main(["sync", "gcal", "--roster", str(path), "--from", "2027-01-04", "--weeks", "2"]) == 1
    assert "Dry run" in capsys.readouterr().out and live(google) == {}
    assert main(["sync", "gcal", "--roster", str(path), "--from", "2027-01-04", "--weeks", "2", "--apply"]) == 0
    assert len(live(google)) > 10


def test_missing_credentials_or_settings_are_one_clear_line(roster_dir, monkeypatch, capsys):
    path = write_roster(roster_dir)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    assert main(["sync", "gcal", "--roster", str(path)]) == 2
    assert capsys.readouterr().err == (
        "rota: Google credentials missing: set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, "
        "or GOOGLE_SERVICE_ACCOUNT_JSON to its contents\n")
    path.write_text(yaml_text(team(*NAMES)))
    assert main(["sync", "gcal", "--roster", str(path)]) == 2
    assert "the roster has no google: section" in capsys.readouterr().err


def test_a_batch_whose_answer_was_lost_is_retried_without_duplicates(google, run):
    google.fail_after_write(count=1)  # the first batch lands, its answer never arrives
    assert run() == 0
    assert set(live(google)) == set(desired(run.path))
    assert len(google.events[CALENDAR]) == len(desired(run.path))
    assert "failed" not in run.output


# -- the team's identity: renames, calendars published before team ids, shared calendars

def by_slot(google, mark):
    """Live events with `mark`, by the UID of their slot."""
    found = {}
    for e in live(google).values():
        private = e.get("extendedProperties", {}).get("private", {})
        if private.get("rota") == mark:
            assert private["rotaUid"] not in found, f"two events for {private['rotaUid']}"
            found[private["rotaUid"]] = e
    return found


def publish_as_before_team_ids(google, path):
    """The calendar as the release before team ids left it for this roster:
    marked with the display name's slug, UIDs carrying it, ids encoding the
    bare UID."""
    roster = Team.load(path).roster
    old = re.sub(r"[^a-z0-9]+", "-", roster.name.lower()).strip("-")
    for body in desired(path).values():
        uid = body["extendedProperties"]["private"]["rotaUid"].replace(f"-{roster.id}@rota", f"-{old}@rota")
        google.add_event(CALENDAR, {
            **body, "id": base64.b32hexencode(uid.encode()).decode().rstrip("=").lower(),
            "extendedProperties": {"private": {"rota": old, "rotaUid": uid}}})
    return old


def rename(path, name):
    data = json.loads(path.read_text())
    data["team"] = name
    path.write_text(yaml_text(data))


def test_renaming_the_team_updates_its_events_in_place(google, roster_dir):
    path = write_roster(roster_dir)
    assert Run(google, path)() == 0
    before = by_slot(google, "team")
    rename(path, "Platform support")
    google.clear_log()
    run = Run(google, path)
    assert run() == 0
    assert {r.method for r in google.writes()} == {"PUT"}  # summaries change; nothing inserted or deleted
    after = by_slot(google, "team")
    assert set(after) == set(before)
    assert {e["id"] for e in after.values()} == {e["id"] for e in before.values()}
    assert len(google.events[CALENDAR]) == len(before)
    assert all("(Platform support)" in e["summary"] for e in after.values())
    google.forbid_writes()
    assert run() == 0 and google.violations == []


def test_a_calendar_published_before_team_ids_is_adopted_in_place(google, roster_dir):
    path = write_roster(roster_dir)
    data = json.loads(path.read_text())
    data["overrides"] = [{"from": "2027-01-13", "to": "2027-01-14", "replace": "bob@example.gov", "with": "cy@example.gov"}]
    path.write_text(yaml_text(data))
    old = publish_as_before_team_ids(google, path)
    legacy_ids = set(google.events[CALENDAR])
    del data["overrides"]  # the cover the earlier release published is no longer wanted
    path.write_text(yaml_text(data))
    unwanted = set(by_slot(google, old)) - {
        b["extendedProperties"]["private"]["rotaUid"].replace("-team@rota", f"-{old}@rota") for b in desired(path).values()}
    run = Run(google, path)
    assert run(apply=False) == 1
    assert "(adopt" in run.output and "Dry run" in run.output
    google.clear_log()
    assert run() == 0  # no --force needed
    assert google.writes() and {r.method for r in google.writes()} <= {"PUT", "DELETE"}  # never a second copy
    assert by_slot(google, old) == {}  # nothing left with the old mark
    adopted = by_slot(google, "team")
    assert set(adopted) == {b["extendedProperties"]["private"]["rotaUid"] for b in desired(path).values()}
    assert {e["id"] for e in adopted.values()} <= legacy_ids  # the same events, re-marked
    assert {e["extendedProperties"]["private"]["rotaVersion"] for e in adopted.values()} == {"2"}
    deleted = [r for r in google.writes() if r.method == "DELETE"]
    assert len(deleted) == len(unwanted) > 0
    google.forbid_writes()
    google.clear_log()
    assert run() == 0 and google.violations == []
    assert "0 to insert, 0 to update, 0 to delete" in run.output


def test_an_id_that_keeps_the_old_slug_keeps_every_uid_and_event(google, roster_dir):
    path = write_roster(roster_dir, team_id="platform-experts")
    publish_as_before_team_ids(google, path)
    before = {i: e["extendedProperties"]["private"]["rotaUid"] for i, e in google.events[CALENDAR].items()}
    google.clear_log()
    assert Run(google, path)() == 0
    assert {r.method for r in google.writes()} == {"PUT"}  # marked with the scheme, nothing else
    assert {i: e["extendedProperties"]["private"]["rotaUid"] for i, e in google.events[CALENDAR].items()} == before
    rename(path, "Platform support")
    google.clear_log()
    assert Run(google, path)() == 0
    assert {r.method for r in google.writes()} == {"PUT"}
    assert set(google.events[CALENDAR]) == set(before)
    assert all("(Platform support)" in e["summary"] for e in live(google).values())


def test_two_rosters_in_one_calendar_never_touch_each_others_events(google, roster_dir):
    # `ops` was published before team ids as "Platform experts"; the other
    # team's id is that very slug, so their UIDs and marks look alike.
    ops = write_roster(roster_dir, name="ops.yaml")
    old = publish_as_before_team_ids(google, ops)
    data = team("Fay", "Gus", "Hal", holidays="US", google={"calendar_id": CALENDAR})
    data["team"] = "Data team"
    other = roster_dir / "platform-experts.yaml"
    other.write_text(yaml_text(data))
    assert Team.load(other).roster.id == old
    theirs = {i: dict(e) for i, e in google.events[CALENDAR].items()}

    run_other = Run(google, other)
    assert run_other() == 0 and "failed" not in run_other.output
    assert {i: google.events[CALENDAR][i] for i in theirs} == theirs  # ops's old events untouched
    mine = {i: dict(e) for i, e in google.events[CALENDAR].items() if i not in theirs}
    assert all("Data team" in e["summary"] for e in mine.values())

    run_ops = Run(google, ops)
    assert run_ops() == 0
    assert {i: google.events[CALENDAR][i] for i in mine} == mine  # the other team's events untouched
    assert set(by_slot(google, "ops")) == {b["extendedProperties"]["private"]["rotaUid"] for b in desired(ops).values()}
    assert all("Platform experts" in e["summary"] for e in by_slot(google, "ops").values())

    google.forbid_writes()
    assert run_other() == 0 and run_ops() == 0 and google.violations == []
    assert len(live(google)) == len(desired(ops)) + len(desired(other))


def test_the_key_as_json_text_is_used_instead_of_a_file(google, roster_dir, monkeypatch, capsys):
    # Cloud Foundry has nowhere to put a key file: the key itself comes in the environment
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json")
    monkeypatch.setenv("GOOGLE_SERVICE_ACCOUNT_JSON", json.dumps(google.service_account_info()))
    path = write_roster(roster_dir)
    assert main(["sync", "gcal", "--roster", str(path), "--from", "2027-01-04", "--weeks", "2", "--apply"]) == 0
    assert len(live(google)) > 10 and google.tokens_issued[0]["iss"] == google.service_account_info()["client_email"]


@pytest.mark.parametrize("text, message", [
    ('{"type": "service_account", "private_key": "-----BEGIN s3cret', "is not valid JSON (Unterminated string"),
    ('{"type": "service_account", "private_key": "s3cret"}', "is not a service account key (ValueError)"),
    ('["s3cret"]', "is not a service account key (TypeError)"),
])
def test_a_bad_key_in_json_is_one_line_naming_the_variable(roster_dir, monkeypatch, capsys, text, message):
    monkeypatch.setenv("GOOGLE_SERVICE_ACCOUNT_JSON", text)
    assert main(["sync", "gcal", "--roster", str(write_roster(roster_dir))]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rota: GOOGLE_SERVICE_ACCOUNT_JSON {message}") and err.count("\n") == 1
    assert "s3cret" not in err
