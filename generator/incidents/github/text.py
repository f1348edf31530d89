"""Issue bodies and comments: what the tool writes, and how an issue reads back as an incident.

The tool's issues carry a hidden machine-readable marker (``<!-- statusgen {...} -->``)
and each of its comments an event id (``<!-- statusgen-event {...} -->``), so issues
are found by marker and label, never by title, and an event is never posted twice.
Reading back needs to know whose words to trust: that is passed in as
:class:`Authors` (the tracker hands its :class:`~generator.incidents.github.trust.Trust`),
so this module asks nobody anything. Another forge's backend can reuse all of it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

import yaml

from generator import secrets
from generator.config import aliases
from generator.incidents import labels as L
from generator.incidents.github.foreign import read_foreign, strip_kener_times
from generator.incidents.markdown import FieldError, parse_window
from generator.incidents.text import (
    human_time,
    incident_title,
    md_escape,
    table_cell,
    utc_time,
)
from generator.models import (
    Check,
    CheckStatus,
    Comment,
    Impact,
    Incident,
    Maintenance,
    Monitor,
    TimelineEntry,
    Transition,
)
from generator.timeutil import format_duration, parse_iso, to_iso

MARKER = re.compile(r"<!--\s*statusgen\s+(\{.*?\})\s*-->", re.DOTALL)
EVENT_MARKER = re.compile(r"<!--\s*statusgen-event\s+(\{.*?\})\s*-->", re.DOTALL)
_YAML_BLOCK = re.compile(r"```ya?ml[ \t]*\r?\n(.*?)\r?\n[ \t]*```", re.DOTALL)
_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)

Issue = dict[str, Any]  # a mirrored issue (generator.incidents.github.mirror)


class UnreadableIssue(ValueError):
    """An issue whose text does not say what it must (the message says what is wrong)."""


class Authors(Protocol):
    """Whose words count (implemented by trust.Trust)."""

    def is_me(self, login: str) -> bool: ...

    def trusted(self, login: str, association: str) -> bool: ...

    def may_automate(self, login: str, association: str) -> bool: ...


# --------------------------------------------------------------------------- markers


def _json_comment(pattern: re.Pattern[str], body: str | None, key: str) -> dict[str, Any] | None:
    """The JSON object of the first hidden HTML comment ``pattern`` finds, if it holds text ``key``."""
    match = pattern.search(body or "")
    if not match:
        return None
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return None
    return value if isinstance(value, dict) and isinstance(value.get(key), str) else None


def marker_of(body: str | None) -> dict[str, Any] | None:
    """The machine-readable marker of an issue body (the first one), if any."""
    return _json_comment(MARKER, body, "monitor")


def event_of(body: str | None) -> dict[str, Any] | None:
    """The event id marker of a comment the tool posted, if any."""
    return _json_comment(EVENT_MARKER, body, "id")


def with_marker(body: str | None, **changes: Any) -> str:
    """The body with its marker's keys changed (a None value removes the key); the rest as written."""
    marker = dict(marker_of(body) or {})
    marker.update(changes)
    marker = {key: value for key, value in marker.items() if value is not None}
    text = f"<!-- statusgen {json.dumps(marker, separators=(',', ':'))} -->"
    if MARKER.search(body or ""):
        return MARKER.sub(lambda _: text, body or "", count=1)
    return f"{text}\n{body or ''}"


def marker_seconds(marker: dict[str, Any], key: str) -> float | None:
    value = marker.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)


def strip_markers(body: str | None) -> str:
    return EVENT_MARKER.sub("", MARKER.sub("", body or "")).strip()


def parse_time(value: Any) -> datetime | None:
    """A remote timestamp, or None when it is missing or unreadable."""
    if value in (None, ""):
        return None
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        return None


def is_automated(issue: Issue, authors: Authors) -> bool:
    """An issue the tool opened: its marker, written by someone who can have written it."""
    if (marker_of(issue.get("body")) or {}).get("kind") != "automated":
        return False
    return authors.may_automate(str(issue.get("user") or ""), issue.get("association") or "")


