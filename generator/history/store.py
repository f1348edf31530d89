"""History: the on-disk record of one status page (raw checks, daily roll-ups, states, caches).

One writer at a time (one run; the Actions workflow serializes runs); readers may
run alongside because every rewrite is atomic and raw files only grow by whole
lines. See ``layout`` for the folder structure, ``rawlog``/``rollup``/``summary`` for
the file formats, ``durations`` for the time weighting and ``keeper`` for how
roll-ups follow the raw checks.

Recording costs what the batch holds, whatever the day files already hold: raw lines
are appended and folded into each monitor's running summary (``open.json``).

Retention: ``prune(now)`` deletes the raw file of every UTC day that ended at or
before ``now - retention_days``, so at least ``retention_days`` of raw checks are
always kept (at most one day more). Raw files are never rewritten, only deleted
whole. Roll-ups are kept forever.

Uptime is time-weighted (``durations``): each check holds until the monitor's next
check, at most ``hold`` seconds (``DEFAULT_HOLD``, or ``holds[monitor_id]``), and
``uptime(now, window)`` weighs the time of ``(now - window, now]`` (``uptime``).
"""

from __future__ import annotations

import json
import os
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from generator.fsutil import atomic_write_json
from generator.history import rawlog, statefile
from generator.history.durations import DEFAULT_HOLD, TIMED
from generator.history.errors import HistoryError
from generator.history.keeper import RollupKeeper
from generator.history.layout import Layout
from generator.history.summary import load_summary
from generator.history.uptime import window_uptime
from generator.models import Check, CheckStatus, DayRollup, MonitorState
from generator.timeutil import UTC, day_of, to_iso

DayLike = str | date | datetime
RAW_SERIES_SPAN = timedelta(days=7)  # latency_series reads raw checks up to this span, roll-ups beyond
_DAY = timedelta(days=1)
_TIMED = tuple(CheckStatus(value) for value in TIMED)


def _day_start(day: str) -> datetime:
    return datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)


