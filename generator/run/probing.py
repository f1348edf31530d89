"""Probing: runs every due monitor's probe concurrently, with a bound, a deadline per check and in-run retries.

Scheduling. ``settings.concurrency`` bounds the attempts that are *young*
(started less than ``park_after`` seconds ago): those do the CPU work
(connect, TLS handshake, parsing). An attempt still waiting after
``park_after`` is parked: it keeps its thread but gives its slot to the next
monitor, so a set of hanging targets cannot starve the answering ones. Parked
and young attempts together never exceed ``max_in_flight`` (default 4 x
concurrency), which bounds threads and sockets. A retry waits for its backoff
without holding a slot, and due retries go to the front of the queue so a
monitor's retry chain stays as short as its own timeouts and backoffs. First
attempts start longest-worst-case first (timeout x attempts + backoffs).

Each attempt runs under its probe's own deadline (``monitor.timeout``); should a
probe overrun it by more than a grace period the runner stops waiting, records
DOWN and leaves the stuck thread behind (daemon, not counted against the bound).
Sequential callers (verification after a restart, the canary) get the same outer
bound from :func:`bounded_attempt`.

Where a monitor's type declares an async probe (http), its attempts run as tasks
on one event loop thread (:mod:`generator.run.lanes`) instead of worker
threads, under the same scheduling; an abandoned task is cancelled.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Callable, Iterable, Optional
from urllib.parse import urlsplit

from generator.models import Canary, Check, CheckStatus, Monitor, Settings
from generator.probes import PROBES
from generator.probes.base import describe_error, mask_details, seconds_text, short
from generator.probes.http_spec import HttpExpect, HttpSpec
from generator.probes.probetype import AsyncProbe
from generator.probes.registry import BY_NAME
from generator.probes.tcp import TcpSpec
from generator.run.lanes import AsyncLane, Ticket, Workers
from generator.timeutil import utcnow

Clock = Callable[[], datetime]

DEFAULT_PARK_AFTER = 0.5  # seconds; most healthy checks answer well within this
OVERRUN_GRACE = 2.0  # seconds past a probe's own timeout before the runner stops waiting


# --------------------------------------------------------------------------- one attempt


def attempt(monitor: Monitor, clock: Optional[Clock] = None) -> Check:
    """One probe call, never raising: an unknown type or a raising probe is a DOWN check."""
    started = (clock or utcnow)()
    t0 = time.monotonic()
    probe = PROBES.get(monitor.type)
    try:
        if probe is None:
            raise LookupError(f"unknown probe type {monitor.type!r} (known: {', '.join(sorted(PROBES))})")
        check = _checked(monitor, probe(monitor, monitor.timeout))
    except Exception as exc:  # one broken monitor never stops the others
        check = _probe_error(monitor, started, t0, exc)
    return _clean(check, monitor, started)


async def attempt_async(monitor: Monitor, probe: AsyncProbe, clock: Optional[Clock] = None) -> Check:
    """:func:`attempt` for a type's async probe (run on the async lane's loop)."""
    started = (clock or utcnow)()
    t0 = time.monotonic()
    try:
        check = _checked(monitor, await probe(monitor, monitor.timeout))
    except Exception as exc:
        check = _probe_error(monitor, started, t0, exc)
    return _clean(check, monitor, started)


def async_probe(monitor: Monitor) -> Optional[AsyncProbe]:
    """The async probe of the monitor's type, unless the blocking probe in PROBES was replaced."""
    probe_type = BY_NAME.get(monitor.type)
    if probe_type is None or probe_type.async_probe is None or PROBES.get(monitor.type) is not probe_type.probe:
        return None
    return probe_type.async_probe


def _checked(monitor: Monitor, check: Any) -> Check:
    if not isinstance(check, Check):
        raise TypeError(f"probe {monitor.type!r} returned {type(check).__name__}, not a Check")
    return check


def _probe_error(monitor: Monitor, started: datetime, t0: float, exc: Exception) -> Check:
    reason = str(exc) if isinstance(exc, (LookupError, TypeError)) else describe_error(exc, monitor.timeout)
    return Check(
        monitor_id=monitor.id,
        time=started,
        status=CheckStatus.DOWN,
        latency_ms=round((time.monotonic() - t0) * 1000.0, 1),
        error=f"probe error: {reason}",
    )


def bounded_attempt(monitor: Monitor, clock: Optional[Clock] = None) -> Check:
    """:func:`attempt` on a daemon thread, given up past the monitor's timeout plus a grace period:
    whatever happens inside a probe, the caller is back in bounded time."""
    result: list[Check] = []
    finished = threading.Event()

    def work() -> None:
        result.append(attempt(monitor, clock))
        finished.set()

    threading.Thread(target=work, name=f"probe-{monitor.id}", daemon=True).start()
    if finished.wait(max(monitor.timeout, 0.0) + OVERRUN_GRACE):
        return result[0]
    return _abandoned(monitor, clock)


