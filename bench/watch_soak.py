"""Soak: ``statusgen watch`` with 1,000 monitors at ``interval: 30s`` against local servers.

Prints checks per second, the watcher's CPU share of one core, its RSS and open file descriptors at
the start (after two intervals of warm-up), each minute and at the end, and how late checks started against their
slot on the schedule's lattice (p50, p95, max). Targets: RSS growth under 10%, p95 lateness under 2 s.

    .venv/bin/python bench/watch_soak.py              # 10 minutes (the README figures)
    .venv/bin/python bench/watch_soak.py --minutes 2  # a shorter look
"""

from __future__ import annotations

import argparse
import http.server
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.history import History  # noqa: E402
from generator.run.schedule import offset  # noqa: E402
from generator.timeutil import utcnow  # noqa: E402

SERVERS = 4
INTERVAL = 30.0


class Quiet(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def serve() -> list[http.server.ThreadingHTTPServer]:
    servers = []
    for _ in range(SERVERS):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    return servers


def proc(pid: int) -> tuple[float, int, int]:
    """CPU seconds (user + system), RSS in KiB, open file descriptors of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    return cpu, rss, len(os.listdir(f"/proc/{pid}/fd"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--publish-every", default="5m")
    parser.add_argument("--no-build", action="store_true", help="publish without building the site")
    args = parser.parse_args()
    seconds = args.minutes * 60
    servers = serve()
    work = Path(tempfile.mkdtemp(prefix="watch-soak-"))
    lines = [f"settings: {{interval: 30s, publish_every: {args.publish_every}, concurrency: 64}}", "defaults: {timeout: 5s, retries: 0}", "monitors:"]
    for index in range(args.monitors):
        port = servers[index % SERVERS].server_address[1]
        lines.append(f"  - {{id: m{index:04d}, url: 'http://127.0.0.1:{port}/health/{index}'}}")
    (work / "monitors.yaml").write_text("\n".join(lines) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env["PYTHONPATH"] = str(ROOT)
    log = open(work / "watch.log", "w")  # noqa: SIM115
    began = time.time()
    process = subprocess.Popen([sys.executable, "-m", "generator", "watch", "--for", f"{seconds:.0f}s",
                                "--tracker", "files", "--incidents", "incidents",
                                *(["--no-build"] if args.no_build else [])], cwd=work, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    time.sleep(min(2 * INTERVAL, seconds / 3))  # warm-up: every monitor checked twice
    cpu0, rss0, fds0 = proc(process.pid)
    t0 = time.time()
    cpu1, rss1, fds1 = cpu0, rss0, fds0
    t1 = t0
    samples: list[tuple[float, int]] = []  # (seconds in, RSS KiB): one a minute
    while process.poll() is None:
        time.sleep(1)
        try:
            if time.time() < began + seconds - 2:
                cpu1, rss1, fds1 = proc(process.pid)
                t1 = time.time()
                if not samples or t1 - began - samples[-1][0] >= 60:
                    samples.append((t1 - began, rss1))
        except (FileNotFoundError, ProcessLookupError):
            break
    code = process.wait()
    log.close()
    history = History(work / "data")
    lateness: list[float] = []
    total = 0
    for index in range(args.monitors):
        monitor_id = f"m{index:04d}"
        slot = offset(monitor_id, INTERVAL)
        for check in history.checks(monitor_id, utcnow() - timedelta(seconds=seconds + 120)):
            t = check.time.timestamp()
            lateness.append((t - slot + 1.0) % INTERVAL - 1.0)  # stored times are cut to the millisecond
            total += 1
    wall = time.time() - began
    cuts = statistics.quantiles(lateness, n=100) if len(lateness) > 1 else [0.0] * 99
    print(f"watch soak: {args.monitors} monitors at interval 30s for {wall / 60:.1f} min, publishing every "
          f"{args.publish_every}{' without the site' if args.no_build else ''} (exit {code})")
    print(f"  checks: {total} recorded, {total / seconds:.1f} per second over --for (expected "
          f"{args.monitors / INTERVAL:.1f})")
    print(f"  CPU: {100 * (cpu1 - cpu0) / max(1e-9, t1 - t0):.1f}% of one core (after {t0 - began:.0f}s of warm-up)")
    print(f"  RSS: {rss0 / 1024:.1f} MiB at start, {rss1 / 1024:.1f} MiB at end ({100 * (rss1 - rss0) / rss0:+.1f}%)")
    print("  RSS each minute: " + ", ".join(f"{rss / 1024:.0f}" for _, rss in samples) + " MiB")
    if len(samples) >= 4:
        half = samples[len(samples) // 2][1]
        print(f"  RSS over the second half: {half / 1024:.1f} -> {rss1 / 1024:.1f} MiB ({100 * (rss1 - half) / half:+.1f}%)")
    print(f"  open fds: {fds0} at start, {fds1} at end")
    print(f"  lateness vs slot: p50 {cuts[49]:.3f}s, p95 {cuts[94]:.3f}s, max {max(lateness or [0]):.3f}s")
    print(f"  publishes: {sum('checks, ' in line for line in (work / 'watch.log').read_text().splitlines())}"
          f" (log: {work / 'watch.log'})")
    for server in servers:
        server.shutdown()
    return 0 if code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
