"""Exactly one writer: the lease a watcher holds on a history folder (``data/lease.json``).

A watcher takes the lease before it writes anything and renews it as it goes (every few seconds
and at each publish); a second watcher started against the same folder waits until the lease is
released or expires, or exits with a message naming the holder. The file travels with the history
(on the ``status-data`` branch in Actions), so a successor on another machine sees it too.

Taking and renewing are read-decide-write steps; an exclusive lock file (``O_CREAT | O_EXCL``)
beside the lease makes them atomic between processes on one machine, and the lease itself is
written atomically (generator.fsutil), so a watcher killed at any instant leaves a whole file.
A lease whose holder is a process on this host that no longer exists is free at once.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Optional

from generator.fsutil import atomic_write_json
from generator.timeutil import parse_iso, to_iso, utcnow

LEASE_FILE = "lease.json"
LOCK_FILE = ".lease.lock"
LEASE_TTL = 30.0  # seconds a lease lasts without renewal
STALE_LOCK = 10.0  # seconds after which a lock file left by a killed process is removed


class LeaseError(Exception):
    """The lease is held by another watcher, was taken away, or cannot be read or written."""


@dataclass(frozen=True)
class Holder:
    holder: str
    host: str
    pid: int
    acquired: datetime
    expires: datetime
    released: bool = False

    def describe(self) -> str:
        return f"watcher {self.holder[:8]} on {self.host} (pid {self.pid}) until {to_iso(self.expires)}"

    def as_json(self) -> dict[str, Any]:
        return {"holder": self.holder, "host": self.host, "pid": self.pid, "acquired": to_iso(self.acquired),
                "expires": to_iso(self.expires), "released": self.released}


def read_holder(path: Path) -> Optional[Holder]:
    """The lease as written, or None when there is none (a torn or foreign file is no lease)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Holder(str(data["holder"]), str(data["host"]), int(data["pid"]), parse_iso(data["acquired"]),
                      parse_iso(data["expires"]), bool(data.get("released", False)))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LeaseError(f"{path}: cannot read the lease: {error}") from None


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class Lease:
    """This process's claim on a history folder."""

    def __init__(self, data_dir: Path, *, ttl: float = LEASE_TTL, clock: Callable[[], datetime] = utcnow) -> None:
        self.path = data_dir / LEASE_FILE
        self.lock_path = data_dir / LOCK_FILE
        self.ttl = ttl
        self.clock = clock
        self.id = uuid.uuid4().hex
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.held = False
        self._acquired: Optional[datetime] = None

    # ------------------------------------------------------------------ the lock around read-decide-write

    def _lock(self, timeout: float = 5.0) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                return os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    if time.time() - self.lock_path.stat().st_mtime > STALE_LOCK:
                        self.lock_path.unlink(missing_ok=True)
                        continue
                except FileNotFoundError:
                    continue
                if time.monotonic() > deadline:
                    raise LeaseError(f"{self.lock_path}: locked for more than {timeout:g}s") from None
                time.sleep(0.02)

    def _unlock(self, fd: int) -> None:
        os.close(fd)
        self.lock_path.unlink(missing_ok=True)

    def _free(self, current: Optional[Holder], now: datetime) -> bool:
        if current is None or current.released or current.holder == self.id or current.expires <= now:
            return True
        return current.host == self.host and current.pid != self.pid and _process_gone(current.pid)

    def _write(self, now: datetime, *, released: bool = False) -> None:
        acquired = self._acquired or now
        expires = now if released else now + timedelta(seconds=self.ttl)
        atomic_write_json(self.path, Holder(self.id, self.host, self.pid, acquired, expires, released).as_json())

    # ------------------------------------------------------------------ the public steps

    def try_acquire(self) -> Optional[Holder]:
        """Take the lease if it is free; returns None when taken, else who holds it."""
        try:
            fd = self._lock()
            try:
                now = self.clock()
                current = read_holder(self.path)
                if not self._free(current, now):
                    return current
                self._acquired = now
                self._write(now)
                self.held = True
                return None
            finally:
                self._unlock(fd)
        except OSError as error:
            raise LeaseError(f"{self.path}: cannot take the lease: {error.strerror or error}") from None

    def renew(self) -> None:
        """Push the expiry on; raises when another watcher took the lease meanwhile (stop writing)."""
        if not self.held:
            return
        try:
            fd = self._lock()
            try:
                current = read_holder(self.path)
                if current is not None and current.holder != self.id and not current.released:
                    self.held = False
                    raise LeaseError(f"{self.path}: the lease was taken by {current.describe()}; stopping")
                self._write(self.clock())
            finally:
                self._unlock(fd)
        except OSError as error:
            raise LeaseError(f"{self.path}: cannot renew the lease: {error.strerror or error}") from None

    def release(self) -> None:
        """Mark the lease released (the next watcher may start at once); never raises."""
        if not self.held:
            return
        self.held = False
        try:
            fd = self._lock()
            try:
                current = read_holder(self.path)
                if current is None or current.holder == self.id:
                    self._write(self.clock(), released=True)
            finally:
                self._unlock(fd)
        except (OSError, LeaseError):
            pass
