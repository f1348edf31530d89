"""Uptime over a rolling window, from time-weighted day roll-ups (pure arithmetic, no I/O).

``uptime over (now - window, now]`` = up time / (up + down time). Degraded time counts
as up, or, with ``degraded_counts_as_up=False`` (settings), as down; maintenance and
no-data time count on neither side. None when nothing counted.

Whole days inside the window add their stored seconds; the day the window starts in,
and the day it ends in, add the overlap of their ``spans`` with the window, so a
window may start and end at any instant and no raw check is re-read. The roll-ups
must be completed to ``now`` (``History.rollups(..., now=now)``) for the newest check
to hold until ``now``. A day converted from a count-only roll-up (``approximate``, no
spans) contributes in proportion to the part of it inside the window.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache

from generator.models import DayRollup
from generator.timeutil import UTC

COUNTED = ("up", "degraded", "down", "maintenance")  # no data is what is left
_DAY = 86_400.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=4096)  # a build asks for the same few hundred days once per monitor and window
def _day_start(day: str) -> float:
    return (datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC) - _EPOCH).total_seconds()


def window_seconds(rollups: Iterable[DayRollup], start: datetime, end: datetime) -> dict[str, float]:
    """Seconds each status held inside [start, end) (the same measure as (start, end])."""
    low = (start - _EPOCH).total_seconds()
    high = (end - _EPOCH).total_seconds()
    total = dict.fromkeys(COUNTED, 0.0)
    for rollup in rollups:
        day_start = _day_start(rollup.day)
        a, b = max(low, day_start), min(high, day_start + _DAY)
        if b <= a:
            continue
        if a == day_start and b == day_start + _DAY:
            total["up"] += rollup.up_seconds
            total["degraded"] += rollup.degraded_seconds
            total["down"] += rollup.down_seconds
            total["maintenance"] += rollup.maintenance_seconds
        elif rollup.approximate:
            for name in COUNTED:
                total[name] += getattr(rollup, f"{name}_seconds") * (b - a) / _DAY
        else:
            lo, hi = a - day_start, b - day_start
            for first, last, status in rollup.spans:
                overlap = min(hi, last) - max(lo, first)
                if overlap > 0 and status in total:
                    total[status] += overlap
    return total


def uptime_percent(seconds: dict[str, float], degraded_counts_as_up: bool = True) -> float | None:
    good = seconds["up"] + (seconds["degraded"] if degraded_counts_as_up else 0.0)
    counted = seconds["up"] + seconds["degraded"] + seconds["down"]
    if counted <= 0:
        return None
    return 100.0 * good / counted


def window_uptime(rollups: Iterable[DayRollup], now: datetime, window: timedelta,
                  degraded_counts_as_up: bool = True) -> float | None:
    """Percent up over ``(now - window, now]``; None when no time counted."""
    if window <= timedelta(0):
        raise ValueError(f"window must be positive, got {window}")
    return uptime_percent(window_seconds(rollups, now - window, now), degraded_counts_as_up)


def day_uptime(rollup: DayRollup, degraded_counts_as_up: bool = True) -> float | None:
    """Percent up over one stored day (a daily bar)."""
    good = rollup.up_seconds + (rollup.degraded_seconds if degraded_counts_as_up else 0.0)
    counted = rollup.up_seconds + rollup.degraded_seconds + rollup.down_seconds
    return 100.0 * good / counted if counted > 0 else None
