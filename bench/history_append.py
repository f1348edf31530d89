"""What does appending one run of checks cost, early vs late in the UTC day?

Issue 13: ``record()`` used to re-read each monitor's whole day file and rewrite its
roll-up file, so a run's cost grew with the checks already recorded today. Now it
appends, reads back only the new bytes and replaces a small ``open.json`` per monitor.

For N monitors at a 5-minute cadence, the raw day files are written up to 01:00
("early", 12 runs so far) or 23:00 ("late", 276 runs), the running summaries are
built once (untimed), then three consecutive runs of N checks are timed and the
median printed. The same is done with a copy of the previous design's record path
(kept here only, for the comparison), on a copy of the same raw files. Also timed:
the first run after midnight, which closes the day into the year files.

    .venv/bin/python bench/history_append.py [--monitors 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.fsutil import atomic_write_text  # noqa: E402
from generator.history import History, rawlog  # noqa: E402
from generator.history.layout import Layout  # noqa: E402
from generator.models import Check, CheckStatus  # noqa: E402
from generator.timeutil import day_of  # noqa: E402

UTC = timezone.utc
DAY = datetime(2026, 11, 24, tzinfo=UTC)
CADENCE = timedelta(minutes=5)


def run_checks(monitors: int, moment: datetime) -> list[Check]:
    return [Check(f"svc-{i:05d}", moment + timedelta(milliseconds=i), CheckStatus.DOWN if i % 97 == 0 else CheckStatus.UP,
                  latency_ms=20.0 + (i * 7 + moment.minute) % 300, code=200) for i in range(monitors)]


def write_raw(data: Path, monitors: int, runs: int) -> None:
    """The raw files a day of ``runs`` runs leaves (written directly: the fast way to a full day)."""
    layout = Layout(data)
    lines: dict[str, list[str]] = defaultdict(list)
    for run in range(runs):
        for check in run_checks(monitors, DAY + CADENCE * run):
            lines[check.monitor_id].append(rawlog.format_line(check))
    for monitor, rows in lines.items():
        path = layout.raw_file(monitor, day_of(DAY))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rawlog.HEADER + "\n" + "\n".join(rows) + "\n")


# ------------------------------------------------------------------ the previous design, for comparison only

def _old_rollup(day: str, checks: list[Check]) -> list:
    counts = {s.value: 0 for s in CheckStatus}
    latencies = []
    for check in checks:
        counts[check.status.value] += 1
        if check.status in (CheckStatus.UP, CheckStatus.DEGRADED) and check.latency_ms is not None:
            latencies.append(check.latency_ms)
    latencies.sort()
    median = statistics.median(latencies) if latencies else None
    return [day, len(checks), counts["up"], counts["degraded"], counts["down"], counts["no_data"],
            counts["maintenance"], latencies[0] if latencies else None, median,
            latencies[-1] if latencies else None]


def old_record(data: Path, checks: list[Check]) -> None:
    """Append, then re-read every changed day file whole and rewrite the year file (as before v2)."""
    layout = Layout(data)
    grouped: dict[str, list[Check]] = defaultdict(list)
    for check in checks:
        grouped[check.monitor_id].append(check)
    for monitor, group in grouped.items():
        rawlog.append_checks(layout.raw_file(monitor, day_of(group[0].time)), group)
        path = layout.rollup_file(monitor, "2026")
        year = json.loads(path.read_text()) if path.exists() else {"days": {}, "synced": {}}
        for day, size in layout.raw_sizes(monitor).items():
            if year["synced"].get(day) == size:
                continue
            found, read = rawlog.read_checks_sized(monitor, layout.raw_file(monitor, day))
            year["days"][day] = _old_rollup(day, found)
            year["synced"][day] = read
        atomic_write_text(path, json.dumps(year, indent=1), durable=False)
    os.sync()


# ------------------------------------------------------------------ measuring

def timed_runs(record, first_run: int, monitors: int, repeats: int = 3) -> list[float]:
    times = []
    for offset in range(repeats):
        checks = run_checks(monitors, DAY + CADENCE * (first_run + offset))
        start = time.perf_counter()
        record(checks)
        times.append(time.perf_counter() - start)
    return times


def measure(monitors: int, runs_so_far: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        new, old = Path(folder) / "new", Path(folder) / "old"
        write_raw(new, monitors, runs_so_far)
        shutil.copytree(new, old)
        history = History(new)
        history.record(run_checks(monitors, DAY + CADENCE * runs_so_far))  # builds each open.json (untimed)
        old_record(old, run_checks(monitors, DAY + CADENCE * runs_so_far))  # builds the year files (untimed)
        figures = {
            "new": statistics.median(timed_runs(history.record, runs_so_far + 1, monitors)),
            "old": statistics.median(timed_runs(lambda c: old_record(old, c), runs_so_far + 1, monitors)),
        }
        if runs_so_far > 200:  # the first run of the next day closes this one into the year files
            tomorrow = run_checks(monitors, DAY + timedelta(days=1))
            start = time.perf_counter()
            history.record(tomorrow)
            figures["new_midnight"] = time.perf_counter() - start
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=1000)
    args = parser.parse_args()
    early = measure(args.monitors, 12)
    late = measure(args.monitors, 276)
    print(f"history append, {args.monitors} monitors, one run ({args.monitors} checks), median of 3 runs:")
    print(f"  new design (v2): early (01:00) {early['new']:.3f} s, late (23:00) {late['new']:.3f} s, "
          f"late/early {late['new'] / early['new']:.2f}")
    print(f"  old design (v1): early (01:00) {early['old']:.3f} s, late (23:00) {late['old']:.3f} s, "
          f"late/early {late['old'] / early['old']:.2f}")
    print(f"  late in the day, old/new: {late['old'] / late['new']:.1f}x")
    print(f"  new design, first run after midnight (closes the day into year files): {late['new_midnight']:.3f} s")


if __name__ == "__main__":
    main()
