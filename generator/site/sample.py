"""Realistic sample data for the site's tests and benchmark (seeded, so runs repeat).

Writes through the real History: ``record`` for the raw checks of the recent
days (which also rolls those days up), and, for a long history made quickly,
the daily roll-up files of older days as History keeps them after pruning raw
checks (``rollup.RollupYear``), so a 90-day, 1,000-monitor history takes
seconds to make instead of recording 26 million checks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Optional, Sequence

from generator.models import (
    Check,
    CheckStatus,
    Comment,
    Config,
    DayRollup,
    Impact,
    Incident,
    Maintenance,
    Monitor,
    MonitorState,
    Settings,
    Site,
    State,
    TimelineEntry,
)
from generator.probes.http_spec import HttpSpec
from generator.timeutil import UTC

GROUPS = ("Core", "Edge", "Data", None)


def sample_config(count: int, *, language: str = "en", timezone: str = "Europe/Paris", base_url: str = "",
                  title: str = "Example status") -> Config:
    monitors = tuple(
        Monitor(
            id=f"svc-{index:04d}",
            name=f"Service {index}",
            type="http",
            spec=HttpSpec(url=f"http://127.0.0.1:9/{index}"),
            group=GROUPS[index % len(GROUPS)],
            description=f"Sample service number {index}." if index % 3 == 0 else None,
        )
        for index in range(count)
    )
    site = Site(title=title, description="Sample status page", base_url=base_url, timezone=timezone,
                language=language, repository="example/status")
    return Config(site=site, settings=Settings(), monitors=monitors)


@dataclass(frozen=True)
class Outage:
    monitor_id: str
    start: datetime
    end: datetime
    status: CheckStatus  # DOWN or DEGRADED


def _latency(rng: random.Random, base: float) -> float:
    return round(base * (0.8 + 0.4 * rng.random()) + (rng.random() < 0.02) * base * 3, 1)


def checks_for(monitor_id: str, start: datetime, end: datetime, cadence: timedelta, outages: Sequence[Outage],
               rng: random.Random, base: float = 80.0, gaps: Sequence[tuple[datetime, datetime]] = ()) -> list[Check]:
    """A check every ``cadence`` in [start, end), failing inside outages, missing inside gaps (no data)."""
    result = []
    moment = start
    while moment < end:
        if any(a <= moment < b for a, b in gaps):
            moment += cadence
            continue
        status = CheckStatus.UP
        for outage in outages:
            if outage.monitor_id == monitor_id and outage.start <= moment < outage.end:
                status = outage.status
        latency = None if status is CheckStatus.DOWN else _latency(rng, base * (3 if status is CheckStatus.DEGRADED else 1))
        result.append(
            Check(monitor_id=monitor_id, time=moment, status=status, latency_ms=latency,
                  code=None if status is CheckStatus.DOWN else 200,
                  error="connection refused" if status is CheckStatus.DOWN else "")
        )
        moment += cadence
    return result


def rollup_for_day(day: str, checks_per_day: int, spans: Sequence[tuple[float, float, str]], rng: random.Random,
                   base: float) -> DayRollup:
    """A whole day as History keeps it: ``spans`` (seconds after 00:00) say what held when; the
    rest of the day is up. Counts are the checks a ``checks_per_day`` cadence would have made."""
    every = 86400.0 / checks_per_day
    held = {"degraded": 0.0, "down": 0.0}
    merged: list[tuple[float, float, str]] = []
    cursor = 0.0
    for start, end, status in sorted(spans):
        start = max(start, cursor)
        if end <= start:
            continue
        if start > cursor:
            merged.append((cursor, start, "up"))
        merged.append((start, end, status))
        held[status] += end - start
        cursor = end
    if cursor < 86400.0:
        merged.append((cursor, 86400.0, "up"))
    down, degraded = (max(1, int(held[s] // every)) if held[s] else 0 for s in ("down", "degraded"))
    median = round(base * (0.95 + 0.1 * rng.random()), 2)
    return DayRollup(day=day, checks=checks_per_day, up=max(0, checks_per_day - down - degraded), degraded=degraded,
                     down=down, latency_min=round(median * 0.7, 2), latency_median=median,
                     latency_p95=round(median * 1.6, 2), latency_max=round(median * 3.5, 2),
                     up_seconds=86400.0 - held["down"] - held["degraded"], degraded_seconds=held["degraded"],
                     down_seconds=held["down"], spans=tuple(merged))


def write_old_rollups(history, monitor_id: str, rollups: Iterable[DayRollup], *, durable: bool = True) -> None:
    """Roll-ups of days whose raw checks are gone, in History's own year files."""
    from generator.history.rollup import load_year

    by_year: dict[str, list[DayRollup]] = {}
    for rollup in rollups:
        by_year.setdefault(rollup.day[:4], []).append(rollup)
    for year, items in by_year.items():
        path = history.layout.rollup_file(monitor_id, year)
        current = load_year(path, monitor_id)
        for rollup in items:
            current.days[rollup.day] = rollup
        current.save(path, durable=durable)


