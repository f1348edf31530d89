"""Keeps each monitor's roll-ups in step with its raw checks: incrementally, or by replaying raw.

Recording a batch (the common case) costs what the batch holds: append its lines,
read back the bytes after the open days' ``offsets`` (the new lines, plus any a killed
run left unfolded), fold them into the running summary and replace ``open.json``. A day
is written to its year file once, when the monitor's first check of a later day
closes it.

Everything else replays raw checks, the source of truth: a monitor without a
summary (new, or written by format version 1), a batch older than the newest check,
and a summary marked ``rebuild_from`` by a run killed during such a replay. A replay
from day F starts from the newest check of the raw day before F (when it still
exists), so a check at 23:58 still holds into F.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from generator.history import rawlog
from generator.history.durations import DayAcc, Timeline, day_of_ms, day_start_ms, to_ms
from generator.history.layout import Layout
from generator.history.rollup import VERSION, RollupYear, approximate_v1, load_year
from generator.history.summary import Summary, load_summary
from generator.models import Check, DayRollup
from generator.timeutil import day_of


@dataclass
class Snapshot:
    """One monitor's roll-ups as stored: closed days by year, and the running summary."""

    summary: Summary
    years: dict[str, RollupYear] = field(default_factory=dict)


class RollupKeeper:
    def __init__(self, layout: Layout, hold_of: Callable[[str], float]):
        self.layout = layout
        self.hold_of = hold_of

    # ------------------------------------------------------------------ reading

    def rows(self, monitor_id: str, since_day: str | None, now: datetime | None) -> list[DayRollup]:
        """Roll-ups from ``since_day`` on; the open days completed to ``now`` when given (the newest
        check holds until ``now``, at most its hold), else as of the newest check."""
        return self.rows_of(monitor_id, load_summary(self.layout.summary_file(monitor_id), monitor_id), since_day, now)

    def rows_of(self, monitor_id: str, summary: Summary | None, since_day: str | None,
                now: datetime | None) -> list[DayRollup]:
        """``rows`` with the running summary already read."""
        years = [load_year(self.layout.rollup_file(monitor_id, year), monitor_id)
                 for year in self._years(monitor_id, since_day, summary, now)]
        if summary is None or summary.rebuild_from or any(y.version != VERSION for y in years):
            if summary is None and not years and not self.layout.raw_days(monitor_id):
                return []
            snapshot = self.rebuild(monitor_id, summary.rebuild_from if summary else None, write=False)
            summary, years = snapshot.summary, list(snapshot.years.values())
        found = {day: rollup for year in years for day, rollup in year.days.items()}
        timeline = Timeline(self.hold_of(monitor_id), summary.last, summary.open)
        for acc in (timeline.completed(now) if now is not None else timeline.settled()[1]):
            if not acc.empty:
                found[acc.day] = acc.rollup()
        return [found[day] for day in sorted(found) if since_day is None or day >= since_day]

    def _years(self, monitor_id: str, since_day: str | None, summary: Summary | None,
               now: datetime | None) -> list[str]:
        """The year files that can hold days from ``since_day`` on: named from the calendar when the
        summary says how far the days reach (no directory listing per read), else as listed."""
        if since_day is None or summary is None or summary.last is None:
            return [year for year in self.layout.rollup_years(monitor_id) if since_day is None or year >= since_day[:4]]
        last = max(day_of_ms(summary.last[0])[:4], since_day[:4], *([] if now is None else [day_of(now)[:4]]))
        return [str(year) for year in range(int(since_day[:4]), int(last) + 1)]

    # ------------------------------------------------------------------ writing

    def record(self, monitor_id: str, checks: list[Check], *, durable: bool) -> None:
        summary = self.writable(monitor_id, durable=durable)
        by_day: dict[str, list[Check]] = defaultdict(list)
        for check in checks:
            by_day[day_of(check.time)].append(check)
        oldest = min(to_ms(check.time) for check in checks)
        if summary.last is not None and oldest < summary.last[0]:
            # older than what is folded: say so on disk first, so a kill mid-way is rebuilt next time
            first = day_of_ms(oldest)
            summary.rebuild_from = min(first, summary.rebuild_from or first)
            summary.save(self.layout.summary_file(monitor_id))
            self._append(monitor_id, by_day)
            self.rebuild(monitor_id, summary.rebuild_from, write=True, durable=durable)
            return
        self._append(monitor_id, by_day)
        self.catch_up(monitor_id, summary, max(by_day), durable=durable)

    def _append(self, monitor_id: str, by_day: dict[str, list[Check]]) -> None:
        for day in sorted(by_day):
            rawlog.append_checks(self.layout.raw_file(monitor_id, day), by_day[day])

    def writable(self, monitor_id: str, *, durable: bool = True) -> Summary:
        """The summary to record onto: replayed from raw first when missing or marked for a rebuild."""
        summary = load_summary(self.layout.summary_file(monitor_id), monitor_id)
        if summary is None or summary.rebuild_from:
            return self.rebuild(monitor_id, summary.rebuild_from if summary else None, write=True,
                                durable=durable).summary
        return summary

    def catch_up(self, monitor_id: str, summary: Summary, upto_day: str, *, durable: bool) -> Summary:
        """Fold every raw line after the summary's offsets, on days up to ``upto_day``, and save."""
        if summary.last is not None:
            first = min([*summary.offsets, day_of_ms(summary.last[0])])
        else:
            first = min(self.layout.raw_days(monitor_id) or [upto_day])
        offsets = dict(summary.offsets)
        fresh: list[Check] = []
        for day in _days(first, upto_day):
            start = summary.offsets.get(day, 0)
            checks, end = rawlog.read_checks_from(monitor_id, self.layout.raw_file(monitor_id, day), start)
            fresh.extend(checks)
            if end != start:
                offsets[day] = end
        if not fresh:
            return summary
        timeline = Timeline(self.hold_of(monitor_id), summary.last, summary.open)
        try:
            timeline.add_checks(fresh)
        except ValueError:  # lines older than the newest folded check (appended by hand?): replay
            return self.rebuild(monitor_id, day_of(min(c.time for c in fresh)), write=True, durable=durable).summary
        closed, open_days = timeline.settled()
        if closed and not self._close(monitor_id, closed, durable=durable):  # a version 1 year file
            return self.rebuild(monitor_id, None, write=True, durable=durable).summary
        return self._save(monitor_id, timeline, open_days, offsets, durable=durable)

    def _close(self, monitor_id: str, closed: Iterable[DayAcc], *, durable: bool) -> bool:
        """Write closed days into their year files; False when a year file still needs converting."""
        by_year: dict[str, list[DayAcc]] = defaultdict(list)
        for acc in closed:
            if not acc.empty:
                by_year[acc.day[:4]].append(acc)
        for year, accs in sorted(by_year.items()):
            path = self.layout.rollup_file(monitor_id, year)
            rollups = load_year(path, monitor_id)
            if rollups.version != VERSION:
                return False
            for acc in accs:
                rollups.days[acc.day] = acc.rollup()
            rollups.save(path, durable=durable)
        return True

    def _save(self, monitor_id: str, timeline: Timeline, open_days: list[DayAcc], offsets: dict[str, int],
              *, durable: bool) -> Summary:
        current = day_of_ms(timeline.last[0]) if timeline.last is not None else ""
        summary = Summary(
            monitor_id,
            last=timeline.last,
            offsets={day: size for day, size in offsets.items() if day >= current},
            open={acc.day: acc for acc in open_days if not acc.empty or acc.day == current},
        )
        summary.save(self.layout.summary_file(monitor_id), durable=durable)
        return summary

    # ------------------------------------------------------------------ replaying

    def rebuild(self, monitor_id: str, from_day: str | None, *, write: bool, durable: bool = True) -> Snapshot:
        """Replay raw checks from ``from_day`` (None: all of them; also when a year file is still
        format version 1, whose days without raw checks are converted by ``approximate_v1``)."""
        layout = self.layout
        hold = self.hold_of(monitor_id)
        years = {year: load_year(layout.rollup_file(monitor_id, year), monitor_id)
                 for year in layout.rollup_years(monitor_id)}
        raw_days = layout.raw_days(monitor_id)
        if from_day is None or any(y.version != VERSION for y in years.values()):
            from_day = raw_days[0] if raw_days else "9999-12-31"
        earlier = [day for day in raw_days if day < from_day]
        last = None
        if earlier:
            before = sorted(rawlog.read_checks(monitor_id, layout.raw_file(monitor_id, earlier[-1])), key=lambda c: c.time)
            if before:
                last = (to_ms(before[-1].time), before[-1].status.value)
        timeline = Timeline(hold, last, floor=day_start_ms(from_day) if from_day < "9999" else None)
        offsets: dict[str, int] = {}
        for day in raw_days:
            if day >= from_day:
                checks, offsets[day] = rawlog.read_checks_from(monitor_id, layout.raw_file(monitor_id, day), 0)
                timeline.add_checks(checks)
        closed, open_days = timeline.settled()
        changed = {year for year, rollups in years.items() if rollups.version != VERSION}
        for year, rollups in years.items():
            for day in [d for d in rollups.days if d >= from_day]:
                del rollups.days[day]
                changed.add(year)
            if rollups.version != VERSION:  # days before the first raw day: only counts remain
                rollups.days = {day: approximate_v1(r, hold) for day, r in rollups.days.items()}
                rollups.version = VERSION
        for acc in closed:
            if not acc.empty:
                years.setdefault(acc.day[:4], RollupYear(monitor_id)).days[acc.day] = acc.rollup()
                changed.add(acc.day[:4])
        if not write:
            current = day_of_ms(timeline.last[0]) if timeline.last is not None else ""
            summary = Summary(monitor_id, last=timeline.last,
                              offsets={d: s for d, s in offsets.items() if d >= current},
                              open={acc.day: acc for acc in open_days})
            return Snapshot(summary, years)
        for year in sorted(changed):
            years[year].save(layout.rollup_file(monitor_id, year), durable=durable)
        # the summary last: until it is replaced, a kill leaves the old one (and its rebuild mark)
        return Snapshot(self._save(monitor_id, timeline, open_days, offsets, durable=durable), years)


def _days(first: str, last: str) -> list[str]:
    """Every calendar day from ``first`` to ``last`` (usually one or two)."""
    start = datetime.strptime(first, "%Y-%m-%d")
    count = (datetime.strptime(last, "%Y-%m-%d") - start).days
    return [(start + timedelta(days=offset)).strftime("%Y-%m-%d") for offset in range(count + 1)]
