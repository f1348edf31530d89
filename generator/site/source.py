"""Fill a SiteInput from a History: the only module of the site builder that reads history.

What it reads, to keep a build fast at 1,000 monitors: the daily roll-ups of the
last 90 days and a day (one small file per monitor and year, plus its running
summary ``open.json``), completed to ``now`` so that rolling windows and today's bar
weigh time up to the build; and the raw checks of the last 24 hours (at most two
day files per monitor) for the latency chart, reduced at once to a ``Recent``
summary. Older raw checks are never read.

Parsing raw checks is most of a large build's reading time and is pure CPU, so
with many monitors the reading is spread over the machine's cores (forked
worker processes inherit the History object; each returns small summaries).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Iterable, Optional

from generator.models import Config, DayRollup, Incident, Maintenance, MonitorState
from generator.site.model import MonitorData, Recent, SiteInput
from generator.site.views import DAYS_SHOWN, WINDOWS
from generator.timeutil import UTC, day_of, utcnow

PARALLEL_FROM = 200  # monitors; below this, worker start-up costs more than it saves

_history: Any = None  # set in the parent just before forking; workers inherit it


def _read(history, monitor_id: str, first_day: str, now: datetime) -> tuple[tuple[DayRollup, ...], Recent]:
    today = now.date().isoformat()
    days = tuple(r for r in history.rollups(monitor_id, since_day=first_day, now=now) if r.day <= today)
    since = now - timedelta(hours=24)
    recent = Recent.of_points(*history.points(monitor_id, since, now))
    return days, recent


def _read_chunk(monitor_ids: list[str], first_day: str, now: datetime) -> list[tuple[str, tuple, Recent]]:
    return [(monitor_id, *_read(_history, monitor_id, first_day, now)) for monitor_id in monitor_ids]


def _read_all(history, monitor_ids: list[str], first_day: str, now: datetime) -> dict[str, tuple[tuple, Recent]]:
    workers = min(os.cpu_count() or 1, 4)
    if len(monitor_ids) >= PARALLEL_FROM and workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        global _history
        _history = history
        try:
            chunks = [monitor_ids[i::workers * 2] for i in range(workers * 2)]
            with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
                results = pool.map(_read_chunk, chunks, [first_day] * len(chunks), [now] * len(chunks))
                return {monitor_id: (days, recent) for chunk in results for monitor_id, days, recent in chunk}
        except (OSError, RuntimeError):
            pass  # no processes available here: read in this process
        finally:
            _history = None
    return {monitor_id: _read(history, monitor_id, first_day, now) for monitor_id in monitor_ids}


def collect(
    config: Config,
    history,
    incidents: Iterable[Incident],
    maintenance: Iterable[Maintenance],
    now: Optional[datetime] = None,
) -> SiteInput:
    now = (now or utcnow()).astimezone(UTC)
    first_day = day_of(now - timedelta(days=max(DAYS_SHOWN, WINDOWS[-1][1])))  # the 90-day window starts there
    states = history.load_states() if history is not None else {}
    ids = [monitor.id for monitor in config.monitors]
    read = _read_all(history, ids, first_day, now) if history is not None else {}
    monitors: dict[str, MonitorData] = {}
    for monitor_id in ids:
        days, recent = read.get(monitor_id, ((), Recent()))
        monitors[monitor_id] = MonitorData(
            monitor_id=monitor_id,
            state=states.get(monitor_id) or MonitorState(monitor_id=monitor_id),
            days=days,
            recent=recent,
        )
    return SiteInput(
        config=config,
        now=now,
        monitors=monitors,
        incidents=tuple(incidents),
        maintenance=tuple(maintenance),
    )
