"""Render a SiteInput into ``_site/``: pages, Statuspage-style JSON API, badges and feeds.

Deterministic: the same SiteInput gives the same bytes in every file except
``build.json``'s ``built_at`` (the wall-clock time of the build). Pages show
"data as of" ``now``, which is part of the input.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Optional, Sequence
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup, escape

from generator import __version__
from generator.models import Incident, Maintenance
from generator.secrets import mask
from generator.site import links
from generator.site.badges import Badge, latency_color, status_color, uptime_color
from generator.site.charts import Series, bucket_means, line_chart, sparkline
from generator.site.feeds import FeedEntry, atom, rss
from generator.site.i18n import HTML_LANG, SiteError, Strings, is_utc, utc_offset, zone_of
from generator.site.markup import render_markdown
from generator.site.model import BuildReport, SiteInput
from generator.site.output import SiteWriter
from generator.site.statuspage import StatuspageApi
from generator.site.theme import environment, static_files, theme_dirs
from generator.site.views import (
    DAYS_SHOWN,
    MonitorView,
    active_maintenance,
    build_monitor_views,
    format_ms,
    format_pct,
    groups_of,
    incident_end,
    maintenance_state,
    overall_status,
    sort_incidents,
    upcoming_maintenance,
)
from generator.timeutil import to_iso, utcnow

HISTORY_PER_PAGE = 20
log = logging.getLogger("statusgen.site")


@dataclass(frozen=True)
class HistoryItem:
    kind: str  # "incident" or "maintenance"
    key: str
    title: str
    start: datetime
    end: Optional[datetime]
    page: str  # site-relative path of its page
    impact: str  # "down", "degraded" or "maintenance"
    status: str  # "open", "resolved", "scheduled", "in_progress", "completed"


def _json(value: Any) -> bytes:
    # compact: json's C encoder is only used without indent (pretty-printing cost 0.5 s at 1,000 monitors)
    return (json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


class Renderer:
    def __init__(self, site: SiteInput, folders: Sequence[Path]):
        self.site = site
        self.config = site.config
        self.now = site.now
        self.strings = Strings.load(self.config.site.language, folders)
        self.zone = zone_of(self.config.site.timezone)
        self.env = environment(folders)
        self.views = build_monitor_views(site)
        self.by_id = {view.id: view for view in self.views}
        self.incidents = sort_incidents(site.incidents)
        self.maintenance = sorted(site.maintenance, key=lambda m: (m.start, m.key), reverse=True)
        self.overall = overall_status(self.views, self.incidents)
        self.base_url = self.config.site.base_url or ""
        self._dates: dict[str, str] = {}
        self._no_data = str(escape(self.strings("no_data")))
        self.incident_pages = self._unique_pages([(i.key, links.incident_page(i.key)) for i in self.incidents])
        self.maintenance_pages = self._unique_pages([(m.key, links.maintenance_page(m.key)) for m in self.maintenance])
        self.env.globals.update(
            t=self.strings,
            site=self.config.site,
            lang=HTML_LANG.get(self.strings.language, "en"),
            now=self.now,
            overall=self.overall,
            version=__version__,
            show_local=not is_utc(self.zone),
            zone_name=self.zone.key,
        )
        self.env.filters.update(
            pct=self._pct,
            ms=self._ms,
            md=render_markdown,
            masked=mask,
            date=self.strings.date,
            short_date=self.strings.short_date,
        )
        self.env.globals.update(
            when=self.when,
            duration=self.duration,
            monitor_page=lambda monitor_id: links.monitor_page(monitor_id),
            incident_page=lambda key: self.incident_pages.get(key, links.incident_page(key)),
            maintenance_page=lambda key: self.maintenance_pages.get(key, links.maintenance_page(key)),
            monitor_name=self.monitor_name,
            has_monitor=lambda monitor_id: monitor_id in self.by_id,
            segment_text=self.segment_text,
        )

    # ---------------------------------------------------------------- helpers for templates

    @staticmethod
    def _unique_pages(pairs: list[tuple[str, str]]) -> dict[str, str]:
        """Distinct keys that slug to the same folder get a numbered suffix (first come, first served)."""
        result: dict[str, str] = {}
        used: set[str] = set()
        for key, page in sorted(pairs):
            candidate, number = page, 2
            while candidate in used:
                candidate = page.replace("/index.html", f"-{number}/index.html")
                number += 1
            used.add(candidate)
            result[key] = candidate
        return result

    def _pct(self, value: Optional[float]) -> str:
        return format_pct(value) or self.strings("no_data")

    def _ms(self, value: Optional[float]) -> str:
        return format_ms(value) or self.strings("no_data")

    def when(self, moment: Optional[datetime]) -> dict[str, str]:
        """A moment in UTC and in the site's display time zone."""
        if moment is None:
            return {}
        local = moment.astimezone(self.zone)
        return {
            "iso": to_iso(moment),
            "utc": self.strings.datetime(moment) + " UTC",
            "local": self.strings.datetime(local, self.zone) + f" ({utc_offset(moment, self.zone)})",
        }

    def duration(self, start: datetime, end: Optional[datetime]) -> str:
        seconds = max(0, int(((end or self.now) - start).total_seconds()))
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        parts = [
            self.strings(f"unit.{unit}", n=value)
            for unit, value in (("d", days), ("h", hours), ("m", minutes), ("s", secs))
            if value
        ][:2]
        return self.strings("unit.sep").join(parts) if parts else self.strings("unit.s", n=0)

    def monitor_name(self, monitor_id: Optional[str]) -> str:
        if not monitor_id:
            return ""
        view = self.by_id.get(monitor_id)
        return view.monitor.name if view else monitor_id

    def segment_text(self, segment) -> str:
        t = self.strings
        span = t.short_date(segment.first) if segment.days == 1 else t(
            "bars.range", first=t.short_date(segment.first), last=t.short_date(segment.last)
        )
        if segment.uptime is None:
            state = t("maintenance") if segment.kind == "maintenance" else t("no_data")
            return f"{span}: {state}"
        return t("bars.segment", span=span, uptime=format_pct(segment.uptime), incidents=t.plural("incidents", segment.incidents))

    # ---------------------------------------------------------------- pages

    def page(self, writer: SiteWriter, path: str, template: str, **context: Any) -> None:
        root = relative = links.relative_root(path)
        if path == "404.html":
            # served for a missing URL at any depth: links must not depend on where it is shown
            root = links.base_path(self.base_url) or relative
        try:
            html = self.env.get_template(template).render(
                root=root,
                page_path=path,
                url=lambda target: root + target,
                **context,
            )
        except jinja2.TemplateSyntaxError as error:
            where = f"{error.filename or error.name or template}:{error.lineno}"
            raise SiteError(f"{where}: template error: {error.message}") from None
        except jinja2.TemplateError as error:
            raise SiteError(f"{template} (rendering {path}): template error: {error}") from None
        writer.write(path, html)

    def home(self, writer: SiteWriter) -> None:
        end = self.now.timestamp()
        sparks = {
            view.id: sparkline(
                view.latency_points,
                end - 86400.0,
                end,
                self.strings("latency.spark", median=format_ms(view.latency_median_24h) or self.strings("no_data")),
            )
            for view in self.views
        }
        self.page(
            writer,
            "index.html",
            "home.html",
            groups=groups_of(self.views),
            sparks=sparks,
            open_incidents=[i for i in self.incidents if i.is_open],
            active=active_maintenance(self.maintenance, self.now),
            upcoming=upcoming_maintenance(self.maintenance, self.now),
            recent=[i for i in self.incidents if not i.is_open][:5],
            days_shown=DAYS_SHOWN,
        )

    def monitor(self, writer: SiteWriter, view: MonitorView) -> None:
        t = self.strings
        now = self.now
        unit = t("unit.ms")
        charts = []
        # 24 h: raw checks, averaged into 10-minute buckets
        start = now - timedelta(hours=24)
        values = bucket_means(view.latency_points, start.timestamp(), now.timestamp(), 144)
        xs = [(i + 0.5) / 144 for i in range(144)]
        ticks = [(i / 4, (start + timedelta(hours=6 * i)).astimezone(self.zone).strftime("%H:%M")) for i in range(5)]
        present = [v for v in values if v is not None]
        charts.append((t("window.24h"),
            line_chart(
                [Series(t("latency.mean"), "median", values, xs)],
                ticks,
                t("chart.title_24h", name=view.monitor.name),
                t("chart.desc", median=self._ms(view.latency_median_24h), max=self._ms(max(present) if present else None))
                if present
                else t("chart.empty"),
                unit,
                chart_id="c24",
            ))
        )
        # 7 d and 30 d: the daily roll-ups' median and p95
        by_day = {r.day: r for r in view.data.days}
        for days, chart_id, every in ((7, "c7", 1), (30, "c30", 5)):
            window = [bar.day for bar in view.bars[-days:]]
            medians = [by_day[d].latency_median if d in by_day else None for d in window]
            p95 = [by_day[d].latency_p95 if d in by_day else None for d in window]
            xs = [(i + 0.5) / days for i in range(days)]
            ticks = [((i + 0.5) / days, t.short_date(window[i])) for i in range(days - 1, -1, -every)]
            known = [v for v in medians if v is not None]
            charts.append((t(f"window.{days}d"),
                line_chart(
                    [Series(t("latency.median"), "median", medians, xs), Series(t("latency.p95"), "p95", p95, xs)],
                    sorted(ticks),
                    t(f"chart.title_{days}d", name=view.monitor.name),
                    t("chart.desc_days", median=self._ms(known[len(known) // 2] if known else None), days=days)
                    if known
                    else t("chart.empty"),
                    unit,
                    chart_id=chart_id,
                ))
            )
        rows = Markup("".join(self._day_row(bar, by_day.get(bar.day)) for bar in reversed(view.bars)))
        last = view.data.recent.last_check
        self.page(
            writer,
            links.monitor_page(view.id),
            "monitor.html",
            view=view,
            charts=charts,
            rows=rows,
            last_check=last,
            badges=self.badge_names(view.id),
        )

    def _day_row(self, bar, rollup) -> str:
        """One row of a monitor's daily table; built here because 1,000 pages x 90 rows is the hot loop.

        Dates and the "no data" text are escaped once and cached; figures are digits only.
        """
        date = self._dates.get(bar.day)
        if date is None:
            date = self._dates[bar.day] = str(escape(self.strings.date(bar.day)))
        median = rollup.latency_median if rollup else None
        uptime = format_pct(bar.uptime) if bar.uptime is not None else self._no_data
        latency = format_ms(median) if median is not None else self._no_data
        return (
            f'<tr class="d-{bar.kind}"><th scope="row"><time datetime="{bar.day}">{date}</time></th>'
            f"<td>{uptime}</td><td>{bar.checks}</td><td>{rollup.down if rollup else 0}</td>"
            f"<td>{bar.incidents}</td><td>{latency}</td></tr>\n"
        )

    def incident(self, writer: SiteWriter, incident: Incident) -> None:
        entries = [(e.time, e.kind, e.text, None) for e in incident.timeline]
        comments = sorted((c for c in incident.comments if c.trusted), key=lambda c: (c.time, c.author))
        self.page(
            writer,
            self.incident_pages[incident.key],
            "incident.html",
            incident=incident,
            # only a web link is offered: a javascript: or data: URL from a backend never reaches an href
            issue_url=incident.url if (incident.url or "").startswith(("https://", "http://")) else None,
            timeline=sorted(entries, key=lambda e: e[0]),
            comments=comments,
            end=incident.resolved if not incident.is_open else None,
        )

    def maintenance_page(self, writer: SiteWriter, item: Maintenance) -> None:
        self.page(
            writer,
            self.maintenance_pages[item.key],
            "maintenance.html",
            item=item,
            state=maintenance_state(item, self.now),
            names=[self.monitor_name(m) for m in item.monitors],
        )

    def history_items(self) -> list[HistoryItem]:
        items = [
            HistoryItem("incident", i.key, i.title, i.started, incident_end(i, self.now) if not i.is_open else None,
                        self.incident_pages[i.key], i.impact.value, i.status)
            for i in self.incidents
        ]
        items += [
            HistoryItem("maintenance", m.key, m.title, m.start, m.end, self.maintenance_pages[m.key], "maintenance",
                        maintenance_state(m, self.now))
            for m in self.maintenance
        ]
        items.sort(key=lambda item: (item.start, item.kind, item.key), reverse=True)
        return items

    def history(self, writer: SiteWriter) -> None:
        items = self.history_items()
        pages = max(1, -(-len(items) // HISTORY_PER_PAGE))
        for number in range(1, pages + 1):
            chunk = items[(number - 1) * HISTORY_PER_PAGE : number * HISTORY_PER_PAGE]
            self.page(
                writer,
                links.history_page(number),
                "history.html",
                items=chunk,
                number=number,
                pages=pages,
                page_of=links.history_page,
            )

    # ---------------------------------------------------------------- machine-readable

    def badge_names(self, monitor_id: Optional[str]) -> dict[str, str]:
        folder = "badges/" if monitor_id is None else f"badges/{links.slug(monitor_id)}/"
        return {name: folder + name for name in ("status", "uptime-30d", "latency")}

    def monitor_badges(self, writer: SiteWriter, view: MonitorView) -> None:
        t = self.strings
        status = view.status
        self._badge_set(
            writer,
            view.id,
            Badge(view.monitor.name, t(f"status.{status}"), status_color(status)),
            Badge(t("badge.uptime_30d"), format_pct(view.uptime["30d"]) or t("no_data"), uptime_color(view.uptime["30d"])),
            Badge(t("badge.latency"), format_ms(view.latency_median_24h) or t("no_data"), latency_color(view.latency_median_24h)),
        )

    def badges(self, writer: SiteWriter) -> None:
        t = self.strings
        # the whole page: overall status, rolling 30-day uptime over all monitors' time, median of monitors' medians
        from generator.site.views import page_uptime as rolling_page_uptime

        page_uptime = rolling_page_uptime(self.views, self.now, 30, self.config.settings.degraded_counts_as_up)
        medians = sorted(v.latency_median_24h for v in self.views if v.latency_median_24h is not None)
        page_latency = medians[len(medians) // 2] if medians else None
        self._badge_set(
            writer,
            None,
            Badge(t("badge.status"), t(f"overall.{self.overall.key}"), status_color(self.overall.key)),
            Badge(t("badge.uptime_30d"), format_pct(page_uptime) or t("no_data"), uptime_color(page_uptime)),
            Badge(t("badge.latency"), format_ms(page_latency) or t("no_data"), latency_color(page_latency)),
        )

    def _badge_set(self, writer: SiteWriter, monitor_id: Optional[str], *badges: Badge) -> None:
        for (name, path), badge in zip(self.badge_names(monitor_id).items(), badges):
            writer.write(path + ".json", _json(badge.endpoint()))
            writer.write(path + ".svg", badge.svg())

    def api(self, writer: SiteWriter) -> StatuspageApi:
        api = StatuspageApi(
            site_title=self.config.site.title,
            base_url=self.base_url,
            time_zone=self.zone.key,
            now=self.now,
            views=self.views,
            overall=self.overall,
            incidents=self.incidents,
            maintenance=self.maintenance,
        )
        for name, document in api.documents().items():
            writer.write("api/v2/" + name, _json(document))
        writer.write("api/uptime.json", _json(api.uptime(self.config.settings.degraded_counts_as_up)))
        return api

    def feeds(self, writer: SiteWriter, api: StatuspageApi) -> None:
        t = self.strings
        entries = []
        for incident in self.incidents:
            page = self.incident_pages[incident.key]
            link = links.public_url(self.base_url, page)
            text = incident.body if not incident.timeline else "\n\n".join(e.text for e in incident.timeline)
            updated = max([incident.started] + [x for x in (incident.updated, incident.resolved) if x])
            entries.append(
                FeedEntry(
                    id=link if self.base_url else f"urn:statusgen:{api.id}:incident:{incident.key}",
                    title=f"[{t('impact.' + incident.impact.value)}] {mask(incident.title)}"
                    + (f" ({t('resolved')})" if not incident.is_open else ""),
                    link=link,
                    published=incident.started,
                    updated=updated,
                    html=str(render_markdown(text)),
                    category="incident",
                )
            )
        for item in self.maintenance:
            page = self.maintenance_pages[item.key]
            link = links.public_url(self.base_url, page)
            entries.append(
                FeedEntry(
                    id=link if self.base_url else f"urn:statusgen:{api.id}:maintenance:{item.key}",
                    title=f"[{t('maintenance')}] {mask(item.title)}",
                    link=link,
                    published=item.start,
                    updated=item.start,
                    html=str(render_markdown(item.body)),
                    category="maintenance",
                )
            )
        entries.sort(key=lambda e: (e.published, e.id), reverse=True)
        updated = max([e.updated for e in entries], default=self.now)
        home = links.public_url(self.base_url, "index.html") or "index.html"
        common = dict(title=f"{self.config.site.title}: {t('history.title')}", site_link=home, updated=updated,
                      entries=entries, language=HTML_LANG.get(t.language, "en"))
        writer.write(
            "history.atom",
            atom(feed_id=links.public_url(self.base_url, "history.atom") if self.base_url else f"urn:statusgen:{api.id}",
                 self_link=links.public_url(self.base_url, "history.atom"), **common),
        )
        writer.write(
            "history.rss",
            rss(description=self.config.site.description, self_link=links.public_url(self.base_url, "history.rss"), **common),
        )


PARALLEL_FROM = 200  # monitors; below this, forking workers costs more than it saves

_job: Any = None  # (renderer, staging folder): set just before forking, inherited by the workers


def _render_monitors(indices: list[int]) -> tuple[dict[str, int], int, int, int]:
    """In a forked worker: the pages and badges of some monitors, written straight into the staging folder."""
    renderer, staging = _job
    writer = SiteWriter.worker(staging)
    for index in indices:
        view = renderer.views[index]
        renderer.monitor(writer, view)
        renderer.monitor_badges(writer, view)
    return writer.written, writer.files, writer.pages, writer.bytes


def _monitor_workers(renderer: "Renderer", writer: SiteWriter):
    """Start forked workers for the monitor pages when there are many; None to render them here."""
    global _job
    workers = min(os.cpu_count() or 1, 4)
    if len(renderer.views) < PARALLEL_FROM or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    _job = (renderer, writer.staging)
    try:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
        count = len(renderer.views)
        chunks = [list(range(i, count, workers * 2)) for i in range(workers * 2)]
        futures = [pool.submit(_render_monitors, chunk) for chunk in chunks]  # forks now, before any writer thread
        return pool, futures
    except (OSError, RuntimeError):
        return None
    finally:
        _job = None


def _masked(value: Optional[str]) -> Optional[str]:
    return mask(value) if value else value


def without_secrets(site: SiteInput) -> SiteInput:
    """The input with secret values masked in every text the pages show from monitors.yaml.

    ``${NAME}`` may stand in a monitor's name, group or description and in the site's title
    (config resolves it everywhere); those texts reach pages, badges, the API and the feeds
    through many paths, so they are masked once, here, before any of them is built.
    """
    config = site.config
    monitors = tuple(
        dataclasses.replace(m, name=mask(m.name), group=_masked(m.group), description=_masked(m.description))
        if mask(f"{m.name}\n{m.group}\n{m.description}") != f"{m.name}\n{m.group}\n{m.description}" else m
        for m in config.monitors
    )
    page = config.site
    page = dataclasses.replace(page, title=mask(page.title), description=mask(page.description), logo=_masked(page.logo))
    return dataclasses.replace(site, config=dataclasses.replace(config, site=page, monitors=monitors))


def _local_logo(site: SiteInput, warnings: list[str]) -> SiteInput:
    """A logo on another host would be requested by every visit (the site promises none): not shown."""
    logo = site.config.site.logo
    if not logo or not (urlsplit(logo.strip()).scheme or logo.strip().startswith("//")):
        return site
    warnings.append(f"site.logo: {logo!r} is not a file of the site, so it is not shown (pages make no request "
                    f"to other hosts): put the image in site/static/ and write logo: assets/<file name>")
    log.warning("%s", warnings[-1])
    page = dataclasses.replace(site.config.site, logo=None)
    return dataclasses.replace(site, config=dataclasses.replace(site.config, site=page))


def render_site(site: SiteInput, out_dir: Path | str, *, theme_dir: Optional[Path | str] = None) -> BuildReport:
    """Write the whole site for ``site`` into ``out_dir`` (replaced as a whole at the end).

    With many monitors their pages and badges are rendered by forked workers (one per
    core) while this process writes everything else.
    """
    started = time.perf_counter()
    folders = theme_dirs(theme_dir)
    warnings: list[str] = []
    site = _local_logo(without_secrets(site), warnings)
    renderer = Renderer(site, folders)
    writer = SiteWriter(Path(out_dir))
    report = BuildReport(out_dir=Path(out_dir), overall=renderer.overall.key, warnings=warnings)
    workers = None
    try:
        workers = _monitor_workers(renderer, writer)
        renderer.home(writer)
        if workers is None:
            for view in renderer.views:
                renderer.monitor(writer, view)
                renderer.monitor_badges(writer, view)
        for incident in renderer.incidents:
            renderer.incident(writer, incident)
        for item in renderer.maintenance:
            renderer.maintenance_page(writer, item)
        renderer.history(writer)
        renderer.page(writer, "404.html", "404.html")
        renderer.badges(writer)
        api = renderer.api(writer)
        renderer.feeds(writer, api)
        for name, source in static_files(folders):
            writer.copy("assets/" + name, source)
        writer.write(".nojekyll", b"")
        writer.write(
            "build.json",
            _json({"built_at": to_iso(utcnow().replace(microsecond=0)), "data_as_of": to_iso(site.now),
                   "generator": f"statusgen {__version__}"}),
        )
        if workers is not None:
            pool, futures = workers
            try:
                for future in futures:
                    writer.merge(*future.result())
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        writer.commit()
    except BaseException:
        if workers is not None:
            workers[0].shutdown(wait=True, cancel_futures=True)
        writer.abort()
        raise
    report.pages, report.files, report.bytes = writer.pages, writer.files, writer.bytes
    report.render_seconds = time.perf_counter() - started
    report.seconds = report.render_seconds
    return report


def build_site(
    config,
    history,
    incidents,
    maintenance,
    out_dir: Path | str,
    *,
    now: Optional[datetime] = None,
    theme_dir: Optional[Path | str] = None,
) -> BuildReport:
    """Read what the site needs from ``history`` and render it with the incidents and maintenance windows."""
    from generator.site.source import collect

    started = time.perf_counter()
    site = collect(config, history, incidents, maintenance, now)
    collected = time.perf_counter()
    report = render_site(site, out_dir, theme_dir=theme_dir)
    report.collect_seconds = collected - started
    report.seconds = time.perf_counter() - started
    return report
