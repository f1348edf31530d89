"""The tracker interface: what the run asks of any incident backend.

Two implementations live beside this file: ``github`` (issues through PyGithub)
and ``files`` (Markdown files in ``incidents/``). The run only reacts to
transitions from the status machine and calls these methods; the site reads
``incidents()`` and ``maintenance()``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, Optional, Protocol

from generator.models import Incident, Maintenance, Monitor, TimelineEntry, Transition


class TrackerError(Exception):
    """A backend failed in a way the run reports (e.g. GitHub unavailable after retries).

    The message names the request (method, URL) and the response (status, body excerpt).
    """


class JsonCache(Protocol):
    """Where a backend keeps a small JSON document between runs (``History`` is one)."""

    def read_json(self, name: str, default: Any = None) -> Any: ...

    def write_json(self, name: str, value: Any) -> None: ...


class Tracker(ABC):
    name: str = "tracker"

    @abstractmethod
    def open(self, monitor: Monitor, transition: Transition) -> str:
        """Open an incident (or re-open the last one on a flap); return its key.

        Must be idempotent across runs: when an open automated incident for the
        monitor already exists (found by label/marker, never by title), return its key.
        """

    @abstractmethod
    def comment(self, key: str, entry: TimelineEntry) -> None:
        """Add a timeline entry (escalation, restart attempt, note) to an incident."""

    @abstractmethod
    def change_impact(self, key: str, monitor: Monitor, transition: Transition) -> None:
        """Escalate or de-escalate: impact/severity labels follow, plus a timeline entry."""

    @abstractmethod
    def resolve(self, key: str, monitor: Monitor, transition: Transition) -> None:
        """Write the downtime, mark resolved, close."""

    @abstractmethod
    def find_open(self, monitor_id: str) -> Optional[Incident]:
        """The open automated incident of a monitor, if any (for reconciliation)."""

    @abstractmethod
    def changed_since(self, since: Optional[datetime]) -> list[Incident]:
        """Incidents created or updated since ``since`` (all when None)."""

    @abstractmethod
    def incidents(self) -> list[Incident]:
        """Every known incident, automated and manual, newest first (for the site)."""

    @abstractmethod
    def maintenance(self) -> list[Maintenance]:
        """Maintenance windows, past, current and scheduled."""

    def cached_incidents(self) -> list[Incident]:
        """What the backend already knows without asking its remote (the site's fallback)."""
        return []

    def request_count(self) -> int:
        """Requests made to a remote API during this run (0 for local backends)."""
        return 0
