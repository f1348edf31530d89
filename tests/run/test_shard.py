"""Shards, partial files, region quorum: generator/shard.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import secrets
from generator.models import Check, CheckStatus, Monitor, Settings
from generator.probes.http_spec import HttpSpec
from generator.probes.tcp import TcpSpec
from generator.run.probing import run_probes
from generator.run.shard import (
    ShardError,
    merge,
    merge_files,
    parse_shard,
    read_partial,
    select_region,
    select_shard,
    shard_of,
    write_merged,
    write_partial,
)
from generator.timeutil import UTC

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)


def http_monitor(monitor_id: str, url: str = "http://127.0.0.1:9/", **extra) -> Monitor:
    return Monitor(id=monitor_id, name=monitor_id.title(), type="http", spec=HttpSpec(url=url), **extra)


def check(monitor_id: str, status: CheckStatus, *, latency=12.0, code=200, error="", region=None, time=T0) -> Check:
    return Check(monitor_id=monitor_id, time=time, status=status, latency_ms=latency, code=code, error=error,
                 region=region)


def partial_file(tmp_path: Path, name: str, checks, **kwargs) -> Path:
    path = tmp_path / name
    write_partial(path, checks, started=T0, finished=T0 + timedelta(seconds=5), **kwargs)
    return path


# --------------------------------------------------------------------------- shard selection


def test_parse_shard_accepts_k_of_n():
    assert parse_shard("1/1") == (1, 1)
    assert parse_shard(" 3 / 4 ") == (3, 4)


@pytest.mark.parametrize(
    "text, fragment",
    [("0/4", "between 1 and 4"), ("5/4", "between 1 and 4"), ("1/0", "at least 1"), ("two/4", "expected K/N"),
     ("3", "expected K/N"), ("", "expected K/N"), ("-1/3", "expected K/N")],
)
def test_parse_shard_rejects_with_a_clear_message(text, fragment):
    with pytest.raises(ShardError) as raised:
        parse_shard(text)
    assert fragment in str(raised.value)
    assert "--shard" in str(raised.value)


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True), unique=True, max_size=60),
    total=st.integers(min_value=1, max_value=9),
)
def test_every_monitor_is_in_exactly_one_shard_in_config_order(ids, total):
    monitors = [http_monitor(i) for i in ids]
    shards = [select_shard(monitors, k, total) for k in range(1, total + 1)]
    flat = [m.id for shard in shards for m in shard]
    assert sorted(flat) == sorted(ids)
    assert len(flat) == len(set(flat))
    for shard in shards:  # each shard keeps the configuration's order
        positions = [ids.index(m.id) for m in shard]
        assert positions == sorted(positions)


def test_shards_spread_monitors_roughly_evenly():
    monitors = [http_monitor(f"svc-{n}") for n in range(400)]
    sizes = [len(select_shard(monitors, k, 4)) for k in range(1, 5)]
    assert sum(sizes) == 400
    assert min(sizes) >= 70, sizes  # sha256 spreads; 100 expected per shard


def test_shard_choice_is_stable_across_python_processes():
    ids = [f"monitor-{n}" for n in range(30)]
    here = [shard_of(i, 5) for i in ids]
    script = "import json,sys; from generator.run.shard import shard_of; print(json.dumps([shard_of(i, 5) for i in json.loads(sys.argv[1])]))"
    for seed in ("1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", script, json.dumps(ids)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60, check=True)
        assert json.loads(out.stdout) == here


def test_select_shard_rejects_out_of_range():
    with pytest.raises(ShardError):
        select_shard([http_monitor("a")], 0, 3)
    with pytest.raises(ShardError):
        select_shard([http_monitor("a")], 4, 3)


def test_select_region_keeps_unrestricted_monitors_and_those_listing_the_region():
    monitors = [http_monitor("any"), http_monitor("eu-only", regions=("eu",)), http_monitor("us-only", regions=("us",))]
    assert [m.id for m in select_region(monitors, "eu")] == ["any", "eu-only"]
    assert [m.id for m in select_region(monitors, None)] == ["any", "eu-only", "us-only"]


# --------------------------------------------------------------------------- partial files


def test_partial_round_trip_keeps_every_field_and_writes_utc_z(tmp_path):
    original = [
        Check(monitor_id="api", time=datetime(2026, 11, 24, 22, 0, 1, 250000, tzinfo=UTC), status=CheckStatus.DEGRADED,
              latency_ms=812.5, code=200, error="slow", attempts=2, details={"days_left": 12}),
        Check(monitor_id="db", time=T0, status=CheckStatus.DOWN, latency_ms=None, code=None, error="refused",
              attempts=3),
    ]
    path = partial_file(tmp_path, "p.json", original, shard="2/3", region="eu")
    text = path.read_text()
    assert '"2026-11-24T22:00:01.250Z"' in text and '"started": "2026-11-24T21:00:00Z"' in text
    assert not [p for p in tmp_path.iterdir() if p.name != "p.json"], "atomic write left a temporary file"
    partial = read_partial(path)
    assert partial.shard == "2/3" and partial.region == "eu" and partial.path == str(path)
    assert partial.started == T0 and partial.finished == T0 + timedelta(seconds=5)
    # the file's region is stamped on checks that had none
    assert [c.region for c in partial.checks] == ["eu", "eu"]
    from dataclasses import replace

    assert list(partial.checks) == [replace(c, region="eu") for c in original]


def test_partial_masks_secret_values(tmp_path):
    secrets.register("hunter2-token")
    try:
        path = partial_file(tmp_path, "p.json", [check("api", CheckStatus.DOWN, error="401 for token hunter2-token")])
    finally:
        secrets.clear()
    assert "hunter2-token" not in path.read_text()
    assert read_partial(path).checks[0].error == "401 for token ***"


def test_naive_times_are_refused(tmp_path):
    with pytest.raises(ValueError):
        write_partial(tmp_path / "p.json", [], started=datetime(2026, 1, 1), finished=T0)


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("{not json", "1:2: not valid JSON"),
        ('{"kind": "something-else"}', "not a statusgen partial"),
        ('{"kind": "statusgen-partial", "version": 99}', "version 99 is not supported"),
        ('{"kind": "statusgen-partial", "version": 1, "started": "2026-11-24T21:00:00Z", "checks": []}',
         "missing key 'finished'"),
        ('{"kind": "statusgen-partial", "version": 1, "started": "yesterday", "finished": "x", "checks": []}',
         "started: 'yesterday' is not an ISO 8601 time"),
        ('{"kind": "statusgen-partial", "version": 1, "shard": "9/3", "started": "2026-11-24T21:00:00Z",'
         ' "finished": "2026-11-24T21:00:00Z", "checks": []}', "shard: --shard '9/3'"),
        ('{"kind": "statusgen-partial", "version": 1, "started": "2026-11-24T21:00:00Z",'
         ' "finished": "2026-11-24T21:00:00Z", "checks": {}}', "checks: expected a list"),
        ('{"kind": "statusgen-partial", "version": 1, "started": "2026-11-24T21:00:00Z",'
         ' "finished": "2026-11-24T21:00:00Z", "checks": [{"monitor_id": "a", "time": "2026-11-24T21:00:00Z",'
         ' "status": "sideways"}]}', "checks[0]: 'sideways' is not a valid CheckStatus"),
        ('{"kind": "statusgen-partial", "version": 1, "started": "2026-11-24T21:00:00Z",'
         ' "finished": "2026-11-24T21:00:00Z", "checks": [{"monitor_id": "a", "status": "up"}]}',
         "checks[0]: missing key 'time'"),
        ('{"kind": "statusgen-partial", "version": 1, "started": "2026-11-24T21:00:00Z",'
         ' "finished": "2026-11-24T21:00:00Z", "checks": [{"monitor_id": "a", "time": "2026-11-24T21:00:00Z",'
         ' "status": "up", "code": "200"}]}', "checks[0].code: expected an integer"),
        ('{"kind": "statusgen-partial", "version": 1, "started": "2026-11-24T21:00:00Z",'
         ' "finished": "2026-11-24T21:00:00Z", "checks": [{"monitor_id": "a", "time": "2026-11-24T21:00:00Z",'
         ' "status": "up"}, {"monitor_id": "a", "time": "2026-11-24T21:00:00Z", "status": "up"}]}',
         "checks[1]: monitor 'a' appears twice"),
    ],
)
def test_malformed_partials_get_a_message_naming_the_file(tmp_path, content, fragment):
    path = tmp_path / "shard-1.json"
    path.write_text(content)
    with pytest.raises(ShardError) as raised:
        read_partial(path)
    message = str(raised.value)
    assert message.startswith(str(path)), message
    assert fragment in message, message


def test_missing_partial_is_named(tmp_path):
    with pytest.raises(ShardError, match="nowhere.json: no such partial"):
        read_partial(tmp_path / "nowhere.json")


# --------------------------------------------------------------------------- merging shards


def test_merging_shards_restores_config_order_and_marks_a_missing_shard_no_data(tmp_path):
    monitors = [http_monitor(f"m{n}") for n in range(12)]
    files = []
    for k in (1, 2, 3):
        chosen = select_shard(monitors, k, 3)
        checks = [check(m.id, CheckStatus.UP if n % 2 else CheckStatus.DOWN, error="" if n % 2 else "boom")
                  for n, m in enumerate(chosen)]
        files.append(partial_file(tmp_path, f"shard-{k}.json", checks, shard=f"{k}/3"))
    merged = merge_files(files, monitors)
    assert [c.monitor_id for c in merged] == [m.id for m in monitors]
    assert all(c.status is not CheckStatus.NO_DATA for c in merged)

    # shard 2 never uploaded: its monitors are no data, never "up"
    lost = {m.id for m in select_shard(monitors, 2, 3)}
    assert lost, "pick a layout where shard 2 is not empty"
    merged = merge_files([files[0], files[2]], monitors)
    for c in merged:
        if c.monitor_id in lost:
            assert c.status is CheckStatus.NO_DATA and "no partial results" in c.error
        else:
            assert c.status is not CheckStatus.NO_DATA


def test_overlapping_shards_are_refused(tmp_path):
    a = partial_file(tmp_path, "a.json", [check("api", CheckStatus.UP)], shard="1/2")
    b = partial_file(tmp_path, "b.json", [check("api", CheckStatus.DOWN)], shard="2/2")
    with pytest.raises(ShardError, match="b.json: monitor 'api' was already probed .* in .*a.json"):
        merge_files([a, b], [http_monitor("api")])


def test_shards_of_different_counts_are_refused(tmp_path):
    a = partial_file(tmp_path, "a.json", [], shard="1/2")
    b = partial_file(tmp_path, "b.json", [], shard="1/3")
    with pytest.raises(ShardError, match="different shard counts"):
        merge_files([a, b], [])


def test_merge_needs_at_least_one_partial():
    with pytest.raises(ShardError, match="nothing to merge"):
        merge([], [http_monitor("a")])


def test_merged_file_reads_back_for_run_checks(tmp_path):
    monitors = [http_monitor("a"), http_monitor("b")]
    p = partial_file(tmp_path, "p.json", [check("b", CheckStatus.UP), check("a", CheckStatus.DOWN, error="x")])
    partials = [read_partial(p)]
    merged = merge(partials, monitors)
    write_merged(tmp_path / "merged.json", merged, partials)
    again = read_partial(tmp_path / "merged.json")
    assert again.shard is None and again.region is None
    assert list(again.checks) == merged


# --------------------------------------------------------------------------- regions and quorum


def regions(tmp_path, verdicts: dict[str, Check]):
    """One partial per region holding one monitor's check; returns the read partials."""
    return [read_partial(partial_file(tmp_path, f"{region}.json", [c], region=region))
            for region, c in verdicts.items()]


