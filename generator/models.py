"""The domain: typed, immutable where it can be, shared by every room.

Configuration (Site, Settings, Monitor; each probe type's spec lives with its type), what a probe
returns (Check), what the status machine keeps (MonitorState) and emits
(Transition), what the trackers hold (Incident, Maintenance), and what the
history rolls up (DayRollup).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any, Optional


class CheckStatus(str, Enum):
    """What one probe run found."""

    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    NO_DATA = "no_data"  # the runner itself could not tell (lost its own network)
    MAINTENANCE = "maintenance"  # never produced by a probe: the run marks checks inside a window

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.value


class State(str, Enum):
    """What the status machine says a monitor is."""

    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"  # no data yet

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.value


class Impact(str, Enum):
    DOWN = "down"
    DEGRADED = "degraded"

    @property
    def severity(self) -> Severity:
        return Severity.CRITICAL if self is Impact.DOWN else Severity.WARNING


class Severity(str, Enum):
    CRITICAL = "critical"
    WARNING = "warning"


# --------------------------------------------------------------------------- config


# Each probe type declares its own spec dataclass, beside its probe (generator/probes/, listed in
# generator.probes.registry); a monitor holds whichever its type built.
ProbeSpec = Any

@dataclass(frozen=True)
class RestartSpec:
    url: str
    method: str = "POST"
    headers: tuple[tuple[str, str], ...] = ()
    body: Optional[str] = None  # template; None = the standard JSON event body
    secret: Optional[str] = None  # HMAC-SHA256 signing key
    timeout: float = 10.0
    after_failures: int = 1
    cooldown: float = 600.0
    max_attempts: int = 3
    verify_every: float = 5.0
    verify_for: float = 60.0


@dataclass(frozen=True)
class NotifyTarget:
    url: str  # an Apprise URL
    severities: tuple[str, ...] = ("critical", "warning")
    events: tuple[str, ...] = ("opened", "escalated", "resolved")


@dataclass(frozen=True)
class Monitor:
    id: str
    name: str
    type: str
    spec: ProbeSpec
    group: Optional[str] = None
    description: Optional[str] = None
    timeout: float = 10.0
    retries: int = 2
    retry_backoff: float = 0.5  # seconds before the first retry; doubles after each
    failure_threshold: int = 1
    success_threshold: int = 1
    labels: tuple[str, ...] = ()
    restart: Optional[RestartSpec] = None
    notify: tuple[NotifyTarget, ...] = ()
    regions: tuple[str, ...] = ()
    interval: Optional[float] = None  # seconds between checks in `statusgen watch` (None: settings.interval)
    line: int = 0  # line in monitors.yaml where the monitor starts, for messages

    @property
    def attempts(self) -> int:
        return 1 + self.retries


@dataclass(frozen=True)
class Canary:
    """A target that must answer for a run's failures to count (detects a runner without network)."""

    type: str = "tcp"  # "tcp" or "http"
    target: str = ""  # host:port or URL
    timeout: float = 3.0


@dataclass(frozen=True)
class Site:
    title: str = "Status"
    description: str = ""
    base_url: str = ""  # e.g. https://example.github.io/status/ ; "" = relative links only
    timezone: str = "UTC"  # display time zone (IANA name); storage is always UTC
    language: str = "en"  # "en" or "zh"
    repository: Optional[str] = None  # owner/name, for links to issues
    logo: Optional[str] = None
    collapse_groups_from: int = 200  # monitors from which the home page folds groups and each gets a page


@dataclass(frozen=True)
class Settings:
    concurrency: int = 32
    retention_days: int = 90
    degraded_counts_as_up: bool = True
    flap_window: float = 900.0  # seconds: a monitor that resolved less than this ago re-opens its incident
    canary: Optional[Canary] = None
    quorum: int = 1  # regions that must see a monitor down
    regions: tuple[str, ...] = ()
    stale_after: Optional[float] = None  # seconds; None = three expected intervals, at least 15 min (freshness)
    notify_every: float = 1800.0  # seconds: a flapping incident notifies at most this often
    interval: Optional[float] = None  # seconds: every monitor's default `interval` (None: 60 s; statusgen watch)
    publish_every: float = 300.0  # seconds: statusgen watch rebuilds the site at least this often


@dataclass(frozen=True)
class Config:
    site: Site
    settings: Settings
    monitors: tuple[Monitor, ...]
    path: str = "monitors.yaml"

    def monitor(self, monitor_id: str) -> Optional[Monitor]:
        for monitor in self.monitors:
            if monitor.id == monitor_id:
                return monitor
        return None


# --------------------------------------------------------------------------- checks and state


@dataclass(frozen=True)
class Check:
    """One monitor's result in one run (after in-run retries)."""

    monitor_id: str
    time: datetime  # aware UTC: when the first attempt started (a failure began then, not at the last retry)
    status: CheckStatus
    latency_ms: Optional[float] = None
    code: Optional[int] = None  # HTTP status code, when there is one
    error: str = ""  # short, masked
    attempts: int = 1
    details: dict[str, Any] = field(default_factory=dict)  # e.g. {"days_left": 12}
    region: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.status is CheckStatus.UP

    @property
    def failed(self) -> bool:
        return self.status in (CheckStatus.DOWN, CheckStatus.DEGRADED)


