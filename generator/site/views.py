"""From SiteInput to what the pages show: statuses, uptime, daily bars, incident windows.

Pure functions over plain data; no I/O, no templates. Every list is sorted with
an explicit key so two builds of the same input give the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from statistics import median
from typing import Iterable, Optional, Sequence

from generator.freshness import is_stale
from generator.history.uptime import day_uptime, window_seconds
from generator.history.uptime import uptime_percent as _uptime_percent
from generator.history.uptime import window_uptime as _window_uptime
from generator.models import CheckStatus, DayRollup, Impact, Incident, Maintenance, Monitor, State
from generator.site.model import MonitorData, SiteInput
from generator.timeutil import UTC, day_of

DAYS_SHOWN = 90
DAYS_NARROW = 30  # days the bars show on a phone: 90 bars at 390 px would be under 4 px each
WINDOWS = (("24h", 1), ("7d", 7), ("30d", 30), ("90d", 90))

# monitor status keys, worst last (used for sorting and the overall banner)
STATUS_ORDER = ("operational", "unknown", "maintenance", "degraded", "down")

_STATE_KEY = {
    State.UP: "operational",
    State.DEGRADED: "degraded",
    State.DOWN: "down",
    State.MAINTENANCE: "maintenance",
    State.UNKNOWN: "unknown",
}


@dataclass(frozen=True)
class DayBar:
    day: str  # YYYY-MM-DD (UTC)
    kind: str  # up / degraded / partial / down / maintenance / nodata
    uptime: Optional[float]  # percent, None = no data
    incidents: int
    checks: int


@dataclass(frozen=True)
class Segment:
    """Consecutive days that read the same (kind, uptime text, incidents): one focusable item."""

    first: str
    last: str
    days: int
    kind: str
    uptime: Optional[float]
    incidents: int
    old: bool = False  # before the last DAYS_NARROW days: hidden on narrow screens


@dataclass(frozen=True)
class MonitorView:
    monitor: Monitor
    data: MonitorData
    status: str  # a key of STATUS_ORDER
    since: Optional[datetime]
    uptime: dict[str, Optional[float]]  # "24h", "7d", "30d", "90d"
    bars: tuple[DayBar, ...]  # oldest first, DAYS_SHOWN of them, today last
    segments: tuple[Segment, ...]
    latency_points: tuple[tuple[float, float], ...]  # (epoch seconds, ms), last 24 h
    latency_median_24h: Optional[float]
    incidents: tuple[Incident, ...]  # this monitor's, newest first
    last_checked: Optional[datetime] = None  # its newest check (from the data, never the build time)
    stale: bool = False  # that check is older than stale_after: the monitor shows no data

    @property
    def id(self) -> str:
        return self.monitor.id

    @property
    def first_day(self) -> Optional[str]:
        """The oldest day with data inside the window."""
        return self.data.days[0].day if self.data.days else None


@dataclass(frozen=True)
class Overall:
    key: str  # operational / degraded / partial_outage / major_outage / maintenance / delayed / unknown
    counts: dict[str, int]
    stale: int = 0  # monitors whose checks are delayed
    newest_check: Optional[datetime] = None  # the newest check of any monitor


# --------------------------------------------------------------------------- arithmetic


def uptime_of(up: float, degraded: float, down: float, degraded_counts_as_up: bool = True) -> Optional[float]:
    """Percent of the counted time (or checks) that was up; no data and maintenance never count."""
    total = up + degraded + down
    if total <= 0:
        return None
    good = up + (degraded if degraded_counts_as_up else 0)
    return 100.0 * good / total


def floor2(value: float) -> float:
    """Two decimals, rounded down: 99.999 must not read as 100.00."""
    return math.floor(value * 100.0 + 1e-9) / 100.0


def format_pct(value: Optional[float]) -> Optional[str]:
    if value is None:
        return None
    shown = floor2(value)
    if shown >= 100.0:
        return "100%"
    return f"{shown:.2f}%"


def format_ms(value: Optional[float]) -> Optional[str]:
    if value is None:
        return None
    if value >= 10000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms"


def day_list(now: datetime, count: int = DAYS_SHOWN) -> list[str]:
    """The ``count`` UTC days ending today, oldest first."""
    return list(_day_list(now.astimezone(UTC).date().isoformat(), count))


@lru_cache(maxsize=64)
def _day_list(today_text: str, count: int) -> tuple[str, ...]:
    today = datetime.strptime(today_text, "%Y-%m-%d").date()
    return tuple((today - timedelta(days=offset)).isoformat() for offset in range(count - 1, -1, -1))


def incident_end(incident: Incident, now: datetime) -> datetime:
    return incident.resolved if incident.resolved is not None else now


def _day_kind(rollup: Optional[DayRollup], uptime: Optional[float]) -> str:
    if rollup is None or uptime is None:
        if rollup is not None and rollup.maintenance_seconds > 0:
            return "maintenance"
        return "nodata"
    if rollup.down_seconds == 0:
        return "degraded" if rollup.degraded_seconds else "up"
    return "partial" if uptime >= 99.0 else "down"


def day_bars(data: MonitorData, incidents: list[Incident], now: datetime, degraded_counts_as_up: bool) -> tuple[DayBar, ...]:
    """One bar per UTC calendar day; its uptime is time-weighted over the day (up to ``now`` for today)."""
    by_day = {rollup.day: rollup for rollup in data.days}
    bars = []
    spans = [(day_of(i.started), day_of(incident_end(i, now))) for i in incidents]
    for day in day_list(now):
        rollup = by_day.get(day)
        uptime = day_uptime(rollup, degraded_counts_as_up) if rollup else None
        count = sum(1 for first, last in spans if first <= day <= last) if spans else 0
        bars.append(
            DayBar(
                day=day,
                kind=_day_kind(rollup, uptime),
                uptime=uptime,
                incidents=count,
                checks=rollup.checks if rollup else 0,
            )
        )
    return tuple(bars)


def segments_of(bars: Sequence[DayBar], narrow: int = DAYS_NARROW) -> tuple[Segment, ...]:
    """Merge runs of days that read the same, so a quiet quarter is one item, not ninety.

    A run never crosses into the last ``narrow`` days, so a phone can hide the older ones whole.
    """
    result: list[Segment] = []
    first_recent = max(0, len(bars) - narrow)
    for index, bar in enumerate(bars):
        shown = format_pct(bar.uptime)
        old = index < first_recent
        if result and index != first_recent:
            last = result[-1]
            if last.kind == bar.kind and format_pct(last.uptime) == shown and last.incidents == bar.incidents:
                result[-1] = Segment(last.first, bar.day, last.days + 1, last.kind, last.uptime, last.incidents, old)
                continue
        result.append(Segment(bar.day, bar.day, 1, bar.kind, bar.uptime, bar.incidents, old))
    return tuple(result)


def window_uptime(data: MonitorData, now: datetime, days: int, degraded_counts_as_up: bool) -> Optional[float]:
    """Time-weighted uptime over the rolling window ``(now - days, now]`` (``generator.history.uptime``);
    ``data.days`` are completed to ``now`` by ``source.collect``."""
    # days are ascending, one roll-up per day: the window's days+1 calendar days are the last ones
    return _window_uptime(data.days[-(days + 1):], now, timedelta(days=days), degraded_counts_as_up)


def page_uptime(views: Iterable[MonitorView], now: datetime, days: int, degraded_counts_as_up: bool) -> Optional[float]:
    """The whole page over ``(now - days, now]``: every monitor's up and down time added together."""
    total = {"up": 0.0, "degraded": 0.0, "down": 0.0, "maintenance": 0.0}
    for view in views:
        for name, seconds in window_seconds(view.data.days, now - timedelta(days=days), now).items():
            total[name] += seconds
    return _uptime_percent(total, degraded_counts_as_up)


