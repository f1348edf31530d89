"""HMAC-SHA256 signatures for restart webhooks, shared by the sender (recovery) and the agent.

What is signed: ``f"{timestamp}.".encode() + body`` -- the unix timestamp sent in
``X-Statusgen-Timestamp``, a dot, then the exact body bytes. Signing the body
alone (as GitHub does) would let anyone who once saw a request replay it forever;
covering the timestamp lets the receiver reject anything older than five minutes.

The signature travels as ``X-Statusgen-Signature-256: sha256=<hex>``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Optional

SIGNATURE_HEADER = "X-Statusgen-Signature-256"
TIMESTAMP_HEADER = "X-Statusgen-Timestamp"
DELIVERY_HEADER = "X-Statusgen-Delivery"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "X-Statusgen-Event"

PREFIX = "sha256="
MAX_AGE = 300.0  # seconds a signed request stays valid
MAX_FUTURE = 60.0  # tolerated clock skew ahead of the receiver


class SignatureError(Exception):
    """Why a request's signature or timestamp was refused (never contains the secret)."""


def signed_material(timestamp: int | str, body: bytes) -> bytes:
    return str(timestamp).encode("ascii") + b"." + body


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex>`` over ``timestamp + "." + body``."""
    digest = hmac.new(secret.encode("utf-8"), signed_material(timestamp, body), hashlib.sha256)
    return PREFIX + digest.hexdigest()


def _parse_timestamp(value: Optional[str]) -> int:
    if value is None or not value.strip():
        raise SignatureError(f"missing {TIMESTAMP_HEADER} header")
    text = value.strip()
    if not text.isdigit() or len(text) > 12:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not unix seconds")
    return int(text)


@dataclass(frozen=True)
class Verified:
    timestamp: int
    age: float  # seconds between the timestamp and the receiver's clock (negative: from the future)


def verify(
    secret: str,
    body: bytes,
    signature: Optional[str],
    timestamp: Optional[str],
    *,
    now: float,
    max_age: float = MAX_AGE,
    max_future: float = MAX_FUTURE,
) -> Verified:
    """Check signature and freshness; raise :class:`SignatureError` with a short reason.

    The signature is checked before the timestamp so that an attacker learns
    nothing about the clock window from a forged request.
    """
    if not secret:
        raise SignatureError("receiver has no secret configured")
    if signature is None or not signature.strip():
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    stamp = _parse_timestamp(timestamp)
    given = signature.strip()
    if not given.startswith(PREFIX):
        raise SignatureError(f"{SIGNATURE_HEADER} must start with {PREFIX}")
    expected = sign(secret, stamp, body)
    # constant-time comparison: a timing side channel must not reveal the digest
    if not hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii")):
        raise SignatureError("signature does not match")
    age = now - stamp
    if age > max_age:
        raise SignatureError(f"timestamp is {int(age)}s old (limit {int(max_age)}s)")
    if -age > max_future:
        raise SignatureError(f"timestamp is {int(-age)}s in the future (limit {int(max_future)}s)")
    return Verified(timestamp=stamp, age=age)


def idempotency_key(monitor_id: str, incident_started: str, attempt: int) -> str:
    """Stable per incident and attempt, so a retried delivery is recognisably the same request."""
    material = f"{monitor_id}\n{incident_started}\n{attempt}".encode("utf-8")
    return hashlib.sha256(material).hexdigest()[:32]
