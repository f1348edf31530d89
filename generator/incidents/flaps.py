"""A flapping incident in words, and in one timeline line that is updated instead of repeated.

A monitor that goes down again within ``flap_window`` of recovering reopens its incident
(``TransitionKind.REOPENED``, ``transition.flaps`` counting how often). Twenty flaps must not make
forty timeline entries or comments: from the first reopening on, each reopening and each recovery
rewrites one *flap* entry, which says how often the service went down since the incident began, and
on recovery the incident's downtime so far (the sum of its down intervals). The files backend keeps
it as one timeline line (:func:`fold_timeline`); the GitHub backend as one comment it edits.
"""

from __future__ import annotations

import re
from datetime import datetime

from generator.incidents.markdown import add_timeline_entry
from generator.incidents.text import utc_time
from generator.models import Impact, TimelineEntry, Transition, TransitionKind
from generator.timeutil import format_duration

PREFIX = "Flapping:"
_FLAP_LINE = re.compile(rf"^[-*] \*\*[^*]+\*\*\s*(?:—|–|--?|:)\s*(?:Reopened|Resolved):\s*{re.escape(PREFIX)}")


def is_flapping(transition: Transition) -> bool:
    """A transition of an incident that has reopened at least once: its entry is folded."""
    return transition.flaps > 0 and transition.kind in (TransitionKind.REOPENED, TransitionKind.RESOLVED)


def flap_text(name: str, transition: Transition, *, end: datetime | None = None, seconds: float | None = None) -> str:
    """``Flapping: API is down again at ... (3 outages since ...).`` / ``... is back up at ... after 4m of downtime``."""
    outages = f"{transition.flaps + 1} outages since {utc_time(transition.first_started)}"
    if transition.kind is TransitionKind.RESOLVED:
        lasted = format_duration(seconds if seconds is not None else transition.downtime)
        return f"{PREFIX} {name} is back up at {utc_time(end or transition.end)} after {lasted} of downtime ({outages})."
    what = "down" if transition.impact is Impact.DOWN else "degraded"
    return f"{PREFIX} {name} is {what} again at {utc_time(transition.time)} ({outages})."


def fold_timeline(body: str, entry: TimelineEntry) -> str:
    """The body with its flap line (and its continuation lines) replaced by ``entry``, or ``entry`` added."""
    lines = body.splitlines()
    for index in range(len(lines) - 1, -1, -1):
        if _FLAP_LINE.match(lines[index]):
            end = index + 1
            while end < len(lines) and lines[end].startswith((" ", "\t")) and lines[end].strip():
                end += 1
            body = "\n".join(lines[:index] + lines[end:])
            break
    return add_timeline_entry(body, entry)
