"""`rota sync zendesk` against a fake Zendesk, through zenpy, over real HTTP."""

import io
import json
from datetime import UTC, datetime

import pytest
from fakes.zendesk import FakeZendesk
from rosterkit import away, member, team, utc, yaml_text
from synckit import NAMES, ZENDESK, group_names, with_team, zendesk_client

from scheduler.store import auditlog
from scheduler.sync.zendesk import sync as zendesksync
from scheduler.cli import main
from scheduler.team import Team

NOW = datetime(2027, 1, 11, 15, 0, tzinfo=UTC)
# Ada, Bob, Cy, Di from 2027-01-04: week 0 Bob+Ada, week 1 (2027-01-11) Cy+Bob,
# week 2 (Tuesday 2027-01-19 with US holidays) Di+Cy.
# The same rotation from 2021-01-04 (2021 has 2027's weekdays and US holidays),
# for the CLI, which acts only on instants that are not ahead of the real clock.
PAST_START = "2021-01-04"


@pytest.fixture
def zd():
    with FakeZendesk() as fake:
        with_team(fake, NAMES)
        fake.ids["Tess"] = fake.add_user("Tess Tier-One", "tess@example.gov")  # not on the roster
        fake.add_group("Tier 1")
        yield fake


def write_roster(roster_dir, **extra):
    data = team(*extra.pop("members", NAMES), holidays="US", zendesk=extra.pop("zendesk", ZENDESK), **extra)
    path = roster_dir / "team.yaml"
    path.write_text(yaml_text(data))
    return path


def seat(zd, *names):
    for n in names:
        zd.add_membership(zd.ids[n], zd.group)



class Run:
    def __init__(self, zd, path):
        self.zd, self.path, self.waits = zd, path, []

    def __call__(self, at, apply=True, force=False, budget=120.0):
        client = zendesk_client(self.zd, self.waits.append, rate_limit_budget=budget)
        out = io.StringIO()
        code = zendesksync.sync(Team.load(self.path), utc(at), client, apply=apply, force=force, now=NOW, out=out).code
        self.output, self.client = out.getvalue(), client
        return code


@pytest.fixture
def run(zd, roster_dir):
    return Run(zd, write_roster(roster_dir))


def test_a_monday_handoff_adds_the_incoming_and_removes_the_outgoing(zd, run):
    seat(zd, "Ada", "Bob", "Tess")
    assert run("2027-01-11T09:30:00-05:00") == 0
    assert group_names(zd) == ["Bob", "Cy", "Tess"]
    assert [w.method for w in zd.writes()] == ["POST", "DELETE"]  # add first, then remove
    assert "+ add Cy <cy@example.gov>" in run.output and "- remove Ada <ada@example.gov>" in run.output
    assert "(1 member(s) not on the roster left alone)" in run.output
    assert "The group matches the pair on support." in run.output
    log = auditlog.read(run.path.with_name("team.audit.jsonl"))
    assert [(e["action"], e["who"], e["result"], e["actor"]) for e in log] == [
        ("add", "cy@example.gov", "ok", "rota sync zendesk"), ("remove", "ada@example.gov", "ok", "rota sync zendesk")]
    # Applying also records the stints that have begun.
    record = run.path.with_name("team.record.jsonl").read_text().splitlines()
    assert [json.loads(line)["member"] for line in record] == ["ada@example.gov", "bob@example.gov", "cy@example.gov"]


def test_the_second_run_plans_nothing_and_writes_nothing(zd, run):
    seat(zd, "Ada", "Bob")
    assert run("2027-01-11T09:30:00-05:00") == 0
    zd.forbid_writes()
    zd.clear_log()
    assert run("2027-01-11T09:30:00-05:00") == 0
    assert zd.violations == []
    assert "nothing to change" in run.output
    assert zd.writes() == []


def test_a_dry_run_prints_the_plan_and_changes_nothing(zd, run):
    seat(zd, "Ada", "Bob")
    assert run("2027-01-11T09:30:00-05:00", apply=False) == 1
    assert group_names(zd) == ["Ada", "Bob"]
    assert zd.writes() == []
    assert "Dry run: 2 change(s) not made. Run with --apply to make them." in run.output
    assert not run.path.with_name("team.audit.jsonl").exists()


