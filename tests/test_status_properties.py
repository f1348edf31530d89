"""Invariants of the status machine over random sequences of checks (hypothesis).

A small reference model counts streaks independently of ``generator.status``
and says exactly when an incident must open and resolve.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.models import Impact, MonitorState, State, TransitionKind
from generator.status import step
from tests.test_status import IN_WINDOW, LETTERS, T0, check, monitor

letters = st.lists(st.sampled_from(sorted(LETTERS)), max_size=60)
gaps = st.lists(st.integers(min_value=1, max_value=40 * 60), min_size=60, max_size=60)
thresholds = st.integers(min_value=1, max_value=4)

OPENING = (TransitionKind.OPENED, TransitionKind.REOPENED)


def drive(mon, sequence, gap_seconds, flap_window=900.0):
    """Yield (letter, state before, state after, transitions) like the pipeline would see them."""
    state = MonitorState(mon.id)
    moment = T0
    keys = iter(range(1, 10_000))
    for letter, gap in zip(sequence, gap_seconds):
        before = state
        state, emitted = step(
            mon, state, check(LETTERS[letter], moment), in_maintenance=letter in IN_WINDOW, flap_window=flap_window
        )
        if any(t.kind is TransitionKind.OPENED for t in emitted):
            state = state.evolve(incident_key=f"#{next(keys)}")
        yield letter, before, state, emitted
        moment += timedelta(seconds=gap)


@settings(max_examples=300, deadline=None)
@given(sequence=letters, gap_seconds=gaps, fail_at=thresholds, succeed_at=thresholds)
def test_invariants(sequence, gap_seconds, fail_at, succeed_at):
    mon = monitor(fail_at, succeed_at)
    open_key = None  # what a tracker would hold open for this monitor
    is_open = False
    failures = successes = 0  # the reference model's streaks
    worst = None
    for letter, before, after, emitted in drive(mon, sequence, gap_seconds):
        assert len(emitted) <= 1
        kind = emitted[0].kind if emitted else None

        # reference model
        expect_open = expect_resolve = False
        if letter in IN_WINDOW:
            failures = successes = 0
            if not is_open:
                worst = None
        elif letter == "U":
            failures, successes = 0, successes + 1
            worst = None if not is_open else worst
            expect_resolve = is_open and successes == succeed_at
        elif letter in "DG":
            impact = Impact.DOWN if letter == "D" else Impact.DEGRADED
            worst = impact if failures == 0 and not is_open else (Impact.DOWN if Impact.DOWN in (worst, impact) else impact)
            failures, successes = failures + 1, 0
            expect_open = not is_open and failures == fail_at

        # thresholds honoured exactly
        assert (kind in OPENING) == expect_open, (letter, before, kind)
        assert (kind is TransitionKind.RESOLVED) == expect_resolve, (letter, before, kind)
        if letter in IN_WINDOW or letter == "N":
            assert emitted == []
        if letter == "N":
            assert after == before

        # never two open incidents for one monitor
        if kind in OPENING:
            assert not is_open
            is_open = True
            assert emitted[0].impact is worst
            if kind is TransitionKind.REOPENED:
                assert emitted[0].incident_key == before.last_incident_key is not None
                assert (emitted[0].time - before.last_resolved).total_seconds() < 900
            open_key = after.incident_key
        elif kind is not None:
            assert is_open and emitted[0].incident_key == open_key
            if kind is TransitionKind.RESOLVED:
                is_open, open_key = False, None
            else:
                assert emitted[0].impact is not before.incident_impact
                worst = emitted[0].impact
        assert after.incident_open == is_open

        # a down/degraded status always means an open incident of that impact
        if after.status in (State.DOWN, State.DEGRADED):
            assert after.incident_open and after.status.value == after.incident_impact.value
        elif after.status is not State.MAINTENANCE:
            assert not after.incident_open
        if after.incident_open and emitted:
            assert emitted[0].started is not None and emitted[0].started <= emitted[0].time


@settings(max_examples=200, deadline=None)
@given(sequence=letters, gap_seconds=gaps, fail_at=thresholds, succeed_at=thresholds)
def test_every_incident_resolves_when_checks_stay_good(sequence, gap_seconds, fail_at, succeed_at):
    mon = monitor(fail_at, succeed_at)
    tail = sequence + ["U"] * succeed_at
    opened = resolved = 0
    last = None
    for _, _, after, emitted in drive(mon, tail, gap_seconds + [60] * succeed_at):
        opened += sum(t.kind in OPENING for t in emitted)
        resolved += sum(t.kind is TransitionKind.RESOLVED for t in emitted)
        last = after
    assert opened == resolved
    assert last is not None and not last.incident_open and last.status is State.UP
