"""The roster file: clear errors with file, line and field; edits that keep
comments and order; writes that never lose the old file."""

import os
from datetime import date, time
from pathlib import Path

import pytest

from scheduler.roster import rosterfile
from scheduler.errors import RosterInvalid, RotaError, StaleVersion

GOOD = """\
# Our roster: comments stay when rota edits it.
team: Platform experts            # display name
timezone: America/New_York
rotation:
  start: 2027-01-04
  handoff_time: "09:00"
  holidays: US
meetings:
  daily_triage: {time: "10:00", minutes: 15}
  weekly_review: {time: "11:00", minutes: 15}
members:
  - name: Ada Lovelace
    email: ada@example.gov
    joined: 2027-01-04
    left: 2027-09-01
    away:                         # inclusive dates
      - {from: 2027-02-08, to: 2027-02-19, note: PTO}
  - name: Bob Kahn
    email: Bob@Example.gov
overrides:
  - {from: 2027-03-10, to: 2027-03-12, replace: ada@example.gov, with: bob@example.gov}
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(RosterInvalid) as caught:
        rosterfile.parse(text.encode(), "rosters/team.yaml")
    return [str(e) for e in caught.value.errors]


def test_the_documented_format_loads():
    roster = rosterfile.parse(GOOD.encode(), "team.yaml").roster
    assert roster.name == "Platform experts"
    assert roster.start == date(2027, 1, 4) and roster.handoff_time == time(9, 0)
    assert roster.holidays == "US"
    assert roster.daily_triage.at == time(10, 0) and roster.weekly_review.minutes == 15
    ada, bob = roster.members
    assert ada.left == date(2027, 9, 1) and ada.away[0].note == "PTO"
    assert bob.email == "bob@example.gov" and bob.joined == date(2027, 1, 4)  # joined defaults to the start
    assert roster.overrides[0].cover == "bob@example.gov"


def test_meetings_and_holidays_have_defaults():
    text = GOOD.replace("  holidays: US\n", "").split("meetings:")[0] + "members:" + GOOD.split("members:")[1]
    roster = rosterfile.parse(text.encode()).roster
    assert roster.holidays is None
    assert roster.daily_triage.at == time(10, 0) and roster.weekly_review.at == time(11, 0)


@pytest.mark.parametrize("change, expected", [
    (("team: Platform experts", "team: Platform experts\ncolour: blue"),
     "rosters/team.yaml:3: colour: unknown key; expected one of"),
    (("  handoff_time:", "  handof_time:"),
     "rosters/team.yaml:6: rotation.handof_time: unknown key; did you mean 'handoff_time'?"),
    (("timezone: America/New_York", "timezone: America/Gotham"),
     "rosters/team.yaml:3: timezone: unknown time zone 'America/Gotham'"),
    (("start: 2027-01-04", "start: 2027-01-05"),
     "rosters/team.yaml:5: rotation.start: 2027-01-05 is a Tuesday; the first handoff day must be a Monday"),
    (("joined: 2027-01-04", "joined: 2027-13-01"),
     "rosters/team.yaml:14: members[0].joined: '2027-13-01' is not a valid date (YYYY-MM-DD)"),
    (("left: 2027-09-01", "left: 2026-09-01"),
     "rosters/team.yaml:15: members[0].left: left 2026-09-01 is before joined 2027-01-04"),
    (("email: Bob@Example.gov", "email: ADA@example.gov"),
     "rosters/team.yaml:19: members[1].email: duplicate email ada@example.gov (also members[0])"),
    (("email: Bob@Example.gov", "email: bob at example"),
     "rosters/team.yaml:19: members[1].email: 'bob at example' is not an email address"),
    (("with: bob@example.gov}", "with: zed@example.gov}"),
     "rosters/team.yaml:21: overrides[0].with: zed@example.gov is not a member of this roster"),
    (("to: 2027-02-19", "to: 2027-02-01"),
     "rosters/team.yaml:17: members[0].away[0].to: 2027-02-01 is before from 2027-02-08"),
    (('handoff_time: "09:00"', 'handoff_time: "9am"'),
     "rosters/team.yaml:6: rotation.handoff_time: '9am' is not a time of day"),
    (("holidays: US", "holidays: Atlantis"),
     "rosters/team.yaml:7: rotation.holidays: 'Atlantis' is not a country code"),
    (("minutes: 15}\n  weekly", "minutes: 0}\n  weekly"),
     "rosters/team.yaml:9: meetings.daily_triage.minutes: 0 is not a whole number from 1 to 480"),
    (("  - name: Bob Kahn\n", "  - name: \"Bob\\nATTENDEE:mailto:evil@example.com\"\n"),
     "rosters/team.yaml:18: members[1].name: must not contain line breaks or control characters"),
    (("  - name: Bob Kahn\n", "  - nickname: Bob\n"),
     "rosters/team.yaml:18: members[1].nickname: unknown key"),
    (("    email: ada@example.gov\n", ""),
     "rosters/team.yaml:12: members[0].email: missing"),
])
def test_a_malformed_roster_names_the_file_line_and_field(change, expected):
    old, new = change
    assert old in GOOD
    found = errors_of(GOOD.replace(old, new, 1))
    assert any(e.startswith(expected) for e in found), found


def test_the_team_id_defaults_to_the_file_name_and_not_to_the_display_name():
    assert rosterfile.parse(GOOD.encode(), "rosters/team.yaml").roster.id == "team"
    assert rosterfile.parse(GOOD.encode(), "rosters/Data Team_2.yaml").roster.id == "data-team-2"
    renamed = GOOD.replace("team: Platform experts", "team: Platform support")
    assert rosterfile.parse(renamed.encode(), "rosters/team.yaml").roster.id == "team"
    explicit = GOOD.replace("team: Platform experts", "team: Platform experts\nid: platform-experts")
    assert rosterfile.parse(explicit.encode(), "rosters/team.yaml").roster.id == "platform-experts"


@pytest.mark.parametrize("value, problem", [
    ("Platform-Experts", "'Platform-Experts' is not a team id: lower-case letters, digits and hyphens"),
    ("platform experts", "'platform experts' is not a team id"),
    ("-ops", "'-ops' is not a team id"),
    ("o" * 64, f"'{'o' * 64}' is not a team id"),
    ("[ops]", "expected text"),
    ('""', "must not be empty"),
])
def test_a_bad_team_id_names_the_file_line_and_field(value, problem):
    found = errors_of(GOOD.replace("team: Platform experts", f"team: Platform experts\nid: {value}"))
    assert len(found) == 1 and found[0].startswith(f"rosters/team.yaml:3: id: {problem}"), found


def test_every_problem_is_reported_not_just_the_first():
    text = GOOD.replace("timezone: America/New_York", "timezone: Nowhere").replace("start: 2027-01-04", "start: 2027-01-06")
    found = errors_of(text)
    assert [e.split(":")[1] for e in found] == ["3", "5"]
    with pytest.raises(RosterInvalid) as caught:
        rosterfile.parse(text.encode(), "rosters/team.yaml")
    assert str(caught.value).endswith("(and 1 more: run `rota check` to see all)")


def test_yaml_syntax_errors_and_duplicate_keys_carry_the_line():
    assert errors_of(GOOD.replace("team: Platform experts", "team: [unclosed"))[0].startswith("rosters/team.yaml:")
    dup = errors_of(GOOD.replace("timezone: America/New_York", "timezone: America/New_York\ntimezone: UTC"))
    assert dup[0].startswith("rosters/team.yaml:4:") and "duplicate key" in dup[0]


def test_a_swap_must_name_rotation_mondays_and_members():
    text = GOOD + "swaps:\n  - {week: 2027-03-03, member: ada@example.gov, with_week: 2027-03-15, with: bob@example.gov}\n"
    assert errors_of(text)[0].startswith(
        "rosters/team.yaml:23: swaps[0].week: 2027-03-03 is not the Monday of a rotation week")


@pytest.mark.parametrize("text", [GOOD, (Path(__file__).parents[2] / "rosters" / "example.yaml").read_text()])
def test_a_round_trip_keeps_every_byte_comments_and_order(text):
    loaded = rosterfile.parse(text.encode(), "team.yaml")
    assert rosterfile.dump(loaded.document).decode() == text


def test_an_edit_keeps_comments_and_the_rest_of_the_file(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text(GOOD)
    loaded = rosterfile.load(path)
    doc = loaded.document
    doc["members"][1]["away"] = [{"from": date(2027, 4, 5), "to": date(2027, 4, 9), "note": "Trip"}]
    saved = rosterfile.save(loaded, doc)
    text = path.read_text()
    assert "# Our roster: comments stay when rota edits it." in text
    assert "    away:                         # inclusive dates\n" in text
    assert "2027-04-05" in text and saved.roster.members[1].away[0].note == "Trip"
    assert text.index("team:") < text.index("timezone:") < text.index("members:") < text.index("overrides:")


def test_a_save_over_someone_elses_change_is_refused_and_loses_nothing(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text(GOOD)
    mine, theirs = rosterfile.load(path), rosterfile.load(path)
    theirs.document["team"] = "Platform team"
    rosterfile.save(theirs, theirs.document)
    mine.document["timezone"] = "America/Chicago"
    with pytest.raises(StaleVersion) as refused:
        rosterfile.save(mine, mine.document)
    assert refused.value.exit_code == 1  # a conflict to reload and retry, not bad input
    text = path.read_text()
    assert "team: Platform team" in text and "America/New_York" in text


def test_an_invalid_edit_is_never_written(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text(GOOD)
    loaded = rosterfile.load(path)
    loaded.document["rotation"]["start"] = date(2027, 1, 5)
    with pytest.raises(RosterInvalid):
        rosterfile.save(loaded, loaded.document)
    assert path.read_text() == GOOD


def test_a_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "team.yaml"
    path.write_text(GOOD)
    loaded = rosterfile.load(path)
    loaded.document["team"] = "Renamed"

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        rosterfile.save(loaded, loaded.document)
    assert path.read_text() == GOOD
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temp file left behind


def test_missing_or_unreadable_files_are_one_clear_error(tmp_path):
    with pytest.raises(RotaError, match="no such roster file"):
        rosterfile.load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"team: \xff\xfe\n")
    with pytest.raises(RosterInvalid, match="bad.yaml:1: not UTF-8 text"):
        rosterfile.load(bad)


def test_the_bundled_example_roster_is_valid_and_realistic():
    example = rosterfile.load(Path(__file__).parents[2] / "rosters" / "example.yaml").roster
    assert len(example.members) >= 6
    assert sum(len(m.away) for m in example.members) >= 2
    assert example.overrides
    assert example.start < date(2026, 11, 26)


def test_a_tab_typed_into_the_file_names_its_line_and_field():
    found = errors_of(GOOD.replace("  start: 2027-01-04", "  start:\t2027-01-04"))
    assert found == ["rosters/team.yaml:5: start: not valid YAML: a tab character; "
                     "YAML indents and separates with spaces only"]


SYNTAX = [("team: Platform experts", "team: [unclosed"), ("timezone: America/New_York", "timezone: a: b"),
          ("  - name: Bob Kahn\n", "  - name: Bob Kahn\n   oops: x\n"), ("members:\n", "members:\n- x\n  - y\n"),
          ("team: Platform experts", "team: Platform experts\nteam: again"), ("team: Platform experts", "%YAML"),
          ("team: Platform experts", "team: 'open"), ("team: Platform experts", "team: *nowhere"),
          ("team: Platform experts", "team: Platform experts\n---\nteam: two")]


@pytest.mark.parametrize("old, new", SYNTAX + [("team: Platform experts", "team: Platform experts")])
def test_the_c_parser_and_the_pure_one_read_every_file_alike(monkeypatch, old, new):
    """rota reads with ruamel.yaml.clib's C parser when it is installed: what a
    file says, or what is wrong with it, must not depend on that."""
    data = GOOD.replace(old, new, 1).encode()

    def read():
        try:
            return rosterfile.parse(data, "rosters/team.yaml").roster
        except RosterInvalid as e:
            return [(f.line, f.field, f.detail.split(":")[0]) for f in e.errors]

    assert rosterfile.CParser is not None  # a dependency: the C path is the one that runs
    with_c = read()
    monkeypatch.setattr(rosterfile, "CParser", None)
    assert read() == with_c


def test_a_handover_is_a_swap_without_with_week_and_is_checked_like_one():
    good = GOOD + "swaps:\n  - {week: 2027-03-01, member: ada@example.gov, with: bob@example.gov}  # taken\n"
    [handover] = rosterfile.parse(good.encode(), "rosters/team.yaml").roster.swaps
    assert (handover.week, handover.member, handover.other_week, handover.other, handover.one_way) == \
        (date(2027, 3, 1), "ada@example.gov", None, "bob@example.gov", True)
    to_self = GOOD + "swaps:\n  - {week: 2027-03-01, member: ada@example.gov, with: ada@example.gov}\n"
    assert errors_of(to_self) == ["rosters/team.yaml:23: swaps[0].with: a swap needs two different members"]
    nobody = GOOD + "swaps:\n  - {week: 2027-03-01, member: ada@example.gov}\n"
    assert errors_of(nobody)[0].startswith("rosters/team.yaml:23: swaps[0].with: missing")
    stranger = GOOD + "swaps:\n  - {week: 2027-03-01, member: ada@example.gov, with: eve@example.gov}\n"
    assert errors_of(stranger)[0].startswith("rosters/team.yaml:23: swaps[0].with: eve@example.gov")
