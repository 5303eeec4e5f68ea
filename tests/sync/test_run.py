"""`rota run` and `rota tickets` against fake Zendesk, Google and Slack servers."""

import io
import json

import pytest
from rosterkit import team, utc, yaml_text
from synckit import CALENDAR, NAMES, ZENDESK, group_names

from scheduler.store.folder import FolderStore
from scheduler.sync import runjob
from scheduler.cli import main
from scheduler.settings import Settings
from scheduler.sync.retry import Patience

MONDAY = "2027-01-11T09:05:00-05:00"  # the handoff: Ada out, Cy in


class Runner:
    def __init__(self, world):
        self.world, self.waits = world, []

    def __call__(self, at=MONDAY, apply=True, env=None):
        out = io.StringIO()
        patience = Patience(self.waits.append, jitter=lambda: 0.0)
        code = runjob.run(self.world.path, utc(at), utc(at), apply=apply, out=out,
                          settings=Settings.from_env(env or self.world.env), patience=patience)
        self.output = out.getvalue()
        return code


@pytest.fixture
def run(world):
    return Runner(world)



def all_writes(world):
    return world.zd.writes() + world.google.writes() + world.slack.requests


def clear_logs(world):
    world.zd.clear_log()
    world.google.clear_log()
    world.slack.requests.clear()


def test_a_monday_run_does_the_whole_handoff(world, run):
    world.zd.add_ticket("Old question", status="open", group_id=world.zd.group,
                        created_at="2027-01-05T15:00:00Z", updated_at="2027-01-06T15:00:00Z")
    assert run() == 0
    lines = run.output.splitlines()
    assert lines[0] == "rota run at Mon 11 Jan 2027 09:05 EST (applying changes):"
    steps = [line.split()[0] for line in lines if line.startswith("  ") and not line.startswith("   ")]
    assert steps == ["record", "absences", "zendesk", "tickets", "gcal", "notice"]
    assert ("record   done: recorded 3 stint(s) (Ada from Mon 4 Jan 2027 09:00 EST, Bob from Mon 4 Jan 2027 09:00 EST, "
            "Cy from Mon 11 Jan 2027 09:00 EST)") in run.output
    assert "zendesk  done: added cy@example.gov, removed ada@example.gov" in run.output
    assert "tickets  done: 1 ticket(s) breaking the rules, 1 unresolved from last week" in run.output
    assert "notice   done: posted the notice for the handoff of Mon 11 Jan 2027 09:00 EST" in run.output
    assert group_names(world.zd) == ["Bob", "Cy"]
    reviews = [e for e in world.google.events[CALENDAR].values() if e["summary"].startswith("Weekly review")]
    this_week = next(e for e in reviews if e["start"]["dateTime"].startswith("2027-01-11"))
    assert "Unresolved tickets from the week before: 1" in this_week["description"]
    (message,) = world.slack.messages
    text = message["text"]
    assert "Rotating in: *Cy*" in text and "Continuing: *Bob*" in text and "Rotating out: Ada" in text
    assert "*Unresolved tickets from last week:* 1" in text
    assert "<https://rota.agency.gov/|Platform experts rotation>" in text
    assert "First-week checklist for Cy" in text and "Lead the first daily triage: Mon 11 Jan 2027 10:00 EST." in text


def test_a_run_with_nothing_to_do_does_nothing_and_says_so_in_one_line(world, run):
    assert run() == 0
    clear_logs(world)
    world.zd.forbid_writes()
    world.google.forbid_writes()
    assert run("2027-01-11T09:20:00-05:00") == 0
    assert run.output == "rota run at Mon 11 Jan 2027 09:20 EST: nothing to do.\n"
    assert all_writes(world) == [] and world.zd.violations == [] and world.google.violations == []
    assert len(world.slack.messages) == 1


