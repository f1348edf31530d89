"""Detection and recovery times of ``statusgen watch``, against the 5-minute schedule.

    .venv/bin/python bench/detection.py                # 20 outages (the README figures)
    .venv/bin/python bench/detection.py --outages 5    # a quicker look

A real Mockoon (as in tests/test_drill.py) with a real ``statusgen agent`` that restarts it; one
``statusgen watch`` (``interval: 20s``, files tracker, a json:// notification to a loopback
receiver) runs throughout, while Mockoon is killed with SIGKILL at random moments, each outage after
the last one resolved. For every outage it measures, from the kill:

  opened     the incident file appears in the tracker's folder (polled every 50 ms)
  notified   the "opened" notification reaches the receiver
  resolved   the incident file says resolved

and prints p50 and p95 of each. Then the same figures for the 5-minute schedule, computed from the
same kill moments: the first scheduled run after the kill (cron 3-59/5) probes SETUP seconds after
it starts (checkout, Python, install), then takes what the watcher took from its failing check on
(act, restart, verification). Once for a punctual scheduler, once with the delays users of
scheduled workflows report (runs every 15-60 minutes instead of 5: each outage gets a period drawn
from 15-60 min and a random phase).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator.history import History  # noqa: E402
from generator.timeutil import utcnow  # noqa: E402
from tests.test_drill import MONITOR_ID, PYTHON, Drill, wait_until  # noqa: E402

INTERVAL = 20.0
SETUP = 45.0  # seconds from a scheduled job's start to its first probe (checkout, setup-python, pip install)
SCHEDULE_MINUTE = 3  # cron "3-59/5": runs at minute 3, 8, 13, ...


class Receiver:
    """A json:// target: notes when each notification arrives, and its type."""

    def __init__(self) -> None:
        self.received: list[tuple[float, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {}
                outer.received.append((time.time(), str(payload.get("title", "")) + " " + str(payload.get("message", ""))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def quantiles(values: list[float]) -> str:
    ordered = sorted(values)
    if len(ordered) < 2:
        return f"p50 {ordered[0]:6.1f}s  p95 {ordered[0]:6.1f}s" if ordered else "no data"
    cuts = statistics.quantiles(ordered, n=20, method="inclusive")
    return f"p50 {statistics.median(ordered):6.1f}s  p95 {cuts[-1]:6.1f}s  (max {ordered[-1]:.1f}s)"


def next_run(after: float, period: float, phase: float) -> float:
    """The first run at or after ``after`` of a schedule every ``period`` seconds, shifted by ``phase``."""
    k = -(-(after - phase) // period)
    return phase + k * period


def incident_state(folder: Path) -> tuple[int, Optional[str]]:
    def number(path: Path) -> int:  # 2026-11-29-mockoon-10.md comes after -9.md
        tail = path.stem.rsplit("-", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    files = sorted(folder.glob(f"*-{MONITOR_ID}-*.md"), key=lambda p: (p.stem.rsplit("-", 1)[0], number(p)))
    if not files:
        return 0, None
    text = files[-1].read_text(encoding="utf-8", errors="replace")
    status = "resolved" if "\nstatus: resolved" in text else "open"
    return len(files), status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outages", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="detection-"))
    receiver = Receiver()
    drill = Drill(work, restart_extra="cooldown: 0s\nverify_every: 1s\nverify_for: 30s")
    drill.start()
    text = drill.config.read_text()
    text = text.replace("monitors:\n", f"settings: {{interval: {INTERVAL:g}s, flap_window: 0s}}\n"
                                       "defaults: {timeout: 2s, retries: 0, notify: ['json://127.0.0.1:"
                                       f"{receiver.port}/hook']}}\nmonitors:\n", 1)
    drill.config.write_text(text)
    log = (work / "watch.log").open("w")
    watcher = subprocess.Popen([PYTHON, "-m", "generator", "watch", "--config", str(drill.config), "--data",
                                str(drill.data), "--incidents", str(drill.incidents), "--tracker", "files",
                                "--no-build"], cwd=work, env=drill.env(), stdout=log, stderr=subprocess.STDOUT)
    rows: list[dict[str, float]] = []
    try:
        time.sleep(INTERVAL + 2)  # every slot passed once: the watcher knows the service is up
        for number in range(1, args.outages + 1):
            time.sleep(rng.uniform(0, INTERVAL + 5))  # a random moment against the 20 s lattice
            before, _ = incident_state(drill.incidents)
            notes_before = len(receiver.received)
            drill.kill_service()
            killed = drill.killed_at or time.time()
            opened = resolved = notified = None
            deadline = time.time() + 180
            while time.time() < deadline and resolved is None:
                count, status = incident_state(drill.incidents)
                now = time.time()
                if opened is None and count > before:
                    opened = now
                if opened is not None and status == "resolved":
                    resolved = now
                if notified is None and len(receiver.received) > notes_before:
                    notified = receiver.received[notes_before][0]
                time.sleep(0.05)
            if opened is None or resolved is None or notified is None:
                raise RuntimeError(f"outage {number}: not detected/resolved in time (see {work})")
            checks = History(drill.data).checks(MONITOR_ID, utcnow().replace(hour=0, minute=0, second=0))
            failing = min(c.time.timestamp() for c in checks if c.time.timestamp() >= killed - 0.5
                          and c.status.value == "down")
            rows.append({"kill": killed, "opened": opened - killed, "notified": notified - killed,
                         "resolved": resolved - killed, "act": opened - failing,
                         "notify_after_open": notified - opened, "recover": resolved - opened})
            print(f"outage {number:2d}: opened {rows[-1]['opened']:5.1f}s  notified {rows[-1]['notified']:5.1f}s  "
                  f"resolved {rows[-1]['resolved']:5.1f}s", flush=True)
            if not wait_until(lambda: drill.restarts() and incident_state(drill.incidents)[1] == "resolved", 30):
                raise RuntimeError("the service did not settle")
            time.sleep(1.0)
    finally:
        watcher.send_signal(signal.SIGTERM)
        try:
            watcher.wait(20)
        except subprocess.TimeoutExpired:
            watcher.kill()
        log.close()
        drill.close()
        receiver.server.shutdown()

    print(f"\nstatusgen watch, interval 20s, {len(rows)} outages (kill at random moments; restart via statusgen agent):")
    for key, label in (("opened", "kill -> incident opened"), ("notified", "kill -> notification sent"),
                       ("resolved", "kill -> resolved")):
        print(f"  {label:28s} {quantiles([r[key] for r in rows])}")

    def schedule(label: str, period_of: Callable[[], tuple[float, float]]) -> None:
        opened, notified, resolved = [], [], []
        for row in rows:
            period, phase = period_of()
            probe = next_run(row["kill"], period, phase) + SETUP
            o = probe - row["kill"] + row["act"]
            opened.append(o)
            notified.append(o + row["notify_after_open"])
            resolved.append(o + row["recover"])
        print(f"\n{label} (same kill moments; a run probes {SETUP:.0f}s after it starts):")
        print(f"  {'kill -> incident opened':28s} {quantiles(opened)}")
        print(f"  {'kill -> notification sent':28s} {quantiles(notified)}")
        print(f"  {'kill -> resolved':28s} {quantiles(resolved)}")

    delays = random.Random(args.seed + 1)
    schedule("5-minute schedule, punctual", lambda: (300.0, SCHEDULE_MINUTE * 60.0))
    schedule("5-minute schedule as users report it (a run every 15-60 min)",
             lambda: (p := delays.uniform(900, 3600), delays.uniform(0, p)))
    print(f"\n(work folder: {work})")
    return 0


if __name__ == "__main__":
    os.environ.pop("GITHUB_ACTIONS", None)
    raise SystemExit(main())
