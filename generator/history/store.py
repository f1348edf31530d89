"""History: the on-disk record of one status page (raw checks, daily roll-ups, states, caches).

One writer at a time (one run; the Actions workflow serializes runs); readers may
run alongside because every rewrite is atomic and raw files only grow by whole
lines. See ``layout`` for the folder structure and ``rawlog``/``rollup`` for the
file formats.

Retention: ``prune(now)`` deletes the raw file of every UTC day that ended at or
before ``now - retention_days``, so at least ``retention_days`` of raw checks are
always kept (at most one day more). Raw files are never rewritten, only deleted
whole. Before a file goes, its roll-up is brought up to date; roll-ups are kept
forever.

Uptime over a window ``(now - window, now]`` (a check exactly at ``now`` counts,
one exactly ``window`` earlier does not): the two partial days at the ends come
from raw checks, the whole UTC days in between from roll-ups (which equal the raw
counts exactly). A partial end day whose raw file is already pruned contributes
nothing, so the figure never counts a check from outside the window.
"""

from __future__ import annotations

import os

import json
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Optional, Union

from generator.fsutil import atomic_write_json
from generator.history import rawlog, statefile
from generator.history.errors import HistoryError
from generator.history.layout import Layout
from generator.history.rollup import (
    TIMED,
    RollupYear,
    compute_rollup,
    load_year,
    tally,
    tally_checks,
    uptime_percent,
)
from generator.models import Check, DayRollup, MonitorState
from generator.timeutil import UTC, day_of, to_iso

