"""Benchmark: 1,000 monitors in one run of the runner, against local servers.

    .venv/bin/python bench/probe_scale.py [--timeout 2] [--retries 2] [--backoff 0.5]

Workload: 900 healthy HTTP monitors, 50 TCP monitors, 50 HTTP monitors whose
server accepts and never answers (they use their whole retry chain). The
servers run in a separate process (threaded HTTP server with a 1024 backlog) so
they do not share the probing process's interpreter lock.

Prints: wall seconds of the run; when the 950 answering monitors had finished;
their checks per second; peak RSS; the run against the hanging monitors' own
retry chain (timeout x attempts + backoffs); then the same workload one monitor
after another, measured on a sample and extrapolated, and the ratio.
Targets (2 cores): answering done < 3 s, run < 1.2 x chain, peak RSS < 150 MB.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.models import CheckStatus, Monitor, Settings  # noqa: E402
from generator.probes.http_spec import HttpSpec  # noqa: E402
from generator.probes.tcp import TcpSpec  # noqa: E402
from generator.run import probing as runner  # noqa: E402


def serve(conn, stop) -> None:
    """Child process: the servers, until told to stop."""
    from tests.support.servers import HangingServer, HttpServer, TcpListener

    with HttpServer(request_queue_size=1024) as http, TcpListener(backlog=1024) as tcp, HangingServer(backlog=1024) as hang:
        conn.send({"http": http.url("/ok"), "tcp": tcp.port, "hang": hang.url("/")})
        stop.wait(600)


def workload(urls: dict, timeout: float, retries: int, backoff: float) -> list[Monitor]:
    common = dict(timeout=timeout, retries=retries, retry_backoff=backoff)
    monitors: list[Monitor] = []
    healthy = tcp = hang = 0
    for index in range(1000):
        # interleaved, as in a real monitors.yaml: every 20th hangs, every 20th (offset) is TCP
        if index % 20 == 7:
            monitors.append(Monitor(id=f"hang-{hang}", name="hang", type="http", spec=HttpSpec(url=urls["hang"]), **common))
            hang += 1
        elif index % 20 == 13:
            spec = TcpSpec(host="127.0.0.1", port=urls["tcp"])
            monitors.append(Monitor(id=f"tcp-{tcp}", name="tcp", type="tcp", spec=spec, **common))
            tcp += 1
        else:
            monitors.append(Monitor(id=f"web-{healthy}", name="web", type="http", spec=HttpSpec(url=urls["http"]), **common))
            healthy += 1
    assert (healthy, tcp, hang) == (900, 50, 50)
    return monitors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--retries", type=int, default=2)
    parser.add_argument("--backoff", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=Settings().concurrency)
    parser.add_argument("--sample", type=int, default=100, help="answering monitors in the sequential sample")
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    stop = ctx.Event()
    proc = ctx.Process(target=serve, args=(child, stop), daemon=True)
    proc.start()
    try:
        if not parent.poll(30):
            print("servers did not start", file=sys.stderr)
            return 1
        urls = parent.recv()
        monitors = workload(urls, args.timeout, args.retries, args.backoff)
        settings = Settings(concurrency=args.concurrency)

        start = time.monotonic()
        probed = runner.run_probes(monitors, settings)
        wall = time.monotonic() - start
        checks, stats = probed.checks, probed.stats
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        answering = [m.id for m in monitors if not m.id.startswith("hang-")]
        by_id = {c.monitor_id: c for c in checks}
        bad = [by_id[i] for i in answering if by_id[i].status is not CheckStatus.UP]
        hung_ok = all(by_id[m.id].status is CheckStatus.DOWN and by_id[m.id].attempts == 1 + args.retries for m in monitors if m.id.startswith("hang-"))
        answering_done = max(stats.finished_at[i] for i in answering)
        chain = args.timeout * (1 + args.retries) + sum(args.backoff * 2**k for k in range(args.retries))

        print(f"monitors: 1000 (900 http healthy, 50 tcp, 50 http hanging); concurrency {args.concurrency}, "
              f"park_after {runner.DEFAULT_PARK_AFTER}s, max in flight {4 * args.concurrency}")
        print(f"per monitor: timeout {args.timeout}s, retries {args.retries}, backoff {args.backoff}s doubling")
        print(f"wall seconds (whole run):            {wall:.2f}")
        print(f"950 answering monitors finished at:  {answering_done:.2f} s   (target < 3 s)")
        print(f"answering checks per second:         {len(answering) / answering_done:.0f}")
        print(f"answering not UP:                    {len(bad)}" + (f"  e.g. {bad[0].monitor_id}: {bad[0].error}" if bad else ""))
        print(f"hanging monitors DOWN after {1 + args.retries} attempts: {'all' if hung_ok else 'NO'}")
        print(f"hanging retry chain:                 {chain:.2f} s  (timeout x attempts + backoff)")
        print(f"whole run / chain:                   {wall / chain:.2f}x  (target < 1.2x)")
        print(f"peak RSS (probing process):          {rss_mb:.1f} MB  (target < 150 MB)")
        print(f"attempts {stats.attempts}, retries {stats.retries}, parked {stats.parked}, "
              f"peak in flight {stats.peak_in_flight}, peak worker threads {stats.peak_threads}")

        # Sequential: the same kinds of monitor one after another, on a sample, extrapolated.
        sample_http = [m for m in monitors if m.id.startswith("web-")][: args.sample]
        sample_tcp = [m for m in monitors if m.id.startswith("tcp-")][: max(1, args.sample // 10)]
        sample_hang = [m for m in monitors if m.id.startswith("hang-")][:1]
        per_type = {}
        for label, sample in (("http", sample_http), ("tcp", sample_tcp), ("hang", sample_hang)):
            times = []
            for monitor in sample:
                t0 = time.monotonic()
                runner.probe_with_retries(monitor)
                times.append(time.monotonic() - t0)
            per_type[label] = statistics.mean(times)
        sequential = per_type["http"] * 900 + per_type["tcp"] * 50 + per_type["hang"] * 50
        print(f"sequential (one after another), measured on {len(sample_http)} http + {len(sample_tcp)} tcp "
              f"+ {len(sample_hang)} hanging monitors and extrapolated to 900/50/50:")
        print(f"  per monitor: http {per_type['http'] * 1000:.1f} ms, tcp {per_type['tcp'] * 1000:.1f} ms, "
              f"hanging {per_type['hang']:.2f} s")
        print(f"  sequential estimate: {sequential:.1f} s; answering part alone {per_type['http'] * 900 + per_type['tcp'] * 50:.2f} s")
        print(f"  concurrent speed-up: {sequential / wall:.1f}x")
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak RSS (server process, for reference): {children:.1f} MB" if children else "")
    finally:
        stop.set()
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