# --------------------------------------------------------------------------- maintenance and incidents


def active_maintenance(maintenance: Iterable[Maintenance], now: datetime) -> list[Maintenance]:
    return sorted((m for m in maintenance if m.start <= now < m.end), key=lambda m: (m.start, m.key))


def upcoming_maintenance(maintenance: Iterable[Maintenance], now: datetime) -> list[Maintenance]:
    return sorted((m for m in maintenance if m.start > now), key=lambda m: (m.start, m.key))


def maintenance_state(item: Maintenance, now: datetime) -> str:
    if now < item.start:
        return "scheduled"
    if now < item.end:
        return "in_progress"
    return "completed"


def sort_incidents(incidents: Iterable[Incident]) -> list[Incident]:
    """Newest first; ties broken by key so the order never depends on input order."""
    return sorted(incidents, key=lambda i: (i.started, i.key), reverse=True)


def monitor_status(monitor_id: str, data: Optional[MonitorData], maintenance: list[Maintenance], now: datetime,
                   stale: bool = False) -> str:
    if any(m.covers(monitor_id, now) for m in maintenance):
        return "maintenance"
    if data is None or stale:  # a stale monitor shows no data, never its old status
        return "unknown"
    return _STATE_KEY.get(data.state.status, "unknown")


def last_checked(data: MonitorData) -> Optional[datetime]:
    """The monitor's newest check: the status machine's record of it, else the newest raw check read."""
    if data.state.last_check is not None:
        return data.state.last_check
    last = data.recent.last_check
    return last.time if last is not None and last.status is not CheckStatus.NO_DATA else None


