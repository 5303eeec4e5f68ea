"""`rota sync absences`: members' out-of-office events in Google Calendar
become absences, against the fake Google (token endpoint honouring the
delegated subject, per-user primary calendars) and the fake Slack, through
google-auth and googleapiclient over real HTTP.

Ada, Bob, Cy and Di from Monday 2027-01-04 (New York, no holidays): Ada is
on from the start for one week, Bob from 01-04, Cy from 01-11, Di from
01-18, then Ada from 01-25. It is Tuesday 2027-01-05: Bob's stint is under
way, Cy's has not begun."""

import io
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fakes.google import FakeGoogle
from fakes.slack import FakeSlack
from rosterkit import away, member, team, yaml_text

from scheduler.core import Window
from scheduler.errors import ServiceError
from scheduler.publish import handoffnotice
from scheduler.settings import Settings
from scheduler.sync.google import absences
from scheduler.sync.google.client import credentials_from_file
from scheduler.sync.google.outofoffice import OutOfOfficeClient
from scheduler.sync.retry import Patience
from scheduler.team import Team

NOW = datetime(2027, 1, 5, 15, 0, tzinfo=UTC)
WINDOW = Window(date(2027, 1, 4), 26)
NAMES = ("Ada", "Bob", "Cy", "Di")
NY = ZoneInfo("America/New_York")


def email(name: str) -> str:
    return f"{name.lower()}@example.gov"


@pytest.fixture
def google(tmp_path, monkeypatch):
    with FakeGoogle() as fake:
        for name in NAMES:
            fake.add_user(email(name))
        key = fake.write_key_file(tmp_path / "key.json")
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
        monkeypatch.setenv("ROTA_GOOGLE_API_ENDPOINT", fake.url + "/calendar/v3/")
        yield fake


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


def write_roster(roster_dir, *members):
    path = roster_dir / "team.yaml"
    path.write_text("# Platform experts, kept by hand\n" + yaml_text(team(*(members or NAMES),
                                                                              google={"out_of_office": True})))
    return path


class Run:
    def __init__(self, google, path, slack=None):
        self.google, self.path, self.slack, self.waits = google, path, slack, []

    def __call__(self, apply=True, now=NOW, window=WINDOW, page_size=2500):
        team = Team.load(self.path)
        out = io.StringIO()
        patience = Patience(self.waits.append, jitter=lambda: 0.0)
        credentials = credentials_from_file(Settings.from_env().google_credentials, None)
        with OutOfOfficeClient(credentials, endpoint=self.google.url + "/calendar/v3/", patience=patience,
                               page_size=page_size) as client:
            code = absences.sync(team, window, client, apply=apply, now=now, out=out,
                                 slack_url=self.slack.url if self.slack else None, patience=patience).code
        self.output = out.getvalue()
        return code


@pytest.fixture
def run(google, roster_dir, slack):
    return Run(google, write_roster(roster_dir), slack)


def incoming(path, monday: str) -> str | None:
    schedule = Team.load(path).schedule()
    return schedule.stint(schedule.week_index(date.fromisoformat(monday))).member


def kept(path):
    return sorted((a.member, a.event_id, a.start.isoformat(), a.end.isoformat())
                  for a in Team.load(path).store.imported_absences())


def test_a_dry_run_plans_the_import_and_its_effect_and_keeps_nothing(run):
    # Cy is off the second week of the stint that would begin on 01-11.
    run.google.out_of_office(email("Cy"), date(2027, 1, 18), date(2027, 1, 23), event_id="caaa01")
    assert incoming(run.path, "2027-01-11") == email("Cy")
    assert run(apply=False) == 1
    assert "  import: Cy out of office (Google) 2027-01-18 to 01-22 (event caaa01)" in run.output
    assert "  changes the rotation: Cy is out of office 2027-01-18 to 01-22; Di now starts on 01-11" in run.output
    assert "Dry run: 1 change(s) not made." in run.output
    assert kept(run.path) == []
    assert incoming(run.path, "2027-01-11") == email("Cy")
    assert run.slack.messages == []


