"""History on a real folder: round trips, formats, roll-ups, uptime, prune, bad files."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from generator import secrets
from generator.history import History, HistoryError, rawlog
from generator.models import Check, CheckStatus, DayRollup, Impact, MonitorState, State
from tests.history.reference import Painted

UTC = timezone.utc
T0 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)


def check(minutes: float, status: str = "up", latency: float | None = 50.0, monitor: str = "api", **kw) -> Check:
    return Check(monitor, T0 + timedelta(minutes=minutes), CheckStatus(status), latency_ms=latency, **kw)


@pytest.fixture
def history(tmp_path):
    return History(tmp_path / "data")


def test_round_trip_keeps_every_field_in_utc(history):
    paris = timezone(timedelta(hours=1))
    original = [
        Check("api", datetime(2026, 11, 24, 13, 0, 0, 250000, tzinfo=paris), CheckStatus.UP, 84.25, 200),
        Check("api", datetime(2026, 11, 24, 12, 5, tzinfo=UTC), CheckStatus.DOWN, None, 503, "HTTP 503",
              attempts=3, details={"days_left": 12, "note": "x"}, region="eu"),
        Check("api", datetime(2026, 11, 24, 12, 10, tzinfo=UTC), CheckStatus.NO_DATA),
        Check("api", datetime(2026, 11, 24, 12, 15, tzinfo=UTC), CheckStatus.MAINTENANCE, 1.0),
        Check("api", datetime(2026, 11, 24, 12, 20, tzinfo=UTC), CheckStatus.DEGRADED, 1234.0, 200, "slow: 1.2s"),
    ]
    history.record(original)
    back = history.checks("api", datetime(2026, 11, 24, tzinfo=UTC))
    assert [c.time for c in back] == sorted(c.time for c in original)
    assert all(c.time.utcoffset() == timedelta(0) for c in back)
    first = back[0]
    assert first.time == datetime(2026, 11, 24, 12, 0, 0, 250000, tzinfo=UTC)
    assert first.latency_ms == round(84.25, 1)  # stored at 0.1 ms precision
    assert back[1] == original[1]
    assert back[2:] == original[2:]
    text = history.layout.raw_file("api", "2026-11-24").read_text()
    assert "2026-11-24T12:00:00.250Z\tup\t" in text  # stored as UTC with Z
    assert "+01:00" not in text


def test_naive_time_is_refused_before_anything_is_written(history):
    naive = Check("api", datetime(2026, 11, 24, 12, 0), CheckStatus.UP)
    with pytest.raises(ValueError, match="timezone-aware"):
        history.record([check(0), naive])
    assert history.monitor_ids() == []


def test_errors_with_tabs_newlines_and_backslashes_stay_on_one_line(history):
    nasty = "line one\nline\ttwo\r\\n not a newline \\ end\x00\x1b[31m\u2028sep\x85"
    history.record([check(0, "down", None, error=nasty, code=500), check(5)])
    path = history.layout.raw_file("api", "2026-11-24")
    lines = path.read_text().split("\n")
    assert lines[0].startswith("# time\tstatus")
    assert len(lines) == 4 and lines[-1] == ""  # header, two checks, final newline
    assert all(len(line.split("\t")) == 6 for line in lines[1:3])
    back = history.checks("api", T0)
    assert back[0].error == nasty
    assert back[1].error == ""


def test_escape_is_reversible_for_every_control_character():
    text = "".join(chr(i) for i in range(0x20)) + "\\x41\\\\t\x7f\u2028\u2029\u00e9"
    escaped = rawlog.escape(text)
    assert "\t" not in escaped and "\n" not in escaped and "\r" not in escaped
    assert rawlog.unescape(escaped) == text


def test_secret_values_are_masked_in_raw_files(history):
    secrets.register("hunter2-token")
    try:
        history.record([check(0, "down", error="401 for token hunter2-token", details={"url": "x?k=hunter2-token"})])
    finally:
        secrets.clear()
    text = history.layout.raw_file("api", "2026-11-24").read_text()
    assert "hunter2" not in text and "***" in text


def test_torn_last_line_is_skipped_and_the_next_append_stays_separate(history):
    history.record([check(0), check(5)])
    path = history.layout.raw_file("api", "2026-11-24")
    with open(path, "ab") as handle:
        handle.write(b"2026-11-24T00:10:00Z\tup\t4")  # a write cut short by a kill
    assert [c.time.minute for c in history.checks("api", T0)] == [0, 5]
    history.record([check(15, latency=70.0)])
    back = history.checks("api", T0)
    assert [(c.time.minute, c.latency_ms) for c in back] == [(0, 50.0), (5, 50.0), (15, 70.0)]
    rollup = history.rollups("api")[0]
    assert rollup.checks == 3 and rollup.latency_max == 70.0


def test_garbage_lines_are_skipped_not_fatal(history):
    history.record([check(0)])
    path = history.layout.raw_file("api", "2026-11-24")
    with open(path, "ab") as handle:
        handle.write(b"not a check\n\xff\xfe\n2026-11-24T00:01:00Z\tbogus\t1\t\t\t\n")
    history.record([check(10)])
    assert len(history.checks("api", T0)) == 2
    assert history.rollups("api")[0].checks == 2


def test_rollups_follow_every_record_call(history):
    history.record([check(0, latency=10.0), check(5, "degraded", 300.0), check(10, "down", 9000.0)])
    history.record([check(15, "no_data", None), check(20, "maintenance", None), check(25, latency=20.0)])
    history.record([check(24 * 60 + 1, latency=5.0)])  # next day
    days = history.rollups("api")
    # each check holds until the next (5 minutes); the last of the day for its 10-minute hold, then no data
    assert days == [
        DayRollup("2026-11-24", checks=6, up=2, degraded=1, down=1, no_data=1, maintenance=1,
                  latency_min=10.0, latency_median=20.0, latency_p95=300.0, latency_max=300.0,
                  up_seconds=900.0, degraded_seconds=300.0, down_seconds=300.0, maintenance_seconds=300.0,
                  no_data_seconds=86400.0 - 1800.0,
                  spans=((0.0, 300.0, "up"), (300.0, 600.0, "degraded"), (600.0, 900.0, "down"),
                         (1200.0, 1500.0, "maintenance"), (1500.0, 2100.0, "up"))),
        # the open day, as of its newest check (00:01): no data since midnight
        DayRollup("2026-11-25", checks=1, up=1, latency_min=5.0, latency_median=5.0, latency_p95=5.0,
                  latency_max=5.0, no_data_seconds=60.0),
    ]
    assert history.rollups("api", since_day="2026-11-25") == days[1:]
    assert history.rollups("api", since_day=datetime(2026, 11, 25, 12, tzinfo=UTC)) == days[1:]


def test_rollup_file_is_json_with_a_line_per_day(history):
    history.record([check(m * 60 * 24) for m in range(3)])
    path = history.layout.rollup_file("api", "2026")
    document = json.loads(path.read_text())
    # closed days only: the newest check's day is still open, in open.json
    assert document["monitor"] == "api" and len(document["days"]) == 2 and document["version"] == 2
    assert document["columns"][0] == "day"
    assert sum(1 for line in path.read_text().splitlines() if line.lstrip().startswith('["2026-')) == 2
    summary = json.loads(history.layout.summary_file("api").read_text())
    assert [day["day"] for day in summary["open"]] == ["2026-11-26"]
    assert summary["last"] == {"status": "up", "time": "2026-11-26T00:00:00Z"}


def test_stale_rollup_after_a_kill_is_repaired_by_the_next_run(history):
    history.record([check(0)])
    # a run killed after its raw append, before the roll-up rewrite
    rawlog.append_checks(history.layout.raw_file("api", "2026-11-24"), [check(5, "down", None)])
    assert history.rollups("api")[0].checks == 1
    history.record([check(24 * 60)])  # next day's run
    assert history.rollups("api")[0].checks == 2 and history.rollups("api")[0].down == 1


def test_checks_reads_only_the_days_that_overlap(history, monkeypatch):
    history.record([check(day * 24 * 60 + 30) for day in range(10)])
    opened = []
    real = rawlog.read_checks
    monkeypatch.setattr(rawlog, "read_checks", lambda m, p, **kw: opened.append(p.name) or real(m, p, **kw))
    found = history.checks("api", T0 + timedelta(days=3), T0 + timedelta(days=5, minutes=30))
    assert [c.time.day for c in found] == [27, 28, 29]
    assert opened == ["2026-11-27.tsv", "2026-11-28.tsv", "2026-11-29.tsv"]
    # bounds are inclusive on both sides
    assert len(history.checks("api", T0 + timedelta(minutes=30), T0 + timedelta(minutes=30))) == 1


def test_monitor_ids_with_odd_characters_round_trip(history):
    history.record([check(0, monitor="web/eu..1"), check(0, monitor=".hidden"), check(0, monitor="api")])
    assert history.monitor_ids() == [".hidden", "api", "web/eu..1"]
    assert all(p.parent == history.layout.checks_dir for p in history.layout.checks_dir.iterdir())
    assert len(history.checks("web/eu..1", T0)) == 1


# ------------------------------------------------------------------ uptime


def test_uptime_counts_degraded_as_up_unless_told_and_ignores_no_data_and_maintenance(history):
    statuses = ["up"] * 6 + ["degraded"] * 2 + ["down"] * 2 + ["no_data"] * 5 + ["maintenance"] * 5
    history.record([check(i, s) for i, s in enumerate(statuses)])
    now = T0 + timedelta(hours=1)
    assert history.uptime("api", now, timedelta(hours=2)) == pytest.approx(80.0)
    assert history.uptime("api", now, timedelta(hours=2), degraded_counts_as_up=False) == pytest.approx(60.0)


def test_uptime_is_none_without_answered_checks(history):
    assert history.uptime("api", T0, timedelta(days=1)) is None
    history.record([check(0, "no_data"), check(1, "maintenance")])
    assert history.uptime("api", T0 + timedelta(hours=1), timedelta(days=1)) is None


def test_uptime_window_edges_weigh_the_time_each_check_holds(history):
    # checks every 5 minutes over three days; one down at the very start of the window
    history.record([check(5 * i, "down" if i == 288 else "up") for i in range(3 * 288)])
    now = T0 + timedelta(days=2)  # exactly midnight; window start = check 288 (down)
    # the down check holds its 5 minutes inside (now - 1 day, now]
    assert history.uptime("api", now, timedelta(days=1)) == pytest.approx(100 * 287 / 288)
    # a window that ends on the down check holds none of its time; one a minute later holds a minute
    assert history.uptime("api", T0 + timedelta(days=1), timedelta(minutes=5)) == 100.0
    assert history.uptime("api", T0 + timedelta(days=1, minutes=1), timedelta(minutes=5)) == pytest.approx(80.0)


def test_uptime_reads_no_raw_checks_and_equals_brute_force(history, monkeypatch):
    checks = [check(60 * h, "down" if h % 10 == 0 else "up") for h in range(24 * 10)]
    history.record(checks)
    now = T0 + timedelta(days=9, hours=12, minutes=30)
    opened = []
    for name in ("read_checks", "read_checks_from", "read_points"):
        real = getattr(rawlog, name)
        monkeypatch.setattr(rawlog, name, lambda *a, _real=real, **kw: opened.append(a) or _real(*a, **kw))
    got = history.uptime("api", now, timedelta(days=7))
    assert opened == []  # whole days and the partial end days come from roll-ups (their spans)
    painted = Painted(T0, timedelta(days=11), checks, 600)
    assert got == pytest.approx(painted.uptime(now, timedelta(days=7)), abs=1e-9)


def test_uptime_after_a_prune_is_still_exact(tmp_path):
    history = History(tmp_path, retention_days=2)
    checks = [check(60 * h, "down" if h < 12 else "up") for h in range(24 * 5)]
    history.record(checks)
    now = T0 + timedelta(days=4, hours=23)
    assert history.prune(now) > 0
    painted = Painted(T0 - timedelta(days=1), timedelta(days=7), checks, 600)
    # the window starts mid-day 0, whose raw file is gone: its roll-up's spans still place the time
    for window in (timedelta(days=4, hours=12), timedelta(days=4, hours=12, minutes=55), timedelta(days=5)):
        assert history.uptime("api", now, window) == pytest.approx(painted.uptime(now, window), abs=1e-9)
    assert history.rollups("api")[0].down == 12 and history.rollups("api")[0].down_seconds == 12 * 600


def test_the_newest_check_holds_until_now_at_most_its_hold(history):
    history.record([check(0, "down")])
    assert history.uptime("api", T0 + timedelta(minutes=3), timedelta(hours=1)) == 0.0
    history.record([check(3)])
    # up from minute 3 until now (7 minutes), the down check for its 3: 70%
    assert history.uptime("api", T0 + timedelta(minutes=10), timedelta(hours=1)) == pytest.approx(70.0)
    # after the hold (10 minutes), the rest is no data: the figure stays
    assert history.uptime("api", T0 + timedelta(hours=5), timedelta(hours=6)) == pytest.approx(100 * 10 / 13)
    today = history.rollups("api", now=T0 + timedelta(hours=5))[-1]
    assert (today.down_seconds, today.up_seconds, today.no_data_seconds) == (180.0, 600.0, 5 * 3600.0 - 780.0)


def test_a_check_late_in_the_day_holds_past_midnight(history):
    history.record([check(24 * 60 - 2, "down"), check(24 * 60 + 3)])
    first, second = history.rollups("api")
    assert first.down_seconds == 120.0 and second.down_seconds == 180.0
    assert second.spans[0] == (0.0, 180.0, "down")


def test_per_monitor_hold(tmp_path):
    history = History(tmp_path, hold=600, holds={"fast": 120})
    history.record([check(0, monitor="fast"), check(0, monitor="api")])
    later = T0 + timedelta(hours=1)
    assert history.rollups("fast", now=later)[0].up_seconds == 120.0
    assert history.rollups("api", now=later)[0].up_seconds == 600.0


# ------------------------------------------------------------------ prune


def test_prune_deletes_whole_days_past_retention_and_keeps_rollups(tmp_path):
    history = History(tmp_path, retention_days=3)
    history.record([check(6 * 60 * i) for i in range(4 * 10)])  # 4 checks a day for 10 days
    before = history.rollups("api")
    now = T0 + timedelta(days=9, hours=6)
    assert history.prune(now) == 4 * 6  # days 0..5 ended before now - 3 days (day 6, 06:00)
    assert history.layout.raw_days("api")[0] == "2026-11-30"
    assert history.checks("api", T0)[0].time == datetime(2026, 11, 30, tzinfo=UTC)
    assert history.rollups("api") == before
    offsets = json.loads(history.layout.summary_file("api").read_text())["offsets"]
    assert set(offsets) <= set(history.layout.raw_days("api"))
    assert history.prune(now) == 0


def test_prune_first_rolls_up_what_a_killed_run_appended(tmp_path):
    history = History(tmp_path, retention_days=1)
    history.record([check(0)])
    rawlog.append_checks(history.layout.raw_file("api", "2026-11-24"), [check(5, "down", None)])
    history.prune(T0 + timedelta(days=5))
    assert history.layout.raw_days("api") == []
    assert history.rollups("api")[0].checks == 2
    assert history.monitor_ids() == ["api"]


# ------------------------------------------------------------------ latency series


def test_latency_series_from_raw_for_short_spans(history):
    history.record([check(i, latency=float(i)) for i in range(60)])
    series = history.latency_series("api", T0, T0 + timedelta(hours=1), 4)
    assert [s for s, _ in series] == [T0 + timedelta(minutes=15 * i) for i in range(4)]
    assert [v for _, v in series] == [7.0, 22.0, 37.0, 52.0]
    empty = history.latency_series("api", T0 + timedelta(hours=2), T0 + timedelta(hours=3), 2)
    assert [v for _, v in empty] == [None, None]


def test_latency_series_from_daily_medians_for_long_spans(history):
    history.record([check(d * 24 * 60 + m, latency=float(10 * d + m)) for d in range(30) for m in range(3)])
    series = history.latency_series("api", T0, T0 + timedelta(days=30), 10)
    medians = [10 * d + 1 for d in range(30)]
    assert [v for _, v in series] == [float(medians[3 * i + 1]) for i in range(10)]


# ------------------------------------------------------------------ states and caches


def test_states_round_trip(history):
    states = {
        "api": MonitorState("api", State.DOWN, since=T0, consecutive_failures=3, last_check=T0 + timedelta(minutes=5),
                            incident_open=True, incident_impact=Impact.DOWN, incident_started=T0, incident_key="42"),
        "web": MonitorState("web"),
    }
    history.save_states(states)
    assert history.load_states() == states
    raw = json.loads(history.layout.state_file.read_text())
    assert raw["monitors"]["api"]["since"] == "2026-11-24T00:00:00Z"
    assert raw["monitors"]["api"]["status"] == "down" and raw["monitors"]["api"]["incident_impact"] == "down"


def test_missing_state_file_is_empty(history):
    assert history.load_states() == {}


@pytest.mark.parametrize(
    "content, fragment",
    [
        ('{"monitors": {"api": {"status": "up",}}}', "not valid JSON (line 1, column"),
        ('{"monitors": []}', 'expected {"monitors"'),
        ('{"monitors": {"api": {"status": "sideways"}}}', "monitors.api.status: 'sideways' is not one of"),
        ('{"monitors": {"api": {"since": "yesterday"}}}', "monitors.api.since: 'yesterday' is not an ISO 8601"),
        ('{"monitors": {"api": {"consecutive_failures": "3"}}}', "consecutive_failures: '3' is not an integer"),
    ],
)
def test_bad_state_file_is_reported_with_its_name_and_left_alone(history, content, fragment):
    path = history.layout.state_file
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(HistoryError) as info:
        history.load_states()
    assert str(path) in str(info.value) and fragment in str(info.value)
    assert path.read_text() == content


def test_broken_rollup_file_is_reported_not_overwritten(history):
    history.record([check(0), check(24 * 60)])
    path = history.layout.rollup_file("api", "2026")
    path.write_text("{broken")
    history.record([check(24 * 60 + 5)])  # the open day only touches open.json
    with pytest.raises(HistoryError, match=str(path)):
        history.record([check(2 * 24 * 60)])  # closing a day writes into the year file: refused
    assert path.read_text() == "{broken"
    with pytest.raises(HistoryError, match="not valid JSON"):
        history.rollups("api")


def test_cache_round_trip_and_names(history):
    assert history.read_json("etags", {}) == {}
    history.write_json("etags", {"/repos/o/r/issues": "W/\"abc\""})
    assert history.read_json("etags") == {"/repos/o/r/issues": "W/\"abc\""}
    assert (history.data_dir / "cache" / "etags.json").is_file()
    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(ValueError):
            history.write_json(bad, 1)
    (history.data_dir / "cache" / "broken.json").write_text("[1,")
    with pytest.raises(HistoryError, match="broken.json"):
        history.read_json("broken")


def test_checks_since_skips_earlier_lines_without_losing_same_second_ones(tmp_path):
    history = History(tmp_path)
    base = datetime(2026, 11, 23, 12, 0, 0, tzinfo=timezone.utc)
    stamps = [base - timedelta(hours=1), base, base + timedelta(milliseconds=250), base + timedelta(seconds=1)]
    history.record([Check("api", t, CheckStatus.UP, latency_ms=10.0) for t in stamps])
    since = base + timedelta(milliseconds=100)
    assert [c.time for c in history.checks("api", since)] == stamps[2:]
    assert [c.time for c in history.checks("api", base)] == stamps[1:]


def test_points_match_checks_and_give_the_newest_check(history):
    statuses = ["up", "degraded", "down", "no_data", "maintenance", "up"]
    checks = [check(m * 7.5 - 30, statuses[m % len(statuses)], latency=None if m % 5 == 0 else 10.0 + m)
              for m in range(300)]
    history.record(checks)
    since, until = T0 + timedelta(hours=2), T0 + timedelta(hours=30)
    points, newest = history.points("api", since, until)
    expected = [c for c in history.checks("api", since, until) if c.time > since]
    assert points == [(c.time.timestamp(), c.status.value, c.latency_ms) for c in expected]
    assert newest == expected[-1]
    # a window ending before the file's last line still names its own newest check
    points, newest = history.points("api", since, T0 + timedelta(hours=3))
    assert newest is not None and newest.time.timestamp() == points[-1][0]
    assert history.points("nobody", since, until) == ([], None)


# ------------------------------------------------------------------ format version 2: migration and crashes

V1_COLUMNS = ["day", "checks", "up", "degraded", "down", "no_data", "maintenance",
              "latency_min", "latency_median", "latency_p95", "latency_max"]


def write_v1(history, monitor, rows, synced=None):
    path = history.layout.rollup_file(monitor, "2026")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"columns": V1_COLUMNS, "days": rows, "monitor": monitor,
                                "synced": synced or {}, "version": 1}))
    return path


def test_version_1_rollups_are_migrated_from_raw_where_it_exists_else_approximated(history):
    # what version 1 left: raw checks of 11-24 (and its count roll-up), only a count roll-up of 11-20
    raw = [check(5 * i, "down" if i == 3 else "up") for i in range(12)]
    rawlog.append_checks(history.layout.raw_file("api", "2026-11-24"), raw)
    path = write_v1(history, "api", [
        ["2026-11-20", 288, 280, 4, 3, 1, 0, 10.0, 20.0, 30.0, 40.0],
        ["2026-11-24", 12, 11, 0, 1, 0, 0, 50.0, 50.0, 50.0, 50.0],
    ], {"2026-11-24": 999})
    # a reader converts in memory and leaves the file alone
    old, today = history.rollups("api")
    assert old.approximate and old.spans == () and (old.up_seconds, old.down_seconds) == (280 * 300.0, 3 * 300.0)
    assert old.degraded_seconds == 1200.0 and old.no_data_seconds == 86400.0 - 287 * 300.0
    assert (old.latency_median, old.checks) == (20.0, 288)
    assert not today.approximate and today.down_seconds == 300.0 and today.up_seconds == 3000.0
    assert json.loads(path.read_text())["version"] == 1
    # the next run (a writer) stores the conversion: version 2, the approximation marked in the file
    history.record([check(60)])
    document = json.loads(path.read_text())
    assert document["version"] == 2 and "synced" not in document
    rows = {row[0]: dict(zip(document["columns"], row)) for row in document["days"]}
    assert rows["2026-11-20"]["approximate"] is True and rows["2026-11-20"]["up_seconds"] == 280 * 300.0
    assert history.uptime("api", T0 + timedelta(hours=1), timedelta(hours=1)) == pytest.approx(100 * 11 / 12)


def test_a_newer_format_is_refused_and_left_untouched(history):
    history.record([check(0)])
    for path in (write_v1(history, "api", []), history.layout.summary_file("api")):
        document = json.loads(path.read_text())
        document["version"] = 3
        path.write_text(json.dumps(document))
        with pytest.raises(HistoryError, match="newer statusgen"):
            history.rollups("api")
        with pytest.raises(HistoryError, match="newer statusgen"):
            history.record([check(24 * 60 * 3)])
        assert json.loads(path.read_text())["version"] == 3
        path.unlink()


def test_a_rebuild_interrupted_by_a_kill_is_finished_by_the_next_run(history):
    history.record([check(0), check(5), check(10)])
    summary = json.loads(history.layout.summary_file("api").read_text())
    # what a run killed inside an out-of-order record leaves: the mark, then a raw line
    summary["rebuild_from"] = "2026-11-24"
    history.layout.summary_file("api").write_text(json.dumps(summary))
    rawlog.append_checks(history.layout.raw_file("api", "2026-11-24"), [check(2, "down", None)])
    assert history.rollups("api")[0].down_seconds == 180.0  # readers replay in memory
    history.record([check(15)])
    summary = json.loads(history.layout.summary_file("api").read_text())
    assert summary["rebuild_from"] is None
    day = history.rollups("api")[0]
    assert (day.checks, day.down, day.down_seconds, day.up_seconds) == (5, 1, 180.0, 720.0)


def test_a_torn_line_is_skipped_and_later_lines_still_fold(history):
    history.record([check(0)])
    with open(history.layout.raw_file("api", "2026-11-24"), "ab") as handle:
        handle.write(b"2026-11-24T00:02:00Z\tdown\t")  # a write cut short by a kill
    history.record([check(5)])
    assert history.rollups("api")[0].checks == 2
    assert history.keeper.rebuild("api", None, write=False).summary.open["2026-11-24"].to_json() == \
        json.loads(history.layout.summary_file("api").read_text())["open"][0]


def test_recording_reads_only_the_new_lines(history, monkeypatch):
    history.record([check(i) for i in range(200)])
    read = []
    real = rawlog.read_checks_from
    monkeypatch.setattr(rawlog, "read_checks_from", lambda m, p, o: read.append(o) or real(m, p, o))
    for name in ("read_checks", "read_checks_sized", "read_points"):
        monkeypatch.setattr(rawlog, name, lambda *a, **k: pytest.fail("a whole raw file was read"))
    size = history.layout.raw_file("api", "2026-11-24").stat().st_size
    history.record([check(200)])
    assert read == [size]
