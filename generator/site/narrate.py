"""The words the tool wrote on an automated incident, said again in the site's language and time zone.

The trackers store English sentences ("🛑 API is down", "Automated incident: ... failing
since 2026-11-23 19:30:00 UTC", "down, HTTP 503 in 120 ms: connection refused"). For an
automated incident the site re-tells them from what it knows as data (the monitor's
name, the impact, the timeline kinds, the times) through the interface strings, and
keeps only the language-neutral facts of the original text (HTTP status, latency,
attempt numbers, the probe's error). Text people wrote (a reworded title, a comment,
a paragraph added to the body, a manual incident) is shown as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional

from generator.incidents.text import md_unescape
from generator.models import Incident, TimelineEntry
from generator.site.clock import Clock
from generator.site.i18n import Strings
from generator.site.updates import Update, current_state, incident_updates

_TOOL_TITLE = re.compile(r"^\s*(?:🛑|⚠️|⚠)?\s*(?P<name>.+?) is (?:down|degraded)\s*$")
_TOOL_PARAGRAPH = re.compile(
    r"^(?:Automated incident\b|Current status:|\*\*.+?\*\* is \*\*(?:down|degraded)\*\* since|First failing check:"
    r"|\||Monitor page:|_Opened by statusgen)"
)
_CODE = re.compile(r"\bHTTP (\d{3})\b|\| Status code \| (\d{3}) \|")
_LATENCY = re.compile(r"\b(\d+(?:\.\d+)?) ?ms\b")
_ATTEMPT = re.compile(r"\battempt (\d+) of (\d+)\b")
_ERROR = re.compile(r"\| Error \| (.+?) \|")
_IMPACT = re.compile(r"\b(down|degraded)\b")
NARRATED = ("detected", "reopened", "escalated", "deescalated", "restart", "recovered", "resolved")


class Narrator:
    def __init__(self, strings: Strings, clock: Clock, monitor_name: Callable[[Optional[str]], str],
                 duration: Callable[..., str], lasted: Callable[[Incident], str]):
        self.t = strings
        self.clock = clock
        self.monitor_name = monitor_name
        self.duration = duration
        self.lasted = lasted

    def _name(self, incident: Incident) -> str:
        if incident.monitor_id:
            return self.monitor_name(incident.monitor_id)
        match = _TOOL_TITLE.match(incident.title)
        return match.group("name") if match else incident.title

    def is_tool_title(self, incident: Incident) -> bool:
        return incident.automated and bool(_TOOL_TITLE.match(incident.title))

    def title(self, incident: Incident) -> str:
        """The tool's title in the site's language ("Resolved: API was down" once over); a person's title as set."""
        if not self.is_tool_title(incident):
            return incident.title
        key = "auto.title." + ("" if incident.is_open else "resolved_") + incident.impact.value
        return self.t(key, name=self._name(incident))

    def body(self, incident: Incident) -> str:
        """The body with the tool's paragraphs said again; paragraphs people added are kept."""
        if not incident.automated:
            return incident.body
        paragraphs = [p for p in re.split(r"\n\s*\n", incident.body or "") if p.strip()]
        kept = [p for p in paragraphs if not _TOOL_PARAGRAPH.match(p.strip())]
        impact = self.t(f"auto.impact.{incident.impact.value}")
        opening = self.t("auto.body", name=self._name(incident), impact=impact, time=self.clock.text(incident.started))
        return "\n\n".join([opening] + kept)

    def entry(self, incident: Incident, entry: TimelineEntry) -> str:
        """A timeline entry's text: re-told for the tool's kinds on an automated incident."""
        if entry.kind == "opened":
            return self.t("update.opened")
        if entry.kind == "closed":
            return self.t("update.closed")
        if not incident.automated or entry.kind not in NARRATED:
            return entry.text
        name = self._name(incident)
        text = entry.text or ""
        # the GitHub tracker keeps the first failing check in a table of the body, not in the entry
        table = "\n".join(line for line in (incident.body or "").splitlines() if line.startswith("|"))
        facts = self._facts(entry.kind, text, table if entry.kind == "detected" else "")
        if entry.kind in ("detected", "reopened"):
            found = _IMPACT.search(text)
            impact = found.group(1) if found else incident.impact.value
            sentence = self.t(f"auto.{entry.kind}", name=name, impact=self.t(f"auto.impact.{impact}"))
        elif entry.kind == "restart":
            attempt = _ATTEMPT.search(text)
            detail = self.t("auto.attempt", n=attempt.group(1), of=attempt.group(2)) if attempt else ""
            failed = "failed" in text.split("\n", 1)[0].lower()
            sentence = self.t("auto.restart_failed" if failed else "auto.restart", attempt=detail)
        elif entry.kind == "resolved":
            # the incident's own downtime when this is its resolution (timeline times are whole seconds)
            if incident.resolved and abs((incident.resolved - entry.time).total_seconds()) < 60:
                took = self.lasted(incident)
            else:
                took = self.duration(incident.started, entry.time)
            closed = text.startswith("Closed")
            sentence = self.t("auto.closed" if closed else "auto.resolved", name=name, duration=took)
            facts = []
        else:  # escalated, deescalated, recovered
            sentence = self.t(f"auto.{entry.kind}", name=name)
            facts = facts if entry.kind != "recovered" else []
        if facts:
            return self.t("auto.with_facts", text=sentence, facts=" · ".join(facts))
        return self.t("auto.plain", text=sentence)

    def _facts(self, kind: str, text: str, body: str) -> list[str]:
        """HTTP status, latency and the probe's error: the parts of a machine sentence no language changes."""
        source = text + "\n" + body
        facts = []
        code = _CODE.search(source)
        if code:
            facts.append(f"HTTP {code.group(1) or code.group(2)}")
        latency = _LATENCY.search(source)
        if latency:
            facts.append(f"{float(latency.group(1)):.0f} ms")
        error = _ERROR.search(body) if body else None
        message = error.group(1) if error else ""
        if not message and kind in ("detected", "reopened", "escalated", "deescalated") and ": " in text.split("\n", 1)[0]:
            message = text.split("\n", 1)[0].rsplit(": ", 1)[1].rstrip(".")
        if message and message.strip() not in facts:  # "HTTP 503" as the error says no more than the status
            facts.append(_literal(md_unescape(message)))  # stored escaped for Markdown; shown as code
        return facts


def _literal(value: str) -> str:
    """A machine message as inline code (it stays as the probe said it)."""
    cleaned = value.replace("`", "'").strip()
    return f"`{cleaned}`" if cleaned else ""


@dataclass(frozen=True)
class Story:
    """An incident as every output tells it: the same title, body and updates on the page, the API and the feeds."""

    title: str
    body: str  # Markdown
    updates: tuple[Update, ...]  # newest first
    state: str  # investigating / identified / monitoring / resolved

    @property
    def latest(self) -> Optional[Update]:
        return self.updates[0] if self.updates else None


def story_of(narrator: Optional[Narrator], incident: Incident) -> Story:
    """The story of ``incident``; without a narrator (the API alone) its texts as stored."""
    if narrator is None:
        updates = incident_updates(incident)
        return Story(incident.title, incident.body, tuple(updates), current_state(incident, updates))
    updates = incident_updates(incident, lambda entry: narrator.entry(incident, entry))
    return Story(narrator.title(incident), narrator.body(incident), tuple(updates), current_state(incident, updates))