def test_the_import_moves_the_next_picks_and_says_so_once(run, rota):
    run.google.out_of_office(email("Cy"), date(2027, 1, 18), date(2027, 1, 23), event_id="caaa01")
    w_before = {w: Team.load(run.path).schedule().stint(w).member for w in range(2, 26)}
    assert run() == 0
    assert kept(run.path) == [(email("Cy"), "caaa01", "2027-01-18", "2027-01-22")]
    # The stint from 01-11 goes to Di; Cy waits until she is back.
    assert incoming(run.path, "2027-01-11") == email("Di")
    assert incoming(run.path, "2027-01-18") == email("Ada")
    code, out, _ = rota("show", "--roster", run.path, "--from", "2027-01-11", "--weeks", "1", "--explain")
    assert code == 0 and "Cy (out of office (Google) 2027-01-18 to 2027-01-22)" in out
    audit = Team.load(run.path).store.read_audit()
    assert [(a["actor"], a["system"], a["action"], a["who"], a["result"]) for a in audit] == [
        ("rota sync absences", "google", "import absence", email("Cy"), "ok"),
        ("rota sync absences", "rota", "rotation changed", None, "ok"),
        ("rota sync absences", "rota", "rotation changed", None, "ok"),
    ]
    # The stints after it follow the rule again: said in one line, not one a week.
    later = [w for w in range(2, 26) if Team.load(run.path).schedule().stint(w).member != w_before[w]]
    assert [a["detail"]["message"] for a in audit[1:]] == [
        "Cy is out of office 2027-01-18 to 01-22; Di now starts on 01-11",
        f"{len(later)} later stint(s) change hands with it, from the week of 2027-01-18 (rota show lists them)"]
    (message,) = run.slack.messages
    assert "• Cy is out of office 2027-01-18 to 01-22; Di now starts on 01-11\n• " in message["text"]
    # The store's record protects what began: Bob's running stint was recorded first.
    assert Team.load(run.path).record.get(date(2027, 1, 4)).member == email("Bob")


def test_a_second_run_plans_nothing_reads_each_calendar_once_and_writes_nothing(run):
    run.google.out_of_office(email("Cy"), date(2027, 1, 18), date(2027, 1, 23), event_id="caaa01")
    assert run() == 0
    store = Team.load(run.path).store
    stamp, audit = store.stamp(), store.read_audit()
    run.google.clear_log()
    assert run() == 0
    assert "nothing to change" in run.output
    assert "The imported absences match members' out-of-office events." in run.output
    assert store.stamp() == stamp and store.read_audit() == audit
    assert len(run.slack.messages) == 1
    requests = run.google.http_requests()
    lists = [r for r in requests if r.path.endswith("/events")]
    assert sorted(r.path.split("/")[4] for r in lists) == sorted(email(n) for n in NAMES)  # one list each
    assert all(r.query["eventTypes"] == ["outOfOffice"] and r.query["singleEvents"] == ["true"] for r in lists)
    tokens = [t for t in run.google.tokens_issued]
    assert {t["sub"] for t in tokens} == {email(n) for n in NAMES}
    assert all(t["scope"] == "https://www.googleapis.com/auth/calendar.events.readonly" for t in tokens)


def test_a_moved_event_moves_its_absence_and_a_deleted_one_removes_it(run):
    run.google.out_of_office(email("Cy"), date(2027, 1, 18), date(2027, 1, 23), event_id="caaa01")
    assert run() == 0
    run.google.move_event(email("Cy"), "caaa01", date(2027, 2, 1), date(2027, 2, 3))
    assert run() == 0
    assert "  move: Cy out of office (Google) 2027-02-01 to 02-02 (event caaa01), was 2027-01-18 to 01-22" \
        in run.output
    assert kept(run.path) == [(email("Cy"), "caaa01", "2027-02-01", "2027-02-02")]
    assert incoming(run.path, "2027-01-11") == email("Cy")  # back in the stint she can now serve
    run.google.delete_event(email("Cy"), "caaa01")
    assert run() == 0
    assert "  remove: Cy out of office (Google) 2027-02-01 to 02-02 (event caaa01)" in run.output
    assert kept(run.path) == []
    actions = [a["action"] for a in Team.load(run.path).store.read_audit() if a["system"] == "google"]
    assert actions == ["import absence", "move absence", "remove absence"]


