"""Notifications through Apprise: one message per target, per incident event, ever.

The run calls ``Notifier(history).notify(monitor, transition, incident_url=..., site_url=...)``
for each transition. Which targets hear it:

* the event: ``opened``, ``reopened`` (a flap; also sent to targets listing ``opened``),
  ``escalated`` (degraded -> down), ``deescalated`` (down -> degraded; also sent to
  targets listing ``escalated``: both change the impact of the same incident), ``resolved``;
* the severity of the incident after the transition -- except that a target which
  was told about the incident always hears how it ends (de-escalation,
  resolution), even if that end is below its severity filter.

A sent-ledger in the History cache (``notify-sent.json``) keyed by monitor,
incident start, event, impact and target makes a re-run of the same transition
silent.

Flap damping: the ledger also keeps, per incident and target, when it was last told and whether
it was last told "down" or "up". A reopening less than ``notify_every`` (default 30 min) after the
last message to that target is held back (counted); the recovery that follows a held reopening is
not sent either (people were last told it is up, and it is). So a service flapping for 20 runs
sends the opening and the first recovery, not 40 messages. A held reopening goes out, with the
number of outages since the incident began, when the next reopening comes after ``notify_every``
or when the service is still down at its next check (:meth:`Notifier.still_down`). A failed send is logged, not recorded (so a later identical call may
retry), and never raises.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import datetime, timedelta
from typing import Any, Callable, Optional

import apprise

from generator.history.ledger import Ledger
from generator.incidents.text import md_escape, utc_time
from generator.models import Monitor, NotifyTarget, Transition, TransitionKind
from generator.secrets import mask, mask_logs, safe_url, scrub
from generator.timeutil import format_duration, parse_iso, to_iso, utcnow

log = logging.getLogger("statusgen.notify")
mask_logs("apprise", "urllib3.connectionpool")  # both log target URLs, and URLs carry tokens

CACHE_NAME = "notify-sent"
KEEP = timedelta(days=45)  # ledger entries older than this are dropped (incidents are long closed)

# events a target may list (monitors.yaml accepts every TransitionKind); a re-opened flap also
# reaches targets listing "opened", a de-escalation those listing "escalated" (a change of impact)
ALIASES = {"reopened": ("reopened", "opened"), "deescalated": ("deescalated", "escalated")}
FOLLOW_UPS = ("deescalated", "resolved")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:32]


def wants(target: NotifyTarget, event: str) -> bool:
    return any(name in target.events for name in ALIASES.get(event, (event,)))


class Notifier:
    def __init__(self, history: Ledger, *, clock: Callable[[], datetime] = utcnow,
                 send: Optional[Callable[[str, str, str, str], bool]] = None, notify_every: float = 1800.0) -> None:
        self.history = history
        self.clock = clock
        self.notify_every = notify_every
        self._send = send or send_apprise  # (url, title, body, notify_type) -> delivered
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- ledger

    def _ledger(self) -> dict[str, Any]:
        value = self.history.read_json(CACHE_NAME, {})
        return value if isinstance(value, dict) else {}

    def _save(self, ledger: dict[str, Any]) -> None:
        cutoff = self.clock() - KEEP
        kept = {}
        for key, entry in ledger.items():
            try:
                if parse_iso(entry["at"]) >= cutoff:
                    kept[key] = entry
            except (KeyError, TypeError, ValueError):
                continue
        self.history.write_json(CACHE_NAME, kept)

    # ---------------------------------------------------------------- sending

    def still_down(self, monitor: Monitor, transition: Transition, *, incident_url: Optional[str] = None,
                   site_url: Optional[str] = None) -> list[str]:
        """A reopening that was held back, and the service is still down at its next check: send it now."""
        return self.notify(monitor, transition, incident_url=incident_url, site_url=site_url, release=True)

    def _damped(self, ledger: dict[str, Any], thread_key: str, transition: Transition, release: bool) -> bool:
        """Whether flap damping holds this message back (the ledger counts a held reopening)."""
        thread = ledger.get(thread_key)
        if not isinstance(thread, dict):
            return False
        if transition.kind is TransitionKind.RESOLVED:
            return thread.get("told") == "up"  # its reopening was held: people were last told it is up
        if transition.kind is not TransitionKind.REOPENED:
            return False
        if release:
            return thread.get("told") != "up" or not thread.get("held")
        try:
            quiet = (transition.time - parse_iso(thread["sent_for"])).total_seconds() < self.notify_every
        except (KeyError, TypeError, ValueError):
            return False
        if quiet:
            thread["held"] = int(thread.get("held") or 0) + 1
        return quiet

    def notify(self, monitor: Monitor, transition: Transition, *, incident_url: Optional[str] = None,
               site_url: Optional[str] = None, release: bool = False) -> list[str]:
        """Send this transition to the targets that want it, once each; return the (masked) URLs sent to."""
        if not monitor.notify:
            return []
        event = transition.kind.value
        started = to_iso(transition.started or transition.time)
        first = to_iso(transition.first_started)
        impact = transition.impact.value
        severity = transition.severity.value
        title, body, kind = message(monitor, transition, incident_url=incident_url, site_url=site_url)
        sent: list[str] = []
        with self._lock:
            ledger = self._ledger()
            incident_ids = {entry.get("incident") for entry in ledger.values()}
            changed = False
            for target in monitor.notify:
                if not wants(target, event):
                    continue
                incident_id = _digest(monitor.id, first, target.url)
                told_before = incident_id in incident_ids
                if severity not in target.severities and not (event in FOLLOW_UPS and told_before):
                    continue
                key = _digest(monitor.id, started, event, impact, target.url)
                if key in ledger:
                    continue  # this exact message already went out in an earlier run
                thread_key = "thread:" + incident_id
                if self._damped(ledger, thread_key, transition, release):
                    changed = True
                    continue
                shown = safe_url(target.url)  # no user info, no query values: they carry tokens
                try:
                    delivered = self._send(target.url, title, body, kind)
                except Exception as exc:  # a notifier must never break the run
                    delivered = False
                    log.warning("%s", scrub(f"notify {event} monitor={monitor.id} target={_scheme(shown)} failed: {exc}"))
                if not delivered:
                    log.warning("%s", mask(f"notify {event} monitor={monitor.id} target={_scheme(shown)} not delivered"))
                    continue
                ledger[key] = {
                    "at": to_iso(self.clock()),
                    "monitor": monitor.id,
                    "event": event,
                    "impact": impact,
                    "incident": incident_id,  # never the URL itself: it may hold a token
                }
                ledger[thread_key] = {"at": to_iso(self.clock()), "incident": incident_id,
                                      "sent_for": to_iso(transition.time), "held": 0,
                                      "told": "up" if transition.kind is TransitionKind.RESOLVED else "down"}
                incident_ids.add(incident_id)
                changed = True
                sent.append(shown)
                log.info("%s", mask(f"notify {event} monitor={monitor.id} target={_scheme(shown)} sent"))
            if changed:
                self._save(ledger)
        return sent


def _scheme(url: str) -> str:
    return url.split("://", 1)[0] + "://" if "://" in url else "?"


def send_apprise(url: str, title: str, body: str, notify_type: str) -> bool:
    """One Apprise URL, one message; False on an unknown URL or a failed delivery."""
    client = apprise.Apprise()
    if not client.add(url):
        log.warning("%s", mask(f"notify target {_scheme(url)} is not a valid Apprise URL"))
        return False
    return bool(client.notify(title=title, body=body, body_format=apprise.NotifyFormat.MARKDOWN,
                              notify_type=apprise.NotifyType(notify_type)))


def message(monitor: Monitor, transition: Transition, *, incident_url: Optional[str] = None,
            site_url: Optional[str] = None) -> tuple[str, str, str]:
    """(title, Markdown body, Apprise notify type) for a transition; secrets masked."""
    check = transition.check
    name = monitor.name
    impact = transition.impact.value
    severity = transition.severity.value
    started = transition.started or transition.time
    kind = transition.kind
    if kind is TransitionKind.RESOLVED:
        title = f"[resolved] {name} is back up"
        lines = [f"**{name}** recovered at {utc_time(transition.end)} after {format_duration(transition.downtime)} {impact}."]
        notify_type = "success"
    elif kind is TransitionKind.ESCALATED:
        title = f"[{severity}] {name} is now {impact}"
        lines = [f"**{name}** got worse: {impact} since {utc_time(transition.time)} (incident began {utc_time(started)})."]
        notify_type = "failure"
    elif kind is TransitionKind.DEESCALATED:
        title = f"[{severity}] {name} is {impact}, no longer down"
        lines = [f"**{name}** improved to {impact} at {utc_time(transition.time)} (incident began {utc_time(started)})."]
        notify_type = "warning"
    else:
        again = " again" if kind is TransitionKind.REOPENED else ""
        title = f"[{severity}] {name} is {impact}{again}"
        lines = [f"**{name}** is {impact}{again} since {utc_time(started)}."]
        if transition.flaps:
            title += " (flapping)"
            lines.append(f"It has gone {impact} {transition.flaps + 1} times since {utc_time(transition.first_started)}; "
                         "messages about it are held to one per notify_every while it flaps.")
        notify_type = "failure" if severity == "critical" else "warning"
    detail = []
    if check.code is not None:
        detail.append(f"HTTP {check.code}")
    if check.latency_ms is not None:
        detail.append(f"{check.latency_ms:.0f} ms")
    if check.error:
        detail.append(md_escape(check.error))  # the probed service's words: text, not Markdown
    if detail and kind is not TransitionKind.RESOLVED:
        lines.append(f"Last check ({utc_time(check.time)}): " + ", ".join(detail))
    if incident_url:
        lines.append(f"Incident: {incident_url}")
    if site_url:
        lines.append(f"Status page: {site_url}")
    return mask(title), mask("\n\n".join(lines)), notify_type
