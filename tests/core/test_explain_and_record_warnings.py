"""What `rota show --explain` and `rota check` say about the people around a
stint: whole absences, no litany of people long gone, and one line (not one a
week) for a record the roster no longer agrees with."""

import json
import re

import pendulum
from rosterkit import away, member, team, yaml_text

from scheduler.store.folder import FolderStore
from scheduler.team import Team

# Ada, Dan, Bob, Cy from 2026-09-07, no holidays. Dan's last day is Friday
# 2026-11-13; Bob is away over the holidays; Eve joins on 2027-02-01.
MEMBERS = [
    member("Ada"),
    member("Dan", left="2026-11-13"),
    member("Bob", away=[away("2026-12-21", "2027-01-01", "holidays")]),
    member("Cy"),
    member("Eve", joined="2027-02-01"),
]


def write(path, members, comment="# Platform experts: edited by hand and by rota\n"):
    path.write_text(comment + yaml_text(team(*members, start="2026-09-07")))
    return path



def record(path, at: str):
    """What `rota record` writes at `at` (the command itself refuses instants
    ahead of the real clock, and tests never depend on it)."""
    instant = pendulum.parse(at, tz="America/New_York")
    return Team.load(path).record_begun(instant, instant)


def explained(out: str) -> dict[str, str]:
    """Week (Monday) -> the `why` line under it."""
    found, week = {}, None
    for line in out.splitlines():
        start = re.match(r"^[▶ ] (\d{4}-\d\d-\d\d) ", line)
        if start:
            week = start.group(1)
        elif line.strip().startswith("why ") and week:
            found[week] = line.strip()
    return found


def test_explain_names_the_whole_absence_and_only_people_on_the_team_then(rota, roster_dir):
    path = write(roster_dir / "team.yaml", MEMBERS)
    code, out, _ = rota("show", "--roster", path, "--from", "2026-11-02", "--weeks", "16", "--explain")
    assert code == 0
    why = explained(out)
    assert len(why) == 16
    # Dan is passed over in the stints that reach past his last day...
    leaving = [w for w, line in why.items() if "Dan (leaves 2026-11-13)" in line]
    assert leaving and all(w < "2026-11-14" for w in leaving)
    # ...and never again once a stint starts after it.
    assert not [w for w, line in why.items() if w > "2026-11-13" and "Dan" in line]
    # Bob's absence is named whole, whichever working day of it a stint meets first.
    bob = [line for line in why.values() if "Bob (away" in line]
    assert bob and all("Bob (away 2026-12-21 to 2027-01-01 (holidays))" in line for line in bob)
    # Eve is not named in stints that end before she joins.
    assert not [w for w, line in why.items() if w < "2027-01-18" and "Eve" in line]


def test_the_json_reason_says_the_same(rota, roster_dir):
    path = write(roster_dir / "team.yaml", MEMBERS)
    _, out, _ = rota("show", "--roster", path, "--from", "2026-12-14", "--weeks", "3", "--format", "json")
    reasons = [w["reason"] for w in json.loads(out)["weeks"]]
    assert [r for r in reasons if "Bob (away 2026-12-21 to 2027-01-01 (holidays))" in r]
    assert not [r for r in reasons if "Dan" in r]


def record_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if "warning (record)" in line]


def test_check_after_a_reorder_summarises_the_record_in_one_line(rota, roster_dir):
    path = write(roster_dir / "team.yaml", MEMBERS)
    assert record(path, "2027-03-02T10:00")
    kept = FolderStore(path).read_record().stints
    # Cy moves to the top: ties now break another way, so the roster alone
    # would give another past from early on.
    write(path, [MEMBERS[3], *MEMBERS[:3], MEMBERS[4]])
    _, alone, _ = rota("show", "--roster", _copy_without_record(path), "--from", "2026-08-31",
                      "--weeks", "30", "--format", "json")
    weeks = json.loads(alone)["weeks"]
    now_says = {w["start"]: w["incoming"] for w in weeks}
    now_says["2026-08-31"] = weeks[0]["continuing"]  # the stint already running at the start
    differ = sorted(m.isoformat() for m, s in kept.items() if m.isoformat() in now_says
                    and now_says[m.isoformat()] != s.member)
    assert len(differ) > 5
    code, out, _ = rota("check", "--roster", path, "--at", "2027-03-02T10:00", "--weeks", "4")
    (line,) = record_lines(out)
    assert f"{len(differ)} recorded weeks, from the week of {differ[0]} to the week of {differ[-1]}, differ" in line
    assert line.endswith("the record wins")
    # Weeks later, still one line.
    record(path, "2027-04-06T10:00")
    _, out, _ = rota("check", "--roster", path, "--at", "2027-04-06T10:00", "--weeks", "4")
    assert len(record_lines(out)) == 1


def _copy_without_record(path):
    copy = path.with_name("alone.yaml")
    copy.write_text(path.read_text())
    return copy


def test_a_single_disagreement_keeps_its_detail(rota, roster_dir):
    path = write(roster_dir / "team.yaml", MEMBERS)
    record(path, "2026-09-08T10:00")  # the first pair: Ada (on already), Dan
    write(path, [MEMBERS[0], MEMBERS[2], MEMBERS[1], *MEMBERS[3:]])  # Bob before Dan
    _, out, _ = rota("check", "--roster", path, "--at", "2026-09-08T10:00", "--weeks", "2")
    assert [line.split(": warning (record): ")[1] for line in record_lines(out)] == [
        "week of 2026-09-07: the record keeps Dan, the roster alone would now give Bob; the record wins"]


def test_someone_removed_from_the_roster_is_one_line_however_long_they_served(rota, roster_dir):
    path = write(roster_dir / "team.yaml", MEMBERS)
    record(path, "2026-11-10T10:00")
    weeks = sorted(m.isoformat() for m, s in FolderStore(path).read_record().stints.items()
                   if s.member == "dan@example.gov")
    assert len(weeks) >= 2
    write(path, [m for m in MEMBERS if m["name"] != "Dan"])
    _, out, _ = rota("check", "--roster", path, "--at", "2026-11-10T10:00", "--weeks", "2")
    removed = [line for line in record_lines(out) if "no longer on the roster" in line]
    assert [line.split(": warning (record): ")[1] for line in removed] == [
        f"{len(weeks)} weeks, from the week of {weeks[0]} to the week of {weeks[-1]}: "
        "dan@example.gov is in the record but no longer on the roster"]
