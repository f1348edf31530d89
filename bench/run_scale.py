"""Benchmark: the whole main job, ``statusgen run --tracker files``, at 100, 1,000 and 10,000 monitors.

    .venv/bin/python bench/run_scale.py [--sizes 100,1000,10000] [--runs 3] [--keep DIR]
                                        [--baseline REF] [--baseline-sizes 100,1000]

Each monitor is an HTTP monitor of a loopback endpoint (an asyncio server answering
``200 ok`` in a separate process, so it does not share the run's interpreter), in groups
of 100. Its history is 90 days, generated in History's own formats (``sample.fast_history``):
roll-ups for the older days, raw checks every 5 minutes for yesterday and today. The run's
clock is shifted to 21:30 UTC of the generated day (then 21:35, 21:40, ...: one run per
5 minutes), so the day files are as full as they are late in the UTC day.

Each run is a fresh ``python -m generator run`` process with no ``_site/`` from a previous
run (as on a fresh Actions runner); one more run keeps the previous site (incremental).
Printed per size: wall, CPU (the process and its forked workers), peak RSS (the largest
process), the split probe / history (record + prune) / site, files written, and the home
page's size. Medians of ``--runs``. With ``--baseline REF`` (default: the commit before this
work), the same runs with that commit's code, for the ratio, at ``--baseline-sizes``.
Targets (2 cores): 1,000 monitors <= 4 s, 10,000 monitors <= 60 s and <= 400 MB peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.history import History  # noqa: E402
from generator.models import Monitor  # noqa: E402
from generator.probes.http_spec import HttpSpec  # noqa: E402
from generator.site.sample import fast_history  # noqa: E402

BASELINE = "df2d90e"  # main before the incremental site (issue 13)
DAY = datetime(2026, 11, 24, tzinfo=timezone.utc)
FIRST_RUN = DAY + timedelta(hours=21, minutes=30)
GROUP = 100

CHILD = r"""
import json, resource, sys, time
from datetime import datetime, timezone
sys.path.insert(0, sys.argv[1])
target = datetime.fromisoformat(sys.argv[2])
offset = target - datetime.now(timezone.utc)
import generator.timeutil as timeutil
real = timeutil.utcnow
def shifted():
    return real() + offset
timeutil.utcnow = shifted
import generator.cli
from generator.run import engine, main_job
for name, module in list(sys.modules.items()):
    if name.startswith("generator") and getattr(module, "utcnow", None) is real:
        module.utcnow = shifted
phases = {"probe": [0.0, 0.0], "history": [0.0, 0.0], "site": [0.0, 0.0]}
def cpu():
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
def timed(phase, function):
    def wrapper(*args, **kwargs):
        wall, used = time.perf_counter(), cpu()
        try:
            return function(*args, **kwargs)
        finally:
            phases[phase][0] += time.perf_counter() - wall
            phases[phase][1] += cpu() - used
    return wrapper
engine.Engine.probe = timed("probe", engine.Engine.probe)
engine.Engine.record = timed("history", engine.Engine.record)
engine.Engine.prune = timed("history", engine.Engine.prune)
main_job.publish = timed("site", main_job.publish)
started = time.perf_counter()
code = generator.cli.main(["run", "--tracker", "files"])
wall = time.perf_counter() - started
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print("RESULT " + json.dumps({"code": code, "wall": wall, "cpu": cpu(), "rss_mb": max(me.ru_maxrss, kids.ru_maxrss) / 1024,
                              "phases": phases}))
