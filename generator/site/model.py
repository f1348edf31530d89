"""The site builder's input and output: plain data, independent of how it was produced.

``SiteInput`` is the boundary: ``source.collect`` fills it from a History and the
trackers' lists, and everything after that (views, charts, API, feeds, pages)
reads only this. A test or another backend can build one by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Optional

from generator.models import Check, Config, DayRollup, Incident, Maintenance, MonitorState


@dataclass(frozen=True)
class MonitorData:
    """What the site needs about one monitor."""

    monitor_id: str
    state: MonitorState
    days: tuple[DayRollup, ...]  # ascending, complete UTC days inside the 90-day window (today included when known)
    recent: tuple[Check, ...]  # ascending raw checks of the last 24 hours (latency chart, 24 h uptime)
    # optional extra latency points (time, ms) from History.latency_series; empty = use ``recent``
    latency_24h: tuple[tuple[datetime, float], ...] = ()


@dataclass(frozen=True)
class SiteInput:
    config: Config
    now: datetime  # aware UTC: "data as of"
    monitors: dict[str, MonitorData]  # by monitor id; order comes from config.monitors
    incidents: tuple[Incident, ...]
    maintenance: tuple[Maintenance, ...]


@dataclass
class BuildReport:
    """What a build produced, for the run's log and the benchmark."""

    out_dir: Path
    pages: int = 0  # HTML pages
    files: int = 0  # every file written
    bytes: int = 0
    seconds: float = 0.0
    collect_seconds: float = 0.0  # reading history
    render_seconds: float = 0.0  # building and writing files
    warnings: list[str] = field(default_factory=list)
    overall: Optional[str] = None  # overall status key, e.g. "operational"

    def summary(self) -> str:
        return (
            f"site: {self.pages} pages, {self.files} files, {self.bytes / 1024:.0f} KiB "
            f"in {self.seconds:.2f} s -> {self.out_dir}"
        )
