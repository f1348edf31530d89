"""TCP probe: a connection opens within the timeout."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from generator.config.keys import Key, host, port
from generator.models import Check, CheckStatus, Monitor
from generator.probes.base import Deadline, describe_error, make_check, now
from generator.probes.probetype import ProbeType


@dataclass(frozen=True)
class TcpSpec:
    host: str
    port: int


KEYS: tuple[Key, ...] = (
    host("host", "host to connect to", required=True),
    port("port", "TCP port", required=True),
)


def probe(monitor: Monitor, timeout: float) -> Check:
    spec = monitor.spec
    if not isinstance(spec, TcpSpec):
        raise TypeError(f"monitor {monitor.id}: tcp probe needs a TcpSpec")
    started = now()
    deadline = Deadline(timeout)
    try:
        sock = socket.create_connection((spec.host, spec.port), timeout=max(timeout, 0.001))
    except OSError as exc:
        error = deadline.timed_out() if deadline.expired else describe_error(exc, timeout)
        return make_check(monitor, started, CheckStatus.DOWN, latency_ms=deadline.elapsed_ms(), error=error)
    latency_ms = deadline.elapsed_ms()
    sock.close()
    return make_check(monitor, started, CheckStatus.UP, latency_ms=latency_ms)


TYPE = ProbeType(name="tcp", doc="a TCP connection opens", spec=TcpSpec, keys=KEYS, probe=probe)
