"""Replay protection that survives a restart of the agent.

A signed request stays valid for ``max_age`` seconds. Remembering what was accepted only in
memory let a captured request run its command again once the agent restarted, so the accepted
signatures (hashed) are kept in a small JSON file, written atomically, for as long as they are
valid. When that file cannot be read or written the agent falls back to the other safe rule:
a request signed before the agent started is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from pathlib import Path

from generator.fsutil import atomic_write_json

log = logging.getLogger("statusgen.agent")

KEEP = 20000  # entries; far more than a status page sends within one freshness window
VERSION = 1


def token(*parts: str) -> str:
    """What is remembered of a request: a hash of its signature material, never the signature itself."""
    return hashlib.sha256("\n".join(parts).encode("utf-8", "replace")).hexdigest()[:40]


class ReplayWindow:
    """Tokens of accepted requests with their signed timestamps, pruned once they are stale anyway."""

    def __init__(self, path: str | None, window: float, *, started: float | None = None):
        self.path = Path(path) if path else None
        self.window = window
        self.started = int(time.time() if started is None else started)
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        self.durable = self._load()

    def _load(self) -> bool:
        if self.path is None:
            return False
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return True
        except (OSError, ValueError) as exc:
            log.warning("replay state %s unreadable (%s): accepting only requests signed after start",
                        self.path, type(exc).__name__)
            return False
        seen = document.get("seen") if isinstance(document, dict) else None
        if not isinstance(seen, dict):
            log.warning("replay state %s malformed: accepting only requests signed after start", self.path)
            return False
        self._seen = {str(k): v for k, v in seen.items() if isinstance(v, int) and not isinstance(v, bool)}
        return True

    def first_time(self, keys: list[str], timestamp: int, now: float | None = None) -> bool:
        """Record ``keys``; ``False`` when any was accepted before (by this process or an earlier one)."""
        now = time.time() if now is None else now
        with self._lock:
            if any(key in self._seen for key in keys):
                return False
            if not self.durable and timestamp < self.started:
                return False  # nothing on disk says whether it ran before this process started
            self._seen.update((key, timestamp) for key in keys)
            self._prune(now)
            self._save()
            return True

    def _prune(self, now: float) -> None:
        oldest = now - self.window - 1
        self._seen = {k: v for k, v in self._seen.items() if v >= oldest}
        if len(self._seen) > KEEP:
            kept = sorted(self._seen.items(), key=lambda item: item[1])[-KEEP:]
            self._seen = dict(kept)

    def _save(self) -> None:
        if self.path is None or not self.durable:
            return
        try:
            atomic_write_json(self.path, {"version": VERSION, "seen": self._seen}, indent=None)
        except OSError as exc:
            # from now on the start time guards replays instead of the file
            log.warning("cannot write replay state %s (%s): accepting only requests signed after start",
                        self.path, exc.strerror or type(exc).__name__)
            self.durable = False