def test_an_absence_typed_in_the_roster_is_never_touched(google, roster_dir, slack):
    path = write_roster(roster_dir, "Ada", "Bob", member("Cy", away=[away("2027-01-18", "2027-01-19", "dentist")]),
                        "Di")
    before = path.read_bytes()
    run = Run(google, path, slack)
    google.out_of_office(email("Cy"), date(2027, 1, 18), date(2027, 1, 23), event_id="caaa01")
    assert run() == 0
    google.delete_event(email("Cy"), "caaa01")
    assert run() == 0
    assert path.read_bytes() == before
    (typed,) = Team.load(path).roster.member(email("Cy")).away
    assert (typed.start, typed.end, typed.note, typed.typed) == (date(2027, 1, 18), date(2027, 1, 19), "dentist", True)
    assert incoming(path, "2027-01-11") == email("Di")  # the typed absence still counts


def test_members_whose_calendar_cannot_be_read_are_named_once_and_the_others_import(google, roster_dir, slack):
    google.add_user(email("Bob"), delegated=False)
    google.add_user(email("Di"), in_domain=False)
    path = write_roster(roster_dir)
    run = Run(google, path, slack)
    google.out_of_office(email("Cy"), date(2027, 1, 18), date(2027, 1, 23), event_id="caaa01")
    assert run() == 0
    skipped = [line for line in run.output.splitlines() if "cannot read" in line]
    assert len(skipped) == 2
    assert skipped[0].startswith("  cannot read Bob (bob@example.gov)'s calendar, skipped: domain-wide delegation "
                                 "is not granted to the service account")
    assert "unauthorized_client" in skipped[0]
    assert skipped[1].startswith("  cannot read Di (di@example.gov)'s calendar, skipped: not a user of the Google "
                                 "Workspace domain")
    assert kept(path) == [(email("Cy"), "caaa01", "2027-01-18", "2027-01-22")]


def test_a_calendar_google_refuses_with_403_or_404_is_skipped(google, roster_dir):
    path = write_roster(roster_dir)
    run = Run(google, path)
    google.fail_next(403, reason="forbidden", path_contains=f"calendars/{email('Ada')}/events")
    del google.events[email("Bob")]  # Google no longer knows Bob's calendar: 404
    del google.calendars[email("Bob")]
    google.out_of_office(email("Cy"), date(2027, 1, 18), date(2027, 1, 23), event_id="caaa01")
    assert run() == 0
    assert "cannot read Ada (ada@example.gov)'s calendar, skipped: Google Calendar at 127.0.0.1" in run.output
    assert "answered 403 forbidden" in run.output and "answered 404 notFound" in run.output
    assert kept(path) == [(email("Cy"), "caaa01", "2027-01-18", "2027-01-22")]


def test_time_off_inside_a_running_stint_is_a_gap_shown_and_in_the_notice(run, rota):
    # Bob's stint began on 01-04; he is now off Wednesday and Thursday.
    run.google.out_of_office(email("Bob"), date(2027, 1, 6), date(2027, 1, 8), event_id="bobaa1")
    assert run() == 0
    assert ("changes the rotation: Bob is out of office 2027-01-06 to 01-07, during a stint under way: nobody "
            "covers those days (add an override)") in run.output
    team = Team.load(run.path)
    schedule = team.schedule()
    assert schedule.stint(0).member == email("Bob")  # the record keeps it
    gaps = schedule.gaps(date(2027, 1, 4), date(2027, 1, 11))
    assert [(g.day.isoformat(), g.scheduled, g.reason) for g in gaps] == [
        ("2027-01-06", email("Bob"), "Bob is out of office (Google)"),
        ("2027-01-07", email("Bob"), "Bob is out of office (Google)")]
    code, out, _ = rota("show", "--roster", run.path, "--from", "2027-01-04", "--weeks", "1")
    assert "01-06 Bob out of office (Google), no cover" in out
    notice = handoffnotice.compose(schedule, schedule.week(0))
    assert "gap on Wed 06 Jan: Bob's slot (Bob is out of office (Google))" in notice.text
    assert "Bob out of office (Google) Wed 06 Jan to Thu 07 Jan" in notice.text
    (message,) = run.slack.messages
    assert "Bob is out of office 2027-01-06 to 01-07, during a stint under way" in message["text"]