def test_the_notice_goes_out_once_per_handoff(world, run):
    assert run() == 0
    for at in ("2027-01-11T10:00:00-05:00", "2027-01-12T09:00:00-05:00", "2027-01-15T09:00:00-05:00"):
        assert run(at) == 0
    assert len(world.slack.messages) == 1
    assert run("2027-01-19T09:05:00-05:00") == 0  # the next handoff (Tuesday: MLK Day)
    assert len(world.slack.messages) == 2 and "Rotating in: *Di*" in world.slack.messages[1]["text"]


def test_a_dry_run_changes_nothing_anywhere(world, run):
    assert run(apply=False) == 0
    assert "(dry run: nothing changed, --apply to make the changes)" in run.output
    assert "notice   dry run: would post the notice" in run.output
    assert all_writes(world) == [] and group_names(world.zd) == ["Ada", "Bob"]
    assert not world.path.with_name("team.record.jsonl").exists()


def test_one_failing_step_does_not_stop_the_others(world, run):
    env = dict(world.env, GOOGLE_APPLICATION_CREDENTIALS="/nonexistent/key.json")
    assert run(env=env) == 1
    assert "gcal     failed: GOOGLE_APPLICATION_CREDENTIALS: no such file /nonexistent/key.json" in run.output
    assert run.output.splitlines()[-1] == "1 step(s) failed: gcal."
    assert group_names(world.zd) == ["Bob", "Cy"] and len(world.slack.messages) == 1


def test_unconfigured_systems_are_skipped_not_failed(world, run):
    world.path.write_text(yaml_text(team(*NAMES, holidays="US")))
    env = {k: v for k, v in world.env.items() if k != "SLACK_WEBHOOK_URL"}
    assert run(env=env) == 0
    assert "zendesk  skipped: no zendesk: section in the roster" in run.output
    assert "notice   skipped: SLACK_WEBHOOK_URL is not set" in run.output
    assert run(env=env) == 0
    assert run.output == ("rota run at Mon 11 Jan 2027 09:05 EST: nothing to do "
                          "(skipped: zendesk, tickets, gcal, notice).\n")


def test_a_second_run_while_one_holds_the_lock_exits_at_once_in_one_line(world, run):
    with FolderStore(world.path).run_lock(holder=None):  # taken, nothing written yet
        assert run() == 0
    assert run.output == (f"rota run: another run holds {FolderStore(world.path).where('run lock')} (a run that has "
                          "not said who it is yet); it does the work, this run stops.\n")
    assert all_writes(world) == [] and world.slack.messages == []


def test_slack_rate_limits_and_server_errors_are_retried(world, run):
    world.slack.fail_next(429, retry_after=4)
    world.slack.fail_next(500)
    assert run() == 0
    assert len(world.slack.messages) == 1
    assert 4 in run.waits


def test_a_refused_notice_fails_the_step_and_is_posted_by_a_later_run(world, run):
    world.slack.fail_next(404)  # the webhook is off for a while: no_service
    assert run() == 1
    assert "notice   failed: Slack refused the message: 404 no_service" in run.output
    assert run.output.splitlines()[-1] == "1 step(s) failed: notice."
    assert run("2027-01-11T09:35:00-05:00") == 0
    assert len(world.slack.messages) == 1


def test_a_lost_answer_is_never_posted_twice(world, run):
    world.slack.fail_after_accept()
    assert run() == 1
    assert "it may have been posted; rota will not post it again" in run.output
    assert run("2027-01-11T09:35:00-05:00") == 0
    assert len(world.slack.messages) == 1
    log = [json.loads(line) for line in world.path.with_name("team.notices.jsonl").read_text().splitlines()]
    assert log == [{"week": "2027-01-11", "handoff": "2027-01-11T09:00:00-05:00",
                    "posted_at": "2027-01-11T14:05:00+00:00", "uncertain": True}]


def test_a_late_job_does_not_post_a_stale_notice(world, run):
    assert run("2027-01-14T09:00:00-05:00") == 0
    assert world.slack.messages == []
    assert "no handoff notice due" in run.output


