"""TLS probe: handshake with full verification, then the certificate's days left.

Verification uses the system CAs, or only ``ca_bundle`` when given, and the
hostname ``server_name`` (default ``host``). With ``starttls`` the connection first speaks the
protocol's plain-text upgrade (SMTP, IMAP, POP3, FTP, PostgreSQL; see :mod:`starttls`). An invalid certificate (expired,
wrong host, untrusted) is DOWN with the reason; a valid one is DEGRADED under
``degraded_days`` and DOWN under ``down_days`` days left.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone

from generator.config.keys import CaBundle, Choice, Integer, Key, SpecContext, host, port
from generator.models import Check, CheckStatus, Monitor
from generator.probes.base import Deadline, describe_error, make_check, now
from generator.probes.probetype import ProbeType
from generator.probes.starttls import DEFAULT_PORTS, PROTOCOLS, StartTlsError, upgrade
from generator.timeutil import to_iso


@dataclass(frozen=True)
class TlsSpec:
    host: str
    port: int = 443  # with starttls, 443 (implicit TLS, never STARTTLS) stands for the protocol's own port
    server_name: str | None = None  # SNI / hostname to verify, defaults to host
    ca_bundle: str | None = None
    degraded_days: int = 14  # fewer days left than this: degraded
    down_days: int = 3  # fewer days left than this (or invalid): down
    starttls: str | None = None  # speak this protocol's upgrade before the handshake

    def __post_init__(self) -> None:
        if self.starttls and self.port == 443:
            object.__setattr__(self, "port", DEFAULT_PORTS[self.starttls])  # frozen: set once, here


KEYS: tuple[Key, ...] = (
    host("host", "host whose certificate is checked", required=True),
    port("port", "TLS port (default 443; with starttls the protocol's own: smtp 587, imap 143, pop3 110, ftp 21, "
                 "postgres 5432)"),
    host("server_name", "name to send (SNI) and verify (default: host)"),
    CaBundle("ca_bundle", "a CA bundle file (PEM) to verify against; relative to the monitors file's folder"),
    Integer("degraded_days", "fewer days left than this: degraded (default 14)", minimum=0, maximum=3650),
    Integer("down_days", "fewer days left than this, or an invalid certificate: down (default 3)",
            minimum=0, maximum=3650),
    Choice("starttls", "upgrade a plain-text connection first: " + ", ".join(PROTOCOLS)
           + " (mail servers' certificates are the ones that expire unnoticed)", choices=PROTOCOLS),
)


def _days_in_order(spec: TlsSpec, context: SpecContext) -> bool:
    if spec.down_days <= spec.degraded_days:
        return True
    where = context.entries.get("down_days") or context.entries.get("degraded_days")
    context.reader.problem(where.node if where else context.node, where.path if where else context.path,
                           f"down_days ({spec.down_days}) must not be more than degraded_days ({spec.degraded_days})")
    return False


def _context(spec: TlsSpec) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=spec.ca_bundle) if spec.ca_bundle else ssl.create_default_context()
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def probe(monitor: Monitor, timeout: float) -> Check:
    spec = monitor.spec
    if not isinstance(spec, TlsSpec):
        raise TypeError(f"monitor {monitor.id}: tls probe needs a TlsSpec")
    started = now()
    deadline = Deadline(timeout)
    server_name = spec.server_name or spec.host
    try:
        context = _context(spec)
    except (OSError, ssl.SSLError) as exc:
        return make_check(monitor, started, CheckStatus.DOWN, error=f"cannot load ca_bundle: {exc.strerror or exc}")
    try:
        raw = socket.create_connection((spec.host, spec.port), timeout=max(timeout, 0.001))
        deadline.watch(raw)  # bounds a handshake that trickles
        try:
            raw.settimeout(max(deadline.remaining(), 0.001))
            if spec.starttls:
                upgrade(spec.starttls, raw)
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                cert = tls.getpeercert()
                version = tls.version()
        finally:
            raw.close()
    except StartTlsError as exc:
        error = deadline.timed_out() if deadline.expired else f"STARTTLS ({spec.starttls}): {exc}"
        return make_check(monitor, started, CheckStatus.DOWN, latency_ms=deadline.elapsed_ms(), error=error)
    except Exception as exc:  # noqa: BLE001 - every failure (socket, TLS, verification) becomes a short reason
        error = deadline.timed_out() if deadline.expired else describe_error(exc, timeout)
        return make_check(monitor, started, CheckStatus.DOWN, latency_ms=deadline.elapsed_ms(), error=error)
    finally:
        deadline.close()
    latency_ms = deadline.elapsed_ms()

    expiry = cert.get("notAfter") if cert else None
    if not isinstance(expiry, str):  # only possible without verification, which we never turn off
        return make_check(monitor, started, CheckStatus.DOWN, latency_ms=latency_ms,
                          error="the server sent no certificate")
    not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(expiry), tz=timezone.utc)
    seconds_left = (not_after - started).total_seconds()
    days_left = int(seconds_left // 86400)
    details = {"days_left": days_left, "not_after": to_iso(not_after), "tls_version": version, "server_name": server_name}
    if spec.starttls:
        details["starttls"] = spec.starttls
    if days_left < spec.down_days:
        status, error = CheckStatus.DOWN, f"certificate expires in {days_left} days (on {to_iso(not_after)})"
    elif days_left < spec.degraded_days:
        status, error = CheckStatus.DEGRADED, f"certificate expires in {days_left} days (on {to_iso(not_after)})"
    else:
        status, error = CheckStatus.UP, ""
    return make_check(monitor, started, status, latency_ms=latency_ms, error=error, details=details)


TYPE = ProbeType(name="tls", doc="a TLS certificate verifies and is not about to expire", spec=TlsSpec, keys=KEYS,
                 probe=probe, check=_days_in_order)
