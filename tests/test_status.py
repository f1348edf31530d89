"""The status machine, table-driven: sequences of checks -> transitions and states.

A sequence is a string, one letter per run: U up, D down, G degraded ("grey"),
N no data, M an up check and X a down check inside a maintenance window. Runs are one minute apart
unless ``gap`` says otherwise.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

import pytest

from generator.models import (
    Check,
    CheckStatus,
    Impact,
    Monitor,
    MonitorState,
    Severity,
    State,
    Transition,
    TransitionKind,
)
from generator.probes.http_spec import HttpSpec
from generator.status import step
from generator.timeutil import UTC

T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)

LETTERS = {
    "U": CheckStatus.UP,
    "D": CheckStatus.DOWN,
    "G": CheckStatus.DEGRADED,
    "N": CheckStatus.NO_DATA,
    "M": CheckStatus.UP,  # the probe says up, but the run is inside a window
    "X": CheckStatus.DOWN,  # the probe says down, inside a window
}
IN_WINDOW = {"M", "X"}


def monitor(failure_threshold: int = 1, success_threshold: int = 1, monitor_id: str = "api") -> Monitor:
    return Monitor(
        id=monitor_id,
        name=monitor_id.upper(),
        type="http",
        spec=HttpSpec(url="http://127.0.0.1:9/"),
        failure_threshold=failure_threshold,
        success_threshold=success_threshold,
    )


def check(status: CheckStatus, moment: datetime, monitor_id: str = "api") -> Check:
    return Check(monitor_id=monitor_id, time=moment, status=status)


def run(
    mon: Monitor,
    letters: Iterable[str],
    *,
    state: MonitorState | None = None,
    start: datetime = T0,
    gap: timedelta = timedelta(minutes=1),
    flap_window: float = 900.0,
    keys: Iterable[str] | None = None,
) -> tuple[list[MonitorState], list[list[Transition]]]:
    """Feed a sequence through ``step`` like the pipeline does (assigning tracker keys on open)."""
    state = state or MonitorState(monitor_id=mon.id)
    key_source = iter(keys) if keys is not None else (f"#{n}" for n in range(1, 10_000))
    states: list[MonitorState] = []
    transitions: list[list[Transition]] = []
    moment = start
    for letter in letters:
        state, emitted = step(
            mon, state, check(LETTERS[letter], moment, mon.id), in_maintenance=letter in IN_WINDOW, flap_window=flap_window
        )
        for transition in emitted:
            if transition.kind.value == "opened":
                state = state.evolve(incident_key=next(key_source))
        states.append(state)
        transitions.append(emitted)
        moment += gap
    return states, transitions


def kinds(transitions: list[list[Transition]]) -> str:
    """One token per run: '.' when nothing happened, else the kinds joined by '+'."""
    return " ".join("+".join(t.kind.value for t in emitted) or "." for emitted in transitions)


SHOWN = {"up": "u", "down": "d", "degraded": "g", "maintenance": "m", "unknown": "?"}


def shown(states: list[MonitorState]) -> str:
    return "".join(SHOWN[s.status.value] for s in states)


# (name, failure_threshold, success_threshold, checks, transitions per run, shown status per run)
CASES = [
    ("first check up", 1, 1, "U", ".", "u"),
    ("down opens, up resolves", 1, 1, "UDU", ". opened resolved", "udu"),
    ("thresholds 3 and 2", 3, 2, "UDDDUU", ". . . opened . resolved", "uuuddu"),
    ("a success breaks the failing streak", 3, 1, "DDUDDU", ". . . . . .", "??uuuu"),
    ("failures below threshold keep showing up", 2, 1, "UDUDU", ". . . . .", "uuuuu"),
    ("no data neither breaks nor extends a streak", 3, 1, "DNDND", ". . . . opened", "????d"),
    ("no data is never up", 1, 2, "DUNU", "opened . . resolved", "dddu"),
    ("no data from the start stays unknown", 1, 1, "NN", ". .", "??"),
    ("degraded counts toward the threshold", 2, 1, "GG", ". opened", "?g"),
    ("opening impact is the worst of the streak", 2, 1, "DG", ". opened", "?d"),
    ("worst at opening, then follows the checks", 2, 1, "DGG", ". opened deescalated", "?dg"),
    ("degraded then down escalates the same incident", 1, 1, "GDU", "opened escalated resolved", "gdu"),
    ("down then degraded de-escalates", 1, 1, "DGU", "opened deescalated resolved", "dgu"),
    ("degraded during recovery restarts the count", 1, 2, "DUGUU", "opened . deescalated . resolved", "ddggu"),
    ("degraded during recovery of a degraded incident", 1, 2, "GUGUU", "opened . . . resolved", "ggggu"),
    ("down during recovery of a degraded incident escalates", 1, 2, "GUDUU", "opened . escalated . resolved", "ggddu"),
    ("one incident per monitor", 1, 1, "DDDD", "opened . . .", "dddd"),
    ("down at the threshold after degraded", 3, 1, "GGD", ". . opened", "??d"),
    ("maintenance without an incident", 1, 1, "UMMU", ". . . .", "ummu"),
    ("failures inside maintenance open nothing", 1, 1, "UXXU", ". . . .", "ummu"),
    ("maintenance keeps an open incident, silently", 1, 1, "DXXMU", "opened . . . resolved", "dmmmu"),
    ("incident still failing after maintenance", 1, 1, "DXXD", "opened . . .", "dmmd"),
    ("maintenance forgets a pending streak", 3, 1, "UDDXDDD", ". . . . . . opened", "uuum??d"),
    ("maintenance restarts the success count", 1, 2, "DUMUU", "opened . . . resolved", "ddmdu"),
    ("a flap re-opens the last incident", 1, 1, "DUD", "opened resolved reopened", "dud"),
    ("a re-opened incident resolves again", 1, 1, "DUDU", "opened resolved reopened resolved", "dudu"),
    ("a flap still honours the failure threshold", 2, 1, "DDUDD", ". opened resolved . reopened", "?duud"),
]


@pytest.mark.parametrize(
    "failure_threshold, success_threshold, letters, expected, expected_shown",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_sequences(failure_threshold, success_threshold, letters, expected, expected_shown):
    states, transitions = run(monitor(failure_threshold, success_threshold), letters)
    assert kinds(transitions) == expected
    assert shown(states) == expected_shown


def test_no_flap_after_the_window():
    states, transitions = run(monitor(), "DUD", gap=timedelta(minutes=20))
    assert kinds(transitions) == "opened resolved opened"
    assert transitions[2][0].incident_key is None


def test_flap_window_is_configurable():
    _, transitions = run(monitor(), "DUD", gap=timedelta(minutes=20), flap_window=3600)
    assert kinds(transitions) == "opened resolved reopened"
    _, transitions = run(monitor(), "DUD", gap=timedelta(seconds=10), flap_window=0)
    assert kinds(transitions) == "opened resolved opened"


def test_reopened_carries_the_last_key_and_keeps_it():
    states, transitions = run(monitor(), "DUDU", keys=["#41", "#99"])
    reopened = transitions[2][0]
    assert reopened.kind is TransitionKind.REOPENED
    assert reopened.incident_key == "#41"
    assert states[2].incident_key == "#41" and states[2].incident_open
    resolved = transitions[3][0]
    assert resolved.incident_key == "#41"
    assert states[3].last_incident_key == "#41"


def test_opened_transition_carries_streak_start_and_worst_impact():
    mon = monitor(failure_threshold=3)
    states, transitions = run(mon, "UGNDG")
    opened = transitions[-1][0]
    assert opened.kind is TransitionKind.OPENED
    assert opened.started == T0 + timedelta(minutes=1)  # the first failure, not the threshold run
    assert opened.time == T0 + timedelta(minutes=4)
    assert opened.impact is Impact.DOWN and opened.severity is Severity.CRITICAL
    assert opened.check.status is CheckStatus.DEGRADED
    assert opened.incident_key is None
    assert states[-1].incident_started == opened.started
    assert states[-1].since == opened.time


def test_resolved_transition_and_state():
    mon = monitor(success_threshold=2)
    states, transitions = run(mon, "GDUU")
    resolved = transitions[-1][0]
    assert resolved.kind is TransitionKind.RESOLVED
    assert resolved.started == T0
    assert resolved.impact is Impact.DOWN
    assert resolved.incident_key == "#1"
    assert resolved.check.status is CheckStatus.UP
    last = states[-1]
    assert not last.incident_open and last.incident_key is None and last.incident_impact is None
    assert last.incident_started is None
    assert last.last_incident_key == "#1"
    assert last.last_resolved == T0 + timedelta(minutes=3)
    assert last.status is State.UP and last.since == T0 + timedelta(minutes=3)
    assert last.consecutive_failures == 0 and last.consecutive_successes == 2


def test_escalation_keeps_the_incident_and_its_start():
    states, transitions = run(monitor(), "GGD")
    escalated = transitions[2][0]
    assert escalated.kind is TransitionKind.ESCALATED
    assert escalated.impact is Impact.DOWN and escalated.severity is Severity.CRITICAL
    assert escalated.started == T0 and escalated.incident_key == "#1"
    assert states[2].incident_key == "#1" and states[2].incident_started == T0


def test_deescalation_lowers_severity():
    _, transitions = run(monitor(), "DG")
    assert transitions[1][0].impact is Impact.DEGRADED
    assert transitions[1][0].severity is Severity.WARNING


def test_counters():
    states, _ = run(monitor(failure_threshold=5, success_threshold=5), "UUDDGNU")
    assert [(s.consecutive_failures, s.consecutive_successes) for s in states] == [
        (0, 1), (0, 2), (1, 0), (2, 0), (3, 0), (3, 0), (0, 1),
    ]


def test_no_data_changes_nothing_at_all():
    mon = monitor(failure_threshold=2)
    states, _ = run(mon, "UD")
    after, emitted = step(mon, states[-1], check(CheckStatus.NO_DATA, T0 + timedelta(hours=1)))
    assert after == states[-1] and emitted == []


def test_maintenance_check_status_counts_as_a_window():
    mon = monitor()
    state, _ = step(mon, MonitorState("api"), check(CheckStatus.DOWN, T0))
    state = state.evolve(incident_key="#7")
    after, emitted = step(mon, state, check(CheckStatus.MAINTENANCE, T0 + timedelta(minutes=1)))
    assert emitted == []
    assert after.status is State.MAINTENANCE and after.incident_open and after.incident_key == "#7"


def test_since_changes_only_with_the_status():
    states, _ = run(monitor(), "UUUDD")
    assert [s.since for s in states] == [T0, T0, T0, T0 + timedelta(minutes=3), T0 + timedelta(minutes=3)]


def test_stale_check_is_ignored():
    mon = monitor()
    states, _ = run(mon, "U")
    after, emitted = step(mon, states[-1], check(CheckStatus.DOWN, T0 - timedelta(minutes=5)))
    assert after == states[-1] and emitted == []


def test_zero_thresholds_behave_as_one():
    states, transitions = run(monitor(failure_threshold=0, success_threshold=0), "DU")
    assert kinds(transitions) == "opened resolved"


def test_mismatched_monitor_is_refused():
    with pytest.raises(ValueError, match="api"):
        step(monitor(), MonitorState("api"), check(CheckStatus.UP, T0, monitor_id="web"))


def test_step_is_pure():
    mon = monitor()
    state = MonitorState("api")
    first = step(mon, state, check(CheckStatus.DOWN, T0))
    second = step(mon, state, check(CheckStatus.DOWN, T0))
    assert first == second
    assert state == MonitorState("api")
