"""What ``statusgen watch`` tells people: a compact live log of what happened, one status line per
publish on the console, and the GitHub job summary rewritten at each publish."""

from __future__ import annotations

import statistics
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping, Optional

from generator.fsutil import atomic_write_text
from generator.models import Config, MonitorState
from generator.report import Console
from generator.secrets import mask
from generator.timeutil import to_iso, utcnow

RECENT = 20  # events kept for the job summary


def stamp(moment: Optional[datetime] = None) -> str:
    return to_iso((moment or utcnow()).replace(microsecond=0))


@dataclass
class Tally:
    """What happened since the last publish: checks, lateness against their slots, events."""

    checks: int = 0
    skipped: int = 0  # slots not probed: the monitor's previous check or restart was still running
    lateness: list[float] = field(default_factory=list)
    events: int = 0

    def late_p95(self) -> float:
        if not self.lateness:
            return 0.0
        if len(self.lateness) < 2:
            return self.lateness[0]
        return statistics.quantiles(self.lateness, n=20)[-1]


class WatchLog:
    """The console lines and the job summary of one watcher."""

    def __init__(self, out: Console, environ: Mapping[str, str]) -> None:
        self.out = out
        self.summary_path = environ.get("GITHUB_STEP_SUMMARY")
        self.recent: deque[str] = deque(maxlen=RECENT)
        self.started = utcnow()

    def event(self, text: str) -> None:
        """One line of the live log: a transition, a restart, a notification, a warning."""
        line = f"{stamp()}  {text}"
        self.recent.append(line)
        self.out.line(line)

    def warning(self, text: str) -> None:
        line = f"{stamp()}  warning: {text}"
        self.recent.append(line)
        self.out.error(line)

    def published(self, config: Config, states: Mapping[str, MonitorState], tally: Tally, *, what: str,
                  publishes: int) -> str:
        """The status line of one publish; the job summary is rewritten with it."""
        counts = Counter(state.status.value for state in states.values() if config.monitor(state.monitor_id))
        unchecked = len(config.monitors) - sum(counts.values())
        parts = [f"{counts[name]} {name.replace('_', ' ')}" for name in sorted(counts)]
        if unchecked > 0:
            parts.append(f"{unchecked} not checked yet")
        open_incidents = sum(1 for s in states.values() if s.incident_open)
        line = (f"{stamp()}  {what}: {len(config.monitors)} monitors ({', '.join(parts) or 'none'}), "
                f"{open_incidents} incident{'s' if open_incidents != 1 else ''} open; {tally.checks} checks, "
                f"{tally.skipped} skipped, p95 lateness {tally.late_p95():.2f}s since the last publish")
        self.out.line(line)
        self._summary(line, publishes)
        return line

    def _summary(self, line: str, publishes: int) -> None:
        if not self.summary_path:
            return
        text = "\n".join([
            "### statusgen watch",
            "",
            f"Watching since {stamp(self.started)}; {publishes} publishes.",
            "",
            f"**{_md(line)}**",
            "",
            "#### Recent events",
            "",
            *([f"- {_md(event)}" for event in self.recent] or ["- none"]),
            "",
        ])
        try:
            atomic_write_text(self.summary_path, mask(text), durable=False)
        except OSError as error:  # a courtesy: the watch goes on
            self.out.error(f"GITHUB_STEP_SUMMARY={self.summary_path}: cannot write the job summary: "
                           f"{error.strerror or error}")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "\\`")

