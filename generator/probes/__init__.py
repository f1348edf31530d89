"""Probe types: one module each, all with the signature ``probe(monitor, timeout) -> Check``.

A probe returns DOWN with a short, masked reason for every failure it
understands; anything it raises is turned into a DOWN check by the runner.
"""

from __future__ import annotations

from typing import Callable

from generator.models import Check, Monitor
from generator.probes import dns, http, tcp, tls

Probe = Callable[[Monitor, float], Check]

PROBES: dict[str, Probe] = {
    "http": http.probe,
    "tcp": tcp.probe,
    "tls": tls.probe,
    "dns": dns.probe,
}

__all__ = ["PROBES", "Probe"]
