"""Signatures of restart webhooks, shared by the sender (recovery) and the agent: the one implementation.

Standard Webhooks (https://www.standardwebhooks.com, spec.md): every request carries
``webhook-id`` (the attempt's delivery id, the same on each retry of it),
``webhook-timestamp`` (unix seconds of this try) and, when a secret is set,
``webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``. Any
receiver verifies it with the maintained ``standardwebhooks`` libraries (PyPI, npm,
Go, ...); ``statusgen agent`` uses the PyPI one (:func:`verify_standard`).

Secrets: a ``whsec_<base64>`` secret is used as the spec says (the HMAC key is the
decoded bytes). Any other secret is used as its UTF-8 bytes, so existing secrets
keep working; a receiver gives the libraries ``standard_secret(secret)``, that is
``"whsec_" + base64(secret)`` (``statusgen`` prints it, see docs/restart-agent.md).

Deprecated, for one release: the same requests also carry ``X-Statusgen-Timestamp``
and ``X-Statusgen-Signature-256: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``
(keyed with the secret's text as before), and the agent still accepts them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from standardwebhooks import Webhook

SIGNATURE_HEADER = "X-Statusgen-Signature-256"
TIMESTAMP_HEADER = "X-Statusgen-Timestamp"
DELIVERY_HEADER = "X-Statusgen-Delivery"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "X-Statusgen-Event"
# Standard Webhooks
WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"
SECRET_PREFIX = "whsec_"

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


def _parse_timestamp(value: str | None) -> int:
    if value is None or not value.strip():
        raise SignatureError(f"missing {TIMESTAMP_HEADER} header")
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:  # "²" is a digit to isdigit(), not to int()
        raise SignatureError(f"{TIMESTAMP_HEADER} is not unix seconds")
    return int(text)


@dataclass(frozen=True)
class Verified:
    timestamp: int
    age: float  # seconds between the timestamp and the receiver's clock (negative: from the future)


def verify(
    secret: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
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
    material = f"{monitor_id}\n{incident_started}\n{attempt}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


# --------------------------------------------------------------------------- Standard Webhooks


def key_of(secret: str) -> bytes:
    """The HMAC key: the decoded bytes of a ``whsec_<base64>`` secret, else the secret's UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("a whsec_ secret must be base64 after the prefix") from None
    return secret.encode("utf-8")


def standard_secret(secret: str) -> str:
    """The ``whsec_...`` form of ``secret`` that the standardwebhooks libraries take."""
    return secret if secret.startswith(SECRET_PREFIX) else SECRET_PREFIX + base64.b64encode(key_of(secret)).decode()


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``."""
    material = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key_of(secret), material, hashlib.sha256).digest()).decode()


def signed_headers(secret: str | None, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one try: Standard Webhooks, plus the deprecated ``X-Statusgen-*`` pair."""
    headers = {WEBHOOK_ID: msg_id, WEBHOOK_TIMESTAMP: str(timestamp), TIMESTAMP_HEADER: str(timestamp)}
    if secret:
        headers[WEBHOOK_SIGNATURE] = standard_signature(secret, msg_id, timestamp, body)
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    return headers


def verify_standard(secret: str, body: bytes, headers: Mapping[str, str], *, now: float,
                    max_age: float = MAX_AGE, max_future: float = MAX_FUTURE) -> Verified:
    """Check a Standard Webhooks request with the ``standardwebhooks`` package, then our own window.

    The package checks the signature and a fixed five-minute window on the wall clock; the
    agent's ``max_age``/``max_future`` (and the ``now`` it is given) narrow that further.
    """
    if not secret:
        raise SignatureError("receiver has no secret configured")
    lowered = {k.lower(): v for k, v in headers.items()}
    wanted = {name: lowered.get(name, "") for name in (WEBHOOK_ID, WEBHOOK_TIMESTAMP, WEBHOOK_SIGNATURE)}
    missing = [name for name, value in wanted.items() if not value.strip()]
    if missing:
        raise SignatureError(f"missing {', '.join(missing)} header(s)")
    stamp = _parse_timestamp(wanted[WEBHOOK_TIMESTAMP])
    age = now - stamp
    try:
        Webhook(key_of(secret)).verify(body, wanted, json_parse=False)
    except Exception as error:  # noqa: BLE001 (the package raises several types; all mean "refused")
        said = str(error).lower()
        if "too old" in said:
            raise SignatureError(f"timestamp is {int(age)}s old (limit {int(min(max_age, 300))}s)") from None
        if "too new" in said:
            raise SignatureError(f"timestamp is {int(-age)}s in the future") from None
        raise SignatureError("signature does not match") from None
    if age > max_age:
        raise SignatureError(f"timestamp is {int(age)}s old (limit {int(max_age)}s)")
    if -age > max_future:
        raise SignatureError(f"timestamp is {int(-age)}s in the future (limit {int(max_future)}s)")
    return Verified(timestamp=stamp, age=age)


class SeenMessages:
    """Replay protection: a (webhook-id, timestamp) pair is accepted once while its timestamp is valid.

    A captured request sent again repeats both and is refused. The sender's own retry of an
    attempt keeps the webhook-id (as the spec asks, for idempotency) but is signed anew with a
    later timestamp, so it reaches the idempotency rules instead.
    """

    def __init__(self, keep: int = 4096):
        self.keep = keep
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, msg_id: str, timestamp: str) -> bool:
        key = (msg_id, timestamp.strip())
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = None
            while len(self._seen) > self.keep:  # older than any valid window long before this
                self._seen.popitem(last=False)
            return True
