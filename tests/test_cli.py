"""The `rota` command as people and scripts use it."""

import json
import subprocess
import sys
from pathlib import Path

import icalendar
import pytest
from rosterkit import away, member, team, yaml_text

from scheduler.roster import validator
from scheduler.cli import main

REPO = Path(__file__).parent.parent


@pytest.fixture
def roster(roster_dir):
    path = roster_dir / "team.yaml"
    path.write_text(yaml_text(team("Ada", "Bob", "Cy", "Di", holidays="US")))
    return path



def test_show_json_has_the_documented_shape(rota, roster):
    code, out, _ = rota("show", "--roster", roster, "--from", "2027-01-11", "--weeks", "2", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["team"] == "Platform experts" and data["timezone"] == "America/New_York"
    w1, w2 = data["weeks"]
    assert w1 == {
        "start": "2027-01-11", "handoff": "2027-01-11T09:00:00-05:00", "holiday": None,
        "incoming": "cy@example.gov", "continuing": "bob@example.gov", "outgoing": "ada@example.gov",
        "gaps": [], "overrides": [], "recorded": False,
        "reason": "waited longest, never served (joined 2027-01-04)",
    }
    assert w2["handoff"] == "2027-01-19T09:00:00-05:00" and w2["holiday"] == "Martin Luther King Jr. Day"


def test_show_json_uses_null_for_a_gap(rota, roster_dir):
    path = roster_dir / "t.yaml"
    path.write_text(yaml_text(team("Ada")))
    _, out, _ = rota("show", "--roster", path, "--from", "2027-01-04", "--weeks", "2", "--format", "json")
    weeks = json.loads(out)["weeks"]
    assert weeks[0]["incoming"] is None and weeks[0]["continuing"] == "ada@example.gov"
    assert weeks[1]["continuing"] is None


def test_show_table_marks_the_current_week_and_explains(rota, roster):
    code, out, _ = rota("show", "--roster", roster, "--from", "2027-01-04", "--weeks", "3", "--explain")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Platform experts support rotation (America/New_York)"
    assert any(line.startswith("  2027-01-18  Tue 09:00 EST  Di") and "Martin Luther King Jr. Day: handoff moved" in line
               for line in lines)
    assert any("why Cy: waited longest, never served" in line for line in lines)


def test_who_text_and_json_at_an_instant(rota, roster):
    code, out, _ = rota("who", "--roster", roster, "--at", "2027-01-12T10:00")
    assert code == 0
    assert "Cy <cy@example.gov>  (week 1 of 2, until Tue 26 Jan 2027 09:00 EST)" not in out  # 25 Jan is a Monday
    assert "Cy <cy@example.gov>  (week 1 of 2, until Mon 25 Jan 2027 09:00 EST)" in out
    assert "Bob <bob@example.gov>  (week 2 of 2, until Tue 19 Jan 2027 09:00 EST)" in out
    assert "Next handoff Tue 19 Jan 2027 09:00 EST: Di rotates in, Bob rotates out." in out
    _, out, _ = rota("who", "--roster", roster, "--at", "2027-01-12T15:00:00Z", "--format", "json")
    data = json.loads(out)
    assert data["at"] == "2027-01-12T15:00:00+00:00"
    assert [(s["email"], s["stint_week"]) for s in data["on_support"]] == [("cy@example.gov", 1), ("bob@example.gov", 2)]
    assert data["next_handoff"] == {"at": "2027-01-19T09:00:00-05:00", "incoming": "di@example.gov",
                                    "continuing": "cy@example.gov", "outgoing": "bob@example.gov"}


def test_who_shows_a_cover(rota, roster_dir):
    path = roster_dir / "t.yaml"
    path.write_text(yaml_text(team("Ada", "Bob", "Cy", "Di", overrides=[
        {"from": "2027-01-12", "to": "2027-01-13", "replace": "bob@example.gov", "with": "ada@example.gov"}])))
    _, out, _ = rota("who", "--roster", path, "--at", "2027-01-12T10:00")
    assert "Ada <ada@example.gov>, covering for Bob until 2027-01-13" in out


def test_check_reports_gaps_ahead_and_exits_1(rota, roster_dir):
    # In the stint from 2027-01-18 Cy continues and everyone else is away on some day of it.
    path = roster_dir / "t.yaml"
    path.write_text(yaml_text(team(
        member("Ada", away=[away("2027-01-27", "2027-01-27")]),
        member("Bob", away=[away("2027-01-20", "2027-01-20")]),
        "Cy",
        member("Di", away=[away("2027-01-18", "2027-02-12")]),
    )))
    code, out, _ = rota("check", "--roster", path, "--weeks", "8", "--at", "2027-01-05T12:00")
    assert code == 1
    assert (f"{path}: gap: stint from 2027-01-18 to 2027-02-01 has nobody: "
            "nobody available: Di (away 2027-01-18 to 2027-02-12)") in out
    assert out.splitlines()[-1] == "1 gap(s) in the next 8 weeks."
    # Looking only at the next week, there is nothing to report.
    code, out, _ = rota("check", "--roster", path, "--weeks", "1", "--at", "2027-01-05T12:00")
    assert code == 0 and out.splitlines()[-1] == "OK: the roster is valid and has no gaps in the next 1 weeks."


def test_check_lists_every_roster_error_and_exits_2(rota, roster_dir):
    path = roster_dir / "bad.yaml"
    path.write_text("team: T\ntimezone: Nowhere\nrotation:\n  start: 2027-01-05\n  handoff_time: \"09:00\"\nmembers: []\n")
    code, out, err = rota("check", "--roster", path)
    assert code == 2
    lines = err.splitlines()
    assert lines[0] == f"{path}:2: timezone: unknown time zone 'Nowhere': use an IANA name such as America/New_York"
    assert lines[1].startswith(f"{path}:4: rotation.start:")
    assert lines[2] == f"{path}:6: members: the roster needs at least one member"
    assert lines[-1] == f"3 problem(s) in {path}."


def test_errors_are_one_line_on_stderr_without_a_traceback(roster_dir):
    bad = roster_dir / "bad.yaml"
    bad.write_text("team: T\ntimezone: UTC\nrotation:\n  start: 2027-01-05\n  handoff_time: \"09:00\"\nmembers:\n  - {name: A, email: a@example.gov}\n")
    for args in (["who", "--roster", str(bad)], ["show", "--roster", str(roster_dir / "missing.yaml")],
                 ["who", "--roster", str(bad).replace("bad", "nope"), "--at", "x"]):
        proc = subprocess.run([sys.executable, "-m", "scheduler.cli", *args], capture_output=True, text=True, cwd=REPO)
        assert proc.returncode == 2
        assert proc.stdout == ""
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stderr.startswith("rota: ")


def test_a_bad_at_is_a_clear_error(rota, roster):
    code, _, err = rota("who", "--roster", roster, "--at", "next tuesday")
    assert code == 2 and "--at: 'next tuesday' is not a date and time" in err


def test_roster_defaults_to_env_then_example(rota, roster, monkeypatch):
    monkeypatch.setenv("ROTA_ROSTER", str(roster))
    _, out, _ = rota("show", "--from", "2027-01-04", "--weeks", "1", "--format", "json")
    assert json.loads(out)["weeks"][0]["incoming"] == "bob@example.gov"
    monkeypatch.delenv("ROTA_ROSTER")
    monkeypatch.chdir(REPO)
    code, out, _ = rota("show", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["team"] == "Platform experts" and len(data["weeks"]) == 30


def test_ics_to_a_file_and_for_a_member(rota, roster, tmp_path):
    out_file = tmp_path / "team.ics"
    code, _, err = rota("ics", "--roster", roster, "--from", "2027-01-04", "--weeks", "4", "-o", out_file)
    assert code == 0 and "events to" in err
    cal = icalendar.Calendar.from_ical(out_file.read_bytes())
    assert len(list(cal.walk("VEVENT"))) > 20
    code, out, _ = rota("ics", "--roster", roster, "--member", "CY@example.gov", "--from", "2027-01-04", "--weeks", "4")
    cal = icalendar.Calendar.from_ical(out.encode())
    assert str(cal["X-WR-CALNAME"]) == "Cy: Platform experts support"
    code, _, err = rota("ics", "--roster", roster, "--member", "zed@example.gov")
    assert code == 2 and "zed@example.gov is not on the roster" in err


def test_ics_is_byte_identical_for_the_same_files(rota, roster):
    a = rota("ics", "--roster", roster, "--from", "2027-01-04", "--weeks", "8")[1]
    b = rota("ics", "--roster", roster, "--from", "2027-01-04", "--weeks", "8")[1]
    assert a == b


# 2021 has 2027's calendar (weekdays and US holidays): a roster that began then
# is in the past whenever the tests run, so commands that write accept it.
PAST_START = "2021-01-04"


def test_record_writes_begun_stints_once_and_they_survive_roster_edits(rota, roster_dir):
    roster = roster_dir / "team.yaml"
    roster.write_text(yaml_text(team("Ada", "Bob", "Cy", "Di", holidays="US", start=PAST_START)))
    code, out, _ = rota("record", "--roster", roster, "--at", "2021-01-12T12:00")
    assert code == 0
    # Local handoff times, and nothing before the start: Ada's stint was
    # already running when the rotation began.
    assert out.splitlines()[:3] == [
        "Recorded: Ada on support from Mon 4 Jan 2021 09:00 EST (already on when the rotation starts, for one week)",
        "Recorded: Bob on support from Mon 4 Jan 2021 09:00 EST",
        "Recorded: Cy on support from Mon 11 Jan 2021 09:00 EST"]
    record = roster.with_name("team.record.jsonl")
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(r["week"], r["member"], r["handoff"]) for r in lines] == [
        ("2020-12-28", "ada@example.gov", "2021-01-04T09:00:00-05:00"),
        ("2021-01-04", "bob@example.gov", "2021-01-04T09:00:00-05:00"),
        ("2021-01-11", "cy@example.gov", "2021-01-11T09:00:00-05:00")]
    code, out, _ = rota("record", "--roster", roster, "--at", "2021-01-12T12:00")
    assert out == f"Nothing to record: every stint begun by Tue 12 Jan 2021 12:00 EST is already in {record}.\n"
    # The team reorders the roster and gives Cy a day off that week; the past holds.
    roster.write_text(yaml_text(team("Di", member("Cy", away=[away("2021-01-13", "2021-01-13")]), "Bob", "Ada",
                                     start=PAST_START)))
    _, out, _ = rota("show", "--roster", roster, "--from", "2021-01-11", "--weeks", "1", "--format", "json")
    week = json.loads(out)["weeks"][0]
    assert (week["incoming"], week["recorded"]) == ("cy@example.gov", True)
    assert week["gaps"] == [{"date": "2021-01-13", "role": "incoming", "member": "cy@example.gov", "reason": "Cy is away"}]
    code, out, _ = rota("check", "--roster", roster, "--weeks", "1", "--at", "2021-01-12T12:00")
    assert "warning (record)" in out


def test_record_before_the_rotation_starts_records_nothing(rota, roster_dir):
    roster = roster_dir / "team.yaml"
    roster.write_text(yaml_text(team("Ada", "Bob", start=PAST_START)))
    code, out, _ = rota("record", "--roster", roster, "--at", "2021-01-04T08:59")
    assert (code, out) == (0, "Nothing to record: the rotation starts Mon 4 Jan 2021 09:00 EST.\n")
    assert not roster.with_name("team.record.jsonl").exists()


def test_record_refuses_an_instant_ahead_of_the_clock_and_writes_nothing(rota, roster_dir):
    roster = roster_dir / "team.yaml"
    roster.write_text(yaml_text(team("Ada", "Bob", "Cy", start=PAST_START)))
    code, out, err = rota("record", "--roster", roster, "--at", "2999-01-01T00:00")
    assert code == 2 and out == ""
    assert err.startswith("rota: --at: Tue 1 Jan 2999 00:00 EST is ahead of the clock (now ")
    assert err.endswith("nothing was written\n") and err.count("\n") == 1
    assert not roster.with_name("team.record.jsonl").exists()
    # Commands that only read take any instant.
    assert rota("who", "--roster", roster, "--at", "2030-01-01T10:00")[0] == 0
    assert rota("check", "--roster", roster, "--at", "2030-01-01T10:00", "--weeks", "2")[0] == 0
    assert not roster.with_name("team.record.jsonl").exists()


def test_record_allows_a_clock_a_few_minutes_behind(rota, roster_dir):
    import pendulum

    roster = roster_dir / "team.yaml"
    roster.write_text(yaml_text(team("Ada", "Bob", start=PAST_START)))
    soon = pendulum.now("UTC").add(minutes=2).to_iso8601_string()  # inside the 5 minutes' leeway
    code, out, _ = rota("record", "--roster", roster, "--at", soon)
    assert code == 0 and "stint(s) added" in out


def test_a_corrupt_record_names_its_line(rota, roster):
    roster.with_name("team.record.jsonl").write_text('{"week": "2027-01-04", "member": null, "handoff": "2027-01-04T09:00:00-05:00"}\n{oops\n')
    code, _, err = rota("who", "--roster", roster)
    assert code == 2 and "team.record.jsonl:2: not valid JSON" in err


def test_the_console_script_is_installed():
    script = Path(sys.executable).parent / "rota"
    proc = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("rota ")


def test_user_add_list_remove_and_the_editors_file_is_private(capsys, roster, monkeypatch):
    import io
    import stat

    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["user", "add", "Ed@Example.gov", "--name", "Ed Itor", "--password-stdin", "--roster", str(roster)]) == 0
    editors = roster.with_name("team.editors.json")
    assert stat.S_IMODE(editors.stat().st_mode) == 0o600
    assert "a long enough password" not in editors.read_text()
    assert main(["user", "list", "--roster", str(roster)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "Ed Itor <ed@example.gov>"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "add", "x@example.gov", "--password-stdin", "--roster", str(roster)]) == 2
    assert "at least 12 characters" in capsys.readouterr().err
    assert main(["user", "remove", "ed@example.gov", "--roster", str(roster)]) == 0
    assert main(["user", "remove", "ed@example.gov", "--roster", str(roster)]) == 2
    assert "is not an editor" in capsys.readouterr().err



