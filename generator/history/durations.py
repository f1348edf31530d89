"""Time-weighted day roll-ups: each observation holds from its time until the next one.

An observation (a check) holds its status from its own time until the monitor's
next observation, but at most ``hold`` seconds: beyond that the time is *no data*.
Time is split at UTC midnight, so a check at 23:58 that holds until 00:03 gives two
minutes to its own day and three to the next. Uptime therefore weighs time, not
checks: twelve verification probes five seconds apart hold one minute between them,
as one check would.

``hold`` is the monitor's expected interval plus a grace. Runs come every five
minutes from GitHub's schedule today, so the default is ``hold_for(300)`` = 600 s:
one interval plus one interval of grace (GitHub often starts scheduled runs late).
When monitors get their own ``interval``, ``hold_for(monitor.interval)`` feeds
``History(holds=...)`` per monitor.

All arithmetic is in integer milliseconds (raw checks are stored at millisecond
precision), so folding checks one at a time and replaying a whole day give the
same numbers, to the millisecond.

Latency figures come from a histogram of latencies rounded to three significant
digits (84.2 ms, 351 ms, 1,230 ms): it stays small whatever the number of checks,
so a day's running summary costs the same to update at 23:55 as at 00:05. Order
statistics commute with that rounding, so the stored median and p95 are the exact
ones rounded to three significant digits (0.5% at worst; exact below 100 ms).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from generator.history.rawlog import round_latency
from generator.models import Check, CheckStatus, DayRollup
from generator.timeutil import UTC

DEFAULT_INTERVAL = 300.0  # seconds: GitHub's */5 schedule
DAY_MS = 86_400_000
STATUSES = tuple(status.value for status in CheckStatus)  # up, degraded, down, no_data, maintenance
TIMED = (CheckStatus.UP.value, CheckStatus.DEGRADED.value)  # a down check's latency is often the timeout
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def hold_for(interval: float) -> float:
    """How long an observation holds, in seconds: its expected interval plus one interval of grace."""
    return 2.0 * float(interval)


DEFAULT_HOLD = hold_for(DEFAULT_INTERVAL)  # 600 s


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds, truncated as ``to_iso`` truncates: the time the raw file keeps."""
    return (moment - _EPOCH) // _MS


def day_start_ms(day: str) -> int:
    return to_ms(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC))


def day_of_ms(moment: int) -> str:
    return (_EPOCH + timedelta(milliseconds=moment)).strftime("%Y-%m-%d")


def quantize(latency: float) -> float:
    """Three significant digits: the histogram's resolution."""
    return float(f"{latency:.3g}")


