"""UDP probe: send one datagram, optionally wait for a reply that meets ``expect``.

UDP has no connection, so without ``expect`` the check is up unless the host answers "port
unreachable" (ICMP, seen as a refused connection on a connected socket) within a short wait. With
``expect``, replies are read until one matches or the timeout runs out.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

from generator.config.keys import Key, SpecContext, Text, host, port
from generator.models import Check, CheckStatus, Monitor
from generator.probes.base import Deadline, describe_error, make_check, now
from generator.probes.probetype import ProbeType
from generator.probes.reply import ReplyExpect, expect_block, hex_key, shown, unmet

UNREACHABLE_WAIT = 0.5  # seconds to listen for "port unreachable" when no reply is expected
MAX_REPLIES = 50
MAX_DATAGRAM = 65535


@dataclass(frozen=True)
class UdpSpec:
    host: str
    port: int
    send: str | None = None
    send_hex: str | None = None
    expect: ReplyExpect = field(default_factory=ReplyExpect)

    @property
    def payload(self) -> bytes:
        if self.send_hex is not None:
            return bytes.fromhex(self.send_hex)
        return (self.send or "").encode("utf-8")


KEYS: tuple[Key, ...] = (
    host("host", "host to send to", required=True),
    port("port", "UDP port", required=True),
    Text("send", "the datagram to send, as text (default: an empty datagram)", allow_empty=True),
    hex_key("send_hex", "the datagram to send, as hex bytes (e.g. \"ff ff ff ff 54\")"),
    expect_block("udpExpect", "a reply that must arrive within the timeout", binary=True),
)


def _one_payload(spec: UdpSpec, context: SpecContext) -> bool:
    if spec.send is None or spec.send_hex is None:
        return True
    where = context.entries["send_hex"]
    context.reader.problem(where.key_node, where.path, "use either send or send_hex, not both")
    return False


def probe(monitor: Monitor, timeout: float) -> Check:
    spec = monitor.spec
    if not isinstance(spec, UdpSpec):
        raise TypeError(f"monitor {monitor.id}: udp probe needs a UdpSpec")
    started = now()
    deadline = Deadline(timeout)
    details: dict[str, Any] = {}

    def check(status: CheckStatus, error: str = "") -> Check:
        return make_check(monitor, started, status, latency_ms=deadline.elapsed_ms(), error=error, details=details)

    try:
        family, kind, proto, _, address = socket.getaddrinfo(spec.host, spec.port, type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, kind, proto) as sock:
            sock.connect(address)  # connected: an ICMP "port unreachable" comes back as ConnectionRefusedError
            sock.send(spec.payload)
            if not spec.expect.wanted:
                _listen_briefly(sock, deadline, details)
                return check(CheckStatus.UP)
            failure = _await(sock, spec.expect, deadline, details)
            return check(CheckStatus.DOWN, failure) if failure else check(CheckStatus.UP)
    except ConnectionRefusedError:
        return check(CheckStatus.DOWN, f"port unreachable: nothing listens on udp/{spec.port}")
    except OSError as exc:
        return check(CheckStatus.DOWN, describe_error(exc, timeout))
    finally:
        deadline.close()


def _await(sock: socket.socket, expect: ReplyExpect, deadline: Deadline, details: dict[str, Any]) -> str:
    """"" once a reply meets ``expect``; else why not, within the deadline."""
    failure = ""
    for _ in range(MAX_REPLIES):
        remaining = deadline.remaining()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            data = sock.recv(MAX_DATAGRAM)
        except TimeoutError:
            break
        details["reply"] = shown(data)
        failure = unmet(expect, data)
        if not failure:
            return ""
    within = deadline.timed_out().removeprefix("timed out after ")
    return f"no matching reply within {within}: {failure}" if failure else f"no reply within {within}"


def _listen_briefly(sock: socket.socket, deadline: Deadline, details: dict[str, Any]) -> None:
    """Wait a moment for "port unreachable" (raised as ConnectionRefusedError); a reply or silence is fine."""
    sock.settimeout(max(min(UNREACHABLE_WAIT, deadline.remaining()), 0.001))
    try:
        details["reply"] = shown(sock.recv(MAX_DATAGRAM))
    except TimeoutError:
        pass  # silence: fine for a service that never answers (syslog, statsd)


TYPE = ProbeType(name="udp", doc="a UDP datagram is sent and, optionally, answered", spec=UdpSpec, keys=KEYS,
                 probe=probe, check=_one_payload)
