"""The plain-text dialogues that upgrade a connection to TLS (STARTTLS and its cousins), for ``tls``.

Each speaks just enough of its protocol to ask for TLS: after it returns, the next bytes on the
socket are the TLS handshake. A server that answers otherwise raises :class:`StartTlsError` with
what it said (e.g. it does not offer STARTTLS).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable

DEFAULT_PORTS = {"smtp": 587, "imap": 143, "pop3": 110, "ftp": 21, "postgres": 5432}
PROTOCOLS = tuple(DEFAULT_PORTS)
MAX_LINE = 4096
MAX_LINES = 100  # of a multi-line reply (an EHLO lists a dozen extensions)
POSTGRES_SSL_REQUEST = struct.pack("!ii", 8, 80877103)


class StartTlsError(Exception):
    """The server did not agree to switch to TLS."""


class Lines:
    """Reads CRLF lines off a socket, never past the end of the last line asked for (a server says
    nothing after its go-ahead until our TLS hello, so nothing of the handshake is consumed)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def line(self) -> str:
        while b"\n" not in self.buffer:
            if len(self.buffer) > MAX_LINE:
                raise StartTlsError("the server sent a line longer than 4 KB")
            chunk = self.sock.recv(MAX_LINE)
            if not chunk:
                raise StartTlsError("the server closed the connection")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", errors="replace")

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode("ascii") + b"\r\n")


def _reply(lines: Lines) -> tuple[str, list[str]]:
    """An SMTP/FTP reply: ``250-first``, ..., ``250 last`` -> ("250", every line)."""
    found = []
    for _ in range(MAX_LINES):
        line = lines.line()
        found.append(line)
        if len(line) < 4 or line[3] != "-":
            return line[:3], found
    raise StartTlsError("the server's reply does not end")


def _expect(code: str, wanted: str, said: list[str], step: str) -> None:
    if code != wanted:
        raise StartTlsError(f"{step}: {said[-1][:120] if said else 'no answer'}")


def smtp(lines: Lines) -> None:
    code, said = _reply(lines)
    _expect(code, "220", said, "greeting")
    lines.send("EHLO statusgen.invalid")
    code, said = _reply(lines)
    _expect(code, "250", said, "EHLO")
    if not any(line[4:].strip().upper().startswith("STARTTLS") for line in said):
        raise StartTlsError("the server does not offer STARTTLS")
    lines.send("STARTTLS")
    code, said = _reply(lines)
    _expect(code, "220", said, "STARTTLS")


def ftp(lines: Lines) -> None:
    code, said = _reply(lines)
    _expect(code, "220", said, "greeting")
    lines.send("AUTH TLS")
    code, said = _reply(lines)
    _expect(code, "234", said, "AUTH TLS")


def imap(lines: Lines) -> None:
    greeting = lines.line()
    if not greeting.upper().startswith("* OK"):
        raise StartTlsError(f"greeting: {greeting[:120]}")
    lines.send("a1 STARTTLS")
    for _ in range(MAX_LINES):
        line = lines.line()
        if line.startswith("a1 "):
            if not line[3:].upper().startswith("OK"):
                raise StartTlsError(f"STARTTLS: {line[:120]}")
            return
    raise StartTlsError("no answer to STARTTLS")


def pop3(lines: Lines) -> None:
    greeting = lines.line()
    if not greeting.startswith("+OK"):
        raise StartTlsError(f"greeting: {greeting[:120]}")
    lines.send("STLS")
    answer = lines.line()
    if not answer.startswith("+OK"):
        raise StartTlsError(f"STLS: {answer[:120]}")


def postgres(lines: Lines) -> None:
    lines.sock.sendall(POSTGRES_SSL_REQUEST)
    answer = lines.sock.recv(1)
    if answer == b"N":
        raise StartTlsError("the server does not accept TLS")
    if answer != b"S":
        raise StartTlsError("not a PostgreSQL server" if answer else "the server closed the connection")


DIALOGUES: dict[str, Callable[[Lines], None]] = {"smtp": smtp, "imap": imap, "pop3": pop3, "ftp": ftp,
                                                 "postgres": postgres}


def upgrade(protocol: str, sock: socket.socket) -> None:
    """Ask the server on ``sock`` to switch to TLS; returns when the handshake may start."""
    DIALOGUES[protocol](Lines(sock))
