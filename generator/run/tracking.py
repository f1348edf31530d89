"""Steps 4 and 5, step and track: the status machine's transitions, carried to the incident tracker.

Every function here returns what it did (:class:`Acts`: the lines for people, the tracker errors
for the exit code, the incident keys opened) instead of writing into a shared report. A tracker
update that fails (GitHub down) leaves the monitor in the *pending* set, which the engine keeps in
``data/cache/tracker_pending.json``; a later pass re-syncs it from the monitor's state: never a
second incident, never one left open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from generator.incidents.base import Tracker, TrackerError
from generator.models import (
    Check,
    CheckStatus,
    Config,
    Impact,
    Monitor,
    MonitorState,
    TimelineEntry,
    Transition,
    TransitionKind,
)
from generator.probes.http_spec import HttpSpec
from generator.status import step
from generator.timeutil import format_duration, utcnow

PENDING_CACHE = "tracker_pending"


@dataclass(frozen=True)
class Acts:
    """What carrying transitions to the tracker did."""

    notes: tuple[str, ...] = ()  # human lines: what opened, changed, resolved
    tracker_errors: tuple[str, ...] = ()
    opened: tuple[tuple[str, str], ...] = ()  # (monitor id, incident key) opened or re-opened

    def __add__(self, other: Acts) -> Acts:
        return Acts(self.notes + other.notes, self.tracker_errors + other.tracker_errors, self.opened + other.opened)

    @property
    def ok(self) -> bool:
        return not self.tracker_errors


NOTHING = Acts()


def _note(text: str) -> Acts:
    return Acts(notes=(text,))


def _error(text: str) -> Acts:
    return Acts(tracker_errors=(text,))


@dataclass(frozen=True)
class Stepped:
    """One monitor's state after a sequence of its checks went through the status machine and the tracker."""

    state: MonitorState
    transitions: tuple[Transition, ...]
    acts: Acts


def step_checks(config: Config, monitor: Monitor, state: MonitorState, checks: Sequence[Check],
                tracker: Tracker) -> Stepped:
    """Feed checks to the status machine in order and act on each transition at once."""
    transitions: list[Transition] = []
    acts = NOTHING
    for check in checks:
        state, found = step(monitor, state, check, in_maintenance=check.status is CheckStatus.MAINTENANCE,
                            flap_window=config.settings.flap_window)
        for transition in found:
            transitions.append(transition)
            state, acted = apply_transition(monitor, state, transition, tracker)
            acts += acted
    return Stepped(state, tuple(transitions), acts)


@dataclass(frozen=True)
class Advanced:
    """Every monitor's state after a pass's checks, and what the tracker was told."""

    states: Mapping[str, MonitorState]
    transitions: tuple[Transition, ...]
    acts: Acts
    pending: frozenset[str]  # monitors whose tracker update failed: re-synced on a later pass


def advance(config: Config, states: Mapping[str, MonitorState], checks: Sequence[Check], tracker: Tracker,
            pending: frozenset[str]) -> Advanced:
    """Apply the status machine to every check, carry each transition to the tracker, retire the
    incidents of monitors no longer configured, and re-sync the ones ``pending`` from earlier."""
    new_states = dict(states)
    transitions: list[Transition] = []
    acts = NOTHING
    failures: set[str] = set()
    for check in checks:
        monitor = config.monitor(check.monitor_id)
        if monitor is None:
            continue
        state = new_states.get(monitor.id) or MonitorState(monitor_id=monitor.id)
        stepped = step_checks(config, monitor, state, [check], tracker)
        new_states[monitor.id] = stepped.state
        transitions += stepped.transitions
        acts += stepped.acts
        if not stepped.acts.ok:
            failures.add(monitor.id)
    # A monitor taken out of monitors.yaml (or renamed) can never recover: close its incident.
    for monitor_id in sorted(new_states):
        if config.monitor(monitor_id) is None and new_states[monitor_id].incident_open:
            new_states[monitor_id], acted = retire(monitor_id, new_states[monitor_id], tracker)
            acts += acted
    # Tracker updates that failed in an earlier pass: make the tracker agree with the state now.
    for monitor_id in sorted(pending - failures):
        configured = config.monitor(monitor_id)
        if configured is None or monitor_id not in new_states:
            continue
        new_states[monitor_id], acted = reconcile(configured, new_states[monitor_id], tracker)
        acts += acted
        if not acted.ok:
            failures.add(monitor_id)
    return Advanced(new_states, tuple(transitions), acts, frozenset(failures))


