"""Fill a SiteInput from a History: the only module of the site builder that reads history.

What it reads per monitor, and only when the build comes to that monitor (the build
streams monitors: it reads one, writes its pages and keeps a few figures, so memory
does not grow with 90 days of points times the number of monitors): the daily roll-ups
of the last 90 days and a day (one small file per monitor and year, plus its running
summary ``open.json``), completed to ``now`` so that rolling windows and today's bar
weigh time up to the build; and the raw checks of the last 24 hours (at most two day
files, the older one from the first line inside the window) for the latency chart,
reduced at once to a ``Recent`` summary. Older raw checks are never read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Iterable, Optional

from generator.models import Config, DayRollup, Incident, Maintenance, MonitorState
from generator.site.model import MonitorData, Recent, SiteInput
from generator.site.views import DAYS_SHOWN, WINDOWS
from generator.timeutil import UTC, day_of, utcnow


def read_monitor(history: Any, monitor_id: str, first_day: str, now: datetime, *, newest: bool = True
                 ) -> tuple[tuple[DayRollup, ...], Recent, datetime]:
    """One monitor's roll-ups from ``first_day`` and its last 24 hours, as of its newest check when that
    was today (so that a page whose monitor was not checked since the last build comes out the same,
    byte for byte, and is not rewritten), else (or when not ``newest``) as of ``now``; and that time."""
    if newest:
        rows, as_of = history.rollups_as_of_newest(monitor_id, first_day, now)
    else:
        rows, as_of = history.rollups(monitor_id, since_day=first_day, now=now), now
    today = as_of.date().isoformat()
    days = tuple(r for r in rows if r.day <= today)
    recent = Recent.of_points(*history.points(monitor_id, as_of - timedelta(hours=24), as_of))
    return days, recent, as_of


class HistoryMonitors(Mapping[str, MonitorData]):
    """``SiteInput.monitors`` read from a History on demand: each lookup reads that monitor afresh
    (nothing is cached, so a build that visits each monitor once holds one monitor at a time)."""

    def __init__(self, history: Any, ids: Iterable[str], states: Mapping[str, MonitorState], first_day: str,
                 now: datetime):
        self.history = history
        self.ids = list(dict.fromkeys(ids))
        self._known = set(self.ids)
        self.states = states
        self.first_day = first_day
        self.now = now

    def __getitem__(self, monitor_id: str) -> MonitorData:
        return self.read(monitor_id, newest=False)  # completed to now, like any SiteInput

    def read(self, monitor_id: str, *, newest: bool = True) -> MonitorData:
        """A monitor's data as of its newest check today (``read_monitor``; what the builder draws its
        pages from), or as of now."""
        if monitor_id not in self._known:
            raise KeyError(monitor_id)
        days, recent, as_of = read_monitor(self.history, monitor_id, self.first_day, self.now, newest=newest)
        return MonitorData(monitor_id=monitor_id, state=self.state(monitor_id), days=days, recent=recent,
                           as_of=as_of)

    def state(self, monitor_id: str) -> MonitorState:
        return self.states.get(monitor_id) or MonitorState(monitor_id=monitor_id)

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, monitor_id: object) -> bool:
        return monitor_id in self._known


def state_of(monitors: Mapping[str, MonitorData], monitor_id: str) -> Optional[MonitorState]:
    """A monitor's state without reading its history (None: no data at all)."""
    if isinstance(monitors, HistoryMonitors):
        return monitors.state(monitor_id) if monitor_id in monitors else None
    data = monitors.get(monitor_id)
    return data.state if data is not None else None


def collect(
    config: Config,
    history: Any,
    incidents: Iterable[Incident],
    maintenance: Iterable[Maintenance],
    now: Optional[datetime] = None,
) -> SiteInput:
    now = (now or utcnow()).astimezone(UTC)
    first_day = day_of(now - timedelta(days=max(DAYS_SHOWN, WINDOWS[-1][1])))  # the 90-day window starts there
    ids = [monitor.id for monitor in config.monitors]
    monitors: Mapping[str, MonitorData]
    if history is None:
        monitors = {i: MonitorData(monitor_id=i, state=MonitorState(monitor_id=i), days=()) for i in ids}
    else:
        monitors = HistoryMonitors(history, ids, history.load_states(), first_day, now)
    return SiteInput(
        config=config,
        now=now,
        monitors=monitors,
        incidents=tuple(incidents),
        maintenance=tuple(maintenance),
    )
