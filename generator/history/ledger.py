"""The small JSON ledgers beside the history (``data/cache/<name>.json``), as a protocol.

Recovery (restart attempts), notify (messages sent), the run (tracker updates pending) and the
GitHub tracker (its issue mirror) keep their memory across runs in named JSON values. They ask
only for this much, so a test can hand them anything that keeps values by name.
"""

from __future__ import annotations

from typing import Any, Protocol


class Ledger(Protocol):
    def read_json(self, name: str, default: Any = None) -> Any:
        """The value stored under ``name``, or ``default`` when there is none."""

    def write_json(self, name: str, value: Any) -> None:
        """Store ``value`` (JSON-ready) under ``name``, atomically."""
