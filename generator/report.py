"""What a run tells people: the check table and what opened, changed or resolved,
on the console and, under GitHub Actions, in the job summary."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from generator import secrets
from generator.models import Check, Transition


@dataclass
class RunReport:
    checks: list[Check] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # human lines: what opened, changed, resolved
    tracker_errors: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # monitor id -> incident key opened this run


class Console:
    """Prints to stdout and mirrors into a Markdown job summary when GITHUB_STEP_SUMMARY is set."""

    def __init__(self, environ: dict, stream: TextIO | None = None):
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
