"""How fresh a monitor's data is: how often it should be checked, and when its data goes stale.

Pure functions of configuration and data, so the site, the run and a scheduler all ask the same
question the same way. A monitor is checked every ``expected_interval`` (its own ``interval`` when
monitors get one, else GitHub's five-minute schedule); its newest check is *stale* once it is older
than ``stale_after``: ``settings.stale_after`` when set, else three intervals and at least 15 minutes.
A stale monitor shows *no data*, never its old status (issue 12).
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from generator.models import Monitor, Settings

DEFAULT_INTERVAL = 300.0  # seconds: GitHub's */5 schedule
STALE_INTERVALS = 3
STALE_AT_LEAST = 900.0  # seconds


def expected_interval(monitor: Monitor, settings: Settings) -> float:
    """Seconds between two checks of ``monitor``: its own ``interval`` when it has one, else the default."""
    own = getattr(monitor, "interval", None)
    if own:
        return float(own)
    default = getattr(settings, "interval", None)
    return float(default) if default else DEFAULT_INTERVAL


def stale_after(monitor: Monitor, settings: Settings) -> float:
    """Seconds after which a monitor's newest check no longer says how it is."""
    if settings.stale_after is not None:
        return float(settings.stale_after)
    return max(STALE_INTERVALS * expected_interval(monitor, settings), STALE_AT_LEAST)


def is_stale(last_checked: Optional[datetime], now: datetime, monitor: Monitor, settings: Settings) -> bool:
    """A monitor checked before, whose newest check is older than ``stale_after`` (never: not stale, unknown)."""
    return last_checked is not None and (now - last_checked).total_seconds() > stale_after(monitor, settings)
