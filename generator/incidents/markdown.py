"""Front matter and the Markdown timeline: how the files backend stores an incident.

Also the front matter values both backends read (timestamps, monitor lists, the
maintenance window): a GitHub maintenance issue carries the same YAML keys.
Titles, labels and check descriptions live in ``incidents.text`` and ``incidents.labels``.
Everything here is pure text in, values out; errors are :class:`FieldError`
naming the key, so callers can add the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import yaml

from generator.config import aliases
from generator.incidents.text import utc_time
from generator.models import TimelineEntry
from generator.secrets import mask
from generator.timeutil import UTC, parse_iso, to_iso

FENCE = "---"
# libyaml when present: reading a few thousand incident files stays well under a second
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
TIMELINE_HEADING = "## Timeline"

# the timeline's human labels, one per TimelineEntry.kind
KIND_LABELS = {
    "detected": "Detected",
    "reopened": "Reopened",
    "escalated": "Escalated",
    "deescalated": "De-escalated",
    "restart": "Restart",
    "recovered": "Recovered",
    "resolved": "Resolved",
    "comment": "Comment",
    "update": "Update",
}
_LABEL_KINDS = {label.lower(): kind for kind, label in KIND_LABELS.items()}

_ENTRY = re.compile(r"^[-*] \*\*(?P<time>[^*]+)\*\*\s*(?:—|–|--?|:)\s*(?P<rest>.*)$")
_ENTRY_KIND = re.compile(r"^(?P<label>[A-Za-z][A-Za-z -]{0,20}):\s*(?P<text>.*)$", re.DOTALL)


class FieldError(ValueError):
    """A bad value in front matter; ``key`` is the dotted key (``maintenance.end``), or None for the block."""

    def __init__(self, key: str | None, message: str, line: int | None = None):
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key
        self.message = message
        self.line = line  # 1-based line in the file, when known


# --------------------------------------------------------------------------- front matter


@dataclass(frozen=True)
class Document:
    meta: dict[str, Any]
    body: str  # Markdown after the front matter


def split_front_matter(text: str) -> Document:
    """Split ``---\\nYAML\\n---\\nMarkdown``; raises FieldError with the line of a YAML error."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    opening = _opening_fence(lines)  # blank lines before the fence are forgiven
    if opening is None:
        raise FieldError(None, "no front matter: the file must start with a '---' line", line=1)
    for index in range(opening + 1, len(lines)):
        if lines[index].strip() in (FENCE, "..."):
            break
    else:
        raise FieldError(None, "front matter is not closed by a '---' line", line=opening + 1)
    block = "".join(lines[opening + 1 : index])
    try:
        # these files arrive by pull request: an alias bomb is refused before it is expanded
        meta = aliases.load(block, _Loader) if block.strip() else {}
    except yaml.YAMLError as error:
        # the construct that failed (context) says more than where the parser gave up (often the end)
        mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
        line = min(mark.line + opening + 2, index) if mark is not None else None  # 1-based
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise FieldError(None, f"invalid YAML in front matter: {problem}", line=line) from None
    if not isinstance(meta, dict):
        raise FieldError(None, "front matter must be a mapping of keys to values", line=opening + 2)
    body = "".join(lines[index + 1 :])
    return Document(meta={str(k): v for k, v in meta.items()}, body=body.lstrip("\n"))


class Timestamp(str):
    """An ISO 8601 text written unquoted in front matter, the way a person would write it."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Timestamp, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:timestamp", value))


def _normalized(value: Any) -> Any:
    """Datetimes read back from YAML are written again as ISO 8601 with Z."""
    if isinstance(value, datetime):
        return Timestamp(to_iso(parse_iso(value)))
    if isinstance(value, Mapping):
        return {k: _normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    return value


def _opening_fence(lines: list[str]) -> int | None:
    for number, line in enumerate(lines):
        if line.strip():
            return number if line.strip() == FENCE else None
    return None


def join_front_matter(meta: Mapping[str, Any], body: str) -> str:
    block = yaml.dump(
        _normalized(dict(meta)), Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=None, width=1000
    )
    return f"{FENCE}\n{block}{FENCE}\n\n{body.strip()}\n"


def key_line(text: str, key: str | None) -> int | None:
    """1-based line of a front matter key (``started`` or dotted ``maintenance.end``), for messages."""
    if not key:
        return None
    lines = text.splitlines()
    found: int | None = None
    opening = _opening_fence(lines)
    if opening is None:
        return None
    first = opening + 1
    for depth, part in enumerate(key.split(".")):
        indent = r"" if depth == 0 else r"\s+"
        pattern = re.compile(rf"^{indent}{re.escape(part)}\s*:")
        for number in range(first, len(lines)):
            if lines[number].strip() == FENCE:
                return found
            if pattern.match(lines[number]):
                found, first = number + 1, number + 1
                break
        else:
            return found
    return found


# --------------------------------------------------------------------------- values


def parse_timestamp(value: Any, key: str) -> datetime:
    """A front matter timestamp: ISO 8601 (UTC when no offset) or a bare date (midnight UTC)."""
    if isinstance(value, datetime):
        return parse_iso(value)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    if isinstance(value, str) and value.strip():
        try:
            return parse_iso(value)
        except ValueError:
            pass
    shown = "nothing" if value is None or value == "" else repr(value)
    raise FieldError(key, f"{shown} is not a timestamp (expected ISO 8601, e.g. 2026-11-24T21:57:00Z)")


def parse_choice(value: Any, key: str, choices: Iterable[str]) -> str:
    options = tuple(choices)
    if isinstance(value, str) and value.strip().lower() in options:
        return value.strip().lower()
    shown = "missing" if value is None else f"{value!r} is not valid"
    raise FieldError(key, f"{shown}; expected one of: {', '.join(options)}")


def parse_text(value: Any, key: str, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError(key, "missing (a non-empty text is required)")
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value).strip()
    raise FieldError(key, f"{value!r} is not a text")


def parse_monitors(value: Any, key: str) -> tuple[str, ...]:
    """A list of monitor ids, one id, or ids separated by commas; empty/missing means every monitor."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    items = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(items, list) or not all(isinstance(i, (str, int)) and not isinstance(i, bool) for i in items):
        raise FieldError(key, f"{value!r} is not a list of monitor ids")
    return tuple(str(i).strip() for i in items if str(i).strip())