def test_user_add_sso_adds_an_editor_without_asking_for_a_password(capsys, roster):
    from scheduler.store.editors import EditorStore

    # No terminal and nothing on stdin: --sso asks for nothing.
    assert main(["user", "add", "Sam@Example.gov", "--sso", "--name", "Sam", "--roster", str(roster)]) == 0
    assert capsys.readouterr().out.startswith("Sam <sam@example.gov> can now edit the roster once signed in through")
    store = EditorStore(roster.with_name("team.editors.json"))
    assert store.get("sam@example.gov").name == "Sam" and store.verify("sam@example.gov", "") is None
    assert main(["user", "add", "sam@example.gov", "--sso", "--roster", str(roster)]) == 2
    assert "already an editor" in capsys.readouterr().err
    assert main(["user", "add", "new@example.gov", "--sso", "--password-stdin", "--roster", str(roster)]) == 2
    assert "--sso adds an editor without a password" in capsys.readouterr().err
    assert store.get("new@example.gov") is None


def test_user_add_without_a_terminal_or_stdin_password_is_one_line(roster):
    script = Path(sys.executable).parent / "rota"
    proc = subprocess.run([str(script), "user", "add", "ed@example.gov", "--roster", str(roster)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
                          start_new_session=True)  # no controlling terminal either
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "rota: no terminal to ask for the password on: pipe it in with --password-stdin\n"
    assert not roster.with_name("team.editors.json").exists()


def test_user_add_refuses_an_existing_editor_unless_asked_to_reset(capsys, roster, monkeypatch):
    import io

    from scheduler.store.editors import EditorStore

    store = EditorStore(roster.with_name("team.editors.json"))
    store.add("ed@example.gov", "the first long password", "Ed Itor")
    monkeypatch.setattr("sys.stdin", io.StringIO("a second long password\n"))
    assert main(["user", "add", "ED@example.gov", "--password-stdin", "--roster", str(roster)]) == 2
    assert capsys.readouterr().err == (
        "rota: ed@example.gov is already an editor; to give them a new password, add --reset-password\n")
    assert store.verify("ed@example.gov", "the first long password") is not None
    monkeypatch.setattr("sys.stdin", io.StringIO("a second long password\n"))
    assert main(["user", "add", "ed@example.gov", "--password-stdin", "--reset-password", "--roster", str(roster)]) == 0
    assert capsys.readouterr().out.startswith("Ed Itor <ed@example.gov> has a new password")
    assert store.verify("ed@example.gov", "a second long password") is not None
    assert store.verify("ed@example.gov", "the first long password") is None
    # A reset for someone who is not an editor is a typo, not a new editor.
    monkeypatch.setattr("sys.stdin", io.StringIO("a third long password\n"))
    assert main(["user", "add", "eb@example.gov", "--password-stdin", "--reset-password", "--roster", str(roster)]) == 2
    assert "eb@example.gov is not an editor" in capsys.readouterr().err
    assert [e.email for e in store.list()] == ["ed@example.gov"]

def test_serve_checks_the_roster_and_says_how_to_make_the_first_editor(capsys, roster, monkeypatch):
    calls = []
    monkeypatch.setenv("ROTA_SECRET_KEY", "k" * 32)  # else a key is generated into instance/
    monkeypatch.setattr("flask.Flask.run", lambda self, **kw: calls.append(kw))
    assert main(["serve", "--roster", str(roster), "--port", "8123"]) == 0
    assert calls == [{"host": "127.0.0.1", "port": 8123, "threaded": True, "load_dotenv": False}]
    err = capsys.readouterr().err
    assert f"serving {roster} at http://127.0.0.1:8123/" in err and "rota user add you@example.gov" in err
    roster.write_text("team: [broken\n")
    assert main(["serve", "--roster", str(roster)]) == 2 and len(calls) == 1


def test_a_team_named_support_is_not_called_support_support(rota, roster_dir):
    path = roster_dir / "t.yaml"
    path.write_text(yaml_text(team("Ada", "Bob", "Cy", team="Cloud Platform Support")))
    _, out, _ = rota("show", "--roster", path, "--from", "2027-01-04", "--weeks", "1")
    assert out.splitlines()[0] == "Cloud Platform Support rotation (America/New_York)"
    _, out, _ = rota("who", "--roster", path, "--at", "2027-01-12T10:00")
    assert out.splitlines()[0] == "Cloud Platform Support at Tue 12 Jan 2027 10:00 EST:"
    _, out, _ = rota("ics", "--roster", path, "--from", "2027-01-04", "--weeks", "1")
    cal = icalendar.Calendar.from_ical(out.encode())
    assert str(cal["X-WR-CALNAME"]) == "Cloud Platform Support"
    assert "support support" not in out.lower().replace("\r\n ", "")
    _, out, _ = rota("ics", "--roster", path, "--member", "ada@example.gov", "--weeks", "1", "--from", "2027-01-04")
    assert str(icalendar.Calendar.from_ical(out.encode())["X-WR-CALNAME"]) == "Ada: Cloud Platform Support"


def test_who_in_a_two_person_team_says_who_stays_on(rota, roster_dir):
    path = roster_dir / "t.yaml"
    path.write_text(yaml_text(team("Ada", "Bob")))
    _, out, _ = rota("who", "--roster", path, "--at", "2027-01-05T10:00")
    assert out.splitlines()[-1] == "Next handoff Mon 11 Jan 2027 09:00 EST: Ada stays on for another stint."


def test_show_weeks_without_from_starts_at_the_current_week(rota, roster_dir):
    path = roster_dir / "t.yaml"
    path.write_text(yaml_text(team("Ada", "Bob", "Cy", start=PAST_START)))
    _, out, _ = rota("show", "--roster", path, "--weeks", "6")
    rows = [line for line in out.splitlines()[3:] if line.strip()]
    assert len(rows) == 6 and rows[0].startswith("▶ ")
    # Without --weeks the default window still starts 4 weeks before this calendar
    # week (whose handoff may be later today: then last week's is current).
    _, out, _ = rota("show", "--roster", path)
    rows = [line for line in out.splitlines()[3:] if line.strip()]
    assert len(rows) == 30 and [i for i, row in enumerate(rows) if row.startswith("▶ ")] in ([3], [4])


# -- rosters that try to make the loader do too much ------------------------------------------
HEADER = 'team: Platform experts\ntimezone: America/New_York\nrotation: {start: 2027-01-04, handoff_time: "09:00"}\n'


def check_lines(rota, path):
    code, _, err = rota("check", "--roster", path)
    return code, err.splitlines()


def test_check_refuses_aliases_that_expand_a_billion_fold(rota, roster_dir):
    path = roster_dir / "laughs.yaml"
    anchors = ['x0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    anchors += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    path.write_text(HEADER + "\n".join(anchors) + "\nmembers: *a9\n")  # 9**10 values, written in 1 KB
    code, lines = check_lines(rota, path)
    assert code == 2
    assert lines == [f"{path}:8: aliases (*name) repeat more than 10,000 values; a roster needs none: "
                     "write the values out", f"1 problem(s) in {path}."]


def test_check_refuses_an_alias_inside_itself_and_deep_nesting(rota, roster_dir):
    path = roster_dir / "t.yaml"
    path.write_text(HEADER + "members: &m\n  - *m\n")
    assert check_lines(rota, path) == (2, [f"{path}:4: an alias refers to the list or mapping that contains it",
                                            f"1 problem(s) in {path}."])
    for line, deep in ((4, "[" * 20_000 + "]" * 20_000), (4, "{a: " * 20_000 + "x" + "}" * 20_000),
                       (5, "\n  " + "- " * 20_000 + "x")):
        path.write_text(HEADER + "members: " + deep + "\n")
        assert check_lines(rota, path) == (2, [f"{path}:{line}: nested more than 32 levels deep",
                                                f"1 problem(s) in {path}."]), deep[:10]


def test_a_few_aliases_are_fine(rota, roster_dir):
    path = roster_dir / "t.yaml"
    path.write_text(HEADER + "members:\n"
                    "  - {name: Ada, email: ada@example.gov, away: &winter [{from: 2027-12-20, to: 2027-12-31}]}\n"
                    "  - {name: Bob, email: bob@example.gov, away: *winter}\n"
                    "  - {name: Cy, email: cy@example.gov}\n")
    _, out, _ = rota("show", "--roster", path, "--from", "2027-12-20", "--weeks", "1", "--format", "json")
    reason = json.loads(out)["weeks"][0]["reason"]  # both absences, the second one through the alias
    assert "Ada (away 2027-12-20 to 2027-12-31)" in reason and "Bob (away 2027-12-20 to 2027-12-31)" in reason


def test_check_refuses_a_huge_file_and_cuts_long_values(rota, roster_dir):
    path = roster_dir / "t.yaml"
    path.write_text(HEADER + "members: []\n# " + "x" * (1024 * 1024) + "\n")
    assert check_lines(rota, path) == (2, [f"{path}: larger than a roster can be (1024 KiB at most)",
                                            f"1 problem(s) in {path}."])
    path.write_text(HEADER.replace('"09:00"', "[" + ", ".join(["nine o'clock"] * 200) + "]")
                    + "k" * 1000 + ": 1\n"
                    + "members: [{name: Ada, email: '" + "a" * 400 + "'}]\n")
    code, lines = check_lines(rota, path)
    assert code == 2 and all(len(line.replace(str(path), "")) < 200 for line in lines), lines
    assert f"{path}:3: rotation.handoff_time: [\"nine o'clock\", \"nine o'clock\", \"nine o'clock\", \"nine o'cl…" \
           " is not a time of day: write it quoted, like \"09:00\"" in lines
    assert f"{path}:4: {'k' * 59}…: unknown key; expected one of: {', '.join(validator.TOP_KEYS)}" in lines
    assert f"{path}:5: members[0].email: '{'a' * 58}… is not an email address" in lines
