"""A monitor's page: latency charts over 24 hours, 7 and 30 days, and the daily table."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from generator.site import links
from generator.site.charts import Series, bucket_means, line_chart
from generator.site.output import SiteWriter
from generator.site.views import MonitorView, format_ms, format_pct

if TYPE_CHECKING:
    from generator.site.renderer import Renderer

DAYS_OPEN = 14  # rows of the daily table shown without opening "older days"


def render(renderer: Renderer, writer: SiteWriter, view: MonitorView) -> None:
    t = renderer.strings
    now = renderer.as_of(view)  # its newest check today, or the build's now
    unit = t("unit.ms")
    charts = []
    # 24 h: raw checks, averaged into 10-minute buckets
    start = now - timedelta(hours=24)
    values = bucket_means(view.latency_points, start.timestamp(), now.timestamp(), 144)
    xs = [(i + 0.5) / 144 for i in range(144)]
    # tick labels in the display zone, the axis named by it; every other label is minor (hidden on phones)
    clock = renderer.clock
    ticks = [(i / 4, clock.time_of_day(start + timedelta(hours=6 * i)), i % 2 == 1) for i in range(5)]
    present = [v for v in values if v is not None]
    charts.append((t("window.24h"),
        line_chart(
            [Series(t("latency.mean"), "median", values, xs)],
            ticks,
            t("chart.title_24h", name=view.monitor.name),
            t("chart.desc", median=renderer._ms(view.latency_median_24h), max=renderer._ms(max(present) if present else None))
            if present
            else t("chart.empty"),
            unit,
            chart_id="c24",
            x_title=t("chart.axis_time", zone=clock.span_name(start, now)),
        ))
    )
    # 7 d and 30 d: the daily roll-ups' median and p95
    by_day = {r.day: r for r in view.data.days}
    for days, chart_id, every in ((7, "c7", 1), (30, "c30", 5)):
        window = [bar.day for bar in view.bars[-days:]]
        medians = [by_day[d].latency_median if d in by_day else None for d in window]
        p95 = [by_day[d].latency_p95 if d in by_day else None for d in window]
        xs = [(i + 0.5) / days for i in range(days)]
        ticks = [((i + 0.5) / days, t.short_date(window[i]), n % 2 == 1)
                 for n, i in enumerate(range(days - 1, -1, -every))]
        known = [v for v in medians if v is not None]
        charts.append((t(f"window.{days}d"),
            line_chart(
                [Series(t("latency.median"), "median", medians, xs), Series(t("latency.p95"), "p95", p95, xs)],
                sorted(ticks),
                t(f"chart.title_{days}d", name=view.monitor.name),
                t("chart.desc_days", median=renderer._ms(known[len(known) // 2] if known else None), days=days)
                if known
                else t("chart.empty"),
                unit,
                chart_id=chart_id,
                x_title=t("chart.axis_days"),  # daily roll-ups are UTC days
            ))
        )
    # the last two weeks in view; the rest behind a disclosure (90 rows made a phone page 4,000 px tall)
    rows = [_day_row(renderer, bar, by_day.get(bar.day)) for bar in reversed(view.bars)]
    last = view.data.recent.last_check
    renderer.page(
        writer,
        links.monitor_page(view.id),
        "monitor.html",
        view=view,
        charts=charts,
        rows=Markup("".join(rows[:DAYS_OPEN])),
        older_rows=Markup("".join(rows[DAYS_OPEN:])),
        older_count=len(rows[DAYS_OPEN:]),
        last_check=last,
        badges=renderer.badge_names(view.id),
        now=now,  # "data as of" in the footer: what this page's data reaches
        # drawn as of its own newest check: the footer says so, not the site's newest check and its age
        **({"overall": dataclasses.replace(renderer.overall, newest_check=None)} if now != renderer.now else {}),
    )

def _day_row(renderer: Renderer, bar, rollup) -> str:
    """One row of a monitor's daily table; built here because 1,000 pages x 90 rows is the hot loop.

    Dates and the "no data" text are escaped once and cached; figures are digits only.
    """
    date = renderer._dates.get(bar.day)
    if date is None:
        date = renderer._dates[bar.day] = str(escape(renderer.strings.date(bar.day)))
    median = rollup.latency_median if rollup else None
    uptime = format_pct(bar.uptime) if bar.uptime is not None else renderer._no_data
    latency = format_ms(median) if median is not None else renderer._no_data
    return (
        f'<tr class="d-{bar.kind}"><th scope="row"><time datetime="{bar.day}">{date}</time></th>'
        f'<td>{uptime}</td><td class="opt">{bar.checks}</td><td>{rollup.down if rollup else 0}</td>'
        f"<td>{bar.incidents}</td><td>{latency}</td></tr>\n"
    )
