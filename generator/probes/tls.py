"""TLS probe: handshake with full verification, then the certificate's days left.

Verification uses the system CAs, or only ``ca_bundle`` when given, and the
hostname ``server_name`` (default ``host``). An invalid certificate (expired,
wrong host, untrusted) is DOWN with the reason; a valid one is DEGRADED under
``degraded_days`` and DOWN under ``down_days`` days left.
"""

from __future__ import annotations

import socket
import ssl
from datetime import datetime, timezone

from generator.models import Check, CheckStatus, Monitor, TlsSpec
from generator.probes.base import Deadline, describe_error, make_check, now
from generator.timeutil import to_iso


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
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                cert = tls.getpeercert()
                version = tls.version()
        finally:
            raw.close()
    except Exception as exc:
        error = deadline.timed_out() if deadline.expired else describe_error(exc, timeout)
        return make_check(monitor, started, CheckStatus.DOWN, latency_ms=deadline.elapsed_ms(), error=error)
    finally:
        deadline.close()
    latency_ms = deadline.elapsed_ms()

    not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), tz=timezone.utc)
    seconds_left = (not_after - started).total_seconds()
    days_left = int(seconds_left // 86400)
    details = {"days_left": days_left, "not_after": to_iso(not_after), "tls_version": version, "server_name": server_name}
    if days_left < spec.down_days:
        status, error = CheckStatus.DOWN, f"certificate expires in {days_left} days (on {to_iso(not_after)})"
    elif days_left < spec.degraded_days:
        status, error = CheckStatus.DEGRADED, f"certificate expires in {days_left} days (on {to_iso(not_after)})"
    else:
        status, error = CheckStatus.UP, ""
    return make_check(monitor, started, status, latency_ms=latency_ms, error=error, details=details)