def apply_transition(monitor: Monitor, state: MonitorState, transition: Transition,
                     tracker: Tracker) -> tuple[MonitorState, Acts]:
    """Tell the tracker about one transition; the state gains the incident key it answers with."""
    key = state.incident_key
    try:
        if transition.kind in (TransitionKind.OPENED, TransitionKind.REOPENED):
            key = tracker.open(monitor, transition)
            verb = "reopened" if transition.kind is TransitionKind.REOPENED else "opened"
            return state.evolve(incident_key=key), Acts(
                notes=(f"{verb} incident {key} for {monitor.id}: {monitor.name} is {transition.impact.value}",),
                opened=((monitor.id, key),))
        if transition.kind in (TransitionKind.ESCALATED, TransitionKind.DEESCALATED):
            key = key or find_key(tracker, monitor)
            if key:
                tracker.change_impact(key, monitor, transition)
            return state, _note(f"{transition.kind.value} incident {key} for {monitor.id}: now {transition.impact.value}")
        # RESOLVED: step() moved the key to last_incident_key
        key = key or state.last_incident_key or find_key(tracker, monitor)
        if key:
            tracker.resolve(key, monitor, transition)
        state = state.evolve(last_incident_key=key or state.last_incident_key, incident_key=None)
        downtime = format_duration(transition.downtime)
        if key:
            return state, _note(f"resolved incident {key} for {monitor.id} after {downtime}")
        # the tracker failed when this incident opened, so there is nothing to close
        return state, _note(f"{monitor.id} recovered after {downtime} (no incident was recorded for it)")
    except TrackerError as error:
        return state, _error(f"{monitor.id}: {transition.kind.value}: {error}")


def find_key(tracker: Tracker, monitor: Monitor) -> Optional[str]:
    incident = tracker.find_open(monitor.id)
    return incident.key if incident else None


def retire(monitor_id: str, state: MonitorState, tracker: Tracker) -> tuple[MonitorState, Acts]:
    """Resolve the open incident of a monitor no longer configured; on a tracker failure the
    state stays open, so the next pass tries again."""
    now = utcnow()
    # the trackers need a Monitor; only its id and name are used to resolve
    monitor = Monitor(id=monitor_id, name=monitor_id, type="http", spec=HttpSpec(url=""))
    try:
        key = state.incident_key or find_key(tracker, monitor)
        if key:
            tracker.comment(key, TimelineEntry(now, "comment", f"`{monitor_id}` is no longer in monitors.yaml, "
                                                               "so nothing watches it any more: closing this incident."))
            check = Check(monitor_id, now, CheckStatus.NO_DATA, error="monitor removed from monitors.yaml")
            tracker.resolve(key, monitor, Transition(TransitionKind.RESOLVED, monitor_id, now,
                                                     state.incident_impact or Impact.DOWN, check,
                                                     started=state.incident_started, incident_key=key))
        acts = _note(f"resolved incident {key} for {monitor_id}: {monitor_id} was removed from monitors.yaml")
    except TrackerError as error:
        return state, _error(f"{monitor_id}: resolve (removed from monitors.yaml): {error}")
    return state.evolve(incident_open=False, incident_key=None, last_incident_key=key or state.last_incident_key,
                        last_resolved=now), acts


def reconcile(monitor: Monitor, state: MonitorState, tracker: Tracker) -> tuple[MonitorState, Acts]:
    """Bring the tracker in line with the state after an earlier failure (never a second incident)."""
    try:
        existing = tracker.find_open(monitor.id)
        now = utcnow()
        if state.incident_open and existing is None:
            check = Check(monitor.id, state.last_check or now, CheckStatus.DOWN, error="(re-synced after a tracker failure)")
            transition = Transition(TransitionKind.OPENED, monitor.id, state.incident_started or now,
                                    state.incident_impact or Impact.DOWN, check, started=state.incident_started)
            key = tracker.open(monitor, transition)
            return state.evolve(incident_key=key), _note(f"opened incident {key} for {monitor.id} (re-synced)")
        if state.incident_open and existing is not None:
            return state.evolve(incident_key=existing.key), NOTHING
        if not state.incident_open and existing is not None and existing.automated:
            moment = state.last_resolved or now
            check = Check(monitor.id, moment, CheckStatus.UP)
            transition = Transition(TransitionKind.RESOLVED, monitor.id, moment, existing.impact, check,
                                    started=existing.started, incident_key=existing.key)
            tracker.resolve(existing.key, monitor, transition)
            return (state.evolve(last_incident_key=existing.key),
                    _note(f"resolved incident {existing.key} for {monitor.id} (re-synced)"))
        return state, NOTHING
    except TrackerError as error:
        return state, _error(f"{monitor.id}: re-sync: {error}")


def comment(tracker: Tracker, key: Optional[str], entry: TimelineEntry, monitor: Monitor) -> Acts:
    """A timeline entry on an incident, if there is one; a failure is a tracker error, not a stop."""
    if not key:
        return NOTHING
    try:
        tracker.comment(key, entry)
    except TrackerError as error:
        return _error(f"{monitor.id}: comment: {error}")
    return NOTHING
