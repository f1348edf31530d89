"""A monitor as the pages that list many monitors show it, kept after its own pages are written.

The build streams monitors (read one, write its page, badges and feeds, drop its data);
what the home page, the group pages, the API, the uptime file and the site badges need
of it afterwards is a ``Listed``: a few figures, its day segments and its sparkline, a
small and constant size whatever its history holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional, Sequence

from markupsafe import Markup

from generator.freshness import is_stale
from generator.history.uptime import window_seconds
from generator.models import Monitor
from generator.site.model import MonitorData, SiteInput
from generator.site.source import state_of
from generator.site.views import STATUS_ORDER, MonitorView, Segment, active_maintenance, monitor_status

PAGE_UPTIME_DAYS = 30  # the site badge's window


@dataclass(frozen=True)
class Listed:
    monitor: Monitor
    status: str  # a key of STATUS_ORDER
    since: Optional[datetime]
    uptime: dict[str, Optional[float]]
    segments: tuple[Segment, ...]
    latency_median_24h: Optional[float]
    spark: Markup  # the 24-hour sparkline (SVG)
    first_day: Optional[str]  # the oldest day with data inside the window
    page_seconds: dict[str, float]  # seconds per status over the site badge's window
    last_checked: Optional[datetime] = None  # its newest check
    stale: bool = False  # that check is older than stale_after: shown as no data

    @property
    def id(self) -> str:
        return self.monitor.id


def listed_of(view: MonitorView, now: datetime, spark: Markup) -> Listed:
    return Listed(
        monitor=view.monitor,
        status=view.status,
        since=view.since,
        uptime=dict(view.uptime),
        segments=view.segments,
        latency_median_24h=view.latency_median_24h,
        spark=spark,
        first_day=view.data.days[0].day if view.data.days else None,
        last_checked=view.last_checked,
        stale=view.stale,
        page_seconds=window_seconds(view.data.days[-(PAGE_UPTIME_DAYS + 2):], now - timedelta(days=PAGE_UPTIME_DAYS),
                                    now),
    )


@dataclass(frozen=True)
class StatusOnly:
    """What overall_status reads of a view, known before any history is read."""

    monitor_id: str
    status: str
    stale: bool
    last_checked: Optional[datetime]


def statuses_of(site: SiteInput) -> list[StatusOnly]:
    """Every monitor's status and freshness from its state alone (no history read), for every page's banner."""
    active = active_maintenance(site.maintenance, site.now)
    result = []
    for monitor in site.config.monitors:
        state = state_of(site.monitors, monitor.id)
        checked = state.last_check if state is not None else None
        stale = is_stale(checked, site.now, monitor, site.config.settings)
        data = None if state is None else MonitorData(monitor_id=monitor.id, state=state, days=())
        result.append(StatusOnly(monitor.id, monitor_status(monitor.id, data, active, site.now, stale), stale, checked))
    return result


@dataclass(frozen=True)
class Group:
    """A group of monitors as the collapsed home page shows it."""

    name: str  # the monitors without a group are named by the theme's "group.ungrouped"
    page: str  # site-relative path of its own page
    members: tuple[Listed, ...]
    status: str  # the worst member's
    counts: tuple[tuple[str, int], ...]  # (status, monitors), worst first, only statuses present

    @property
    def problems(self) -> tuple[Listed, ...]:
        return tuple(m for m in self.members if m.status not in ("operational", "unknown"))


def group_of(name: str, page: str, members: Sequence[Listed]) -> Group:
    counts = {key: 0 for key in STATUS_ORDER}
    for member in members:
        counts[member.status] += 1
    worst = max((m.status for m in members), key=STATUS_ORDER.index, default="unknown")
    ordered = tuple((key, counts[key]) for key in reversed(STATUS_ORDER) if counts[key])
    return Group(name=name, page=page, members=tuple(members), status=worst, counts=ordered)