def test_a_holiday_moves_the_handoff_to_tuesday(zd, run):
    seat(zd, "Bob", "Cy")
    assert run("2027-01-18T12:00:00-05:00") == 0  # Martin Luther King Jr. Day: no handoff yet
    assert zd.writes() == [] and group_names(zd) == ["Bob", "Cy"]
    assert run("2027-01-19T09:00:00-05:00") == 0
    assert group_names(zd) == ["Cy", "Di"]


def test_an_override_starting_and_ending_mid_week(zd, roster_dir):
    path = write_roster(roster_dir, overrides=[
        {"from": "2027-01-13", "to": "2027-01-14", "replace": "bob@example.gov", "with": "ada@example.gov"}])
    run = Run(zd, path)
    seat(zd, "Bob", "Cy")
    assert run("2027-01-13T08:00:00-05:00") == 0
    assert group_names(zd) == ["Ada", "Cy"]
    assert "covering for Bob" in run.output
    assert run("2027-01-14T17:00:00-05:00") == 0 and group_names(zd) == ["Ada", "Cy"]
    assert run("2027-01-15T00:01:00-05:00") == 0
    assert group_names(zd) == ["Bob", "Cy"]


def test_members_not_on_the_roster_are_left_alone_unless_exclusive(zd, roster_dir):
    seat(zd, "Bob", "Cy", "Tess")
    run = Run(zd, write_roster(roster_dir))
    assert run("2027-01-12T10:00:00-05:00") == 0
    assert group_names(zd) == ["Bob", "Cy", "Tess"]
    run = Run(zd, write_roster(roster_dir, zendesk={**ZENDESK, "exclusive": True}))
    assert run("2027-01-12T10:00:00-05:00") == 0
    assert group_names(zd) == ["Bob", "Cy"]


def test_a_plan_that_would_empty_the_group_is_refused_without_force(zd, run):
    seat(zd, "Ada", "Bob")
    # Before the rotation starts nobody is on support.
    assert run("2027-01-01T12:00:00-05:00") == 1
    assert "Refused: this plan would leave the group empty" in run.output
    assert zd.writes() == [] and group_names(zd) == ["Ada", "Bob"]
    assert run("2027-01-01T12:00:00-05:00", force=True) == 0
    assert group_names(zd) == []


def test_a_429_storm_is_waited_out_within_the_budget(zd, run):
    seat(zd, "Ada", "Bob")
    zd.fail_next(429, count=4, retry_after=7)
    assert run("2027-01-11T09:30:00-05:00") == 0
    assert run.waits == [7, 7, 7, 7]
    assert group_names(zd) == ["Bob", "Cy"]
    assert [r.status for r in zd.requests[:5]] == [429, 429, 429, 429, 200]


def test_a_storm_longer_than_the_budget_stops_cleanly_and_the_next_run_converges(zd, run):
    seat(zd, "Ada", "Bob")
    zd.fail_next(429, count=4, retry_after=30, method="DELETE")
    assert run("2027-01-11T09:30:00-05:00", budget=100) == 1
    assert run.waits == [30, 30, 30]  # a fourth wait would pass the budget
    assert "rate limit" in run.output and "the next run will carry on" in run.output
    assert group_names(zd) == ["Ada", "Bob", "Cy"]  # the add went through, the remove did not
    log = auditlog.read(run.path.with_name("team.audit.jsonl"))
    assert [(e["action"], e["result"][:5]) for e in log] == [("add", "ok"), ("remove", "error")]
    assert run("2027-01-11T09:45:00-05:00", budget=100) == 0
    assert group_names(zd) == ["Bob", "Cy"]


