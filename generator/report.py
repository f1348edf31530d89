"""What a run tells people: the check table and what opened, changed or resolved,
on the console and, under GitHub Actions, in the job summary."""

from __future__ import annotations

import sys
from typing import Mapping, Optional, Sequence, TextIO

from generator import secrets
from generator.models import Check, CheckStatus, Monitor
from generator.secrets import mask


class Console:
    """Prints to stdout and mirrors into a Markdown job summary when GITHUB_STEP_SUMMARY is set."""

    def __init__(self, environ: Mapping[str, str], stream: Optional[TextIO] = None) -> None:
        self.stream = stream or sys.stdout
        self.summary_path = environ.get("GITHUB_STEP_SUMMARY")
        self.markdown: list[str] = []

    def line(self, text: str = "") -> None:
        print(secrets.mask(text), file=self.stream, flush=True)

    def error(self, text: str) -> None:
        print(secrets.mask(text), file=sys.stderr, flush=True)

    def md(self, text: str) -> None:
        self.markdown.append(secrets.mask(text))

    def flush_summary(self) -> None:
        if self.summary_path and self.markdown:
            try:
                with open(self.summary_path, "a", encoding="utf-8") as handle:
                    handle.write("\n".join(self.markdown) + "\n")
            except OSError as error:  # the job summary is a courtesy: the run's work is already done
                self.error(f"GITHUB_STEP_SUMMARY={self.summary_path}: cannot write the job summary: "
                           f"{error.strerror or error}")

    def checks(self, checks: Sequence[Check], monitors: Sequence[Monitor]) -> None:
        """The check table on the console, and its Markdown twin in the job summary."""
        self.line(format_table(checks, monitors))
        self.md("### Checks\n")
        self.md(format_markdown_table(checks, monitors))

    def notes(self, notes: Sequence[str]) -> None:
        """What opened, changed and resolved (the check table already gave the counts)."""
        if not notes:
            self.line("no incident opened, changed or resolved")
            return
        for note in notes:
            self.line(note)
        self.md("\n### Incidents\n")
        self.md("\n".join(f"- {note}" for note in notes))



def _latency(check: Check) -> str:
    if check.latency_ms is None:
        return "-"
    if check.latency_ms >= 1000:
        return f"{check.latency_ms / 1000:.2f} s"
    return f"{check.latency_ms:.0f} ms"


def _rows(checks: Sequence[Check]) -> list[list[str]]:
    return [
        [
            c.monitor_id,
            c.status.value,
            _latency(c),
            "-" if c.code is None else str(c.code),
            str(c.attempts),
            mask(c.error),
        ]
        for c in checks
    ]


def _summary(checks: Sequence[Check]) -> str:
    counts: dict[str, int] = {}
    for c in checks:
        counts[c.status.value] = counts.get(c.status.value, 0) + 1
    order = [s.value for s in CheckStatus]
    parts = [f"{counts[s]} {s.replace('_', ' ')}" for s in order if counts.get(s)]
    return f"{len(checks)} monitors: " + (", ".join(parts) if parts else "none")


def format_table(checks: Sequence[Check], monitors: Sequence[Monitor] = (), *, error_width: int = 80) -> str:
    """A compact text table (one line per check, by monitor id) followed by a count by status.

    ``monitors`` is accepted for symmetry with :func:`format_markdown_table`, which shows names.
    """
    header = ["ID", "STATUS", "LATENCY", "CODE", "TRIES", "ERROR"]
    rows = _rows(checks)
    for row in rows:
        if len(row[5]) > error_width:
            row[5] = row[5][: error_width - 1] + "…"
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [row[i].ljust(widths[i]) for i in range(len(widths))] + [row[5]]
        lines.append("  ".join(cells).rstrip())
    lines.append(_summary(checks))
    return "\n".join(lines)


_ICON = {"up": "🟢", "degraded": "🟡", "down": "🔴", "no_data": "⚪", "maintenance": "🔧"}


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "\\`")


def format_markdown_table(checks: Sequence[Check], monitors: Sequence[Monitor] = ()) -> str:
    """A Markdown table for $GITHUB_STEP_SUMMARY: monitor name, status, latency, code, tries, error."""
    names = {m.id: m.name for m in monitors}
    lines = [
        f"**{_summary(checks)}**",
        "",
        "| Monitor | Status | Latency | Code | Tries | Error |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for check, row in zip(checks, _rows(checks)):
        name = names.get(check.monitor_id)
        label = f"{_md(mask(name))} (`{_md(check.monitor_id)}`)" if name and name != check.monitor_id else f"`{_md(check.monitor_id)}`"
        status = f"{_ICON.get(row[1], '')} {row[1].replace('_', ' ')}".strip()
        lines.append(f"| {label} | {status} | {row[2]} | {row[3]} | {row[4]} | {_md(row[5])} |")
    return "\n".join(lines) + "\n"
