"""The `rota` command: a thin shell over the core.

It reads the clock once, turns arguments into values, asks the schedule,
prints the answer, and maps errors to one line on stderr and an exit code:
0 fine, 1 problems found (gaps, a sync that did not converge), 2 bad input.
Modules that talk to outside systems are imported only by the commands
that use them, so `rota who` starts fast.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pendulum

from scheduler.core import Schedule, Window, monday_of
from scheduler.core.schedule import WEEKS_AHEAD
from scheduler.core.events import when
from scheduler.errors import RotaError, ServiceError, os_error_line
from scheduler.settings import Settings

DEFAULT_ROSTER = "rosters/example.yaml"
MAX_WEEKS = 52 * 20
# How far ahead of the clock a command that writes may act: a cron job that
# fires a little early, or a clock a little behind, is still acting now.
LEEWAY = timedelta(minutes=5)


def command() -> int:
    """The `rota` program (pyproject's [project.scripts], `python -m scheduler`):
    `main`, in a process that is about to end."""
    code = main()
    # Tearing the interpreter down collects garbage over every object the
    # imported libraries made, several times: 0.2-0.3 s of a 1 s `rota run`
    # once SQLAlchemy, psycopg and both API clients are loaded. Those
    # collections skip frozen objects; atexit handlers (which close database
    # connections and flush logs) still run. Not in `main`: tests call it
    # in-process, and would keep every object it made.
    gc.freeze()
    return code


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    now = pendulum.now("UTC")  # the only clock read; everything below takes it as a value
    try:
        settings = Settings.from_env()  # the only read of the environment, likewise
        return args.run(args, now, settings)
    except RotaError as e:
        print(f"rota: {e}", file=sys.stderr)
        return e.exit_code
    except OSError as e:  # a file rota had to read or write: say which and why
        print(f"rota: {os_error_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # `rota show | head`: the reader left, nothing to report
        return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rota", description="A staggered two-week pair rotation for a support team.")
    p.add_argument("--version", action="version", version=f"rota {__import__('scheduler').__version__}")
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _reading_commands(commands)
    _writing_commands(commands)
    _serving_commands(commands)
    _sync_commands(commands)
    _db_commands(commands)
    return p


def _reading_commands(commands) -> None:
    """The rotation as it stands: nothing is written but a feed file asked for."""
    show = commands.add_parser("show", help="the rotation week by week")
    _roster_arg(show)
    _window_args(show)
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.add_argument("--explain", action="store_true", help="say why each person was picked")
    show.set_defaults(run=cmd_show)

    who = commands.add_parser("who", help="who is on support at an instant")
    _roster_arg(who)
    who.add_argument("--at", metavar="DATETIME", help="ISO 8601; without an offset, the roster's local time (default: now)")
    who.add_argument("--format", choices=("text", "json"), default="text")
    who.set_defaults(run=cmd_who)

    feed = commands.add_parser("ics", help="an ICS feed of the rotation and meetings")
    _roster_arg(feed)
    feed.add_argument("--member", metavar="EMAIL", help="only this member's stints and meetings")
    _window_args(feed)
    feed.add_argument("-o", "--output", metavar="FILE", help="write here (atomically) instead of stdout")
    feed.set_defaults(run=cmd_ics)

    check = commands.add_parser("check", help="validate the roster and report gaps ahead (exit 1 on any)")
    _roster_arg(check)
    check.add_argument("--weeks", type=_weeks, default=WEEKS_AHEAD, metavar="N", help=f"how far ahead (default {WEEKS_AHEAD})")
    check.add_argument("--at", metavar="DATETIME", help="check as of this instant (default: now)")
    check.set_defaults(run=cmd_check)

    fair = commands.add_parser("report", help="each member's share of support: is the load fair? (and days per month)")
    _roster_arg(fair)
    fair.add_argument("--from", dest="start", type=_date, metavar="DATE",
                      help="first day (default: 12 months before --at)")
    fair.add_argument("--to", dest="end", type=_date, metavar="DATE",
                      help="last day, included (default: 6 months after --at)")
    fair.add_argument("--at", metavar="DATETIME", help="days up to this instant come from the record (default: now)")
    fair.add_argument("--monthly", action="store_true", help="support days per member and calendar month")
    fair.add_argument("--format", choices=("table", "csv", "json"), default="table")
    fair.add_argument("-o", "--output", metavar="FILE", help="write here (atomically) instead of stdout")
    fair.set_defaults(run=cmd_report)


def _writing_commands(commands) -> None:
    """What a handoff does: the record, and everything `rota run` drives."""
    record = commands.add_parser("record", help="record every stint begun by an instant")
    _roster_arg(record)
    record.add_argument("--at", metavar="DATETIME", help="default: now")
    record.set_defaults(run=cmd_record)

    run = commands.add_parser("run", help="everything a handoff needs: record, syncs, tickets, notice")
    _roster_arg(run)
    run.add_argument("--at", metavar="DATETIME", help="act as of this instant (default: now)")
    run.add_argument("--apply", action="store_true", help="make the changes (default: say what would change)")
    run.add_argument("--deadline", type=_deadline, metavar="SECONDS",
                     help="stop asking outside systems after this long; steps not started are skipped (default 240)")
    run.add_argument("--every", type=_every, metavar="SECONDS",
                     help="run again every SECONDS (at least 60) in this one process until stopped: for a host "
                          "with no scheduler (a Cloud Foundry worker)")
    run.set_defaults(run=cmd_run)

    tickets = commands.add_parser("tickets", help="tickets that break the team's status rules (exit 1 on any)")
    _roster_arg(tickets)
    tickets.add_argument("--at", metavar="DATETIME", help="check as of this instant (default: now)")
    tickets.add_argument("--format", choices=("text", "json"), default="text")
    tickets.set_defaults(run=cmd_tickets)


def _serving_commands(commands) -> None:
    """The web page and the people who may edit on it."""
    serve = commands.add_parser("serve", help="the web page: who is on support, feeds, roster editing")
    _roster_arg(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.set_defaults(run=cmd_serve)

    user = commands.add_parser("user", help="manage the editors of the web page")
    actions = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add an editor (or, with --reset-password, give one a new password)")
    add.add_argument("email")
    add.add_argument("--name", help="shown on the page and in the audit log")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin (for scripts)")
    add.add_argument("--reset-password", action="store_true", help="give an existing editor a new password")
    add.add_argument("--sso", action="store_true",
                     help="no password: the editor signs in through the organisation's provider (ROTA_OIDC_ISSUER)")
    _roster_arg(add)
    add.set_defaults(run=cmd_user_add)
    remove = actions.add_parser("remove", help="remove an editor")
    remove.add_argument("email")
    _roster_arg(remove)
    remove.set_defaults(run=cmd_user_remove)
    listing = actions.add_parser("list", help="list the editors")
    _roster_arg(listing)
    listing.set_defaults(run=cmd_user_list)


def _sync_commands(commands) -> None:
    sync = commands.add_parser("sync", help="make an outside system match the rotation (dry run unless --apply)")
    systems = sync.add_subparsers(dest="system", required=True, metavar="SYSTEM")
    zendesk = systems.add_parser("zendesk", help="the escalation group holds exactly the pair on support")
    _roster_arg(zendesk)
    zendesk.add_argument("--at", metavar="DATETIME", help="sync for this instant (default: now)")
    zendesk.add_argument("--apply", action="store_true", help="make the changes (default: print the plan only)")
    zendesk.add_argument("--force", action="store_true", help="allow a plan that would empty the group")
    zendesk.set_defaults(run=cmd_sync_zendesk)

    gcal = systems.add_parser("gcal", help="a shared Google calendar holds the rotation and meetings")
    _roster_arg(gcal)
    _weeks_args(gcal)
    gcal.add_argument("--apply", action="store_true", help="make the changes (default: print the plan only)")
    gcal.add_argument("--force", action="store_true", help="allow deleting more than a quarter of the window's events")
    gcal.set_defaults(run=cmd_sync_gcal)

    absences = systems.add_parser("absences", help="members' out-of-office events in Google Calendar become absences")
    _roster_arg(absences)
    _weeks_args(absences)
    absences.add_argument("--apply", action="store_true", help="keep the changes (default: print the plan only)")
    absences.set_defaults(run=cmd_sync_absences)


def _db_commands(commands) -> None:
    db = commands.add_parser("db", help="the database store ($ROTA_DATABASE_URL, $DATABASE_URL or a bound aws-rds)")
    db_actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = db_actions.add_parser("upgrade", help="create the schema, or migrate it to this version of rota")
    upgrade.set_defaults(run=cmd_db_upgrade)

    moving = commands.add_parser("import", help="move a folder team (roster, record, audit, notices, editors) "
                                                "into the database")
    _roster_arg(moving)
    moving.set_defaults(run=cmd_import)
    export = commands.add_parser("export", help="the current roster, byte for byte as kept")
    _roster_arg(export)
    export.add_argument("-o", "--output", metavar="FILE", help="write here (atomically) instead of stdout")
    export.set_defaults(run=cmd_export)
    history = commands.add_parser("history", help="every saved version of the roster (with a database)")
    _roster_arg(history)
    history.set_defaults(run=cmd_history)


def _roster_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--roster", metavar="PATH", default=None,
                   help=f"the roster file (default: $ROTA_ROSTER, else {DEFAULT_ROSTER})")
    p.add_argument("--team", metavar="ID", default=None,
                   help="with a database: the team's id (default: $ROTA_TEAM, else the database's only team)")


def _window_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="start", type=_date, metavar="DATE",
                   help="first week (the week containing DATE; default: 4 weeks ago, or this week with --weeks)")
    p.add_argument("--weeks", type=_weeks, metavar="N", help=f"how many weeks (default: to {WEEKS_AHEAD} weeks ahead)")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _deadline(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive number of seconds, at most 3600")
    return seconds


def _weeks_args(command) -> None:
    """The weeks a calendar sync looks at."""
    command.add_argument("--from", dest="start", type=_date, metavar="DATE",
                         help="first week (the week containing DATE; default: this week)")
    command.add_argument("--weeks", type=_weeks, default=WEEKS_AHEAD, metavar="N",
                         help=f"how many weeks (default {WEEKS_AHEAD})")


def _every(text: str) -> int:
    from scheduler.sync.worker import MIN_EVERY

    if not text.isdigit() or not MIN_EVERY <= int(text) <= 24 * 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of seconds, from {MIN_EVERY} to 86400")
    return int(text)


def _weeks(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_WEEKS:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of weeks from 1 to {MAX_WEEKS}")
    return n


# -- shared steps -------------------------------------------------------------------
def roster_path(args, settings: Settings) -> Path:
    return Path(args.roster or settings.roster or DEFAULT_ROSTER)


def open_store(args, settings: Settings):
    from scheduler.store.opening import open_store

    return open_store(settings, args.roster, getattr(args, "team", None))


def load_team(args, settings: Settings):
    from scheduler.team import Team

    return Team.load(open_store(args, settings))


def instant(text: str | None, schedule: Schedule, now: datetime, option: str = "--at") -> pendulum.DateTime:
    """`text` as an instant: ISO 8601, local to the roster when it has no offset."""
    if text is None or text == "now":
        return pendulum.instance(now)
    try:
        parsed = pendulum.parse(text, tz=schedule.tz)
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        raise RotaError(f"{option}: {text!r} is not a date and time (e.g. 2027-03-10T10:00 or 2027-03-10T15:00Z)") from None
    if not isinstance(parsed, datetime):
        parsed = schedule.day_start(parsed) if isinstance(parsed, date) else None
    if parsed is None:
        raise RotaError(f"{option}: {text!r} is not a date and time")
    return parsed


def written_instant(text: str | None, schedule: Schedule, now: datetime, option: str = "--at") -> pendulum.DateTime:
    """`instant()` for a command that writes: the record and the outside
    systems only ever hold what has happened, so an instant ahead of the
    clock is refused before anything is read or written."""
    at = instant(text, schedule, now, option)
    if at > now + LEEWAY:
        local = schedule.local
        raise RotaError(f"{option}: {when(local(at))} is ahead of the clock (now {when(local(now))}); "
                        "a command that writes acts only on the present or the past: nothing was written")
    return at


def window(args, schedule: Schedule, now: datetime) -> Window:
    default = schedule.default_window(now)
    if args.start is None:
        if args.weeks:  # N weeks from the one on support now (last week's until Monday's handoff)
            current = schedule.week_at(now)
            first = schedule.monday(current) if current >= 0 else monday_of(schedule.local_date(now))
            return Window(first, args.weeks)
        return default
    if args.weeks:
        return Window(monday_of(args.start), args.weeks)
    # From a given week to the default end (WEEKS_AHEAD weeks ahead), at least one week.
    end = default.first + timedelta(weeks=default.weeks)
    return Window(monday_of(args.start), max(1, (end - monday_of(args.start)).days // 7))


def emit(text: str | bytes) -> None:
    if isinstance(text, bytes):
        sys.stdout.buffer.write(text)
    else:
        sys.stdout.write(text)
    sys.stdout.flush()


# -- commands -----------------------------------------------------------------------
def cmd_show(args, now, settings) -> int:
    from scheduler.publish import report

    team = load_team(args, settings)
    schedule = team.schedule()
    weeks = schedule.weeks(window(args, schedule, now))
    if args.format == "json":
        emit(json.dumps(report.show_json(schedule, weeks), indent=2) + "\n")
    else:
        emit(report.show_table(schedule, weeks, now, explain=args.explain))
    return 0


def cmd_who(args, now, settings) -> int:
    from scheduler.publish import report

    schedule = load_team(args, settings).schedule()
    at = instant(args.at, schedule, now)
    duty = schedule.duty(at)
    if args.format == "json":
        emit(json.dumps(report.who_json(schedule, at, duty), indent=2) + "\n")
    else:
        emit(report.who_text(schedule, at, duty))
    return 0


def cmd_ics(args, now, settings) -> int:
    from scheduler.publish import icsfeed
    from scheduler.store.atomicfile import write_atomic

    team = load_team(args, settings)
    member = None
    if args.member:
        member = team.roster.member(args.member.strip().lower())
        if member is None:
            raise RotaError(f"--member: {args.member} is not on the roster {team.path}")
    feed = icsfeed.team_feed(team, window(args, team.schedule(), now), member)
    if args.output:
        try:
            write_atomic(Path(args.output), feed.data)
        except OSError as e:
            raise RotaError(f"{args.output}: cannot write the feed: {e.strerror}") from None
        print(f"Wrote {feed.events} events to {args.output}", file=sys.stderr)
    else:
        emit(feed.data)
    return 0


def cmd_check(args, now, settings) -> int:
    from scheduler.publish import report
    from scheduler.errors import RosterInvalid

    path = roster_path(args, settings)
    try:
        team = load_team(args, settings)
    except RosterInvalid as e:
        for error in e.errors:
            print(error, file=sys.stderr)
        print(f"{len(e.errors)} problem(s) in {path}.", file=sys.stderr)
        return 2
    schedule = team.schedule()
    findings = schedule.check(instant(args.at, schedule, now), args.weeks)
    emit(report.check_text(str(path), findings, args.weeks))
    return 1 if any(f.is_problem for f in findings) else 0


def cmd_report(args, now, settings) -> int:
    from scheduler.publish import fairnessreport
    from scheduler.core.events import support_name

    team = load_team(args, settings)
    schedule = team.schedule()
    at = instant(args.at, schedule, now)
    first, last = fairnessreport.span_of(schedule.local_date(at), args.start, args.end)
    if last < first:
        raise RotaError(f"--to {last.isoformat()} is before --from {first.isoformat()}")
    if (last - first).days > MAX_WEEKS * 7:
        raise RotaError(f"--from {first.isoformat()} --to {last.isoformat()}: at most {MAX_WEEKS // 52} years at once")
    found = schedule.fairness(first, last, at)
    roster = team.roster
    if args.format == "json":
        text = json.dumps(fairnessreport.as_json(found, roster.name, roster.timezone, args.monthly), indent=2,
                          ensure_ascii=False) + "\n"
    elif args.format == "csv":
        text = fairnessreport.as_csv(found, args.monthly)
    else:
        text = fairnessreport.as_table(found, support_name(roster.name), args.monthly)
    if args.output:
        from scheduler.store.atomicfile import write_atomic

        try:
            write_atomic(Path(args.output), text.encode("utf-8"))
        except OSError as e:
            raise RotaError(f"{args.output}: cannot write the report: {e.strerror}") from None
        rows = len(found.months) if args.monthly else len(found.shares)
        print(f"Wrote {rows} rows to {args.output}", file=sys.stderr)
    else:
        emit(text)
    return 0


def cmd_record(args, now, settings) -> int:
    team = load_team(args, settings)
    schedule = team.schedule()
    at = written_instant(args.at, schedule, now)
    local = schedule.local
    try:
        added = team.record_begun(at, now)
    except OSError as e:
        raise RotaError(f"{team.store.where('record')}: cannot write the record: {e.strerror}") from None
    if not added:
        start = schedule.begins
        if at < start:
            print(f"Nothing to record: the rotation starts {when(local(start))}.")
        else:
            print(f"Nothing to record: every stint begun by {when(local(at))} is already in {team.store.where('record')}.")
        return 0
    roster = team.roster
    for stint in added:
        who = f"{roster.name_of(stint.member)} on support" if stint.member else "a gap (nobody on support)"
        # The stint seated before week 0 is kept under the week before the
        # start, but it begins with the rotation: say so, not that week.
        first = " (already on when the rotation starts, for one week)" if stint.week < roster.start else ""
        print(f"Recorded: {who} from {when(local(stint.handoff))}{first}")
    print(f"{len(added)} stint(s) added to {team.store.where('record')}.")
    return 0


def cmd_sync_zendesk(args, now, settings) -> int:
    from scheduler.sync.zendesk import client as zendesk
    from scheduler.sync.zendesk import sync as zendesksync

    team = load_team(args, settings)
    at = (written_instant if args.apply else instant)(args.at, team.schedule(), now)
    client = zendesk.client_from_settings(settings, zendesksync.settings_of(team).url)
    return zendesksync.sync(team, at, client, apply=args.apply, force=args.force, now=now, out=sys.stdout).code


def cmd_sync_gcal(args, now, settings) -> int:
    from scheduler.sync.google import sync as gcalsync

    team = load_team(args, settings)
    today = team.schedule().local_date(now)
    window = Window(monday_of(args.start or today), args.weeks)
    with gcalsync.client_from_settings(team, settings) as client:
        return gcalsync.sync(team, window, client, apply=args.apply, force=args.force, now=now, out=sys.stdout).code


def cmd_sync_absences(args, now, settings) -> int:
    from scheduler.sync.google import absences

    team = load_team(args, settings)
    absences.check_enabled(team)
    window = absences.default_window(team, now, args.start, args.weeks)
    with absences.client_from_settings(settings) as client:
        return absences.sync(team, window, client, apply=args.apply, now=now, out=sys.stdout,
                             slack_url=settings.slack_webhook_url, patience=client.patience).code


def cmd_run(args, now, settings) -> int:
    from scheduler.sync import runjob

    if args.every is not None:
        return _run_every(args, settings)
    parse = written_instant if args.apply else instant
    return runjob.run(open_store(args, settings), now, now, apply=args.apply, out=sys.stdout, settings=settings,
                      deadline=args.deadline,
                      at_text=args.at, parse_at=lambda text, schedule: parse(text, schedule, now))


def _run_every(args, settings) -> int:
    """`rota run --every`: the clock is read once a cycle, here at the edge."""
    import signal
    import threading

    from scheduler.sync import runjob, worker

    if args.at is not None:
        raise RotaError("--every runs at each moment it wakes: it takes no --at")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # `cf stop`, Ctrl-C: end after the cycle under way
        signal.signal(sig, lambda *_: stop.set())

    def cycle(now):
        runjob.run(open_store(args, settings), now, now, apply=args.apply, out=sys.stdout, settings=settings,
                   deadline=args.deadline)
        sys.stdout.flush()  # each cycle's report reaches the platform's log as it ends

    return worker.repeat(cycle, lambda: pendulum.now("UTC"), stop.wait, args.every, sys.stderr)


def cmd_tickets(args, now, settings) -> int:
    from scheduler.sync.zendesk import tickets as ticketcheck
    from scheduler.sync.zendesk import client as zendesk
    from scheduler.sync.zendesk import sync as zendesksync

    team = load_team(args, settings)
    at = instant(args.at, team.schedule(), now)
    client = zendesk.client_from_settings(settings, zendesksync.settings_of(team).url)
    report = ticketcheck.check(team, client, at)
    if args.format == "json":
        emit(json.dumps(report.data(), indent=2) + "\n")
    else:
        emit(ticketcheck.text(report))
    return 1 if report.breaches else 0


def cmd_serve(args, now, settings) -> int:
    from web import create_app

    path = roster_path(args, settings)
    team = load_team(args, settings)  # a broken roster is one clear line now, not a stack trace per request
    app = create_app({"ROSTER": str(path), "TEAM": args.team}, settings)
    store = app.extensions["rota"].editors
    print(f"rota: serving {team.store.where('roster')} at http://{args.host}:{args.port}/", file=sys.stderr)
    if not store.list():
        how = f"--roster {path}" if team.store.where("roster") == str(path) else f"--team {team.roster.id}"
        print(f"rota: no editors yet. To edit the roster on the page, create one:\n"
              f"    rota user add you@example.gov {how}", file=sys.stderr)
    app.run(host=args.host, port=args.port, threaded=True, load_dotenv=False)
    return 0


def _editor_store(args, settings):
    return open_store(args, settings).editors()


def cmd_user_add(args, now, settings) -> int:
    import getpass

    store = _editor_store(args, settings)
    email = args.email.strip().lower()
    exists = store.get(email) is not None
    # Asked before the password, so nobody types one for nothing.
    if exists and not args.reset_password:
        raise RotaError(f"{email} is already an editor; to give them a new password, add --reset-password")
    if args.reset_password and not exists:
        raise RotaError(f"{email} is not an editor, so there is no password to reset; leave out --reset-password")
    if args.sso:
        if args.reset_password or args.password_stdin:
            raise RotaError("--sso adds an editor without a password: leave out --reset-password and --password-stdin")
        editor = store.add(email, None, args.name)
        print(f"{editor.name} <{editor.email}> can now edit the roster once signed in through the provider "
              f"(stored in {store.path}).")
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        if not sys.stdin.isatty():
            raise RotaError("no terminal to ask for the password on: pipe it in with --password-stdin")
        try:
            password = getpass.getpass(f"Password for {email}: ")
            again = getpass.getpass("Again: ")
        except EOFError:
            raise RotaError("no password given; nothing was changed") from None
        if again != password:
            raise RotaError("the two passwords differ; nothing was changed")
    editor = store.add(email, password, args.name)
    done = "has a new password" if exists else "can now edit the roster"
    print(f"{editor.name} <{editor.email}> {done} (stored in {store.path}).")
    return 0


def cmd_user_remove(args, now, settings) -> int:
    store = _editor_store(args, settings)
    if not store.remove(args.email):
        raise RotaError(f"{args.email} is not an editor")
    print(f"{args.email} can no longer edit the roster.")
    return 0


def cmd_user_list(args, now, settings) -> int:
    for editor in _editor_store(args, settings).list():
        print(f"{editor.name} <{editor.email}>")
    return 0


def cmd_import(args, now, settings) -> int:
    from scheduler.roster import rosterfile
    from scheduler.store.folder import open_folder
    from scheduler.store.opening import open_database

    folder = open_folder(roster_path(args, settings), editors=settings.editors)
    roster = rosterfile.load(folder).roster  # only a roster rota can read moves in
    if args.team and args.team != roster.id:
        raise RotaError(f"--team {args.team}: the roster {folder.where('roster')} is the team {roster.id!r}; "
                        "a team moves in under its own id")
    db = open_database(settings, roster.id)
    from scheduler.store.dbimport import import_folder

    counts = import_folder(folder, db, roster.name, now)
    print(f"Imported {folder.where('roster')} as the team {roster.id!r}: the roster, "
          + ", ".join(f"{n} {part}" for part, n in counts.items()) + ".")
    return 0


def cmd_export(args, now, settings) -> int:
    data = open_store(args, settings).read_roster()
    if args.output:
        from scheduler.store.atomicfile import write_atomic

        write_atomic(Path(args.output), data)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


def cmd_history(args, now, settings) -> int:
    store = open_store(args, settings)
    history = getattr(store, "history", None)
    if history is None:
        raise RotaError(f"{store.where('roster')}: the folder store keeps only the current roster; its history "
                        "is in git (rota history lists versions kept in a database)")
    for v in history():
        print(f"{v['number']:>4}  {v['saved_at']:%Y-%m-%d %H:%M:%S} UTC  {v['saved_by']}  {v['description']}")
    return 0


def cmd_db_upgrade(args, now, settings) -> int:
    from scheduler.store import dburl

    url = settings.database_url
    if url is None:
        raise RotaError("no database configured: set ROTA_DATABASE_URL (or DATABASE_URL, or bind an aws-rds "
                        "service); without one rota keeps its state in files and needs no schema")
    try:
        import sqlalchemy
        from scheduler.store import dbengine, migrations
    except ImportError as e:
        raise RotaError(f"the database store needs {e.name}: pip install 'rota[db]'") from None
    from alembic.util import CommandError

    engine = dbengine.create_engine(url)
    try:
        done = migrations.upgrade(engine)
    except sqlalchemy.exc.OperationalError as e:
        raise dbengine.unavailable(url, e) from None
    except (sqlalchemy.exc.DBAPIError, CommandError) as e:
        # One transaction: a migration that fails leaves the schema as it was.
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()
        raise ServiceError(f"{dburl.redacted(url)}: the schema upgrade failed and nothing was changed: "
                           f"{reason[0] if reason else type(e).__name__}") from None
    finally:
        engine.dispose()
    if done.before is None:
        print(f"{dburl.redacted(url)}: created the schema (revision {done.after})")
    elif done.changed:
        print(f"{dburl.redacted(url)}: migrated the schema from revision {done.before} to {done.after}")
    else:
        print(f"{dburl.redacted(url)}: the schema is up to date (revision {done.after})")
    return 0


if __name__ == "__main__":
    sys.exit(command())
