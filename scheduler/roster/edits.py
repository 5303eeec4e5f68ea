"""Changes to a roster made through the web page, checked by the same rules
as the roster file before anything is written.

Each change is a kind and the form's fields (strings). `plan_edit` computes,
once, the bytes the roster file will hold: the change is spliced into the
current text (`yamledit`: comments, order and layout stay byte for byte),
and those bytes are parsed and validated. The preview shows what they do
to the coming weeks and the diff of the file; its form carries their
version (hash). `save_edit` writes exactly those bytes, with the version
check, after recording the stints that have begun, and never without the
change's entry in the audit log: the entry is appended once the new bytes
are ready to replace the roster (in the folder store: complete on disk
beside it) and before they do (`Store.replace_roster`).
"""

from __future__ import annotations

import dataclasses
import difflib
import errno
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from scheduler.roster import holidaycal
from scheduler.roster import rosterfile
from scheduler.roster import validator
from scheduler.roster import yamledit
from scheduler.core import Record, Schedule, Window, monday_of
from scheduler.core.calendar import day_of
from scheduler.core.rotation import Week
from scheduler.core.schedule import COMING_WEEKS
from scheduler.errors import RosterInvalid, RotaError
from scheduler.roster.rosterfile import RosterFile
from scheduler.store.auditlog import Entry
from scheduler.team import Team

KINDS = ("add_member", "retire_member", "add_absence", "remove_absence", "add_override", "swap", "handover")


class EditError(RotaError):
    """A change the form must refuse; `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class SaveFailed(RotaError):
    """The disk refused a write (read-only, full, not permitted): the roster
    was left as it was. The message says which file and why."""


@dataclass
class Row:
    monday: date
    before: tuple
    after: tuple

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class Edit:
    kind: str
    fields: dict[str, str]
    description: str
    who: str | None
    base: RosterFile  # the roster the change applies to
    new: RosterFile  # the roster as it will be written: `new.data` are the bytes, validated
    before: Schedule = dataclasses.field(repr=False)  # the base roster's, as the page shows it
    after: Schedule = dataclasses.field(repr=False)  # the new roster's, with the record as saving leaves it
    today: date
    warnings: list[str] = dataclasses.field(default_factory=list)  # what the change does to swaps

    @property
    def version(self) -> str:
        return self.new.version

    @functools.cached_property
    def rows(self) -> list[Row]:
        """The coming weeks, before and after."""
        return _compare(self.before, self.after, self.today)

    @property
    def changed_rows(self) -> list[Row]:
        return [r for r in self.rows if r.changed]

    @functools.cached_property
    def diff(self) -> list[str]:
        """The roster file's lines that change, as a unified diff."""
        old = self.base.data.decode("utf-8").splitlines()
        new = self.new.data.decode("utf-8").splitlines()
        return list(difflib.unified_diff(old, new, self.base.path.name, self.base.path.name, n=1, lineterm=""))[2:]


def plan_edit(team: Team, kind: str, fields: dict[str, str], now: datetime) -> Edit:
    if kind not in KINDS:
        raise EditError(f"unknown change {kind!r}")
    today = team.schedule().local_date(now)
    base = team.roster_file
    try:
        document = yamledit.Text(base.data.decode("utf-8"), base.node)
        description, who = _APPLY[kind](team, document, fields, today, now)
        data = document.result().encode("utf-8")
    except yamledit.Unsupported as e:
        raise EditError(f"rota cannot edit this roster file ({e}): change it by hand") from None
    if data == base.data:
        raise EditError("the roster already says this: there is nothing to change")
    try:
        new = rosterfile.parse(data, base.path)
    except RosterInvalid as e:
        first = e.errors[0]
        raise EditError(f"{first.field}: {first.detail}" if first.field else first.detail) from None
    record = _as_saved(team, now)
    after = Schedule(team.with_imported(new.roster), holidaycal.calendar(new.roster.holidays), record)
    before = Schedule(team.roster, holidaycal.calendar(team.roster.holidays), record)
    warnings = _check_swaps(kind, before, after)
    return Edit(kind, dict(fields), description, who, base, new, team.schedule(), after, today, warnings)


def _as_saved(team: Team, now: datetime) -> Record:
    """The record as saving will leave it: a change is judged with every
    stint that has begun fixed, as it will be."""
    begun = team.schedule().unrecorded(now)
    return Record({**team.record.stints, **{s.week: s for s in begun}}) if begun else team.record


