"""The probe types, in one table.

Each type is one module declaring ``TYPE = ProbeType(...)`` (its name, spec, keys with docs,
validation and probe function; see :mod:`generator.probes.probetype`). The config loader, the JSON
Schema generator and the runner all read this table, so a new type is its module, one line here,
and its tests.
"""

from __future__ import annotations

from generator.probes import command, dns, http, ssh, tcp, tls, udp, websocket
from generator.probes.probetype import Probe, ProbeType

__all__ = ["BY_NAME", "DEFAULT", "NAMES", "PROBES", "TYPES", "Probe", "ProbeType"]

# the order users see: the ``type:`` choices, problems, ``statusgen check`` summaries, the schema
TYPES: tuple[ProbeType, ...] = (
    http.TYPE,
    tcp.TYPE,
    tls.TYPE,
    dns.TYPE,
    command.TYPE,
    websocket.TYPE,
    udp.TYPE,
    ssh.TYPE,
)

BY_NAME: dict[str, ProbeType] = {probe_type.name: probe_type for probe_type in TYPES}
NAMES: tuple[str, ...] = tuple(BY_NAME)
DEFAULT = "http"  # a monitor without ``type:``

# what the runner calls, by type name (a plain dict: tests add probes of their own)
PROBES: dict[str, Probe] = {probe_type.name: probe_type.probe for probe_type in TYPES}
