"""Small loopback servers for the udp, ssh and STARTTLS probe tests: each speaks just enough of its
protocol, on 127.0.0.1 with an ephemeral port, and stops (threads joined, sockets closed) on exit."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self  # Python 3.10 has no typing.Self

HOST = "127.0.0.1"
WAIT = 10.0  # no handler blocks longer than this, even if a test forgets to stop it


class TcpServer:
    """Runs ``handler(conn)`` for each connection on its own thread."""

    def __init__(self, handler: Callable[[socket.socket], None]) -> None:
        self.handler = handler
        self.sock = socket.create_server((HOST, 0))
        self.port = self.sock.getsockname()[1]
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def _serve(self) -> None:
        self.sock.settimeout(0.05)
        while not self.stop_event.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(WAIT)
        try:
            self.handler(conn)
        except OSError:
            pass  # the probe hung up: fine
        except Exception as exc:  # noqa: BLE001 - kept for the test to see
            self.errors.append(exc)
        finally:
            conn.close()

    def __enter__(self) -> Self:
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        self.threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=WAIT)
        self.sock.close()


class UdpResponder:
    """Answers datagrams by a table: payload -> replies (each sent as one datagram); others get no reply."""

    def __init__(self, replies: dict[bytes, list[bytes]]) -> None:
        self.replies = replies
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(0.05)
        while not self.stop_event.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            self.received.append(data)
            for reply in self.replies.get(data, []):
                self.sock.sendto(reply, peer)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join(timeout=WAIT)
        self.sock.close()


def read_line(conn: socket.socket) -> bytes:
    """One CRLF- or LF-ended line, byte by byte (so nothing after it, such as a TLS hello, is consumed)."""
    line = b""
    while not line.endswith(b"\n") and len(line) < 4096:
        byte = conn.recv(1)
        if not byte:
            break
        line += byte
    return line
