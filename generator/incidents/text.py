"""Incident text shared by every tracker backend, notify and recovery.

Titles, one-line check descriptions, UTC times for people, durations and Markdown
escaping. The GitHub issues, the Markdown files, the restart comments and the
notifications all say these things the same way, so they are said once, here.
Pure functions: text and values in, text out; nothing here knows a backend.
"""

from __future__ import annotations

import re
from datetime import datetime

from generator.models import Check, Impact, Incident, Transition
from generator.secrets import MASK, mask
from generator.timeutil import UTC, duration_between, format_duration

# a probed service's text, written into Markdown, must stay text: links, images, emphasis, code,
# headings and HTML are escaped; what GitHub would autolink (URLs, www., e-mail) goes in code spans
_AUTOLINK = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*:/{1,3}|www\.)[^\s`<>]+|[\w.+-]+@[\w-]+\.[\w.-]+")
_BACKSLASHED = re.compile(r"([\\`*_\[\]()!#~])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "&#124;", "=": "&#61;"}
_ENTITY = re.compile("[" + re.escape("".join(_ENTITIES)) + "]")
_LEADING = re.compile(r"^(\s*\d*)([-+.)])")  # "- x", "+ x", "1. x", "1) x" would open a list
_ESCAPED = re.compile(r"`([^`]*)`|\\([\\`*_\[\]()!#~+\-.)])|&(amp|lt|gt|#124|#61);")
_UNENTITY = {"amp": "&", "lt": "<", "gt": ">", "#124": "|", "#61": "="}


def incident_title(name: str, impact: Impact) -> str:
    """``🛑 API is down`` / ``⚠️ API is degraded`` (the title the tool gives and later recognises)."""
    return f"🛑 {name} is down" if impact is Impact.DOWN else f"⚠️ {name} is degraded"


def human_time(moment: datetime) -> str:
    """``2026-11-24 21:57:03``: a moment in UTC for people (the caller says "UTC" where it fits)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def utc_time(moment: datetime) -> str:
    """``2026-11-24 21:57:03 UTC``."""
    return f"{human_time(moment)} UTC"


def downtime(start: datetime, end: datetime) -> str:
    """How long an incident lasted, ``2h 5m``; never negative."""
    return format_duration(duration_between(start, end).total_seconds())


def resolution(transition: Transition, started: datetime, *, down_before: float = 0.0,
               reopened: datetime | None = None) -> tuple[datetime, float]:
    """(end, seconds down) of an incident a RESOLVED transition ends, as both trackers store it.

    ``started``, ``down_before`` (seconds of earlier down intervals) and ``reopened`` (the start of
    the current interval after a flap) are what the tracker recorded; the transition may know more
    (the status machine's own sums) and wins where it does. The end is the first good check of the
    resolving streak; the downtime is the sum of the down intervals, never the up time between flaps.
    """
    end = max(started, transition.end)
    interval = max(started, reopened or started, transition.started or started)
    prior = max(down_before, transition.down_before)
    return end, prior + duration_between(min(interval, end), end).total_seconds()


def incident_seconds(incident: Incident, now: datetime) -> float:
    """How long an incident was (or is, so far) down: the recorded sum of its down intervals when it has
    one; else from its start to its end (or ``now``). Every page, feed and text says this number."""
    if not incident.is_open and incident.downtime is not None:
        return incident.downtime
    if incident.is_open and incident.reopened is not None:
        return (incident.downtime or 0.0) + duration_between(incident.reopened, now).total_seconds()
    end = incident.resolved if not incident.is_open and incident.resolved is not None else now
    return duration_between(incident.started, end).total_seconds()


def md_escape(text: object) -> str:
    """Masked text that Markdown (GitHub's and the site's) shows as it is, on one line.

    Nothing becomes a link, image, emphasis, heading, list, table cell break or HTML tag; the
    whole text stays readable (escapes and entities render as the characters they stand for).
    """
    value = " ".join(mask(text).split())
    # a mask stays ``***`` as written (outputs and tests look for it); a lone run of asterisks is text
    joined = MASK.join(_escape_piece(piece) for piece in value.split(MASK))
    leading = _LEADING.match(joined)
    if leading and (leading.group(2) in "-+" or leading.group(1).strip()):
        joined = f"{leading.group(1)}\\{joined[leading.start(2):]}"
    return joined


def _escape_piece(value: str) -> str:
    pieces: list[str] = []
    position = 0
    for match in _AUTOLINK.finditer(value):
        pieces.append(_escape_plain(value[position:match.start()]))
        pieces.append(f"`{match.group(0)}`")
        position = match.end()
    pieces.append(_escape_plain(value[position:]))
    return "".join(pieces)


def _escape_plain(text: str) -> str:
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(0)], _BACKSLASHED.sub(r"\\\1", text))


def md_unescape(text: str) -> str:
    """The text :func:`md_escape` was given (masked, on one line): for showing it as plain text again."""
    def plain(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return match.group(1)
        if match.group(2) is not None:
            return match.group(2)
        return _UNENTITY[match.group(3)]

    return _ESCAPED.sub(plain, text)


def table_cell(text: object) -> str:
    """A Markdown table cell: one line, no pipes, no way to open an HTML comment."""
    return str(text).replace("\n", " ").replace("|", "\\|").replace("<", "&lt;").strip()


def describe_check(check: Check) -> str:
    """What a check saw, in one masked line of Markdown: ``HTTP 503 in 120 ms: connection reset``."""
    parts = []
    if check.code is not None and f"HTTP {check.code}" not in check.error:
        parts.append(f"HTTP {check.code}")
    if check.latency_ms is not None:
        parts.append(f"in {check.latency_ms:.0f} ms")
    if check.attempts > 1:
        parts.append(f"after {check.attempts} attempts")
    if "days_left" in check.details:
        parts.append(f"certificate expires in {check.details['days_left']} days")
    text = " ".join(parts)
    if check.error:  # the probed service's words: Markdown text, never markup
        return f"{text}: {md_escape(check.error)}" if text else md_escape(check.error)
    return mask(text or check.status.value)
