"""A brute-force reference for time-weighted uptime, written from the definition, not from the code.

Every second of the span gets a status: the checks are painted in time order, each over
``[time, time + hold)``, so a later check overwrites what an earlier one still held (and
a check of status no_data paints no data). Then the seconds of a window are counted.
Checks must fall on whole seconds, so painting whole seconds is exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from generator.models import Check

CODES = {"up": 1, "degraded": 2, "down": 3, "maintenance": 4, "no_data": 0}


class Painted:
    def __init__(self, origin: datetime, span: timedelta, checks: Iterable[Check], hold: float):
        self.origin = origin
        self.seconds = bytearray(int(span.total_seconds()))  # 0 = no data
        size = len(self.seconds)
        for check in sorted(checks, key=lambda c: c.time):
            start = int((check.time - origin).total_seconds())
            assert (check.time - origin).total_seconds() == start, "whole seconds only"
            a, b = max(0, start), min(size, start + int(hold))
            if b > a:
                self.seconds[a:b] = bytes([CODES[check.status.value]]) * (b - a)

    def uptime(self, now: datetime, window: timedelta, degraded_counts_as_up: bool = True) -> float | None:
        """Percent up over (now - window, now]: the whole seconds [now - window, now)."""
        end = int((now - self.origin).total_seconds())
        part = self.seconds[max(0, end - int(window.total_seconds())):end]
        up, degraded, down = part.count(1), part.count(2), part.count(3)
        counted = up + degraded + down
        if not counted:
            return None
        return 100.0 * (up + (degraded if degraded_counts_as_up else 0)) / counted
