"""Probing: concurrency, deadlines, retries, canary; the check tables; against real loopback servers."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timezone

import pytest

from generator import report, secrets
from generator.models import Canary, Check, CheckStatus, Monitor, Settings
from generator.probes import PROBES
from generator.probes.http_spec import HttpSpec
from generator.probes.probetype import ProbeType
from generator.probes.registry import BY_NAME
from generator.probes.tcp import TcpSpec
from generator.run import probing as runner
from tests.support.servers import HangingServer, HttpServer, TcpListener, closed_port


def http(mid: str, url: str, *, timeout: float = 2.0, retries: int = 0, backoff: float = 0.05) -> Monitor:
    return Monitor(id=mid, name=mid.title(), type="http", spec=HttpSpec(url=url), timeout=timeout, retries=retries, retry_backoff=backoff)


def tcp(mid: str, port: int, **kw) -> Monitor:
    return Monitor(id=mid, name=mid, type="tcp", spec=TcpSpec(host="127.0.0.1", port=port), **kw)


@pytest.fixture(scope="module")
def server():
    with HttpServer() as srv:
        yield srv


def test_checks_come_back_in_order_with_mixed_types(server):
    with TcpListener() as listener:
        monitors = [
            http("a", server.url("/ok")),
            tcp("b", listener.port),
            http("c", server.url("/status/500")),
            tcp("d", closed_port(), retries=0),
        ]
        checks = runner.run_probes(monitors, Settings(concurrency=2)).checks
    assert [c.monitor_id for c in checks] == ["a", "b", "c", "d"]
    assert [c.status for c in checks] == [CheckStatus.UP, CheckStatus.UP, CheckStatus.DOWN, CheckStatus.DOWN]
    assert checks[3].error == "connection refused"


def test_retry_succeeds_on_second_attempt(server):
    monitor = http("flaky", server.url("/flaky?key=second&fail=1"), retries=2, backoff=0.2)
    start = time.monotonic()
    [check] = runner.run_probes([monitor], Settings()).checks
    assert check.status is CheckStatus.UP, check.error
    assert check.attempts == 2
    assert time.monotonic() - start >= 0.2  # the backoff was honoured
    assert server.hits["/flaky"] >= 2


def test_retries_exhausted_and_backoff_doubles(server):
    monitor = http("broken", server.url("/flaky?key=never&fail=99"), retries=2, backoff=0.1)
    start = time.monotonic()
    [check] = runner.run_probes([monitor], Settings()).checks
    took = time.monotonic() - start
    assert (check.status, check.attempts, check.code) == (CheckStatus.DOWN, 3, 503)
    assert took >= 0.3  # 0.1 s + 0.2 s of backoff
    assert [runner.backoff(monitor, n) for n in (1, 2, 3)] == [0.1, 0.2, 0.4]


def test_probe_with_retries_sequential(server):
    waits: list[float] = []
    monitor = http("seq", server.url("/flaky?key=seq&fail=2"), retries=3, backoff=0.5)
    check = runner.probe_with_retries(monitor, sleep=waits.append)
    assert (check.status, check.attempts) == (CheckStatus.UP, 3)
    assert waits == [0.5, 1.0]


def test_hanging_target_is_bounded_by_its_timeout():
    with HangingServer() as hang:
        start = time.monotonic()
        [check] = runner.run_probes([http("hang", hang.url("/"), timeout=0.4)], Settings()).checks
        took = time.monotonic() - start
    assert check.status is CheckStatus.DOWN
    assert check.error == "timed out after 0.4s"
    assert took < 1.2


def test_hanging_monitors_do_not_starve_answering_ones(server):
    with HangingServer() as hang:
        monitors = [http(f"hang{i}", hang.url("/"), timeout=1.5) for i in range(4)]
        monitors += [http(f"ok{i}", server.url("/ok")) for i in range(12)]
        probed = runner.run_probes(monitors, Settings(concurrency=2), park_after=0.1)
        checks, stats = probed.checks, probed.stats
    assert all(c.status is CheckStatus.UP for c in checks[4:])
    assert all(c.error == "timed out after 1.5s" for c in checks[:4])
    healthy_done = max(stats.finished_at[f"ok{i}"] for i in range(12))
    assert healthy_done < 1.2  # before any hanging attempt gave up
    assert stats.parked >= 4
    assert stats.peak_in_flight <= 8  # 4 x concurrency


def test_in_flight_bound_holds():
    with HangingServer() as hang:
        monitors = [http(f"h{i}", hang.url("/"), timeout=0.3) for i in range(6)]
        probed = runner.run_probes(monitors, Settings(concurrency=1), park_after=0.05, max_in_flight=3)
    assert probed.stats.peak_in_flight == 3


def test_raising_probe_becomes_down_and_others_continue(monkeypatch, server):
    secrets.register("s3cr3t-value")

    def boom(monitor, timeout):
        raise RuntimeError("could not use s3cr3t-value")

    monkeypatch.setitem(PROBES, "boom", boom)
    monitors = [
        Monitor(id="x", name="x", type="boom", spec=HttpSpec(url="http://unused")),
        Monitor(id="y", name="y", type="nope", spec=HttpSpec(url="http://unused")),
        http("z", server.url("/ok")),
    ]
    try:
        checks = runner.run_probes(monitors, Settings(concurrency=4)).checks
    finally:
        secrets.clear()
    assert checks[0].status is CheckStatus.DOWN
    assert checks[0].error == "probe error: RuntimeError: could not use ***"
    assert checks[1].error.startswith("probe error: unknown probe type 'nope'")
    assert checks[2].status is CheckStatus.UP


def test_stuck_probe_is_abandoned(monkeypatch):
    release = threading.Event()

    def stuck(monitor, timeout):
        release.wait(5)
        return Check(monitor.id, datetime.now(timezone.utc), CheckStatus.UP)

    monkeypatch.setitem(PROBES, "stuck", stuck)
    monkeypatch.setattr(runner, "OVERRUN_GRACE", 0.2)
    monitor = Monitor(id="s", name="s", type="stuck", spec=HttpSpec(url="http://unused"), timeout=0.1, retries=0)
    start = time.monotonic()
    try:
        [check] = runner.run_probes([monitor], Settings()).checks
    finally:
        release.set()
    assert time.monotonic() - start < 1.5
    assert check.status is CheckStatus.DOWN
    assert "abandoned" in check.error


def test_clock_stamps_check_time(server):
    fixed = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    [check] = runner.run_probes([http("t", server.url("/ok"))], Settings(), clock=lambda: fixed).checks
    assert check.time == fixed


def test_failing_canary_turns_failures_into_no_data(server):
    port = closed_port()
    settings = Settings(canary=Canary(type="tcp", target=f"127.0.0.1:{port}", timeout=1.0))
    checks = runner.run_probes([http("up", server.url("/ok")), http("down", server.url("/status/502"))], settings).checks
    assert checks[0].status is CheckStatus.UP
    assert checks[1].status is CheckStatus.NO_DATA
    assert checks[1].error == f"runner offline: canary tcp 127.0.0.1:{port} failed (connection refused)"
    assert checks[1].details["probe_error"] == "status 502 not in 200-399"


def test_answering_canary_keeps_failures(server):
    settings = Settings(canary=Canary(type="http", target=server.url("/status/500"), timeout=1.0))
    probed = runner.run_probes([http("down", server.url("/status/502"))], settings)
    [check] = probed.checks
    assert check.status is CheckStatus.DOWN
    assert probed.stats.canary == "ok"  # any HTTP answer proves the network


def test_canary_only_checked_when_something_failed(server):
    settings = Settings(canary=Canary(type="tcp", target=f"127.0.0.1:{closed_port()}"))
    probed = runner.run_probes([http("up", server.url("/ok"))], settings)
    [check] = probed.checks
    assert check.status is CheckStatus.UP
    assert probed.stats.canary is None


def test_tables_show_checks_and_mask():
    secrets.register("tok-123456")
    try:
        checks = [
            Check("api", datetime.now(timezone.utc), CheckStatus.UP, latency_ms=12.3, code=200),
            Check("db", datetime.now(timezone.utc), CheckStatus.DOWN, latency_ms=1520.0, error="bad | tok-123456", attempts=3),
        ]
        monitors = [Monitor(id="api", name="Public API", type="http", spec=HttpSpec(url="http://x"))]
        text = report.format_table(checks, monitors)
        markdown = report.format_markdown_table(checks, monitors)
    finally:
        secrets.clear()
    lines = text.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "LATENCY", "CODE", "TRIES", "ERROR"]
    assert lines[1].split()[:5] == ["api", "up", "12", "ms", "200"]
    assert "1.52 s" in lines[2] and "bad | ***" in lines[2]
    assert lines[-1] == "2 monitors: 1 up, 1 down"
    assert "tok-123456" not in text + markdown
    assert "| Public API (`api`) | 🟢 up | 12 ms | 200 | 1 |  |" in markdown
    assert "bad \\| ***" in markdown


def test_empty_run():
    assert runner.run_probes([], Settings()).checks == []


def test_longest_worst_case_starts_first(monkeypatch):
    started: list[str] = []

    def recording(monitor, timeout):
        started.append(monitor.id)
        return Check(monitor.id, datetime.now(timezone.utc), CheckStatus.UP)

    monkeypatch.setitem(PROBES, "rec", recording)
    monitors = [
        Monitor(id=f"m{i}", name="m", type="rec", spec=HttpSpec(url="http://unused"), timeout=t, retries=r)
        for i, (t, r) in enumerate([(1.0, 0), (5.0, 0), (2.0, 2), (1.0, 0)])
    ]
    checks = runner.run_probes(monitors, Settings(concurrency=1)).checks
    assert [c.monitor_id for c in checks] == ["m0", "m1", "m2", "m3"]
    assert runner.worst_case(monitors[2]) == pytest.approx(2.0 * 3 + 0.5 + 1.0)
    assert started == ["m2", "m1", "m0", "m3"]  # 7.5 s, 5 s, then ties in their given order


# --------------------------------------------------------------------------- the async lane (http)


def test_a_thousand_healthy_endpoints_all_up_on_the_event_loop():
    with HttpServer(request_queue_size=1024) as srv:
        for i in range(1000):
            srv.route(f"/svc/{i}", 200, f"service {i} ok")
        monitors = [http(f"svc{i}", srv.url(f"/svc/{i}")) for i in range(1000)]
        probed = runner.run_probes(monitors, Settings())
    assert [c.monitor_id for c in probed.checks] == [m.id for m in monitors]
    assert all(c.status is CheckStatus.UP and c.code == 200 for c in probed.checks)
    assert probed.stats.attempts == 1000 and probed.stats.retries == 0
    assert probed.stats.peak_threads == 0  # no worker thread: every http attempt ran on the loop
    assert sum(srv.hits[f"/svc/{i}"] for i in range(1000)) == 1000


def test_a_hanging_server_among_healthy_ones(server):
    with HangingServer() as hang:
        monitors = [http(f"ok{i}", server.url("/ok")) for i in range(40)]
        monitors.insert(17, http("hang", hang.url("/"), timeout=0.6, retries=1, backoff=0.1))
        start = time.monotonic()
        probed = runner.run_probes(monitors, Settings(concurrency=4), park_after=0.1)
        took = time.monotonic() - start
    hung = probed.checks[17]
    assert (hung.monitor_id, hung.status, hung.attempts, hung.error) == ("hang", CheckStatus.DOWN, 2, "timed out after 0.6s")
    assert all(c.status is CheckStatus.UP for i, c in enumerate(probed.checks) if i != 17)
    assert max(t for mid, t in probed.stats.finished_at.items() if mid != "hang") < 0.6  # none waited for it
    assert 1.3 <= took < 2.5  # its own chain: 0.6 s + 0.1 s + 0.6 s


def test_blocking_types_and_replaced_probes_stay_on_worker_threads(monkeypatch, server):
    threads: list[str] = []

    def recording(monitor, timeout):
        threads.append(threading.current_thread().name)
        return Check(monitor.id, datetime.now(timezone.utc), CheckStatus.UP)

    monkeypatch.setitem(PROBES, "http", recording)  # a replaced blocking probe is what runs
    with TcpListener() as listener:
        checks = runner.run_probes([http("a", server.url("/ok")), tcp("b", listener.port)], Settings()).checks
    assert [c.status for c in checks] == [CheckStatus.UP, CheckStatus.UP]
    assert threads and all(name.startswith("probe-") for name in threads)


def test_an_overrunning_async_probe_is_abandoned_and_cancelled(monkeypatch):
    cancelled = threading.Event()

    async def sleepy(monitor, timeout):
        try:
            await asyncio.sleep(30)  # ignores its own timeout
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return Check(monitor.id, datetime.now(timezone.utc), CheckStatus.UP)

    def blocking(monitor, timeout):
        raise AssertionError("the async probe should have run")

    kind = ProbeType(name="sleepy", doc="test", spec=HttpSpec, keys=(), probe=blocking, async_probe=sleepy)
    monkeypatch.setitem(BY_NAME, "sleepy", kind)
    monkeypatch.setitem(PROBES, "sleepy", blocking)
    monkeypatch.setattr(runner, "OVERRUN_GRACE", 0.2)
    monitor = Monitor(id="z", name="z", type="sleepy", spec=HttpSpec(url="http://unused"), timeout=0.1, retries=0)
    start = time.monotonic()
    probed = runner.run_probes([monitor], Settings())
    assert time.monotonic() - start < 1.5
    [check] = probed.checks
    assert check.status is CheckStatus.DOWN and "abandoned" in check.error
    assert probed.stats.abandoned == 1
    assert cancelled.wait(2)  # the task was cancelled, not left holding its socket