def _check_swaps(kind: str, before: Schedule, after: Schedule) -> list[str]:
    """A new swap that would not apply is refused; anything else the change
    does to swaps (one no longer applying, someone on four weeks running)
    is a warning shown with the preview."""
    known = set(before.swap_findings())
    new = [f for f in after.swap_findings() if f not in known]
    refused = [f for f in new if f.is_problem]
    if kind in ("swap", "handover") and refused:
        raise EditError(refused[0].message, "week")
    return [f.message for f in new]


def save_edit(team: Team, edit: Edit, editor, now: datetime, also: Callable[[], None] | None = None) -> Team:
    """Write the edit's bytes if the roster is still the one the edit was
    planned on; returns the team as saved. `editor` (an `editors.Editor`, or
    anyone with an email and a name) signs the audit log entry. `also` runs
    with the audit entry, after the version check and before the roster
    changes (a trade closes its offer there): if it raises, nothing is saved
    and its error propagates. Raises StaleVersion if someone else saved in
    between, SaveFailed if the disk refuses: in both cases the roster file
    is as it was."""
    team = dataclasses.replace(team)  # the caller's (perhaps shared) team stays as it was
    try:
        team.record_begun(now, now)  # the past is fixed before the roster changes
    except OSError as e:
        raise SaveFailed(f"Could not save: the record {team.store.where('record')} cannot be written "
                         f"({_why(e)}). Nothing was changed.") from None
    log = team.store.where("audit")
    detail = {"change": edit.description, "editor": editor.name, **edit.fields,
              "base": edit.base.version, "version": edit.version}
    audited = False

    def audit_and_also() -> None:
        if also is not None:
            also()
        audit()

    def audit(result: str = "ok") -> None:
        nonlocal audited
        try:
            team.store.append_audit([Entry("roster", edit.kind, edit.who, result, detail)],
                                    actor=editor.email, now=now)
        except OSError as e:
            raise _AuditFailed(e) from e
        audited = True

    try:
        saved = rosterfile.replace(edit.base, edit.new, before=audit_and_also, store=team.store)
    except _AuditFailed as e:
        raise SaveFailed(f"Could not save: the audit log {log} cannot be written ({_why(e.args[0])}), and no "
                         "change is saved without its audit entry. Nothing was changed.") from None
    except OSError as e:
        if not audited:
            raise SaveFailed(f"Could not save: the roster directory {team.path.parent} {_why_directory(e)}. "
                             "Nothing was changed.") from None
        try:
            audit(f"not saved: {_why(e)}")  # the entry above announced a change that did not happen
        except _AuditFailed:
            pass
        raise SaveFailed(f"Could not save: the roster {team.path} could not be replaced ({_why(e)}). "
                         "Nothing was changed.") from None
    return Team(saved, team.record, team.store)


class _AuditFailed(Exception):
    pass


def _why(e: OSError) -> str:
    return {errno.EROFS: "read-only file system", errno.EACCES: "permission denied", errno.EPERM:
            "operation not permitted", errno.ENOSPC: "the disk is full", errno.EDQUOT: "disk quota exceeded",
            }.get(e.errno, e.strerror or str(e))


def _why_directory(e: OSError) -> str:
    if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"is read-only ({_why(e)})"
    return f"cannot take the new file ({_why(e)})"


# -- the changes ---------------------------------------------------------------------
# Each reads the form, refuses what it must, and splices the change into `doc`
# (a `yamledit.Text` of the roster); it returns the description and the member
# the change is about.
def _add_member(team, doc, f, today, now):
    name = _required(f, "name")
    email = _email(f, "email")
    if team.roster.member(email):
        raise EditError(f"{email} is already on the roster", "email")
    joined = _date(f, "joined", default=today)
    doc.append(("members",), {"name": name, "email": email, "joined": joined}, flow_item=False)
    return f"add {name} <{email}>, joining {joined.isoformat()}", email


def _retire_member(team, doc, f, today, now):
    email = _member(team, f, "email")
    already = team.roster.member(email).left
    if already is not None and already < today:
        # A later day would put them back on support until then.
        raise EditError(f"{team.roster.name_of(email)} left on {already.isoformat()}: already retired", "email")
    left = _date(f, "left", default=today)
    if left < today:
        raise EditError("a member leaves today or later: the past is already recorded", "left")
    doc.set(_member_path(team, email), "left", left, after=("name", "email", "joined"))
    return f"retire {team.roster.name_of(email)}: last day {left.isoformat()}", email


