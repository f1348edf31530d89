"""Issues written by Kener or Upptime, read as what they mean: a team moving over keeps its incidents.

Neither tool writes statusgen's marker; each says the same things its own way.

**Kener** (GitHub-backed incidents): labels ``incident``, an impact ``incident-down`` or
``incident-degraded``, a state ``investigating`` / ``identified`` / ``monitoring`` / ``resolved``, and
the monitor's tag as a bare label (``api``); the body carries ``[start_datetime:<unix seconds>]`` and,
once over, ``[end_datetime:<unix seconds>]``. Without them the incident runs from the issue's creation
to its closing.

**Upptime**: labels ``status`` and the site's slug (``api``); the title says ``🛑 API is down`` or
``⚠️ API has degraded performance``; the issue is opened when the site goes down and closed when it
is back, so it runs from ``created_at`` to ``closed_at``.

:func:`read_foreign` returns the facts, or None for an issue that is neither; the GitHub text
read-back (``text.read_incident``) applies them. Pure: issue data in, facts out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Optional

from generator.incidents import labels as L
from generator.models import Impact
from generator.timeutil import UTC, parse_iso

UPPTIME_LABEL = "status"
KENER_DOWN = "incident-down"
KENER_DEGRADED = "incident-degraded"
KENER_STATES = ("investigating", "identified", "monitoring", "resolved")
# labels that never name a monitor: Kener's and Upptime's vocabulary, statusgen's scheme, GitHub's defaults
_NOT_A_MONITOR = frozenset({
    L.INCIDENT, L.DOWN, L.DEGRADED, L.CRITICAL, L.WARNING, L.AUTOMATED, L.RESOLVED, L.MAINTENANCE,
    KENER_DOWN, KENER_DEGRADED, *KENER_STATES, "manual", UPPTIME_LABEL, "false-alarm",
    "bug", "documentation", "duplicate", "enhancement", "good first issue", "help wanted", "invalid", "question",
    "wontfix",
})
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_KENER_TIME = re.compile(r"\[(start|end)_datetime:(\d{9,11})\]")
_UPPTIME_TITLE = re.compile(r"^\W*(?P<name>.+?) (?P<what>is down|has degraded performance)\s*$")

Issue = dict[str, Any]


@dataclass(frozen=True)
class ForeignIncident:
    """What a Kener or Upptime issue says, in statusgen's terms."""

    source: str  # "kener" or "upptime"
    monitor_id: Optional[str]
    impact: Impact
    started: Optional[datetime]  # None: the issue's creation
    resolved: Optional[datetime]  # None: its closing (when closed)
    state: Optional[str] = None  # Kener's investigating / identified / monitoring / resolved


def is_listed(labels: Iterable[str]) -> bool:
    """An issue the site shows as an incident: statusgen's and Kener's ``incident``, or Upptime's ``status``."""
    names = set(labels)
    return L.INCIDENT in names or UPPTIME_LABEL in names


def _monitor(labels: Iterable[str]) -> Optional[str]:
    """The bare label that names the monitor (Kener's tag, Upptime's slug), or ``monitor:<id>``."""
    names = list(labels)
    tagged = L.monitor_of(names)
    if tagged:
        return tagged
    candidates = [n for n in names if n.lower() not in _NOT_A_MONITOR and _SLUG.match(n)]
    return candidates[0] if candidates else None


def _unix(value: str) -> Optional[datetime]:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _time(value: Any) -> Optional[datetime]:
    try:
        return parse_iso(value) if value else None
    except (TypeError, ValueError):
        return None


def kener_times(body: str | None) -> dict[str, datetime]:
    """``{"start": ..., "end": ...}`` from Kener's ``[start_datetime:…]`` / ``[end_datetime:…]`` (the first of each)."""
    found: dict[str, datetime] = {}
    for kind, value in _KENER_TIME.findall(body or ""):
        moment = _unix(value)
        if moment is not None and kind not in found:
            found[kind] = moment
    return found


def strip_kener_times(body: str) -> str:
    """The body without Kener's time tokens (the page shows the times as facts)."""
    return _KENER_TIME.sub("", body).strip()


def read_foreign(issue: Issue) -> Optional[ForeignIncident]:
    """The facts of a Kener or Upptime incident issue; None when it is neither."""
    labels = [str(name) for name in issue.get("labels") or []]
    names = {name.lower() for name in labels}
    body = issue.get("body") or ""
    times = kener_times(body)
    if L.INCIDENT in names and (names & {KENER_DOWN, KENER_DEGRADED} or times):
        if KENER_DOWN in names:
            impact = Impact.DOWN
        elif KENER_DEGRADED in names:
            impact = Impact.DEGRADED
        else:
            impact = L.impact_from(labels)
        state = next((s for s in KENER_STATES if s in names), None)
        closed = issue.get("state") == "closed"
        end = times.get("end") or (_time(issue.get("closed_at")) if closed else None)
        return ForeignIncident("kener", _monitor(labels), impact, times.get("start"), end, state)
    title = _UPPTIME_TITLE.match(str(issue.get("title") or ""))
    if UPPTIME_LABEL in names and L.INCIDENT not in names:
        impact = Impact.DEGRADED if title and title.group("what") == "has degraded performance" else Impact.DOWN
        closed = issue.get("state") == "closed"
        return ForeignIncident("upptime", _monitor(labels), impact, None,
                               _time(issue.get("closed_at")) if closed else None)
    return None