# --------------------------------------------------------------------------- writing


def title(monitor: Monitor, impact: Impact) -> str:
    return secrets.mask(incident_title(monitor.name, impact))  # in case a secret reached a monitor's name


def is_tool_title(text: str, monitor: Monitor) -> bool:
    """A title the tool gave (for any impact): one a person reworded is left alone."""
    return text in {title(monitor, impact) for impact in Impact}


def monitor_url(site_url: str | None, monitor_id: str) -> str | None:
    if not site_url:
        return None
    base = site_url if site_url.endswith("/") else site_url + "/"
    return f"{base}monitors/{quote(monitor_id)}/"


def issue_body(monitor: Monitor, transition: Transition, started: datetime, url: str | None) -> str:
    """The body of a new incident issue: marker, summary, the first failing check, the monitor page."""
    marker = json.dumps({"monitor": monitor.id, "started": to_iso(started), "kind": "automated"},
                        separators=(",", ":"))
    check = transition.check
    rows: list[tuple[str, object]] = [("Time (UTC)", human_time(check.time))]
    if check.code is not None:
        rows.append(("Status code", check.code))
    if check.latency_ms is not None:
        rows.append(("Latency", f"{check.latency_ms:.0f} ms"))
    if check.error:
        rows.append(("Error", md_escape(check.error)))  # the probed service's words stay text
    if check.attempts > 1:
        rows.append(("Attempts", check.attempts))
    lines = [
        f"<!-- statusgen {marker} -->",
        (f"**{table_cell(monitor.name)}** is **{transition.impact.value}** since {utc_time(started)} "
         f"(severity: {transition.severity.value})."),
        "",
        "First failing check:",
        "",
        "| | |",
        "| --- | --- |",
        *[f"| {name} | {table_cell(value)} |" for name, value in rows],
    ]
    if url:
        lines += ["", f"Monitor page: {url}"]
    lines += ["", "_Opened by statusgen; it comments on each change and closes this issue on recovery._"]
    return secrets.mask("\n".join(lines))


def check_line(check: Check) -> str:
    parts = [f"Check at {utc_time(check.time)}: {check.status.value}"]
    if check.code is not None:
        parts.append(f"status {check.code}")
    if check.latency_ms is not None:
        parts.append(f"{check.latency_ms:.0f} ms")
    if check.error:
        parts.append(f"error: {table_cell(md_escape(check.error))}")
    return ", ".join(parts) + "."


def impact_text(monitor: Monitor, transition: Transition, verb: str) -> str:
    return (f"**{verb}**: {monitor.name} is now **{transition.impact.value}** "
            f"({transition.severity.value}).\n\n{check_line(transition.check)}")


def reopen_text(monitor: Monitor, transition: Transition) -> str:
    return (f"**Reopened**: {monitor.name} is **{transition.impact.value}** again soon after recovering.\n\n"
            f"{check_line(transition.check)}")


def resolve_text(monitor: Monitor, transition: Transition, end: datetime, seconds: float) -> str:
    lasted = format_duration(seconds)
    if transition.check.status is CheckStatus.NO_DATA:  # closed without a good check (monitor removed)
        return (f"**Closed** at {utc_time(end)} after **{lasted}**: "
                f"{md_escape(transition.check.error) or 'no data'}.")
    return f"**Resolved**: {monitor.name} is back up at {utc_time(end)} after **{lasted}** of downtime."


def event_id(number: int, kind: str, moment: datetime, text: str) -> str:
    """The same event (issue, kind, time, text) always gets the same id: a re-run finds it posted."""
    return hashlib.sha1(f"{number}|{kind}|{to_iso(moment)}|{text}".encode()).hexdigest()[:16]


