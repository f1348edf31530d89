"""Daily roll-ups: the pure computation from one day's checks, and the per-year file.

Latency figures use the checks that got an answer worth timing (up and degraded);
a down check's latency is often a timeout and would only measure the probe's
patience. Median is the usual one (mean of the two middle values for an even
count); p95 is the nearest-rank value (the ceil(0.95 n)-th smallest). Figures are
rounded to 0.01 ms.

The year file keeps one day per line so a diff shows which days changed::

    {"columns": ["day", "checks", ...],
     "days": [
      ["2026-11-24", 288, 285, 2, 1, 0, 0, 20.1, 84.2, 351.0, 399.9],
      ...],
     "monitor": "api",
     "synced": {"2026-11-24": 13456},
     "version": 1}

``synced`` maps a day to the size in bytes of its raw file when the day was last
rolled up. A run killed between appending a check and rewriting the roll-ups
leaves a size mismatch, which the next run repairs by recomputing that day.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Iterable, Optional

from generator.fsutil import atomic_write_text
from generator.history.errors import HistoryError, refuse_newer
from generator.models import Check, CheckStatus, DayRollup

VERSION = 1
COLUMNS = tuple(f.name for f in fields(DayRollup))
TIMED = (CheckStatus.UP, CheckStatus.DEGRADED)
_COUNTED = {
    CheckStatus.UP: "up",
    CheckStatus.DEGRADED: "degraded",
    CheckStatus.DOWN: "down",
    CheckStatus.NO_DATA: "no_data",
    CheckStatus.MAINTENANCE: "maintenance",
}


def percentile_nearest_rank(ordered: list[float], fraction: float) -> float:
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def compute_rollup(day: str, checks: Iterable[Check]) -> DayRollup:
    counts = {name: 0 for name in _COUNTED.values()}
    latencies: list[float] = []
    total = 0
    for check in checks:
        total += 1
        status = CheckStatus(check.status)
        counts[_COUNTED[status]] += 1
        if status in TIMED and check.latency_ms is not None:
            latencies.append(float(check.latency_ms))
    if not latencies:
        return DayRollup(day=day, checks=total, **counts)
    latencies.sort()
    return DayRollup(
        day=day,
        checks=total,
        **counts,
        latency_min=round(latencies[0], 2),
        latency_median=round(statistics.median(latencies), 2),
        latency_p95=round(percentile_nearest_rank(latencies, 0.95), 2),
        latency_max=round(latencies[-1], 2),
    )


@dataclass
class RollupYear:
    """One monitor's roll-ups for one calendar year, as held in memory between load and save."""

    monitor_id: str
    days: dict[str, DayRollup] = field(default_factory=dict)
    synced: dict[str, int] = field(default_factory=dict)

    def dumps(self) -> str:
        # getattr, not dataclasses.astuple: astuple deep-copies and dominated the cost of a run
        rows = [json.dumps([getattr(self.days[day], c) for c in COLUMNS]) for day in sorted(self.days)]
        head = json.dumps({"columns": list(COLUMNS)})[:-1]  # open object, keys follow
        body = ",\n ".join(rows)
        tail = {
            "monitor": self.monitor_id,
            "synced": {day: self.synced[day] for day in sorted(self.synced)},
            "version": VERSION,
        }
        return f'{head},\n "days": [\n {body}],\n {json.dumps(tail)[1:]}\n'

    def save(self, path: Path, *, durable: bool = True) -> None:
        atomic_write_text(path, self.dumps(), durable=durable)


def load_year(path: Path, monitor_id: str) -> RollupYear:
    """Read a year file; a missing file is an empty year, a broken one a HistoryError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return RollupYear(monitor_id)
    except (OSError, UnicodeDecodeError) as error:
        raise HistoryError(f"{path}: cannot read daily roll-ups: {error}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise HistoryError(
            f"{path}: daily roll-ups are not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}); "
            "restore the file from the history branch; it was left untouched"
        ) from None
    return _from_json(path, monitor_id, value)


def _from_json(path: Path, monitor_id: str, value: object) -> RollupYear:
    def bad(why: str) -> HistoryError:
        return HistoryError(f"{path}: daily roll-ups: {why}; the file was left untouched")

    if not isinstance(value, dict):
        raise bad("expected a JSON object")
    refuse_newer(path, value, "daily roll-ups", VERSION)
    columns = value.get("columns")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns) or "day" not in columns:
        raise bad("'columns' must list the column names, 'day' first")
    known = set(COLUMNS)
    year = RollupYear(monitor_id)
    rows = value.get("days", [])
    if not isinstance(rows, list):
        raise bad("'days' must be a list")
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(columns):
            raise bad(f"days[{index}] must be a list of {len(columns)} values")
        # columns by name: a newer file with extra columns still reads
        data = {name: cell for name, cell in zip(columns, row) if name in known}
        try:
            rollup = DayRollup(**data)
        except TypeError as error:
            raise bad(f"days[{index}]: {error}") from None
        if not isinstance(rollup.day, str):
            raise bad(f"days[{index}]: day must be YYYY-MM-DD")
        year.days[rollup.day] = rollup
    synced = value.get("synced", {})
    if not isinstance(synced, dict) or not all(isinstance(v, int) for v in synced.values()):
        raise bad("'synced' must map days to byte sizes")
    year.synced = dict(synced)
    return year


def tally(rollups: Iterable[DayRollup]) -> dict[str, int]:
    """Status counts summed over days (for uptime over whole days)."""
    total = {name: 0 for name in _COUNTED.values()}
    for rollup in rollups:
        for name in total:
            total[name] += getattr(rollup, name)
    return total


def tally_checks(checks: Iterable[Check]) -> dict[str, int]:
    total = {name: 0 for name in _COUNTED.values()}
    for check in checks:
        total[_COUNTED[CheckStatus(check.status)]] += 1
    return total


def uptime_percent(counts: dict[str, int], degraded_counts_as_up: bool = True) -> Optional[float]:
    """Up share of the answered checks; no_data and maintenance count on neither side."""
    good = counts["up"] + (counts["degraded"] if degraded_counts_as_up else 0)
    considered = counts["up"] + counts["degraded"] + counts["down"]
    if considered == 0:
        return None
    return 100.0 * good / considered
