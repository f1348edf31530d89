"""``statusgen watch`` as real processes: SIGTERM at random moments of its ticks leaves a readable
history and no duplicate incident, and two watchers started overlapping on one data/ folder never
both write (the second waits for the lease, then continues the lattice). Bounded loops, loopback
only, 1 s intervals through the test-only floor."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import IO, Optional

from generator.history import History
from generator.run.lease import read_holder
from generator.timeutil import utcnow
from tests.run.test_engine import front_matter, incidents
from tests.support.switch import switchable_service

REPO = Path(__file__).resolve().parents[2]
KILLS = 4  # SIGTERMs, each at a random moment after the watcher is up


def env() -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    base.update({"PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "STATUSGEN_TEST_MIN_INTERVAL": "1"})
    return base


def start(folder: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "generator", "watch", "--config", str(folder / "monitors.yaml"),
         "--data", str(folder / "data"), "--incidents", str(folder / "incidents"), "--out", str(folder / "_site"),
         "--tracker", "files", "--debounce", "500ms", *extra],
        cwd=folder, env=env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


class Lines:
    """Reads a process's output on a thread, so a test can wait for a line."""

    def __init__(self, stream: Optional[IO[str]]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Optional[IO[str]]) -> None:
        assert stream is not None
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.05)
        return False

    def text(self) -> str:
        self._thread.join(2)
        return "\n".join(self.lines)


def write_config(folder: Path, url: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "monitors.yaml").write_text(
        "settings: {interval: 1s, publish_every: 2s}\n"
        "defaults: {timeout: 1s, retries: 0}\n"
        f"monitors:\n  - {{id: shop, name: Shop, url: '{url}'}}\n  - {{id: blog, name: Blog, url: '{url}blog'}}\n")


def test_sigterm_in_the_middle_of_ticks_leaves_whole_files_and_one_incident(tmp_path: Path) -> None:
    rng = random.Random(11)
    with switchable_service() as service:
        service.mode = "error"
        write_config(tmp_path, service.url)
        for number in range(KILLS):
            process = start(tmp_path)
            lines = Lines(process.stdout)
            assert lines.wait_for("watching 2 monitors", 20), lines.text()
            time.sleep(rng.uniform(0.0, 2.5))
            stopped = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = process.wait(15)
            took = time.monotonic() - stopped
            output = lines.text()
            assert code == 0, f"kill {number}: exit {code}\n{output}"
            assert took < 6, f"kill {number}: took {took:.1f}s to stop\n{output}"
            assert "SIGTERM: stopping" in output and "Traceback" not in output, output
        since = utcnow() - timedelta(hours=1)
        history = History(tmp_path / "data")
        for monitor_id in ("shop", "blog"):
            checks = history.checks(monitor_id, since)
            assert checks and {c.status.value for c in checks} == {"down"}
            assert len(incidents(tmp_path, monitor_id)) == 1, incidents(tmp_path, monitor_id)
            assert front_matter(incidents(tmp_path, monitor_id)[0])["status"] == "open"
        states = history.load_states()
        assert states["shop"].incident_open and states["blog"].incident_open
        holder = read_holder(tmp_path / "data" / "lease.json")
        assert holder is not None and holder.released

        # the next pass continues where the last watcher stopped: the service is back, one resolve each
        service.mode = "up"
        done = subprocess.run([sys.executable, "-m", "generator", "run", "--config", str(tmp_path / "monitors.yaml"),
                               "--data", str(tmp_path / "data"), "--incidents", str(tmp_path / "incidents"),
                               "--tracker", "files", "--no-build"], cwd=tmp_path, env=env(), capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        for monitor_id in ("shop", "blog"):
            [incident] = incidents(tmp_path, monitor_id)
            assert front_matter(incident)["status"] == "resolved"


def test_two_overlapping_watchers_never_both_write(tmp_path: Path) -> None:
    with switchable_service() as service:
        service.mode = "error"
        write_config(tmp_path, service.url)
        first = start(tmp_path, "--for", "5s")
        first_lines = Lines(first.stdout)
        assert first_lines.wait_for("watching 2 monitors", 20), first_lines.text()
        time.sleep(1.0)
        second = start(tmp_path, "--for", "10s")
        second_lines = Lines(second.stdout)
        assert first.wait(30) == 0, first_lines.text()
        assert second.wait(40) == 0, second_lines.text()
    first_out, second_out = first_lines.text(), second_lines.text()
    assert "waiting for the lease" in second_out and "took over the lease" in second_out, second_out
    assert "Traceback" not in first_out + second_out

    history = History(tmp_path / "data")
    for monitor_id in ("shop", "blog"):
        assert len(incidents(tmp_path, monitor_id)) == 1  # exactly one incident across both watchers
        times = [c.time.timestamp() for c in history.checks(monitor_id, utcnow() - timedelta(hours=1))]
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert len(times) >= 9, times
        assert min(gaps) > 0.5, f"two writers: checks {min(gaps):.2f}s apart"  # one slot, one check
        assert max(gaps) < 4.0, f"a hand-over lost checks: a gap of {max(gaps):.1f}s"
