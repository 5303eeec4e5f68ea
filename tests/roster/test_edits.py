"""Roster edits on files people wrote by hand: comments anywhere, both YAML
styles, any note. After every edit the file parses, every comment is still
there in its place, and the diff touches only the entry the edit is about."""

import dataclasses
import difflib
import errno
import os
import re
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rosterkit import away, member, team, yaml_text

from scheduler.store.folder import FolderStore
from scheduler.roster import edits
from scheduler.roster import rosterfile
from scheduler.core import Absence, Member, Override, Swap
from scheduler.store.editors import Editor
from scheduler.errors import StaleVersion
from scheduler.team import Team

NOW = datetime(2027, 1, 12, 15, tzinfo=timezone.utc)  # Tuesday of week 2; today is 2027-01-12 in New York
TODAY = date(2027, 1, 12)
ED = Editor("ed@example.gov", "Ed Itor")

# A roster as people write it: block style, flow entries, a flow mapping over
# two lines, one absence written over two lines. `{c}` marks where a comment
# may follow on the line; own-line comments may come before any line.
TEMPLATE = """\
team: Platform experts{c}
timezone: America/New_York{c}
rotation:{c}
  start: 2027-01-04{c}
  handoff_time: "09:00"{c}
  holidays: none{c}
meetings:{c}
  daily_triage: {{time: "10:00", minutes: 15}}{c}
  weekly_review: {{time: "11:00",{c}
    minutes: 15}}{c}
members:{c}
  - name: Ada{c}
    email: ada@example.gov{c}
    away:{c}
      - {{from: 2027-02-01, to: 2027-02-05, note: PTO}}{c}
      - {{from: 2027-03-01,{c}
         to: 2027-03-02}}{c}
  - name: Bob{c}
    email: bob@example.gov{c}
    joined: 2027-01-04{c}
    away:{c}
      - {{from: 2027-04-05, to: 2027-04-09}}{c}
  - name: Cy{c}
    email: cy@example.gov{c}
    left: 2027-12-31{c}
  - name: Di{c}
    email: di@example.gov{c}
"""
OVERRIDES = """\
overrides:{c}
  - {{from: 2027-05-03, to: 2027-05-04, replace: ada@example.gov, with: bob@example.gov}}{c}
"""
SWAPS = """\
swaps:{c}
  - {{week: 2027-05-31, member: ada@example.gov, with_week: 2027-06-14, with: bob@example.gov}}{c}
"""
EMAILS = ["ada@example.gov", "bob@example.gov", "cy@example.gov", "di@example.gov"]
ABSENCES = [("ada@example.gov", "2027-02-01", "2027-02-05"), ("ada@example.gov", "2027-03-01", "2027-03-02"),
            ("bob@example.gov", "2027-04-05", "2027-04-09")]


def with_comments(own_line: list[bool], trailing: list[bool], indent: list[int], sections=(True, True),
                  at_end=True) -> str:
    """The template with `# cN` comments where the flags say, numbered in
    file order."""
    text = TEMPLATE + (OVERRIDES if sections[0] else "") + (SWAPS if sections[1] else "")
    lines, out, n = text.splitlines(), [], 0
    for i, line in enumerate(lines):
        if own_line[i % len(own_line)]:
            out.append(" " * indent[i % len(indent)] + f"# c{n}")
            n += 1
        if trailing[i % len(trailing)]:
            line = line.replace("{c}", f"  # c{n}")
            n += 1
        out.append(line.replace("{c}", "").replace("{{", "{").replace("}}", "}"))
    if at_end:
        out.append(f"# c{n}")
    return "\n".join(out) + "\n"


def comments(text: str) -> list[str]:
    return re.findall(r"# c\d+\b", text)


def load(tmp_path, text: str, name="team.yaml") -> Team:
    path = tmp_path / name
    path.write_text(text)
    return Team.load(path)


