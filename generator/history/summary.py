"""``open.json``: one monitor's running summary, rewritten whole (atomically) at every record.

It holds what the next check needs, so recording never re-reads a raw file::

    {"last": {"status": "up", "time": "2026-11-24T21:55:03.120Z"},
     "monitor": "api",
     "offsets": {"2026-11-24": 22031},
     "open": [{"day": "2026-11-24", "covered_ms": 78903120, "counts": {"up": 263},
               "held_ms": {"up": 78303120, "no_data": 600000}, "spans_ms": [[600000, 78903120, "up"]],
               "latencies": {"84.2": 3, "351": 1}, "latency_min": 20.1, "latency_max": 399.9}],
     "rebuild_from": null,
     "version": 2}

``last`` is the newest observation (it still holds); ``open`` the running roll-ups of
its day (and of the next day when its time spills past midnight), attributed up to
``last``; ``offsets`` the bytes of each open day's raw file already folded in. Its size
depends on the day's status changes and distinct latencies, never on its check count.

Crash safety: raw lines are appended first, then this file is replaced. A run killed in
between leaves raw files longer than ``offsets``; the next writer folds in the missing
lines from those offsets. A batch older than ``last`` (out of order) first writes
``rebuild_from``, so a run killed before the rebuild finishes is rebuilt next time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from generator.fsutil import atomic_write_text
from generator.history.durations import STATUSES, DayAcc, to_ms
from generator.history.errors import HistoryError, refuse_newer
from generator.history.rollup import VERSION
from generator.timeutil import UTC, parse_iso, to_iso

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Summary:
    monitor_id: str
    last: tuple[int, str] | None = None  # epoch ms, status
    offsets: dict[str, int] = field(default_factory=dict)
    open: dict[str, DayAcc] = field(default_factory=dict)
    rebuild_from: str | None = None

    def dumps(self) -> str:
        last = None
        if self.last is not None:
            last = {"status": self.last[1], "time": to_iso(_EPOCH + timedelta(milliseconds=self.last[0]))}
        document: dict[str, Any] = {
            "last": last,
            "monitor": self.monitor_id,
            "offsets": dict(sorted(self.offsets.items())),
            "open": [self.open[day].to_json() for day in sorted(self.open)],
            "rebuild_from": self.rebuild_from,
            "version": VERSION,
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n"

    def save(self, path: Path, *, durable: bool = True) -> None:
        atomic_write_text(path, self.dumps(), durable=durable)


def load_summary(path: Path, monitor_id: str) -> Summary | None:
    """The summary, or None when there is none yet; HistoryError naming the file when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise HistoryError(f"{path}: cannot read the running summary: {error}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise HistoryError(f"{path}: running summary is not valid JSON (line {error.lineno}: {error.msg}); "
                           "delete it and the next run rebuilds it from the raw checks") from None
    refuse_newer(path, value, "the running summary", VERSION)
    try:
        summary = Summary(monitor_id)
        last = value.get("last")
        if last is not None:
            if last["status"] not in STATUSES:
                raise ValueError(f"unknown status {last['status']!r}")
            summary.last = (to_ms(parse_iso(last["time"])), str(last["status"]))
        summary.offsets = {str(day): int(size) for day, size in dict(value.get("offsets", {})).items()}
        summary.open = {acc.day: acc for acc in (DayAcc.from_json(item) for item in value.get("open", []))}
        rebuild = value.get("rebuild_from")
        summary.rebuild_from = None if rebuild is None else str(rebuild)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise HistoryError(f"{path}: running summary is malformed ({error!r}); delete it and the next run "
                           "rebuilds it from the raw checks") from None
    return summary
