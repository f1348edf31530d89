"""Fill a SiteInput from a History: the only module of the site builder that reads history.

What it reads, to keep a build fast at 1,000 monitors: the daily roll-ups of the
last 90 days (one small file per monitor and year; History keeps today's
partial roll-up current on every record) and the raw checks of the last 24
hours (at most two day files per monitor). Older raw checks are never read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable, Optional

from generator.models import Config, Incident, Maintenance, MonitorState
from generator.site.model import MonitorData, SiteInput
from generator.site.views import DAYS_SHOWN, day_list
from generator.timeutil import UTC, utcnow


def collect(
    config: Config,
    history,
    incidents: Iterable[Incident],
    maintenance: Iterable[Maintenance],
    now: Optional[datetime] = None,
) -> SiteInput:
    now = (now or utcnow()).astimezone(UTC)
    first_day = day_list(now, DAYS_SHOWN)[0]
    since = now - timedelta(hours=24)
    states = history.load_states() if history is not None else {}
    monitors: dict[str, MonitorData] = {}
    for monitor in config.monitors:
        if history is None:
            days, recent = [], []
        else:
            days = [r for r in history.rollups(monitor.id, since_day=first_day) if r.day <= now.date().isoformat()]
            recent = history.checks(monitor.id, since, now)
        monitors[monitor.id] = MonitorData(
            monitor_id=monitor.id,
            state=states.get(monitor.id) or MonitorState(monitor_id=monitor.id),
            days=tuple(days),
            recent=tuple(recent),
        )
    return SiteInput(
        config=config,
        now=now,
        monitors=monitors,
        incidents=tuple(incidents),
        maintenance=tuple(maintenance),
    )