def diff(old: str, new: str):
    """(old lines removed or replaced, new lines added) by the change."""
    removed, added = [], []
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += old.splitlines()[i1:i2]
            added += new.splitlines()[j1:j2]
    return removed, added


def plan(team_, kind, **fields):
    return edits.plan_edit(team_, kind, fields, NOW)


# -- the cases --------------------------------------------------------------------
@pytest.mark.parametrize("where, line", [
    ("members", "members:\n"), ("overrides", "overrides:\n"), ("away", "    away:\n"),
])
@pytest.mark.parametrize("kind, fields", [
    ("add_member", {"name": "Eve", "email": "eve@example.gov", "joined": "2027-02-01"}),
    ("retire_member", {"email": "di@example.gov", "left": "2027-06-30"}),
    ("add_absence", {"email": "ada@example.gov", "from": "2027-07-05", "to": "2027-07-09"}),
    ("remove_absence", {"email": "bob@example.gov", "from": "2027-04-05", "to": "2027-04-09"}),
    ("add_override", {"replace": "cy@example.gov", "with": "di@example.gov", "from": "2027-07-05", "to": "2027-07-06"}),
    ("swap", {"week": "2027-07-05", "with_week": "2027-07-19"}),
])
def test_a_comment_on_its_own_line_under_a_list_key_survives_every_kind_of_edit(tmp_path, where, line, kind, fields):
    commented = line + " " * (len(line) - len(line.lstrip()) + 2) + "# order matters\n"
    text = with_comments([False], [False], [0]).replace(line, commented, 1)
    base = load(tmp_path, text)
    edit = edits.plan_edit(base, kind, fields, NOW)
    saved = edits.save_edit(base, edit, ED, NOW)
    written = base.path.read_text()
    assert written.encode() == edit.new.data and saved.roster_file.version == edit.version
    assert written.count("# order matters") == 1 and commented in written
    removed, _added = diff(text, written)
    assert removed == [] or kind in ("retire_member", "remove_absence")
    assert all("#" not in r for r in removed)
    assert FolderStore(base.path).read_audit()[-1]["action"] == kind


def test_removing_the_only_absence_when_away_carries_a_comment_keeps_the_comment(tmp_path):
    text = with_comments([False], [False], [0]).replace("    away:\n      - {from: 2027-04-05",
                                                       "    away:  # holidays\n      - {from: 2027-04-05")
    base = load(tmp_path, text)
    edit = plan(base, "remove_absence", email="bob@example.gov", **{"from": "2027-04-05", "to": "2027-04-09"})
    new = edit.new.data.decode()
    assert "    away:  # holidays\n  - name: Cy" in new
    assert edit.new.roster.member("bob@example.gov").away == ()


def test_removing_the_last_absence_removes_the_empty_list(tmp_path):
    base = load(tmp_path, with_comments([False], [False], [0]))
    edit = plan(base, "remove_absence", email="bob@example.gov", **{"from": "2027-04-05", "to": "2027-04-09"})
    removed, added = diff(base.roster_file.data.decode(), edit.new.data.decode())
    assert removed == ["    away:", "      - {from: 2027-04-05, to: 2027-04-09}"] and added == []
    assert "[]" not in edit.new.data.decode()


@pytest.mark.parametrize("note", ["? maybe", "- dash", "key: value", "# not a comment", 'say "hi"', "it's",
                                  "{braces}, [brackets]", "100", "true", "null", "2027-01-01", "~", "@home",
                                  "a, b: c", "José 😀", "back\\slash", "*star", "&amp", "!tag", "%pct", "`tick`"])
def test_notes_are_saved_as_typed(tmp_path, note):
    base = load(tmp_path, with_comments([True], [True], [2]))
    edit = plan(base, "add_absence", email="di@example.gov", note=note, **{"from": "2027-07-05", "to": "2027-07-09"})
    assert edit.new.roster.member("di@example.gov").away == (Absence(date(2027, 7, 5), date(2027, 7, 9), note),)
    override = plan(base, "add_override", replace="cy@example.gov", note=note,
                    **{"with": "di@example.gov", "from": "2027-07-05", "to": "2027-07-06"})
    assert override.new.roster.overrides[-1].note == note