def build_monitor_views(site: SiteInput) -> list[MonitorView]:
    settings = site.config.settings
    now = site.now
    by_monitor: dict[str, list[Incident]] = {}
    for incident in sort_incidents(site.incidents):
        if incident.monitor_id:
            by_monitor.setdefault(incident.monitor_id, []).append(incident)
    active = active_maintenance(site.maintenance, now)
    views = []
    for monitor in site.config.monitors:
        data = site.monitors.get(monitor.id)
        if data is None:
            from generator.models import MonitorState

            data = MonitorData(monitor_id=monitor.id, state=MonitorState(monitor_id=monitor.id), days=())
        incidents = by_monitor.get(monitor.id, [])
        bars = day_bars(data, incidents, now, settings.degraded_counts_as_up)
        points = data.recent.latency
        checked = last_checked(data)
        stale = is_stale(checked, now, monitor, settings)
        views.append(
            MonitorView(
                monitor=monitor,
                data=data,
                status=monitor_status(monitor.id, data, active, now, stale),
                since=data.state.since,
                uptime={
                    name: window_uptime(data, now, days, settings.degraded_counts_as_up) for name, days in WINDOWS
                },
                bars=bars,
                segments=segments_of(bars),
                latency_points=points,
                latency_median_24h=median([v for _, v in points]) if points else None,
                incidents=tuple(incidents),
                last_checked=checked,
                stale=stale,
            )
        )
    return views


def overall_status(views: list[MonitorView], incidents: Iterable[Incident]) -> Overall:
    """One banner for the page: the worst of the monitors and of open incidents without a monitor."""
    counts = {key: 0 for key in STATUS_ORDER}
    for view in views:
        counts[view.status] += 1
    stale = sum(1 for view in views if view.stale)
    newest = max((view.last_checked for view in views if view.last_checked is not None), default=None)
    known = len(views) - counts["unknown"]
    open_unmonitored = [i for i in incidents if i.is_open and not i.monitor_id]
    if counts["down"] and counts["down"] == known and known > 1:
        key = "major_outage"
    elif counts["down"] or any(i.impact is Impact.DOWN for i in open_unmonitored):
        key = "partial_outage"
    elif counts["degraded"] or open_unmonitored:
        key = "degraded"
    elif counts["maintenance"]:
        key = "maintenance"
    elif stale:  # nothing is known to be wrong, but some checks are late: never "all operational"
        key = "delayed"
    elif views and known == 0:
        key = "unknown"
    else:
        key = "operational"
    return Overall(key=key, counts=counts, stale=stale, newest_check=newest)


def groups_of(views: list[MonitorView]) -> list[tuple[Optional[str], list[MonitorView]]]:
    """Monitors by group, in the order groups first appear in monitors.yaml (the user's order)."""
    order: list[Optional[str]] = []
    grouped: dict[Optional[str], list[MonitorView]] = {}
    for view in views:
        group = view.monitor.group
        if group not in grouped:
            order.append(group)
            grouped[group] = []
        grouped[group].append(view)
    return [(group, grouped[group]) for group in order]
