"""The watch scheduler: when each monitor falls due, spread over its interval, without drift.

Pure: no clock, no I/O. Times are seconds since the Unix epoch (UTC), as ``time.time()`` gives.

Each monitor owns a lattice of due times, ``offset + k * interval`` for whole ``k``, where the
offset is a stable hash of its id spread over the interval. Hence:

- a thousand monitors with the same interval fall due spread over it, not in the same second;
- due times never drift: the next one is the next point of the lattice, however late the check
  ran (a check that ran more than a whole interval late skips the slots it missed, it does not
  queue them up);
- the lattice is the same in every process, so a watcher that takes over from another (a restart,
  the next CI job) checks each monitor in the same slots, continuing where the last one stopped.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from dataclasses import dataclass
from typing import Iterable, Optional

DEFAULT_INTERVAL = 60.0  # seconds, when neither the monitor nor settings.interval says


def interval_of(own: Optional[float], default: Optional[float]) -> float:
    """A monitor's watch interval: its own (or from ``defaults:``), else ``settings.interval``, else 60 s."""
    return float(own or default or DEFAULT_INTERVAL)


def offset(monitor_id: str, interval: float) -> float:
    """Where in its interval a monitor's slot lies: a stable hash of the id, in ``[0, interval)``."""
    if interval <= 0:
        raise ValueError(f"interval must be more than 0, got {interval!r}")
    digest = hashlib.sha256(monitor_id.encode("utf-8")).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2.0**64
    return fraction * interval


def next_due(interval: float, slot: float, after: float) -> float:
    """The first point of the lattice ``slot + k * interval`` strictly after ``after``."""
    if interval <= 0:
        raise ValueError(f"interval must be more than 0, got {interval!r}")
    k = math.floor((after - slot) / interval) + 1
    due = slot + k * interval
    if due <= after:  # floating point at a lattice point
        due += interval
    return due


def first_due(interval: float, slot: float, start: float) -> float:
    """The first point of the lattice at or after ``start``."""
    return next_due(interval, slot, start - 1e-9)


@dataclass(frozen=True)
class Due:
    """A monitor whose slot came: its id, and the slot's time (lateness = when probed - ``at``)."""

    monitor_id: str
    at: float


class Schedule:
    """Every monitor's next due time, in a heap: :meth:`pop_due` costs O(due * log n)."""

    def __init__(self, monitors: Iterable[tuple[str, float]], start: float) -> None:
        self._interval: dict[str, float] = {}
        self._slot: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self.skipped = 0  # slots missed because a check ran more than a whole interval late
        for monitor_id, interval in monitors:
            if monitor_id in self._interval:
                raise ValueError(f"monitor {monitor_id!r} is scheduled twice")
            self._interval[monitor_id] = float(interval)
            self._slot[monitor_id] = offset(monitor_id, float(interval))
            heapq.heappush(self._heap, (first_due(float(interval), self._slot[monitor_id], start), monitor_id))

    def __len__(self) -> int:
        return len(self._heap)

    def next_time(self) -> float | None:
        """When the earliest monitor falls due (None with no monitor)."""
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> list[Due]:
        """The monitors due at ``now``, each rescheduled to the next slot of its lattice after ``now``."""
        found: list[Due] = []
        while self._heap and self._heap[0][0] <= now:
            at, monitor_id = heapq.heappop(self._heap)
            interval = self._interval[monitor_id]
            following = next_due(interval, self._slot[monitor_id], now)
            self.skipped += max(0, round((following - at) / interval) - 1)
            heapq.heappush(self._heap, (following, monitor_id))
            found.append(Due(monitor_id, at))
        return found
