"""The agent's socket plumbing: a per-request deadline, a bounded pool, strict framing, quiet errors.

A client that trickles one header line every few seconds used to be held as long as it liked
(the socket timeout restarts with every byte), each on its own thread. Here every read of a
request is given only what is left of one total deadline, and at most ``max_connections``
connections are served at once; one more is answered 503 and closed.
"""

from __future__ import annotations

import io
import logging
import re
import socket
import sys
import threading
import time
from email.message import Message
from http.server import ThreadingHTTPServer
from typing import Any

from generator.secrets import clip

log = logging.getLogger("statusgen.agent")

DIGITS = re.compile(r"[0-9]{1,12}")  # ASCII only: str.isdigit() also takes "²" and "٣", which int() refuses
LENGTH = re.compile(r"[0-9]{1,19}")
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 27\r\n"
        b"Retry-After: 5\r\nConnection: close\r\n\r\n{\"error\": \"agent is busy\"}\n")


class DeadlineReader(io.RawIOBase):
    """Reads from a socket, each ``recv`` bounded by what is left of ``deadline`` (monotonic seconds)."""

    def __init__(self, sock: socket.socket):
        super().__init__()
        self.sock = sock
        self.deadline = time.monotonic()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("request deadline passed")
        self.sock.settimeout(remaining)
        return self.sock.recv_into(buffer)


def timestamp(value: str | None) -> bool:
    """Absent, or unix seconds in ASCII digits (anything else is a malformed request, not a bad signature)."""
    return value is None or DIGITS.fullmatch(value.strip()) is not None


def framing(headers: Message) -> tuple[int, str] | int:
    """The body length, or ``(status, reason)`` when the framing is missing, ambiguous or unsupported.

    A body is framed by exactly one ``Content-Length`` in ASCII digits. Any ``Transfer-Encoding``
    next to it is ambiguous (request smuggling through a proxy that reads the other one); a
    ``Transfer-Encoding`` alone is 411 when it is plain ``chunked`` and 400 for any other coding.
    """
    lengths = headers.get_all("Content-Length") or []
    codings = headers.get_all("Transfer-Encoding") or []
    if codings:
        if lengths:
            return 400, "Transfer-Encoding with Content-Length"
        if [c.strip().lower() for c in codings] != ["chunked"]:
            return 400, "unsupported Transfer-Encoding"
        return 411, "Content-Length required"
    if not lengths:
        return 411, "Content-Length required"
    if len(set(v.strip() for v in lengths)) != 1 or not LENGTH.fullmatch(lengths[0].strip()):
        return 400, "bad Content-Length"
    return int(lengths[0].strip())


class PooledServer(ThreadingHTTPServer):
    """At most ``slots`` connections handled at once; errors of a connection logged in one line."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: Any, slots: int):
        self.slots = threading.BoundedSemaphore(slots)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self._busy(request, client_address)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def _busy(self, request: socket.socket, client_address: Any) -> None:
        try:
            request.settimeout(1.0)
            request.sendall(BUSY)
        except OSError:
            pass
        self.shutdown_request(request)
        log.info("%s", f"{_client(client_address)} 503 busy: all handler threads taken")

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line, no traceback: a client going away is routine, anything else is named briefly."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            log.info("%s", f"{_client(client_address)} disconnected ({type(error).__name__})")
        else:
            log.warning("%s", clip(f"{_client(client_address)} request failed: {type(error).__name__}: {error}", 300))


def _client(address: Any) -> str:
    return str(address[0]) if isinstance(address, tuple) and address else "-"
