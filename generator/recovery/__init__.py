"""Restart webhooks: when a monitor's incident is open, ask the service to restart, then watch it.

One run calls, per monitor with a ``restart`` block and an open incident::

    recovery = Recovery(history)
    if recovery.due(monitor, state, now):
        attempt = recovery.attempt(monitor, state, check, incident_key, now)
        tracker.comment(key, recovery.timeline_entry(attempt))
        if attempt.ok:
            checks = recovery.verify(monitor, probe, needed=monitor.success_threshold)

Attempts are recorded in the History cache (``restarts.json``) *before* the
request goes out, so the cooldown and the attempt limit hold across runs even
when a run dies mid-request: a crash can cost an attempt, never cause a storm.
"""

from generator.recovery.attempts import CACHE_NAME, RestartAttempt
from generator.recovery.bodies import TemplateError, event_values, render_body, standard_body
from generator.recovery.restarts import Recovery

__all__ = ["CACHE_NAME", "Recovery", "RestartAttempt", "TemplateError", "event_values", "render_body",
           "standard_body"]
