"""Step 5b, notify: each transition to the Apprise targets that want it, once ever (see generator.notify)."""

from __future__ import annotations

from typing import Mapping, Sequence

from generator.incidents.base import Tracker
from generator.incidents.registry import site_url
from generator.models import Check, Config, Impact, MonitorState, Transition, TransitionKind
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


def release_held(config: Config, states: Mapping[str, MonitorState], checks: Sequence[Check],
                 transitions: Sequence[Transition], issue_urls: Mapping[str, str], notifier: Notifier) -> tuple[str, ...]:
    """A flapping incident whose reopening was held back (flap damping) and which is still down at this
    check: send that reopening now, so a flap that stays down is never left unsaid."""
    moved = {t.monitor_id for t in transitions}
    base = site_url(config)
    lines: list[str] = []
    for check in checks:
        monitor = config.monitor(check.monitor_id)
        state = states.get(check.monitor_id)
        if (monitor is None or not monitor.notify or state is None or not state.incident_open
                or not state.incident_flaps or not check.failed or monitor.id in moved):
            continue
        transition = Transition(TransitionKind.REOPENED, monitor.id, check.time, state.incident_impact or Impact.DOWN,
                                check, started=state.incident_started, incident_key=state.incident_key,
                                opened=state.incident_opened, down_before=state.incident_down_before,
                                flaps=state.incident_flaps)
        page = f"{base}monitors/{monitor.id}/" if base else None
        for line in notifier.still_down(monitor, transition, incident_url=issue_urls.get(state.incident_key or ""),
                                        site_url=page):
            lines.append(f"notified {line} (still down after flapping {monitor.id})")
    return tuple(lines)
