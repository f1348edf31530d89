"""The machine-readable files: shields.io badges, the Statuspage-style JSON API and the Atom/RSS feeds."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Optional

from generator.secrets import mask
from generator.site import links
from generator.site.badges import Badge, latency_color, status_color, uptime_color
from generator.site.feeds import FeedEntry, atom, rss
from generator.site.i18n import HTML_LANG
from generator.site.markup import render_markdown
from generator.site.output import SiteWriter
from generator.site.statuspage import StatuspageApi
from generator.site.views import MonitorView, format_ms, format_pct, uptime_of

if TYPE_CHECKING:
    from generator.site.renderer import Renderer


def json_bytes(value: Any) -> bytes:
    # compact: json's C encoder is only used without indent (pretty-printing cost 0.5 s at 1,000 monitors)
    return (json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")



def monitor_badges(renderer: "Renderer", writer: SiteWriter, view: MonitorView) -> None:
    t = renderer.strings
    status = view.status
    _badge_set(renderer, 
        writer,
        view.id,
        Badge(view.monitor.name, t(f"status.{status}"), status_color(status)),
        Badge(t("badge.uptime_30d"), format_pct(view.uptime["30d"]) or t("no_data"), uptime_color(view.uptime["30d"])),
        Badge(t("badge.latency"), format_ms(view.latency_median_24h) or t("no_data"), latency_color(view.latency_median_24h)),
    )


def site_badges(renderer: "Renderer", writer: SiteWriter) -> None:
    t = renderer.strings
    # the whole page: overall status, 30-day uptime over all checks, median of monitors' medians
    up = degraded = down = 0
    first = renderer.views[0].bars[-30].day if renderer.views else ""
    for view in renderer.views:
        for rollup in view.data.days:
            if rollup.day >= first:
                up, degraded, down = up + rollup.up, degraded + rollup.degraded, down + rollup.down
    page_uptime = uptime_of(up, degraded, down, renderer.config.settings.degraded_counts_as_up)
    medians = sorted(v.latency_median_24h for v in renderer.views if v.latency_median_24h is not None)
    page_latency = medians[len(medians) // 2] if medians else None
    _badge_set(renderer, 
        writer,
        None,
        Badge(t("badge.status"), t(f"overall.{renderer.overall.key}"), status_color(renderer.overall.key)),
        Badge(t("badge.uptime_30d"), format_pct(page_uptime) or t("no_data"), uptime_color(page_uptime)),
        Badge(t("badge.latency"), format_ms(page_latency) or t("no_data"), latency_color(page_latency)),
    )


def _badge_set(renderer: "Renderer", writer: SiteWriter, monitor_id: Optional[str], *badges: Badge) -> None:
    for (name, path), badge in zip(renderer.badge_names(monitor_id).items(), badges):
        writer.write(path + ".json", json_bytes(badge.endpoint()))
        writer.write(path + ".svg", badge.svg())


def write_api(renderer: "Renderer", writer: SiteWriter) -> StatuspageApi:
    api = StatuspageApi(
        site_title=renderer.config.site.title,
        base_url=renderer.base_url,
        time_zone=renderer.zone.key,
        now=renderer.now,
        views=renderer.views,
        overall=renderer.overall,
        incidents=renderer.incidents,
        maintenance=renderer.maintenance,
    )
    for name, document in api.documents().items():
        writer.write("api/v2/" + name, json_bytes(document))
    return api


def write_feeds(renderer: "Renderer", writer: SiteWriter, api: StatuspageApi) -> None:
    t = renderer.strings
    entries = []
    for incident in renderer.incidents:
        page = renderer.incident_pages[incident.key]
        link = links.public_url(renderer.base_url, page)
        text = incident.body if not incident.timeline else "\n\n".join(e.text for e in incident.timeline)
        updated = max([incident.started] + [x for x in (incident.updated, incident.resolved) if x])
        entries.append(
            FeedEntry(
                id=link if renderer.base_url else f"urn:statusgen:{api.id}:incident:{incident.key}",
                title=f"[{t('impact.' + incident.impact.value)}] {mask(incident.title)}"
                + (f" ({t('resolved')})" if not incident.is_open else ""),
                link=link,
                published=incident.started,
                updated=updated,
                html=str(render_markdown(text)),
                category="incident",
            )
        )
    for item in renderer.maintenance:
        page = renderer.maintenance_pages[item.key]
        link = links.public_url(renderer.base_url, page)
        entries.append(
            FeedEntry(
                id=link if renderer.base_url else f"urn:statusgen:{api.id}:maintenance:{item.key}",
                title=f"[{t('maintenance')}] {mask(item.title)}",
                link=link,
                published=item.start,
                updated=item.start,
                html=str(render_markdown(item.body)),
                category="maintenance",
            )
        )
    entries.sort(key=lambda e: (e.published, e.id), reverse=True)
    updated = max([e.updated for e in entries], default=renderer.now)
    home = links.public_url(renderer.base_url, "index.html") or "index.html"
    common = dict(title=f"{renderer.config.site.title}: {t('history.title')}", site_link=home, updated=updated,
                  entries=entries, language=HTML_LANG.get(t.language, "en"))
    writer.write(
        "history.atom",
        atom(feed_id=links.public_url(renderer.base_url, "history.atom") if renderer.base_url else f"urn:statusgen:{api.id}",
             self_link=links.public_url(renderer.base_url, "history.atom"), **common),
    )
    writer.write(
        "history.rss",
        rss(description=renderer.config.site.description, self_link=links.public_url(renderer.base_url, "history.rss"), **common),
    )
