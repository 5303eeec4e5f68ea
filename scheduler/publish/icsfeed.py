"""ICS feeds (RFC 5545 calendar subscriptions), built with `ics`.

`ics` 0.7.3 models the events; this module fills what it lacks, so that the
feed is one real clients accept and subscribers can rely on:

* events in a fixed order (ics keeps them in a set), so the same input gives
  the same bytes and an unchanged feed keeps its ETag;
* DTSTAMP and LAST-MODIFIED on every event, from `stamp` (when the roster or
  its record last changed), never from the clock;
* ATTENDEE lines written here, with CN always quoted (ics writes names with
  commas so that they cannot be read back);
* all-day dates written as local dates (ics shifts them east of UTC);
* text stripped of control characters, so no name or note can start a new
  property, then escaped;
* lines folded at 75 octets, never inside a UTF-8 character.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime

import ics
from ics.grammar.parse import ContentLine

from scheduler.core import Member, Window
from scheduler.core.events import ABSENCE, COVER, GAP, STINT, Event, support_name

PRODID = "-//rota//rota support rotation//EN"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
TRANSPARENT_KINDS = {STINT, GAP, ABSENCE, COVER}  # two-week blocks must not mark people busy


@dataclass(frozen=True)
class Feed:
    data: bytes
    events: int  # how many
    stamp: datetime  # when what it was built from last changed


def team_feed(team, window: Window, member: Member | None = None) -> Feed:
    """The team's feed over `window`, or only `member`'s stints and meetings:
    the one `rota ics` writes and the page serves. `team` is a `Team`."""
    roster = team.roster
    team_name = support_name(roster.name)
    events = team.schedule().events(window, member=member.email if member else None)
    stamp = team.stamp()
    data = render(events, name=f"{member.name}: {team_name}" if member else team_name, timezone=roster.timezone,
                  stamp=stamp, description=f"{team_name} rotation, daily triage and weekly review")
    return Feed(data, len(events), stamp)


def render(events: list[Event], *, name: str, timezone: str, stamp: datetime, description: str = "") -> bytes:
    """The feed for `events`, as bytes ready to serve."""
    calendar = ics.Calendar(creator=PRODID)
    calendar.scale = "GREGORIAN"
    calendar.method = "PUBLISH"
    calendar.extra.extend([
        ContentLine("X-WR-CALNAME", value=escape_text(name)),
        ContentLine("X-WR-TIMEZONE", value=timezone),
        ContentLine("REFRESH-INTERVAL", params={"VALUE": ["DURATION"]}, value="PT1H"),
        ContentLine("X-PUBLISHED-TTL", value="PT1H"),
    ])
    if description:
        calendar.extra.append(ContentLine("X-WR-CALDESC", value=escape_text(description)))
    head = calendar.serialize().split("\r\n")[1:-1]  # without BEGIN/END:VCALENDAR
    # VERSION and PRODID first, as clients expect; ics puts the extra lines first.
    head.sort(key=lambda line: (not line.startswith(("VERSION:", "PRODID:")), not line.startswith("VERSION:")))
    body = [line for e in events for line in _event(e, utc(stamp))]
    lines = ["BEGIN:VCALENDAR", *head, *body, "END:VCALENDAR"]
    return ("".join(fold(line) + "\r\n" for line in lines)).encode("utf-8")


def _event(event: Event, stamp: str) -> list[str]:
    item = ics.Event(
        name=clean(event.summary),
        uid=event.uid,
        description=clean(event.description),
        transparent=event.kind in TRANSPARENT_KINDS,
        categories=[event.kind],
        status="CONFIRMED",
    )
    # ics would write DTSTAMP from `created` only, formatting it again for
    # every event; the stamp is the same for the whole feed.
    item.extra.append(ContentLine("DTSTAMP", value=stamp))
    item.extra.append(ContentLine("LAST-MODIFIED", value=stamp))
    if event.all_day:
        item.extra.append(ContentLine("DTSTART", {"VALUE": ["DATE"]}, f"{event.start:%Y%m%d}"))
        item.extra.append(ContentLine("DTEND", {"VALUE": ["DATE"]}, f"{event.end:%Y%m%d}"))
    else:
        # UTC, as ics itself writes times, without a round trip through arrow per event.
        item.extra.append(ContentLine("DTSTART", value=utc(event.start)))
        item.extra.append(ContentLine("DTEND", value=utc(event.end)))
    for person in event.attendees:
        item.extra.append(ContentLine(
            "ATTENDEE",
            {"CN": [quote_param(person.name)], "CUTYPE": ["INDIVIDUAL"], "ROLE": ["REQ-PARTICIPANT"]},
            f"mailto:{person.email}",
        ))
    return item.serialize().split("\r\n")


def utc(instant: datetime) -> str:
    """An instant as an RFC 5545 UTC date-time (from its timestamp: pendulum's
    own time zone conversion is several times slower)."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(instant.timestamp()))


def clean(text: str) -> str:
    """Text with line breaks normalised and other control characters removed."""
    return CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def escape_text(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11)."""
    text = clean(text)
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def quote_param(value: str) -> str:
    """A parameter value, always quoted; it may hold neither DQUOTE nor controls."""
    return '"' + CONTROL.sub("", value.replace("\n", " ").replace("\r", " ")).replace('"', "'") + '"'


def fold(line: str, limit: int = 75) -> str:
    """Fold a content line into chunks of at most `limit` octets (RFC 5545 3.1)."""
    if len(line) <= limit and line.isascii():
        return line
    data = line.encode("utf-8")
    if len(data) <= limit:
        return line
    parts, start, room = [], 0, limit
    while start < len(data):
        end = min(start + room, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1  # never split a UTF-8 sequence
        parts.append(data[start:end].decode("utf-8"))
        start, room = end, limit - 1  # continuation lines begin with a space
    return "\r\n ".join(parts)
