"""An iCalendar (RFC 5545) feed of scheduled maintenance, for calendar apps to subscribe to.

Times are UTC (``...Z``): every calendar shows them in its user's own zone. Lines end in
CRLF and are folded at 75 octets without splitting a UTF-8 character.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from generator import __version__
from generator.timeutil import UTC


@dataclass(frozen=True)
class CalendarEvent:
    uid: str  # stable across builds, so an edited window updates the same event
    start: datetime
    end: datetime
    summary: str
    description: str  # plain text; "\n" for a line break
    url: str = ""  # absolute, or "" when the site's address is unknown


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, line breaks as \\n."""
    escaped = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return escaped.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """One content line folded into pieces of at most 75 octets (continuations start with a space)."""
    pieces: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, 74  # the leading space counts
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def calendar(name: str, events: Sequence[CalendarEvent], *, stamp: datetime) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//statusgen//statusgen {__version__}//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_text(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_text(event.uid)}",
            f"DTSTAMP:{_stamp(stamp)}",
            f"DTSTART:{_stamp(event.start)}",
            f"DTEND:{_stamp(event.end)}",
            f"SUMMARY:{_text(event.summary)}",
            f"DESCRIPTION:{_text(event.description)}",
            *([f"URL:{event.url}"] if event.url else []),
            "STATUS:CONFIRMED",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("".join(fold(line) + "\r\n" for line in lines)).encode("utf-8")
