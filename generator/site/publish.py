"""The machine-readable files: shields.io badges, the Statuspage-style JSON API, Atom/RSS feeds and the
maintenance calendar. Incidents read the same everywhere: each output tells the renderer's stories."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, Optional

from markupsafe import escape

from generator.models import Incident
from generator.secrets import mask
from generator.site import links
from generator.site.badges import Badge, latency_color, status_color, uptime_color
from generator.site.feeds import FeedEntry, atom, rss
from generator.site.i18n import HTML_LANG
from generator.site.ical import CalendarEvent, calendar
from generator.site.markup import plain_text, render_markdown
from generator.site.output import SiteWriter
from generator.site.statuspage import StatuspageApi
from generator.site.views import MonitorView, format_ms, format_pct
from generator.site.views import page_uptime as rolling_page_uptime

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
    page_uptime = rolling_page_uptime(renderer.views, renderer.now, 30, renderer.config.settings.degraded_counts_as_up)
    medians = sorted(v.latency_median_24h for v in renderer.views if v.latency_median_24h is not None)
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
        views=renderer.views,
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


def _entries(renderer: Renderer, api: StatuspageApi) -> list[tuple[FeedEntry, tuple[str, ...]]]:
    """Every feed entry with the monitors it concerns (empty: every monitor), newest first.

    Links are relative to the site's root when its address is unknown; ``_relink`` fixes them per feed.
    """
    t = renderer.strings
    result = []
    for incident in renderer.incidents:
        link = links.public_url(renderer.base_url, renderer.incident_pages[incident.key])
        story = renderer.stories[incident.key]
        updated = max([incident.started] + [u.time for u in story.updates])
        entry = FeedEntry(
            id=link if renderer.base_url else f"urn:statusgen:{api.id}:incident:{incident.key}",
            # the state in front, unless the tool's own title already says the incident is over
            title=mask(story.title) if not incident.is_open and renderer.narrator.is_tool_title(incident)
            else f"[{t('update.state.' + story.state)}] {mask(story.title)}",
            link=link,
            published=incident.started,
            updated=updated,
            html=_story_html(renderer, incident),
            category="incident",
        )
        monitors: tuple[str, ...] = (incident.monitor_id,) if incident.monitor_id else ("",)
        result.append((entry, monitors))
    for item in renderer.maintenance:
        link = links.public_url(renderer.base_url, renderer.maintenance_pages[item.key])
        entry = FeedEntry(
            id=link if renderer.base_url else f"urn:statusgen:{api.id}:maintenance:{item.key}",
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


def _write_feed(renderer: Renderer, writer: SiteWriter, api: StatuspageApi, paths: dict[str, str], title: str,
                entries: list[FeedEntry]) -> None:
    t = renderer.strings
    base = renderer.base_url
    if not base:  # relative links resolve against the feed's own address
        up = links.relative_root(paths["atom"])
        entries = [dataclasses.replace(e, link=up + e.link) for e in entries]
    updated = max([e.updated for e in entries], default=renderer.now)
    home = links.public_url(base, "index.html") or links.relative_root(paths["atom"]) + "index.html"
    language = HTML_LANG.get(t.language, "en")
    feed_id = links.public_url(base, paths["atom"]) if base else f"urn:statusgen:{api.id}:{paths['atom']}"
    writer.write(paths["atom"], atom(feed_id=feed_id, self_link=links.public_url(base, paths["atom"]), title=title,
                                     site_link=home, updated=updated, entries=entries, language=language))
    writer.write(paths["rss"], rss(description=renderer.config.site.description,
                                   self_link=links.public_url(base, paths["rss"]), title=title, site_link=home,
                                   updated=updated, entries=entries, language=language))


def write_feeds(renderer: Renderer, writer: SiteWriter, api: StatuspageApi) -> None:
    """The whole site's feeds, and one pair per monitor with its incidents and the maintenance that covers it."""
    t = renderer.strings
    everything = _entries(renderer, api)
    site_title = renderer.config.site.title
    _write_feed(renderer, writer, api, links.SITE_FEEDS, f"{site_title}: {t('history.title')}",
                [entry for entry, _ in everything])
    for view in renderer.views:
        mine = [entry for entry, monitors in everything if not monitors or view.id in monitors]
        _write_feed(renderer, writer, api, links.feeds_of(view.id), f"{site_title}: {view.monitor.name}", mine)


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
