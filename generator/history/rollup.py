"""The per-year file of closed daily roll-ups (format version 2), and the conversion of version 1.

The year file keeps one day per line so a diff shows which days changed::

    {"columns": ["day", "checks", "up", ..., "up_seconds", ..., "spans", "approximate"],
     "days": [
      ["2026-11-24", 288, 285, 2, 1, 0, 0, 20.1, 84.2, 351.0, 399.9,
       85800.0, 300.0, 300.0, 0.0, 0.0, [[0.0, 85800.0, "up"], [85800.0, 86400.0, "down"]], false],
      ...],
     "monitor": "api",
     "version": 2}

Columns are the fields of ``models.DayRollup`` (read by name, so a newer file with
extra columns still reads): check counts, latency figures (ms), the seconds each
status held (``durations``), the day's merged spans ``[start, end, status]`` in
seconds after 00:00 UTC (gaps are no data), and ``approximate``.

A day lands here once it is closed (the monitor has a later check); the open day
lives in ``open.json`` (``summary``). Version 1 files (check counts only, plus a
``synced`` map) are read and converted: days whose raw checks still exist are
recomputed from them by the caller; the others by ``approximate_v1``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from generator.fsutil import atomic_write_text
from generator.history.errors import HistoryError, refuse_newer
from generator.models import DayRollup

VERSION = 2
COLUMNS = tuple(f.name for f in fields(DayRollup))
_DAY_SECONDS = 86_400.0


@dataclass
class RollupYear:
    """One monitor's closed roll-ups for one calendar year, as held between load and save."""

    monitor_id: str
    days: dict[str, DayRollup] = field(default_factory=dict)
    version: int = VERSION  # 1 when read from a count-only file that still needs converting

    def dumps(self) -> str:
        rows = [json.dumps([_cell(getattr(self.days[day], c)) for c in COLUMNS]) for day in sorted(self.days)]
        head = json.dumps({"columns": list(COLUMNS)})[:-1]  # open object, keys follow
        body = ",\n ".join(rows)
        tail = {"monitor": self.monitor_id, "version": VERSION}
        return f'{head},\n "days": [\n {body}],\n {json.dumps(tail)[1:]}\n'

    def save(self, path: Path, *, durable: bool = True) -> None:
        atomic_write_text(path, self.dumps(), durable=durable)


def _cell(value: object) -> object:
    return [list(span) for span in value] if isinstance(value, tuple) else value


def approximate_v1(rollup: DayRollup, hold: float) -> DayRollup:
    """A count-only day whose raw checks are gone: each check stands for ``hold`` seconds, scaled
    down so the day never holds more than 24 hours; marked ``approximate`` (no spans)."""
    if rollup.checks <= 0:
        return replace(rollup, no_data_seconds=_DAY_SECONDS, approximate=True)
    each = min(hold, _DAY_SECONDS / rollup.checks)
    seconds = {name: round(getattr(rollup, name) * each, 3) for name in ("up", "degraded", "down", "maintenance")}
    held = sum(seconds.values())
    return replace(rollup, **{f"{k}_seconds": v for k, v in seconds.items()},
                   no_data_seconds=round(_DAY_SECONDS - held, 3), spans=(), approximate=True)


def load_year(path: Path, monitor_id: str) -> RollupYear:
    """Read a year file; a missing file is an empty year, a broken or newer one a HistoryError naming it."""
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
    version = value.get("version", 1)
    columns = value.get("columns")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns) or "day" not in columns:
        raise bad("'columns' must list the column names, 'day' first")
    known = set(COLUMNS)
    year = RollupYear(monitor_id, version=version if version in (1, VERSION) else VERSION)
    rows = value.get("days", [])
    if not isinstance(rows, list):
        raise bad("'days' must be a list")
    same = tuple(columns) == COLUMNS  # the usual case: cells in field order, passed by position
    spans_at = COLUMNS.index("spans")
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(columns):
            raise bad(f"days[{index}] must be a list of {len(columns)} values")
        try:
            if same:
                row[spans_at] = tuple([(float(a), float(b), str(s)) for a, b, s in row[spans_at]])
                rollup = DayRollup(*row)
            else:
                data = {name: cell for name, cell in zip(columns, row) if name in known}
                data["spans"] = tuple((float(a), float(b), str(s)) for a, b, s in data.get("spans", []))
                rollup = DayRollup(**data)
        except (TypeError, ValueError) as error:
            raise bad(f"days[{index}]: {error}") from None
        if not isinstance(rollup.day, str):
            raise bad(f"days[{index}]: day must be YYYY-MM-DD")
        year.days[rollup.day] = rollup
    return year
