"""Two processes insert the same key, each with its own content, at once (a
barrier lines them up, not a sleep). Kept apart from the tests so that the
processes start with only what they need."""

from __future__ import annotations

import multiprocessing
from datetime import date, datetime, timezone

import sqlalchemy as sa

from scheduler.store import dbengine, dbschema

TEAM = "platform"
T0 = datetime(2027, 1, 4, 14, 0, tzinfo=timezone.utc)
# claim -> (table, the row process `who` inserts, less its team)
ROWS = {
    "a record week": ("record_stints", lambda who: dict(
        week=date(2027, 1, 11), member=f"{who}@example.gov", handoff="2027-01-11T09:00:00-05:00", recorded_at=T0)),
    "a handoff notice": ("handoff_notices", lambda who: dict(
        week=date(2027, 1, 11), handoff=f"2027-01-11T09:00:00-05:00 {who}", posted_at=T0)),
    "a roster version": ("roster_versions", lambda who: dict(
        number=2, version=who, text=f"team: {who}\n", saved_by=who, saved_at=T0)),
}


def race(url: str, names: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """For each claim in ROWS, each name's outcome: "won" or "refused"."""
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(len(names)), spawn.Queue()
    workers = [spawn.Process(target=_claim_all, args=(url, who, barrier, results)) for who in names]
    for w in workers:
        w.start()
    outcomes: dict[str, dict[str, str]] = {claim: {} for claim in ROWS}
    for _ in range(len(names) * len(ROWS)):
        claim, who, outcome = results.get(timeout=60)
        outcomes[claim][who] = outcome
    for w in workers:
        w.join(timeout=60)
    return outcomes


def _claim_all(url, who, barrier, results):
    engine = dbengine.create_engine(url)
    try:
        with engine.connect() as c:
            c.execute(sa.text("SELECT 1"))  # connected before the race starts
            c.rollback()
            for claim, (table, row) in ROWS.items():
                barrier.wait(timeout=30)
                try:
                    try:
                        with c.begin():
                            c.execute(dbschema.metadata.tables[table].insert().values(team_id=TEAM, **row(who)))
                        results.put((claim, who, "won"))
                    except sa.exc.IntegrityError:
                        results.put((claim, who, "refused"))
                except Exception as e:  # reported to the test, rather than leaving it waiting for an answer
                    results.put((claim, who, f"failed: {e!r}"))
    finally:
        engine.dispose()