@dataclass
class DayAcc:
    """One day being rolled up: counts, milliseconds per status, merged spans, a latency histogram.

    ``covered`` is the instant (epoch ms) up to which time is attributed; the per-status
    milliseconds always add up to ``covered - start``.
    """

    day: str
    start: int
    covered: int
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    held: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    spans: list[list[Any]] = field(default_factory=list)  # [start ms, end ms, status] after 00:00
    latencies: dict[float, int] = field(default_factory=dict)
    latency_min: float | None = None
    latency_max: float | None = None

    @classmethod
    def new(cls, day: str) -> DayAcc:
        start = day_start_ms(day)
        return cls(day=day, start=start, covered=start)

    def hold(self, a: int, b: int, status: str) -> None:
        """Attribute [a, b) (inside this day, a == covered) to ``status``."""
        if b <= a:
            return
        self.held[status] += b - a
        self.covered = b
        if status == CheckStatus.NO_DATA.value:
            return  # gaps are what the spans leave out
        lo, hi = a - self.start, b - self.start
        last = self.spans[-1] if self.spans else None
        if last is not None and last[2] == status and last[1] == lo:
            last[1] = hi
        else:
            self.spans.append([lo, hi, status])

    def count(self, status: str, latency: float | None) -> None:
        self.counts[status] += 1
        if status in TIMED and latency is not None:
            self.latencies[quantize(latency)] = self.latencies.get(quantize(latency), 0) + 1
            self.latency_min = latency if self.latency_min is None else min(self.latency_min, latency)
            self.latency_max = latency if self.latency_max is None else max(self.latency_max, latency)

    @property
    def empty(self) -> bool:
        """Nothing but no data: not worth a roll-up."""
        return not any(self.counts.values()) and not self.spans

    def rollup(self) -> DayRollup:
        median = p95 = None
        if self.latencies:
            ordered = sorted(self.latencies.items())
            total = sum(self.latencies.values())
            median = round((_nth(ordered, (total - 1) // 2) + _nth(ordered, total // 2)) / 2, 2)
            p95 = round(_nth(ordered, max(1, math.ceil(0.95 * total)) - 1), 2)
        counts, held = self.counts, self.held
        return DayRollup(
            day=self.day,
            checks=sum(counts.values()),
            up=counts["up"],
            degraded=counts["degraded"],
            down=counts["down"],
            no_data=counts["no_data"],
            maintenance=counts["maintenance"],
            latency_min=None if self.latency_min is None else round(self.latency_min, 2),
            latency_median=median,
            latency_p95=p95,
            latency_max=None if self.latency_max is None else round(self.latency_max, 2),
            up_seconds=held["up"] / 1000,
            degraded_seconds=held["degraded"] / 1000,
            down_seconds=held["down"] / 1000,
            maintenance_seconds=held["maintenance"] / 1000,
            no_data_seconds=held["no_data"] / 1000,
            spans=tuple((a / 1000, b / 1000, status) for a, b, status in self.spans),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "covered_ms": self.covered - self.start,
            "counts": {s: n for s, n in self.counts.items() if n},
            "held_ms": {s: n for s, n in self.held.items() if n},
            "spans_ms": self.spans,
            "latencies": {format(value, "g"): n for value, n in sorted(self.latencies.items())},
            "latency_min": self.latency_min,
            "latency_max": self.latency_max,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> DayAcc:
        """Raises ValueError / TypeError / KeyError on a malformed value (the caller names the file)."""
        acc = cls.new(str(value["day"]))
        acc.covered = acc.start + int(value["covered_ms"])
        for status, n in dict(value.get("counts", {})).items():
            acc.counts[_status(status)] = int(n)
        for status, n in dict(value.get("held_ms", {})).items():
            acc.held[_status(status)] = int(n)
        acc.spans = [[int(a), int(b), _status(s)] for a, b, s in value.get("spans_ms", [])]
        acc.latencies = {float(k): int(n) for k, n in dict(value.get("latencies", {})).items()}
        acc.latency_min = _float_or_none(value.get("latency_min"))
        acc.latency_max = _float_or_none(value.get("latency_max"))
        return acc


def _nth(ordered: list[tuple[float, int]], index: int) -> float:
    """The ``index``-th smallest (0-based) of a histogram given as sorted (value, count) pairs."""
    for value, count in ordered:
        if index < count:
            return value
        index -= count
    raise IndexError(index)


def _status(value: Any) -> str:
    if value not in STATUSES:
        raise ValueError(f"unknown status {value!r}")
    return str(value)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


class Timeline:
    """Folds one monitor's observations, in time order, into day accumulators.

    ``last`` is the observation still holding (epoch ms, status); ``floor`` drops any
    time before it (a rebuild from day F starts with the last check of F-1 as ``last``
    but must not re-attribute F-1 itself).
    """

    def __init__(self, hold: float, last: tuple[int, str] | None = None,
                 days: dict[str, DayAcc] | None = None, floor: int | None = None):
        self.hold_ms = round(hold * 1000)
        self.last = last
        self.days: dict[str, DayAcc] = days if days is not None else {}
        self.floor = floor

    def add(self, moment: int, status: str, latency: float | None) -> None:
        if self.last is not None:
            if moment < self.last[0]:
                raise ValueError("observations must come in time order")
            held_until = min(moment, self.last[0] + self.hold_ms)
            self._attribute(self.last[0], held_until, self.last[1])
            self._attribute(held_until, moment, CheckStatus.NO_DATA.value)
        else:
            self._attribute(moment, moment, CheckStatus.NO_DATA.value)  # opens the day: no data since 00:00
        self.last = (moment, status)
        self._acc(day_of_ms(moment)).count(status, latency)

    def add_checks(self, checks: Iterable[Check]) -> None:
        """Checks in any order: folded by time (stable, so ties keep their file order)."""
        for check in sorted(checks, key=lambda c: c.time):
            self.add(to_ms(check.time), CheckStatus(check.status).value, round_latency(check.latency_ms))

    def _acc(self, day: str) -> DayAcc:
        acc = self.days.get(day)
        if acc is None:
            acc = self.days[day] = DayAcc.new(day)
        return acc

    def _attribute(self, a: int, b: int, status: str) -> None:
        """[a, b) to ``status``, split at midnights; a day's earlier unattributed time is no data."""
        if self.floor is not None:
            a, b = max(a, self.floor), max(b, self.floor)
        while True:
            acc = self._acc(day_of_ms(a))
            end = min(b, acc.start + DAY_MS)
            if acc.covered < a:
                acc.hold(acc.covered, a, CheckStatus.NO_DATA.value)
            acc.hold(max(a, acc.covered), end, status)
            if end >= b:
                return
            a = end

    def settled(self) -> tuple[list[DayAcc], list[DayAcc]]:
        """(closed days, open days): a day before the last observation's day can no longer change."""
        if self.last is None:
            return [], []
        current = day_of_ms(self.last[0])
        closed = [self.days[d] for d in sorted(self.days) if d < current]
        return closed, [self.days[d] for d in sorted(self.days) if d >= current]

    def completed(self, now: datetime) -> list[DayAcc]:
        """Copies of the open days as of ``now``: the last observation holds until ``now`` (at most
        ``hold``), then no data until ``now`` or the day's end. Unchanged when ``now`` is earlier."""
        _, open_days = self.settled()
        if self.last is None:
            return open_days
        end = to_ms(now)
        if end <= self.last[0]:
            return open_days
        ahead = Timeline(self.hold_ms / 1000, self.last, {a.day: copy.deepcopy(a) for a in open_days}, self.floor)
        held_until = min(end, self.last[0] + self.hold_ms)
        ahead._attribute(self.last[0], held_until, self.last[1])
        last_acc = ahead._acc(day_of_ms(max(held_until - 1, self.last[0])))
        ahead._attribute(held_until, min(end, last_acc.start + DAY_MS), CheckStatus.NO_DATA.value)
        return [ahead.days[d] for d in sorted(ahead.days)]
