"""The machine-readable files: shields.io badges, the Statuspage-style JSON API, Atom/RSS feeds and the
maintenance calendar. Incidents read the same everywhere: each output tells the renderer's stories."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from markupsafe import escape

from generator.history.uptime import uptime_percent
from generator.models import Incident, Monitor
from generator.secrets import mask
from generator.site import links
from generator.site.badges import Badge, latency_color, status_color, uptime_color
from generator.site.feeds import FeedEntry, atom, rss
from generator.site.i18n import HTML_LANG
from generator.site.ical import CalendarEvent, calendar
from generator.site.markup import plain_text, render_markdown
from generator.site.output import SiteWriter
from generator.site.statuspage import StatuspageApi, page_id
from generator.site.views import MonitorView, format_ms, format_pct

if TYPE_CHECKING:
    from generator.site.renderer import Renderer


def json_bytes(value: Any) -> bytes:
    # compact: json's C encoder is only used without indent (pretty-printing cost 0.5 s at 1,000 monitors)
    return (json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def monitor_badges(renderer: Renderer, writer: SiteWriter, view: MonitorView) -> None:
    t = renderer.strings
    status = view.status
    _badge_set(
        renderer,
        writer,
        view.id,
        Badge(view.monitor.name, t(f"status.{status}"), status_color(status)),
        Badge(t("badge.uptime_30d"), format_pct(view.uptime["30d"]) or t("no_data"), uptime_color(view.uptime["30d"])),
        Badge(t("badge.latency"), format_ms(view.latency_median_24h) or t("no_data"), latency_color(view.latency_median_24h)),
    )


def site_badges(renderer: Renderer, writer: SiteWriter) -> None:
    t = renderer.strings
    # the whole page: overall status, rolling 30-day uptime over all monitors' time, median of monitors' medians
    total = {"up": 0.0, "degraded": 0.0, "down": 0.0, "maintenance": 0.0}
    for item in renderer.listed:
        for name, seconds in item.page_seconds.items():
            total[name] += seconds
    page_uptime = uptime_percent(total, renderer.config.settings.degraded_counts_as_up)
    medians = sorted(v.latency_median_24h for v in renderer.listed if v.latency_median_24h is not None)
    page_latency = medians[len(medians) // 2] if medians else None
    _badge_set(
        renderer,
        writer,
        None,
        Badge(t("badge.status"), t(f"overall.{renderer.overall.key}"), status_color(renderer.overall.key)),
        Badge(t("badge.uptime_30d"), format_pct(page_uptime) or t("no_data"), uptime_color(page_uptime)),
        Badge(t("badge.latency"), format_ms(page_latency) or t("no_data"), latency_color(page_latency)),
    )


def _badge_set(renderer: Renderer, writer: SiteWriter, monitor_id: Optional[str], *badges: Badge) -> None:
    for (name, path), badge in zip(renderer.badge_names(monitor_id).items(), badges):
        writer.write(path + ".json", json_bytes(badge.endpoint()))
        writer.write(path + ".svg", badge.svg())


def write_api(renderer: Renderer, writer: SiteWriter) -> StatuspageApi:
    api = StatuspageApi(
        site_title=renderer.config.site.title,
        base_url=renderer.base_url,
        time_zone=renderer.zone.key,
        now=renderer.now,
        views=renderer.listed,  # type: ignore[arg-type]  # a Listed reads as a view for the API
        overall=renderer.overall,
        incidents=renderer.incidents,
        maintenance=renderer.maintenance,
        stories=renderer.stories,
    )
    for name, document in api.documents().items():
        writer.write("api/v2/" + name, json_bytes(document))
    writer.write("api/uptime.json", json_bytes(api.uptime(renderer.config.settings.degraded_counts_as_up)))
    return api


def _story_html(renderer: Renderer, incident: Incident) -> str:
    """An incident in a feed: its body, then its updates newest first (the same list as its page)."""
    t, story = renderer.strings, renderer.stories[incident.key]
    parts = [str(render_markdown(story.body))] if story.body else []
    for update in story.updates:
        head = f"{t('update.state.' + update.state)} · {renderer.clock.text(update.time)}"
        if update.author:
            head += " · " + t("update.by", author=update.author)
        parts.append(f"<p><strong>{escape(head)}</strong></p>{render_markdown(update.text)}")
    return "".join(parts)


def _entries(renderer: Renderer, api_id: str) -> list[tuple[FeedEntry, tuple[str, ...]]]:
    """Every feed entry with the monitors it concerns (empty: every monitor), newest first.

    Links are relative to the site's root when its address is unknown; ``_relink`` fixes them per feed.
    """
    t = renderer.strings
    result: list[tuple[FeedEntry, tuple[str, ...]]] = []
    for incident in renderer.incidents:
        link = links.public_url(renderer.base_url, renderer.incident_pages[incident.key])
        story = renderer.stories[incident.key]
        updated = max([incident.started] + [u.time for u in story.updates])
        entry = FeedEntry(
            id=link if renderer.base_url else f"urn:statusgen:{api_id}:incident:{incident.key}",
            # the state in front, unless the tool's own title already says the incident is over
            title=mask(story.title) if not incident.is_open and renderer.narrator.is_tool_title(incident)
            else f"[{t('update.state.' + story.state)}] {mask(story.title)}",
            link=link,
            published=incident.started,
            updated=updated,
            html=_story_html(renderer, incident),
            category="incident",
        )
        result.append((entry, (incident.monitor_id,) if incident.monitor_id else ("",)))
    for item in renderer.maintenance:
        link = links.public_url(renderer.base_url, renderer.maintenance_pages[item.key])
        entry = FeedEntry(
            id=link if renderer.base_url else f"urn:statusgen:{api_id}:maintenance:{item.key}",
            title=f"[{t('maintenance')}] {mask(item.title)}",
            link=link,
            published=item.start,
            updated=item.start,
            html=str(render_markdown(item.body)),
            category="maintenance",
        )
        result.append((entry, item.monitors))
    result.sort(key=lambda pair: (pair[0].published, pair[0].id), reverse=True)
    return result


def _write_feed(renderer: Renderer, writer: SiteWriter, api_id: str, paths: dict[str, str], title: str,
                entries: list[FeedEntry]) -> None:
    t = renderer.strings
    base = renderer.base_url
    if not base:  # relative links resolve against the feed's own address
        up = links.relative_root(paths["atom"])
        entries = [dataclasses.replace(e, link=up + e.link) for e in entries]
    updated = max([e.updated for e in entries], default=renderer.now)
    home = links.public_url(base, "index.html") or links.relative_root(paths["atom"]) + "index.html"
    common: dict[str, Any] = dict(title=title, site_link=home, updated=updated, entries=entries,
                                  language=HTML_LANG.get(t.language, "en"))
    feed_id = links.public_url(base, paths["atom"]) if base else f"urn:statusgen:{api_id}:{paths['atom']}"
    writer.write(paths["atom"], atom(feed_id=feed_id, self_link=links.public_url(base, paths["atom"]), **common))
    writer.write(paths["rss"], rss(description=renderer.config.site.description,
                                   self_link=links.public_url(base, paths["rss"]), **common))


@dataclass(frozen=True)
class FeedIndex:
    """Every feed entry, newest first, and which of them each monitor's feeds carry (made once per build:
    filtering every entry for every monitor cost monitors x incidents)."""

    api_id: str
    entries: tuple[FeedEntry, ...]
    common: tuple[int, ...]  # positions of entries about every monitor (maintenance of the whole site)
    by_monitor: dict[str, tuple[int, ...]]

    def of(self, monitor_id: str) -> list[FeedEntry]:
        mine = self.by_monitor.get(monitor_id, ())
        positions = sorted(self.common + mine) if mine and self.common else (mine or self.common)
        return [self.entries[index] for index in positions]


def feed_index(renderer: Renderer) -> FeedIndex:
    api_id = page_id(renderer.base_url, renderer.config.site.title)
    everything = _entries(renderer, api_id)
    common: list[int] = []
    by_monitor: dict[str, list[int]] = {}
    for index, (_, monitors) in enumerate(everything):
        if not monitors:
            common.append(index)
        for monitor_id in dict.fromkeys(monitors):
            by_monitor.setdefault(monitor_id, []).append(index)
    return FeedIndex(api_id, tuple(entry for entry, _ in everything), tuple(common),
                     {key: tuple(value) for key, value in by_monitor.items()})


def site_feeds(renderer: Renderer, writer: SiteWriter, index: FeedIndex) -> None:
    """The whole site's feeds."""
    title = f"{renderer.config.site.title}: {renderer.strings('history.title')}"
    _write_feed(renderer, writer, index.api_id, links.SITE_FEEDS, title, list(index.entries))


