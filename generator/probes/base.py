"""What every probe shares: a total deadline, short human error texts, masked output.

A probe's ``timeout`` is a budget for the whole check (connect, handshake,
request, body), not a per-socket-read limit. :class:`Deadline` keeps that
budget and, for sockets handed to :meth:`Deadline.watch`, shuts them down when
it runs out, so a server that trickles bytes cannot stretch a check.
"""

from __future__ import annotations

import contextvars
import errno
import heapq
import itertools
import socket
import ssl
import threading
import time
from datetime import datetime
from typing import Any, Callable, Optional, Protocol, TypeVar

from generator.models import Check, CheckStatus, Monitor
from generator.secrets import clip, scrub
from generator.timeutil import utcnow

MAX_ERROR_CHARS = 300


def seconds_text(seconds: float) -> str:
    """``3.0`` -> ``3.0s``, ``0.25`` -> ``0.25s``: the way errors name a duration."""
    return f"{seconds:.1f}s" if round(seconds, 1) == seconds else f"{seconds:g}s"


def short(text: object, limit: int = MAX_ERROR_CHARS) -> str:
    """Masked (URLs scrubbed), one line, bounded: fit for an issue title, a table cell or a log line.

    Masked before it is cut: a cut must never leave the first half of a secret behind.
    """
    return clip(" ".join(scrub(text).split()), limit)


def make_check(
    monitor: Monitor,
    started: datetime,
    status: CheckStatus,
    *,
    latency_ms: Optional[float] = None,
    code: Optional[int] = None,
    error: str = "",
    details: Optional[dict[str, Any]] = None,
) -> Check:
    return Check(
        monitor_id=monitor.id,
        time=started,
        status=status,
        latency_ms=None if latency_ms is None else round(latency_ms, 1),
        code=code,
        error=short(error),
        details=mask_details(details or {}),
    )


def mask_details(details: dict[str, Any]) -> dict[str, Any]:
    """Scrub and mask every string, at any depth: details end up in history and on the site."""
    return {key: _clean(value) for key, value in details.items()}


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    return value


def _chain(exc: BaseException):
    """The exception and everything it wraps (``__cause__``, ``__context__``, ``reason``, args)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.append(current.__cause__)
        todo.append(current.__context__)
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
        todo.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))


def describe_error(exc: BaseException, timeout: float) -> str:
    """A short human reason for a network failure: "connection refused", "timed out after 3.0s"."""
    chain = list(_chain(exc))
    # ssl's own error first: a client's wrapper (aiohttp's) may subclass it without its fields
    verify_errors = [item for item in chain if isinstance(item, ssl.SSLCertVerificationError)]
    for item in sorted(verify_errors, key=lambda item: not hasattr(item, "verify_message")):
        reason = getattr(item, "verify_message", None) or getattr(item, "reason", None)
        return f"certificate invalid: {reason or item}"
    for item in chain:
        if isinstance(item, ConnectionRefusedError) or getattr(item, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
    for item in chain:
        if isinstance(item, (socket.timeout, TimeoutError)) or type(item).__name__ in (
            "ConnectTimeout",
            "ReadTimeout",
            "ConnectTimeoutError",
            "ReadTimeoutError",
            "Timeout",
        ):
            return f"timed out after {seconds_text(timeout)}"
    for item in chain:
        if isinstance(item, socket.gaierror):
            return f"cannot resolve host: {item.strerror or item}"
        if type(item).__name__ == "NameResolutionError":
            return "cannot resolve host"
    for item in chain:
        if isinstance(item, ConnectionResetError) or getattr(item, "errno", None) == errno.ECONNRESET:
            return "connection reset by peer"
        if isinstance(item, (ssl.SSLError,)):
            return f"TLS error: {item.reason or item}"
    for item in chain:
        if isinstance(item, OSError) and item.strerror:
            return item.strerror.lower()
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if "connection refused" in lowered:
        return "connection refused"
    if "timed out" in lowered:
        return f"timed out after {seconds_text(timeout)}"
    return f"{type(exc).__name__}: {text}"


# --------------------------------------------------------------------------- deadline


class Deadline:
    """A total time budget that can also cut watched sockets when it runs out."""

    def __init__(self, timeout: float):
        self.timeout = float(timeout)
        self.start = time.monotonic()
        self.end = self.start + self.timeout
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._registered = False
        self.closed = False
        self.fired = False

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.fired or time.monotonic() >= self.end

    def elapsed_ms(self) -> float:
        return (time.monotonic() - self.start) * 1000.0

    def timed_out(self) -> str:
        return f"timed out after {seconds_text(self.timeout)}"

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down at the deadline. A duplicate descriptor is kept so a closed and
        reused descriptor number can never hit somebody else's socket."""
        try:
            dup = sock.dup()
        except OSError:
            return
        with self._lock:
            if self.closed:
                dup.close()
                return
            self._sockets.append(dup)
            register = not self._registered
            self._registered = True
        if register:
            _REAPER.add(self)

    def fire(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.fired = True
            for dup in self._sockets:
                try:
                    # shutdown (not close) wakes a thread blocked in recv on the same socket
                    socket.socket.shutdown(dup, socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        with self._lock:
            self.closed = True
            sockets, self._sockets = self._sockets, []
        for dup in sockets:
            try:
                dup.close()
            except OSError:
                pass

    def __enter__(self) -> Deadline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Reaper:
    """One daemon thread for every deadline in the process (not a timer thread per check)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._seq = itertools.count()
        self._thread: Optional[threading.Thread] = None

    def add(self, deadline: Deadline) -> None:
        with self._cond:
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (deadline.end, next(self._seq), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="probe-deadlines", daemon=True)
                self._thread.start()
            elif earliest is None or deadline.end < earliest:
                # wake the reaper only when it must fire sooner than planned: a wake per
                # check would cost a thread switch per check
                self._cond.notify()

    def _run(self) -> None:
        while True:
            due: list[Deadline] = []
            with self._cond:
                # drop finished checks early so the heap stays small
                while self._heap and self._heap[0][2].closed:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(timeout=30.0)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap)[2])
                if not due:
                    self._cond.wait(timeout=min(self._heap[0][0] - now, 1.0))
            for deadline in due:
                deadline.fire()


_REAPER = _Reaper()


# --------------------------------------------------------------------------- clients shared by a run


class AsyncClient(Protocol):
    async def aclose(self) -> None: ...


C = TypeVar("C", bound=AsyncClient)


class RunClients:
    """The clients that the async checks of one run share, one per kind (``"http"``), made on first
    use inside the run's event loop and closed when the run ends. What a client keeps is settings
    and prepared objects, never connections: every check still opens its own."""

    def __init__(self) -> None:
        self._made: dict[str, AsyncClient] = {}

    def get(self, kind: str, make: Callable[[], C]) -> C:
        client = self._made.get(kind)
        if client is None:
            client = self._made[kind] = make()
        return client  # type: ignore[return-value]  # one kind, one maker

    async def aclose(self) -> None:
        made, self._made = list(self._made.values()), {}
        for client in made:
            await client.aclose()


# set by the runner's event loop for the checks it runs; None outside a run (a probe called alone)
RUN_CLIENTS: contextvars.ContextVar[Optional[RunClients]] = contextvars.ContextVar("run_clients", default=None)


def now() -> datetime:
    return utcnow()