"""


# ----------------------------------------------------------------------------- loopback endpoints


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


def _serve(port_out, stop) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_answer, "127.0.0.1", 0, backlog=4096)
        port_out.send(server.sockets[0].getsockname()[1])
        while not stop.is_set():
            await asyncio.sleep(0.2)
        server.close()

    asyncio.run(main())


# ----------------------------------------------------------------------------- the workload


def monitors_yaml(count: int, port: int) -> str:
    lines = ["site: {title: Scale status, timezone: UTC}", "settings: {concurrency: 64}",
             "defaults: {timeout: 5s, retries: 1}", "monitors:"]
    for index in range(count):
        lines.append(f"  - {{id: svc-{index:05d}, name: Service {index}, group: Region {index // GROUP:03d}, "
                     f"url: 'http://127.0.0.1:{port}/svc-{index:05d}'}}")
    return "\n".join(lines) + "\n"


def _generate(args: tuple[str, list[str]]) -> dict:
    data, ids = args
    monitors = [Monitor(id=i, name=i, type="http", spec=HttpSpec(url="http://127.0.0.1:9/")) for i in ids]
    return fast_history(History(data), monitors, FIRST_RUN - timedelta(seconds=30))


def make(folder: Path, count: int) -> None:
    """90 days of history for ``count`` monitors (once per folder; a few minutes at 10,000)."""
    data = folder / "data"
    if (data / "state.json").exists():
        return
    started = time.perf_counter()
    ids = [f"svc-{index:05d}" for index in range(count)]
    chunks = [ids[i::8] for i in range(8)]
    states: dict = {}
    with multiprocessing.get_context("fork").Pool(min(os.cpu_count() or 1, 4)) as pool:
        for part in pool.imap_unordered(_generate, [(str(data), chunk) for chunk in chunks if chunk]):
            states.update(part)
    History(data).save_states(states)
    print(f"  made 90 days of history for {count} monitors in {time.perf_counter() - started:.0f} s", flush=True)


class Clock:
    """The shifted time of each run: 5 minutes after the previous one, remembered in the folder (a
    kept history only takes checks newer than its newest)."""

    def __init__(self, path: Path):
        self.path = path

    def next(self) -> datetime:
        moment = datetime.fromisoformat(self.path.read_text().strip()) if self.path.exists() else FIRST_RUN
        self.path.write_text((moment + timedelta(minutes=5)).isoformat())
        return moment


def run_once(folder: Path, code_root: Path, moment: datetime, *, keep_site: bool) -> dict:
    if not keep_site:
        shutil.rmtree(folder / "_site", ignore_errors=True)
        (folder / "._site.manifest").unlink(missing_ok=True)
    out = subprocess.run([sys.executable, "-c", CHILD, str(code_root), moment.isoformat()], cwd=folder,
                         capture_output=True, text=True, timeout=1800, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"run failed ({out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    built = [line for line in out.stdout.splitlines() if line.startswith("built ")]
    result["built"] = built[-1] if built else ""
    home = (folder / "_site" / "index.html").read_bytes()
    result["home_kb"], result["home_gz_kb"] = len(home) / 1000, len(gzip.compress(home, 9)) / 1000
    return result


def _median(results: list[dict], key: str, phase: str | None = None, part: int = 0) -> float:
    if phase:
        return statistics.median(r["phases"][phase][part] for r in results)
    return statistics.median(r[key] for r in results)


def report(label: str, results: list[dict]) -> dict:
    m = {key: _median(results, key) for key in ("wall", "cpu", "rss_mb", "home_kb", "home_gz_kb")}
    for phase in ("probe", "history", "site"):
        m[phase] = _median(results, "", phase, 0)
        m[phase + "_cpu"] = _median(results, "", phase, 1)
    walls = ", ".join(f"{r['wall']:.1f}" for r in results)
    print(f"  {label}: wall {m['wall']:.2f} s (runs: {walls}), CPU {m['cpu']:.2f} s, peak RSS {m['rss_mb']:.0f} MB; "
          f"probe {m['probe']:.2f} s / history {m['history']:.2f} s / site {m['site']:.2f} s "
          f"(CPU {m['probe_cpu']:.2f} / {m['history_cpu']:.2f} / {m['site_cpu']:.2f}); "
          f"home page {m['home_kb']:.0f} KB, {m['home_gz_kb']:.1f} KB gzipped", flush=True)
    if results[-1]["built"]:
        print(f"    {results[-1]['built']}")
    return m


def baseline_tree(ref: str, base: Path) -> Path | None:
    target = base / f"baseline-{ref}"
    if (target / "generator").is_dir():
        return target
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=False)
    if archive.returncode != 0:
        print(f"  baseline {ref}: not found ({archive.stderr.decode().strip()}); no ratios")
        return None
    target.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", default=None, help="keep the generated data and sites in this folder")
    parser.add_argument("--baseline", default=BASELINE, help="git ref of the previous design ('' for none)")
    parser.add_argument("--baseline-sizes", default="100,1000")
    args = parser.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="run-scale-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"run_scale: cpus={os.cpu_count()} folder={base}; first run at {FIRST_RUN.isoformat()} (shifted clock)")
    old_root = baseline_tree(args.baseline, base) if args.baseline else None
    old_sizes = {int(x) for x in args.baseline_sizes.split(",") if x}
    receive, send = multiprocessing.Pipe(duplex=False)
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=_serve, args=(send, stop), daemon=True)
    server.start()
    port = receive.recv()
    try:
        for count in (int(x) for x in args.sizes.split(",")):
            folder = base / f"m{count}"
            folder.mkdir(exist_ok=True)
            (folder / "monitors.yaml").write_text(monitors_yaml(count, port))
            make(folder, count)
            print(f"{count} monitors:", flush=True)
            clock = Clock(folder / "next-run.txt")
            results = [run_once(folder, ROOT, clock.next(), keep_site=False) for _ in range(args.runs)]
            new = report(f"this design, fresh _site/, median of {len(results)}", results)
            report("this design, previous _site/ kept (incremental)",
                   [run_once(folder, ROOT, clock.next(), keep_site=True)])
            if old_root is not None and count in old_sizes:
                old = [run_once(folder, old_root, clock.next(), keep_site=False) for _ in range(args.runs)]
                previous = report(f"previous design ({args.baseline}), median of {len(old)}", old)
                print(f"  ratio previous/this: wall {previous['wall'] / new['wall']:.1f}x, "
                      f"CPU {previous['cpu'] / new['cpu']:.1f}x, peak RSS {previous['rss_mb'] / new['rss_mb']:.1f}x, "
                      f"site {previous['site'] / new['site']:.1f}x, history {previous['history'] / new['history']:.1f}x",
                      flush=True)
    finally:
        stop.set()
        server.join(timeout=5)
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
