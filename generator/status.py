"""The status machine: previous state + one new check -> new state + transitions.

Pure: no clock, no I/O, no logging. The run feeds each monitor's check through
:func:`step`, hands the transitions to the tracker/recovery/notify rooms, and
stores the returned state (after setting ``incident_key`` once the tracker
answers: ``state.evolve(incident_key=key)``).

Decisions (issue 4), in the order :func:`step` applies them:

* **Stale check** (older than ``state.last_check``): ignored, state unchanged.
  A re-run that replays an old result must not count it twice.
* **NO_DATA**: nothing changes, not even ``last_check``. A missed run is "no
  data", never "up": it neither breaks nor extends a streak.
* **Maintenance** (``in_maintenance=True`` or a ``MAINTENANCE`` check): the
  monitor shows ``maintenance`` and emits no transition. An open incident stays
  open, untouched; both counters restart from zero and a failing streak that had
  not yet reached the threshold is forgotten, so only checks after the window
  count toward opening or resolving.
* **Failures**: DOWN and DEGRADED checks both count toward
  ``failure_threshold`` (DEGRADED is a failure of impact ``degraded``). The
  incident opens on exactly the ``failure_threshold``-th consecutive failure
  with the worst impact seen in the streak, and ``started`` = the time of the
  streak's first failure. Until then nothing is emitted and the shown status
  does not change (a status of down/degraded always means an open incident).
* **Severity changes** are immediate and stay on the same incident: a DOWN check
  on a degraded incident escalates it; a DEGRADED check on a down incident
  de-escalates it.
* **Recovery**: the incident resolves on exactly the ``success_threshold``-th
  consecutive UP check. A DEGRADED (or DOWN) check during recovery is a failure:
  it restarts the count of successes (and may de-escalate/escalate as above).
* **Flapping**: when the threshold is reached less than ``flap_window`` seconds
  after the last resolution, the last incident is re-opened (``REOPENED`` with
  ``incident_key = state.last_incident_key``) instead of a new one.

One duration: a transition carries the incident's first start (``opened``), the seconds of its
earlier down intervals (``down_before``, after a flap), how often it flapped, and on resolution the
first good check of the resolving streak (``ended``): its downtime is the sum of its down intervals.

While no incident is open, ``incident_started`` and ``incident_impact`` hold the
pending failing streak (its first failure, its worst impact) so that the
incident can start at the right time even when the threshold spans several
runs; ``incident_open`` tells the two meanings apart.
"""

from __future__ import annotations

from typing import Any, Optional

from generator.models import (
    Check,
    CheckStatus,
    Impact,
    Monitor,
    MonitorState,
    State,
    Transition,
    TransitionKind,
)

DEFAULT_FLAP_WINDOW = 900.0

_IMPACT_OF = {CheckStatus.DOWN: Impact.DOWN, CheckStatus.DEGRADED: Impact.DEGRADED}
_STATE_OF = {Impact.DOWN: State.DOWN, Impact.DEGRADED: State.DEGRADED}


def worse(a: Optional[Impact], b: Impact) -> Impact:
    """The worse of two impacts (``down`` beats ``degraded``)."""
    return Impact.DOWN if Impact.DOWN in (a, b) else Impact.DEGRADED


def initial_state(monitor_id: str) -> MonitorState:
    """A monitor never checked: status ``unknown``."""
    return MonitorState(monitor_id=monitor_id)


def step(
    monitor: Monitor,
    state: MonitorState,
    check: Check,
    *,
    in_maintenance: bool = False,
    flap_window: float = DEFAULT_FLAP_WINDOW,
) -> tuple[MonitorState, list[Transition]]:
    """Advance one monitor's state by one check; see the module doc for the rules."""
    if check.monitor_id != monitor.id or state.monitor_id != monitor.id:
        raise ValueError(
            f"status.step: monitor {monitor.id!r} got state of {state.monitor_id!r} "
            f"and check of {check.monitor_id!r}"
        )
    if state.last_check is not None and check.time < state.last_check:
        return state, []
    if check.status is CheckStatus.NO_DATA:
        return state, []
    if in_maintenance or check.status is CheckStatus.MAINTENANCE:
        return _maintenance(state, check), []
    if check.status is CheckStatus.UP:
        return _success(monitor, state, check)
    return _failure(monitor, state, check, _IMPACT_OF[check.status], flap_window)


def _facts(state: MonitorState) -> dict[str, Any]:
    """The open incident's duration facts, for its transitions."""
    return {"opened": state.incident_opened or state.incident_started, "down_before": state.incident_down_before,
            "flaps": state.incident_flaps}


