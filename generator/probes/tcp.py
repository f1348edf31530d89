"""TCP probe: a connection opens within the timeout."""

from __future__ import annotations

import socket

from generator.models import Check, CheckStatus, Monitor, TcpSpec
from generator.probes.base import Deadline, describe_error, make_check, now


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