def test_quorum_one_any_region_down_is_down(tmp_path):
    parts = regions(tmp_path, {
        "eu": check("api", CheckStatus.UP, latency=10),
        "us": check("api", CheckStatus.DOWN, code=503, error="HTTP 503"),
        "ap": check("api", CheckStatus.UP, latency=30),
    })
    [result] = merge(parts, [http_monitor("api")], quorum=1)
    assert result.status is CheckStatus.DOWN
    assert result.error == "us: HTTP 503"
    assert result.code == 503
    assert result.details["regions"] == {"ap": "up", "eu": "up", "us": "down"}


def test_quorum_two_one_region_down_is_not_an_outage(tmp_path):
    parts = regions(tmp_path, {
        "eu": check("api", CheckStatus.UP, latency=10),
        "us": check("api", CheckStatus.DOWN, code=None, error="connection refused"),
        "ap": check("api", CheckStatus.UP, latency=30),
    })
    [result] = merge(parts, [http_monitor("api")], quorum=2)
    assert result.status is CheckStatus.UP
    assert result.latency_ms == 20  # median of the regions that saw it up
    assert result.error == ""
    assert result.details["regions"]["us"] == "down"


def test_quorum_two_two_regions_down_is_down_with_their_errors(tmp_path):
    parts = regions(tmp_path, {
        "eu": check("api", CheckStatus.DOWN, code=502, error="HTTP 502"),
        "us": check("api", CheckStatus.DOWN, code=None, error="timeout after 10s"),
        "ap": check("api", CheckStatus.UP),
    })
    [result] = merge(parts, [http_monitor("api")], quorum=2)
    assert result.status is CheckStatus.DOWN
    assert result.error == "eu: HTTP 502; us: timeout after 10s"
    assert result.code == 502