def test_the_cli_runs_it_with_the_environment(world, monkeypatch, capsys):
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", world.slack.url)
    code = main(["run", "--roster", str(world.path), "--at", "2027-01-11T09:05"])
    out = capsys.readouterr().out
    assert code == 0 and "dry run" in out and world.slack.messages == []
    assert world.slack.url not in out and world.zd.token not in out



def test_the_cli_refuses_to_apply_a_run_ahead_of_the_clock(world, monkeypatch, capsys):
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    clear_logs(world)
    before = sorted(p.name for p in world.path.parent.iterdir())
    code = main(["run", "--roster", str(world.path), "--at", "2999-01-04T09:05", "--apply"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "ahead of the clock" in err and "nothing was written" in err
    # No record, audit, notice or ticket count beside the roster (only the run's lock file);
    # nothing asked of Zendesk, Google or Slack, the group as it was.
    after = sorted(p.name for p in world.path.parent.iterdir())
    assert [name for name in after if name not in before] in ([], [".team.run.lock"])
    assert world.zd.requests == [] and world.google.requests == [] and world.slack.requests == []
    assert group_names(world.zd) == ["Ada", "Bob"]

# -- rota tickets ------------------------------------------------------------------------
def test_tickets_lists_rule_breakers_in_both_groups_with_assignees(world, monkeypatch, capsys):
    zd = world.zd
    zd.add_ticket("Cannot log in", status="new", group_id=zd.tier1, created_at="2027-01-11T14:00:00Z")
    zd.add_ticket("Slow builds", status="open", group_id=zd.group, assignee_id=zd.ids["Bob"],
                  created_at="2027-01-05T15:00:00Z", updated_at="2027-01-07T15:00:00Z")
    zd.add_ticket("Waiting on requester", status="pending", group_id=zd.group,
                  created_at="2027-01-02T15:00:00Z", updated_at="2027-01-04T15:00:00Z")
    zd.add_ticket("Fine", status="open", group_id=zd.group, created_at="2027-01-11T16:00:00Z")
    zd.add_ticket("Done", status="solved", group_id=zd.group, created_at="2027-01-05T15:00:00Z")
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    code = main(["tickets", "--roster", str(world.path), "--at", "2027-01-11T17:30", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["groups"] == ["Tier 1", "Platform experts"]
    assert [(b["subject"], b["rule"], b["assignee"]) for b in data["breaches"]] == [
        ("Waiting on requester", "pending", None), ("Slow builds", "open", "Bob"), ("Cannot log in", "new", None)]
    assert data["unresolved_last_week"] == 1  # "Slow builds": the only one from last week still open
    assert data["breaches"][0]["url"].endswith("/agent/tickets/9003")
    main(["tickets", "--roster", str(world.path), "--at", "2027-01-11T17:30"])
    text = capsys.readouterr().out
    assert "3 ticket(s) break the support rules as of Mon 11 Jan 2027 17:30 EST:" in text
    assert "#9002 'Slow builds' (Platform experts, open, Bob): open and waiting on the team" in text


def test_tickets_pages_through_many_and_rides_out_a_429(world, monkeypatch, capsys):
    zd = world.zd
    for i in range(150):
        zd.add_ticket(f"ticket {i}", status="new", group_id=zd.group, created_at="2027-01-08T14:00:00Z")
    zd.fail_next(429, retry_after=1, path_contains="search")
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr("scheduler.sync.retry.time.sleep", lambda s: None)  # the CLI's real sleep, passed over
    assert main(["tickets", "--roster", str(world.path), "--at", "2027-01-11T17:30", "--format", "json"]) == 1
    assert len(json.loads(capsys.readouterr().out)["breaches"]) == 150


def test_a_missing_group_is_a_warning_not_a_failure(world, monkeypatch, capsys):
    world.path.write_text(yaml_text(team(*NAMES, zendesk={"url": "https://acme.zendesk.com", "group": "Platform experts",
                                                          "ticket_groups": ["Platform experts", "Tier 2"]})))
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    assert main(["tickets", "--roster", str(world.path), "--at", "2027-01-11T17:30"]) == 0
    out = capsys.readouterr().out
    assert "group 'Tier 2' skipped: Zendesk has no group named 'Tier 2'" in out
    assert "No ticket breaks the support rules" in out


def test_secrets_from_a_bound_user_provided_service_drive_the_whole_run(world, run):
    # cloud.gov: `cf cups rota-secrets -p '{...}'`, the Google key pasted in as the object Google hands out
    secrets = {name: world.env[name] for name in ("ZENDESK_URL", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN",
                                                  "SLACK_WEBHOOK_URL")}
    secrets["GOOGLE_SERVICE_ACCOUNT_JSON"] = world.google.service_account_info()
    vcap = {"user-provided": [{"name": "rota-secrets", "label": "user-provided", "credentials": secrets}]}
    env = {"VCAP_SERVICES": json.dumps(vcap), "ROTA_GOOGLE_API_ENDPOINT": world.env["ROTA_GOOGLE_API_ENDPOINT"],
           "ROTA_PUBLIC_URL": world.env["ROTA_PUBLIC_URL"]}
    assert run(env=env) == 0, run.output
    assert group_names(world.zd) == ["Bob", "Cy"] and len(world.slack.messages) == 1
    assert world.google.events[CALENDAR] and world.google.tokens_issued


def test_out_of_office_is_imported_before_the_syncs_publish_the_rotation(world, run):
    """With google.out_of_office, `rota run` imports time off first: the
    calendar and Zendesk get the rotation as it stands after it, and Slack
    hears of the change once, beside the handoff notice."""
    from datetime import date

    from scheduler.team import Team

    world.path.write_text(yaml_text(team(*NAMES, holidays="US", zendesk=ZENDESK,
                                         google={"calendar_id": CALENDAR, "out_of_office": True})))
    for name in NAMES:
        world.google.add_user(f"{name.lower()}@example.gov")
    # Di's stint would begin at the (Tuesday) handoff of 01-19; she is away that week.
    world.google.out_of_office("di@example.gov", date(2027, 1, 20), date(2027, 1, 23), event_id="dia001")
    assert run() == 0
    steps = [line.split()[0] for line in run.output.splitlines() if line.startswith("  ") and not line.startswith("   ")]
    assert steps == ["record", "absences", "zendesk", "tickets", "gcal", "notice"]
    assert "absences done: 1 of 1 change(s) made (1 to import)" in run.output
    schedule = Team.load(world.path).schedule()
    taker = schedule.stint(2).member
    assert taker not in (None, "di@example.gov")
    stint = next(e for e in world.google.events[CALENDAR].values() if e["summary"].endswith("on support (Platform experts)")
                 and e["start"]["dateTime"].startswith("2027-01-19"))
    assert stint["summary"].startswith(schedule.roster.name_of(taker))
    told = [m["text"] for m in world.slack.messages if "rotation changed" in m["text"]]
    assert len(told) == 1 and "Di is out of office 2027-01-20 to 01-22" in told[0]
    assert run("2027-01-11T09:20:00-05:00") == 0
    assert run.output == "rota run at Mon 11 Jan 2027 09:20 EST: nothing to do.\n"
    assert len([m for m in world.slack.messages if "rotation changed" in m["text"]]) == 1


def test_a_calendar_it_cannot_read_is_named_on_every_run_not_hidden_behind_nothing_to_do(world, run):
    world.path.write_text(yaml_text(team(*NAMES, holidays="US", zendesk=ZENDESK,
                                         google={"calendar_id": CALENDAR, "out_of_office": True})))
    for name in NAMES[:-1]:  # the last has no account the service account may act as
        world.google.add_user(f"{name.lower()}@example.gov")
    last = NAMES[-1]
    assert run() == 0  # a warning, not a failure: the others' time off is imported
    assert run("2027-01-11T09:20:00-05:00") == 0
    assert ": nothing to do." not in run.output  # not the one line of a run with nothing to say
    assert f"cannot read {last} ({last.lower()}@example.gov)'s calendar, skipped" in run.output
