"""An incident's updates: the machine timeline and what the team wrote, as one list with states.

An update is a state (investigating, identified, monitoring, resolved), a time and
a text. The tool's own events carry a state by their kind (detected: investigating;
an accepted restart: identified; recovered after a restart: monitoring; resolved).
A person sets a state by starting an update (a trusted comment, or an ``update``
line in an incident file) with a state word: ``**Identified**``, ``State: identified``
or ``Identified: the disk filled up``; the word is taken off the text. Anything else
keeps the state in force. Pure: the page, the JSON API and the feeds all read this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Optional

from generator.models import Comment, Incident, TimelineEntry

STATES = ("investigating", "identified", "monitoring", "resolved")

# a timeline kind -> the state it moves the incident to (absent: the state in force stays)
KIND_STATE = {
    "detected": "investigating",
    "reopened": "investigating",
    "investigating": "investigating",
    "restart": "identified",
    "identified": "identified",
    "recovered": "monitoring",
    "monitoring": "monitoring",
    "resolved": "resolved",
}
_WORDS = {
    "investigating": "investigating", "identified": "identified", "monitoring": "monitoring", "resolved": "resolved",
    "调查中": "investigating", "已定位": "identified", "已确认": "identified", "观察中": "monitoring",
    "监控中": "monitoring", "已解决": "resolved",
}  # fmt: skip
_LEAD = re.compile(
    r"^\s*(?P<open>\*\*|__)?\s*(?P<label>state\s*[:：]\s*)?(?P<word>[a-z]+|[\u4e00-\u9fff]{3})\s*(?P<colon>[:：])?\s*(?P=open)?",
    re.IGNORECASE,
)
_AFTER = re.compile(r"^\s*(?:[:：.。\-–—]\s*|\n|$)")


@dataclass(frozen=True)
class Update:
    time: datetime
    state: str  # one of STATES
    text: str  # Markdown; "" when the update is only its state
    kind: str  # the timeline kind, "comment" for a person's comment, "opened" for an incident without a timeline
    author: Optional[str] = None  # the person who wrote it; None for the tool


def stated(text: str) -> tuple[Optional[str], str]:
    """(state, rest) when ``text`` opens with a state word, else (None, text)."""
    match = _LEAD.match(text or "")
    if not match or match.group("word").lower() not in _WORDS:
        return None, text
    rest = text[match.end():]
    marked = match.group("open") or match.group("label") or match.group("colon")
    after = _AFTER.match(rest)
    if not marked and not after:
        return None, text  # "Identified the cause" is a sentence, not a state
    if after:
        rest = rest[after.end():]
    return _WORDS[match.group("word").lower()], rest.strip()


def _restart_failed(text: str) -> bool:
    return "failed" in (text or "").split("\n", 1)[0].lower()


def incident_updates(incident: Incident, text_of: Optional[Callable[[TimelineEntry], str]] = None) -> list[Update]:
    """The updates of ``incident``, newest first; ``text_of`` renders a timeline entry's text (for translation)."""
    render = text_of or (lambda entry: entry.text)
    entries: list[tuple[datetime, int, TimelineEntry | Comment]] = [(e.time, 0, e) for e in incident.timeline]
    entries += [(c.time, 1, c) for c in incident.comments if c.trusted]
    entries.sort(key=lambda item: (item[0], item[1]))
    updates: list[Update] = []
    state = "investigating"
    if not incident.timeline:
        updates.append(Update(incident.started, state, render(TimelineEntry(incident.started, "opened", "")), "opened"))
    for moment, _, item in entries:
        if isinstance(item, TimelineEntry):
            kind = item.kind
            moved = KIND_STATE.get(kind)
            if kind == "restart" and _restart_failed(item.text):
                moved = None  # a refused restart changes nothing
            told, rest = stated(item.text) if moved is None else (None, item.text)
            state = moved or told or state
            text = render(TimelineEntry(item.time, kind, rest))
            updates.append(Update(moment, state, text, kind))
        else:
            told, rest = stated(item.body)
            state = told or state
            updates.append(Update(moment, state, rest, "comment", item.author))
    if not incident.is_open and state != "resolved":
        moment = max([incident.resolved or incident.updated or incident.started] + [u.time for u in updates])
        updates.append(Update(moment, "resolved", render(TimelineEntry(moment, "closed", "")), "closed"))
    updates.reverse()
    return updates


def current_state(incident: Incident, updates: list[Update]) -> str:
    """The incident's state now: the newest update's, except an open incident is never "resolved"."""
    state = updates[0].state if updates else "investigating"
    if incident.is_open and state == "resolved":
        return "monitoring"  # re-opened after a resolution the timeline recorded
    return "resolved" if not incident.is_open else state
