"""The label scheme shared by the incident backends: names, fixed colours, descriptions.

GitHub issues carry these as labels; the files backend writes the same names
into an incident's front matter so both read alike on the site.

GitHub refuses label names over 50 characters (422, "name is too long"), and
monitor ids may have 64. ``monitor:<id>`` is used as is when it fits; otherwise
it is ``monitor:`` + the id's first 33 characters + ``~`` + the first 8 hex digits
of the id's SHA-256: exactly 50 characters, stable across runs and versions, and
distinct for ids sharing a prefix. Such a label only *finds* issues; which monitor
an issue belongs to is read from the hidden marker in its body, never from a
shortened label (``monitor_of`` reads back only labels that hold a whole id).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from generator.models import Impact, Severity

INCIDENT = "incident"
DOWN = "down"
DEGRADED = "degraded"
CRITICAL = "critical"
WARNING = "warning"
AUTOMATED = "automated"
RESOLVED = "resolved"
MAINTENANCE = "maintenance"
MONITOR_PREFIX = "monitor:"
MAX_NAME = 50  # GitHub's limit on a label's name
_HASH_DIGITS = 8
_SHORTENED = re.compile(rf"~[0-9a-f]{{{_HASH_DIGITS}}}$")

# Labels that follow the incident's impact: replaced together on escalation.
IMPACT_LABELS = frozenset({DOWN, DEGRADED, CRITICAL, WARNING})


@dataclass(frozen=True)
class LabelSpec:
    name: str
    color: str  # 6 hex digits, no '#', as GitHub wants it
    description: str


_FIXED = {
    INCIDENT: LabelSpec(INCIDENT, "b60205", "A service incident shown on the status page"),
    DOWN: LabelSpec(DOWN, "d73a4a", "The service is down"),
    DEGRADED: LabelSpec(DEGRADED, "fbca04", "The service is degraded (slow or partially failing)"),
    CRITICAL: LabelSpec(CRITICAL, "b60205", "Severity: critical"),
    WARNING: LabelSpec(WARNING, "e99695", "Severity: warning"),
    AUTOMATED: LabelSpec(AUTOMATED, "ededed", "Opened and closed by statusgen"),
    RESOLVED: LabelSpec(RESOLVED, "0e8a16", "The incident is over"),
    MAINTENANCE: LabelSpec(MAINTENANCE, "1d76db", "A maintenance window shown on the status page"),
}
MONITOR_COLOR = "c5def5"


def monitor_label(monitor_id: str) -> str:
    """``monitor:<id>``, shortened to 50 characters with a hash of the id when it is longer."""
    name = f"{MONITOR_PREFIX}{monitor_id}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(monitor_id.encode("utf-8")).hexdigest()[:_HASH_DIGITS]
    keep = MAX_NAME - len(MONITOR_PREFIX) - 1 - _HASH_DIGITS
    return f"{MONITOR_PREFIX}{monitor_id[:keep]}~{digest}"


def is_shortened(name: str) -> bool:
    """A ``monitor:`` label that holds a shortened id (the marker says which monitor)."""
    return name.startswith(MONITOR_PREFIX) and len(name) == MAX_NAME and _SHORTENED.search(name) is not None


def monitor_of(labels: Iterable[str]) -> str | None:
    """The monitor id named by a ``monitor:<id>`` label holding a whole id, if any."""
    for name in labels:
        if name.startswith(MONITOR_PREFIX) and len(name) > len(MONITOR_PREFIX) and not is_shortened(name):
            return name[len(MONITOR_PREFIX):]
    return None


def spec(name: str) -> LabelSpec:
    """Colour and description of any label of the scheme (``monitor:<id>`` included)."""
    if name in _FIXED:
        return _FIXED[name]
    if name.startswith(MONITOR_PREFIX):
        # GitHub caps label descriptions at 100 characters.
        return LabelSpec(name, MONITOR_COLOR, f"Incidents of monitor {name[len(MONITOR_PREFIX):]}"[:100])
    raise KeyError(f"{name!r} is not a statusgen label")


def impact_labels(impact: Impact) -> tuple[str, str]:
    severity = impact.severity
    return (DOWN if impact is Impact.DOWN else DEGRADED, CRITICAL if severity is Severity.CRITICAL else WARNING)


def incident_labels(
    monitor_id: str | None,
    impact: Impact,
    *,
    automated: bool = True,
    resolved: bool = False,
    extra: Iterable[str] = (),
) -> list[str]:
    """An incident's labels in a stable order: incident, impact, severity, monitor:<id>, automated,
    resolved, then ``extra`` labels a person added (the scheme's own names in ``extra`` are dropped:
    they follow the incident's fields)."""
    labels = [INCIDENT, *impact_labels(impact)]
    if monitor_id:
        labels.append(monitor_label(monitor_id))
    if automated:
        labels.append(AUTOMATED)
    if resolved:
        labels.append(RESOLVED)
    for label in extra:
        label = str(label).strip()
        if label and label not in _FIXED and not label.startswith(MONITOR_PREFIX) and label not in labels:
            labels.append(label)
    return labels


def with_impact(labels: Iterable[str], impact: Impact) -> list[str]:
    """``labels`` with the impact and severity labels replaced by those of ``impact`` (others kept)."""
    kept = [name for name in labels if name not in IMPACT_LABELS]
    return kept + [name for name in impact_labels(impact) if name not in kept]


def impact_from(labels: Iterable[str]) -> Impact:
    """Impact read back from labels: ``down`` or ``critical`` means down, otherwise degraded."""
    names = set(labels)
    if DOWN in names or (CRITICAL in names and DEGRADED not in names):
        return Impact.DOWN
    return Impact.DEGRADED