def _abandoned(monitor: Monitor, clock: Optional[Clock]) -> Check:
    return Check(
        monitor_id=monitor.id,
        time=(clock or utcnow)(),
        status=CheckStatus.DOWN,
        error=f"probe did not return within {seconds_text(monitor.timeout)} (abandoned)",
    )


def _clean(check: Check, monitor: Monitor, started: datetime) -> Check:
    # the runner owns identity and time; masking again costs little and catches a careless probe
    return replace(
        check,
        monitor_id=monitor.id,
        time=started,
        error=short(check.error),
        details=mask_details(dict(check.details)),
    )


def backoff(monitor: Monitor, attempts_made: int) -> float:
    """Seconds to wait before the next attempt: retry_backoff, then doubling (0.5 s, 1 s, 2 s ...)."""
    return max(0.0, monitor.retry_backoff) * 2.0 ** max(0, attempts_made - 1)


def worst_case(monitor: Monitor) -> float:
    """Seconds a monitor can take in one run: every attempt timing out, plus the backoffs."""
    attempts = max(1, monitor.attempts)
    return monitor.timeout * attempts + sum(backoff(monitor, n) for n in range(1, attempts))


def _should_retry(check: Check) -> bool:
    return check.status is CheckStatus.DOWN  # degraded is an answer, not a failure to get one


def probe_with_retries(
    monitor: Monitor, *, clock: Optional[Clock] = None, sleep: Callable[[float], None] = time.sleep
) -> Check:
    """One monitor, sequentially, with its retries and backoff (the CLI's `check` command)."""
    made = 0
    first: Optional[datetime] = None
    while True:
        check = bounded_attempt(monitor, clock)
        first = first or check.time
        made += 1
        if not _should_retry(check) or made >= monitor.attempts:
            return replace(check, attempts=made, time=first)  # a check is as old as its first attempt
        sleep(backoff(monitor, made))


# --------------------------------------------------------------------------- the pool


@dataclass
class _Job:
    index: int
    monitor: Monitor
    made: int = 0
    first: Optional[datetime] = None  # when the first attempt started: the check's time


@dataclass
class _Running:
    job: _Job
    started: float
    hard_deadline: float
    parked: bool = False
    abandoned: bool = False
    ticket: Optional[Ticket] = None  # an attempt on the async lane


@dataclass
class RunStats:
    """What one call of :func:`run_probes` did, for logs and the benchmark (filled in as it goes)."""

    attempts: int = 0
    retries: int = 0
    parked: int = 0
    abandoned: int = 0
    peak_in_flight: int = 0
    peak_threads: int = 0
    canary: Optional[str] = None  # None = not needed, "ok", or the failure reason
    seconds: float = 0.0
    finished_at: dict[str, float] = field(default_factory=dict)  # monitor id -> seconds since start


@dataclass(frozen=True)
class ProbeRun:
    """One probing pass: a check per monitor, in the monitors' order, and how it went."""

    checks: list[Check]
    stats: RunStats