def test_quorum_two_down_plus_degraded_is_degraded(tmp_path):
    parts = regions(tmp_path, {
        "eu": check("api", CheckStatus.DOWN, error="HTTP 500", code=500),
        "us": check("api", CheckStatus.DEGRADED, error="slow: 2.5s", latency=2500),
        "ap": check("api", CheckStatus.UP),
    })
    [result] = merge(parts, [http_monitor("api")], quorum=2)
    assert result.status is CheckStatus.DEGRADED
    assert result.error == "eu: HTTP 500; us: slow: 2.5s"


def test_no_data_regions_are_ignored_and_the_quorum_is_capped(tmp_path):
    # us lost its own network: eu alone still counts, even with quorum 2
    parts = regions(tmp_path, {
        "eu": check("api", CheckStatus.DOWN, error="HTTP 500", code=500),
        "us": check("api", CheckStatus.NO_DATA, error="canary unreachable", latency=None, code=None),
    })
    [result] = merge(parts, [http_monitor("api")], quorum=2)
    assert result.status is CheckStatus.DOWN
    assert result.details["quorum"] == 1
    assert result.error == "eu: HTTP 500"


def test_all_regions_no_data_is_no_data(tmp_path):
    parts = regions(tmp_path, {
        "eu": check("api", CheckStatus.NO_DATA, error="canary unreachable", latency=None),
        "us": check("api", CheckStatus.NO_DATA, error="canary unreachable", latency=None),
    })
    [result] = merge(parts, [http_monitor("api")], quorum=1)
    assert result.status is CheckStatus.NO_DATA
    assert result.error == "eu: canary unreachable; us: canary unreachable"


