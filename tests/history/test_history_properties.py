"""Properties: roll-ups built check by check equal a replay of the raw checks, and rolling-window
uptime equals a brute-force count of classified seconds, for random histories."""

from __future__ import annotations

import math
import statistics
import tempfile
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.history import History, rawlog
from generator.history.durations import hold_for, quantize
from generator.models import Check, CheckStatus
from tests.history.reference import Painted

UTC = timezone.utc
T0 = datetime(2026, 12, 30, 0, 0, tzinfo=UTC)  # crosses a year boundary within a few days
SPAN_MINUTES = 4 * 24 * 60
HOLD = 600.0
FAR = T0 + timedelta(days=400)

statuses = st.sampled_from(list(CheckStatus))
latencies = st.one_of(st.none(), st.floats(min_value=0, max_value=60000, allow_nan=False))
a_check = st.builds(
    lambda minute, second, status, latency, monitor, error: Check(
        monitor, T0 + timedelta(minutes=minute, seconds=second), status, latency_ms=latency, error=error
    ),
    st.integers(0, SPAN_MINUTES),
    st.integers(0, 59),
    statuses,
    latencies,
    st.sampled_from(["api", "web"]),
    st.text(max_size=12),
)


def reference_latency(checks: list[Check]) -> dict:
    """From the definitions: order statistics of latencies rounded to three significant digits."""
    timed = sorted(
        rawlog.round_latency(c.latency_ms)
        for c in checks
        if c.status in (CheckStatus.UP, CheckStatus.DEGRADED) and rawlog.round_latency(c.latency_ms) is not None
    )
    if not timed:
        return {"latency_min": None, "latency_median": None, "latency_p95": None, "latency_max": None}
    shown = [quantize(v) for v in timed]
    return {
        "latency_min": round(timed[0], 2),
        "latency_median": round(statistics.median(shown), 2),
        "latency_p95": round(shown[math.ceil(0.95 * len(shown)) - 1], 2),
        "latency_max": round(timed[-1], 2),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(a_check, max_size=8), max_size=8))
def test_incremental_rollups_equal_a_replay_and_the_reference(batches):
    with tempfile.TemporaryDirectory() as folder:
        history = History(folder, retention_days=3650, hold=HOLD)
        for batch in batches:  # batches arrive in any order, including older days after newer ones
            history.record(batch)
        everything = [c for batch in batches for c in batch]
        for monitor in ("api", "web"):
            mine = [c for c in everything if c.monitor_id == monitor]
            by_day = defaultdict(list)
            for c in mine:
                by_day[c.time.strftime("%Y-%m-%d")].append(c)
            stored = history.rollups(monitor)
            # counts and latency figures, day by day, from the definitions
            with_checks = [r for r in stored if r.checks]
            assert [r.day for r in with_checks] == sorted(by_day)
            for rollup in with_checks:
                day = by_day[rollup.day]
                for status in CheckStatus:
                    assert getattr(rollup, status.value) == sum(1 for c in day if c.status is status)
                assert {k: getattr(rollup, k) for k in reference_latency(day)} == reference_latency(day)
            # seconds per status, day by day, equal the painted seconds (the newest check holding in full)
            if mine:
                painted = Painted(T0 - timedelta(days=1), timedelta(days=8), mine, HOLD)
                for rollup in history.rollups(monitor, now=FAR):
                    offset = int((datetime.fromisoformat(rollup.day).replace(tzinfo=UTC) - painted.origin).total_seconds())
                    part = painted.seconds[offset:offset + 86400]
                    for status, code in (("up", 1), ("degraded", 2), ("down", 3), ("maintenance", 4)):
                        assert getattr(rollup, f"{status}_seconds") == part.count(code), (rollup.day, status)
                    assert rollup.no_data_seconds == 86400 - sum(part.count(code) for code in (1, 2, 3, 4)) or \
                        rollup.day == min(by_day)  # the first day's seconds before its first check are no data too
            # a replay from the raw checks alone gives the very same roll-ups
            for path in (history.layout.rollup_dir(monitor)).glob("*.json"):
                path.unlink()
            assert History(folder, retention_days=3650, hold=HOLD).rollups(monitor) == stored
            assert len(history.checks(monitor, T0 - timedelta(days=1))) == len(mine)


# ------------------------------------------------------------------ uptime against brute force