def event_comment(event: str, kind: str, moment: datetime, text: str, **extra: Any) -> str:
    marker = json.dumps({"id": event, "kind": kind, "time": to_iso(moment), **extra}, separators=(",", ":"))
    return secrets.mask(f"<!-- statusgen-event {marker} -->\n{text}")


def has_event(issue: Issue | None, event: str) -> bool:
    return issue is not None and any((event_of(c["body"]) or {}).get("id") == event for c in issue["comment_list"])


# --------------------------------------------------------------------------- reading back


def read_incident(issue: Issue, authors: Authors, clock: Callable[[], datetime]) -> Incident:
    """An incident issue as the site shows it: the tool's events make the timeline, others are comments."""
    automated = is_automated(issue, authors)
    marker = marker_of(issue["body"]) if automated else None
    created = parse_time(issue["created_at"]) or clock()
    started = (parse_time(marker.get("started")) if marker else None) or created
    monitor_id = (marker or {}).get("monitor") or L.monitor_of(issue["labels"])
    resolved = issue["state"] == "closed"
    # the recorded end and downtime (the marker), never GitHub's closed_at when the tool wrote them
    recorded = parse_time((marker or {}).get("resolved"))
    impact = L.impact_from(issue["labels"])
    body = strip_markers(issue["body"])
    foreign = None if automated else read_foreign(issue)
    if foreign is not None:  # a Kener or Upptime incident: its own words for monitor, impact, start and end
        monitor_id = foreign.monitor_id or monitor_id
        impact, started, recorded = foreign.impact, foreign.started or started, foreign.resolved
        body = strip_kener_times(body)
    timeline = [TimelineEntry(started, "detected", strip_markers(issue["body"]).split("\n\n")[0])] if automated else []
    comments: list[Comment] = []
    for c in issue["comment_list"]:
        event = event_of(c["body"])
        moment = parse_time(c["created_at"]) or created
        if event is not None and authors.is_me(c["user"]):  # only the tool's own events make the timeline
            timeline.append(TimelineEntry(parse_time(event.get("time")) or moment, str(event.get("kind") or "update"),
                                          strip_markers(c["body"])))
            continue
        comments.append(Comment(author=c["user"], association=c["association"], time=moment, body=c["body"],
                                trusted=authors.trusted(c["user"], c["association"])))
    return Incident(
        key=str(issue["number"]),
        title=issue["title"],
        monitor_id=monitor_id,
        impact=impact,
        status="resolved" if resolved else "open",
        started=started,
        resolved=(recorded or parse_time(issue["closed_at"]) if resolved else None),
        automated=automated,
        url=issue["html_url"],
        body=body,
        labels=tuple(issue["labels"]),
        timeline=tuple(sorted(timeline, key=lambda e: e.time)),
        comments=tuple(comments),
        updated=parse_time(issue["updated_at"]),
        downtime=marker_seconds(marker or {}, "down_s"),
        reopened=parse_time((marker or {}).get("reopened")) if not resolved else None,
    )


def read_maintenance(issue: Issue) -> Maintenance:
    """A maintenance issue: start, end and monitors from a ```yaml block or --- front matter.

    Raises UnreadableIssue saying what is wrong (the caller names the issue).
    """
    body = issue["body"] or ""
    match = _YAML_BLOCK.search(body) or _FRONT_MATTER.search(body)
    if not match:
        raise UnreadableIssue("no ```yaml block or --- front matter with start and end")
    try:
        meta = aliases.load(match.group(1))  # an issue body is anyone's text: the alias budget holds
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise UnreadableIssue(f"front matter{line}: {getattr(error, 'problem', error)}") from None
    if not isinstance(meta, dict):
        raise UnreadableIssue("front matter must be a mapping with start and end")
    try:
        start, end, monitors = parse_window(meta)
    except FieldError as error:
        raise UnreadableIssue(str(error)) from None
    text = (body[: match.start()] + body[match.end():]).strip()
    return Maintenance(key=str(issue["number"]), title=issue["title"], start=start, end=end,
                       monitors=monitors, body=text, url=issue["html_url"])
