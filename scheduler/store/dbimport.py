"""Moving a folder team into the database (`rota import`): the roster's
exact bytes, the record, the audit log, the notices, the trade offers, the
ticket counts, the absences imported from Google Calendar and the
announcements made, and the editors (their password hashes and session generations as they are),
all in one transaction, so a failed import leaves the database as it was.
Values are copied as the files hold them (the record's `recorded_at`, a
notice's `uncertain`), so the team reads back the same from either store."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from scheduler.errors import RotaError
from scheduler.store import dbschema as t
from scheduler.store import offers as offerlog
from scheduler.store.base import version_of
from scheduler.store.database import DatabaseStore
from scheduler.store.folder import FolderStore


def import_folder(folder: FolderStore, db: DatabaseStore, display_name: str, now: datetime) -> dict[str, int]:
    """Copy the folder team into `db`'s team, which must hold no roster yet;
    how many of each part were copied."""
    data = folder.read_roster()
    if db.roster_version() is not None:
        raise RotaError(f"the database already holds the team {db.team_id!r} (rota export gives its roster); "
                        "nothing was imported")
    record = _lines(folder, "record")
    notices = _lines(folder, "notices")
    audit = folder.read_audit()
    tickets = folder.ticket_counts()
    offers, posted = offerlog.load(folder.path("offers"))
    editors = folder.editors()._load()
    absences = folder.imported_absences()
    announced = _lines(folder, "announcements")
    with db.engine.connect() as c, c.begin():
        c.execute(db._insert(t.teams).values(id=db.team_id, name=display_name, created_at=now)
                  .on_conflict_do_update(index_elements=["id"],
                                         set_={"name": display_name, "revision": t.teams.c.revision + 1}))
        # Inserted, not merged: a team that already has a version makes this fail, and nothing is kept.
        c.execute(t.roster_versions.insert().values(
            team_id=db.team_id, number=1, version=version_of(data), text=data.decode("utf-8", "surrogateescape"),
            saved_by="rota import", saved_at=now, description=f"imported from {folder.where('roster')}"))
        if record:
            c.execute(t.record_stints.insert(), [dict(
                team_id=db.team_id, week=date.fromisoformat(r["week"]), member=r.get("member"),
                handoff=r["handoff"], recorded_at=_instant(r.get("recorded_at"), now)) for r in record])
        if audit:
            c.execute(t.audit_entries.insert(), [dict(
                team_id=db.team_id, time=_instant(a.get("time"), now), actor=a.get("actor", ""),
                system=a.get("system", ""), action=a.get("action", ""), who=a.get("who"),
                result=a.get("result", "ok"), detail=a.get("detail") or {}) for a in audit])
        if notices:
            c.execute(t.handoff_notices.insert(), [dict(
                team_id=db.team_id, week=date.fromisoformat(n["week"]), handoff=n["handoff"],
                posted_at=_instant(n.get("posted_at"), now), uncertain=bool(n.get("uncertain"))) for n in notices])
        if offers:
            # Posts already made stay made: `now` stands in for when (the file keeps it, the row needs one).
            c.execute(t.trade_offers.insert(), [dict(
                team_id=db.team_id, id=o.id, week=o.week, member=o.member, to_member=o.to, to_week=o.to_week,
                expires=o.expires.isoformat(), offered_at=o.offered_at, note=o.note, state=o.state,
                closed_by=o.closed_by, closed_at=o.closed_at,
                offer_posted_at=now if (o.id, "offer") in posted else None,
                outcome_posted_at=now if (o.id, "outcome") in posted else None) for o in offers.values()])
        if tickets:
            c.execute(t.ticket_counts.insert(), [dict(
                team_id=db.team_id, week=date.fromisoformat(week), unresolved_last_week=int(v["unresolved_last_week"]),
                as_of=str(v.get("as_of", ""))) for week, v in tickets.items()])
        if absences:
            c.execute(t.imported_absences.insert(), [dict(
                team_id=db.team_id, member=a.member, event_id=a.event_id, start_day=a.start, end_day=a.end,
                updated_at=now) for a in absences])
        if announced:
            c.execute(t.announcements.insert(), [dict(
                team_id=db.team_id, key=a["key"], text=a.get("text", ""), claimed_at=_instant(a.get("at"), now))
                for a in {a["key"]: a for a in announced if "key" in a}.values()])
        if editors:
            c.execute(t.editors.insert(), [dict(
                team_id=db.team_id, email=email, name=e.get("name", email), password_hash=e["hash"],
                generation=int(e.get("generation", 0))) for email, e in editors.items()])
    return {"record": len(record), "audit": len(audit), "notices": len(notices), "offers": len(offers),
            "tickets": len(tickets), "absences": len(absences), "editors": len(editors)}


def _lines(folder: FolderStore, part: str) -> list[dict]:
    path = folder.path(part)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError as e:
                raise RotaError(f"{path}:{number}: not valid JSON ({e}); nothing was imported") from None
    return rows


def _instant(text: str | None, default: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return default
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