def test_a_crash_between_add_and_remove_converges_on_the_next_run(zd, run):
    seat(zd, "Ada", "Bob")
    zd.drop_next(count=5, method="DELETE")  # the remove never gets an answer, retries included
    assert run("2027-01-11T09:30:00-05:00") == 1
    assert group_names(zd) == ["Ada", "Bob", "Cy"]
    assert "The group does not match: - remove Ada" in run.output
    assert run("2027-01-11T10:30:00-05:00") == 0
    assert group_names(zd) == ["Bob", "Cy"]
    assert [w.method for w in zd.writes()][-1] == "DELETE"


def test_a_write_whose_answer_was_lost_is_retried_safely(zd, run):
    seat(zd, "Ada", "Bob")
    zd.fail_after_write(method="POST")
    zd.fail_after_write(method="DELETE")
    assert run("2027-01-11T09:30:00-05:00") == 0
    assert group_names(zd) == ["Bob", "Cy"]
    assert len(run.waits) == 2  # one backoff for each lost answer


def test_server_errors_are_retried_with_backoff(zd, run):
    seat(zd, "Ada", "Bob")
    zd.fail_next(503, count=3)
    assert run("2027-01-11T09:30:00-05:00") == 0
    assert run.waits == [1.0, 2.0, 4.0]


def test_a_member_who_cannot_be_found_is_an_error_for_them_alone(zd, roster_dir):
    zd.add_user("Cy Decoy", "cy@example.gov.uk")  # Zendesk's search matches loosely
    del zd.users[zd.ids["Cy"]]
    seat(zd, "Ada", "Bob")
    run = Run(zd, write_roster(roster_dir))
    assert run("2027-01-11T09:30:00-05:00") == 1
    assert group_names(zd) == ["Bob"]  # Ada's removal still happened
    assert "! cannot add Cy <cy@example.gov>: no such user" in run.output
    assert "The group does not match" in run.output


def test_an_end_user_cannot_join_and_says_so(zd, roster_dir):
    zd.users[zd.ids["Cy"]]["role"] = "end-user"
    seat(zd, "Ada", "Bob")
    run = Run(zd, write_roster(roster_dir))
    assert run("2027-01-11T09:30:00-05:00") == 1
    assert f"user {zd.ids['Cy']} is an end-user, not an agent" in run.output


def test_a_zendesk_id_in_the_roster_skips_the_email_search(zd, roster_dir):
    cy = member("Cy", zendesk_id=zd.ids["Cy"])
    run = Run(zd, write_roster(roster_dir, members=("Ada", "Bob", cy, "Di")))
    seat(zd, "Ada", "Bob")
    assert run("2027-01-11T09:30:00-05:00") == 0
    assert not any("search" in r.path for r in zd.requests)
    assert group_names(zd) == ["Bob", "Cy"]


def test_a_no_op_sync_of_a_big_group_takes_three_requests(zd, run):
    seat(zd, "Bob", "Cy")
    for i in range(98):
        zd.add_membership(zd.add_user(f"Agent {i}", f"agent{i}@example.gov"), zd.group)
    zd.clear_log()
    assert run("2027-01-12T10:00:00-05:00") == 0
    assert len(zd.requests) <= 3


def test_the_cli_syncs_with_credentials_from_the_environment(zd, roster_dir, monkeypatch, capsys):
    path = write_roster(roster_dir, start=PAST_START)
    seat(zd, "Ada", "Bob")
    monkeypatch.setenv("ZENDESK_URL", zd.url)
    monkeypatch.setenv("ZENDESK_EMAIL", zd.email)
    monkeypatch.setenv("ZENDESK_API_TOKEN", zd.token)
    code = main(["sync", "zendesk", "--roster", str(path), "--at", "2021-01-11T10:00"])
    out = capsys.readouterr().out
    assert code == 1 and "Dry run" in out and group_names(zd) == ["Ada", "Bob"]
    assert main(["sync", "zendesk", "--roster", str(path), "--at", "2021-01-11T10:00", "--apply"]) == 0
    assert group_names(zd) == ["Bob", "Cy"]
    assert zd.token not in capsys.readouterr().out