# a step: seconds after the previous check, and its status; bursts are verification probes
steps = st.one_of(
    st.tuples(st.integers(1, 5), statuses),  # bursts, seconds apart
    st.tuples(st.sampled_from([60, 300, 900]), statuses),  # regular intervals
    st.tuples(st.integers(1, 3600), statuses),  # jitter and delayed runs
    st.tuples(st.integers(3600, 2 * 86400), statuses),  # gaps: no data
)


def history_of(start_offset: int, moves: list[tuple[int, CheckStatus]]) -> list[Check]:
    moment = T0 + timedelta(seconds=start_offset)
    checks = []
    for gap, status in moves:
        moment += timedelta(seconds=gap)
        checks.append(Check("api", moment, status, latency_ms=50.0))
    return checks


def record_in_chunks(history: History, checks: list[Check], cuts: list[int], shuffle_one: bool) -> None:
    bounds = sorted({0, len(checks), *[c % (len(checks) + 1) for c in cuts]})
    chunks = [checks[a:b] for a, b in pairwise(bounds) if b > a]
    if shuffle_one and len(chunks) > 1:
        chunks[-1], chunks[-2] = chunks[-2], chunks[-1]  # a late batch: older checks after newer ones
    for chunk in chunks:
        history.record(chunk)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    moves=st.lists(steps, min_size=1, max_size=150),
    start=st.integers(0, 86399),
    hold=st.sampled_from([10.0, hold_for(60), HOLD, hold_for(900)]),
    cuts=st.lists(st.integers(0, 1000), max_size=6),
    shuffle_one=st.booleans(),
    ends=st.lists(st.integers(0, 12 * 86400), min_size=1, max_size=4),
    windows=st.lists(st.one_of(st.sampled_from([86400, 7 * 86400]), st.integers(1, 5 * 86400)), min_size=1, max_size=3),
)
def test_uptime_equals_brute_force(moves, start, hold, cuts, shuffle_one, ends, windows):
    checks = history_of(start, moves)
    painted = Painted(T0 - timedelta(days=8), timedelta(days=30), checks, hold)
    with tempfile.TemporaryDirectory() as folder:
        history = History(folder, hold=hold)
        record_in_chunks(history, checks, cuts, shuffle_one)
        for end in ends:
            now = T0 + timedelta(seconds=end)
            for seconds in windows:
                window = timedelta(seconds=seconds)
                for degraded_up in (True, False):
                    expected = painted.uptime(now, window, degraded_up)
                    got = history.uptime("api", now, window, degraded_up)
                    if expected is None:
                        assert got is None
                    else:
                        assert got is not None and abs(got - expected) <= 1e-6, (now, window, got, expected)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    outages=st.lists(st.tuples(st.integers(0, 95 * 86400), st.integers(1, 20000), st.sampled_from(
        [CheckStatus.DOWN, CheckStatus.DEGRADED, CheckStatus.MAINTENANCE, CheckStatus.NO_DATA])), max_size=12),
    end=st.integers(90 * 86400, 96 * 86400),
)
def test_30_and_90_day_windows_equal_brute_force(outages, end):
    """Hourly checks for 96 days (hold two hours), with outages, bursts and gaps; every published window."""
    hold = hold_for(3600)
    checks = []
    for hour in range(96 * 24):
        moment = hour * 3600
        status = CheckStatus.UP
        for start, length, kind in outages:
            if start <= moment < start + length:
                status = kind
        if hour % 200 == 7:
            continue  # a missed run
        checks.append(Check("api", T0 + timedelta(seconds=moment), status, latency_ms=20.0))
        if status is CheckStatus.DOWN:  # verification burst: every 5 s for a minute
            checks.extend(Check("api", T0 + timedelta(seconds=moment + 5 * i), status) for i in range(1, 13))
    painted = Painted(T0, timedelta(days=97), checks, hold)
    with tempfile.TemporaryDirectory() as folder:
        history = History(folder, retention_days=3650, hold=hold)
        for day in range(0, len(checks), 500):
            history.record(checks[day:day + 500])
        now = T0 + timedelta(seconds=end)
        for days in (1, 7, 30, 90):
            expected = painted.uptime(now, timedelta(days=days))
            got = history.uptime("api", now, timedelta(days=days))
            assert (got is None and expected is None) or abs(got - expected) <= 1e-6, (days, got, expected)


@given(st.text())
def test_any_error_text_survives_the_line_format(text):
    line = rawlog.format_line(Check("api", T0, CheckStatus.DOWN, error=text[: rawlog.MAX_ERROR]))
    assert "\n" not in line and len(line.split("\t")) == 6
    assert rawlog.parse_line("api", line).error == text[: rawlog.MAX_ERROR]
