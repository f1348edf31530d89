"""Carry the status machine's transitions to the incident tracker, and keep the two in step.

A tracker update that fails (GitHub down) is remembered in ``data/cache/tracker_pending.json``
and re-synced on a later run from the monitor's state: never a second incident, never one
left open.
"""

from __future__ import annotations

from typing import Optional

from generator.incidents.base import TrackerError
from generator.models import (
    Check,
    CheckStatus,
    Config,
    HttpSpec,
    Impact,
    Maintenance,
    Monitor,
    MonitorState,
    TimelineEntry,
    Transition,
    TransitionKind,
)
from generator.report import RunReport
from generator.timeutil import duration_between, format_duration, utcnow

PENDING_CACHE = "tracker_pending"


def advance(config: Config, states: dict[str, MonitorState], checks: list[Check], windows: list[Maintenance],
            tracker, history, report: RunReport) -> dict[str, MonitorState]:
    """Apply the status machine to every check and carry each transition to the tracker."""
    from generator.status import step

    earlier_failures = set(history.read_json(PENDING_CACHE, []) or [])
    failures: set[str] = set()
    states = dict(states)
    for check in checks:
        monitor = config.monitor(check.monitor_id)
        if monitor is None:
            continue
        state = states.get(monitor.id) or MonitorState(monitor_id=monitor.id)
        in_maintenance = check.status is CheckStatus.MAINTENANCE
        state, transitions = step(monitor, state, check, in_maintenance=in_maintenance,
                                  flap_window=config.settings.flap_window)
        for transition in transitions:
            report.transitions.append(transition)
            state, ok = apply_transition(monitor, state, transition, tracker, report)
            if not ok:
                failures.add(monitor.id)
        states[monitor.id] = state
    # A monitor taken out of monitors.yaml (or renamed) can never recover: close its incident.
    for monitor_id in sorted(states):
        if config.monitor(monitor_id) is None and states[monitor_id].incident_open:
            states[monitor_id] = retire(monitor_id, states[monitor_id], tracker, report)
    # Tracker updates that failed in an earlier run: make the tracker agree with the state now.
    for monitor_id in sorted(earlier_failures - failures):
        monitor = config.monitor(monitor_id)
        if monitor is None or monitor_id not in states:
            continue
        states[monitor_id], ok = reconcile(monitor, states[monitor_id], tracker, report)
        if not ok:
            failures.add(monitor_id)
    history.write_json(PENDING_CACHE, sorted(failures))
    return states


def apply_transition(monitor: Monitor, state: MonitorState, transition: Transition, tracker,
                     report: RunReport) -> tuple[MonitorState, bool]:

    key = state.incident_key
    try:
        if transition.kind in (TransitionKind.OPENED, TransitionKind.REOPENED):
            key = tracker.open(monitor, transition)
            report.keys[monitor.id] = key
            state = state.evolve(incident_key=key)
            verb = "reopened" if transition.kind is TransitionKind.REOPENED else "opened"
            report.notes.append(f"{verb} incident {key} for {monitor.id}: {monitor.name} is {transition.impact.value}")
        elif transition.kind in (TransitionKind.ESCALATED, TransitionKind.DEESCALATED):
            key = key or find_key(tracker, monitor)
            if key:
                tracker.change_impact(key, monitor, transition)
            report.notes.append(f"{transition.kind.value} incident {key} for {monitor.id}: now {transition.impact.value}")
        elif transition.kind is TransitionKind.RESOLVED:
            key = key or state.last_incident_key or find_key(tracker, monitor)
            if key:
                tracker.resolve(key, monitor, transition)
            state = state.evolve(last_incident_key=key or state.last_incident_key, incident_key=None)
            downtime = format_duration(duration_between(transition.started or transition.time, transition.time).total_seconds())
            if key:
                report.notes.append(f"resolved incident {key} for {monitor.id} after {downtime}")
            else:  # the tracker failed when this incident opened, so there is nothing to close
                report.notes.append(f"{monitor.id} recovered after {downtime} (no incident was recorded for it)")
        return state, True
    except TrackerError as error:
        report.tracker_errors.append(f"{monitor.id}: {transition.kind.value}: {error}")
        return state, False


def find_key(tracker, monitor: Monitor) -> Optional[str]:
    incident = tracker.find_open(monitor.id)
    return incident.key if incident else None


def retire(monitor_id: str, state: MonitorState, tracker, report: RunReport) -> MonitorState:
    """Resolve the open incident of a monitor no longer configured; on a tracker failure the
    state stays open, so the next run tries again."""

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
        report.notes.append(f"resolved incident {key} for {monitor_id}: {monitor_id} was removed from monitors.yaml")
    except TrackerError as error:
        report.tracker_errors.append(f"{monitor_id}: resolve (removed from monitors.yaml): {error}")
        return state
    return state.evolve(incident_open=False, incident_key=None, last_incident_key=key or state.last_incident_key,
                        last_resolved=now)


def reconcile(monitor: Monitor, state: MonitorState, tracker, report: RunReport) -> tuple[MonitorState, bool]:
    """Bring the tracker in line with the state after an earlier failure (never a second incident)."""

    try:
        existing = tracker.find_open(monitor.id)
        now = utcnow()
        if state.incident_open and existing is None:
            check = Check(monitor.id, state.last_check or now, CheckStatus.DOWN, error="(re-synced after a tracker failure)")
            transition = Transition(TransitionKind.OPENED, monitor.id, state.incident_started or now,
                                    state.incident_impact or Impact.DOWN, check, started=state.incident_started)
            key = tracker.open(monitor, transition)
            report.notes.append(f"opened incident {key} for {monitor.id} (re-synced)")
            return state.evolve(incident_key=key), True
        if state.incident_open and existing is not None:
            return state.evolve(incident_key=existing.key), True
        if not state.incident_open and existing is not None and existing.automated:
            moment = state.last_resolved or now
            check = Check(monitor.id, moment, CheckStatus.UP)
            transition = Transition(TransitionKind.RESOLVED, monitor.id, moment, existing.impact, check,
                                    started=existing.started, incident_key=existing.key)
            tracker.resolve(existing.key, monitor, transition)
            report.notes.append(f"resolved incident {existing.key} for {monitor.id} (re-synced)")
            return state.evolve(last_incident_key=existing.key), True
        return state, True
    except TrackerError as error:
        report.tracker_errors.append(f"{monitor.id}: re-sync: {error}")
        return state, False


def comment(tracker, key: Optional[str], entry: TimelineEntry, report: RunReport, monitor: Monitor) -> None:

    if not key:
        return
    try:
        tracker.comment(key, entry)
    except TrackerError as error:
        report.tracker_errors.append(f"{monitor.id}: comment: {error}")
