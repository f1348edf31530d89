"""Requests per run of the GitHub tracker, counted by the local GitHub emulator.

For 10, 100 and 1,000 monitors: the first run ever, a steady run (nothing changes),
a run where 10% start failing (open), a steady run while they still fail, the run
where they recover (resolve), and a later run where 10% fail again (labels known).

    .venv/bin/python bench/github_requests.py [--validate] [--sizes 10,100,1000]

--validate also checks every emulator answer against GitHub's OpenAPI (slower).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.history import History  # noqa: E402
from generator.incidents.github import GitHubTracker  # noqa: E402
from generator.models import Check, CheckStatus, Monitor, MonitorState, TransitionKind  # noqa: E402
from generator.probes.http_spec import HttpSpec  # noqa: E402
from generator.status import step  # noqa: E402
from generator.timeutil import UTC  # noqa: E402
from tests.support.github_emulator import GitHubEmulator  # noqa: E402

T0 = datetime(2026, 11, 20, tzinfo=UTC)


def one_run(api, history, monitors, states, failing: set[str], now: datetime) -> tuple[int, int, float]:
    """(requests the emulator saw, tracker's own count, seconds) for one run."""
    tracker = GitHubTracker(api.full_name, api.token, base_url=api.url, cache=history,
                            seconds_between_requests=None, seconds_between_writes=None)
    before = api.request_count
    started = time.perf_counter()
    tracker.maintenance()  # what a run asks first
    for monitor in monitors:
        status = CheckStatus.DOWN if monitor.id in failing else CheckStatus.UP
        check = Check(monitor.id, now, status, latency_ms=50.0, code=503 if monitor.id in failing else 200)
        state, transitions = step(monitor, states[monitor.id], check)
        for t in transitions:
            if t.kind in (TransitionKind.OPENED, TransitionKind.REOPENED):
                state = state.evolve(incident_key=tracker.open(monitor, t))
            elif t.kind is TransitionKind.RESOLVED:
                tracker.resolve(t.incident_key, monitor, t)
        states[monitor.id] = state
    tracker.incidents()  # what the site build asks last
    return api.request_count - before, tracker.request_count(), time.perf_counter() - started


def bench(size: int, validate: bool) -> list[tuple[str, int, int, float]]:
    validator = None
    if validate:
        from tests.support.openapi import github_openapi

        validator = github_openapi()
    monitors = [Monitor(id=f"svc{n:04d}", name=f"Service {n}", type="http", spec=HttpSpec(url="http://127.0.0.1:9/"))
                for n in range(size)]
    states = {m.id: MonitorState(m.id) for m in monitors}
    tenth = {m.id for m in monitors[:: 10]}
    rows = []
    with tempfile.TemporaryDirectory() as tmp, GitHubEmulator(validator=validator, rate_limit=1_000_000) as api:
        history = History(Path(tmp) / "data")
        plan = [
            ("first run ever (all up)", set(), T0),
            ("steady (all up)", set(), T0 + timedelta(minutes=5)),
            ("10% start failing (open)", tenth, T0 + timedelta(minutes=10)),
            ("steady (10% still failing)", tenth, T0 + timedelta(minutes=15)),
            ("10% recover (resolve)", set(), T0 + timedelta(minutes=20)),
            ("steady (all up)", set(), T0 + timedelta(minutes=25)),
            ("10% fail again (labels known)", tenth, T0 + timedelta(hours=2)),
        ]
        for name, failing, now in plan:
            seen, counted, seconds = one_run(api, history, monitors, states, failing, now)
            rows.append((name, seen, counted, seconds))
        if validate:
            api.assert_valid()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validate", action="store_true")
    parser.add_argument("--sizes", default="10,100,1000")
    args = parser.parse_args()
    for size in [int(s) for s in args.sizes.split(",")]:
        print(f"\n{size} monitors ({size // 10 if size >= 10 else 0} failing in the 10% runs)")
        print(f"  {'run':32} {'requests':>9} {'tracker count':>14} {'seconds':>8}")
        for name, seen, counted, seconds in bench(size, args.validate):
            print(f"  {name:32} {seen:>9} {counted:>14} {seconds:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