def _as_day(value: DayLike) -> str:
    if isinstance(value, datetime):
        return day_of(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _aware(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ValueError(f"{name}: expected a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


class History:
    def __init__(self, data_dir: str | Path, retention_days: int = 90, *, hold: float = DEFAULT_HOLD,
                 holds: Mapping[str, float] | None = None):
        """``hold``: seconds a check holds at most (``durations.hold_for(interval)``); ``holds`` per monitor."""
        if int(retention_days) < 1:
            raise ValueError(f"retention_days must be at least 1, got {retention_days!r}")
        if hold <= 0 or any(value <= 0 for value in (holds or {}).values()):
            raise ValueError("hold must be positive")
        self.data_dir = Path(data_dir)
        self.retention_days = int(retention_days)
        self.hold = float(hold)
        self.holds = dict(holds or {})
        self.layout = Layout(self.data_dir)
        self.keeper = RollupKeeper(self.layout, self.hold_of)

    def __repr__(self) -> str:
        return f"History({str(self.data_dir)!r}, retention_days={self.retention_days})"

    def hold_of(self, monitor_id: str) -> float:
        return float(self.holds.get(monitor_id, self.hold))

    # ------------------------------------------------------------------ writing

    def record(self, checks: Iterable[Check]) -> None:
        """Append each check to its monitor's raw day file and fold it into the monitor's roll-ups."""
        grouped: dict[str, list[Check]] = defaultdict(list)
        for check in checks:
            _aware(check.time, f"check of {check.monitor_id!r}: time")
            grouped[check.monitor_id].append(check)
        for monitor_id, group in grouped.items():
            self.keeper.record(monitor_id, group, durable=len(grouped) == 1)
        if len(grouped) > 1:
            # One flush for the whole run instead of an fsync per summary file: same durability,
            # a fraction of the cost with hundreds of monitors.
            os.sync()

    def prune(self, now: datetime) -> int:
        """Delete raw day files that ended at or before ``now - retention_days``; returns the checks removed."""
        now = _aware(now, "now")
        keep_from = day_of(now - timedelta(days=self.retention_days))
        removed = 0
        for monitor_id in self.layout.monitor_ids():
            old = [day for day in self.layout.raw_days(monitor_id) if day < keep_from]
            if not old:
                continue
            # every raw line must be folded into the roll-ups before its file goes
            summary = self.keeper.writable(monitor_id)
            summary = self.keeper.catch_up(monitor_id, summary, max(day_of(now), *self.layout.raw_days(monitor_id)),
                                           durable=True)
            for day in old:
                path = self.layout.raw_file(monitor_id, day)
                removed += len(rawlog.read_checks(monitor_id, path))
                path.unlink(missing_ok=True)
            if any(day in summary.offsets for day in old):
                summary.offsets = {day: size for day, size in summary.offsets.items() if day not in old}
                summary.save(self.layout.summary_file(monitor_id))
            try:
                self.layout.raw_dir(monitor_id).rmdir()  # only succeeds when empty
            except OSError:
                pass
        return removed

    # ------------------------------------------------------------------ reading

    def monitor_ids(self) -> list[str]:
        """Every monitor with raw checks or roll-ups on disk, sorted."""
        return self.layout.monitor_ids()

    def checks(self, monitor_id: str, since: datetime, until: datetime | None = None) -> list[Check]:
        """Raw checks with ``since <= time <= until`` (no upper bound when ``until`` is None), by time.

        Reads only the day files that overlap the range.
        """
        since = _aware(since, "since")
        until = None if until is None else _aware(until, "until")
        first, last = day_of(since), (None if until is None else day_of(until))
        found: list[Check] = []
        for day in self.layout.raw_days(monitor_id):
            if day < first or (last is not None and day > last):
                continue
            cutoff = to_iso(since) if day == first else ""
            for check in rawlog.read_checks(monitor_id, self.layout.raw_file(monitor_id, day), not_before=cutoff):
                if check.time >= since and (until is None or check.time <= until):
                    found.append(check)
        found.sort(key=lambda c: c.time)
        return found

    def points(self, monitor_id: str, since: datetime, until: datetime) -> tuple[list[tuple[float, str, float | None]], Check | None]:
        """``(epoch seconds, status, latency ms)`` of raw checks with ``since < time <= until``, by time,
        and the latest of them as a full Check: a cheap read for charts and counts."""
        since, until = _aware(since, "since"), _aware(until, "until")
        low, high = since.timestamp(), until.timestamp()
        first, last_day = day_of(since), day_of(until)
        found: list[tuple[float, str, float | None]] = []
        newest_line = ""
        for day in self._days_between(monitor_id, since, until):
            if day < first or day > last_day:
                continue
            points, last_line = rawlog.read_points(self.layout.raw_file(monitor_id, day),
                                                   not_before=to_iso(since) if day == first else "")
            inside = [p for p in points if low < p[0] <= high]
            if inside:
                found.extend(inside)
                newest_line = last_line
        found.sort(key=lambda p: p[0])
        check = rawlog.parse_line(monitor_id, newest_line) if newest_line else None
        if found and (check is None or check.time.timestamp() != found[-1][0]):
            # the newest point is not its file's last line (a later line, or out-of-order appends)
            newest = [c for c in self.checks(monitor_id, since, until) if c.time.timestamp() == found[-1][0]]
            check = newest[-1] if newest else None
        return found, check

    def _days_between(self, monitor_id: str, since: datetime, until: datetime) -> list[str]:
        """The raw days that can hold checks of [since, until]: named from the calendar for a short
        range (a missing file reads as empty; no directory listing), else as listed on disk."""
        if until - since > RAW_SERIES_SPAN:
            return self.layout.raw_days(monitor_id)
        first = datetime.strptime(day_of(since), "%Y-%m-%d").replace(tzinfo=UTC)
        return [day_of(first + _DAY * offset) for offset in range((until - first).days + 1)]

    def rollups(self, monitor_id: str, since_day: DayLike | None = None,
                now: datetime | None = None) -> list[DayRollup]:
        """Daily roll-ups (ascending by day) from ``since_day`` on, without reading raw checks.

        The newest day is as of the newest check; given ``now``, that check holds until
        ``now`` (at most its hold) and the rest of the day up to ``now`` is no data, so
        the durations of every day reach ``now``.
        """
        first = None if since_day is None else _as_day(since_day)
        return self.keeper.rows(monitor_id, first, None if now is None else _aware(now, "now"))

    def rollups_as_of_newest(self, monitor_id: str, since_day: DayLike, now: datetime) -> tuple[list[DayRollup], datetime]:
        """For a page drawn as of a monitor's newest check: that check's time when it falls on ``now``'s
        UTC day (and not after ``now``), else ``now``; and the roll-ups from ``since_day`` completed to
        that time. The running summary is read once."""
        now = _aware(now, "now")
        summary = load_summary(self.layout.summary_file(monitor_id), monitor_id)
        as_of = now
        if summary is not None and summary.last is not None:
            newest = datetime.fromtimestamp(summary.last[0] / 1000, UTC)
            if newest <= now and day_of(newest) == day_of(now):
                as_of = newest
        return self.keeper.rows_of(monitor_id, summary, _as_day(since_day), as_of), as_of

    def uptime(
        self, monitor_id: str, now: datetime, window: timedelta, degraded_counts_as_up: bool = True
    ) -> float | None:
        """Percent (0..100) of the counted time that was up in ``(now - window, now]``; None with none counted.

        Time-weighted: degraded counts as up unless told otherwise; no data and
        maintenance count on neither side. Exact for any window and any ``now``, from
        roll-ups only (their spans cover the days the window starts and ends in).
        """
        now = _aware(now, "now")
        if window <= timedelta(0):
            raise ValueError(f"window must be positive, got {window}")
        rows = self.rollups(monitor_id, since_day=day_of(now - window), now=now)
        return window_uptime(rows, now, window, degraded_counts_as_up)

    def last_observation(self, monitor_id: str) -> tuple[datetime, CheckStatus] | None:
        """The newest folded check's time and status (None before the first one)."""
        summary = load_summary(self.layout.summary_file(monitor_id), monitor_id)
        if summary is None or summary.last is None:
            return None
        return datetime.fromtimestamp(summary.last[0] / 1000, UTC), CheckStatus(summary.last[1])

    def latency_series(
        self, monitor_id: str, since: datetime, until: datetime, buckets: int
    ) -> list[tuple[datetime, float | None]]:
        """Median latency per equal bucket of ``[since, until)`` (a check exactly at ``until`` joins the last).

        Spans up to RAW_SERIES_SPAN (7 days) use raw checks of up/degraded status;
        longer spans use each day's ``latency_median`` from the roll-ups, a day
        belonging to the bucket that holds its noon, and a bucket's value is the
        median of those daily medians. None where a bucket has nothing.
        """
        since, until = _aware(since, "since"), _aware(until, "until")
        if buckets < 1:
            raise ValueError(f"buckets must be at least 1, got {buckets}")
        if until <= since:
            raise ValueError(f"until ({until}) must be after since ({since})")
        width = (until - since) / buckets
        values: list[list[float]] = [[] for _ in range(buckets)]

        def slot(moment: datetime) -> int:
            return min(int((moment - since) / width), buckets - 1)

        if until - since <= RAW_SERIES_SPAN:
            for check in self.checks(monitor_id, since, until):
                if check.status in _TIMED and check.latency_ms is not None:
                    values[slot(check.time)].append(check.latency_ms)
        else:
            for rollup in self.rollups(monitor_id, since_day=day_of(since)):
                noon = _day_start(rollup.day) + _DAY / 2
                if since <= noon < until and rollup.latency_median is not None:
                    values[slot(noon)].append(rollup.latency_median)
        return [
            (since + width * index, round(statistics.median(found), 2) if found else None)
            for index, found in enumerate(values)
        ]

    # ------------------------------------------------------------------ state and caches

    def load_states(self) -> dict[str, MonitorState]:
        """Every monitor's last state ({} before the first run); HistoryError naming the file if unreadable."""
        return statefile.load_states(self.layout.state_file)

    def save_states(self, states: dict[str, MonitorState]) -> None:
        statefile.save_states(self.layout.state_file, states)

    def read_json(self, name: str, default: Any = None) -> Any:
        """A small cache value from ``cache/<name>.json``; ``default`` when absent."""
        path = self.layout.cache_file(name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return default
        except (OSError, UnicodeDecodeError) as error:
            raise HistoryError(f"{path}: cannot read cache: {error}") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise HistoryError(
                f"{path}: cache is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}); "
                "delete it to start the cache afresh"
            ) from None

    def write_json(self, name: str, value: Any) -> None:
        atomic_write_json(self.layout.cache_file(name), value)
