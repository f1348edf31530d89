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
from datetime import datetime
from pathlib import Path
from typing import Any

from generator.fsutil import atomic_write_text
from generator.incidents.base import Tracker, TrackerError
from generator.incidents.flaps import flap_text, fold_timeline, is_flapping
from generator.incidents.folder import IncidentFolder, _Entry, down_seconds_of
from generator.incidents.labels import incident_labels
from generator.incidents.markdown import (
    Document,
    FieldError,
    add_timeline_entry,
    iso,
    join_front_matter,
    key_line,
    parse_timestamp,
    split_front_matter,
)
from generator.incidents.text import describe_check, incident_title, md_escape, resolution, utc_time
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
from generator.timeutil import day_of, format_duration

log = logging.getLogger("statusgen.incidents.files")

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


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
        # from the folder's index, not a scan: a mass outage asks this once per monitor
        found = [e.incident for e in self.folder.open_entries(monitor_id) if e.incident is not None]
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
        was_fresh = self.folder.before_write()
        try:
            atomic_write_text(path, join_front_matter(meta, body))
        except OSError as error:
            raise TrackerError(f"files tracker: cannot write {path}: {error}") from None
        self.folder.refresh(path, was_fresh)

    def _new_key(self, monitor_id: str, started: datetime) -> str:
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", monitor_id).strip("-") or "monitor"
        prefix = f"{day_of(started)}-{slug}"
        number = self.folder.next_number(prefix)  # from the index: a glob per incident made N opens quadratic
        while (self.dir / f"{prefix}-{number}.md").exists():  # a file the index cannot know yet
            number += 1
        return f"{prefix}-{number}"

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
        meta["down_seconds"] = round(max(transition.down_before, down_seconds_of(meta.get("down_seconds")) or 0.0), 3)
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
        ended, seconds = resolution(transition, started, down_before=down_seconds_of(meta.get("down_seconds")) or 0.0,
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
            text = f"Closed after {lasted}: {md_escape(transition.check.error) or 'no data'}."
        if is_flapping(transition) and transition.check.status is not CheckStatus.NO_DATA:
            entry = TimelineEntry(ended, "resolved", flap_text(monitor.name, transition, end=ended, seconds=seconds))
            body = fold_timeline(document.body, entry)
        else:
            body = add_timeline_entry(document.body, TimelineEntry(ended, "resolved", text))
        self._save(path, meta, body)

