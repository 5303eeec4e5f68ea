"""What the CLI prints: the schedule's answers as tables, text and JSON.

Pure formatting: every function takes the schedule and the moment it speaks
of, and returns text or JSON-ready data. People appear by name in text and
by email in JSON (null for a gap)."""

from __future__ import annotations

from datetime import datetime

from scheduler.core import Finding, Schedule
from scheduler.core.coverage import Duty
from scheduler.core.events import support_name, when
from scheduler.core.model import LABELS, ROSTER
from scheduler.core.rotation import Week


# -- rota show -------------------------------------------------------------------
def week_data(schedule: Schedule, week: Week) -> dict:
    notes = schedule.week_notes(week)
    return {
        "start": week.monday.isoformat(),
        "handoff": week.handoff.isoformat(),
        "holiday": notes.holiday,
        "incoming": week.incoming.member,
        "continuing": week.continuing.member,
        "outgoing": week.outgoing.member if week.outgoing else None,
        "gaps": [
            {"date": g.day.isoformat(), "role": g.role, "member": g.scheduled, "reason": g.reason,
             # Only imported absences say where they come from: a typed one is the default.
             **({"source": g.absence.source} if g.absence and not g.absence.typed else {})}
            for g in notes.gaps
        ],
        "overrides": [
            {"from": o.start.isoformat(), "to": o.end.isoformat(), "replace": o.replace, "with": o.cover, "note": o.note}
            for o in notes.covers
        ],
        "recorded": week.incoming.recorded,
        "reason": week.incoming.reason,
    }


def show_json(schedule: Schedule, weeks: list[Week]) -> dict:
    return {
        "team": schedule.roster.name,
        "timezone": schedule.roster.timezone,
        "weeks": [week_data(schedule, w) for w in weeks],
    }


def show_table(schedule: Schedule, weeks: list[Week], now: datetime, explain: bool = False) -> str:
    roster = schedule.roster
    current = schedule.week_at(now) if weeks else None
    rows = []
    for week in weeks:
        data = week_data(schedule, week)
        rows.append((
            ("▶ " if week.index == current else "  ") + week.monday.isoformat(),
            f"{week.handoff:%a %H:%M %Z}",
            roster.name_of(week.incoming.member) if week.incoming.member else "GAP",
            roster.name_of(week.continuing.member) if week.continuing.member else "GAP",
            (roster.name_of(week.outgoing.member) if week.outgoing.member else "GAP") if week.outgoing else "-",
            _notes(schedule, data),
            week.incoming.reason,
        ))
    header = ("  Week of", "Handoff", "Incoming", "Continuing", "Outgoing", "Notes")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    out = [f"{support_name(roster.name)} rotation ({roster.timezone})", ""]
    for row in [header, *rows]:
        cells = [row[i].ljust(widths[i]) for i in range(5)] + [row[5]]
        out.append("  ".join(cells).rstrip())
        if explain and row is not header:
            out.append(" " * (widths[0] + 2) + f"why {row[2]}: {row[6]}")
    if not weeks:
        out.append("(no rotation weeks in this window)")
    return "\n".join(out) + "\n"


def _notes(schedule: Schedule, data: dict) -> str:
    roster, notes = schedule.roster, []
    if data["holiday"]:
        notes.append(f"{data['holiday']}: handoff moved")
    for gap in data["gaps"]:
        if gap["member"] is None:
            continue  # the GAP in the table says it
        away = LABELS.get(gap.get("source", ROSTER), "away")
        notes.append(f"{gap['date'][5:]} {roster.name_of(gap['member'])} {away}, no cover")
    for o in data["overrides"]:
        notes.append(f"{roster.name_of(o['with'])} covers {roster.name_of(o['replace'])} {o['from'][5:]}..{o['to'][5:]}")
    if data["recorded"]:
        notes.append("recorded")
    return "; ".join(notes)


# -- rota who --------------------------------------------------------------------
def who_json(schedule: Schedule, at: datetime, duty: Duty | None) -> dict:
    roster = schedule.roster
    data = {"team": roster.name, "timezone": roster.timezone, "at": at.isoformat()}
    if duty is None:
        return {**data, "on_support": [], "starts": schedule.begins.isoformat(), "next_handoff": None}
    slots = []
    for slot in duty.slots:
        slots.append({
            "email": slot.member,
            "name": roster.name_of(slot.member) if slot.member else None,
            "role": slot.role,
            "stint_week": slot.stint_week,
            "stint_start": slot.stint.start.isoformat(),
            "stint_end": slot.stint.end.isoformat(),
            "scheduled": slot.scheduled,
            "covering_for": slot.scheduled if slot.override and slot.member else None,
            "gap": slot.problem,
        })
    nxt = schedule.next_handoff(at)
    return {
        **data,
        "on_support": slots,
        "next_handoff": {
            "at": nxt.handoff.isoformat(),
            "incoming": nxt.incoming.member,
            "continuing": nxt.continuing.member,
            "outgoing": nxt.outgoing.member if nxt.outgoing else None,
        },
    }


def who_text(schedule: Schedule, at: datetime, duty: Duty | None) -> str:
    roster = schedule.roster
    local = schedule.local(at)
    if duty is None:
        return (f"{roster.name}: the rotation starts {when(schedule.begins)}; "
                f"nobody is on support at {when(local)}.\n")
    out = [f"{support_name(roster.name)} at {when(local)}:"]
    for slot in duty.slots:
        until = f"week {slot.stint_week} of 2, until {when(slot.stint.end)}"
        if slot.member is None:
            whose = f"{roster.name_of(slot.scheduled)}'s slot" if slot.scheduled else "unfilled stint"
            out.append(f"  GAP ({whose}): {slot.problem}")
            continue
        member = roster.member(slot.member)
        who = f"{roster.name_of(slot.member)} <{slot.member}>" if member else slot.member
        if slot.override is not None:
            who += f", covering for {roster.name_of(slot.scheduled)} until {slot.override.end.isoformat()}"
            until = f"{roster.name_of(slot.scheduled)}'s {until}"
        out.append(f"  {who}  ({until})")
    nxt = schedule.next_handoff(at)
    if nxt.stays_on:
        out.append(f"Next handoff {when(nxt.handoff)}: {roster.name_of(nxt.incoming.member)} stays on for another stint.")
    else:
        leaving = roster.name_of(nxt.outgoing.member) if nxt.outgoing else "nobody"
        out.append(f"Next handoff {when(nxt.handoff)}: {roster.name_of(nxt.incoming.member)} rotates in, "
                   f"{leaving} rotates out.")
    return "\n".join(out) + "\n"


# -- rota check ------------------------------------------------------------------
def check_text(path: str, findings: list[Finding], weeks: int) -> str:
    problems = [f for f in findings if f.is_problem]
    warnings = [f for f in findings if not f.is_problem]
    out = [f"{path}: {f.kind}: {f.message}" for f in problems]
    out += [f"{path}: warning ({f.kind}): {f.message}" for f in warnings]
    if problems:
        gaps = sum(f.kind == "gap" for f in problems)
        counts = [f"{gaps} gap(s) in the next {weeks} weeks"] if gaps else []
        if len(problems) > gaps:
            counts.append(f"{len(problems) - gaps} swap(s) ignored")
        out.append("; ".join(counts) + ".")
    else:
        out.append(f"OK: the roster is valid and has no gaps in the next {weeks} weeks.")
    return "\n".join(out) + "\n"