def test_a_name_is_saved_as_typed_in_block_and_flow_rosters(tmp_path):
    name = 'Eve "E" O\'Neil: ? # x'
    for text in (with_comments([False], [False], [0]), yaml_text(team("Ada", "Bob"))):
        base = load(tmp_path, text)
        edit = plan(base, "add_member", name=name, email="eve@example.gov", joined="2027-02-01")
        assert edit.new.roster.member("eve@example.gov").name == name


# -- the property: comments anywhere, any edit -------------------------------------------------
flags = st.lists(st.booleans(), min_size=1, max_size=40)
notes = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=40).map(
    str.strip).filter(lambda s: "# c" not in s)
days = st.dates(min_value=TODAY, max_value=date(2027, 12, 31))
emails = st.sampled_from(EMAILS)


@st.composite
def changes(draw):
    kind = draw(st.sampled_from(edits.KINDS))
    if kind == "add_member":
        name = draw(notes.filter(bool))
        return kind, {"name": name, "email": "eve@example.gov", "joined": draw(days).isoformat()}
    if kind == "retire_member":
        return kind, {"email": draw(emails), "left": draw(days).isoformat()}
    if kind == "remove_absence":
        email, first, last = draw(st.sampled_from(ABSENCES))
        return kind, {"email": email, "from": first, "to": last}
    first = draw(days)
    last = first + timedelta(days=draw(st.integers(0, 20)))
    span = {"from": first.isoformat(), "to": last.isoformat(), "note": draw(notes)}
    if kind == "add_absence":
        return kind, {"email": draw(emails), **span}
    if kind == "add_override":
        replace, cover = draw(st.lists(emails, min_size=2, max_size=2, unique=True))
        return kind, {"replace": replace, "with": cover, **span}
    weeks = [date(2027, 1, 18) + timedelta(weeks=n) for n in range(20)]
    week, other = draw(st.lists(st.sampled_from(weeks), min_size=2, max_size=2, unique=True))
    if kind == "handover":
        return kind, {"week": week.isoformat(), "with": draw(emails)}
    return kind, {"week": week.isoformat(), "with_week": other.isoformat()}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(own_line=flags, trailing=flags, indent=st.lists(st.sampled_from([0, 2, 4, 6, 8]), min_size=1),
       sections=st.tuples(st.booleans(), st.booleans()), at_end=st.booleans(), change=changes())
def test_any_edit_keeps_every_comment_and_touches_only_its_entry(own_line, trailing, indent, sections, at_end, change):
    kind, fields = change
    text = with_comments(own_line, trailing, indent, sections, at_end)
    with tempfile.TemporaryDirectory() as tmp:
        base = load(Path(tmp), text)
        try:
            edit = edits.plan_edit(base, kind, fields, NOW)
        except edits.EditError as e:
            # Changes the form rightly refuses: a gap, a swap that would not apply
            # ("swap of"), someone needed on days they are not a member, a
            # retirement that would leave a later cover with nobody.
            off_team = "so is not a member for all of"
            refusals = {"swap": ("is a gap", "different people", "swap of", off_team),
                        "handover": ("is a gap", "already holds", "handover of", "swap of", "cannot serve the whole stint"),
                        "add_override": (off_team,), "add_absence": (off_team,),
                        "retire_member": ("already says this", "whoever covers must be a member")}
            if not any(r in e.message for r in refusals.get(kind, ())):
                raise
            assume(False)  # a change the form rightly refuses: nothing to check in the file
        new = edit.new.data.decode()
        assert rosterfile.parse(edit.new.data).version == edit.version  # the bytes parse as they are
        assert comments(new) == comments(text)  # every comment, once, in its order
        removed, added = diff(text, new)
        old_roster, new_roster = base.roster, edit.new.roster
        if kind == "remove_absence":
            # only the absence's own lines (and an `away:` left empty) go; their comments stay, on their own
            entry = [ln for ln in text.splitlines() if fields["from"] in ln or fields["to"] in ln]
            assert {r for r in removed if not re.fullmatch(r" *# c\d+", r)} <= set(entry) | {"    away:"}
            assert all(re.fullmatch(r" *(# c\d+\s*)", a) for a in added)
            assert comments("\n".join(added)) == comments("\n".join(removed))
            gone = next(a for a in old_roster.member(fields["email"]).away
                        if (a.start.isoformat(), a.end.isoformat()) == (fields["from"], fields["to"]))
            assert new_roster.member(fields["email"]).away == tuple(
                a for a in old_roster.member(fields["email"]).away if a != gone)
            return
        if kind == "retire_member" and old_roster.member(fields["email"]).left:
            assert [r.split("#")[0].strip() for r in removed] == ["left: 2027-12-31"]
            assert [a.split("#")[0].strip() for a in added] == [f"left: {fields['left']}"]
            assert comments(removed[0]) == comments(added[0])
        else:
            assert removed == [] and not comments("\n".join(added))  # additions only, no comment moved
        assert new_roster == _expected(base, kind, fields)


