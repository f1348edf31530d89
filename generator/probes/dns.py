"""DNS probe (dnspython): a name resolves, optionally to the expected values.

Values are compared normalised: addresses as addresses, names lower-case without
the final dot, MX as ``"10 mx.example.com"`` or just the exchange, TXT as the
joined strings.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Optional

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

from generator.config.keys import Choice, Key, Texts, host, host_port
from generator.models import Check, CheckStatus, Monitor
from generator.probes.base import Deadline, make_check, now, seconds_text
from generator.probes.probetype import ProbeType

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT")


@dataclass(frozen=True)
class DnsSpec:
    name: str
    record_type: str = "A"
    resolver: str | None = None  # "host" or "host:port"; None = system resolver
    expect: tuple[str, ...] = ()
    match: str = "any"  # "any" or "all"


KEYS: tuple[Key, ...] = (
    host("host", "the DNS name to look up", required=True, hint=" (the DNS name to look up)", field="name"),
    Choice("record_type", "record type: " + ", ".join(RECORD_TYPES) + " (default A)", choices=RECORD_TYPES,
           fold=True),
    host_port("resolver", "resolver to ask: host or host:port (default: the system's)", default_port=53),
    Texts("expect", "the answer must contain this value (or these values)"),
    Choice("match", "any: one expected value is enough; all: every one (default any)", choices=("any", "all")),
)


def parse_resolver(text: str) -> tuple[str, int]:
    """``"1.1.1.1"``, ``"127.0.0.1:5353"``, ``"::1"``, ``"[::1]:5353"`` -> (host, port)."""
    value = text.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else 53
    if value.count(":") == 1:
        host, port = value.split(":")
        return host, int(port)
    return value, 53


def _norm_name(value: str) -> str:
    return value.strip().rstrip(".").lower()


def _values(record_type: str, answer) -> list[str]:
    values = []
    for rdata in answer:
        if record_type in ("A", "AAAA"):
            values.append(str(ipaddress.ip_address(rdata.address)))
        elif record_type == "CNAME":
            values.append(_norm_name(rdata.target.to_text()))
        elif record_type == "MX":
            values.append(f"{rdata.preference} {_norm_name(rdata.exchange.to_text())}")
        elif record_type == "TXT":
            values.append(b"".join(rdata.strings).decode("utf-8", errors="replace"))
    return values


def _matches(record_type: str, expected: str, found: list[str]) -> bool:
    if record_type in ("A", "AAAA"):
        try:
            wanted = str(ipaddress.ip_address(expected.strip()))
        except ValueError:
            return False
        return wanted in found
    if record_type == "CNAME":
        return _norm_name(expected) in found
    if record_type == "MX":
        parts = expected.split()
        if len(parts) == 2:
            return f"{parts[0]} {_norm_name(parts[1])}" in found
        return any(value.split(" ", 1)[1] == _norm_name(expected) for value in found)
    return expected in found  # TXT: exact text


def _resolver(spec: DnsSpec) -> dns.resolver.Resolver:
    if spec.resolver:
        host, port = parse_resolver(spec.resolver)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = port
    else:
        resolver = dns.resolver.Resolver()
    resolver.cache = None
    return resolver


def probe(monitor: Monitor, timeout: float) -> Check:
    spec = monitor.spec
    if not isinstance(spec, DnsSpec):
        raise TypeError(f"monitor {monitor.id}: dns probe needs a DnsSpec")
    started = now()
    deadline = Deadline(timeout)
    record_type = spec.record_type.upper()
    where = f" at {spec.resolver}" if spec.resolver else ""

    def down(error: str, records: Optional[list[str]] = None) -> Check:
        details = {"records": records} if records is not None else {}
        return make_check(monitor, started, CheckStatus.DOWN, latency_ms=deadline.elapsed_ms(), error=error, details=details)

    if record_type not in RECORD_TYPES:
        return down(f"unsupported record type {spec.record_type!r}")
    try:
        resolver = _resolver(spec)
    except (ValueError, dns.resolver.NoResolverConfiguration) as exc:
        return down(f"bad resolver: {exc}")
    try:
        # lifetime is the total budget across servers and retries, timeout the per-try limit
        answer = resolver.resolve(
            spec.name, record_type, lifetime=max(timeout, 0.001), raise_on_no_answer=False, search=False
        )
    except dns.resolver.NXDOMAIN:
        return down(f"NXDOMAIN: {_norm_name(spec.name)} does not exist{where}")
    except dns.resolver.LifetimeTimeout:
        return down(f"timed out after {seconds_text(timeout)}{where}")
    except dns.resolver.NoNameservers as exc:
        return down(f"no name server answered{where}: {exc}")
    except dns.exception.DNSException as exc:
        return down(f"DNS error{where}: {exc}")
    latency_ms = deadline.elapsed_ms()
    found = _values(record_type, answer.rrset or [])
    if not found:
        return down(f"no {record_type} records for {_norm_name(spec.name)}{where}", found)
    details = {"records": found}
    if spec.expect:
        hits = [value for value in spec.expect if _matches(record_type, value, found)]
        wanted_all = spec.match == "all"
        if (wanted_all and len(hits) < len(spec.expect)) or (not wanted_all and not hits):
            missing = [value for value in spec.expect if value not in hits]
            label = "all of" if wanted_all else "any of"
            return down(
                f"{record_type} {_norm_name(spec.name)}: got {', '.join(found)}; expected {label} {', '.join(missing if wanted_all else spec.expect)}",
                found,
            )
    return make_check(monitor, started, CheckStatus.UP, latency_ms=latency_ms, details=details)


TYPE = ProbeType(name="dns", doc="a DNS name resolves, optionally to expected values", spec=DnsSpec, keys=KEYS,
                 probe=probe)