def run_probes(
    monitors: Iterable[Monitor],
    settings: Settings,
    *,
    clock: Optional[Clock] = None,
    park_after: float = DEFAULT_PARK_AFTER,
    max_in_flight: Optional[int] = None,
) -> ProbeRun:
    """Probe every monitor once (with in-run retries); checks come back in the monitors' order."""
    monitors = list(monitors)
    stats = RunStats()
    t_start = time.monotonic()
    if not monitors:
        return ProbeRun([], stats)
    concurrency = max(1, int(settings.concurrency or 1))
    limit = max(concurrency, max_in_flight if max_in_flight is not None else 4 * concurrency)

    results: list[Optional[Check]] = [None] * len(monitors)
    # Longest possible retry chain first (stable): the run cannot end before the slowest chain
    # does, so starting those first keeps the whole run close to that chain.
    order = sorted(range(len(monitors)), key=lambda i: -worst_case(monitors[i]))
    ready: deque[_Job] = deque(_Job(i, monitors[i]) for i in order)
    delayed: list[tuple[float, int, _Job]] = []
    seq = itertools.count()
    done: queue.SimpleQueue[tuple[int, Check]] = queue.SimpleQueue()
    running: dict[int, _Running] = {}
    ids = itertools.count()
    workers: Workers[Check] = Workers()
    lane: Optional[AsyncLane[Check]] = None
    remaining = len(monitors)

    def launch(job: _Job) -> None:
        nonlocal lane
        key = next(ids)
        now = time.monotonic()
        running[key] = run = _Running(job, now, now + max(job.monitor.timeout, 0.0) + OVERRUN_GRACE)
        monitor = job.monitor
        probe = async_probe(monitor)
        if probe is not None:
            lane = lane or AsyncLane()
            run.ticket = lane.submit(lambda: attempt_async(monitor, probe, clock), lambda check: done.put((key, check)))
        else:
            workers.submit(lambda: attempt(monitor, clock), lambda check: done.put((key, check)))
        stats.attempts += 1
        if job.made:
            stats.retries += 1

    def settle(job: _Job, check: Check) -> None:
        nonlocal remaining
        job.made += 1
        job.first = job.first or check.time
        if _should_retry(check) and job.made < job.monitor.attempts:
            heapq.heappush(delayed, (time.monotonic() + backoff(job.monitor, job.made), next(seq), job))
            return
        results[job.index] = replace(check, attempts=job.made, time=job.first)
        stats.finished_at[job.monitor.id] = time.monotonic() - t_start
        remaining -= 1

    try:
        while remaining:
            now = time.monotonic()
            while delayed and delayed[0][0] <= now:
                ready.appendleft(heapq.heappop(delayed)[2])
            young = 0
            for key, run in list(running.items()):
                if run.abandoned:
                    continue
                if now >= run.hard_deadline:
                    run.abandoned = True
                    stats.abandoned += 1
                    if run.ticket is not None:
                        run.ticket.cancel()
                    del running[key]
                    settle(run.job, _abandoned(run.job.monitor, clock))
                    continue
                if not run.parked and now - run.started >= park_after:
                    run.parked = True
                    stats.parked += 1
                if not run.parked:
                    young += 1
            while ready and young < concurrency and len(running) < limit:
                launch(ready.popleft())
                young += 1
            stats.peak_in_flight = max(stats.peak_in_flight, len(running))
            if not remaining:
                break
            wake = [now + 0.5]
            if delayed:
                wake.append(delayed[0][0])
            for run in running.values():
                wake.append(run.hard_deadline)
                if not run.parked:
                    wake.append(run.started + park_after)
            wait = max(0.0, min(wake) - time.monotonic())
            try:
                key, check = done.get(timeout=wait) if wait > 0 else done.get_nowait()
            except queue.Empty:
                continue
            while True:
                finished = running.pop(key, None)
                if finished is not None:  # None: it was abandoned and already settled
                    settle(finished.job, check)
                try:
                    key, check = done.get_nowait()
                except queue.Empty:
                    break
    finally:
        stats.peak_threads = workers.peak
        workers.shutdown()
        if lane is not None:
            lane.shutdown()

    checks = [check for check in results if check is not None]
    checks = _apply_canary(checks, settings.canary, stats)
    stats.seconds = time.monotonic() - t_start
    return ProbeRun(checks, stats)


# --------------------------------------------------------------------------- canary


def canary_monitor(canary: Canary) -> Monitor:
    """The canary as a one-shot monitor: tcp ``host:port`` or an http URL (any HTTP answer counts)."""
    spec: HttpSpec | TcpSpec
    if canary.type == "http":
        spec = HttpSpec(url=canary.target, expect=HttpExpect(status=((100, 599),)))
    else:
        host, port = _split_host_port(canary.target)
        spec = TcpSpec(host=host, port=port)
    kind = "http" if isinstance(spec, HttpSpec) else "tcp"
    return Monitor(id="canary", name="canary", type=kind, spec=spec, timeout=canary.timeout, retries=0)


def _split_host_port(target: str) -> tuple[str, int]:
    parsed = urlsplit("//" + target.strip())
    if not parsed.hostname or parsed.port is None:
        raise ValueError(f"canary target {target!r} is not host:port")
    return parsed.hostname, parsed.port


def check_canary(canary: Canary) -> Optional[str]:
    """None when the canary answers, else the reason it did not."""
    try:
        monitor = canary_monitor(canary)
    except ValueError as exc:
        return str(exc)
    check = bounded_attempt(monitor)
    return None if check.status is not CheckStatus.DOWN else (check.error or "no answer")


def _apply_canary(checks: list[Check], canary: Optional[Canary], stats: RunStats) -> list[Check]:
    if canary is None or not canary.target or not any(c.status is CheckStatus.DOWN for c in checks):
        return checks
    reason = check_canary(canary)
    stats.canary = reason or "ok"
    if reason is None:
        return checks
    error = short(f"runner offline: canary {canary.type} {canary.target} failed ({reason})")
    return [
        replace(c, status=CheckStatus.NO_DATA, error=error, details={**c.details, "probe_error": c.error})
        if c.status is CheckStatus.DOWN
        else c
        for c in checks
    ]