def monitor_feeds(renderer: Renderer, writer: SiteWriter, index: FeedIndex, monitor: Monitor) -> None:
    """One monitor's feeds: its incidents and the maintenance that covers it."""
    _write_feed(renderer, writer, index.api_id, links.feeds_of(monitor.id),
                f"{renderer.config.site.title}: {monitor.name}", index.of(monitor.id))


def write_calendar(renderer: Renderer, writer: SiteWriter, api: StatuspageApi) -> None:
    """Scheduled maintenance as an iCalendar feed."""
    events = []
    for item in sorted(renderer.maintenance, key=lambda m: (m.start, m.key)):
        names = ", ".join(renderer.monitor_name(m) for m in item.monitors) or renderer.strings("maint.all")
        text = plain_text(item.body, limit=2000) if item.body else ""
        description = f"{renderer.strings('maint.affects')}: {names}" + (f"\n\n{text}" if text else "")
        events.append(CalendarEvent(
            uid=f"{item.key}@{api.id}.statusgen",
            start=item.start,
            end=item.end,
            summary=mask(item.title),
            description=mask(description),
            url=links.public_url(renderer.base_url, renderer.maintenance_pages[item.key]) if renderer.base_url else "",
        ))
    name = f"{renderer.config.site.title}: {renderer.strings('subscribe.calendar')}"
    writer.write(links.CALENDAR, calendar(name, events, stamp=renderer.now))