def fast_history(history, monitors: Sequence[Monitor], now: datetime, *, days: int = 90,
                 cadence: timedelta = timedelta(minutes=5), seed: int = 7) -> dict[str, MonitorState]:
    """A healthy ``days``-day history for every monitor, written directly in History's formats: roll-up
    year files for the older days, raw day files for yesterday and today (a check every ``cadence``
    up to ``now``), each monitor's running summary replayed from those by History itself, and the
    states. Seconds per monitor, for benchmarks of thousands of monitors (``build_sample`` records
    its raw checks one line at a time through ``History.record``). Returns the states to save."""
    from generator.history import rawlog

    rng = random.Random(seed)
    now = now.astimezone(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    per_day = int(timedelta(days=1) / cadence)
    states: dict[str, MonitorState] = {}
    for monitor in monitors:
        index = int(monitor.id.rsplit("-", 1)[-1]) if monitor.id.rsplit("-", 1)[-1].isdigit() else 0
        base = 40.0 + (index % 9) * 25.0
        old = [rollup_for_day((today - timedelta(days=offset)).date().isoformat(), per_day, (), rng, base)
               for offset in range(days - 1, 1, -1)]
        write_old_rollups(history, monitor.id, old, durable=False)
        for day_start in (today - timedelta(days=1), today):
            end = min(day_start + timedelta(days=1), now)
            checks = checks_for(monitor.id, day_start, end, cadence, (), rng, base)
            path = history.layout.raw_file(monitor.id, day_start.date().isoformat())
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join([rawlog.HEADER, *map(rawlog.format_line, checks)]) + "\n", encoding="utf-8")
        history.keeper.rebuild(monitor.id, None, write=True, durable=False)
        last = today + cadence * ((now - today) // cadence)
        last = last - cadence if last >= now else last
        states[monitor.id] = MonitorState(monitor_id=monitor.id, status=State.UP, since=today - timedelta(days=1),
                                          last_check=last)
    return states


def sample_incident(key: str, monitor_id: Optional[str], started: datetime, resolved: Optional[datetime],
                    impact: Impact = Impact.DOWN, *, url: Optional[str] = None) -> Incident:
    timeline = [TimelineEntry(started, "detected", f"Monitor **{monitor_id or 'manual'}** failed: connection refused.")]
    if resolved is not None:
        timeline.append(TimelineEntry(started + (resolved - started) / 2, "restart", "Restart requested (attempt 1)."))
        timeline.append(TimelineEntry(resolved, "resolved", f"Recovered after {int((resolved - started).total_seconds() // 60)} minutes."))
    comments = (
        Comment(author="owner", association="OWNER", time=started + timedelta(minutes=5),
                body="We are looking into it. See <https://example.org/notes>.", trusted=True),
        Comment(author="stranger", association="NONE", time=started + timedelta(minutes=6),
                body="untrusted <script>alert(1)</script>", trusted=False),
    )
    return Incident(
        key=key,
        title=f"{monitor_id or 'Service'} is {'down' if impact is Impact.DOWN else 'degraded'}",
        monitor_id=monitor_id,
        impact=impact,
        status="resolved" if resolved else "open",
        started=started,
        resolved=resolved,
        url=url,
        body="Automated incident.",
        labels=("incident", impact.value),
        timeline=tuple(timeline),
        comments=comments,
        updated=resolved or started,
    )


def build_sample(history, config: Config, now: datetime, *, seed: int = 7, raw_days: int = 2, days: int = 90,
                 cadence: timedelta = timedelta(minutes=5), incidents: int = 10, base_url: Optional[str] = None
                 ) -> tuple[list[Incident], list[Maintenance]]:
    """Fill ``history`` for every monitor of ``config`` and return matching incidents and maintenance."""
    rng = random.Random(seed)
    now = now.astimezone(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    raw_start = today - timedelta(days=raw_days - 1)
    ids = [m.id for m in config.monitors]
    # incidents spread over the 90 days; the first one is still open on the first monitor
    result: list[Incident] = []
    outages: list[Outage] = []
    for number in range(incidents):
        monitor_id = ids[(number * 7) % len(ids)] if ids else None
        if number == 0:
            started = now - timedelta(minutes=40)
            resolved = None
        else:
            started = today - timedelta(days=rng.randrange(0, days), minutes=rng.randrange(0, 1440))
            if started >= now - timedelta(hours=1):
                started = now - timedelta(hours=3)
            resolved = started + timedelta(minutes=rng.choice((10, 25, 45, 90)))
        impact = Impact.DEGRADED if number % 4 == 3 else Impact.DOWN
        url = f"https://github.com/example/status/issues/{100 + number}"
        result.append(sample_incident(str(100 + number), monitor_id, started, resolved, impact, url=url))
        if monitor_id:
            outages.append(Outage(monitor_id, started, resolved or now + timedelta(days=1),
                                  CheckStatus.DOWN if impact is Impact.DOWN else CheckStatus.DEGRADED))
    per_day = int(timedelta(days=1) / cadence)
    checks: list[Check] = []
    states: dict[str, MonitorState] = {}
    for index, monitor_id in enumerate(ids):
        base = 40.0 + (index % 9) * 25.0
        old = []
        for offset in range(days - 1, raw_days - 1, -1):
            day_start = today - timedelta(days=offset)
            if index % 5 == 4 and offset > days - 20:
                continue  # a newer monitor: no data for its first weeks
            spans = []
            for outage in outages:
                if outage.monitor_id != monitor_id:
                    continue
                first = max(outage.start, day_start)
                last = min(outage.end, day_start + timedelta(days=1))
                if last > first:
                    spans.append(((first - day_start).total_seconds(), (last - day_start).total_seconds(),
                                  outage.status.value))
            old.append(rollup_for_day(day_start.date().isoformat(), per_day, spans, rng, base))
        if old:
            write_old_rollups(history, monitor_id, old)
        # a short gap in the raw window on one monitor: no data, not "up"
        gaps = [(today - timedelta(hours=5), today - timedelta(hours=4))] if index == 1 else []
        checks.extend(checks_for(monitor_id, raw_start, now, cadence, outages, rng, base, gaps))
        open_outage = next((o for o in outages if o.monitor_id == monitor_id and o.start <= now < o.end), None)
        status = State.UP if open_outage is None else (State.DOWN if open_outage.status is CheckStatus.DOWN else State.DEGRADED)
        states[monitor_id] = MonitorState(
            monitor_id=monitor_id,
            status=status,
            since=open_outage.start if open_outage else raw_start,
            last_check=now - timedelta(minutes=1),
            incident_open=open_outage is not None,
        )
        if len(checks) > 50000:
            history.record(checks)
            checks = []
    if checks:
        history.record(checks)
    history.save_states(states)
    maintenance = [
        Maintenance(key="maint-db", title="Database upgrade", start=now - timedelta(days=3),
                    end=now - timedelta(days=3) + timedelta(hours=2), monitors=tuple(ids[:2]), body="Planned **upgrade**."),
        Maintenance(key="maint-net", title="Network work", start=now + timedelta(days=2),
                    end=now + timedelta(days=2, hours=1), monitors=(), body="All services may blip."),
    ]
    return result, maintenance


def files_tracker_incident(incidents_dir, config: Config, now: datetime) -> list[Incident]:
    """One real incident through the files backend: opened on the second monitor, escalated to nothing, resolved."""
    from generator.incidents.files import FilesTracker
    from generator.models import Transition, TransitionKind

    tracker = FilesTracker(incidents_dir)
    monitor = config.monitors[1]
    started = now - timedelta(days=1, hours=2)
    failing = Check(monitor_id=monitor.id, time=started, status=CheckStatus.DOWN, error="HTTP 503")
    key = tracker.open(monitor, Transition(TransitionKind.OPENED, monitor.id, started, Impact.DOWN, failing, started=started))
    tracker.comment(key, TimelineEntry(started + timedelta(minutes=3), "restart", "Restart webhook answered 202."))
    recovered = started + timedelta(minutes=12)
    ok = Check(monitor_id=monitor.id, time=recovered, status=CheckStatus.UP, latency_ms=50.0)
    tracker.resolve(key, monitor, Transition(TransitionKind.RESOLVED, monitor.id, recovered, Impact.DOWN, ok,
                                             started=started, incident_key=key))
    return tracker.incidents()


def demo_inputs(folder, *, count: int = 5, now: datetime, language: str = "en", timezone: str = "Europe/Paris",
                base_url: str = "", incidents: int = 12):
    """A complete, varied input for tests: (config, history, incidents, maintenance) under ``folder``."""
    from pathlib import Path

    from generator.history import History

    folder = Path(folder)
    config = sample_config(count, language=language, timezone=timezone, base_url=base_url)
    history = History(folder / "data")
    found, maintenance = build_sample(history, config, now, raw_days=3, days=90, incidents=incidents)
    found = found + files_tracker_incident(folder / "incidents", config, now)
    # a manual incident without a monitor, with hostile Markdown the site must neutralize
    found.append(
        Incident(
            key="manual-1",
            title="Payments provider delays",
            monitor_id=None,
            impact=Impact.DEGRADED,
            status="resolved",
            started=now - timedelta(days=10),
            resolved=now - timedelta(days=10) + timedelta(hours=1),
            automated=False,
            body='Provider is slow. <script>alert("x")</script> <img src="https://evil.example/x.png" onerror="alert(1)">\n\n'
                 "[click](javascript:alert(1)) and ![pic](https://evil.example/pic.png)",
            timeline=(TimelineEntry(now - timedelta(days=10), "update",
                                    "Investigating <a href=\"javascript:alert(2)\" onclick=\"x()\">link</a>"),),
            updated=now - timedelta(days=10) + timedelta(hours=1),
        )
    )
    return config, history, found, maintenance
