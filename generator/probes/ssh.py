"""SSH probe: the server sends its identification (``SSH-2.0-OpenSSH_9.6p1 Ubuntu-3``), no login.

RFC 4253 section 4.2: the server may send other lines first; the identification line starts with
``SSH-``, ends with CR LF and is at most 255 characters. Protocol 2.0 (or 1.99, which also speaks 2.0)
is up; ``version`` is a regular expression the identification must match (``OpenSSH_9``).
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from generator.config.keys import Key, host, port, regex
from generator.models import Check, CheckStatus, Monitor
from generator.probes.base import Deadline, describe_error, make_check, now
from generator.probes.probetype import ProbeType

MAX_BYTES = 8192  # of lines before the identification: a banner, not a novel
OUR_ID = b"SSH-2.0-statusgen_probe\r\n"


@dataclass(frozen=True)
class SshSpec:
    host: str
    port: int = 22
    version: str | None = None


KEYS: tuple[Key, ...] = (
    host("host", "SSH server to connect to", required=True),
    port("port", "SSH port (default 22)"),
    regex("version", "a regular expression the identification must match, e.g. OpenSSH_9"),
)


class BannerError(Exception):
    """The server answered, but not with an SSH identification."""


def read_identification(sock: socket.socket, deadline: Deadline) -> str:
    buffer = b""
    while len(buffer) < MAX_BYTES:
        sock.settimeout(max(deadline.remaining(), 0.001))
        chunk = sock.recv(1024)
        if not chunk and deadline.expired:
            raise TimeoutError  # the deadline shut the socket down
        if not chunk:
            raise BannerError("connection closed before the SSH identification" if not buffer else
                              f"not an SSH server: {buffer[:60].decode('latin-1').strip()!r}")
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if line.startswith(b"SSH-"):
                return line.rstrip(b"\r").decode("utf-8", errors="replace")[:255]
    raise BannerError("no SSH identification in the first 8 KB")


def probe(monitor: Monitor, timeout: float) -> Check:
    spec = monitor.spec
    if not isinstance(spec, SshSpec):
        raise TypeError(f"monitor {monitor.id}: ssh probe needs an SshSpec")
    started = now()
    deadline = Deadline(timeout)

    def down(error: str, details: dict[str, str] | None = None) -> Check:
        return make_check(monitor, started, CheckStatus.DOWN, latency_ms=deadline.elapsed_ms(), error=error,
                          details=details)

    try:
        with socket.create_connection((spec.host, spec.port), timeout=max(timeout, 0.001)) as sock:
            deadline.watch(sock)  # bounds a banner that trickles
            identification = read_identification(sock, deadline)
            latency_ms = deadline.elapsed_ms()
            try:
                sock.sendall(OUR_ID)  # polite: the server logs a client, not a scan
            except OSError:
                pass
    except BannerError as exc:
        return down(str(exc))
    except OSError as exc:
        return down(deadline.timed_out() if deadline.expired else describe_error(exc, timeout))
    finally:
        deadline.close()
    protocol, _, software = identification[4:].partition("-")
    details = {"identification": identification, "software": software.split(" ")[0]}
    if protocol not in ("2.0", "1.99"):
        return down(f"server speaks SSH protocol {protocol}, not 2.0", details)
    if spec.version and not re.search(spec.version, identification):
        return down(f"identification {identification!r} does not match /{spec.version}/", details)
    return make_check(monitor, started, CheckStatus.UP, latency_ms=latency_ms, details=details)


TYPE = ProbeType(name="ssh", doc="an SSH server identifies itself (no login)", spec=SshSpec, keys=KEYS, probe=probe)
