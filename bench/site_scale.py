"""Benchmark: the site build at 20 and 1,000 monitors with 90 days of history, full and incremental.

    .venv/bin/python bench/site_scale.py [--sizes 20,1000] [--runs 3] [--keep DIR] [--baseline REF]

How the history is made (fast, and as the real system holds it): for every
monitor, the daily roll-ups of the 88 older days are written into History's own
roll-up year files (what remains after raw checks are pruned, and all the site
reads for those days), and raw checks at a 5-minute cadence are recorded
through ``History.record`` for yesterday and today (the raw window the site
reads: the last 24 hours). Incidents: one per 5 monitors, at least 20 (200 for
1,000 monitors; 1 open), spread over the 90 days; 2 maintenance windows.

Each build runs in a fresh child process so its time, CPU (its own and its forked
workers') and peak RSS (the largest process) are its own; Python start-up and imports
are excluded from the time, included in RSS. Printed, medians of ``--runs``:

- a full build into an empty folder;
- a rebuild a minute later after a run in which 1% of the monitors got a new check
  (what a watch-mode tick records): files written / total, and its time;
- the same two with the previous design's code (``--baseline``, a git ref; default the
  commit before this work), whose every build writes every file, and the ratios.

Targets (2-core machine): the 1%-changed rebuild writes <= 5% of the files; a full build
of 1,000 monitors <= 3 s of CPU.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pickle
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

NOW = datetime(2026, 11, 24, 21, 30, tzinfo=timezone.utc)
BASELINE = "df2d90e"  # main before the incremental site (issue 13)

CHILD = r"""
import json, pickle, resource, sys, time
sys.path.insert(0, sys.argv[1])
from datetime import datetime
from generator.history import History
from generator.site import build_site
config, incidents, maintenance = pickle.load(open(sys.argv[2], "rb"))[:3]
history = History(sys.argv[3])
now = datetime.fromisoformat(sys.argv[5])
def cpu():
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
used, started = cpu(), time.perf_counter()
report = build_site(config, history, incidents, maintenance, sys.argv[4], now=now)
seconds, used = time.perf_counter() - started, cpu() - used
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "cpu": used, "pages": report.pages, "files": report.files,
                  "written": getattr(report, "written", report.files), "removed": getattr(report, "removed", 0),
                  "bytes": report.bytes, "rss_mb": max(me.ru_maxrss, kids.ru_maxrss) / 1024}))
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
    inputs.write_bytes(pickle.dumps((config, incidents, maintenance)))
    return inputs