def test_the_cli_refuses_to_apply_a_future_instant_and_touches_nothing(zd, roster_dir, monkeypatch, capsys):
    path = write_roster(roster_dir, start=PAST_START)
    seat(zd, "Ada", "Bob")
    zd.clear_log()
    monkeypatch.setenv("ZENDESK_URL", zd.url)
    monkeypatch.setenv("ZENDESK_EMAIL", zd.email)
    monkeypatch.setenv("ZENDESK_API_TOKEN", zd.token)
    assert main(["sync", "zendesk", "--roster", str(path), "--at", "2999-01-05T10:00", "--apply"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "ahead of the clock" in err and "nothing was written" in err
    assert group_names(zd) == ["Ada", "Bob"] and zd.requests == []
    assert sorted(p.name for p in roster_dir.iterdir()) == ["team.yaml"]
    # A plan for any instant is only a look: it may see the future.
    assert main(["sync", "zendesk", "--roster", str(path), "--at", "2030-01-07T10:00"]) == 1
    assert "Dry run" in capsys.readouterr().out and group_names(zd) == ["Ada", "Bob"]
    assert sorted(p.name for p in roster_dir.iterdir()) == ["team.yaml"]


def test_missing_or_wrong_credentials_are_one_clear_line_and_never_echo_the_secret(zd, roster_dir, monkeypatch, capsys):
    path = write_roster(roster_dir)
    monkeypatch.setenv("ZENDESK_URL", zd.url)
    for var in ("ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    assert main(["sync", "zendesk", "--roster", str(path)]) == 2
    assert capsys.readouterr().err == (
        "rota: Zendesk credentials missing: set ZENDESK_EMAIL and ZENDESK_API_TOKEN (or ZENDESK_OAUTH_TOKEN)\n")
    monkeypatch.setenv("ZENDESK_EMAIL", zd.email)
    monkeypatch.setenv("ZENDESK_API_TOKEN", "wrong-s3cret")
    assert main(["sync", "zendesk", "--roster", str(path), "--at", "2027-01-11T10:00"]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("rota: Zendesk refused the credentials (401)")
    assert "wrong-s3cret" not in out + err


def test_oauth_tokens_work_too(roster_dir, monkeypatch, capsys):
    with FakeZendesk(oauth_token="oauth-s3cret") as fake:
        for n in NAMES:
            fake.add_user(n, f"{n.lower()}@example.gov")
        fake.add_group("Platform experts")
        path = write_roster(roster_dir, start=PAST_START)
        monkeypatch.setenv("ZENDESK_URL", fake.url)
        monkeypatch.setenv("ZENDESK_OAUTH_TOKEN", "oauth-s3cret")
        monkeypatch.delenv("ZENDESK_API_TOKEN", raising=False)
        assert main(["sync", "zendesk", "--roster", str(path), "--at", "2021-01-11T10:00", "--apply"]) == 0
        assert len(fake.member_ids(min(fake.groups))) == 2


def test_a_roster_without_zendesk_settings_or_with_a_secret_is_refused(roster_dir, capsys):
    path = roster_dir / "t.yaml"
    path.write_text(yaml_text(team(*NAMES)))
    assert main(["sync", "zendesk", "--roster", str(path)]) == 2
    assert "the roster has no zendesk: section" in capsys.readouterr().err
    path.write_text(yaml_text(team(*NAMES, zendesk={**ZENDESK, "api_token": "abc"})))
    assert main(["show", "--roster", str(path)]) == 2
    assert "credentials never go in a roster" in capsys.readouterr().err


def test_an_absence_in_a_running_stint_takes_the_person_out_of_the_group(zd, roster_dir):
    seat(zd, "Bob", "Cy")
    run = Run(zd, write_roster(roster_dir))
    assert run("2027-01-12T10:00:00-05:00") == 0  # records the stints begun so far
    path = write_roster(roster_dir, members=("Ada", "Bob", member("Cy", away=[away("2027-01-13", "2027-01-13")]), "Di"))
    run = Run(zd, path)
    assert run("2027-01-13T10:00:00-05:00") == 0
    assert group_names(zd) == ["Bob"]
    assert run("2027-01-14T10:00:00-05:00") == 0
    assert group_names(zd) == ["Bob", "Cy"]
