"""Build rosters for tests: as data, as YAML text, as a Schedule.

JSON is YAML, so a roster written as a dict goes through the real parser and
validator; tests that care about lines and comments write YAML by hand."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from scheduler.roster import rosterfile
from scheduler.core import Record, RecordedStint, Schedule
from scheduler.roster.holidaycal import calendar as holidays_for

START = "2027-01-04"  # a Monday


def member(name: str, **fields) -> dict:
    data = {"name": name, "email": f"{name.split()[0].lower()}@example.gov"}
    data.update(fields)
    return data


def away(start: str, end: str, note: str = "") -> dict:
    return {"from": start, "to": end, **({"note": note} if note else {})}


def team(*names_or_members, holidays="none", start=START, **top) -> dict:
    members = [m if isinstance(m, dict) else member(m) for m in names_or_members]
    data = {
        "team": "Platform experts",
        "timezone": "America/New_York",
        "rotation": {"start": start, "handoff_time": "09:00", "holidays": holidays},
        "meetings": {
            "daily_triage": {"time": "10:00", "minutes": 15},
            "weekly_review": {"time": "11:00", "minutes": 15},
        },
        "members": members,
    }
    data.update(top)
    return data


def yaml_text(data: dict) -> str:
    return json.dumps(data, indent=2) + "\n"


def parse(data: dict):
    return rosterfile.parse(yaml_text(data).encode(), "test.yaml").roster


def schedule(data: dict, record: Record | None = None) -> Schedule:
    roster = parse(data)
    return Schedule(roster, holidays_for(roster.holidays), record)


def record_of(*stints: tuple[str, str | None, datetime]) -> Record:
    return Record({date.fromisoformat(w): RecordedStint(date.fromisoformat(w), m, h) for w, m, h in stints})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def emails(names: list[str]) -> list[str]:
    return [f"{n.lower()}@example.gov" for n in names]