def build(code: Path, inputs: Path, data: Path, site: Path, now: datetime) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(code), str(inputs), str(data), str(site), now.isoformat()],
                         capture_output=True, text=True, timeout=600, check=False)
    if out.returncode != 0:
        raise SystemExit(f"build failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def home_size(site: Path) -> tuple[int, int, int, int]:
    html = (site / "index.html").read_bytes()
    css = (site / "assets" / "style.css").read_bytes()
    return len(html), len(css), len(gzip.compress(html, 9)), len(gzip.compress(css, 9))


def touch_one_percent(data: Path, config, moment: datetime, round_: int) -> int:
    """A run in which 1% of the monitors got a new check (every third of them down), at ``moment``."""
    from generator.history import History
    from generator.models import Check, CheckStatus

    history = History(data)
    count = max(1, len(config.monitors) // 100)
    chosen = [config.monitors[(round_ * 37 + i * 101) % len(config.monitors)].id for i in range(count)]
    checks = [Check(monitor_id=m, time=moment, status=CheckStatus.DOWN if i % 3 == 0 else CheckStatus.UP,
                    latency_ms=None if i % 3 == 0 else 90.0 + i, code=None if i % 3 == 0 else 200,
                    error="connection refused" if i % 3 == 0 else "") for i, m in enumerate(chosen)]
    history.record(checks)
    return len(chosen)


def median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def measure(code: Path, label: str, folder: Path, inputs: Path, config, runs: int, scratch: Path) -> dict:
    """Full builds into an empty folder, then rebuilds after 1%-changed runs: medians."""
    full = []
    for _ in range(runs):
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(folder / "data", scratch / "data")
        full.append(build(code, inputs, scratch / "data", scratch / "_site", NOW))
    rebuilt = []
    for round_ in range(runs):
        moment = NOW + timedelta(minutes=1 + round_)
        touch_one_percent(scratch / "data", config, moment - timedelta(seconds=20), round_)
        rebuilt.append(build(code, inputs, scratch / "data", scratch / "_site", moment))
    f, r = full[len(full) // 2], rebuilt[len(rebuilt) // 2]
    each = ", ".join(f"{x['cpu']:.2f}" for x in full)
    print(f"  {label}: full build {median(full, 'seconds'):.2f} s, CPU {median(full, 'cpu'):.2f} s "
          f"(runs: {each}), peak RSS {median(full, 'rss_mb'):.0f} MB; "
          f"{f['pages']} pages, {f['files']} files, {f['bytes'] / 1e6:.1f} MB", flush=True)
    print(f"  {label}: rebuild after a run with 1% of monitors changed: {median(rebuilt, 'seconds'):.2f} s, "
          f"CPU {median(rebuilt, 'cpu'):.2f} s; files written {r['written']} / {r['files']} "
          f"({100 * median(rebuilt, 'written') / r['files']:.1f}%), removed {r['removed']}", flush=True)
    html, css, html_gz, css_gz = home_size(scratch / "_site")
    print(f"  {label}: home page HTML {html / 1000:.1f} KB + CSS {css / 1000:.1f} KB; "
          f"gzip {html_gz / 1000:.1f} + {css_gz / 1000:.1f} = {(html_gz + css_gz) / 1000:.1f} KB", flush=True)
    return {"full_s": median(full, "seconds"), "full_cpu": median(full, "cpu"), "rss": median(full, "rss_mb"),
            "re_s": median(rebuilt, "seconds"), "re_written": median(rebuilt, "written") / r["files"]}


def baseline_tree(ref: str, base: Path) -> Path | None:
    target = base / f"baseline-{ref}"
    if (target / "generator").is_dir():
        return target
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=False)
    if archive.returncode != 0:
        print(f"  baseline {ref}: not found; no ratios")
        return None
    target.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,1000")
    parser.add_argument("--runs", type=int, default=3, help="builds of each kind per size (medians printed)")
    parser.add_argument("--keep", default=None, help="keep the generated data in this folder")
    parser.add_argument("--baseline", default=BASELINE, help="git ref of the previous design ('' for none)")
    args = parser.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="site-scale-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"site_scale: now={NOW.isoformat()} cpus={os.cpu_count()} folder={base}")
    old_root = baseline_tree(args.baseline, base) if args.baseline else None
    for count in (int(x) for x in args.sizes.split(",")):
        folder = base / f"m{count}"
        folder.mkdir(parents=True, exist_ok=True)
        inputs = folder / "inputs.pickle"
        if not inputs.exists():
            inputs = make(count, folder)
        config = pickle.loads(inputs.read_bytes())[0]
        print(f"{count} monitors:", flush=True)
        new = measure(ROOT, "this design", folder, inputs, config, args.runs, folder / "scratch")
        if old_root is not None:
            old = measure(old_root, f"previous design ({args.baseline})", folder, inputs, config, args.runs,
                          folder / "scratch")
            print(f"  ratio previous/this: full build {old['full_s'] / new['full_s']:.1f}x time, "
                  f"{old['full_cpu'] / new['full_cpu']:.1f}x CPU, {old['rss'] / new['rss']:.1f}x peak RSS; "
                  f"1%-changed rebuild {old['re_s'] / new['re_s']:.1f}x time, "
                  f"{old['re_written'] / max(new['re_written'], 1e-9):.0f}x files written", flush=True)
        shutil.rmtree(folder / "scratch", ignore_errors=True)
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
