"""The watch scheduler's arithmetic, with a fake clock: spread, no drift, missed slots skipped."""

from __future__ import annotations

from collections import Counter

import pytest

from generator.run.schedule import Schedule, first_due, next_due, offset

T0 = 1_800_000_000.0  # a fixed moment (2027-01-15T08:00:00Z)


def test_offset_is_stable_and_inside_the_interval() -> None:
    assert offset("api", 60) == offset("api", 60)
    assert offset("api", 60) == pytest.approx(offset("api", 30) * 2)
    assert all(0 <= offset(f"m{i}", 10) < 10 for i in range(500))
    with pytest.raises(ValueError):
        offset("api", 0)


def test_next_due_is_on_the_lattice_strictly_after() -> None:
    assert next_due(60, 7, 0) == 7
    assert next_due(60, 7, 7) == 67
    assert next_due(60, 7, 66.999) == 67
    assert next_due(60, 7, 1000) == 1027
    assert first_due(60, 7, 67) == 67 and first_due(60, 7, 67.5) == 127


def test_a_thousand_monitors_are_spread_over_the_interval() -> None:
    schedule = Schedule(((f"monitor-{i}", 60.0) for i in range(1000)), T0)
    per_second: Counter[int] = Counter()
    now = T0
    while now <= T0 + 60:  # the lattice is the epoch's: one whole interval from T0 holds every slot once
        for due in schedule.pop_due(now):
            per_second[int(due.at - T0)] += 1
        now += 0.25
    assert sum(per_second.values()) == 1000
    assert len(per_second) >= 58  # nearly every second of the minute has some
    assert max(per_second.values()) <= 40  # about 17 a second on average, never all at once


def test_due_times_do_not_drift_when_checks_run_late() -> None:
    schedule = Schedule([("api", 20.0)], T0)
    times = []
    clock = T0
    for _ in range(50):
        clock = max(clock, schedule.next_time() or clock) + 1.7  # every check noticed 1.7 s late
        [due] = schedule.pop_due(clock)
        times.append(due.at)
    assert times[0] == pytest.approx(first_due(20.0, offset("api", 20.0), T0))
    assert T0 <= times[0] < T0 + 20
    gaps = {round(b - a, 6) for a, b in zip(times, times[1:])}
    assert gaps == {20.0}  # 50 checks later, still on the same lattice
    assert schedule.skipped == 0


def test_a_check_later_than_a_whole_interval_skips_the_missed_slots() -> None:
    schedule = Schedule([("api", 10.0)], T0)
    first = schedule.next_time()
    assert first is not None
    [due] = schedule.pop_due(first + 35)  # stalled for three and a half intervals
    assert due.at == first
    assert schedule.next_time() == pytest.approx(first + 40)
    assert schedule.skipped == 3
    assert schedule.pop_due(first + 39) == []


def test_mixed_intervals_and_nothing_due_early() -> None:
    schedule = Schedule([("fast", 10.0), ("slow", 60.0)], T0)
    assert schedule.pop_due(T0 - 1) == []
    seen: Counter[str] = Counter()
    now = T0
    while now < T0 + 600:
        seen.update(d.monitor_id for d in schedule.pop_due(now))
        now += 0.5
    assert seen == {"fast": 60, "slow": 10}
    with pytest.raises(ValueError):
        Schedule([("a", 10.0), ("a", 20.0)], T0)


def test_the_same_slots_in_every_process() -> None:
    """A successor watcher started later checks in the slots its predecessor used."""
    before = Schedule([("api", 30.0)], T0)
    after = Schedule([("api", 30.0)], T0 + 3600 + 11.3)
    assert ((after.next_time() or 0) - (before.next_time() or 0)) % 30.0 == pytest.approx(0.0, abs=1e-6)
