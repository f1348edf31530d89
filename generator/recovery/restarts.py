"""The recovery step as one object: is a restart due, send it, watch the service come back."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime
from typing import Callable, Optional

import requests

from generator import signing
from generator.history.ledger import Ledger
from generator.models import Check, Monitor, MonitorState, TimelineEntry
from generator.recovery import words
from generator.recovery.attempts import AttemptLog, RestartAttempt, evolve
from generator.recovery.bodies import TemplateError, event_values, render_body, standard_body, target_of
from generator.recovery.hook import HookSender
from generator.recovery.verify import verify
from generator.secrets import mask, mask_logs
from generator.timeutil import to_iso, utcnow

log = logging.getLogger("statusgen.recovery")
# urllib3 logs request lines with the full path and query, where hook tokens live
mask_logs("urllib3.connectionpool", "urllib3.util.retry")


class Recovery:
    """Decides when a restart is due, sends it, records it, and watches the service come back."""

    def __init__(
        self,
        history: Ledger,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        wallclock: Callable[[], float] = time.time,
        session: Optional[requests.Session] = None,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.log = AttemptLog(history)
        self.hook = HookSender(session or requests.Session(), sleep, wallclock)

    def due(self, monitor: Monitor, state: MonitorState, now: datetime) -> bool:
        """A restart is due: open incident, enough failures, cooldown elapsed, attempts left."""
        return self.log.due(monitor, state, now)

    def attempts_for(self, monitor_id: str) -> list[RestartAttempt]:
        """The recorded attempts of a monitor, oldest first."""
        return self.log.attempts_for(monitor_id)

    def attempt(
        self,
        monitor: Monitor,
        state: MonitorState,
        check: Optional[Check],
        incident_key: Optional[str],
        now: datetime,
    ) -> RestartAttempt:
        """Send one restart request (retrying connection errors and 5xx inside ``timeout``); record it.

        Never raises for network or template problems: they come back in ``error``.
        """
        spec = monitor.restart
        if spec is None:
            raise ValueError(f"monitor {monitor.id!r} has no restart block")
        incident = self.log.incident_id(state)
        count, _ = self.log.count_and_last(monitor.id, incident)
        number = count + 1
        delivery = str(uuid.uuid4())
        started_iso = incident if not incident.startswith(("key:", "unknown")) else to_iso(now)
        pending = RestartAttempt(
            monitor_id=monitor.id,
            attempt=number,
            max_attempts=spec.max_attempts,
            time=now,
            incident_started=started_iso,
            incident_key=incident_key,
            delivery=delivery,
            idempotency_key=signing.idempotency_key(monitor.id, started_iso, number),
            error="pending",
            target=target_of(spec.url),
        )
        # record first: a run killed mid-request still used up this attempt and started the cooldown
        self.log.record(pending, incident)
        values = event_values(
            monitor,
            check,
            attempt=number,
            max_attempts=spec.max_attempts,
            incident_key=incident_key,
            incident_started=started_iso,
            delivery=delivery,
            now=now,
        )
        try:
            body = standard_body(values) if spec.body is None else render_body(spec.body, values)
        except TemplateError as exc:
            result = evolve(pending, error=str(exc))
        else:
            result = self.hook.send(spec, pending, body)
        self.log.record(result, incident)
        level = logging.INFO if result.ok else logging.WARNING
        log.log(level, "%s", mask(words.log_line(result)))
        return result

    def verify(self, monitor: Monitor, probe: Callable[[Monitor], Check], needed: int = 1) -> list[Check]:
        """Re-probe every ``verify_every`` s for up to ``verify_for`` s until ``needed`` consecutive UPs."""
        return verify(monitor, probe, needed, sleep=self.sleep)

    log_line = staticmethod(words.log_line)
    timeline_text = staticmethod(words.timeline_text)
    verification_text = staticmethod(words.verification_text)

    def timeline_entry(self, attempt: RestartAttempt) -> TimelineEntry:
        return TimelineEntry(time=attempt.time, kind="restart", text=words.timeline_text(attempt))