def _add_absence(team, doc, f, today, now):
    email = _member(team, f, "email")
    first, last = _span(f, today)
    _on_team(team, email, first, last, "email", today)
    note = _note(f)
    doc.append(_member_path(team, email) + ("away",),
               {"from": first, "to": last, **({"note": note} if note else {})})
    return f"{team.roster.name_of(email)} away {first.isoformat()} to {last.isoformat()}", email


def _remove_absence(team, doc, f, today, now):
    email = _member(team, f, "email")
    first, last = _date(f, "from"), _date(f, "to")
    # Only absences typed into the roster: they come first, so `i` is their place in the file.
    for i, absence in enumerate(team.roster.member(email).away):
        if absence.typed and (absence.start, absence.end) == (first, last):
            doc.remove(_member_path(team, email) + ("away",), i)
            return f"{team.roster.name_of(email)} no longer away {first.isoformat()} to {last.isoformat()}", email
    raise EditError(f"{team.roster.name_of(email)} has no absence from {first} to {last}", "from")


def _add_override(team, doc, f, today, now):
    first, last = _span(f, today)
    replace = _member(team, f, "replace")
    cover = _member(team, f, "with")
    if replace == cover:
        raise EditError("someone cannot cover for themselves", "with")
    _on_team(team, cover, first, last, "with", today)
    if team.roster.member(replace).off_team(first, last) and not _holds_a_slot(team, replace, first, last):
        _on_team(team, replace, first, last, "replace", today)
    note = _note(f)
    doc.append(("overrides",), {"from": first, "to": last, "replace": replace, "with": cover,
                                **({"note": note} if note else {})})
    return (f"{team.roster.name_of(cover)} covers for {team.roster.name_of(replace)} "
            f"{first.isoformat()} to {last.isoformat()}"), replace


def _swap(team, doc, f, today, now):
    schedule = team.schedule()
    weeks = []
    for key in ("week", "with_week"):
        monday = _date(f, key)
        index = schedule.week_index(monday)
        if index is None or index < 0:
            raise EditError(f"{monday.isoformat()} is not the Monday of a rotation week", key)
        stint = schedule.stint(index)
        if stint.start <= now:
            raise EditError(f"the stint of the week of {monday.isoformat()} has begun: only upcoming stints can swap", key)
        if stint.member is None:
            raise EditError(f"the week of {monday.isoformat()} is a gap: add an override instead", key)
        weeks.append((monday, stint.member))
    (week, member), (other_week, other) = weeks
    if week == other_week or member == other:
        raise EditError("pick two upcoming stints held by two different people", "with_week")
    for email, monday, key in ((member, other_week, "with_week"), (other, week, "week")):
        stint = schedule.stint(schedule.week_index(monday))
        _on_team(team, email, day_of(stint.start), day_of(stint.end) - timedelta(days=1), key, today,
                 f"the stint of the week of {monday.isoformat()}")
    doc.append(("swaps",), {"week": week, "member": member, "with_week": other_week, "with": other})
    return (f"{team.roster.name_of(member)} (week of {week.isoformat()}) and {team.roster.name_of(other)} "
            f"(week of {other_week.isoformat()}) trade stints"), member


def _handover(team, doc, f, today, now):
    schedule = team.schedule()
    monday = _date(f, "week")
    index = schedule.week_index(monday)
    if index is None or index < 0:
        raise EditError(f"{monday.isoformat()} is not the Monday of a rotation week", "week")
    stint = schedule.stint(index)
    if stint.start <= now:
        raise EditError(f"the stint of the week of {monday.isoformat()} has begun: only upcoming stints "
                        "change hands", "week")
    if stint.member is None:
        raise EditError(f"the week of {monday.isoformat()} is a gap: add an override instead", "week")
    taker = _member(team, f, "with")
    if taker == stint.member:
        raise EditError(f"{team.roster.name_of(taker)} already holds the stint of the week of "
                        f"{monday.isoformat()}", "with")
    blocker = schedule.rotation.unavailable(taker, index)
    if blocker is not None:
        raise EditError(f"{team.roster.name_of(taker)} cannot serve the whole stint of the week of "
                        f"{monday.isoformat()}: {blocker}", "with")
    doc.append(("swaps",), {"week": monday, "member": stint.member, "with": taker})
    return (f"{team.roster.name_of(taker)} takes {team.roster.name_of(stint.member)}'s stint of the week of "
            f"{monday.isoformat()}"), stint.member


