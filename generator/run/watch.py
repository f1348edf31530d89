"""``statusgen watch``: the engine called again and again in one process, as monitors fall due.

The loop (one thread) takes the monitors whose slot came (:mod:`generator.run.schedule`) and
hands them to a tick of their own on a short-lived thread: probe, then record and act at once
(incident, notification, restart), so one slow monitor never holds up another, nor the site.
Restarts are verified on the engine's own pool and collected with :meth:`Engine.settled`. A monitor
whose previous check or restart is still running skips its slot (counted, never queued).

Beside the checks, on their own cadences: the site and the Statuspage JSON (every
``settings.publish_every`` and ``debounce`` seconds after a transition, on a publisher thread),
the maintenance windows (every 5 minutes), pruning (hourly), and the lease (every few seconds).

Stopping (``--for`` elapsed, SIGTERM, SIGINT): no new tick starts; ticks still probing may finish
within ``grace`` seconds, after which they are abandoned (their results are dropped before they
write anything); verifications stop at their next probe. Every write the engine made is already
whole (appends of whole lines, atomic renames), so the next process continues where this one
stopped.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from generator.errors import DataError, Outcome, StatusgenError
from generator.models import Monitor
from generator.run import loading
from generator.run.engine import Engine, Settled, TickResult
from generator.run.lease import Lease, LeaseError
from generator.run.publisher import Publisher
from generator.run.schedule import Due, Schedule, interval_of
from generator.run.watchlog import Tally, WatchLog
from generator.timeutil import format_duration, utcnow

Clock = Callable[[], float]


@dataclass(frozen=True)
class Cadence:
    """How often the side jobs run (seconds); ``publish_every`` comes from the config."""

    publish_every: float
    debounce: float = 15.0  # publish this soon after a transition
    maintenance_every: float = 300.0
    prune_every: float = 3600.0
    lease_every: float = 10.0
    batch: float = 0.25  # monitors falling due this close together share one tick (one state write)
    grace: float = 3.0  # at stop, how long ticks still probing may take before they are abandoned
    max_ticks: int = 64  # ticks in flight at once; beyond, due monitors wait (and show as late)


@dataclass
class _TickDone:
    dues: tuple[Due, ...]
    result: Optional[TickResult] = None
    error: Optional[StatusgenError] = None


@dataclass
class _Gate:
    """Ticks record and act only while the gate is open; closing it waits for the one acting."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False


