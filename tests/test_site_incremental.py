"""An incremental build: unchanged files keep their bytes and mtime, files no longer produced go, and a
build killed at any moment leaves every file whole (the previous version or the new one)."""

from __future__ import annotations

import dataclasses
import pickle
import random
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from generator.models import Check, CheckStatus
from generator.site import build_site
from generator.site.output import TEMP_MARK, manifest_path
from generator.site.sample import demo_inputs

NOW = datetime(2026, 11, 24, 21, 30, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[1]


def _files(site: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(site).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(site.rglob("*")) if p.is_file()}


@pytest.fixture()
def inputs(tmp_path):
    config, history, incidents, maintenance = demo_inputs(tmp_path, count=6, now=NOW)
    return {"folder": tmp_path, "config": config, "history": history, "incidents": incidents,
            "maintenance": maintenance}


def _build(d, out: Path, *, now: datetime = NOW, config=None):
    return build_site(config or d["config"], d["history"], d["incidents"], d["maintenance"], out, now=now)


def test_a_second_build_of_the_same_data_writes_only_build_json(inputs):
    out = inputs["folder"] / "_site"
    first = _build(inputs, out)
    before = _files(out)
    second = _build(inputs, out)
    after = _files(out)
    assert sorted(before) == sorted(after)
    changed = [name for name in after if after[name][1] != before[name][1]]
    assert changed in ([], ["build.json"])  # its built_at is in whole seconds
    assert (second.files, second.written, second.removed) == (first.files, len(changed), 0)
    assert first.written == first.files


def test_a_new_check_of_one_monitor_rewrites_its_files_not_the_others(inputs):
    out = inputs["folder"] / "_site"
    _build(inputs, out)
    before = _files(out)
    monitor = inputs["config"].monitors[3].id
    other = inputs["config"].monitors[4].id
    inputs["history"].record([Check(monitor_id=monitor, time=NOW + timedelta(seconds=30), status=CheckStatus.DOWN,
                                    error="connection refused")])
    report = _build(inputs, out, now=NOW + timedelta(seconds=60))  # a minute later: one monitor has news
    after = _files(out)
    rewritten = {name for name in after if after[name][1] != before[name][1]}
    assert f"monitors/{monitor}/index.html" in rewritten
    # the others' pages are drawn as of their own newest check, so they come out the same
    assert not any(name.startswith(("monitors/", "badges/svc")) and monitor not in name for name in rewritten)
    assert "index.html" in rewritten and "api/v2/summary.json" in rewritten
    assert report.written == len(rewritten)
    page = (out / "monitors" / other / "index.html").read_text()
    assert "Data as of <time datetime=\"2026-11-24T21:25:00Z\"" in page  # as of its newest check


def test_pages_of_a_removed_monitor_disappear_and_nothing_else(inputs):
    out = inputs["folder"] / "_site"
    _build(inputs, out)
    config = inputs["config"]
    gone = config.monitors[-1].id
    (out / "extra.txt").write_text("a file the previous build did not make")  # not the builder's: kept
    report = _build(inputs, out, config=dataclasses.replace(config, monitors=config.monitors[:-1]))
    assert not (out / "monitors" / gone).exists()
    assert not (out / "badges" / gone).exists()
    assert (out / "monitors" / config.monitors[0].id / "index.html").is_file()
    assert (out / "extra.txt").is_file()
    assert report.removed == 9  # its page, two feeds, three badges as SVG and JSON


def test_a_site_without_manifest_is_compared_by_content(inputs):
    """A site left by a killed build (or by the previous design): identical files keep their mtime,
    and whatever the build does not produce is removed, temporary files included."""
    out = inputs["folder"] / "_site"
    _build(inputs, out)
    manifest_path(out).unlink()
    (out / "monitors" / f".index.html{TEMP_MARK}123").write_text("half a page")
    (out / "stale" / "page").mkdir(parents=True)
    (out / "stale" / "page" / "index.html").write_text("old")
    before = _files(out)
    report = _build(inputs, out)
    after = _files(out)
    assert [name for name in after if after[name][1] != before[name][1]] in ([], ["build.json"])
    assert not (out / "stale").exists()
    assert report.removed == 2
    assert manifest_path(out).is_file()


CHILD = r"""
import pickle, sys
sys.path.insert(0, sys.argv[1])
from generator.site import build_site
config, incidents, maintenance, now = pickle.load(open(sys.argv[2], "rb"))
print("start", flush=True)
build_site(config, History(sys.argv[3]), incidents, maintenance, sys.argv[4], now=now)
"""


def test_a_killed_build_leaves_every_file_whole(inputs):
    """SIGKILL at random moments of a build: each file is the previous build's or the next one's, and
    the build after the kill makes exactly the site a clean build makes."""
    d = inputs
    folder = d["folder"]
    later = NOW + timedelta(hours=3)  # every page changes (times, windows), and one monitor is gone
    config = dataclasses.replace(d["config"], monitors=d["config"].monitors[:-1])
    old, new = folder / "old", folder / "new"
    _build(d, old)
    started = time.perf_counter()
    _build(d, new, now=later, config=config)
    seconds = time.perf_counter() - started
    old_files, new_files = _files(old), _files(new)
    job = folder / "job.pickle"
    job.write_bytes(pickle.dumps((config, d["incidents"], d["maintenance"], later)))
    rng = random.Random(5)
    out = folder / "_site"
    shutil.copytree(old, out)
    for attempt in range(6):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT), str(job), str(folder / "data"), str(out)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline() == "start\n"
        time.sleep(rng.uniform(0, seconds * 1.2))
        child.kill()
        child.wait()
        for path in out.rglob("*"):
            if not path.is_file() or TEMP_MARK in path.name or path.name == "build.json":  # built_at: wall time
                continue
            name = path.relative_to(out).as_posix()
            data = path.read_bytes()
            assert data in (old_files.get(name, (None,))[0], new_files.get(name, (None,))[0]), (attempt, name)
        if attempt % 2:  # a killed build's leftovers are also what a complete build starts from
            _build(d, out)
            rebuilt = _files(out)
            assert sorted(rebuilt) == sorted(old_files)
            assert [n for n in rebuilt if n != "build.json" and rebuilt[n][0] != old_files[n][0]] == []
    _build(d, out, now=later, config=config)
    final = _files(out)
    assert sorted(final) == sorted(new_files)
    assert [n for n in final if n != "build.json" and final[n][0] != new_files[n][0]] == []
    assert not [p for p in folder.glob(f".*{TEMP_MARK}*")]


def test_a_build_does_not_change_the_history(inputs):
    data = inputs["folder"] / "data"
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    _build(inputs, inputs["folder"] / "_site")
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == before
