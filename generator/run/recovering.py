"""Step 5c, recover: ask failing services to restart, then watch each come back on its own.

Restart requests go out one after another (each is bounded by its timeout, and the attempt
ledger is one file). Watching a restarted service (``verify``, up to ``verify_for`` seconds) is
an independent unit of work: the engine runs one per monitor side by side and settles each as
soon as it ends, so a service that takes long to come back never delays another's resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Mapping, Optional, Sequence

from generator.incidents.base import Tracker
from generator.models import Check, Config, Monitor, MonitorState, TimelineEntry, Transition, TransitionKind
from generator.recovery import Recovery
from generator.run.tracking import NOTHING, Acts, Stepped, apply_transition, comment
from generator.status import step
from generator.timeutil import duration_between, format_duration, utcnow

VERIFY_THREADS = 16  # services restarted together are watched side by side, not one after another

Probe = Callable[[Monitor], Check]


@dataclass(frozen=True)
class Restart:
    """A restart request the service accepted: the monitor to watch from ``requested`` on."""

    monitor: Monitor
    requested: datetime


def candidates(config: Config, states: Mapping[str, MonitorState], busy: frozenset[str]) -> list[Monitor]:
    """Monitors with a restart hook, an open incident, and no restart being watched already."""
    return [m for m in config.monitors
            if m.restart and m.id not in busy and (state := states.get(m.id)) is not None and state.incident_open]


@dataclass(frozen=True)
class Requested:
    restarts: tuple[Restart, ...]
    acts: Acts


def request_restarts(monitors: Sequence[Monitor], states: Mapping[str, MonitorState], last_checks: Mapping[str, Check],
                     recovery: Recovery, note_on_tracker: Callable[[Optional[str], TimelineEntry, Monitor], Acts]) -> Requested:
    """Send the restarts that are due (cooldown, attempt limit), one after another."""
    accepted: list[Restart] = []
    acts = NOTHING
    for monitor in monitors:
        state = states[monitor.id]
        now = utcnow()
        if not recovery.due(monitor, state, now):
            continue
        attempt = recovery.attempt(monitor, state, last_checks.get(monitor.id), state.incident_key, now)
        acts += Acts(notes=(f"restart requested for {monitor.id}: {'accepted' if attempt.ok else 'failed'}",))
        acts += note_on_tracker(state.incident_key, TimelineEntry(now, "restart", recovery.timeline_text(attempt)),
                                monitor)
        if attempt.ok:
            accepted.append(Restart(monitor, utcnow()))
    return Requested(tuple(accepted), acts)


def verify(recovery: Recovery, restart: Restart, probe: Probe) -> list[Check]:
    """The unit of work run beside the others: re-probe until up ``success_threshold`` times, or time is up."""
    return recovery.verify(restart.monitor, probe, restart.monitor.success_threshold)


def settle(config: Config, restart: Restart, state: MonitorState, verification: Sequence[Check],
           tracker: Tracker) -> Stepped:
    """Feed the verification checks to the status machine; a recovery resolves the incident now."""
    monitor = restart.monitor
    transitions: list[Transition] = []
    acts = NOTHING
    for vcheck in verification:
        key_before = state.incident_key  # step() moves it to last_incident_key on resolve
        state, found = step(monitor, state, vcheck, flap_window=config.settings.flap_window)
        for transition in found:
            transitions.append(transition)
            if transition.kind is TransitionKind.RESOLVED:
                acts += comment(tracker, key_before, recovered_entry(restart, transition, vcheck), monitor)
            state, acted = apply_transition(monitor, state, transition, tracker)
            acts += acted
    return Stepped(state, tuple(transitions), acts)


def recovered_entry(restart: Restart, transition: Transition, check: Check) -> TimelineEntry:
    took = duration_between(restart.requested, check.time).total_seconds()
    since_start = duration_between(transition.started or restart.requested, check.time).total_seconds()
    return TimelineEntry(
        check.time, "recovered",
        f"Recovered after the restart: answering again {took:.1f}s after the restart request "
        f"({format_duration(since_start)} after the incident started).")
