"""The incident files of a folder, parsed once and kept current: what the files backend reads.

A full :meth:`IncidentFolder.scan` lists and stats every file (a file unchanged since the last
scan is not parsed again); the tracker runs one at each pass boundary (``maintenance()`` when a run
loads, ``incidents()`` when it publishes). Between scans the tracker asks for a monitor's open
incidents once per transition, so that question must not cost a scan: the folder keeps an index
(monitor -> files of its open automated incidents, and the highest number used per file-name
prefix), updated by :meth:`refresh` after each of the tracker's own writes. The index is trusted
while the folder's own mtime is the one seen after the latest scan or own write: a file that
someone else adds, removes or renames changes it, and the next question rescans. The files the
index names are re-checked on disk (stat, re-read when changed) each time they are asked for, so
a hand edit that resolves an incident is seen at once. Opening N incidents is therefore linear.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from generator.incidents.labels import incident_labels
from generator.incidents.markdown import (
    Document,
    FieldError,
    iso,
    key_line,
    parse_choice,
    parse_maintenance,
    parse_text,
    parse_timeline,
    parse_timestamp,
    split_front_matter,
    strip_timeline,
)
from generator.models import Impact, Incident, Maintenance
from generator.secrets import mask
from generator.timeutil import UTC

log = logging.getLogger("statusgen.incidents.files")

_SKIP = {"readme.md"}
_NUMBERED = re.compile(r"^(?P<prefix>.+)-(?P<number>\d+)$")
Stamp = tuple[int, int, int]  # inode, size, mtime (ns)


@dataclass(frozen=True)
class _Entry:
    """One parsed file: an incident or a maintenance notice."""

    path: Path
    document: Document
    incident: Incident | None = None
    maintenance: Maintenance | None = None
    modified: datetime | None = None  # the file's mtime: catches hand edits that carry no time


class IncidentFolder:
    """The incident files of a folder, parsed, with an index of open incidents (see the module)."""

    def __init__(self, folder: Path):
        self.dir = folder
        self._problems: dict[str, str] = {}  # message -> message, in first-seen order
        self._logged: set[str] = set()  # each problem is logged once per tracker, not once per scan
        self._cache: dict[Path, tuple[Stamp, _Entry | None, list[str]]] = {}
        self._open: dict[str, set[Path]] = {}  # monitor id -> files of its open automated incidents
        self._owner: dict[Path, str] = {}  # the reverse of _open
        self._numbers: dict[str, int] = {}  # file-name prefix -> highest number in use
        self._folder_seen: tuple[int, int] | None = None  # the folder's (inode, mtime) the index matches

    @property
    def problems(self) -> list[str]:
        """Messages about malformed files seen by the latest scan (file:line: key: message)."""
        return list(self._problems)

    @staticmethod
    def _message(path: Path, text: str, error: FieldError | str) -> str:
        if isinstance(error, FieldError):
            line = error.line or key_line(text, error.key)
            where = f"{path}:{line}" if line else str(path)
            return mask(f"{where}: {error}; the file is skipped")
        return mask(f"{path}: {error}")

    def _paths(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(
            p for p in self.dir.glob("*.md") if p.is_file() and p.name.lower() not in _SKIP and not p.name.startswith(".")
        )

    def _folder_stamp(self) -> tuple[int, int] | None:
        try:
            info = self.dir.stat()
        except OSError:
            return None
        return info.st_ino, info.st_mtime_ns

    # ----------------------------------------------------------------- full scan

    def scan(self) -> list[_Entry]:
        """Every readable file; a file unchanged since the last scan (same inode, size, mtime) is not re-parsed."""
        seen = self._folder_stamp()  # before listing: a change made while we list forces the next scan
        self._problems = {}
        entries = []
        previous, self._cache = self._cache, {}
        self._open, self._owner, self._numbers = {}, {}, {}
        for path in self._paths():
            entry = self._load(path, previous.get(path))
            if entry is not None:
                entries.append(entry)
        self._folder_seen = seen
        return entries

    def _load(self, path: Path, cached: tuple[Stamp, _Entry | None, list[str]] | None) -> _Entry | None:
        """One file into the cache and the index (parsed only when its stamp changed); None if unreadable."""
        try:
            info = path.stat()
        except OSError:
            self._forget(path)  # removed while we looked
            return None
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
        if cached and cached[0] == stamp:
            entry, messages = cached[1], cached[2]
        else:
            entry, messages = self._read(path)
            if entry is not None:
                entry = replace(entry, modified=datetime.fromtimestamp(info.st_mtime, UTC))
        self._forget(path)
        self._cache[path] = (stamp, entry, messages)
        self._index(path, entry)
        for message in messages:
            self._problems.setdefault(message, message)
            if message not in self._logged:
                self._logged.add(message)
                log.warning("%s", message)
        return entry

    # ----------------------------------------------------------------- the index

    def _index(self, path: Path, entry: _Entry | None) -> None:
        numbered = _NUMBERED.match(path.stem)
        if numbered:
            prefix, number = numbered.group("prefix"), int(numbered.group("number"))
            self._numbers[prefix] = max(self._numbers.get(prefix, 0), number)
        incident = entry.incident if entry is not None else None
        if incident is not None and incident.automated and incident.is_open and incident.monitor_id:
            self._open.setdefault(incident.monitor_id, set()).add(path)
            self._owner[path] = incident.monitor_id

    def _forget(self, path: Path) -> None:
        self._cache.pop(path, None)
        owner = self._owner.pop(path, None)
        if owner is not None:
            self._open.get(owner, set()).discard(path)

    def fresh(self) -> bool:
        """True when no one but this folder's tracker changed the folder since the index was built."""
        return self._folder_seen is not None and self._folder_stamp() == self._folder_seen

    def open_entries(self, monitor_id: str) -> list[_Entry]:
        """The open automated incidents of a monitor, each re-checked on disk; a full scan first when stale."""
        if not self.fresh():
            self.scan()
        found = []
        for path in sorted(self._open.get(monitor_id, ())):
            entry = self._load(path, self._cache.get(path))
            if entry is None or entry.incident is None:
                continue  # gone, or no longer readable
            incident = entry.incident
            if incident.automated and incident.is_open and incident.monitor_id == monitor_id:
                found.append(entry)
        return found

    def next_number(self, prefix: str) -> int:
        """One more than the highest number in use after ``prefix-`` (a full scan first when stale)."""
        if not self.fresh():
            self.scan()
        return self._numbers.get(prefix, 0) + 1

    def before_write(self) -> bool:
        """Whether the index is current right before the tracker writes a file (pass to :meth:`refresh`)."""
        return self.fresh()

    def refresh(self, path: Path, was_fresh: bool) -> None:
        """After the tracker wrote ``path``: re-read that one file, and keep trusting the index if it was current."""
        self._load(path, None)
        self._folder_seen = self._folder_stamp() if was_fresh else None

    def _read(self, path: Path) -> tuple[_Entry | None, list[str]]:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            return None, [self._message(path, "", f"cannot be read ({error.__class__.__name__}: {error}); the file is skipped")]
        try:
            document = split_front_matter(text)
            if "maintenance" in document.meta:
                return _Entry(path, document, maintenance=self._maintenance(path, document)), []
            incident, timeline_problems = self._incident(path, document)
        except FieldError as error:
            return None, [self._message(path, text, error)]
        messages = [self._message(path, text, f"{problem}; the entry is skipped") for problem in timeline_problems]
        return _Entry(path, document, incident=incident), messages

    def _maintenance(self, path: Path, document: Document) -> Maintenance:
        meta = document.meta
        start, end, monitors = parse_maintenance(meta)
        title = parse_text(meta.get("title"), "title")
        return Maintenance(
            key=path.stem, title=title or path.stem, start=start, end=end, monitors=monitors, body=document.body.strip()
        )

    def _incident(self, path: Path, document: Document) -> tuple[Incident, list[str]]:
        meta = document.meta
        title = parse_text(meta.get("title"), "title")
        monitor_id = parse_text(meta.get("monitor"), "monitor", required=False)
        impact = Impact(parse_choice(meta.get("impact"), "impact", [i.value for i in Impact]))
        if meta.get("severity") is not None:
            parse_choice(meta.get("severity"), "severity", ["critical", "warning"])
        status = parse_choice(meta.get("status"), "status", ["open", "resolved"])
        started = parse_timestamp(meta.get("started"), "started")
        resolved = None
        if meta.get("resolved") is not None:
            resolved = parse_timestamp(meta.get("resolved"), "resolved")
            if resolved < started:
                raise FieldError("resolved", f"{iso(resolved)} is before started {iso(started)}")
        elif status == "resolved":
            raise FieldError("resolved", "missing: a resolved incident needs the time it was resolved")
        automated = meta.get("automated", False)
        if not isinstance(automated, bool):
            raise FieldError("automated", f"{automated!r} is not true or false")
        extra = meta.get("labels") or []
        if not isinstance(extra, list):
            raise FieldError("labels", f"{extra!r} is not a list of labels")
        timeline, problems = parse_timeline(document.body)
        updated = parse_timestamp(meta["updated"], "updated") if meta.get("updated") is not None else None
        down_seconds = down_seconds_of(meta.get("down_seconds"))
        reopened = parse_timestamp(meta["reopened"], "reopened") if meta.get("reopened") is not None else None
        moments = [started] + ([resolved] if resolved else []) + [e.time for e in timeline] + ([updated] if updated else [])
        incident = Incident(
            key=path.stem,
            title=title or path.stem,
            monitor_id=monitor_id,
            impact=impact,
            status=status,
            started=started,
            resolved=resolved if status == "resolved" else None,
            automated=automated,
            url=None,
            body=strip_timeline(document.body),
            labels=tuple(incident_labels(monitor_id, impact, automated=automated, resolved=status == "resolved",
                                         extra=extra)),
            timeline=timeline,
            updated=max(moments),
            downtime=down_seconds,
            reopened=reopened if status == "open" else None,
        )
        return incident, problems


def down_seconds_of(value: Any) -> float | None:
    """``down_seconds`` from front matter: a number of seconds, or None when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)
