"""A mass outage with the files tracker: seconds to open N incidents, then to resolve them.

What a run does when every monitor goes down at once: ask for maintenance windows, then open one
incident per monitor (each ``open`` first looks for an open incident of that monitor), then, once
they recover, resolve each. Opening N incidents must cost linear time: the ratio between 2,000 and
1,000 should stay near 2 (it was about 7 when every ``open`` rescanned the folder).

    .venv/bin/python bench/files_tracker.py [--sizes 1000,2000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.incidents.files import FilesTracker  # noqa: E402
from generator.models import Check, CheckStatus, Impact, Monitor, Transition, TransitionKind  # noqa: E402
from generator.probes.http_spec import HttpSpec  # noqa: E402
from generator.timeutil import UTC  # noqa: E402

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def outage(size: int) -> tuple[float, float]:
    """(seconds to open ``size`` incidents, seconds to resolve them) in a fresh folder."""
    monitors = [Monitor(id=f"m{index:05d}", name=f"Service {index}", type="http",
                        spec=HttpSpec(url=f"http://127.0.0.1:9/{index}")) for index in range(size)]
    with tempfile.TemporaryDirectory() as folder:
        tracker = FilesTracker(Path(folder) / "incidents")
        tracker.maintenance()  # what a run asks first
        started = time.perf_counter()
        keys = []
        for monitor in monitors:
            check = Check(monitor.id, T0, CheckStatus.DOWN, error="connection refused")
            keys.append(tracker.open(monitor, Transition(TransitionKind.OPENED, monitor.id, T0, Impact.DOWN,
                                                         check, started=T0)))
        opened = time.perf_counter() - started
        assert len(set(keys)) == size, "one incident per monitor"
        later = T0 + timedelta(minutes=10)
        started = time.perf_counter()
        for monitor, key in zip(monitors, keys):
            check = Check(monitor.id, later, CheckStatus.UP)
            tracker.resolve(key, monitor, Transition(TransitionKind.RESOLVED, monitor.id, later, Impact.DOWN,
                                                     check, started=T0, incident_key=key))
        resolved = time.perf_counter() - started
        assert not any(incident.is_open for incident in tracker.incidents())
    return opened, resolved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000", help="comma-separated incident counts")
    sizes = [int(text) for text in parser.parse_args().sizes.split(",")]
    results = {}
    for size in sizes:
        opened, resolved = outage(size)
        results[size] = opened
        print(f"{size:>6} incidents: open {opened:6.2f} s ({opened / size * 1000:.2f} ms each), "
              f"resolve {resolved:6.2f} s", flush=True)
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        print(f"open time ratio {large:,}/{small:,}: {results[large] / results[small]:.2f} "
              f"(linear: {large / small:.2f})")


if __name__ == "__main__":
    main()