def test_regions_times_shards_merge_per_monitor(tmp_path):
    monitors = [http_monitor(f"m{n}") for n in range(8)]
    files = []
    for region, broken in (("eu", {"m1", "m2"}), ("us", {"m2", "m5"})):
        for k in (1, 2):
            checks = [check(m.id, CheckStatus.DOWN if m.id in broken else CheckStatus.UP,
                            error="HTTP 500" if m.id in broken else "")
                      for m in select_shard(monitors, k, 2)]
            files.append(partial_file(tmp_path, f"{region}-{k}.json", checks, shard=f"{k}/2", region=region))
    by_quorum = {q: {c.monitor_id: c.status for c in merge_files(files, monitors, quorum=q)} for q in (1, 2)}
    assert [c for c, s in by_quorum[1].items() if s is CheckStatus.DOWN] == ["m1", "m2", "m5"]
    assert [c for c, s in by_quorum[2].items() if s is CheckStatus.DOWN] == ["m2"]


def test_quorum_must_be_positive(tmp_path):
    with pytest.raises(ShardError, match="quorum"):
        merge(regions(tmp_path, {"eu": check("a", CheckStatus.UP)}), [http_monitor("a")], quorum=0)


# --------------------------------------------------------------------------- sharded == unsharded, for real


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        codes = {"/ok": 200, "/teapot": 418, "/error": 500, "/moved": 404}
        code = codes.get(self.path.split("?")[0], 404)
        body = f"status {code}".encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def loopback_http():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sharded_run_equals_unsharded_run_against_real_servers(tmp_path, loopback_http):
    port = _closed_port()
    monitors = []
    for n in range(10):
        path = ("/ok", "/error", "/teapot", "/moved")[n % 4]
        monitors.append(Monitor(id=f"web-{n}", name=f"Web {n}", type="http", spec=HttpSpec(url=loopback_http + path),
                                timeout=2.0, retries=0))
    monitors.append(Monitor(id="tcp-closed", name="Closed", type="tcp", spec=TcpSpec(host="127.0.0.1", port=port),
                            timeout=1.0, retries=0))
    monitors.append(Monitor(id="tcp-open", name="Open", type="tcp",
                            spec=TcpSpec(host="127.0.0.1", port=int(loopback_http.rsplit(":", 1)[1])),
                            timeout=1.0, retries=0))
    run_settings = Settings(concurrency=4)

    whole = run_probes(monitors, run_settings).checks

    files = []
    for k in (1, 2, 3):
        started = datetime.now(UTC)
        checks = run_probes(select_shard(monitors, k, 3), run_settings).checks
        path = tmp_path / f"shard-{k}.json"
        write_partial(path, checks, shard=f"{k}/3", started=started, finished=datetime.now(UTC))
        files.append(path)
    merged = merge_files(files, monitors)

    def essence(checks):
        return [(c.monitor_id, c.status, c.code, c.error) for c in checks]

    assert essence(merged) == essence(whole)
    statuses = {c.monitor_id: c.status for c in whole}
    assert statuses["web-0"] is CheckStatus.UP and statuses["web-1"] is CheckStatus.DOWN
    assert statuses["tcp-closed"] is CheckStatus.DOWN and statuses["tcp-open"] is CheckStatus.UP
