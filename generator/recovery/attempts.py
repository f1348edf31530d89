"""Restart attempts and their ledger: the cooldown and the attempt limit, held across runs.

Attempts are recorded in the history's ledger (``restarts.json``) *before* the request
goes out, so a run that dies mid-request still used up the attempt and started the
cooldown: a crash can cost an attempt, never cause a storm.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Optional

from generator.history.ledger import Ledger
from generator.models import Monitor, MonitorState
from generator.timeutil import parse_iso, to_iso

CACHE_NAME = "restarts"
LOG_KEEP = 20  # attempts kept per monitor in the cache, for the record


@dataclass(frozen=True)
class RestartAttempt:
    """One restart request as sent (after its in-budget retries) and what came back."""

    monitor_id: str
    attempt: int
    max_attempts: int
    time: datetime  # when the first try was sent (UTC)
    incident_started: str  # ISO, the incident this attempt belongs to
    incident_key: Optional[str]
    delivery: str
    idempotency_key: str
    ok: bool = False
    status_code: Optional[int] = None
    latency_ms: Optional[float] = None  # of the last try
    error: str = ""  # masked; empty when ok
    tries: int = 0
    duration_ms: Optional[float] = None  # first try sent to last answer
    target: str = ""  # scheme://host of the hook, never the path or query (they hold tokens)
    retried: bool = False  # whether the final failure was a retriable one

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = to_iso(self.time)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RestartAttempt:
        values = dict(data)
        values["time"] = parse_iso(values["time"])
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in values.items() if k in known})


def evolve(attempt: RestartAttempt, **changes: Any) -> RestartAttempt:
    return replace(attempt, **changes)


class AttemptLog:
    """What was sent to each monitor's restart hook, and whether another attempt is due."""

    def __init__(self, store: Ledger) -> None:
        self.store = store
        self._lock = threading.Lock()  # verification threads record concurrently

    def _entries(self) -> dict[str, Any]:
        value = self.store.read_json(CACHE_NAME, {})
        return value if isinstance(value, dict) else {}

    @staticmethod
    def incident_id(state: MonitorState) -> str:
        if state.incident_started is not None:
            return to_iso(state.incident_started)
        return f"key:{state.incident_key}" if state.incident_key else "unknown"

    def attempts_for(self, monitor_id: str) -> list[RestartAttempt]:
        """The recorded attempts of a monitor, oldest first (the last ``LOG_KEEP``)."""
        entry = self._entries().get(monitor_id) or {}
        result = []
        for item in entry.get("log", []):
            try:
                result.append(RestartAttempt.from_dict(item))
            except (KeyError, TypeError, ValueError):
                continue  # a hand-edited cache must not stop the run
        return result

    def count_and_last(self, monitor_id: str, incident: str) -> tuple[int, Optional[datetime]]:
        entry = self._entries().get(monitor_id) or {}
        count = int(entry.get("attempts", 0)) if entry.get("incident") == incident else 0
        last = entry.get("last_attempt")
        try:
            return count, (parse_iso(last) if last else None)
        except ValueError:
            return count, None

    def due(self, monitor: Monitor, state: MonitorState, now: datetime) -> bool:
        """A restart is due: open incident, enough failures, cooldown elapsed, attempts left."""
        spec = monitor.restart
        if spec is None or not state.incident_open:
            return False
        if state.consecutive_failures < max(1, spec.after_failures):
            return False
        count, last = self.count_and_last(monitor.id, self.incident_id(state))
        if count >= spec.max_attempts:
            return False
        # the cooldown spans incidents: a flapping service must not get a restart per flap
        if last is not None and (now - last) < timedelta(seconds=spec.cooldown):
            return False
        return True

    def record(self, attempt: RestartAttempt, incident: str) -> None:
        with self._lock:
            ledger = self._entries()
            entry = ledger.get(attempt.monitor_id) or {}
            if entry.get("incident") != incident:
                entry = {"incident": incident, "attempts": 0, "log": entry.get("log", [])}
            entry["attempts"] = max(int(entry.get("attempts", 0)), attempt.attempt)
            entry["last_attempt"] = to_iso(attempt.time)
            log_items = [item for item in entry.get("log", []) if item.get("delivery") != attempt.delivery]
            log_items.append(attempt.to_dict())
            entry["log"] = log_items[-LOG_KEEP:]
            ledger[attempt.monitor_id] = entry
            self.store.write_json(CACHE_NAME, ledger)