_APPLY = {
    "add_member": _add_member, "retire_member": _retire_member, "add_absence": _add_absence,
    "remove_absence": _remove_absence, "add_override": _add_override, "swap": _swap,
    "handover": _handover,
}


# -- preview -------------------------------------------------------------------------
def _compare(before: Schedule, after: Schedule, today: date) -> list[Row]:
    window = Window(monday_of(today), COMING_WEEKS)
    stop = window.first + timedelta(weeks=COMING_WEEKS)
    old = {w.monday: _row(before, w, stop) for w in before.weeks(window)}
    new = {w.monday: _row(after, w, stop) for w in after.weeks(window)}
    return [Row(monday, old.get(monday, ()), new.get(monday, ())) for monday in sorted(old.keys() | new.keys())]


def _row(schedule: Schedule, week: Week, stop: date) -> tuple:
    name = schedule.roster.name_of
    notes = schedule.notes(week.monday, min(week.monday + timedelta(days=7), stop))
    gaps = tuple(f"{g.day.isoformat()} {name(g.scheduled)}: {g.reason}" if g.scheduled else f"{g.day.isoformat()} gap"
                 for g in notes.gaps)
    covers = tuple(sorted(f"{name(o.cover)} for {name(o.replace)} {o.start.isoformat()}..{o.end.isoformat()}"
                          for o in notes.covers))
    outgoing = week.outgoing.member if week.outgoing else None
    return (name(week.incoming.member), name(week.continuing.member), name(outgoing) if outgoing else "-", gaps, covers)


# -- fields ----------------------------------------------------------------------------
def _required(f, key) -> str:
    value = (f.get(key) or "").strip()
    if not value:
        raise EditError("this field is required", key)
    return value


def _email(f, key) -> str:
    value = _required(f, key).lower()
    if not validator.EMAIL.match(value):
        raise EditError(f"{value!r} is not an email address", key)
    return value


def _member(team, f, key) -> str:
    email = _email(f, key)
    if team.roster.member(email) is None:
        raise EditError(f"{email} is not on the roster", key)
    return email


def _on_team(team, email, first: date, last: date, key, today: date, what: str | None = None) -> None:
    """Refuse a change that needs `email` on days they are not a member."""
    member = team.roster.member(email)
    if member.off_team(first, last) is None:
        return
    if member.joined > first:
        when = f"joins on {member.joined.isoformat()}"
    else:
        when = f"{'left' if member.left < today else 'leaves'} on {member.left.isoformat()}"
    what = what or f"{first.isoformat()} to {last.isoformat()}"
    raise EditError(f"{member.name} {when}, so is not a member for all of {what}: "
                    "pick someone else or other days", key)


def _holds_a_slot(team, email, first: date, last: date) -> bool:
    """Whether `email` holds a stint on one of the days: someone who left
    in the middle of a stint that had begun still needs a cover."""
    coverage = team.schedule().coverage
    day = first
    while day <= last:
        duty = coverage.on_day(day)
        if duty is not None and any(s.scheduled == email for s in duty.slots):
            return True
        day += timedelta(days=1)
    return False


def _date(f, key, default: date | None = None) -> date:
    value = (f.get(key) or "").strip()
    if not value and default is not None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise EditError(f"{value or 'nothing'!r} is not a date (YYYY-MM-DD)", key) from None


def _span(f, today) -> tuple[date, date]:
    first, last = _date(f, "from"), _date(f, "to")
    if last < first:
        raise EditError("the last day is before the first", "to")
    if last < today:
        raise EditError("these days are in the past: the past is already recorded", "to")
    return first, last


def _member_path(team, email) -> tuple:
    """Where the member is in the file: the roster keeps the file's order."""
    for i, m in enumerate(team.roster.members):
        if m.email == email:
            return ("members", i)
    raise EditError(f"{email} is not on the roster", "email")


def _note(f) -> str:
    """The note as typed (any printable text; quoting is the file's business)."""
    return (f.get("note") or "").strip()
