"""Every time a page shows, in the site's display zone and named by it ("Nov 24, 2026 18:30 CET").

One rule for every page: the visible text is in ``site.timezone`` with the zone's
abbreviation; the UTC instant stays machine-readable in ``<time datetime="...Z">``
and readable on hover (the element's title) when the zone is not UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional
from zoneinfo import ZoneInfo

from generator.site.i18n import Strings, is_utc, utc_offset
from generator.timeutil import UTC, to_iso


class Clock:
    def __init__(self, strings: Strings, zone: ZoneInfo):
        self.strings = strings
        self.zone = zone
        self.is_utc = is_utc(zone)

    def abbreviation(self, moment: datetime) -> str:
        """The zone's short name at ``moment`` (CET, CEST, UTC); an offset where the zone has no letters (+03)."""
        if self.is_utc:
            return "UTC"
        name = moment.astimezone(self.zone).tzname() or ""
        return name if name.isalpha() else utc_offset(moment, self.zone)

    def text(self, moment: datetime) -> str:
        """Date and time of day in the display zone, with the zone's name."""
        return f"{self.strings.datetime(moment, self.zone)} {self.abbreviation(moment)}"

    def utc_text(self, moment: datetime) -> str:
        return f"{self.strings.datetime(moment, UTC)} UTC"

    def time_of_day(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%H:%M")

    def span_name(self, start: datetime, end: datetime) -> str:
        """The zone's name over a window ("CET", or "CEST/CET" across a daylight-saving change)."""
        first, last = self.abbreviation(start), self.abbreviation(end)
        return first if first == last else f"{first}/{last}"

    def when(self, moment: Optional[datetime]) -> dict[str, str]:
        """What a template needs for one ``<time>``: the instant, the text shown, and its UTC reading."""
        if moment is None:
            return {}
        return {"iso": to_iso(moment), "text": self.text(moment), "utc": "" if self.is_utc else self.utc_text(moment)}