class Watch:
    """One watcher over one engine; :meth:`run` returns when stopped."""

    def __init__(self, engine: Engine, publisher: Publisher, lease: Optional[Lease], log: WatchLog,
                 cadence: Cadence, *, clock: Clock = time.time, stop: Optional[threading.Event] = None) -> None:
        self.engine = engine
        self.publisher = publisher
        self.lease = lease
        self.log = log
        self.cadence = cadence
        self.clock = clock
        self.stop = stop or threading.Event()
        every = engine.config.settings.interval
        self.schedule = Schedule(((m.id, interval_of(m.interval, every)) for m in engine.config.monitors), clock())
        self.monitors = {m.id: m for m in engine.config.monitors}
        self.tally = Tally()
        self.failure: Optional[StatusgenError] = None
        self._done: queue.SimpleQueue[_TickDone] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._in_flight: set[str] = set()
        self._ticks: list[threading.Thread] = []
        self._gate = _Gate()
        self._dirty_since: Optional[float] = None
        self._started = clock()

    # ------------------------------------------------------------------ the loop

    def run(self, duration: Optional[float] = None) -> Outcome:
        start = self.clock()
        deadline = start + duration if duration is not None else None
        next_publish = start + self.cadence.publish_every
        next_maintenance = start + self.cadence.maintenance_every
        next_prune = start
        next_lease = start + self.cadence.lease_every
        next_batch = start
        while not self.stop.is_set() and self.failure is None:
            now = self.clock()
            if deadline is not None and now >= deadline:
                break
            self._collect()
            if now >= next_batch:
                self._dispatch(self.schedule.pop_due(now))
                next_batch = now + self.cadence.batch
            if now >= next_publish or (self._dirty_since is not None
                                       and now >= self._dirty_since + self.cadence.debounce):
                if self._publish():
                    next_publish = now + self.cadence.publish_every
            if now >= next_lease:
                self._renew()
                next_lease = now + self.cadence.lease_every
            if now >= next_maintenance:
                self._refresh_maintenance()
                next_maintenance = now + self.cadence.maintenance_every
            if now >= next_prune:
                self._prune()
                next_prune = now + self.cadence.prune_every
            due_at = self.schedule.next_time()
            wake_at = min(t for t in (None if due_at is None else max(due_at, next_batch), next_publish, next_lease,
                                      deadline, self._debounce_at()) if t is not None)
            self._wake.wait(max(0.01, min(1.0, wake_at - self.clock())))
            self._wake.clear()
        return self._finish(by_deadline=deadline is not None and not self.stop.is_set())

    def _debounce_at(self) -> Optional[float]:
        return None if self._dirty_since is None else self._dirty_since + self.cadence.debounce

    def _dispatch(self, dues: Sequence[Due]) -> None:
        busy = self._in_flight | self.engine.verifying
        batch = [due for due in dues if due.monitor_id not in busy]
        self.tally.skipped += len(dues) - len(batch)
        self._ticks = [t for t in self._ticks if t.is_alive()]
        if not batch:
            return
        if len(self._ticks) >= self.cadence.max_ticks:
            self.tally.skipped += len(batch)
            return
        self._in_flight |= {due.monitor_id for due in batch}
        thread = threading.Thread(target=self._tick, args=(tuple(batch),), name="tick", daemon=True)
        self._ticks.append(thread)
        thread.start()

    def _tick(self, dues: tuple[Due, ...]) -> None:
        """One tick on its own thread: probe, then (if the watch is not stopping) record and act."""
        done = _TickDone(dues)
        try:
            monitors: list[Monitor] = [self.monitors[due.monitor_id] for due in dues]
            probed = self.engine.probe(monitors)
            with self._gate.lock:
                if not self._gate.closed:
                    result = self.engine.act(self.engine.record(probed.checks))
                    done.result = TickResult(result.checks, result.transitions, result.acts, result.notified,
                                             result.restarting, probed.stats)
        except StatusgenError as error:
            done.error = error
        except Exception as error:  # a probe or tracker bug: said once, the watch goes on
            self.log.warning(f"tick for {', '.join(d.monitor_id for d in dues)}: {type(error).__name__}: {error}")
        finally:
            self._done.put(done)
            self._wake.set()

    def _collect(self) -> None:
        """Take in what finished: ticks (their lateness, transitions, acts) and settled restarts."""
        while True:
            try:
                done = self._done.get_nowait()
            except queue.Empty:
                break
            self._in_flight -= {due.monitor_id for due in done.dues}
            if done.error is not None:
                self.failure = self.failure or done.error
                self.log.warning(str(done.error))
            if done.result is not None:
                self._took(done.dues, done.result)
        for unit in self.engine.settled():
            self._settled(unit)

    def _took(self, dues: Sequence[Due], result: TickResult) -> None:
        slots = {due.monitor_id: due.at for due in dues}
        self.tally.checks += len(result.checks)
        for check in result.checks:
            if check.monitor_id in slots:
                self.tally.lateness.append(max(0.0, check.time.timestamp() - slots[check.monitor_id]))
        for note in result.acts.notes:
            self.log.event(note)
        for line in result.notified:
            self.log.event(line)
        for monitor_id in result.restarting:
            self.log.event(f"verifying the restart of {monitor_id}")
        for error in result.acts.tracker_errors:
            self.log.warning(f"tracker: {error}")
        if result.transitions:
            self._changed(len(result.transitions))

    def _settled(self, unit: Settled) -> None:
        self.tally.checks += len(unit.checks)
        if not unit.transitions and unit.checks:
            self.log.event(f"{unit.monitor_id}: still {unit.checks[-1].status.value} after the restart")
        for note in unit.acts.notes:
            self.log.event(note)
        for line in unit.notified:
            self.log.event(line)
        for error in unit.acts.tracker_errors:
            self.log.warning(f"tracker: {error}")
        if unit.transitions:
            self._changed(len(unit.transitions))

    def _changed(self, count: int) -> None:
        self.tally.events += count
        if self._dirty_since is None:
            self._dirty_since = self.clock()

    # ------------------------------------------------------------------ side jobs

    def _publish(self) -> bool:
        """Start a publish on the publisher's thread; False when the last one is still running."""
        changed = self._dirty_since is not None
        tally, self.tally = self.tally, Tally()
        if not self.publisher.start(tally, changed=changed):
            self.tally = _merge(tally, self.tally)
            return False
        self._dirty_since = None
        self._renew()
        return True

    def _renew(self) -> None:
        if self.lease is None:
            return
        try:
            self.lease.renew()
        except LeaseError as error:
            self.failure = self.failure or DataError(str(error))
            self.log.warning(str(error))

    def _refresh_maintenance(self) -> None:
        notices = loading.load_notices(self.engine.tracker, self.publisher.options)
        with self.engine.lock:
            self.engine.notices = notices
        for error in notices.tracker_errors:
            self.log.warning(f"tracker: maintenance: {error}")

    def _prune(self) -> None:
        try:
            self.engine.prune(utcnow())
        except DataError as error:
            self.failure = self.failure or error

    # ------------------------------------------------------------------ stopping

    def _finish(self, *, by_deadline: bool) -> Outcome:
        bound = time.monotonic() + self.cadence.grace
        for thread in self._ticks:  # ticks still probing: let them finish within the grace period
            thread.join(max(0.0, bound - time.monotonic()))
        with self._gate.lock:  # waits for a tick that is recording or acting; later ones drop their checks
            self._gate.closed = True
        abandoned = sum(1 for thread in self._ticks if thread.is_alive())
        self.engine.abandon()
        self.engine.close()
        self._collect()
        if abandoned:
            self.log.event(f"{abandoned} tick{'s' if abandoned != 1 else ''} still probing at the stop: abandoned")
        self.publisher.wait()
        changed = self._dirty_since is not None
        if self.failure is None and (by_deadline or changed):
            tally, self.tally = self.tally, Tally()
            self.publisher.publish_now(tally, changed=changed, final=True, hook=False)
        if self.lease is not None:  # released before the last hook, so the history it pushes says so
            self.lease.release()
        if self.failure is None:
            self.publisher.hook_final(changed=changed)
        self.log.event(f"watch stopped after {format_duration(self.clock() - self._started)}; "
                       f"{self.schedule.skipped} slots missed while stalled")
        return Outcome(self.failure)


def _merge(first: Tally, second: Tally) -> Tally:
    return Tally(first.checks + second.checks, first.skipped + second.skipped, first.lateness + second.lateness,
                 first.events + second.events)

