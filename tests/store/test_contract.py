"""The Store contract (scheduler/store/base.py): every store passes this
suite unchanged. A new store joins by adding its maker to STORES.

The concurrent cases run two real processes against one store, each
opening it afresh, as cron and the web app do."""

from __future__ import annotations

import multiprocessing
import os
from datetime import date, datetime, timedelta, timezone

import pytest

from scheduler.core.model import ImportedAbsence, RecordedStint
from scheduler.errors import RotaError
from scheduler.store import ticketcounts
from scheduler.store.base import Busy, Entry, StaleVersion, Store, version_of
from scheduler.store.folder import FolderStore
from scheduler.store.offers import Offer, OfferClosed, OfferRefused
from scheduler.store.signincounts import Policy

NOW = datetime(2027, 1, 11, 14, 5, tzinfo=timezone.utc)
EST = timezone(timedelta(hours=-5))
MONDAY = date(2027, 1, 11)
WEEKS = 100  # claims each of two writers races for: enough that a claim without a lock is caught


def folder(place) -> Store:
    return FolderStore(place / "team.yaml")


def database(url) -> Store:
    from scheduler.store.database import open_database

    return open_database(url, "platform")


STORES = {"folder": folder, "sqlite": database, "postgres": database}
SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter, as a second process really is


@pytest.fixture(params=sorted(STORES))
def opener(request, tmp_path):
    """How to open the one store under test (again, in another process):
    a folder, or a database (a fresh one, its schema made by the migrations)."""
    if STORES[request.param] is folder:
        yield (request.param, tmp_path)
        return
    from scheduler.store import dbengine, migrations

    url = request.getfixturevalue(f"{request.param}_url")
    engine = dbengine.create_engine(url)
    try:
        migrations.upgrade(engine)
    finally:
        engine.dispose()
    yield (request.param, url)
    from scheduler.store.database import dispose_engines

    dispose_engines()


@pytest.fixture
def store(opener) -> Store:
    return reopen(opener)


def reopen(opener) -> Store:
    kind, place = opener
    return STORES[kind](place)


def stint(monday: date, member: str | None) -> RecordedStint:
    return RecordedStint(monday, member, datetime.combine(monday, datetime.min.time().replace(hour=9), EST))


