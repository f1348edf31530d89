"""The files backend: one Markdown file per incident in ``incidents/``, front matter + timeline.

``incidents/YYYY-MM-DD-<monitor>-<n>.md`` (day of the start, ``n`` counts per
day per monitor); the key is the file stem. The tool only ever rewrites files
whose front matter says ``automated: true``; people may add manual incidents
(never closed by the tool) and maintenance notices (``maintenance:`` block).
A malformed file is reported in :attr:`FilesTracker.problems` (and logged),
naming the file, line and key, and skipped: it never stops a run.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from generator.fsutil import atomic_write_text
from generator.incidents.base import Tracker, TrackerError
from generator.incidents.flaps import flap_text, fold_timeline, is_flapping
from generator.incidents.labels import incident_labels
from generator.incidents.markdown import (
    Document,
    FieldError,
    add_timeline_entry,
    iso,
    join_front_matter,
    key_line,
    parse_choice,
    parse_maintenance,
    parse_text,
    parse_timeline,
    parse_timestamp,
    split_front_matter,
    strip_timeline,
)
from generator.incidents.text import describe_check, incident_title, resolution, utc_time
from generator.models import (
    CheckStatus,
    Impact,
    Incident,
    Maintenance,
    Monitor,
    TimelineEntry,
    Transition,
    TransitionKind,
)
from generator.secrets import mask
from generator.timeutil import UTC, day_of, format_duration

log = logging.getLogger("statusgen.incidents.files")

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SKIP = {"readme.md"}


@dataclass(frozen=True)
class _Entry:
    """One parsed file: an incident or a maintenance notice."""

    path: Path
    document: Document
    incident: Incident | None = None
    maintenance: Maintenance | None = None
    modified: datetime | None = None  # the file's mtime: catches hand edits that carry no time


class IncidentFolder:
    """The incident files of a folder, parsed; a file unchanged since the last scan is not read again."""

    def __init__(self, folder: Path):
        self.dir = folder
        self._problems: dict[str, str] = {}  # message -> message, in first-seen order
        self._logged: set[str] = set()  # each problem is logged once per tracker, not once per scan
        self._cache: dict[Path, tuple[tuple[int, int, int], _Entry | None, list[str]]] = {}

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

    def scan(self) -> list[_Entry]:
        """Every readable file; a file unchanged since the last scan (same inode, size, mtime) is not re-parsed."""
        self._problems = {}
        entries = []
        cache: dict[Path, tuple[tuple[int, int, int], _Entry | None, list[str]]] = {}
        for path in self._paths():
            try:
                info = path.stat()
                stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
            except OSError:
                continue  # removed while we looked
            cached = self._cache.get(path)
            if cached and cached[0] == stamp:
                entry, messages = cached[1], cached[2]
            else:
                entry, messages = self._read(path)
                if entry is not None:
                    entry = replace(entry, modified=datetime.fromtimestamp(info.st_mtime, UTC))
            cache[path] = (stamp, entry, messages)
            for message in messages:
                self._problems.setdefault(message, message)
                if message not in self._logged:
                    self._logged.add(message)
                    log.warning("%s", message)
            if entry is not None:
                entries.append(entry)
        self._cache = cache
        return entries

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
        down_seconds = _seconds(meta.get("down_seconds"))
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


class FilesTracker(Tracker):
    name = "files"

    def __init__(self, incidents_dir: str | os.PathLike, *, site_url: str | None = None):
        self.dir = Path(incidents_dir)
        self.site_url = site_url.rstrip("/") + "/" if site_url else None
        self.folder = IncidentFolder(self.dir)

    @property
    def problems(self) -> list[str]:
        """Messages about malformed files seen by the latest scans (file:line: key: message)."""
        return self.folder.problems

    def _scan(self) -> list[_Entry]:
        return self.folder.scan()

    # ------------------------------------------------------------------ queries

    def find_open(self, monitor_id: str) -> Incident | None:
        found = [
            e.incident
            for e in self._scan()
            if e.incident is not None and e.incident.automated and e.incident.is_open and e.incident.monitor_id == monitor_id
        ]
        # more than one (a hand edit, a merge): the newest is the one the tool keeps working on
        found.sort(key=lambda i: (i.started, i.key), reverse=True)
        return found[0] if found else None

    def incidents(self) -> list[Incident]:
        found = [e.incident for e in self._scan() if e.incident is not None]
        return sorted(found, key=lambda i: (i.started, i.key), reverse=True)

    def changed_since(self, since: datetime | None) -> list[Incident]:
        """Incidents whose content time (``updated``) or file time is at or after ``since``.

        The file time makes a hand edit count (better one too many than one missed); a fresh
        checkout makes every file look changed, which only costs a rebuild.
        """
        found = [
            e.incident
            for e in self._scan()
            if e.incident is not None
            and (since is None or (e.incident.updated or e.incident.started) >= since or (e.modified and e.modified >= since))
        ]
        return sorted(found, key=lambda i: (i.started, i.key), reverse=True)

    def maintenance(self) -> list[Maintenance]:
        found = [e.maintenance for e in self._scan() if e.maintenance is not None]
        return sorted(found, key=lambda m: (m.start, m.key))

    # ------------------------------------------------------------------ writing

    def _path_of(self, key: str) -> Path:
        if not _KEY.match(key or ""):
            raise TrackerError(f"files tracker: {key!r} is not an incident key (a file name in {self.dir})")
        return self.dir / f"{key}.md"

    def _load(self, key: str) -> tuple[Path, Document]:
        path = self._path_of(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TrackerError(f"files tracker: incident {key!r} not found ({path} does not exist)") from None
        except (OSError, UnicodeDecodeError) as error:
            raise TrackerError(f"files tracker: cannot read {path}: {error}") from None
        try:
            return path, split_front_matter(text)
        except FieldError as error:
            line = error.line or key_line(text, error.key)
            raise TrackerError(f"files tracker: {path}:{line or 1}: {error}") from None

    def _save(self, path: Path, meta: dict[str, Any], body: str) -> None:
        try:
            atomic_write_text(path, join_front_matter(meta, body))
        except OSError as error:
            raise TrackerError(f"files tracker: cannot write {path}: {error}") from None

    def _new_key(self, monitor_id: str, started: datetime) -> str:
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", monitor_id).strip("-") or "monitor"
        prefix = f"{day_of(started)}-{slug}"
        pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)$")
        taken = [int(m.group(1)) for p in self.dir.glob(f"{prefix}-*.md") if (m := pattern.match(p.stem))]
        return f"{prefix}-{max(taken, default=0) + 1}"

    @staticmethod
    def _touch(meta: dict[str, Any], moment: datetime) -> None:
        previous = meta.get("updated")
        try:
            if previous is not None and parse_timestamp(previous, "updated") > moment:
                return
        except FieldError:
            pass
        meta["updated"] = iso(moment)

    def _set_impact(self, meta: dict[str, Any], monitor: Monitor, impact: Impact, resolved: bool) -> None:
        # Only the tool's own title follows the impact; a title someone wrote is kept (incidents/README.md).
        if not meta.get("title") or meta["title"] in {incident_title(monitor.name, known) for known in Impact}:
            meta["title"] = incident_title(monitor.name, impact)
        meta["impact"] = impact.value
        meta["severity"] = impact.severity.value
        given = meta.get("labels")
        extra: list[Any] = given if isinstance(given, list) else []
        meta["labels"] = incident_labels(monitor.id, impact, automated=True, resolved=resolved, extra=extra)

    def open(self, monitor: Monitor, transition: Transition) -> str:
        existing = self.find_open(monitor.id)
        if existing is not None:
            return existing.key
        if transition.kind is TransitionKind.REOPENED and transition.incident_key:
            reopened = self._reopen(transition.incident_key, monitor, transition)
            if reopened:
                return reopened
        return self._create(monitor, transition)

    def _create(self, monitor: Monitor, transition: Transition) -> str:
        started = transition.first_started
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise TrackerError(f"files tracker: cannot create {self.dir}: {error}") from None
        key = self._new_key(monitor.id, started)
        impact = transition.impact
        meta: dict[str, Any] = {
            "title": incident_title(monitor.name, impact),
            "monitor": monitor.id,
            "impact": impact.value,
            "severity": impact.severity.value,
            "status": "open",
            "started": iso(started),
            "resolved": None,
            "labels": incident_labels(monitor.id, impact),
            "automated": True,
            "updated": iso(transition.time),
        }
        what = "down" if impact is Impact.DOWN else "degraded"
        summary = f"Automated incident: **{monitor.name}** (`{monitor.id}`) failing since {utc_time(started)}."
        if self.site_url:
            summary += f"\n\nCurrent status: <{self.site_url}>"
        body = add_timeline_entry(
            summary, TimelineEntry(transition.time, "detected", f"{what}, {describe_check(transition.check)}")
        )
        self._save(self.dir / f"{key}.md", meta, body)
        return key

    def _reopen(self, key: str, monitor: Monitor, transition: Transition) -> str | None:
        try:
            path, document = self._load(key)
        except TrackerError as error:
            log.warning("%s; opening a new incident instead", error)
            return None
        meta = dict(document.meta)
        if meta.get("automated") is not True or str(meta.get("monitor")) != monitor.id:
            return None  # never take over a manual incident or another monitor's file
        meta["status"] = "open"
        meta["resolved"] = None
        meta.pop("downtime", None)
        # the down intervals so far, and where the new one starts: the downtime adds them up, not the gaps
        meta["down_seconds"] = round(max(transition.down_before, _seconds(meta.get("down_seconds")) or 0.0), 3)
        meta["reopened"] = iso(transition.started or transition.time)
        self._set_impact(meta, monitor, transition.impact, resolved=False)
        self._touch(meta, transition.time)
        what = "down" if transition.impact is Impact.DOWN else "degraded"
        if is_flapping(transition):  # one flap line, updated, however often it flaps
            body = fold_timeline(document.body, TimelineEntry(transition.time, "reopened",
                                                              flap_text(monitor.name, transition)))
        else:
            body = add_timeline_entry(document.body, TimelineEntry(
                transition.time, "reopened", f"{what} again, {describe_check(transition.check)}"))
        self._save(path, meta, body)
        return key

    def comment(self, key: str, entry: TimelineEntry) -> None:
        path, document = self._load(key)
        meta = dict(document.meta)
        self._touch(meta, entry.time)
        self._save(path, meta, add_timeline_entry(document.body, entry))

    def change_impact(self, key: str, monitor: Monitor, transition: Transition) -> None:
        path, document = self._load(key)
        meta = dict(document.meta)
        if meta.get("automated") is not True:
            raise TrackerError(f"files tracker: {path} is a manual incident; statusgen does not change it")
        if meta.get("impact") == transition.impact.value and meta.get("status") == "open":
            return  # already done (a re-run)
        self._set_impact(meta, monitor, transition.impact, resolved=meta.get("status") == "resolved")
        self._touch(meta, transition.time)
        kind = "escalated" if transition.impact is Impact.DOWN else "deescalated"
        what = "down" if transition.impact is Impact.DOWN else "degraded"
        body = add_timeline_entry(
            document.body, TimelineEntry(transition.time, kind, f"now {what}, {describe_check(transition.check)}")
        )
        self._save(path, meta, body)

    def resolve(self, key: str, monitor: Monitor, transition: Transition) -> None:
        path, document = self._load(key)
        meta = dict(document.meta)
        if meta.get("automated") is not True:
            raise TrackerError(f"files tracker: {path} is a manual incident; statusgen never closes it")
        if meta.get("status") == "resolved":
            return  # already done (a re-run)
        try:
            started = parse_timestamp(meta.get("started"), "started")
        except FieldError:
            started = transition.first_started
        try:
            reopened = parse_timestamp(meta["reopened"], "reopened") if meta.get("reopened") else None
        except FieldError:
            reopened = None
        # a resolved time before the start would make the file invalid: resolution() never gives one
        ended, seconds = resolution(transition, started, down_before=_seconds(meta.get("down_seconds")) or 0.0,
                                    reopened=reopened)
        lasted = format_duration(seconds)
        impact = Impact(meta["impact"]) if meta.get("impact") in ("down", "degraded") else transition.impact
        meta["status"] = "resolved"
        meta["resolved"] = iso(ended)
        meta["downtime"] = lasted
        meta["down_seconds"] = round(seconds, 3)
        meta.pop("reopened", None)
        self._set_impact(meta, monitor, impact, resolved=True)
        self._touch(meta, transition.time)
        text = f"{monitor.name} is back up after {lasted} of downtime."
        if transition.check.status is CheckStatus.NO_DATA:  # closed without a good check (monitor removed)
            text = f"Closed after {lasted}: {transition.check.error or 'no data'}."
        if is_flapping(transition) and transition.check.status is not CheckStatus.NO_DATA:
            entry = TimelineEntry(ended, "resolved", flap_text(monitor.name, transition, end=ended, seconds=seconds))
            body = fold_timeline(document.body, entry)
        else:
            body = add_timeline_entry(document.body, TimelineEntry(ended, "resolved", text))
        self._save(path, meta, body)


def _seconds(value: Any) -> float | None:
    """``down_seconds`` from front matter: a number of seconds, or None when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)
