"""Roster validation: a loaded YAML document in, a `Roster` out, or every
problem found, each naming the file, the line and the field.

The schema lives here: the keys each section allows, and what each value
must look like. `rosterfile` reads and writes the file; this module only
judges what was read."""

from __future__ import annotations

import difflib
import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pendulum
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from scheduler.core.model import Absence, GoogleSettings, Meeting, Member, Override, Roster, Swap, ZendeskSettings
from scheduler.errors import FileError, RosterInvalid
from scheduler.roster import holidaycal

EMAIL = re.compile(r"^[^@\s<>\"',;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SECRET = re.compile(r"token|password|secret|credential|api_?key", re.IGNORECASE)
TEAM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

DEFAULT_TRIAGE = Meeting(time(10, 0), 15)
DEFAULT_REVIEW = Meeting(time(11, 0), 15)

TOP_KEYS = ("team", "id", "timezone", "rotation", "meetings", "members", "overrides", "swaps", "zendesk", "google")
ROTATION_KEYS = ("start", "handoff_time", "holidays")
MEETING_KEYS = ("time", "minutes")
MEMBER_KEYS = ("name", "email", "joined", "left", "away", "zendesk_id")
ZENDESK_KEYS = ("url", "group", "exclusive", "ticket_groups")
GOOGLE_KEYS = ("calendar_id", "delegate", "send_updates", "out_of_office")
SEND_UPDATES = ("all", "externalOnly", "none")
URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d+)?/?$")
AWAY_KEYS = ("from", "to", "note")
OVERRIDE_KEYS = ("from", "to", "replace", "with", "note")
SWAP_KEYS = ("week", "member", "with_week", "with", "note")
SHOWN = 60  # characters of a value quoted in an error message


class BadScalar(str):
    """A scalar YAML could not turn into what its form promised (e.g. the
    date 2027-13-01); kept as text so validation can report it with its line."""


def shown(value: Any) -> str:
    """A value as an error message quotes it: cut, so that a long one cannot
    flood the terminal."""
    return cut(repr(value), SHOWN)


def cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Validator:
    def __init__(self, path: Path | str):
        self.path = path
        self.errors: list[FileError] = []

    def fail(self, line: int | None, field: str, message: str) -> None:
        self.errors.append(FileError(self.path, line, field, message))

    def roster(self, doc: Any) -> Roster:
        if not isinstance(doc, CommentedMap):
            raise RosterInvalid([FileError(self.path, 1, None, "a roster is a YAML mapping (team:, timezone:, ...)")])
        self.keys(doc, "", TOP_KEYS)
        name = self.text(doc, "team", "team")
        team_id = self.team_id(doc)
        timezone = self.timezone(doc)
        start, handoff_time, holidays = self.rotation(doc)
        triage, review = self.meetings(doc)
        members = self.members(doc, start)
        emails = {m.email for m in members}
        overrides = self.overrides(doc, {m.email: m for m in members})
        swaps = self.swaps(doc, emails, start)
        zendesk = self.zendesk(doc)
        google = self.google(doc)
        if self.errors:
            raise RosterInvalid(self.errors)
        return Roster(name, timezone, start, handoff_time, holidays, triage, review,
                      tuple(members), tuple(overrides), tuple(swaps), zendesk, google, id=team_id)

    # -- sections ----------------------------------------------------------------
    def team_id(self, doc) -> str:
        if "id" not in doc:
            return default_id(self.path)
        value = self.text(doc, "id", "id")
        if value is not None and not TEAM_ID.match(value):
            self.fail(line_of(doc, "id"), "id",
                      f"{value!r} is not a team id: lower-case letters, digits and hyphens, starting with "
                      "a letter or digit, 63 characters at most (e.g. platform-experts)")
        return value or ""

    def timezone(self, doc) -> str | None:
        zone = self.text(doc, "timezone", "timezone")
        if zone is None:
            return None
        try:
            pendulum.timezone(zone)
        except (ValueError, pendulum.tz.exceptions.TimezoneError):
            self.fail(line_of(doc, "timezone"), "timezone",
                      f"unknown time zone {shown(zone)}: use an IANA name such as America/New_York")
            return None
        return zone

    def rotation(self, doc):
        section = self.section(doc, "rotation", required=True)
        if section is None:
            return None, None, None
        self.keys(section, "rotation.", ROTATION_KEYS)
        start = self.date(section, "start", "rotation.start")
        if start is not None and start.weekday() != 0:
            self.fail(line_of(section, "start"), "rotation.start",
                      f"{start.isoformat()} is a {start:%A}; the first handoff day must be a Monday")
        handoff = self.clock(section, "handoff_time", "rotation.handoff_time")
        holidays = None
        if "holidays" in section:
            value = section["holidays"]
            if value in (None, False) or (isinstance(value, str) and value.strip().lower() in ("none", "")):
                holidays = None
            elif isinstance(value, str) and holidaycal.supported(value.strip()):
                holidays = value.strip().upper()
            else:
                self.fail(line_of(section, "holidays"), "rotation.holidays",
                          f"{shown(value)} is not a country code the holidays package knows (e.g. US, GB, DE), nor 'none'")
        return start, handoff, holidays

    def meetings(self, doc):
        section = self.section(doc, "meetings", required=False)
        if section is None:
            return DEFAULT_TRIAGE, DEFAULT_REVIEW
        self.keys(section, "meetings.", ("daily_triage", "weekly_review"))
        return (self.meeting(section, "daily_triage", DEFAULT_TRIAGE),
                self.meeting(section, "weekly_review", DEFAULT_REVIEW))

    def meeting(self, section, key, default: Meeting) -> Meeting:
        field = f"meetings.{key}"
        m = self.section(section, key, required=False, field=field)
        if m is None:
            return default
        self.keys(m, field + ".", MEETING_KEYS)
        at = self.clock(m, "time", field + ".time", default=default.at)
        minutes = self.integer(m, "minutes", field + ".minutes", 1, 480, default=default.minutes)
        return Meeting(at or default.at, minutes or default.minutes)

    def members(self, doc, start: date | None) -> list[Member]:
        seq = self.sequence(doc, "members", "members", required=True)
        if seq is None:
            return []
        if not seq:
            self.fail(line_of(doc, "members"), "members", "the roster needs at least one member")
        members, seen = [], {}
        for i, item in enumerate(seq):
            field = f"members[{i}]"
            if not self.is_map(item, seq, i, field):
                continue
            self.keys(item, field + ".", MEMBER_KEYS)
            name = self.text(item, "name", field + ".name")
            email = self.email(item, "email", field + ".email")
            if email is not None:
                if email in seen:
                    self.fail(line_of(item, "email"), field + ".email",
                              f"duplicate email {email} (also members[{seen[email]}])")
                    email = None
                else:
                    seen[email] = i
            joined = self.date(item, "joined", field + ".joined", required=False) or start
            left = self.date(item, "left", field + ".left", required=False)
            if joined and left and left < joined:
                self.fail(line_of(item, "left"), field + ".left",
                          f"left {left.isoformat()} is before joined {joined.isoformat()}")
            away = self.absences(item, field)
            zendesk_id = self.integer(item, "zendesk_id", field + ".zendesk_id", 1, 2**63 - 1, default=None)
            if name and email and joined:
                members.append(Member(name, email, joined, left, tuple(away), zendesk_id))
        return members

    def absences(self, item, field) -> list[Absence]:
        seq = self.sequence(item, "away", field + ".away", required=False)
        found = []
        for j, a in enumerate(seq or ()):
            where = f"{field}.away[{j}]"
            if not self.is_map(a, seq, j, where):
                continue
            self.keys(a, where + ".", AWAY_KEYS)
            first, last = self.span(a, where)
            note = self.text(a, "note", where + ".note", required=False) or ""
            if first and last:
                found.append(Absence(first, last, note))
        return found

    def overrides(self, doc, members: dict[str, Member]) -> list[Override]:
        seq = self.sequence(doc, "overrides", "overrides", required=False)
        found = []
        for i, o in enumerate(seq or ()):
            where = f"overrides[{i}]"
            if not self.is_map(o, seq, i, where):
                continue
            self.keys(o, where + ".", OVERRIDE_KEYS)
            first, last = self.span(o, where)
            replace = self.member_ref(o, "replace", where, members)
            cover = self.member_ref(o, "with", where, members)
            if replace and cover and replace == cover:
                self.fail(line_of(o, "with"), where + ".with", f"{cover} cannot cover for themselves")
                continue
            # `replace` may have left: covering the rest of a stint they began is
            # what such an override is for. The cover must be on the team.
            not_member = members[cover].off_team(first, last) if cover and first and last else None
            if not_member:
                self.fail(line_of(o, "with"), where + ".with",
                          f"{cover} {not_member}: whoever covers must be a member on every day "
                          f"from {first.isoformat()} to {last.isoformat()}")
                continue
            note = self.text(o, "note", where + ".note", required=False) or ""
            if first and last and replace and cover:
                found.append(Override(first, last, replace, cover, note))
        return found

    def swaps(self, doc, emails: set[str], start: date | None) -> list[Swap]:
        seq = self.sequence(doc, "swaps", "swaps", required=False)
        found = []
        for i, s in enumerate(seq or ()):
            where = f"swaps[{i}]"
            if not self.is_map(s, seq, i, where):
                continue
            self.keys(s, where + ".", SWAP_KEYS)
            week = self.week(s, "week", where, start)
            # Without `with_week` it is a handover: `member`'s stint goes to `with`.
            one_way = "with_week" not in s
            other_week = None if one_way else self.week(s, "with_week", where, start)
            member = self.member_ref(s, "member", where, emails)
            other = self.member_ref(s, "with", where, emails)
            if week and other_week and week == other_week:
                self.fail(line_of(s, "with_week"), where + ".with_week", "a swap needs two different weeks")
                continue
            if member and other and member == other:
                self.fail(line_of(s, "with"), where + ".with", "a swap needs two different members")
                continue
            note = self.text(s, "note", where + ".note", required=False) or ""
            if week and (other_week or one_way) and member and other:
                found.append(Swap(week, member, other_week, other, note))
        return found

    def zendesk(self, doc) -> ZendeskSettings | None:
        section = self.section(doc, "zendesk", required=False)
        if section is None:
            return None
        self.keys(section, "zendesk.", ZENDESK_KEYS)
        url = self.text(section, "url", "zendesk.url", required=False)
        if url is not None and not URL.match(url):
            self.fail(line_of(section, "url"), "zendesk.url",
                      f"{shown(url)} is not a base URL like https://SUBDOMAIN.zendesk.com")
        group = section.get("group")
        if isinstance(group, bool) or not isinstance(group, (int, str)) or (isinstance(group, int) and group < 1):
            self.fail(line_of(section, "group" if "group" in section else None), "zendesk.group",
                      "missing: the name (or id) of the group Tier 1 escalates to")
            group = None
        elif isinstance(group, str):
            group = self.text(section, "group", "zendesk.group")
        exclusive = section.get("exclusive", False)
        if not isinstance(exclusive, bool):
            self.fail(line_of(section, "exclusive"), "zendesk.exclusive", "expected true or false")
            exclusive = False
        ticket_groups = []
        seq = self.sequence(section, "ticket_groups", "zendesk.ticket_groups", required=False)
        for i, item in enumerate(seq or ()):
            if isinstance(item, bool) or not isinstance(item, (int, str)) or not str(item).strip():
                self.fail(seq.lc.item(i)[0] + 1, f"zendesk.ticket_groups[{i}]", "expected a group name or id")
            else:
                ticket_groups.append(item if isinstance(item, int) else str(item).strip())
        if not group:
            return None
        return ZendeskSettings(url.rstrip("/") if url else None, group, exclusive, tuple(ticket_groups))

    def google(self, doc) -> GoogleSettings | None:
        section = self.section(doc, "google", required=False)
        if section is None:
            return None
        self.keys(section, "google.", GOOGLE_KEYS)
        out_of_office = section.get("out_of_office", False)
        if not isinstance(out_of_office, bool):
            self.fail(line_of(section, "out_of_office"), "google.out_of_office", "expected true or false")
            out_of_office = False
        # Reading out-of-office events needs no shared calendar.
        calendar_id = self.text(section, "calendar_id", "google.calendar_id", required=not out_of_office)
        delegate = self.email(section, "delegate", "google.delegate") if "delegate" in section else None
        send_updates = self.text(section, "send_updates", "google.send_updates", required=False) or "none"
        if send_updates not in SEND_UPDATES:
            self.fail(line_of(section, "send_updates"), "google.send_updates",
                      f"{shown(send_updates)} is not one of {', '.join(SEND_UPDATES)}")
            send_updates = "none"
        if not (calendar_id or out_of_office):
            return None
        return GoogleSettings(calendar_id, delegate, send_updates, out_of_office)

    # -- fields ----------------------------------------------------------------------
    def keys(self, m: CommentedMap, prefix: str, allowed: tuple[str, ...]) -> None:
        for key in m:
            if key in allowed:
                continue
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else f"; expected one of: {', '.join(allowed)}"
            if SECRET.search(str(key)):
                suggestion = "; credentials never go in a roster: rota reads them from the environment"
            line = m.lc.key(key)[0] + 1 if isinstance(key, str) else line_of(m, key)
            self.fail(line, f"{prefix}{cut(str(key), SHOWN)}", f"unknown key{suggestion}")

    def section(self, m, key, required: bool, field: str | None = None) -> CommentedMap | None:
        return self.container(m, key, field or key, required, CommentedMap, "expected a mapping of keys to values")

    def sequence(self, m, key, field, required: bool) -> CommentedSeq | None:
        return self.container(m, key, field, required, CommentedSeq, "expected a list")

    def container(self, m, key, field, required: bool, kind: type, expected: str):
        if key not in m or m[key] is None:
            if required:
                self.fail(line_of(m), field, "missing")
            return None
        value = m[key]
        if not isinstance(value, kind):
            self.fail(line_of(m, key), field, expected)
            return None
        return value

    def is_map(self, item, seq, i, field) -> bool:
        if isinstance(item, CommentedMap):
            return True
        self.fail(seq.lc.item(i)[0] + 1, field, "expected a mapping (key: value, ...)")
        return False

    def text(self, m, key, field, required=True) -> str | None:
        if key not in m or m[key] is None:
            if required:
                self.fail(line_of(m), field, "missing")
            return None
        value = m[key]
        if isinstance(value, (bool, dict, list)) or not isinstance(value, (str, int, float)):
            self.fail(line_of(m, key), field, "expected text")
            return None
        value = str(value).strip()
        if not value and required:
            self.fail(line_of(m, key), field, "must not be empty")
            return None
        if CONTROL.search(value):
            self.fail(line_of(m, key), field, "must not contain line breaks or control characters")
            return None
        if len(value) > 500:
            self.fail(line_of(m, key), field, "is too long (500 characters at most)")
            return None
        return value

    def email(self, m, key, field) -> str | None:
        value = self.text(m, key, field)
        if value is None:
            return None
        if not EMAIL.match(value):
            self.fail(line_of(m, key), field, f"{shown(value)} is not an email address")
            return None
        return value.lower()

    def member_ref(self, m, key, where, emails) -> str | None:
        email = self.email(m, key, f"{where}.{key}")
        if email is not None and email not in emails:
            self.fail(line_of(m, key), f"{where}.{key}", f"{email} is not a member of this roster")
            return None
        return email

    def date(self, m, key, field, required=True) -> date | None:
        if key not in m or m[key] is None:
            if required:
                self.fail(line_of(m), field, "missing")
            return None
        value = m[key]
        if isinstance(value, datetime):
            self.fail(line_of(m, key), field, f"expected a date (YYYY-MM-DD), not a date and time: {value}")
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str) and not isinstance(value, BadScalar):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.fail(line_of(m, key), field, f"{shown(str(value))} is not a valid date (YYYY-MM-DD)")
        return None

    def span(self, m, where) -> tuple[date | None, date | None]:
        first = self.date(m, "from", where + ".from")
        last = self.date(m, "to", where + ".to")
        if first and last and last < first:
            self.fail(line_of(m, "to"), where + ".to", f"{last.isoformat()} is before from {first.isoformat()}")
            return None, None
        return first, last

    def week(self, m, key, where, start) -> date | None:
        day = self.date(m, key, f"{where}.{key}")
        if day is None or start is None:
            return None
        if day.weekday() != 0 or day < start:
            self.fail(line_of(m, key), f"{where}.{key}",
                      f"{day.isoformat()} is not the Monday of a rotation week (on or after {start.isoformat()})")
            return None
        return day

    def clock(self, m, key, field, default: time | None = None) -> time | None:
        if key not in m:
            if default is None:
                self.fail(line_of(m), field, "missing")
            return default
        value = m[key]
        match = CLOCK.match(value.strip()) if isinstance(value, str) else None
        if not match:
            self.fail(line_of(m, key), field, f"{shown(value)} is not a time of day: write it quoted, like \"09:00\"")
            return None
        return time(int(match.group(1)), int(match.group(2)))

    def integer(self, m, key, field, low, high, default: int) -> int | None:
        if key not in m:
            return default
        value = m[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(line_of(m, key), field, f"{shown(value)} is not a whole number from {low} to {high}")
            return None
        return value


def default_id(path: Path | str) -> str:
    """The team id of a roster without `id:`: its file's name without the
    extension (rosters/example.yaml: example), which renaming the team does
    not change and which already names the files beside it."""
    stem = re.sub(r"[^a-z0-9]+", "-", Path(path).stem.lower()).strip("-")
    return stem[:63].rstrip("-") or "team"


def line_of(m, key=None) -> int | None:
    """1-based line of `m[key]`'s value, or of `m` itself."""
    try:
        if key is not None and key in m:
            return m.lc.value(key)[0] + 1
        return m.lc.line + 1
    except (AttributeError, KeyError, TypeError):
        return None
