"""The engine: config, history, tracker and every monitor's state, held in memory across ticks.

One tick is the run's middle, as data flows: probe the monitors that are due, record their checks,
step the status machine, and act on the transitions at once (tracker, notify, restart). ``statusgen
run`` makes one tick over every monitor; a scheduler can call :meth:`Engine.tick` again and again in
one process without re-reading anything from disk between ticks.

A restart's verification is an independent unit of work on the engine's verify pool: the tick that
requested it returns at once, and the unit settles its monitor (records the checks, steps the state,
resolves the incident, notifies) as soon as it ends. :meth:`Engine.settled` collects the units that
ended, :meth:`Engine.drain` waits for the rest. One lock guards the state, the history writes and the
tracker, so a unit settling while a tick acts never interleaves with it.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Callable, Iterable, Mapping, Optional, Sequence

from generator.errors import DataError
from generator.history import History, HistoryError
from generator.incidents.base import Tracker
from generator.models import Check, Config, Monitor, MonitorState, Settings, TimelineEntry, Transition
from generator.notify import CACHE_NAME as NOTIFY_CACHE
from generator.notify import Notifier
from generator.recovery import CACHE_NAME as RESTART_CACHE
from generator.recovery import Recovery
from generator.report import Console
from generator.run import loading, recording
from generator.run.loading import Notices
from generator.run.notifying import incident_urls, notify_transitions, release_held
from generator.run.options import Options
from generator.run.probing import ProbeRun, RunStats, probe_with_retries, run_probes
from generator.run.recovering import (
    VERIFY_THREADS,
    Probe,
    Requested,
    Restart,
    candidates,
    request_restarts,
    settle,
    verify,
)
from generator.run.tracking import PENDING_CACHE, Acts, advance, comment

ProbeAll = Callable[[Sequence[Monitor], Settings], ProbeRun]


class Abandoned(Exception):
    """Raised inside a verification when the engine is told to stop (see :meth:`Engine.abandon`)."""

LEDGERS = (PENDING_CACHE, RESTART_CACHE, NOTIFY_CACHE)  # data/cache/ files the engine acts on


def _probe_all(monitors: Sequence[Monitor], settings: Settings) -> ProbeRun:
    return run_probes(monitors, settings)


@dataclass(frozen=True)
class TickResult:
    """What one tick did, for the console, the exit code and a scheduler."""

    checks: tuple[Check, ...]  # as recorded (maintenance marked)
    transitions: tuple[Transition, ...]
    acts: Acts  # notes for people, tracker errors, incidents opened
    notified: tuple[str, ...]  # one line per message sent
    restarting: tuple[str, ...]  # monitors whose restart was accepted: being verified in the background
    stats: Optional[RunStats] = None  # how probing went (None when the checks came from elsewhere)


@dataclass(frozen=True)
class Settled:
    """One restarted monitor, verified and settled: its checks, transitions and what was done."""

    monitor_id: str
    checks: tuple[Check, ...]
    transitions: tuple[Transition, ...]
    acts: Acts
    notified: tuple[str, ...]


class Engine:
    """Holds one status page's moving parts; :meth:`tick` is one pass for the monitors due."""

    def __init__(self, config: Config, history: History, tracker: Tracker, states: Mapping[str, MonitorState], *,
                 data_dir: Path, out: Console, notices: Notices = Notices((), ()), recovery: bool = True,
                 probe_all: ProbeAll = _probe_all, probe_one: Probe = probe_with_retries,
                 verify_threads: int = VERIFY_THREADS) -> None:
        self.config = config
        self.history = history
        self.tracker = tracker
        self.notices = notices
        self.out = out
        self.data_dir = data_dir
        self.recovery_enabled = recovery
        self._states = dict(states)
        self._probe_all = probe_all
        self._probe_one = probe_one
        self._recovery = Recovery(history)
        self._notifier = Notifier(history, notify_every=config.settings.notify_every)
        self._lock = threading.RLock()
        self._pending: Optional[set[str]] = None  # read with the ledgers before the first act
        self._verify_threads = verify_threads
        self._pool: Optional[ThreadPoolExecutor] = None
        self._verifying: dict[str, Future[Settled]] = {}
        self._requesting: set[str] = set()  # restarts being requested by a tick right now
        self._settled: list[Settled] = []
        self._stopping = threading.Event()
        self._recovery.sleep = self._pause  # a verification's pause ends early on abandon()

    @classmethod
    def open(cls, options: Options, out: Console, *, config: Optional[Config] = None) -> Engine:
        """Load step: config, history and states, tracker, maintenance (each failure a typed error)."""
        config = config or loading.load(options)
        history = loading.open_history(config, options)
        states = loading.load_states(history, options)
        tracker = loading.open_tracker(config, options, history)
        notices = loading.load_notices(tracker, options)
        return cls(config, history, tracker, states, data_dir=options.data_dir, out=out, notices=notices,
                   recovery=options.recovery)

    @property
    def lock(self) -> threading.RLock:
        """Guards the states, the history writes and the tracker: hold it to read them consistently."""
        return self._lock

    # ---------------------------------------------------------------- state

    @property
    def states(self) -> dict[str, MonitorState]:
        with self._lock:
            return dict(self._states)

    @property
    def verifying(self) -> frozenset[str]:
        """Monitors whose restart is being verified (a scheduler may skip probing them meanwhile)."""
        with self._lock:
            return frozenset(self._verifying)

    # ---------------------------------------------------------------- the tick, step by step

    def tick(self, monitors_due: Iterable[Monitor]) -> TickResult:
        """Probe, record and act for these monitors; restarts are verified in the background."""
        probed = self.probe(monitors_due)
        result = self.act(self.record(probed.checks))
        return TickResult(result.checks, result.transitions, result.acts, result.notified, result.restarting,
                          probed.stats)

    def probe(self, monitors: Iterable[Monitor]) -> ProbeRun:
        return self._probe_all(list(monitors), self.config.settings)

    def record(self, checks: Sequence[Check]) -> list[Check]:
        """Mark the checks inside maintenance windows and append them to the history."""
        marked = recording.mark_maintenance(checks, self.notices.windows)
        with self._lock:
            recording.record(self.history, marked, self.data_dir)
        return marked

    def prune(self, now: datetime) -> None:
        with self._lock:
            recording.prune(self.history, now, self.data_dir)

    def act(self, checks: Sequence[Check]) -> TickResult:
        """Step the status machine on recorded checks and act on the transitions: tracker, notify, restart."""
        try:
            with self._lock:
                pending = self._read_ledgers()
                advanced = advance(self.config, self._states, checks, self.tracker, frozenset(pending))
                self._states = dict(advanced.states)
                self.history.save_states(self._states)
                self._pending = set(advanced.pending)
                self.history.write_json(PENDING_CACHE, sorted(self._pending))
            notified = self._notify(advanced.transitions, dict(advanced.acts.opened), checks, advanced.states)
            acts = advanced.acts
            restarting: tuple[str, ...] = ()
            if self.recovery_enabled:
                requested = self._request_restarts(checks)
                acts += requested.acts
                restarting = tuple(self._start_verify(restart) for restart in requested.restarts)
        except (OSError, HistoryError) as error:  # the checks are recorded; nothing was overwritten
            raise DataError(f"{self.data_dir}: {error}") from None
        return TickResult(tuple(checks), advanced.transitions, acts, notified, restarting)

    def _read_ledgers(self) -> set[str]:
        """The ledgers decide what the tracker, the restart hooks and the notifications do: read them
        all before acting, so a broken one stops the engine before anything half-happens."""
        if self._pending is None:
            for name in LEDGERS:
                self.history.read_json(name)
            self._pending = set(self.history.read_json(PENDING_CACHE, []) or [])
        return self._pending

    def _notify(self, transitions: Sequence[Transition], opened: Mapping[str, str], checks: Sequence[Check] = (),
                states: Optional[Mapping[str, MonitorState]] = None) -> tuple[str, ...]:
        flapping = states is not None and any(s.incident_flaps for s in states.values())
        if not (transitions or flapping) or not any(m.notify for m in self.config.monitors):
            return ()
        with self._lock:  # the tracker's cache is read under the lock; sending is not
            urls = incident_urls(self.tracker)
        lines = notify_transitions(self.config, transitions, urls, opened, self._notifier)
        if flapping and states is not None:  # a held reopening whose service is still down goes out now
            lines += release_held(self.config, states, checks, transitions, urls, self._notifier)
        for line in lines:
            self.out.line(line)
        return lines

    # ---------------------------------------------------------------- recovery

    def _request_restarts(self, checks: Sequence[Check]) -> Requested:
        """Restarts for the monitors checked in this tick; ticks that run side by side never both
        request one monitor's restart (each claims its monitors while it asks)."""
        checked = {c.monitor_id for c in checks}
        with self._lock:
            states = dict(self._states)
            due = [m for m in candidates(self.config, states, frozenset(self._verifying) | self._requesting)
                   if m.id in checked]
            self._requesting |= {m.id for m in due}
        try:
            return request_restarts(due, states, {c.monitor_id: c for c in checks}, self._recovery, self._comment)
        finally:
            with self._lock:
                self._requesting -= {m.id for m in due}

    def _comment(self, key: Optional[str], entry: TimelineEntry, monitor: Monitor) -> Acts:
        with self._lock:
            return comment(self.tracker, key, entry, monitor)

    def _start_verify(self, restart: Restart) -> str:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self._verify_threads, thread_name_prefix="verify")
            self._verifying[restart.monitor.id] = self._pool.submit(self._verify_and_settle, restart)
        return restart.monitor.id

    def _verify_and_settle(self, restart: Restart) -> Settled:
        """The unit of work: watch one restarted monitor, then settle it at once."""
        monitor = restart.monitor
        try:
            checks = recording.mark_maintenance(verify(self._recovery, restart, self._probe_verify),
                                                self.notices.windows)
            with self._lock:
                self.history.record(checks)
                state = self._states.get(monitor.id) or MonitorState(monitor_id=monitor.id)
                stepped = settle(self.config, restart, state, checks, self.tracker)
                self._states[monitor.id] = stepped.state
                self.history.save_states(self._states)
                if not stepped.acts.ok:
                    self._pending = (self._pending or set()) | {monitor.id}
                    self.history.write_json(PENDING_CACHE, sorted(self._pending))
            notified = self._notify(stepped.transitions, dict(stepped.acts.opened))
        except Abandoned:  # the engine stops: the next process picks the monitor up where it is
            with self._lock:
                self._verifying.pop(monitor.id, None)
            return Settled(monitor.id, (), (), Acts(), ())
        except (OSError, HistoryError) as error:
            with self._lock:
                self._verifying.pop(monitor.id, None)
            raise DataError(f"{self.data_dir}: {error}") from None
        except BaseException:
            with self._lock:
                self._verifying.pop(monitor.id, None)
            raise
        settled = Settled(monitor.id, tuple(checks), stepped.transitions, stepped.acts, notified)
        with self._lock:
            self._settled.append(settled)
            self._verifying.pop(monitor.id, None)
        return settled

    def _pause(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _probe_verify(self, monitor: Monitor) -> Check:
        if self._stopping.is_set():
            raise Abandoned(monitor.id)
        return self._probe_one(monitor)

    def abandon(self) -> None:
        """Stop the verifications in flight at their next probe or pause (nothing of theirs is recorded)."""
        self._stopping.set()

    def settled(self) -> tuple[Settled, ...]:
        """The verifications that ended since the last call, in the order they ended (never waits)."""
        with self._lock:
            done, self._settled = tuple(self._settled), []
        return done

    def drain(self, timeout: Optional[float] = None) -> tuple[Settled, ...]:
        """Wait for every verification in flight, then return what :meth:`settled` would; a unit's
        failure (history unwritable) is raised here."""
        with self._lock:
            futures = list(self._verifying.values())
        done, _ = wait(futures, timeout=timeout)
        for future in done:
            future.result()  # raises the unit's DataError, if any
        return self.settled()

    def close(self) -> None:
        """Wait for the verifications in flight and release the verify threads."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, kind: Optional[type[BaseException]], error: Optional[BaseException],
                 trace: Optional[TracebackType]) -> None:
        self.close()
