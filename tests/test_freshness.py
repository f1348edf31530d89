"""Issue 12, item 3: stale data must not look healthy.

A real history: two monitors checked every five minutes through the morning, then nothing for
two hours. The site rebuilt then must say monitoring is delayed (banner, rows, badges, Statuspage
JSON, "last checked" from the data); once runs resume, the two hours stay *no data* in the
roll-ups the bars are drawn from and in the latency chart.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

from generator.freshness import expected_interval, is_stale, stale_after
from generator.history import History
from generator.models import Check, CheckStatus, Config, Monitor, MonitorState, Settings, Site
from generator.probes.http_spec import HttpSpec
from generator.site import build_site
from generator.site.charts import bucket_means
from generator.site.source import collect
from generator.site.views import build_monitor_views
from generator.status import step
from generator.timeutil import UTC, to_iso

START = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
LAST = START + timedelta(hours=4)  # the newest check before the gap
MONITORS = tuple(Monitor(id=name, name=name.title(), type="http", spec=HttpSpec(url="http://127.0.0.1:9/"))
                 for name in ("api", "web"))
CONFIG = Config(site=Site(title="Status"), settings=Settings(), monitors=MONITORS)


def record(history: History, states: dict[str, MonitorState], first: datetime, last: datetime) -> None:
    moment, checks = first, []
    while moment <= last:
        checks += [Check(m.id, moment, CheckStatus.UP, latency_ms=80.0) for m in MONITORS]
        moment += timedelta(minutes=5)
    history.record(checks)
    for check in checks:
        monitor = CONFIG.monitor(check.monitor_id)
        assert monitor is not None
        states[check.monitor_id], _ = step(monitor, states.get(check.monitor_id) or MonitorState(check.monitor_id),
                                           check)
    history.save_states(states)


def text_of(path: Path) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text()))


def test_the_stale_rule_reads_the_interval_through_one_function() -> None:
    monitor, settings = MONITORS[0], Settings()
    assert expected_interval(monitor, settings) == 300.0
    assert stale_after(monitor, settings) == 900.0  # three intervals, at least 15 minutes
    assert stale_after(monitor, Settings(stale_after=3600.0)) == 3600.0
    assert not is_stale(LAST, LAST + timedelta(minutes=15), monitor, settings)
    assert is_stale(LAST, LAST + timedelta(minutes=15, seconds=1), monitor, settings)
    assert not is_stale(None, LAST, monitor, settings)  # never checked: unknown, not late


def test_a_site_rebuilt_two_hours_after_the_last_check_says_monitoring_is_delayed(tmp_path: Path) -> None:
    history, states = History(tmp_path / "data"), {}
    record(history, states, START, LAST)
    now = LAST + timedelta(hours=2)
    out = tmp_path / "_site"
    build_site(CONFIG, history, [], [], out, now=now)

    home = text_of(out / "index.html")
    assert "All systems operational" not in home
    assert "Monitoring is delayed: the newest check is 2h old" in home, home
    assert "Checks are delayed: none for 2h" in home
    assert "Operational" not in home  # each row shows no data, not its old status
    assert home.count("No data") >= 2
    assert "Last checked 2h ago" in home and "Data as of" not in home
    assert to_iso(LAST) in (out / "index.html").read_text()  # the footer's time is the check's, not the build's

    for monitor in MONITORS:
        badge = json.loads((out / "badges" / monitor.id / "status.json").read_text())
        assert badge["message"] == "No data", badge
        page = text_of(out / "monitors" / monitor.id / "index.html")
        assert "Checks are delayed: none for 2h" in page

    summary = json.loads((out / "api" / "v2" / "summary.json").read_text())
    for component in summary["components"]:
        assert component["status"] == "degraded_performance", component  # never "operational"
        assert component["description"].startswith(f"Checks delayed since {to_iso(LAST)}"), component
    assert summary["status"]["indicator"] != "none"
    assert summary["status"]["description"].startswith("Monitoring Delayed"), summary["status"]
    assert to_iso(LAST) in summary["status"]["description"]
    assert json.loads((out / "badges" / "status.json").read_text())["message"] == "Monitoring is delayed"


def test_after_runs_resume_the_gap_stays_no_data_in_bars_and_charts(tmp_path: Path) -> None:
    history, states = History(tmp_path / "data"), {}
    record(history, states, START, LAST)
    resumed = LAST + timedelta(hours=2)
    record(history, states, resumed, resumed + timedelta(minutes=30))
    now = resumed + timedelta(minutes=32)

    site = collect(CONFIG, history, [], [], now)
    [api, _] = build_monitor_views(site)
    assert not api.stale and api.status == "operational"
    [today] = [r for r in api.data.days if r.day == LAST.date().isoformat()]
    hold = 600.0  # the newest check before the gap holds one interval plus a grace, then it is no data
    gap = (resumed - LAST).total_seconds() - hold
    covered = (now - datetime(2026, 11, 24, tzinfo=UTC)).total_seconds()
    assert today.no_data_seconds == covered - (today.up_seconds + today.down_seconds + today.degraded_seconds)
    assert today.no_data_seconds >= 6 * 3600 + gap  # before 06:00 and the gap
    assert today.down_seconds == 0  # a gap is never counted as down ...
    assert api.bars[-1].uptime == 100.0  # ... nor as up: the day's bar weighs only the checked time
    lo, hi = (LAST + timedelta(seconds=hold)).timestamp(), resumed.timestamp()
    held = [(a, b) for a, b, _ in today.spans]
    midnight = datetime(2026, 11, 24, tzinfo=UTC).timestamp()
    assert not any(midnight + a < hi and midnight + b > lo for a, b in held), held  # no span covers the gap

    buckets = bucket_means(api.latency_points, (now - timedelta(hours=24)).timestamp(), now.timestamp(), 144)
    first = (now - timedelta(hours=24)).timestamp()
    in_gap = [value for index, value in enumerate(buckets)
              if LAST.timestamp() < first + index * 600 and first + (index + 1) * 600 < resumed.timestamp()]
    assert in_gap and all(value is None for value in in_gap)  # the chart breaks its line over the gap
