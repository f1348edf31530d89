"""Step 5b, notify: each transition to the Apprise targets that want it, once ever (see generator.notify)."""

from __future__ import annotations

from typing import Mapping, Sequence

from generator.incidents.base import Tracker
from generator.incidents.registry import site_url
from generator.models import Config, Transition
from generator.notify import Notifier


def incident_urls(tracker: Tracker) -> dict[str, str]:
    """Incident key -> its page (an issue's URL), from what the tracker already knows: no request."""
    return {i.key: i.url for i in tracker.cached_incidents() if i.url}


def notify_transitions(config: Config, transitions: Sequence[Transition], issue_urls: Mapping[str, str],
                       opened: Mapping[str, str], notifier: Notifier) -> tuple[str, ...]:
    """Send every transition to its monitor's targets; return one console line per message sent.

    ``opened`` maps a monitor id to the incident key its tracker gave it in this pass (a new
    incident's transition does not carry one yet), for the link in the message.
    """
    if not transitions or not any(m.notify for m in config.monitors):
        return ()
    base = site_url(config)
    lines: list[str] = []
    for transition in transitions:
        monitor = config.monitor(transition.monitor_id)
        if monitor is None or not monitor.notify:
            continue
        page = f"{base}monitors/{monitor.id}/" if base else None
        url = issue_urls.get(transition.incident_key or opened.get(monitor.id, ""))
        for line in notifier.notify(monitor, transition, incident_url=url, site_url=page):
            lines.append(f"notified {line} ({transition.kind.value} {monitor.id})")
    return tuple(lines)
