"""Issue 12, "numbers that hold", as measured there: rolling windows, and time rather than checks."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from generator.history import History
from generator.models import Check, CheckStatus, MonitorState, State
from generator.site import build_site
from generator.site.sample import sample_config
from generator.site.source import collect
from generator.site.statuspage import StatuspageApi
from generator.site.views import build_monitor_views, format_pct, overall_status

UTC = timezone.utc
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
EVERY = timedelta(minutes=4)


def test_an_outage_6_days_22_hours_ago_counts_in_the_rolling_7_days(tmp_path):
    """Down for 4 h 12 min (2.5% of a week) starting 6 d 22 h ago: 97.50% over the rolling 7 days.

    Summing the 7 calendar days (today included) would leave most of it out: the window
    starts at now - 7 days, not at midnight six days ago.
    """
    config = sample_config(1)
    monitor = config.monitors[0].id
    history = History(tmp_path / "data")
    start, end = NOW - timedelta(days=6, hours=22), NOW - timedelta(days=6, hours=22) + timedelta(minutes=252)
    moments = [NOW - EVERY * k for k in range(8 * 360, -1, -1)]  # every 4 minutes for 8 days, up to now
    history.record([Check(monitor, t, CheckStatus.DOWN if start <= t < end else CheckStatus.UP, latency_ms=30.0)
                    for t in moments])
    history.save_states({monitor: MonitorState(monitor, State.UP, since=end, last_check=NOW)})

    assert history.uptime(monitor, NOW, timedelta(days=7)) == pytest.approx(97.50, abs=1e-9)
    calendar = [r for r in history.rollups(monitor) if r.day >= "2026-11-18"]  # 6 whole days and today
    assert sum(r.down_seconds for r in calendar) < 252 * 60 / 2  # the calendar sum misses the outage

    view = build_monitor_views(collect(config, history, [], [], NOW))[0]
    assert format_pct(view.uptime["7d"]) == "97.50%"
    assert format_pct(view.uptime["24h"]) == "100%"
    api = StatuspageApi(site_title="t", base_url="", time_zone="UTC", now=NOW, views=[view],
                        overall=overall_status([view], []), incidents=[], maintenance=[])
    assert api.uptime()["components"][0]["uptime"]["7d"] == 97.5

    # the built site publishes the same rolling figure: api/uptime.json and the 30-day badges
    build_site(config, history, [], [], tmp_path / "_site", now=NOW)
    published = json.loads((tmp_path / "_site" / "api" / "uptime.json").read_text())
    assert published["windows"] == ["24h", "7d", "30d", "90d"]
    assert published["components"][0]["id"] == monitor
    assert published["components"][0]["uptime"]["7d"] == 97.5
    thirty = history.uptime(monitor, NOW, timedelta(days=30))
    for badge in ("badges/uptime-30d.json", f"badges/{monitor}/uptime-30d.json"):
        assert json.loads((tmp_path / "_site" / badge).read_text())["message"] == format_pct(thirty)


def test_verification_probes_do_not_outweigh_time():
    """The same single-run outage, with and without a restart hook's verification probes (every 5 s
    for 60 s, all down): both are down from the failing run until the next run, 300 s of a day."""
    import tempfile

    day = NOW.replace(hour=0)
    runs = [day + timedelta(minutes=5 * k) for k in range(289)]
    failing = runs[100]
    plain = [Check("plain", t, CheckStatus.DOWN if t == failing else CheckStatus.UP, latency_ms=40.0) for t in runs]
    hooked = [Check("hooked", c.time, c.status, latency_ms=40.0) for c in plain]
    hooked += [Check("hooked", failing + timedelta(seconds=5 * i), CheckStatus.DOWN) for i in range(1, 13)]
    with tempfile.TemporaryDirectory() as folder:
        history = History(folder)
        history.record(plain)
        history.record(sorted(hooked, key=lambda c: c.time))
        now = runs[-1]
        with_hook = history.uptime("hooked", now, timedelta(hours=24))
        without = history.uptime("plain", now, timedelta(hours=24))
    assert with_hook == pytest.approx(without, abs=1e-9)
    assert without == pytest.approx(100 * (1 - 300 / 86400))  # 99.65%, not 95.68% for the hooked one