@dataclass(frozen=True)
class MonitorState:
    """What the status machine remembers about a monitor between runs."""

    monitor_id: str
    status: State = State.UNKNOWN
    since: Optional[datetime] = None  # when `status` began
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    last_check: Optional[datetime] = None
    # the open incident, if any
    incident_open: bool = False
    incident_impact: Optional[Impact] = None
    incident_started: Optional[datetime] = None
    incident_key: Optional[str] = None  # tracker id (issue number or file stem) once known
    last_resolved: Optional[datetime] = None  # for flap suppression
    last_incident_key: Optional[str] = None
    # one duration (issue 12): the open incident's first start, its earlier down intervals (flaps), and
    # while it recovers over several checks, the first good one; the same of the last incident for a flap
    incident_opened: Optional[datetime] = None
    incident_down_before: float = 0.0
    incident_flaps: int = 0
    recovering_since: Optional[datetime] = None
    last_incident_opened: Optional[datetime] = None
    last_incident_downtime: float = 0.0
    last_incident_flaps: int = 0

    def evolve(self, **changes: Any) -> MonitorState:
        return replace(self, **changes)


class TransitionKind(str, Enum):
    OPENED = "opened"
    REOPENED = "reopened"  # a flap: the last incident comes back instead of a new one
    ESCALATED = "escalated"  # degraded -> down on the same incident
    DEESCALATED = "deescalated"  # down -> degraded on the same incident
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Transition:
    kind: TransitionKind
    monitor_id: str
    time: datetime
    impact: Impact  # the incident's impact after the transition
    check: Check  # the check that caused it
    started: Optional[datetime] = None  # the start of the current down interval (the incident's, unless it flapped)
    incident_key: Optional[str] = None
    opened: Optional[datetime] = None  # the incident's first start (before any flap); None = ``started``
    down_before: float = 0.0  # seconds of the incident's down intervals before the current one (flaps)
    flaps: int = 0  # times the incident was reopened
    ended: Optional[datetime] = None  # RESOLVED: the first good check of the streak that resolved it

    @property
    def severity(self) -> Severity:
        return self.impact.severity

    @property
    def first_started(self) -> datetime:
        """The incident's start: the first failed attempt of its first failing check."""
        return self.opened or self.started or self.time

    @property
    def end(self) -> datetime:
        """The incident's end (RESOLVED): the first successful check that resolved it."""
        return self.ended or self.time

    @property
    def downtime(self) -> float:
        """Seconds down (RESOLVED): the sum of the incident's down intervals, this last one included."""
        return self.down_before + max(0.0, (self.end - (self.started or self.end)).total_seconds())


# --------------------------------------------------------------------------- incidents


@dataclass(frozen=True)
class TimelineEntry:
    time: datetime
    kind: str  # detected / escalated / deescalated / restart / recovered / resolved / comment / update
    text: str  # Markdown


@dataclass(frozen=True)
class Comment:
    author: str
    association: str  # OWNER / MEMBER / COLLABORATOR / BOT / ...
    time: datetime
    body: str  # Markdown, unsanitized: the site sanitizes
    trusted: bool = False


@dataclass(frozen=True)
class Incident:
    key: str  # tracker id: issue number as text, or the file stem
    title: str
    monitor_id: Optional[str]
    impact: Impact
    status: str  # "open" or "resolved"
    started: datetime
    resolved: Optional[datetime] = None
    automated: bool = True
    url: Optional[str] = None  # GitHub issue URL, when there is one
    body: str = ""  # Markdown
    labels: tuple[str, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    comments: tuple[Comment, ...] = ()
    updated: Optional[datetime] = None
    downtime: Optional[float] = None  # seconds down as the tracker recorded them (the sum of the down intervals)
    reopened: Optional[datetime] = None  # an open incident that flapped: the start of its current down interval

    @property
    def severity(self) -> Severity:
        return self.impact.severity

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True)
class Maintenance:
    key: str
    title: str
    start: datetime
    end: datetime
    monitors: tuple[str, ...] = ()  # empty = every monitor
    body: str = ""
    url: Optional[str] = None

    def covers(self, monitor_id: str, moment: datetime) -> bool:
        return self.start <= moment < self.end and (not self.monitors or monitor_id in self.monitors)


# --------------------------------------------------------------------------- history


# A stretch of one UTC day held by one status: (start, end) in seconds after 00:00 UTC, status value
Span = tuple[float, float, str]


@dataclass(frozen=True)
class DayRollup:
    """One monitor's UTC day: check counts, and time-weighted seconds per status (``generator.history.durations``).

    Counts say how many checks ran (the site's day table); uptime uses only the seconds.
    The five ``*_seconds`` add up to the part of the day the roll-up covers (86,400 for a
    past day). ``spans`` are the day's held stretches, merged, for windows that start
    inside the day; ``approximate`` marks a day converted from a count-only roll-up.
    """

    day: str  # YYYY-MM-DD
    checks: int = 0
    up: int = 0
    degraded: int = 0
    down: int = 0
    no_data: int = 0
    maintenance: int = 0
    latency_min: Optional[float] = None
    latency_median: Optional[float] = None
    latency_p95: Optional[float] = None
    latency_max: Optional[float] = None
    up_seconds: float = 0.0
    degraded_seconds: float = 0.0
    down_seconds: float = 0.0
    maintenance_seconds: float = 0.0
    no_data_seconds: float = 0.0
    spans: tuple[Span, ...] = ()
    approximate: bool = False
