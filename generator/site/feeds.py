"""Atom and RSS feeds of incidents and maintenance notices (newest first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Sequence
from xml.sax.saxutils import escape

from generator.timeutil import UTC, to_iso

FEED_ENTRIES = 50


@dataclass(frozen=True)
class FeedEntry:
    id: str  # stable, globally unique (URL or urn)
    title: str
    link: str  # absolute when the site's URL is known, else relative to the site root
    published: datetime
    updated: datetime
    html: str  # sanitized HTML summary
    category: str  # "incident" or "maintenance"


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def atom(*, title: str, feed_id: str, site_link: str, self_link: str, updated: datetime,
         entries: Sequence[FeedEntry], language: str) -> bytes:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{_attr(language)}">\n',
        f"<title>{escape(title)}</title>\n<id>{escape(feed_id)}</id>\n<updated>{to_iso(updated)}</updated>\n",
        f'<link rel="alternate" type="text/html" href="{_attr(site_link)}"/>\n',
        f'<link rel="self" type="application/atom+xml" href="{_attr(self_link)}"/>\n',
        "<author><name>statusgen</name></author>\n<generator>statusgen</generator>\n",
    ]
    for entry in entries[:FEED_ENTRIES]:
        out.append(
            "<entry>\n"
            f"<title>{escape(entry.title)}</title>\n<id>{escape(entry.id)}</id>\n"
            f'<link rel="alternate" type="text/html" href="{_attr(entry.link)}"/>\n'
            f"<published>{to_iso(entry.published)}</published>\n<updated>{to_iso(entry.updated)}</updated>\n"
            f'<category term="{_attr(entry.category)}"/>\n'
            f'<content type="html">{escape(entry.html)}</content>\n'
            "</entry>\n"
        )
    out.append("</feed>\n")
    return "".join(out).encode("utf-8")


def rss(*, title: str, description: str, site_link: str, self_link: str, updated: datetime,
        entries: Sequence[FeedEntry], language: str) -> bytes:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n',
        f"<title>{escape(title)}</title>\n<link>{escape(site_link)}</link>\n",
        f"<description>{escape(description or title)}</description>\n<language>{escape(language)}</language>\n",
        f"<lastBuildDate>{format_datetime(updated.astimezone(UTC), usegmt=True)}</lastBuildDate>\n",
        f'<atom:link href="{_attr(self_link)}" rel="self" type="application/rss+xml"/>\n',
    ]
    for entry in entries[:FEED_ENTRIES]:
        permalink = "true" if entry.id == entry.link and entry.link.startswith(("http://", "https://")) else "false"
        out.append(
            "<item>\n"
            f"<title>{escape(entry.title)}</title>\n<link>{escape(entry.link)}</link>\n"
            f'<guid isPermaLink="{permalink}">{escape(entry.id)}</guid>\n'
            f"<pubDate>{format_datetime(entry.published.astimezone(UTC), usegmt=True)}</pubDate>\n"
            f"<category>{escape(entry.category)}</category>\n"
            f"<description>{escape(entry.html)}</description>\n"
            "</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return "".join(out).encode("utf-8")
