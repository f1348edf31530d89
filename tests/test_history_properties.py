"""Properties: incremental roll-ups equal a from-scratch computation; uptime equals brute force."""

from __future__ import annotations

import math
import statistics
import tempfile
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.history import History
from generator.history import rawlog
from generator.models import Check, CheckStatus, DayRollup

UTC = timezone.utc
T0 = datetime(2026, 12, 30, 0, 0, tzinfo=UTC)  # crosses a year boundary within a few days
SPAN_MINUTES = 4 * 24 * 60

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


def reference_rollup(day: str, checks: list[Check]) -> DayRollup:
    """Written independently of generator.history.rollup, straight from the definitions."""
    count = {s: sum(1 for c in checks if c.status is s) for s in CheckStatus}
    timed = sorted(
        rawlog.round_latency(c.latency_ms)
        for c in checks
        if c.status in (CheckStatus.UP, CheckStatus.DEGRADED) and c.latency_ms is not None
    )
    figures = {}
    if timed:
        figures = dict(
            latency_min=round(timed[0], 2),
            latency_median=round(statistics.median(timed), 2),
            latency_p95=round(timed[math.ceil(0.95 * len(timed)) - 1], 2),
            latency_max=round(timed[-1], 2),
        )
    return DayRollup(
        day, len(checks), count[CheckStatus.UP], count[CheckStatus.DEGRADED], count[CheckStatus.DOWN],
        count[CheckStatus.NO_DATA], count[CheckStatus.MAINTENANCE], **figures,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(a_check, max_size=8), max_size=8))
def test_incremental_rollups_equal_a_from_scratch_computation(batches):
    with tempfile.TemporaryDirectory() as folder:
        history = History(folder, retention_days=3650)
        for batch in batches:  # batches arrive in any order, including older days after newer ones
            history.record(batch)
        everything = [c for batch in batches for c in batch]
        for monitor in ("api", "web"):
            by_day = defaultdict(list)
            for c in everything:
                if c.monitor_id == monitor:
                    by_day[c.time.strftime("%Y-%m-%d")].append(c)
            expected = [reference_rollup(day, by_day[day]) for day in sorted(by_day)]
            assert history.rollups(monitor) == expected
            assert len(history.checks(monitor, T0 - timedelta(days=1))) == sum(map(len, by_day.values()))
            for c, back in zip(
                sorted((c for c in everything if c.monitor_id == monitor), key=lambda c: c.time),
                history.checks(monitor, T0 - timedelta(days=1)),
            ):
                assert back.time == c.time and back.status is c.status and back.error == c.error


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(a_check, min_size=1, max_size=60),
    st.integers(-60, SPAN_MINUTES + 24 * 60),
    st.integers(1, SPAN_MINUTES + 2 * 24 * 60),
    st.booleans(),
)
def test_uptime_equals_brute_force_over_raw_checks(checks, now_minute, window_minutes, degraded_up):
    now = T0 + timedelta(minutes=now_minute)
    window = timedelta(minutes=window_minutes)
    with tempfile.TemporaryDirectory() as folder:
        history = History(folder, retention_days=3650)
        history.record(checks)
        inside = [c for c in checks if c.monitor_id == "api" and now - window < c.time <= now]
        good = sum(
            1 for c in inside if c.status is CheckStatus.UP or (degraded_up and c.status is CheckStatus.DEGRADED)
        )
        answered = sum(1 for c in inside if c.status in (CheckStatus.UP, CheckStatus.DEGRADED, CheckStatus.DOWN))
        expected = None if answered == 0 else 100.0 * good / answered
        got = history.uptime("api", now, window, degraded_counts_as_up=degraded_up)
        assert (got is None and expected is None) or abs(got - expected) < 1e-9


@given(st.text())
def test_any_error_text_survives_the_line_format(text):
    line = rawlog.format_line(Check("api", T0, CheckStatus.DOWN, error=text[: rawlog.MAX_ERROR]))
    assert "\n" not in line and len(line.split("\t")) == 6
    assert rawlog.parse_line("api", line).error == text[: rawlog.MAX_ERROR]