def _with_status(state: MonitorState, status: State, check: Check, **changes: Any) -> MonitorState:
    since = state.since if status is state.status and state.since is not None else check.time
    return state.evolve(status=status, since=since, last_check=check.time, **changes)


def _maintenance(state: MonitorState, check: Check) -> MonitorState:
    pending = {} if state.incident_open else {"incident_started": None, "incident_impact": None}
    return _with_status(
        state, State.MAINTENANCE, check, consecutive_failures=0, consecutive_successes=0, **pending
    )


def _success(monitor: Monitor, state: MonitorState, check: Check) -> tuple[MonitorState, list[Transition]]:
    successes = state.consecutive_successes + 1
    if not state.incident_open:
        new = _with_status(
            state,
            State.UP,
            check,
            consecutive_failures=0,
            consecutive_successes=successes,
            incident_started=None,
            incident_impact=None,
        )
        return new, []
    impact = state.incident_impact or Impact.DOWN
    recovering = state.recovering_since if state.consecutive_successes and state.recovering_since else check.time
    if successes < max(1, monitor.success_threshold):
        # still recovering: the incident (and the shown status) stays as it is
        new = _with_status(
            state, _STATE_OF[impact], check, consecutive_failures=0, consecutive_successes=successes,
            recovering_since=recovering,
        )
        return new, []
    transition = Transition(
        kind=TransitionKind.RESOLVED,
        monitor_id=monitor.id,
        time=check.time,
        impact=impact,
        check=check,
        started=state.incident_started,
        incident_key=state.incident_key,
        ended=recovering,
        **_facts(state),
    )
    new = _with_status(
        state,
        State.UP,
        check,
        consecutive_failures=0,
        consecutive_successes=successes,
        incident_open=False,
        incident_impact=None,
        incident_started=None,
        incident_key=None,
        last_resolved=check.time,
        last_incident_key=state.incident_key,
        incident_opened=None,
        incident_down_before=0.0,
        incident_flaps=0,
        recovering_since=None,
        last_incident_opened=transition.first_started,
        last_incident_downtime=transition.downtime,
        last_incident_flaps=transition.flaps,
    )
    return new, [transition]


def _failure(
    monitor: Monitor, state: MonitorState, check: Check, impact: Impact, flap_window: float
) -> tuple[MonitorState, list[Transition]]:
    failures = state.consecutive_failures + 1
    if state.incident_open:
        current = state.incident_impact or Impact.DOWN
        new = _with_status(
            state,
            _STATE_OF[impact],
            check,
            consecutive_failures=failures,
            consecutive_successes=0,
            incident_impact=impact,
        )
        if impact is current:
            return new, []
        kind = TransitionKind.ESCALATED if impact is Impact.DOWN else TransitionKind.DEESCALATED
        return new, [
            Transition(
                kind=kind,
                monitor_id=monitor.id,
                time=check.time,
                impact=impact,
                check=check,
                started=state.incident_started,
                incident_key=state.incident_key,
                **_facts(state),
            )
        ]

    # no incident yet: extend (or start) the pending streak
    started = state.incident_started if state.consecutive_failures and state.incident_started else check.time
    worst = worse(state.incident_impact, impact) if state.consecutive_failures else impact
    if failures < max(1, monitor.failure_threshold):
        # not confirmed: keep showing what we knew (up / unknown); after a window, unknown
        shown = state.status if state.status in (State.UP, State.UNKNOWN) else State.UNKNOWN
        new = _with_status(
            state,
            shown,
            check,
            consecutive_failures=failures,
            consecutive_successes=0,
            incident_started=started,
            incident_impact=worst,
        )
        return new, []

    flapping = (
        state.last_incident_key is not None
        and state.last_resolved is not None
        and (check.time - state.last_resolved).total_seconds() < flap_window
    )
    key = state.last_incident_key if flapping else None
    # a flap continues the last incident: its first start, its downtime so far, one more flap
    opened = (state.last_incident_opened or started) if flapping else started
    down_before = state.last_incident_downtime if flapping else 0.0
    flaps = state.last_incident_flaps + 1 if flapping else 0
    transition = Transition(
        kind=TransitionKind.REOPENED if flapping else TransitionKind.OPENED,
        monitor_id=monitor.id,
        time=check.time,
        impact=worst,
        check=check,
        started=started,
        incident_key=key,
        opened=opened,
        down_before=down_before,
        flaps=flaps,
    )
    new = _with_status(
        state,
        _STATE_OF[worst],
        check,
        consecutive_failures=failures,
        consecutive_successes=0,
        incident_open=True,
        incident_impact=worst,
        incident_started=started,
        incident_key=key,
        incident_opened=opened,
        incident_down_before=down_before,
        incident_flaps=flaps,
        recovering_since=None,
    )
    return new, [transition]