def _expected(base: Team, kind, f):
    """The roster the change should give, built from the model, not the file."""
    roster, d = base.roster, date.fromisoformat
    if kind == "add_member":
        return dataclasses.replace(roster, members=roster.members + (Member(f["name"], f["email"], d(f["joined"])),))
    if kind in ("retire_member", "add_absence"):
        def change(m):
            if m.email != f["email"]:
                return m
            if kind == "retire_member":
                return dataclasses.replace(m, left=d(f["left"]))
            return dataclasses.replace(m, away=m.away + (Absence(d(f["from"]), d(f["to"]), f["note"]),))
        return dataclasses.replace(roster, members=tuple(change(m) for m in roster.members))
    if kind == "add_override":
        return dataclasses.replace(roster, overrides=roster.overrides + (
            Override(d(f["from"]), d(f["to"]), f["replace"], f["with"], f["note"]),))
    schedule = base.schedule()
    if kind == "handover":
        week = d(f["week"])
        holder = schedule.rotation.stint(schedule.calendar.week_index(week)).member
        return dataclasses.replace(roster, swaps=roster.swaps + (Swap(week, holder, None, f["with"]),))
    week, other = d(f["week"]), d(f["with_week"])
    mine = schedule.rotation.stint(schedule.calendar.week_index(week)).member
    theirs = schedule.rotation.stint(schedule.calendar.week_index(other)).member
    return dataclasses.replace(roster, swaps=roster.swaps + (Swap(week, mine, other, theirs),))


# -- both YAML styles -----------------------------------------------------------------------
def test_a_json_style_roster_takes_every_kind_of_edit_in_flow_style(tmp_path):
    text = "# written as JSON\n" + yaml_text(team("Ada", member("Bob", away=[away("2027-04-05", "2027-04-09")]),
                                                   member("Cy", away=[away("2027-03-01", "2027-03-02"),
                                                                      away("2027-04-01", "2027-04-02")]), "Di"))
    base = load(tmp_path, text)
    for kind, fields in [
        ("add_member", {"name": "Eve", "email": "eve@example.gov", "joined": "2027-02-01"}),
        ("retire_member", {"email": "ada@example.gov", "left": "2027-06-30"}),
        ("add_absence", {"email": "ada@example.gov", "from": "2027-07-05", "to": "2027-07-09", "note": "a, b: c"}),
        ("add_absence", {"email": "bob@example.gov", "from": "2027-07-05", "to": "2027-07-09"}),
        ("remove_absence", {"email": "bob@example.gov", "from": "2027-04-05", "to": "2027-04-09"}),
        ("remove_absence", {"email": "cy@example.gov", "from": "2027-03-01", "to": "2027-03-02"}),
        ("remove_absence", {"email": "cy@example.gov", "from": "2027-04-01", "to": "2027-04-02"}),
        ("add_override", {"replace": "cy@example.gov", "with": "di@example.gov", "from": "2027-07-05",
                          "to": "2027-07-06"}),
        ("swap", {"week": "2027-02-01", "with_week": "2027-02-15"}),
    ]:
        edit = edits.plan_edit(base, kind, fields, NOW)
        assert edit.new.data.decode().startswith("# written as JSON\n")
        if kind != "remove_absence":
            assert edit.new.roster == _expected(base, kind, {"note": "", **fields})
    removed = plan(base, "remove_absence", email="cy@example.gov", **{"from": "2027-03-01", "to": "2027-03-02"})
    assert [(a.start, a.end) for a in removed.new.roster.member("cy@example.gov").away] == [
        (date(2027, 4, 1), date(2027, 4, 2))]


