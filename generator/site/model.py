"""The site builder's input and output: plain data, independent of how it was produced.

``SiteInput`` is the boundary: ``source.collect`` fills it from a History and the
trackers' lists, and everything after that (views, charts, API, feeds, pages)
reads only this. A test or another backend can build one by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable, Mapping, Optional

from generator.models import Check, Config, DayRollup, Incident, Maintenance, MonitorState


@dataclass(frozen=True)
class Recent:
    """The last 24 hours of raw checks, reduced to what the pages show (kept instead of the checks:
    at 1,000 monitors the Check objects alone would cost ~150 MB)."""

    up: int = 0
    degraded: int = 0
    down: int = 0
    latency: tuple[tuple[float, float], ...] = ()  # (epoch seconds, ms) of answered checks, by time
    last_check: Optional[Check] = None

    @classmethod
    def of_points(cls, points: Iterable[tuple[float, str, Optional[float]]], last: Optional[Check]) -> Recent:
        """From History.points (already inside the window, by time)."""
        counts = {"up": 0, "degraded": 0, "down": 0}
        latency = []
        for moment, status, ms in points:
            if status in counts:
                counts[status] += 1
                if ms is not None and status != "down":
                    latency.append((moment, ms))
        return cls(up=counts["up"], degraded=counts["degraded"], down=counts["down"],
                   latency=tuple(latency), last_check=last)


@dataclass(frozen=True)
class MonitorData:
    """What the site needs about one monitor."""

    monitor_id: str
    state: MonitorState
    days: tuple[DayRollup, ...]  # ascending daily roll-ups inside the 90-day window (today's partial one included)
    recent: Recent = field(default_factory=Recent)  # the last 24 hours from raw checks
    as_of: Optional[datetime] = None  # the time its data reaches (its newest check); None: the build's now


@dataclass(frozen=True)
class SiteInput:
    config: Config
    now: datetime  # aware UTC: "data as of"
    monitors: Mapping[str, MonitorData]  # by monitor id (read on demand from a History); order from config.monitors
    incidents: tuple[Incident, ...]
    maintenance: tuple[Maintenance, ...]


@dataclass
class BuildReport:
    """What a build produced, for the run's log and the benchmark."""

    out_dir: Path
    pages: int = 0  # HTML pages
    files: int = 0  # every file written
    bytes: int = 0
    written: int = 0  # files whose bytes changed (the others were left as they were)
    removed: int = 0  # files of the previous build no longer produced
    seconds: float = 0.0
    collect_seconds: float = 0.0  # reading history
    render_seconds: float = 0.0  # building and writing files
    warnings: list[str] = field(default_factory=list)
    overall: Optional[str] = None  # overall status key, e.g. "operational"

    def summary(self) -> str:
        return (
            f"site: {self.pages} pages, {self.files} files ({self.written} written, {self.removed} removed), "
            f"{self.bytes / 1024:.0f} KiB "
            f"in {self.seconds:.2f} s -> {self.out_dir}"
        )