DayLike = Union[str, date, datetime]
RAW_SERIES_SPAN = timedelta(days=7)  # latency_series reads raw checks up to this span, roll-ups beyond
_DAY = timedelta(days=1)


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
    def __init__(self, data_dir: Union[str, Path], retention_days: int = 90):
        if int(retention_days) < 1:
            raise ValueError(f"retention_days must be at least 1, got {retention_days!r}")
        self.data_dir = Path(data_dir)
        self.retention_days = int(retention_days)
        self.layout = Layout(self.data_dir)

    def __repr__(self) -> str:
        return f"History({str(self.data_dir)!r}, retention_days={self.retention_days})"

    # ------------------------------------------------------------------ writing

    def record(self, checks: Iterable[Check]) -> None:
        """Append each check to its monitor's raw day file, then bring that monitor's roll-ups up to date."""
        grouped: dict[str, dict[str, list[Check]]] = defaultdict(lambda: defaultdict(list))
        for check in checks:
            _aware(check.time, f"check of {check.monitor_id!r}: time")
            grouped[check.monitor_id][day_of(check.time)].append(check)
        for monitor_id, days in grouped.items():
            for day, group in days.items():
                rawlog.append_checks(self.layout.raw_file(monitor_id, day), group)
            self._sync(monitor_id, durable=len(grouped) == 1)
        if len(grouped) > 1:
            # One flush for the whole run instead of an fsync per roll-up file: same durability,
            # a fraction of the cost with hundreds of monitors.
            os.sync()

    def _sync(self, monitor_id: str, extra_years: Iterable[str] = (), *, durable: bool = True) -> int:
        """Recompute the roll-up of every day whose raw file changed since it was last rolled up.

        Comparing file sizes with the ``synced`` record makes this cheap (a stat per
        retained day) and self-healing: a run killed between the raw append and the
        roll-up rewrite is repaired here by the next run. Returns the days recomputed.
        """
        raw_sizes = self.layout.raw_sizes(monitor_id)
        years: dict[str, RollupYear] = {}
        changed: set[str] = set()

        def year_of(day: str) -> RollupYear:
            year = day[:4]
            if year not in years:
                years[year] = load_year(self.layout.rollup_file(monitor_id, year), monitor_id)
            return years[year]

        for year in extra_years:
            year_of(f"{year}-01-01")
        recomputed = 0
        for day in sorted(raw_sizes):
            rollups = year_of(day)
            if rollups.synced.get(day) == raw_sizes[day] and day in rollups.days:
                continue
            checks, read = rawlog.read_checks_sized(monitor_id, self.layout.raw_file(monitor_id, day))
            rollups.days[day] = compute_rollup(day, checks)
            rollups.synced[day] = read  # the bytes the roll-up reflects, not the size scanned before
            changed.add(day[:4])
            recomputed += 1
        present = set(raw_sizes)
        for year, rollups in years.items():
            gone = [day for day in rollups.synced if day not in present]
            for day in gone:  # pruned raw files: their roll-ups stay, the size record goes
                del rollups.synced[day]
            if gone:
                changed.add(year)
        for year in sorted(changed):
            years[year].save(self.layout.rollup_file(monitor_id, year), durable=durable)
        return recomputed

    def prune(self, now: datetime) -> int:
        """Delete raw day files that ended at or before ``now - retention_days``; returns the checks removed."""
        now = _aware(now, "now")
        keep_from = day_of(now - timedelta(days=self.retention_days))
        removed = 0
        for monitor_id in self.layout.monitor_ids():
            old = [day for day in self.layout.raw_days(monitor_id) if day < keep_from]
            if not old:
                continue
            self._sync(monitor_id)  # roll-ups must hold every check before its raw file goes
            for day in old:
                path = self.layout.raw_file(monitor_id, day)
                removed += len(rawlog.read_checks(monitor_id, path))
                path.unlink(missing_ok=True)
            self._sync(monitor_id, extra_years={day[:4] for day in old})
            try:
                self.layout.raw_dir(monitor_id).rmdir()  # only succeeds when empty
            except OSError:
                pass
        return removed

    # ------------------------------------------------------------------ reading

    def monitor_ids(self) -> list[str]:
        """Every monitor with raw checks or roll-ups on disk, sorted."""
        return self.layout.monitor_ids()

    def checks(self, monitor_id: str, since: datetime, until: Optional[datetime] = None) -> list[Check]:
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

    def points(self, monitor_id: str, since: datetime, until: datetime) -> tuple[list[tuple[float, str, Optional[float]]], Optional[Check]]:
        """``(epoch seconds, status, latency ms)`` of raw checks with ``since < time <= until``, by time,
        and the latest of them as a full Check: a cheap read for charts and counts."""
        since, until = _aware(since, "since"), _aware(until, "until")
        low, high = since.timestamp(), until.timestamp()
        first, last_day = day_of(since), day_of(until)
        found: list[tuple[float, str, Optional[float]]] = []
        newest_line = ""
        for day in self.layout.raw_days(monitor_id):
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

    def rollups(self, monitor_id: str, since_day: Optional[DayLike] = None) -> list[DayRollup]:
        """Daily roll-ups (ascending by day) from ``since_day`` on; reads only the roll-up files."""
        first = None if since_day is None else _as_day(since_day)
        found: list[DayRollup] = []
        for year in self.layout.rollup_years(monitor_id):
            if first is not None and year < first[:4]:
                continue
            rollups = load_year(self.layout.rollup_file(monitor_id, year), monitor_id)
            found.extend(r for day, r in rollups.days.items() if first is None or day >= first)
        found.sort(key=lambda r: r.day)
        return found

    def uptime(
        self, monitor_id: str, now: datetime, window: timedelta, degraded_counts_as_up: bool = True
    ) -> Optional[float]:
        """Percent (0..100) of answered checks that were up in ``(now - window, now]``; None with no data.

        Degraded counts as up unless told otherwise; no_data and maintenance count on
        neither side. Exact for any window: raw checks for the two partial end days,
        roll-ups for the whole days between.
        """
        now = _aware(now, "now")
        if window <= timedelta(0):
            raise ValueError(f"window must be positive, got {window}")
        start = now - window
        first_day, last_day = day_of(start), day_of(now)

        def raw(day: str, after: datetime, upto: datetime) -> list[Check]:
            path = self.layout.raw_file(monitor_id, day)
            return [c for c in rawlog.read_checks(monitor_id, path) if after < c.time <= upto]

        if first_day == last_day:
            counts = tally_checks(raw(first_day, start, now))
        else:
            ends = raw(first_day, start, now) + raw(last_day, start, now)
            middle = [r for r in self.rollups(monitor_id, since_day=first_day) if first_day < r.day < last_day]
            counts = tally_checks(ends)
            for name, value in tally(middle).items():
                counts[name] += value
        return uptime_percent(counts, degraded_counts_as_up)

    def latency_series(
        self, monitor_id: str, since: datetime, until: datetime, buckets: int
    ) -> list[tuple[datetime, Optional[float]]]:
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
                if check.status in TIMED and check.latency_ms is not None:
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