def test_a_flow_list_that_loses_its_only_entry_goes_with_its_key(tmp_path):
    text = with_comments([False], [False], [0]).replace(
        "    away:\n      - {from: 2027-04-05, to: 2027-04-09}\n", "    away: [{from: 2027-04-05, to: 2027-04-09}]\n")
    base = load(tmp_path, text)
    edit = plan(base, "remove_absence", email="bob@example.gov", **{"from": "2027-04-05", "to": "2027-04-09"})
    assert diff(text, edit.new.data.decode()) == (["    away: [{from: 2027-04-05, to: 2027-04-09}]"], [])


def test_a_missing_overrides_list_is_added_after_the_members_and_their_closing_comment(tmp_path):
    text = with_comments([False], [False], [0], sections=(False, False), at_end=False) + "  # end of members\n"
    base = load(tmp_path, text)
    edit = plan(base, "add_override", replace="cy@example.gov", **{"with": "di@example.gov", "from": "2027-07-05",
                                                                   "to": "2027-07-06"})
    assert edit.new.data.decode() == text + (
        "overrides:\n  - {from: 2027-07-05, to: 2027-07-06, replace: cy@example.gov, with: di@example.gov}\n")


def test_crlf_line_endings_and_a_missing_final_newline_are_kept(tmp_path):
    text = with_comments([False], [True], [0], sections=(False, False), at_end=False)
    text = text.replace("\n", "\r\n").removesuffix("\r\n")
    (tmp_path / "team.yaml").write_bytes(text.encode())
    base = Team.load(tmp_path / "team.yaml")
    edit = plan(base, "add_override", replace="cy@example.gov", **{"with": "di@example.gov", "from": "2027-07-05",
                                                                   "to": "2027-07-06"})
    assert edit.new.data.decode() == text + (
        "\r\noverrides:\r\n  - {from: 2027-07-05, to: 2027-07-06, replace: cy@example.gov, with: di@example.gov}\r\n")


def test_anchors_and_aliases_are_refused_with_a_reason(tmp_path):
    text = with_comments([False], [False], [0]).replace("  start: 2027-01-04", "  start: &start 2027-01-04").replace(
        "    joined: 2027-01-04", "    joined: *start")
    base = load(tmp_path, text)
    with pytest.raises(edits.EditError, match="anchors and aliases"):
        plan(base, "add_override", replace="cy@example.gov", **{"with": "di@example.gov", "from": "2027-07-05",
                                                                "to": "2027-07-06"})


def test_an_edit_that_changes_nothing_is_refused(tmp_path):
    base = load(tmp_path, with_comments([False], [False], [0]))
    with pytest.raises(edits.EditError, match="already says this"):
        plan(base, "retire_member", email="cy@example.gov", left="2027-12-31")


