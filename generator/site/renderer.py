"""The HTML pages: one Renderer holds what every page shares (strings, clock, views, incident stories,
page paths) and renders the home, incident, maintenance, history, subscribe and 404 pages.

The monitor pages are drawn by ``monitor_page``; the machine-readable files by ``publish``;
the 404 page's address-independent head by ``notfound``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Optional, Sequence, cast

import jinja2
from markupsafe import escape

from generator import __version__
from generator.incidents.text import incident_seconds
from generator.models import Incident, Maintenance, Monitor
from generator.secrets import mask
from generator.site import home_page, links, monitor_page, notfound
from generator.site.charts import sparkline
from generator.site.clock import Clock
from generator.site.i18n import HTML_LANG, SiteError, Strings, zone_of
from generator.site.listing import Listed, listed_of, statuses_of
from generator.site.markup import plain_text, render_markdown
from generator.site.model import MonitorData, SiteInput
from generator.site.narrate import Narrator, Story, story_of
from generator.site.output import SiteWriter
from generator.site.source import HistoryMonitors
from generator.site.theme import environment
from generator.site.views import (
    DAYS_NARROW,
    DAYS_SHOWN,
    MonitorView,
    active_maintenance,
    build_monitor_views,
    format_ms,
    format_pct,
    incident_end,
    maintenance_state,
    monitor_status,
    overall_status,
    sort_incidents,
    upcoming_maintenance,
)
from generator.timeutil import format_duration

HISTORY_PER_PAGE = 20
PAGE_TEMPLATES = ("home.html", "group.html", "monitor.html", "incident.html", "maintenance.html", "history.html",
                  "subscribe.html", "404.html")


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
    seconds: float = 0.0  # how long it lasted: an incident's downtime, a maintenance window's length


class Renderer:
    """What every page shares. Monitors are not held: ``view_of`` reads one for its own pages, and
    ``listed`` collects what the pages listing many monitors show once each has been written."""

    def __init__(self, site: SiteInput, folders: Sequence[Path]):
        self.site = site
        self.config = site.config
        self.now = site.now
        self.folders = list(folders)
        self.strings = Strings.load(self.config.site.language, folders)
        self.zone = zone_of(self.config.site.timezone)
        self.clock = Clock(self.strings, self.zone)
        self.env = environment(folders)
        self.by_id: dict[str, Monitor] = {monitor.id: monitor for monitor in self.config.monitors}
        self.incidents = sort_incidents(site.incidents)
        self.incidents_of: dict[str, list[Incident]] = {}
        for incident in self.incidents:
            if incident.monitor_id:
                self.incidents_of.setdefault(incident.monitor_id, []).append(incident)
        self.maintenance = sorted(site.maintenance, key=lambda m: (m.start, m.key), reverse=True)
        self.statuses = statuses_of(site)
        self.stale = {status.monitor_id: status.stale for status in self.statuses}
        self.overall = overall_status(cast(list[MonitorView], self.statuses), self.incidents)
        self.listed: list[Listed] = []  # filled as monitors are written, in config order
        self.base_url = self.config.site.base_url or ""
        self._dates: dict[str, str] = {}
        self._no_data = str(escape(self.strings("no_data")))
        self.incident_pages = self._unique_pages([(i.key, links.incident_page(i.key)) for i in self.incidents])
        self.maintenance_pages = self._unique_pages([(m.key, links.maintenance_page(m.key)) for m in self.maintenance])
        self.narrator = Narrator(self.strings, self.clock, self.monitor_name, self.duration, self.lasted)
        self.stories: dict[str, Story] = {i.key: story_of(self.narrator, i) for i in self.incidents}
        self.env.globals.update(
            t=self.strings,
            site=self.config.site,
            lang=HTML_LANG.get(self.strings.language, "en"),
            now=self.now,
            overall=self.overall,
            version=__version__,
            repository=links.repository_url(self.config.site.repository),
            # only the 404 page without a base_url sets these (see notfound)
            base_href=None, csp=None, inline_script=None, inline_css=None, icon_href=None,
        )
        self.env.filters.update(
            pct=self._pct,
            ms=self._ms,
            md=render_markdown,
            plain=plain_text,
            masked=mask,
            date=self.strings.date,
            short_date=self.strings.short_date,
        )
        self.env.globals.update(
            when=self.clock.when,
            duration=self.duration,
            lasted=self.lasted,
            seconds_text=self.seconds_text,
            age=self.age,
            stale_names=", ".join(self.by_id[s.monitor_id].name for s in self.statuses if s.stale),
            monitor_page=lambda monitor_id: links.monitor_page(monitor_id),
            incident_page=lambda key: self.incident_pages.get(key, links.incident_page(key)),
            maintenance_page=lambda key: self.maintenance_pages.get(key, links.maintenance_page(key)),
            monitor_name=self.monitor_name,
            has_monitor=lambda monitor_id: monitor_id in self.by_id,
            segment_text=self.segment_text,
            story=lambda incident: self.stories[incident.key],
            feeds_of=links.feeds_of,
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

    def seconds_text(self, seconds: float) -> str:
        """A duration in the site's language, by the one rule (``timeutil.format_duration``)."""
        return format_duration(seconds, lambda unit, n: self.strings(f"unit.{unit}", n=n), self.strings("unit.sep"))

    def duration(self, start: datetime, end: Optional[datetime]) -> str:
        return self.seconds_text(((end or self.now) - start).total_seconds())

    def age(self, moment: Optional[datetime]) -> str:
        """How long before the build ``moment`` was ("2h 5m"), from the data's own times."""
        return self.seconds_text((self.now - moment).total_seconds()) if moment is not None else ""

    def lasted(self, incident: Incident) -> str:
        """An incident's downtime as its tracker recorded it (the sum of its down intervals), or so far."""
        return self.seconds_text(incident_seconds(incident, self.now))

    def monitor_name(self, monitor_id: Optional[str]) -> str:
        if not monitor_id:
            return ""
        monitor = self.by_id.get(monitor_id)
        return monitor.name if monitor else monitor_id

    def view_of(self, monitor: Monitor) -> MonitorView:
        """One monitor's view, its history read now (and dropped with the view)."""
        monitors = self.site.monitors
        if isinstance(monitors, HistoryMonitors):  # as of its newest check, unless late: its delay shows as of now
            data: Optional[MonitorData] = monitors.read(monitor.id, newest=not self.stale.get(monitor.id))
        else:
            data = monitors.get(monitor.id)
        as_of = data.as_of if data is not None and data.as_of is not None else self.now
        one = dataclasses.replace(
            self.site,
            config=dataclasses.replace(self.config, monitors=(monitor,)),
            now=as_of,  # windows, bars and charts as of its newest check (source.HistoryMonitors.as_of)
            monitors={} if data is None else {monitor.id: data},
            incidents=tuple(self.incidents_of.get(monitor.id, ())),
        )
        view = build_monitor_views(one)[0]
        if as_of == self.now:
            return view
        # its status as of now: a maintenance window may have begun since its newest check
        status = monitor_status(monitor.id, data, active_maintenance(self.site.maintenance, self.now), self.now)
        return view if status == view.status else dataclasses.replace(view, status=status)

    def as_of(self, view: MonitorView) -> datetime:
        return view.data.as_of or self.now

    def listed_of(self, view: MonitorView) -> Listed:
        end = self.as_of(view).timestamp()
        median = format_ms(view.latency_median_24h) or self.strings("no_data")
        spark = sparkline(view.latency_points, end - 86400.0, end, self.strings("latency.spark", median=median))
        return listed_of(view, self.now, spark)

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
        root = links.relative_root(path)
        if path == "404.html":
            # served for a missing URL at any depth: links must not depend on where it is shown
            context = {**notfound.head(self), **context}
            root = context["notfound_root"]
        compiled = self.template(template)
        try:
            html = compiled.render(root=root, page_path=path, url=lambda target: root + target, **context)
        except jinja2.TemplateSyntaxError as error:  # in a template it includes
            where = f"{error.filename or error.name or template}:{error.lineno}"
            raise SiteError(f"{where}: template error: {error.message}") from None
        except jinja2.TemplateError as error:
            raise SiteError(f"{template} (rendering {path}): template error: {error}") from None
        writer.write(path, html)

    def template(self, name: str) -> jinja2.Template:
        try:
            return self.env.get_template(name)
        except jinja2.TemplateSyntaxError as error:
            where = f"{error.filename or error.name or name}:{error.lineno}"
            raise SiteError(f"{where}: template error: {error.message}") from None
        except jinja2.TemplateError as error:
            raise SiteError(f"{name}: template error: {error}") from None

    def check_templates(self) -> None:
        """Compile every page template (and what it imports) before any file is written: a theme's
        syntax error then fails the build with the previous site untouched."""
        for name in PAGE_TEMPLATES + ("base.html", "macros.html", "monitor_list.html", "icons.html"):
            self.template(name)

    def home(self, writer: SiteWriter) -> None:
        """The home page and, on a large site, one page per group (after every monitor is listed)."""
        home_page.render(
            self,
            writer,
            open_incidents=[i for i in self.incidents if i.is_open],
            active=active_maintenance(self.maintenance, self.now),
            upcoming=upcoming_maintenance(self.maintenance, self.now),
            recent=[i for i in self.incidents if not i.is_open][:5],
            days_shown=DAYS_SHOWN,
            days_narrow=DAYS_NARROW,
        )

    def monitor(self, writer: SiteWriter, view: MonitorView) -> None:
        monitor_page.render(self, writer, view)

    def incident(self, writer: SiteWriter, incident: Incident) -> None:
        self.page(
            writer,
            self.incident_pages[incident.key],
            "incident.html",
            incident=incident,
            told=self.stories[incident.key],
            # only a web link is offered: a javascript: or data: URL from a backend never reaches an href
            issue_url=incident.url if (incident.url or "").startswith(("https://", "http://")) else None,
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
            HistoryItem("incident", i.key, self.stories[i.key].title, i.started,
                        incident_end(i, self.now) if not i.is_open else None,
                        self.incident_pages[i.key], i.impact.value, i.status, incident_seconds(i, self.now))
            for i in self.incidents
        ]
        items += [
            HistoryItem("maintenance", m.key, m.title, m.start, m.end, self.maintenance_pages[m.key], "maintenance",
                        maintenance_state(m, self.now), (m.end - m.start).total_seconds())
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

    def subscribe(self, writer: SiteWriter) -> None:
        self.page(writer, links.SUBSCRIBE_PAGE, "subscribe.html", views=self.listed,
                  public=lambda path: links.public_url(self.base_url, path))

    def badge_names(self, monitor_id: Optional[str]) -> dict[str, str]:
        folder = "badges/" if monitor_id is None else f"badges/{links.slug(monitor_id)}/"
        return {name: folder + name for name in ("status", "uptime-30d", "latency")}
