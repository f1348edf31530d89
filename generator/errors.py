"""The failures a ``statusgen`` command reports in words, never as a traceback.

Library rooms raise their own errors (``ConfigError``, ``HistoryError``, ``TrackerError``,
``ShardError``, ``SiteError``); the run turns the ones that end a command into one of the
families below, carrying the exact message to print. ``generator.cli`` is the one place
that maps a family to an exit code (see ``generator.exitcodes``).

A command that must finish its other steps after a failure (record the checks, build the
site) reports the failure itself as it goes and returns an :class:`Outcome` naming the
worst family met; the CLI maps that without printing it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


class StatusgenError(Exception):
    """A failure a command reports; ``str(error)`` is the message, exactly as printed."""


class BadInput(StatusgenError):
    """A malformed file, a bad argument, a site that cannot be built from what it was given."""


class UsageError(BadInput):
    """A setting or argument the command cannot work with (printed after ``statusgen: ``)."""


class ConfigInvalid(BadInput):
    """monitors.yaml cannot be used; the message lists every problem with file:line:col."""


class TrackerUnavailable(StatusgenError):
    """The incident tracker stayed unavailable; the checks were recorded and the site built."""


class DataError(StatusgenError):
    """The history in data/ could not be read or written; nothing was overwritten."""


@dataclass(frozen=True)
class Outcome:
    """How a command that finished ended: ``failure`` was already reported and decides the exit code."""

    failure: Optional[StatusgenError] = None

    @property
    def ok(self) -> bool:
        return self.failure is None