# -- saving ---------------------------------------------------------------------------------------
def test_the_bytes_written_are_the_bytes_validated_and_previewed(tmp_path):
    base = load(tmp_path, with_comments([True], [True], [4]))
    edit = plan(base, "add_absence", email="di@example.gov", note="? x", **{"from": "2027-07-05", "to": "2027-07-09"})
    assert any(line.startswith("+") and "? x" in line for line in edit.diff)
    edits.save_edit(base, edit, ED, NOW)
    assert base.path.read_bytes() == edit.new.data
    entry = FolderStore(base.path).read_audit()[-1]
    assert (entry["detail"]["base"], entry["detail"]["version"]) == (base.roster_file.version, edit.version)


def test_a_save_over_someone_elses_change_is_refused_and_loses_nothing(tmp_path):
    base = load(tmp_path, with_comments([False], [False], [0]))
    edit = plan(base, "add_absence", email="di@example.gov", **{"from": "2027-07-05", "to": "2027-07-09"})
    theirs = base.path.read_text().replace("team: Platform experts", "team: Platform team")
    base.path.write_text(theirs)
    with pytest.raises(StaleVersion):
        edits.save_edit(base, edit, ED, NOW)
    assert base.path.read_text() == theirs
    assert FolderStore(base.path).read_audit() == []


def test_an_unwritable_audit_log_saves_nothing(tmp_path):
    base = load(tmp_path, with_comments([False], [False], [0]))
    FolderStore(base.path).path("audit").mkdir()  # a directory where the log should be: appending fails
    before = base.path.read_bytes()
    edit = plan(base, "add_absence", email="di@example.gov", **{"from": "2027-07-05", "to": "2027-07-09"})
    with pytest.raises(edits.SaveFailed, match="the audit log .* cannot be written .* Nothing was changed"):
        edits.save_edit(base, edit, ED, NOW)
    assert base.path.read_bytes() == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("code, reason", [(errno.EROFS, "is read-only"), (errno.ENOSPC, "the disk is full")])
def test_a_refused_write_saves_nothing_and_says_why(tmp_path, monkeypatch, code, reason):
    base = load(tmp_path, with_comments([False], [False], [0]))
    base.record_begun(NOW, NOW)
    before = base.path.read_bytes()
    edit = plan(base, "add_absence", email="di@example.gov", **{"from": "2027-07-05", "to": "2027-07-09"})

    def refuse(*_args, **_kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", refuse)  # the temp file cannot be flushed: as a full or read-only disk
    with pytest.raises(edits.SaveFailed, match=f"the roster directory .*{reason}.*Nothing was changed"):
        edits.save_edit(base, edit, ED, NOW)
    monkeypatch.undo()
    assert base.path.read_bytes() == before
    assert FolderStore(base.path).read_audit() == []  # no entry for a change that did not happen


def test_a_failed_rename_after_the_audit_entry_is_noted_in_the_log(tmp_path, monkeypatch):
    base = load(tmp_path, with_comments([False], [False], [0]))
    base.record_begun(NOW, NOW)
    before = base.path.read_bytes()
    edit = plan(base, "add_absence", email="di@example.gov", **{"from": "2027-07-05", "to": "2027-07-09"})

    def refuse(*_args):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(edits.SaveFailed, match="could not be replaced"):
        edits.save_edit(base, edit, ED, NOW)
    monkeypatch.undo()
    assert base.path.read_bytes() == before
    assert [e["result"] for e in FolderStore(base.path).read_audit()] == [
        "ok", "not saved: Input/output error"]


def test_a_symlinked_roster_is_written_through_to_its_target(tmp_path):
    real = tmp_path / "repo" / "team.yaml"
    real.parent.mkdir()
    real.write_text(with_comments([False], [True], [0]))
    (tmp_path / "rosters").mkdir()
    link = tmp_path / "rosters" / "team.yaml"
    link.symlink_to(real)
    base = Team.load(link)
    edit = plan(base, "add_absence", email="di@example.gov", **{"from": "2027-07-05", "to": "2027-07-09"})
    edits.save_edit(base, edit, ED, NOW)
    assert link.is_symlink() and real.read_bytes() == edit.new.data
    assert not [p.name for p in real.parent.iterdir() if p.name.endswith(".tmp")]
