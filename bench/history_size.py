"""How big does one monitor's history get in a year, and how long does History.record take?

Simulates one monitor at a 5-minute cadence for a year (288 checks a day; mostly
up, latencies 20-400 ms, a few degraded and down checks with error messages)
through the real History.record. The first --per-check-days days record one
check per call, exactly as a scheduled run does, and time each call; the rest of
the year records a day per call (the same files, much faster). --full records the
whole year one check per call. Then prunes with the default 90-day retention and
prints bytes on disk.

    .venv/bin/python bench/history_size.py [--days 365] [--per-check-days 7] [--full]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.history import History  # noqa: E402
from generator.models import Check, CheckStatus, MonitorState, State  # noqa: E402

UTC = timezone.utc
CADENCE = timedelta(minutes=5)
PER_DAY = 288
ERRORS = ("HTTP 503 Service Unavailable", "timed out after 10s", "connection refused: 203.0.113.7:443",
          "TLS handshake failed: certificate verify failed")


def simulate_day(rng: random.Random, day_start: datetime, monitor: str) -> list[Check]:
    checks = []
    for i in range(PER_DAY):
        # a scheduled run starts a few seconds late, with millisecond jitter
        moment = day_start + CADENCE * i + timedelta(milliseconds=rng.randint(0, 9999))
        roll = rng.random()
        latency = min(400.0, max(20.0, rng.lognormvariate(4.3, 0.5)))
        if roll < 0.002:
            checks.append(Check(monitor, moment, CheckStatus.DOWN, latency_ms=None if roll < 0.001 else latency,
                                code=503 if roll >= 0.001 else None, error=rng.choice(ERRORS), attempts=3))
        elif roll < 0.006:
            checks.append(Check(monitor, moment, CheckStatus.DEGRADED, latency_ms=rng.uniform(1000, 3000), code=200,
                                error="slow: over 1s"))
        else:
            checks.append(Check(monitor, moment, CheckStatus.UP, latency_ms=latency, code=200))
    return checks


def sizes(folder: Path) -> tuple[int, int, int]:
    """(files, bytes, bytes allocated on disk)."""
    files = size = blocks = 0
    if folder.is_file():
        paths = [folder]
    else:
        paths = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
    for path in paths:
        st = path.stat()
        files += 1
        size += st.st_size
        blocks += st.st_blocks * 512
    return files, size, blocks


def show(label: str, figures: tuple[int, int, int]) -> None:
    files, size, blocks = figures
    print(f"  {label:<34} {files:>5} files {size / 1024:>10.1f} KiB ({blocks / 1024:.0f} KiB allocated)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-check-days", type=int, default=7, help="days recorded one check per call (timed)")
    parser.add_argument("--full", action="store_true", help="record every day one check per call")
    parser.add_argument("--retention-days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    per_check_days = args.days if args.full else min(args.per_check_days, args.days)

    rng = random.Random(args.seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    monitor = "api"
    with tempfile.TemporaryDirectory(prefix="statusgen-bench-") as folder:
        data = Path(folder) / "data"
        history = History(data, retention_days=args.retention_days)
        per_check: list[float] = []
        per_check_cpu: list[float] = []
        per_day: list[float] = []
        prunes: list[float] = []
        raw_written = 0  # every raw day file's size once its day is over, i.e. the year before pruning
        states = {}
        began = time.perf_counter()
        # day-per-call first, so the timed one-check-per-call days run at steady state
        # (a full retention window of raw files on disk, as a real run sees it)
        timed_from = args.days - per_check_days
        for day in range(args.days):
            day_start = start + timedelta(days=day)
            checks = simulate_day(rng, day_start, monitor)
            if day >= timed_from:
                for check in checks:  # one scheduled run: record, save the state, prune
                    t, cpu = time.perf_counter(), time.process_time()
                    history.record([check])
                    per_check.append(time.perf_counter() - t)
                    per_check_cpu.append(time.process_time() - cpu)
                    states[monitor] = MonitorState(monitor, State.UP, since=start, last_check=check.time)
                    history.save_states(states)
                    t = time.perf_counter()
                    history.prune(check.time)
                    prunes.append(time.perf_counter() - t)
            else:
                t = time.perf_counter()
                history.record(checks)
                per_day.append(time.perf_counter() - t)
            raw_written += history.layout.raw_file(monitor, day_start.strftime("%Y-%m-%d")).stat().st_size
            if day < timed_from:
                history.prune(day_start + timedelta(days=1))
        simulated = time.perf_counter() - began
        end = start + timedelta(days=args.days)
        history.prune(end)

        print(f"one monitor, {args.days} days at 5-minute cadence = {args.days * PER_DAY} checks "
              f"({simulated:.1f} s to simulate), pruned with {args.retention_days}-day retention")
        rollups = sizes(data / "daily")
        print(f"before pruning (a year of raw checks written): {(raw_written + rollups[1]) / 1024:.1f} KiB")
        print(f"  raw checks written                       {raw_written / 1024:>10.1f} KiB "
              f"({raw_written / (args.days * PER_DAY):.1f} bytes per check)")
        print(f"after pruning on {end:%Y-%m-%d}:")
        show("raw checks retained", sizes(data / "checks"))
        show("daily roll-ups (kept forever)", rollups)
        show("state.json", sizes(data / "state.json"))
        show("total on disk", sizes(data))

        print("time per call:")
        if per_check:
            ordered = sorted(per_check)
            print(f"  record(), one check per call ({len(per_check)} calls, last {per_check_days} days): "
                  f"mean {statistics.mean(per_check) * 1000:.2f} ms, median {statistics.median(per_check) * 1000:.2f} ms, "
                  f"p95 {ordered[int(0.95 * len(ordered))] * 1000:.2f} ms, max {ordered[-1] * 1000:.2f} ms")
            print(f"    of which CPU (the rest is waiting for the disk: one fsync per call): "
                  f"mean {statistics.mean(per_check_cpu) * 1000:.2f} ms")
            print(f"  prune() after each of those calls: mean {statistics.mean(prunes) * 1000:.2f} ms")
        if per_day:
            print(f"  record(), one day ({PER_DAY} checks) per call ({len(per_day)} calls): "
                  f"mean {statistics.mean(per_day) * 1000:.1f} ms = {statistics.mean(per_day) / PER_DAY * 1000:.3f} ms/check")

        print("reads (what the site does):")
        now = end - timedelta(seconds=1)
        for label, call in (
            ("rollups(all)", lambda: history.rollups(monitor)),
            ("uptime 24 h", lambda: history.uptime(monitor, now, timedelta(days=1))),
            ("uptime 90 d", lambda: history.uptime(monitor, now, timedelta(days=90))),
            ("checks last 24 h", lambda: history.checks(monitor, now - timedelta(days=1))),
            ("latency_series 24 h / 96", lambda: history.latency_series(monitor, now - timedelta(days=1), now, 96)),
            ("latency_series 90 d / 90", lambda: history.latency_series(monitor, now - timedelta(days=90), now, 90)),
        ):
            t = time.perf_counter()
            for _ in range(5):
                call()
            print(f"  {label:<26} {(time.perf_counter() - t) / 5 * 1000:7.2f} ms")
        print(f"  uptime 30 d = {history.uptime(monitor, now, timedelta(days=30)):.3f} %")


if __name__ == "__main__":
    os.nice(5) if hasattr(os, "nice") else None
    main()