def parse_window(block: Mapping[str, Any], prefix: str = "") -> tuple[datetime, datetime, tuple[str, ...]]:
    """``{start, end, monitors}`` -> (start, end, monitors); keys in errors are ``prefix + key``.

    Read from a file's ``maintenance:`` block and from a GitHub maintenance issue's YAML alike.
    """
    start = parse_timestamp(block.get("start"), f"{prefix}start")
    end = parse_timestamp(block.get("end"), f"{prefix}end")
    if end <= start:
        raise FieldError(f"{prefix}end", f"{to_iso(end)} is not after {prefix}start {to_iso(start)} "
                                         "(end must be after start)")
    return start, end, parse_monitors(block.get("monitors"), f"{prefix}monitors")


def parse_maintenance(meta: Mapping[str, Any]) -> tuple[datetime, datetime, tuple[str, ...]]:
    """``maintenance: {start, end, monitors}`` -> (start, end, monitors); FieldError on a bad value."""
    block = meta.get("maintenance")
    if not isinstance(block, Mapping):
        raise FieldError("maintenance", "must be a mapping with start, end and (optionally) monitors")
    return parse_window(block, "maintenance.")


# --------------------------------------------------------------------------- timeline


def timeline_line(entry: TimelineEntry) -> str:
    """``- **2026-11-24 21:57:03 UTC** — Detected: text``; continuation lines are indented."""
    label = KIND_LABELS.get(entry.kind, entry.kind.capitalize())
    text = mask(entry.text).strip().replace("\r\n", "\n")
    first, *rest = text.split("\n") if text else [""]
    lines = [f"- **{utc_time(entry.time)}** — {label}: {first}".rstrip()]
    lines += [f"  {line}".rstrip() for line in rest]
    return "\n".join(lines)


def _section(lines: list[str]) -> tuple[int, int]:
    """[start, end) of the timeline section (heading included); (-1, -1) when absent."""
    for index, line in enumerate(lines):
        if line.strip().lower() == TIMELINE_HEADING.lower():
            end = index + 1
            while end < len(lines) and not re.match(r"^#{1,2}\s", lines[end]):
                end += 1
            return index, end
    return -1, -1


def parse_timeline(body: str) -> tuple[tuple[TimelineEntry, ...], list[str]]:
    """The entries of the ``## Timeline`` section and messages for lines that could not be read."""
    lines = body.splitlines()
    start, end = _section(lines)
    if start < 0:
        return (), []
    entries: list[TimelineEntry] = []
    problems: list[str] = []
    current: list | None = None  # [time, kind, text lines]

    def flush() -> None:
        if current is not None:
            entries.append(TimelineEntry(time=current[0], kind=current[1], text="\n".join(current[2]).strip()))

    for number in range(start + 1, end):
        line = lines[number]
        match = _ENTRY.match(line)
        if match:
            flush()
            current = None
            stamp = match.group("time").strip()
            try:
                moment = parse_iso(re.sub(r"\s*UTC$", "", stamp).replace(" ", "T"))
            except ValueError:
                problems.append(f"timeline entry {stamp!r} has no valid time (expected e.g. 2026-11-24 21:57:03 UTC)")
                continue
            rest = match.group("rest")
            kind_match = _ENTRY_KIND.match(rest)
            if kind_match and kind_match.group("label").strip().lower() in _LABEL_KINDS:
                kind, text = _LABEL_KINDS[kind_match.group("label").strip().lower()], kind_match.group("text")
            else:
                kind, text = "update", rest
            current = [moment, kind, [text]]
        elif current is not None and line.startswith((" ", "\t")) and line.strip():
            current[2].append(line.strip())
        elif line.strip():
            flush()
            current = None
    flush()
    return tuple(entries), problems


def add_timeline_entry(body: str, entry: TimelineEntry) -> str:
    """Append an entry at the end of the timeline section (created at the end of the body if absent)."""
    lines = body.rstrip("\n").splitlines()
    start, end = _section(lines)
    new = timeline_line(entry).split("\n")
    if start < 0:
        return "\n".join(lines + ["", TIMELINE_HEADING, ""] + new).strip("\n") + "\n"
    insert = end
    while insert > start + 1 and not lines[insert - 1].strip():
        insert -= 1
    block = new if insert > start + 1 else [""] + new
    lines[insert:insert] = block
    return "\n".join(lines).strip("\n") + "\n"


def strip_timeline(body: str) -> str:
    """The body without its timeline section (the timeline is published from the entries)."""
    lines = body.splitlines()
    start, end = _section(lines)
    if start < 0:
        return body.strip()
    return "\n".join(lines[:start] + lines[end:]).strip()


def iso(moment: datetime | None) -> str | None:
    """Front matter value of a moment: unquoted ISO 8601 with Z (None stays None)."""
    return Timestamp(to_iso(moment)) if moment is not None else None
