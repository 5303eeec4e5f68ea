"""Changes to a roster made through the web page, applied to the round-trip
document so that comments and order survive, and checked by the same rules
as the roster file before anything is written.

Each change is a kind and the form's fields (strings). `plan_edit` turns
them into a new document and a preview of what the change does to the
coming weeks; `save_edit` records the stints that have begun, writes the
file (refusing if it changed since the editor loaded it) and appends the
change to the audit log with the editor's name.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from . import auditlog, holidaycal, rosterfile
from .core import Record, Schedule, Window, monday_of
from .core.calendar import day_of
from .core.rotation import Week
from .errors import RosterInvalid, RotaError, StaleVersion
from .team import Team

KINDS = ("add_member", "retire_member", "add_absence", "remove_absence", "add_override", "swap")
PREVIEW_WEEKS = 12


class EditError(RotaError):
    """A change the form must refuse; `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


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
    document: CommentedMap
    rows: list[Row] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what the change does to swaps

    @property
    def changed_rows(self) -> list[Row]:
        return [r for r in self.rows if r.changed]


def plan_edit(team: Team, kind: str, fields: dict[str, str], now: datetime) -> Edit:
    if kind not in KINDS:
        raise EditError(f"unknown change {kind!r}")
    today = team.schedule().calendar.local_date(now)
    document = copy.deepcopy(team.roster_file.document)
    description, who = _APPLY[kind](team, document, fields, today, now)
    try:
        new = rosterfile.parse(rosterfile.dump(document), team.path)
    except RosterInvalid as e:
        first = e.errors[0]
        raise EditError(f"{first.field}: {first.detail}" if first.field else first.detail) from None
    edit = Edit(kind, dict(fields), description, who, document)
    record = _as_saved(team, now)
    after = Schedule(new.roster, holidaycal.calendar(new.roster.holidays), record)
    before = Schedule(team.roster, holidaycal.calendar(team.roster.holidays), record)
    edit.warnings = _check_swaps(kind, before, after)
    edit.rows = _compare(team.schedule(), after, today)
    return edit


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
    if kind == "swap" and refused:
        raise EditError(refused[0].message, "week")
    return [f.message for f in new]


def save_edit(team: Team, edit: Edit, version: str, editor, now: datetime) -> Team:
    """Write the edit if the roster is still at `version`; returns the team
    as saved. `editor` (an `editors.Editor`) signs the audit log entry."""
    if version != team.roster_file.version:
        raise StaleVersion("Someone else changed the roster since you loaded it: nothing was saved. "
                           "Look at the roster as it is now and make your change again.")
    team.record_begun(now, now)  # the past is fixed before the roster changes
    saved = rosterfile.save(team.roster_file, edit.document)
    auditlog.append(auditlog.path_for(team.path), [
        auditlog.Entry("roster", edit.kind, edit.who, "ok",
                       {"change": edit.description, "editor": editor.name, **edit.fields}),
    ], actor=editor.email, now=now)
    return Team(saved, team.record)


# -- the changes ---------------------------------------------------------------------
def _add_member(team, doc, f, today, now):
    name = _required(f, "name")
    email = _email(f, "email")
    if team.roster.member(email):
        raise EditError(f"{email} is already on the roster", "email")
    joined = _date(f, "joined", default=today)
    entry = CommentedMap([("name", name), ("email", email), ("joined", joined)])
    doc["members"].append(entry)
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
    _member_entry(doc, email)["left"] = left
    return f"retire {team.roster.name_of(email)}: last day {left.isoformat()}", email


def _add_absence(team, doc, f, today, now):
    email = _member(team, f, "email")
    first, last = _span(f, today)
    _on_team(team, email, first, last, "email", today)
    entry = _member_entry(doc, email)
    if "away" not in entry or entry["away"] is None:
        entry["away"] = CommentedSeq()
    item = _flow([("from", first), ("to", last)] + ([("note", f["note"].strip())] if f.get("note", "").strip() else []))
    entry["away"].append(item)
    return f"{team.roster.name_of(email)} away {first.isoformat()} to {last.isoformat()}", email


def _remove_absence(team, doc, f, today, now):
    email = _member(team, f, "email")
    first, last = _date(f, "from"), _date(f, "to")
    away = _member_entry(doc, email).get("away") or []
    for i, item in enumerate(away):
        if _as_date(item.get("from")) == first and _as_date(item.get("to")) == last:
            del away[i]
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
    if "overrides" not in doc or doc["overrides"] is None:
        doc["overrides"] = CommentedSeq()
    note = f.get("note", "").strip()
    doc["overrides"].append(_flow([("from", first), ("to", last), ("replace", replace), ("with", cover)]
                                  + ([("note", note)] if note else [])))
    return (f"{team.roster.name_of(cover)} covers for {team.roster.name_of(replace)} "
            f"{first.isoformat()} to {last.isoformat()}"), replace


def _swap(team, doc, f, today, now):
    schedule = team.schedule()
    weeks = []
    for key in ("week", "with_week"):
        monday = _date(f, key)
        index = schedule.calendar.week_index(monday)
        if index is None or index < 0:
            raise EditError(f"{monday.isoformat()} is not the Monday of a rotation week", key)
        stint = schedule.rotation.stint(index)
        if stint.start <= now:
            raise EditError(f"the stint of the week of {monday.isoformat()} has begun: only upcoming stints can swap", key)
        if stint.member is None:
            raise EditError(f"the week of {monday.isoformat()} is a gap: add an override instead", key)
        weeks.append((monday, stint.member))
    (week, member), (other_week, other) = weeks
    if week == other_week or member == other:
        raise EditError("pick two upcoming stints held by two different people", "with_week")
    for email, monday, key in ((member, other_week, "with_week"), (other, week, "week")):
        stint = schedule.rotation.stint(schedule.calendar.week_index(monday))
        _on_team(team, email, day_of(stint.start), day_of(stint.end) - timedelta(days=1), key, today,
                 f"the stint of the week of {monday.isoformat()}")
    if "swaps" not in doc or doc["swaps"] is None:
        doc["swaps"] = CommentedSeq()
    doc["swaps"].append(_flow([("week", week), ("member", member), ("with_week", other_week), ("with", other)]))
    return (f"{team.roster.name_of(member)} (week of {week.isoformat()}) and {team.roster.name_of(other)} "
            f"(week of {other_week.isoformat()}) trade stints"), member


_APPLY = {
    "add_member": _add_member, "retire_member": _retire_member, "add_absence": _add_absence,
    "remove_absence": _remove_absence, "add_override": _add_override, "swap": _swap,
}


# -- preview -------------------------------------------------------------------------
def _compare(before: Schedule, after: Schedule, today: date) -> list[Row]:
    window = Window(monday_of(today), PREVIEW_WEEKS)
    stop = window.first + timedelta(weeks=PREVIEW_WEEKS)
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
    if not rosterfile.EMAIL.match(value):
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


def _member_entry(doc, email) -> CommentedMap:
    for entry in doc["members"]:
        if str(entry.get("email", "")).lower() == email:
            return entry
    raise EditError(f"{email} is not on the roster", "email")


def _flow(pairs) -> CommentedMap:
    item = CommentedMap(pairs)
    item.fa.set_flow_style()  # one line, like the entries people write by hand
    return item


def _as_date(value):
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None
