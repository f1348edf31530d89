"""Interface strings (one YAML file per language in the theme's ``i18n/``) and date formatting.

Month names and date patterns come from the strings file, not from the C
library's locale, so the output does not depend on the machine's LC_TIME.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Optional, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from generator.timeutil import UTC

LANGUAGES = ("en", "zh")
HTML_LANG = {"en": "en", "zh": "zh-Hans"}


class SiteError(Exception):
    """Bad site input (unknown language, time zone, broken theme file): the message names it."""


def _load(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise SiteError(f"{where}: not valid YAML: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise SiteError(f"{path}: expected a mapping of string keys to texts")
    return data


@dataclass
class Strings:
    language: str
    table: dict[str, Any]

    @classmethod
    def load(cls, language: str, theme_dirs: Sequence[Path]) -> Strings:
        """English first (every key exists), then the language, each theme folder overriding the next."""
        if language not in LANGUAGES:
            raise SiteError(f"site.language: {language!r} is not supported (choose one of: {', '.join(LANGUAGES)})")
        table: dict[str, Any] = {}
        for lang in ("en", language) if language != "en" else ("en",):
            for folder in reversed(list(theme_dirs)):  # the default theme first, overrides last
                path = folder / "i18n" / f"{lang}.yaml"
                if path.is_file():
                    table.update(_load(path))
        if not table:
            raise SiteError(f"no interface strings found in {', '.join(str(d / 'i18n') for d in theme_dirs)}")
        return cls(language=language, table=table)

    def __call__(self, key: str, **values: Any) -> str:
        text = self.table.get(key)
        if text is None:
            return key  # a missing string shows its key rather than failing the build
        text = str(text)
        if values:
            try:
                return text.format(**values)
            except (KeyError, IndexError, ValueError):
                return text
        return text

    def get(self, key: str, fallback: str) -> str:
        """The string for ``key``, or ``fallback`` (e.g. a timeline kind the theme has no word for)."""
        return str(self.table[key]) if key in self.table else fallback

    def plural(self, key: str, count: int) -> str:
        """``key.one`` / ``key.other`` with ``{n}``."""
        form = "one" if count == 1 else "other"
        return self(f"{key}.{form}", n=count)

    # ---------------------------------------------------------------- dates

    def month(self, number: int) -> str:
        months = self.table.get("months") or []
        if isinstance(months, list) and len(months) == 12:
            return str(months[number - 1])
        return f"{number:02d}"

    def date(self, moment: datetime | str) -> str:
        if isinstance(moment, str):  # YYYY-MM-DD
            year, month, day = (int(part) for part in moment.split("-"))
        else:
            year, month, day = moment.year, moment.month, moment.day
        return self("format.date", year=year, month=self.month(month), month_num=month, day=day)

    def short_date(self, day: str) -> str:
        year, month, number = (int(part) for part in day.split("-"))
        return self("format.short_date", year=year, month=self.month(month), month_num=month, day=number)

    def datetime(self, moment: datetime, zone: tzinfo | None = None) -> str:
        local = moment.astimezone(zone or UTC)
        return self("format.datetime", date=self.date(local), time=local.strftime("%H:%M"))


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise SiteError(f"site.timezone: {name!r} is not a known IANA time zone (e.g. Europe/Paris, Asia/Shanghai)") from None


def utc_offset(moment: datetime, zone: ZoneInfo) -> str:
    offset = moment.astimezone(zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def is_utc(zone: Optional[ZoneInfo]) -> bool:
    return zone is None or zone.key in ("UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu")
