"""Benchmark: 1,000 monitors in one run of the runner, against local servers.

    .venv/bin/python bench/probe_scale.py [--timeout 2] [--retries 2] [--backoff 0.5] [--rounds 5]

The servers run in a separate process so they do not share the probing
process's interpreter lock: a small asyncio HTTP server answering 1,000
endpoints (``/svc/0`` .. ``/svc/999``, so the figures measure the clients, not a
thread-per-connection test server), a TCP listener, a server that accepts and
never answers.

Part 1, mixed: 900 healthy HTTP monitors, 50 TCP monitors, 50 HTTP monitors
that hang (they use their whole retry chain). Prints wall seconds of the run;
when the 950 answering monitors had finished; peak RSS; the run against the
hanging monitors' own retry chain (timeout x attempts + backoffs); then the same
workload one monitor after another, measured on a sample and extrapolated.
Targets (2 cores): answering done < 3 s, run < 1.2 x chain, peak RSS < 150 MB.

Part 2, healthy throughput: the 1,000 healthy endpoints through ``run_probes``,
through a bare ``requests`` thread pool (``requests.get`` per URL, as many
threads as the runner's concurrency) and through a bare ``aiohttp`` session
(a fresh connection per GET, the same concurrency), interleaved, ``--rounds``
times; prints each round, the medians and the ratios. The machine is shared:
read the ratios, which come from the same rounds. Target: run_probes >= 2x the
bare requests pool.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.models import CheckStatus, Monitor, Settings  # noqa: E402
from generator.probes.http_spec import HttpSpec  # noqa: E402
from generator.probes.tcp import TcpSpec  # noqa: E402
from generator.run import probing as runner  # noqa: E402

ENDPOINTS = 1000
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
MISSING = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class _Endpoints(asyncio.Protocol):
    """One request per connection: 200 for /svc/0 .. /svc/999, 404 for anything else."""

    paths = {f"/svc/{i}".encode() for i in range(ENDPOINTS)}

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if b"\r\n\r\n" in self.buffer:
            parts = self.buffer.split(b" ", 2)
            self.transport.write(OK if len(parts) > 1 and parts[1] in self.paths else MISSING)
            self.transport.close()


def serve(conn, stop) -> None:
    """Child process: the servers, until told to stop."""
    from tests.support.servers import HangingServer, TcpListener

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Endpoints, "127.0.0.1", 0, backlog=4096)
        port = server.sockets[0].getsockname()[1]
        with TcpListener(backlog=1024) as tcp, HangingServer(backlog=1024) as hang:
            conn.send({"http": f"http://127.0.0.1:{port}/svc/", "tcp": tcp.port, "hang": hang.url("/")})
            await loop.run_in_executor(None, stop.wait, 900)
        server.close()

    asyncio.run(main())


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
            spec = HttpSpec(url=f"{urls['http']}{healthy}")
            monitors.append(Monitor(id=f"web-{healthy}", name="web", type="http", spec=spec, **common))
            healthy += 1
    assert (healthy, tcp, hang) == (900, 50, 50)
    return monitors


# --------------------------------------------------------------------------- part 2: healthy throughput


def through_runner(urls: list[str], concurrency: int, timeout: float) -> tuple[float, int]:
    monitors = [Monitor(id=f"svc-{i}", name="svc", type="http", spec=HttpSpec(url=url), timeout=timeout) for i, url in enumerate(urls)]
    start = time.monotonic()
    checks = runner.run_probes(monitors, Settings(concurrency=concurrency)).checks
    return len(urls) / (time.monotonic() - start), sum(c.status is CheckStatus.UP for c in checks)


def through_requests_pool(urls: list[str], concurrency: int, timeout: float) -> tuple[float, int]:
    def get(url: str) -> int:
        return requests.get(url, timeout=timeout).status_code

    with ThreadPoolExecutor(concurrency) as pool:
        start = time.monotonic()
        codes = list(pool.map(get, urls))
        return len(urls) / (time.monotonic() - start), codes.count(200)


def through_aiohttp(urls: list[str], concurrency: int, timeout: float) -> tuple[float, int]:
    async def all_of_them() -> tuple[float, int]:
        slots = asyncio.Semaphore(concurrency)
        connector = aiohttp.TCPConnector(force_close=True, limit=0)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:

            async def get(url: str) -> int:
                async with slots, session.get(url) as response:
                    await response.read()
                    return response.status

            start = time.monotonic()
            codes = await asyncio.gather(*(get(url) for url in urls))
            return len(urls) / (time.monotonic() - start), codes.count(200)

    return asyncio.run(all_of_them())


CLIENTS = {"run_probes": through_runner, "bare requests pool": through_requests_pool, "bare aiohttp": through_aiohttp}


def throughput(base: str, rounds: int, concurrency: int, timeout: float) -> None:
    urls = [f"{base}{i}" for i in range(ENDPOINTS)]
    for client in CLIENTS.values():  # warm up: imports, first connections, the server's accept queue
        client(urls[:100], concurrency, timeout)
    rates: dict[str, list[float]] = {name: [] for name in CLIENTS}
    cpu: dict[str, list[float]] = {name: [] for name in CLIENTS}  # ms of this process's CPU per check
    print(f"healthy throughput: {ENDPOINTS} loopback endpoints, concurrency {concurrency}, checks per second "
          f"(all {ENDPOINTS} must be up), {rounds} interleaved rounds:")
    for number in range(1, rounds + 1):
        row = []
        for name, client in CLIENTS.items():
            cpu_start = time.process_time()
            rate, up = client(urls, concurrency, timeout)
            cpu[name].append((time.process_time() - cpu_start) * 1000 / ENDPOINTS)
            if up != ENDPOINTS:
                raise SystemExit(f"{name}: only {up} of {ENDPOINTS} up")
            rates[name].append(rate)
            row.append(f"{name} {rate:5.0f}")
        ours = rates["run_probes"][-1]
        print(f"  round {number}: " + ", ".join(row) + f";  run_probes / requests {ours / rates['bare requests pool'][-1]:.2f}x"
              f", / aiohttp {ours / rates['bare aiohttp'][-1]:.2f}x")
    median = {name: statistics.median(values) for name, values in rates.items()}
    per_round = [ours / pool for ours, pool in zip(rates["run_probes"], rates["bare requests pool"])]
    per_round_aio = [ours / aio for ours, aio in zip(rates["run_probes"], rates["bare aiohttp"])]
    print("  medians: " + ", ".join(f"{name} {value:.0f}/s" for name, value in median.items()))
    print("  client CPU per check (medians): "
          + ", ".join(f"{name} {statistics.median(values):.2f} ms" for name, values in cpu.items()))
    print(f"  run_probes / bare requests pool: {statistics.median(per_round):.2f}x (median of the rounds' ratios; target >= 2x)")
    print(f"  run_probes / bare aiohttp:       {statistics.median(per_round_aio):.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--retries", type=int, default=2)
    parser.add_argument("--backoff", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=Settings().concurrency)
    parser.add_argument("--sample", type=int, default=100, help="answering monitors in the sequential sample")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the healthy throughput comparison")
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
        print(f"answering checks per second:         {len(answering) / answering_done:.0f}  (with 50 hanging in flight)")
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
        print()
        throughput(urls["http"], args.rounds, args.concurrency, args.timeout)
    finally:
        stop.set()
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
