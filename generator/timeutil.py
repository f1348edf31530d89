"""UTC time helpers: every stored or published timestamp is aware UTC, ISO 8601 with ``Z``."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

UTC = timezone.utc

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """``2026-11-24T21:57:00Z``; refuses naive datetimes so none slips into a file."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every timestamp must be timezone-aware")
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str | datetime) -> datetime:
    """Parse an ISO 8601 timestamp; a value without offset is taken as UTC."""
    if isinstance(text, datetime):
        moment = text
    else:
        value = str(text).strip()
        if value.endswith(("Z", "z")):
            value = value[:-1] + "+00:00"
        moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_duration(value: str | int | float) -> float:
    """Seconds from ``30s``, ``5m``, ``1h``, ``2d``, ``250ms`` or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"{value!r} is negative")
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration (e.g. 30s, 5m, 1h)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def whole_seconds(seconds: float) -> int:
    """The one rounding rule for durations people read: to the nearest whole second, half up; never negative."""
    return max(0, math.floor(seconds + 0.5))


def _unit_text(unit: str, value: int) -> str:
    return f"{value}{unit}"


def format_duration(seconds: float, unit: Callable[[str, int], str] = _unit_text, sep: str = " ") -> str:
    """Human duration, ``2h 5m``, ``45s``: the only function that says a duration (trackers, notifications,
    console and site alike; the site passes its language's ``unit`` and ``sep``).

    Whole seconds by :func:`whole_seconds`, then the two largest non-zero units of d, h, m, s.
    """
    rest = whole_seconds(seconds)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [unit(name, value) for name, value in (("d", days), ("h", hours), ("m", minutes), ("s", secs)) if value]
    return sep.join(parts[:2]) if parts else unit("s", 0)


def day_of(moment: datetime) -> str:
    """The UTC calendar day of a moment, ``YYYY-MM-DD``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def duration_between(start: datetime, end: datetime) -> timedelta:
    """Non-negative duration between two aware timestamps."""
    delta = end - start
    return delta if delta > timedelta(0) else timedelta(0)