def in_two_processes(target, opener, *args) -> list:
    """Run target(store, barrier, *args) in two processes started together;
    their results, in the order the processes were started."""
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    procs = [SPAWN.Process(target=_report, args=(i, target, opener, barrier, results, *args)) for i in range(2)]
    for p in procs:
        p.start()
    found = dict(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return [found[i] for i in range(2)]


def _report(i, target, opener, barrier, results, *args):
    try:
        results.put((i, target(reopen(opener), barrier, i, *args)))
    except BaseException as e:  # reported, to fail the test with what went wrong
        barrier.abort()
        results.put((i, f"failed: {type(e).__name__}: {e}"))


# -- the roster document: compare and swap, exact bytes -------------------------------
ROSTER = b"# who is on call\r\nteam: Platform  # display name\r\nmembers: []\r\n# caf\xc3\xa9, no newline at the end"


def test_a_new_roster_is_kept_byte_for_byte_with_its_version(store):
    assert store.roster_version() is None
    version = store.replace_roster(None, ROSTER)
    assert version == version_of(ROSTER) == store.roster_version()
    assert store.read_roster() == ROSTER  # comments, CRLF and the missing last newline kept


def test_a_read_stops_at_its_limit(store):
    store.replace_roster(None, ROSTER)
    assert store.read_roster(limit=10) == ROSTER[:10]


def test_reading_a_store_without_a_roster_names_it(store):
    with pytest.raises(RotaError) as error:
        store.read_roster()
    assert store.where("roster") in str(error.value)


def test_a_stale_version_is_refused_and_nothing_is_written(store):
    first = store.replace_roster(None, ROSTER)
    second = store.replace_roster(first, ROSTER + b"\n# theirs\n")
    called = []
    with pytest.raises(StaleVersion):
        store.replace_roster(first, ROSTER + b"\n# mine\n", before=lambda: called.append(1))
    assert called == []  # refused before anything else happens
    assert store.read_roster() == ROSTER + b"\n# theirs\n" and store.roster_version() == second
    with pytest.raises(StaleVersion):
        store.replace_roster(None, b"team: New\n")  # "there is none yet" is stale too
    assert store.roster_version() == second


def test_a_failing_before_step_leaves_the_roster_as_it_was(store):
    first = store.replace_roster(None, ROSTER)

    def before():
        raise OSError("the audit log refused")

    with pytest.raises(OSError, match="the audit log refused"):
        store.replace_roster(first, b"team: Changed\n", before=before)
    assert store.read_roster() == ROSTER and store.roster_version() == first


def test_the_before_step_runs_after_the_check_and_before_the_swap(store):
    first = store.replace_roster(None, ROSTER)
    seen = []
    store.replace_roster(first, b"team: Changed\n", before=lambda: seen.append(store.read_roster()))
    assert seen == [ROSTER] and store.read_roster() == b"team: Changed\n"


# -- the record: append-only, a week claimed once ----------------------------------------
def test_the_record_adds_only_weeks_it_lacks_and_never_rewrites_one(store):
    assert store.read_record().stints == {}
    first = [stint(MONDAY, "ada@example.gov"), stint(MONDAY + timedelta(weeks=1), None)]
    assert store.add_to_record(first, NOW) == first
    again = [stint(MONDAY, "bob@example.gov"), stint(MONDAY + timedelta(weeks=2), "cy@example.gov")]
    assert store.add_to_record(again, NOW) == again[1:]
    record = store.read_record()
    assert sorted(record.stints) == [MONDAY + timedelta(weeks=n) for n in range(3)]
    assert record.get(MONDAY) == first[0]  # the week recorded first stays as it was
    assert record.get(MONDAY + timedelta(weeks=1)).member is None


def _add_weeks(store, barrier, i):
    barrier.wait()
    won = []
    for n in range(WEEKS):
        monday = MONDAY + timedelta(weeks=n)
        if store.add_to_record([stint(monday, f"writer{i}@example.gov")], NOW):
            won.append(n)
    return won


def test_two_processes_recording_the_same_weeks_each_week_is_recorded_once(opener):
    won = in_two_processes(_add_weeks, opener)
    assert sorted(won[0] + won[1]) == list(range(WEEKS))  # every week by exactly one of them
    record = reopen(opener).read_record()
    for i, weeks in enumerate(won):
        for n in weeks:
            assert record.get(MONDAY + timedelta(weeks=n)).member == f"writer{i}@example.gov"


# -- the audit log: append-only ---------------------------------------------------------
def test_the_audit_log_is_appended_to_and_read_back_in_order(store):
    assert store.read_audit() == []
    store.append_audit([Entry("zendesk", "add", "ada@example.gov", detail={"group": 1})], actor="rota run", now=NOW)
    before = store.read_audit()
    store.append_audit([Entry("roster", "swap", "bob@example.gov", "not saved: disk full"),
                        Entry("google", "create", None)], actor="ed@example.gov", now=NOW + timedelta(hours=1))
    store.append_audit([], actor="nobody", now=NOW)
    log = store.read_audit()
    assert log[:1] == before  # an entry once written never changes
    assert log == [
        {"time": "2027-01-11T14:05:00+00:00", "actor": "rota run", "system": "zendesk", "action": "add",
         "who": "ada@example.gov", "result": "ok", "detail": {"group": 1}},
        {"time": "2027-01-11T15:05:00+00:00", "actor": "ed@example.gov", "system": "roster", "action": "swap",
         "who": "bob@example.gov", "result": "not saved: disk full", "detail": {}},
        {"time": "2027-01-11T15:05:00+00:00", "actor": "ed@example.gov", "system": "google", "action": "create",
         "who": None, "result": "ok", "detail": {}},
    ]


# -- handoff notices: claimed once --------------------------------------------------------
def test_a_notice_is_claimed_once_and_an_uncertain_one_counts(store):
    handoff = datetime(2027, 1, 11, 9, tzinfo=EST)
    assert store.posted_notices() == set()
    assert store.claim_notice(MONDAY, handoff, NOW) is True
    assert store.claim_notice(MONDAY, handoff, NOW + timedelta(minutes=30)) is False
    later = MONDAY + timedelta(weeks=1)
    assert store.claim_notice(later, handoff + timedelta(weeks=1), NOW, uncertain=True) is True
    assert store.claim_notice(later, handoff + timedelta(weeks=1), NOW) is False
    assert store.posted_notices() == {MONDAY, later}


def _claim_notices(store, barrier, i):
    barrier.wait()
    return [n for n in range(WEEKS) if store.claim_notice(MONDAY + timedelta(weeks=n),
                                                       datetime(2027, 1, 11, 9, tzinfo=EST) + timedelta(weeks=n), NOW)]


def test_two_processes_claiming_the_same_notices_each_is_claimed_once(opener):
    won = in_two_processes(_claim_notices, opener)
    assert sorted(won[0] + won[1]) == list(range(WEEKS))
    assert reopen(opener).posted_notices() == {MONDAY + timedelta(weeks=n) for n in range(WEEKS)}


# -- trade offers: closed once, expired by the clock passed in ----------------------------
HANDOFF = datetime(2027, 1, 25, 9, tzinfo=EST)  # the offered stint begins: the offer ends


def offer(n: int = 0, member: str = "ada@example.gov", to: str | None = None, to_week: date | None = None,
          week: date = date(2027, 1, 25)) -> Offer:
    return Offer(f"offer{n:04d}", week, member, to, to_week, HANDOFF, NOW, note="dentist" if n == 0 else "")


def test_an_offer_is_kept_and_read_back_and_expires_when_its_stint_begins(store):
    assert store.offers() == []
    swap = store.add_offer(offer(0, to="bob@example.gov", to_week=date(2027, 2, 8)))
    store.add_offer(offer(1, member="cy@example.gov"))
    first, second = store.offers()
    assert first == swap and first.is_swap and (first.to, first.to_week) == ("bob@example.gov", date(2027, 2, 8))
    assert first.note == "dentist" and first.expires == HANDOFF and first.offered_at == NOW
    assert (second.to, second.to_week, second.state) == (None, None, "open")
    assert first.status(HANDOFF - timedelta(seconds=1)) == "open"
    assert first.status(HANDOFF) == "expired"
    with pytest.raises(OfferClosed, match="expired: the stint of the week of 2027-01-25 has begun"):
        store.close_offer(first.id, "accepted", "bob@example.gov", HANDOFF)
    assert store.offers()[0].state == "open"  # nothing was written


def test_one_stint_is_on_offer_once_at_a_time(store):
    store.add_offer(offer(0))
    with pytest.raises(OfferRefused, match="the stint of the week of 2027-01-25 is already on offer"):
        store.add_offer(offer(1, to="bob@example.gov", to_week=date(2027, 2, 8)))
    store.add_offer(offer(2, week=date(2027, 2, 8)))  # another stint of hers
    store.close_offer("offer0000", "withdrawn", "ada@example.gov", NOW)
    store.add_offer(offer(3))  # offered again once the first is withdrawn
    assert [o.id for o in store.offers()] == ["offer0000", "offer0002", "offer0003"]


def test_an_offer_is_closed_once_and_the_second_is_told_by_whom(store):
    store.add_offer(offer(0))
    closed = store.close_offer("offer0000", "taken", "bob@example.gov", NOW + timedelta(hours=1))
    assert (closed.state, closed.closed_by, closed.closed_at) == ("taken", "bob@example.gov", NOW + timedelta(hours=1))
    with pytest.raises(OfferClosed, match="already taken by bob@example.gov") as refused:
        store.close_offer("offer0000", "taken", "cy@example.gov", NOW + timedelta(hours=2))
    assert refused.value.offer == closed
    assert store.offers() == [closed] and closed.status(HANDOFF) == "taken"  # closed is not expired
    with pytest.raises(OfferClosed, match="no such offer"):
        store.close_offer("nosuchoffer", "withdrawn", "ada@example.gov", NOW)


def test_closing_an_offer_in_a_refused_roster_save_leaves_it_open(store):
    first = store.replace_roster(None, ROSTER)
    store.replace_roster(first, ROSTER + b"\n# theirs\n")
    store.add_offer(offer(0))
    with pytest.raises(StaleVersion):
        store.replace_roster(first, b"team: Mine\n",
                             before=lambda: store.close_offer("offer0000", "taken", "bob@example.gov", NOW))
    assert store.offers()[0].state == "open"
    version = store.roster_version()
    store.replace_roster(version, b"team: Mine\n",
                         before=lambda: store.close_offer("offer0000", "taken", "bob@example.gov", NOW))
    assert store.offers()[0].closed_by == "bob@example.gov" and store.read_roster() == b"team: Mine\n"


def test_an_offer_closed_by_someone_else_refuses_the_roster_save_it_was_part_of(store):
    version = store.replace_roster(None, ROSTER)
    store.add_offer(offer(0))
    store.close_offer("offer0000", "withdrawn", "ada@example.gov", NOW)
    with pytest.raises(OfferClosed, match="already withdrawn by ada@example.gov"):
        store.replace_roster(version, b"team: Mine\n",
                             before=lambda: store.close_offer("offer0000", "taken", "bob@example.gov", NOW))
    assert store.read_roster() == ROSTER


OFFERS = 40  # offers two takers race for


def _take_offers(store, barrier, i):
    barrier.wait()
    won = []
    for n in range(OFFERS):
        try:
            store.close_offer(f"offer{n:04d}", "taken", f"taker{i}@example.gov", NOW)
            won.append(n)
        except OfferClosed as e:
            assert "already taken by taker" in str(e)
    return won


def test_two_processes_taking_the_same_offers_each_is_taken_once(opener, store):
    for n in range(OFFERS):
        store.add_offer(offer(n, week=MONDAY + timedelta(weeks=n)))
    won = in_two_processes(_take_offers, opener)
    assert sorted(won[0] + won[1]) == list(range(OFFERS))  # each offer by exactly one of them
    for o in reopen(opener).offers():
        n = int(o.id[5:])
        assert o.closed_by == f"taker{0 if n in won[0] else 1}@example.gov"


def _claim_posts(store, barrier, i):
    barrier.wait()
    return [(n, what) for n in range(OFFERS) for what in ("offer", "outcome")
            if store.claim_offer_post(f"offer{n:04d}", what, NOW)]


def test_what_is_posted_about_an_offer_is_claimed_once(opener, store):
    assert store.claim_offer_post("offer0000", "offer", NOW) is False  # no such offer
    for n in range(OFFERS):
        store.add_offer(offer(n, week=MONDAY + timedelta(weeks=n)))
    assert store.claim_offer_post("offer0000", "offer", NOW) is True
    assert store.claim_offer_post("offer0000", "offer", NOW) is False
    won = in_two_processes(_claim_posts, opener)
    assert sorted(won[0] + won[1]) == [(n, w) for n in range(OFFERS) for w in ("offer", "outcome")
                                       if (n, w) != (0, "offer")]


# -- absences imported from Google Calendar, announcements -------------------------------
def test_imported_absences_are_kept_moved_and_dropped_by_member_and_event(store):
    ada = ImportedAbsence("ada@example.gov", "ooo1", date(2027, 3, 8), date(2027, 3, 12))
    grace = ImportedAbsence("grace@example.gov", "ooo1", date(2027, 3, 1), date(2027, 3, 1))
    assert store.imported_absences() == []
    assert store.keep_imported_absence(ada, NOW) is True
    assert store.keep_imported_absence(grace, NOW) is True  # the same event id in another calendar is another
    assert store.keep_imported_absence(ada, NOW + timedelta(minutes=5)) is False  # unchanged
    moved = ImportedAbsence("ada@example.gov", "ooo1", date(2027, 3, 15), date(2027, 3, 16))
    assert store.keep_imported_absence(moved, NOW) is True
    assert sorted(store.imported_absences(), key=lambda a: a.member) == [moved, grace]
    assert store.drop_imported_absence("ada@example.gov", "ooo1", NOW) is True
    assert store.drop_imported_absence("ada@example.gov", "ooo1", NOW) is False
    assert store.imported_absences() == [grace]


def test_an_announcement_is_claimed_once(store):
    assert store.claim_announcement("k1", "Ada is out of office", NOW) is True
    assert store.claim_announcement("k1", "Ada is out of office", NOW + timedelta(minutes=5)) is False
    assert store.claim_announcement("k2", "Grace now starts", NOW) is True


def _claim_announcements(store, barrier, i):
    barrier.wait()
    return [n for n in range(WEEKS) if store.claim_announcement(f"key-{n}", f"change {n}", NOW)]


def test_two_processes_claiming_the_same_announcements_each_is_claimed_once(opener):
    won = in_two_processes(_claim_announcements, opener)
    assert sorted(won[0] + won[1]) == list(range(WEEKS))


# -- the run lock -------------------------------------------------------------------------
def _hold_lock(opener, held, release, crash):
    store = reopen(opener)
    with store.run_lock(holder={"pid": os.getpid(), "since": NOW.isoformat()}):
        held.set()
        release.wait(60)
        if crash:
            os._exit(3)  # dies holding it: no cleanup runs


@pytest.mark.parametrize("crash", [False, True], ids=["released on exit", "released when the holder dies"])
def test_the_run_lock_names_its_holder_and_is_released(opener, store, crash):
    held, release = SPAWN.Event(), SPAWN.Event()
    holder = SPAWN.Process(target=_hold_lock, args=(opener, held, release, crash))
    holder.start()
    try:
        assert held.wait(60)
        with pytest.raises(Busy) as busy:
            with store.run_lock(holder={"pid": os.getpid(), "since": NOW.isoformat()}):
                pytest.fail("took a lock someone else holds")
        assert busy.value.holder == {"pid": holder.pid, "since": NOW.isoformat()}
    finally:
        release.set()
        holder.join(60)
    assert holder.exitcode == (3 if crash else 0)
    with store.run_lock(holder={"pid": os.getpid(), "since": NOW.isoformat()}):
        pass  # free again


# -- editors ------------------------------------------------------------------------------
PASSWORD = "correct horse battery"


def test_editors_are_added_listed_checked_and_removed(store):
    editors = store.editors()
    assert editors.list() == [] and editors.get("ed@example.gov") is None
    added = editors.add(" Ed@Example.gov ", PASSWORD, "Ed Itor")
    assert (added.email, added.name) == ("ed@example.gov", "Ed Itor")
    editors.add("flo@example.gov", PASSWORD)
    again = store.editors()  # what one reader writes, the next reads
    assert [(e.email, e.name) for e in again.list()] == [("ed@example.gov", "Ed Itor"), ("flo@example.gov", "flo@example.gov")]
    assert again.verify("ed@example.gov", PASSWORD).name == "Ed Itor"
    assert again.verify("ed@example.gov", PASSWORD + "!") is None
    assert again.verify("nobody@example.gov", PASSWORD) is None
    with pytest.raises(RotaError):
        again.add("short@example.gov", "too short")
    assert again.remove("FLO@example.gov") is True and again.remove("flo@example.gov") is False
    assert [e.email for e in store.editors().list()] == ["ed@example.gov"]


def test_an_editor_without_a_password_is_kept_and_no_password_signs_them_in(store):
    editors = store.editors()
    added = editors.add("Sso@Example.gov", None, "Sam")
    assert (added.email, added.name) == ("sso@example.gov", "Sam")
    again = store.editors()
    assert again.get("sso@example.gov").name == "Sam" and [e.email for e in again.list()] == ["sso@example.gov"]
    for guess in ("", PASSWORD, "None"):
        assert again.verify("sso@example.gov", guess) is None


def test_a_new_password_and_ending_sessions_bump_the_session_generation(store):
    editors = store.editors()
    first = editors.add("ed@example.gov", PASSWORD, "Ed Itor").generation
    second = editors.add("ed@example.gov", PASSWORD + " two").generation
    assert second > first
    assert editors.verify("ed@example.gov", PASSWORD) is None  # the old password is gone
    editors.end_sessions("ed@example.gov")
    editor = store.editors().get("ed@example.gov")
    assert editor.generation > second and editor.name == "Ed Itor"  # the name stays through a new password


# -- kept ticket counts -------------------------------------------------------------------
def test_ticket_counts_are_kept_per_week_for_the_newest_weeks(store):
    assert store.ticket_counts() == {}
    assert store.keep_ticket_count(MONDAY, 4, NOW) is True
    assert store.keep_ticket_count(MONDAY, 4, NOW + timedelta(hours=1)) is False
    assert store.ticket_counts() == {"2027-01-11": {"unresolved_last_week": 4, "as_of": "2027-01-11T14:05+00:00"}}
    for n in range(1, ticketcounts.KEEP + 1):
        store.keep_ticket_count(MONDAY + timedelta(weeks=n), n, NOW)
    kept = store.ticket_counts()
    assert "2027-01-11" not in kept and len(kept) == ticketcounts.KEEP
    assert kept[(MONDAY + timedelta(weeks=ticketcounts.KEEP)).isoformat()]["unresolved_last_week"] == ticketcounts.KEEP


# -- sign-in failure counts ------------------------------------------------------------
TRIES = 200  # failures each of two processes counts at once
POLICY = {"account": Policy(free=2 * TRIES + 1, first_wait=60, max_wait=60, forget=3600)}
KEY = [("account", "ed@example.gov")]


def _fail_at_once(store, barrier, i):
    counts = store.signin_failures(POLICY, max_entries=100)
    barrier.wait()
    return [counts.attempt(KEY, 1000.0) for _ in range(TRIES)]


def test_two_processes_counting_failures_lose_none(opener):
    waits = in_two_processes(_fail_at_once, opener)
    assert waits == [[0.0] * TRIES, [0.0] * TRIES]  # all free
    counts = reopen(opener).signin_failures(POLICY, max_entries=100)
    assert counts.attempt(KEY, 1000.0) == 0.0  # the last free one...
    assert counts.attempt(KEY, 1000.0) == 60.0  # ...so every failure before it was counted, and now it waits


def test_a_right_password_takes_its_attempt_back(store):
    counts = store.signin_failures({"account": Policy(free=1, first_wait=60, max_wait=60, forget=3600)}, 100)
    assert counts.attempt(KEY, 1000.0) == 0.0
    counts.succeeded(KEY, 1000.0)
    assert counts.attempt(KEY, 1000.0) == 0.0
    assert counts.attempt(KEY, 1000.0) == 60.0


# -- the stamp caches key on ------------------------------------------------------------
def test_the_stamp_changes_with_the_roster_the_record_the_ticket_counts_and_imported_absences(store):
    version = store.replace_roster(None, ROSTER)
    seen = [store.stamp()]
    assert store.stamp() == seen[0]  # nothing changed
    absence = ImportedAbsence("ada@example.gov", "ooo1", date(2027, 3, 8), date(2027, 3, 12))
    moved = ImportedAbsence("ada@example.gov", "ooo1", date(2027, 3, 9), date(2027, 3, 12))
    other = ImportedAbsence("grace@example.gov", "ooo2", date(2027, 3, 9), date(2027, 3, 9))
    for change in (lambda: store.replace_roster(version, b"team: Changed\n"),
                   lambda: store.add_to_record([stint(MONDAY, None)], NOW),
                   lambda: store.keep_ticket_count(MONDAY, 3, NOW),
                   lambda: store.keep_imported_absence(absence, NOW),
                   lambda: store.keep_imported_absence(moved, NOW),
                   lambda: store.keep_imported_absence(other, NOW),
                   lambda: store.drop_imported_absence(absence.member, absence.event_id, NOW)):
        change()
        assert store.stamp() not in seen
        seen.append(store.stamp())
    changed = store.changed_at()
    assert changed.tzinfo is not None and changed.utcoffset() == timedelta(0) and changed.microsecond == 0


def test_the_time_of_change_never_goes_back_when_an_imported_absence_is_removed(store):
    """The feeds' DTSTAMP and Last-Modified: a calendar that asks "changed
    since?" after a removal must be told yes."""
    store.replace_roster(None, ROSTER)
    absence = ImportedAbsence("ada@example.gov", "ooo1", date(2027, 3, 8), date(2027, 3, 12))
    later = datetime.now(timezone.utc) + timedelta(days=400)  # after the roster's save, on any store
    store.keep_imported_absence(absence, later)
    kept = store.changed_at()
    store.drop_imported_absence(absence.member, absence.event_id, later + timedelta(hours=1))
    assert store.changed_at() >= kept
