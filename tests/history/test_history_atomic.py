"""A writer killed with SIGKILL at random moments never leaves a broken or lossy history.

The child process records a deterministic sequence of checks (two monitors, one
call per step, states saved and old days pruned as a real run does) and prints
the index of each step once ``record`` returned. The parent kills it at a random
moment, then checks that every file reads, the JSON parses, and every reported
check is on disk, in raw files or (for pruned days) in the roll-ups.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

UTC = timezone.utc
T0 = datetime(2026, 11, 1, tzinfo=UTC)
STEP = timedelta(minutes=47)  # about 30 steps a day: days roll over, and so does pruning
RETENTION_DAYS = 3
MONITORS = ("api", "web")
KILLS = 15
ROOT = Path(__file__).resolve().parents[2]


def status_of(index: int, monitor: str) -> str:
    return ("up", "up", "up", "degraded", "up", "down", "up", "no_data", "up", "maintenance")[
        (index * 7 + len(monitor)) % 10
    ]


def checks_of(index: int):
    from generator.models import Check, CheckStatus

    moment = T0 + STEP * index
    return [
        Check(m, moment, CheckStatus(status_of(index, m)), latency_ms=float(20 + (index * 13) % 380),
              code=200, error="tab\there\nnewline" if index % 5 == 0 else "")
        for m in MONITORS
    ]


def child(data_dir: str, start: int) -> None:
    from generator.history import History
    from generator.models import MonitorState, State

    history = History(data_dir, retention_days=RETENTION_DAYS)
    index = start
    while True:  # ends when the parent kills it, or after a bound as a safety net
        batch = checks_of(index)
        history.record(batch)
        history.save_states({c.monitor_id: MonitorState(c.monitor_id, State.UP, last_check=c.time) for c in batch})
        if index % 10 == 0:
            history.prune(batch[0].time)
        print(index, flush=True)
        index += 1
        if index > start + 5000:
            return


def expected_day_counts(upto: int, in_flight: set[int]) -> dict[tuple[str, str], Counter]:
    """Checks of every reported step; a step in flight at a kill may be on disk for one monitor only."""
    counts: dict[tuple[str, str], Counter] = {}
    for index in range(upto + 1):
        if index in in_flight:
            continue
        for c in checks_of(index):
            counts.setdefault((c.monitor_id, c.time.strftime("%Y-%m-%d")), Counter())[c.status.value] += 1
    return counts


def inspect(data_dir: Path, done: int, in_flight: set[int]) -> int:
    """Assert the history is whole; return the highest index found on disk."""
    from generator.history import History

    history = History(data_dir, retention_days=RETENTION_DAYS)
    for path in (data_dir / "daily").rglob("*.json"):
        json.loads(path.read_text())  # parses: year files and each monitor's running summary (open.json)
    if (data_dir / "state.json").exists():
        states = history.load_states()
        assert set(states) <= set(MONITORS)
    highest = -1
    for monitor in MONITORS:
        raw = history.checks(monitor, T0)
        times = [c.time for c in raw]
        assert times == sorted(set(times)), "each check recorded once, in order"
        raw_days = set(history.layout.raw_days(monitor))
        if raw:
            highest = max(highest, round((raw[-1].time - T0) / STEP))
        rollups = {r.day: r for r in history.rollups(monitor)}
        for r in rollups.values():  # every closed day's seconds cover it exactly
            held = r.up_seconds + r.degraded_seconds + r.down_seconds + r.maintenance_seconds + r.no_data_seconds
            assert r.day == max(rollups) or held == 86400.0, (monitor, r.day, held)
        for (mon, day), counts in expected_day_counts(done, in_flight).items():
            if mon != monitor:
                continue
            if day in raw_days:
                on_disk = Counter(c.status.value for c in raw if c.time.strftime("%Y-%m-%d") == day)
            else:  # pruned: only the roll-up remembers it
                r = rollups.get(day)
                assert r is not None, f"{monitor} {day}: roll-up lost"
                on_disk = Counter({s: getattr(r, s) for s in ("up", "degraded", "down", "no_data", "maintenance")})
                on_disk = +on_disk
            for status, n in counts.items():
                assert on_disk[status] >= n, f"{monitor} {day} {status}: {on_disk[status]} < {n} reported"
        for c in raw:
            index = round((c.time - T0) / STEP)
            assert index <= done + 1, "nothing beyond the step in flight"
            assert c.status.value == status_of(index, monitor)
    return highest


def test_sigkill_at_random_moments_loses_nothing(tmp_path):
    rng = random.Random(int(os.environ.get("HISTORY_KILL_SEED", "20261124")))
    data_dir = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start, done = 0, -1
    in_flight: set[int] = set()
    deadline = time.monotonic() + 90
    for kill in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, __file__, str(data_dir), str(start)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )
        try:
            first = proc.stdout.readline()  # wait until the loop runs, so the kill lands inside it
            assert first.strip().isdigit(), proc.stderr.read()
            time.sleep(rng.uniform(0.0, 0.25))
        finally:
            proc.send_signal(signal.SIGKILL)
            out, _ = proc.communicate(timeout=30)
        reported = [int(line) for line in (first + out).split()]
        assert proc.returncode == -signal.SIGKILL
        done = max(done, *reported)
        highest = inspect(data_dir, done, in_flight)
        assert highest >= done
        in_flight.update(range(done + 1, highest + 1))  # recorded for some monitors, never reported
        start = highest + 1  # resume after what is on disk, as the next scheduled run would
        assert time.monotonic() < deadline, "kill loop too slow"
    # a clean run afterwards leaves roll-ups exactly equal to a replay of the raw checks they cover
    from generator.history import History

    history = History(data_dir, retention_days=RETENTION_DAYS)
    history.record(checks_of(start))
    for monitor in MONITORS:
        rollups = {r.day: r for r in history.rollups(monitor)}
        replayed = history.keeper.rebuild(monitor, None, write=False)
        again = {r.day: r for year in replayed.years.values() for r in year.days.values()}
        again.update({acc.day: acc.rollup() for acc in replayed.summary.open.values() if not acc.empty})
        raw_days = history.layout.raw_days(monitor)
        for day in raw_days[1:]:  # the first one's replay lacks the hold spilling from its pruned eve
            assert rollups[day] == again[day], day
        assert json.loads(history.layout.summary_file(monitor).read_text())["rebuild_from"] is None
    assert done > 3 * 30, "the child made progress across several days"


if __name__ == "__main__":
    child(sys.argv[1], int(sys.argv[2]))