def test_partial_days_recurring_and_cancelled_events_across_dst(run):
    # Di keeps her calendar in Los Angeles; the team is in New York.
    run.google.calendars[email("Di")] = "America/Los_Angeles"
    la = ZoneInfo("America/Los_Angeles")
    # 06:00-10:00 Pacific on Monday 03-15 (after the change on 03-14) is 09:00-13:00 in New York: half the day.
    run.google.out_of_office(email("Di"), datetime(2027, 3, 15, 6, 0, tzinfo=la), datetime(2027, 3, 15, 10, 0, tzinfo=la),
                             event_id="dihalf1")
    # 07:05-09:00 Pacific is 10:05-12:00 in New York: misses the triage's start, under four hours.
    run.google.out_of_office(email("Di"), datetime(2027, 3, 16, 7, 5, tzinfo=la), datetime(2027, 3, 16, 9, 0, tzinfo=la),
                             event_id="dishort1")
    # Ada: every Friday afternoon from 13:00 New York, three times; the second one cancelled.
    start = datetime(2027, 3, 5, 13, 0, tzinfo=NY)
    run.google.out_of_office(email("Ada"), start, start + timedelta(hours=4), event_id="adafri",
                             recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"])
    run.google.cancel_instance(email("Ada"), "adafri", "adafri_20270312T180000Z")
    # A cancelled one-off event is no absence either.
    run.google.out_of_office(email("Bob"), date(2027, 4, 5), date(2027, 4, 6), event_id="bobgone", status="cancelled")
    assert run() == 0
    assert kept(run.path) == [
        (email("Ada"), "adafri_20270305T180000Z", "2027-03-05", "2027-03-05"),
        (email("Ada"), "adafri_20270319T170000Z", "2027-03-19", "2027-03-19"),
        (email("Di"), "dihalf1", "2027-03-15", "2027-03-15"),
    ]


def test_pages_are_followed_one_list_call_per_page(run):
    for day in (1, 2, 3):
        run.google.out_of_office(email("Cy"), date(2027, 2, day), date(2027, 2, day + 1), event_id=f"cdate{day}")
    run.google.clear_log()
    assert run(page_size=2) == 0
    assert [a[1] for a in kept(run.path)] == ["cdate1", "cdate2", "cdate3"]
    cy = [r for r in run.google.http_requests() if r.path.endswith(f"{email('Cy')}/events")]
    assert len(cy) == 2 and "pageToken" in cy[1].query


def test_two_runs_making_the_same_change_announce_it_once(run):
    """Two processes that planned from the same state (cron and a person, say):
    both apply, the change is kept once and Slack hears of it once."""
    run.google.out_of_office(email("Cy"), date(2027, 1, 18), date(2027, 1, 23), event_id="caaa01")
    credentials = credentials_from_file(Settings.from_env().google_credentials, None)
    systems = []
    for _ in range(2):
        team = Team.load(run.path)
        client = OutOfOfficeClient(credentials, endpoint=run.google.url + "/calendar/v3/")
        system = absences.AbsenceSync(team, WINDOW, client, NOW, slack_url=run.slack.url)
        systems.append((system, system.plan(), client))
    for system, plan, client in systems:
        assert plan.effects[0] == "Cy is out of office 2027-01-18 to 01-22; Di now starts on 01-11"
        system.apply(plan)
        client.close()
    assert len(run.slack.messages) == 1
    assert kept(run.path) == [(email("Cy"), "caaa01", "2027-01-18", "2027-01-22")]


def test_the_command_needs_the_roster_to_turn_it_on(google, roster_dir, rota):
    path = roster_dir / "team.yaml"
    path.write_text(yaml_text(team(*NAMES)))
    code, _, err = rota("sync", "absences", "--roster", path)
    assert code == 2
    assert err == f"rota: {path}: the roster does not import out-of-office events (set google: {{out_of_office: true}})\n"


def test_the_roster_says_where_out_of_office_is_wrong(roster_dir, rota):
    path = roster_dir / "team.yaml"
    path.write_text("team: T\ntimezone: America/New_York\nrotation: {start: 2027-01-04, handoff_time: \"09:00\"}\n"
                    "members: [{name: Ada, email: ada@example.gov}]\ngoogle:\n  out_of_office: yes please\n")
    code, _, err = rota("check", "--roster", path)
    assert code == 2
    assert f"{path}:6: google.out_of_office: expected true or false" in err
    path.write_text(path.read_text().replace("out_of_office: yes please", "send_updates: none"))
    code, _, err = rota("check", "--roster", path)
    assert code == 2 and f"{path}:6: google.calendar_id: missing" in err


def test_the_command_line_dry_run_prints_the_plan(run, rota):
    run.google.out_of_office(email("Cy"), date(2027, 1, 18), date(2027, 1, 23), event_id="caaa01")
    code, out, _ = rota("sync", "absences", "--roster", run.path, "--from", "2027-01-04", "--weeks", "8")
    assert code == 1
    assert out.splitlines()[0] == ("Out of office in Google Calendar: 4 member(s) read, weeks of 2027-01-04 to "
                                   "2027-02-22")
    assert "  import: Cy out of office (Google) 2027-01-18 to 01-22 (event caaa01)" in out
    assert kept(run.path) == []


def test_rota_show_json_marks_the_gap_as_out_of_office(run, rota):
    run.google.out_of_office(email("Bob"), date(2027, 1, 6), date(2027, 1, 7), event_id="bobaa1")
    assert run() == 0
    code, out, _ = rota("show", "--roster", run.path, "--from", "2027-01-04", "--weeks", "1", "--format", "json")
    (gap,) = json.loads(out)["weeks"][0]["gaps"]
    assert gap == {"date": "2027-01-06", "role": "incoming", "member": email("Bob"),
                   "reason": "Bob is out of office (Google)", "source": "google"}


def test_rate_limits_and_server_errors_are_retried_and_a_quota_stops_the_import(run):
    run.google.out_of_office(email("Cy"), date(2027, 1, 18), date(2027, 1, 23), event_id="caaa01")
    run.google.fail_next(429, path_contains=f"calendars/{email('Cy')}/events")
    run.google.fail_next(503, path_contains=f"calendars/{email('Cy')}/events")
    assert run() == 0
    assert run.waits == [1.0, 2.0]  # exponential backoff, without jitter: the rate limit, then the 503
    assert kept(run.path) == [(email("Cy"), "caaa01", "2027-01-18", "2027-01-22")]
    run.google.delete_event(email("Cy"), "caaa01")
    run.google.fail_next(403, reason="quotaExceeded", path_contains=f"calendars/{email('Bob')}/events")
    with pytest.raises(ServiceError, match="quotaExceeded"):
        run()
    assert kept(run.path) == [(email("Cy"), "caaa01", "2027-01-18", "2027-01-22")]  # nothing half-done


def test_an_unreachable_google_is_one_line_and_nothing_changes(run, rota, monkeypatch):
    run.google.out_of_office(email("Cy"), date(2027, 1, 18), date(2027, 1, 23), event_id="caaa01")
    monkeypatch.setenv("ROTA_GOOGLE_API_ENDPOINT", "http://127.0.0.1:9/calendar/v3/")  # nothing listens there
    code, out, err = rota("sync", "absences", "--roster", run.path, "--apply")
    assert code == 1
    assert err.startswith("rota: Google Calendar at 127.0.0.1:9 refused the connection") and err.count("\n") == 1
    assert kept(run.path) == []
