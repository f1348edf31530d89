"""Benchmark: build the site for 20 and 1,000 monitors with 90 days of history.

    .venv/bin/python bench/site_scale.py [--sizes 20,1000] [--keep DIR]

How the history is made (fast, and as the real system holds it): for every
monitor, the daily roll-ups of the 88 older days are written into History's own
roll-up year files (what remains after raw checks are pruned, and all the site
reads for those days), and raw checks at a 5-minute cadence are recorded
through ``History.record`` for yesterday and today (the raw window the site
reads: the last 24 hours). Incidents: one per 5 monitors, at least 20 (200 for
1,000 monitors; 1 open), spread over the 90 days; 2 maintenance windows.

Each build runs in a fresh child process so its time and peak RSS are its own
(Python start-up and imports are excluded from the build time, included in RSS).
``--out /dev/shm`` writes the sites to memory, to tell the file system's share
from the CPU's (on a busy shared disk, creating ~7,000 small files dominates).
Targets (2-core machine): 1,000 monitors < 3 s, 20 monitors < 0.3 s, home page of
20 monitors < 40 KB HTML+CSS before compression, peak RSS < 200 MB.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 24, 21, 30, tzinfo=timezone.utc)

CHILD = r"""
import json, pickle, resource, sys, time
sys.path.insert(0, sys.argv[1])
from generator.history import History
from generator.site import build_site
config, incidents, maintenance, now = pickle.load(open(sys.argv[2], "rb"))
history = History(sys.argv[3])
started = time.perf_counter()
report = build_site(config, history, incidents, maintenance, sys.argv[4], now=now)
seconds = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # forked history readers and page workers, if any
print(json.dumps({"seconds": seconds, "collect": report.collect_seconds, "render": report.render_seconds,
                  "pages": report.pages, "files": report.files, "bytes": report.bytes, "rss_mb": rss,
                  "worker_rss_mb": workers}))
"""


def make(count: int, folder: Path) -> Path:
    from generator.history import History
    from generator.site.sample import build_sample, sample_config

    config = sample_config(count)
    history = History(folder / "data")
    started = time.perf_counter()
    wanted = max(20, count // 5)
    incidents, maintenance = build_sample(history, config, NOW, incidents=wanted, raw_days=2, days=90)
    print(f"  made history for {count} monitors and {wanted} incidents in {time.perf_counter() - started:.1f} s",
          flush=True)
    inputs = folder / "inputs.pickle"
    inputs.write_bytes(pickle.dumps((config, incidents, maintenance, NOW)))
    return inputs


def build(folder: Path, inputs: Path, runs: int, site: Path) -> list[dict]:
    results = []
    for run in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT), str(inputs), str(folder / "data"), str(site)],
            capture_output=True, text=True, timeout=300, check=False,
        )
        if out.returncode != 0:
            raise SystemExit(f"build failed:\n{out.stderr}")
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def home_size(site: Path) -> tuple[int, int, int, int]:
    html = (site / "index.html").read_bytes()
    css = (site / "assets" / "style.css").read_bytes()
    return len(html), len(css), len(gzip.compress(html, 9)), len(gzip.compress(css, 9))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,1000")
    parser.add_argument("--runs", type=int, default=3, help="builds per size (the best and the worst are printed)")
    parser.add_argument("--keep", default=None, help="keep the data and sites in this folder")
    parser.add_argument("--out", default=None,
                        help="write the sites under this folder instead (e.g. /dev/shm, to separate disk speed from CPU)")
    args = parser.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="site-scale-"))
    print(f"site_scale: now={NOW.isoformat()} cpus={os.cpu_count()} folder={base}")
    for count in (int(x) for x in args.sizes.split(",")):
        folder = base / f"m{count}"
        folder.mkdir(parents=True, exist_ok=True)
        inputs = folder / "inputs.pickle"
        if not inputs.exists():
            inputs = make(count, folder)
        site = Path(args.out) / f"site-scale-m{count}" if args.out else folder / "_site"
        results = build(folder, inputs, args.runs, site)
        best = min(results, key=lambda r: r["seconds"])
        worst = max(results, key=lambda r: r["seconds"])
        html, css, html_gz, css_gz = home_size(site)
        print(
            f"{count:>5} monitors: build {best['seconds']:.2f} s best / {worst['seconds']:.2f} s worst of {len(results)} "
            f"(read history {best['collect']:.2f} s, render+write {best['render']:.2f} s); "
            f"{best['pages']} pages, {best['files']} files, {best['bytes'] / 1e6:.1f} MB; "
            f"peak RSS {max(r['rss_mb'] for r in results):.0f} MB"
            + (f" (+ largest forked worker, mostly pages shared copy-on-write with the parent: {max(r['worker_rss_mb'] for r in results):.0f} MB)"
               if max(r["worker_rss_mb"] for r in results) else "")
        )
        print(
            f"       home page: HTML {html / 1000:.1f} KB + CSS {css / 1000:.1f} KB = {(html + css) / 1000:.1f} KB; "
            f"gzip {html_gz / 1000:.1f} + {css_gz / 1000:.1f} = {(html_gz + css_gz) / 1000:.1f} KB"
        )
    import shutil

    if args.out:
        for count in (int(x) for x in args.sizes.split(",")):
            shutil.rmtree(Path(args.out) / f"site-scale-m{count}", ignore_errors=True)
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
