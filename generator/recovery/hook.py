"""Sending one restart request: signed headers, in-budget retries of connection errors and 5xx."""

from __future__ import annotations

import time
from typing import Callable, Optional

import requests

from generator import __version__, signing
from generator.models import RestartSpec
from generator.recovery.attempts import RestartAttempt, evolve
from generator.secrets import clip, mask, scrub

MAX_TRIES = 6  # hard bound on HTTP tries per attempt, whatever the clock says
FIRST_BACKOFF = 0.5
RESPONSE_EXCERPT = 200
EXCERPT_SCAN = 8192  # characters of the body masked before the excerpt is cut from them


class HookSender:
    def __init__(self, session: requests.Session, sleep: Callable[[float], None],
                 wallclock: Callable[[], float]) -> None:
        self.session = session
        self.sleep = sleep
        self.wallclock = wallclock  # signs the timestamp header: the receiver compares it with its own clock

    def headers(self, spec: RestartSpec, attempt: RestartAttempt, body: bytes) -> dict[str, str]:
        headers = {
            "User-Agent": f"statusgen/{__version__}",
            "Content-Type": "application/json" if body[:1] in (b"{", b"[") else "text/plain; charset=utf-8",
            signing.EVENT_HEADER: "restart",
            signing.DELIVERY_HEADER: attempt.delivery,
            signing.IDEMPOTENCY_HEADER: attempt.idempotency_key,
        }
        for name, value in spec.headers:  # the user's headers win (e.g. Authorization, Content-Type)
            headers[name] = value
        return headers

    def send(self, spec: RestartSpec, pending: RestartAttempt, body: bytes) -> RestartAttempt:
        base_headers = self.headers(spec, pending, body)
        start = time.monotonic()
        deadline = start + max(0.1, spec.timeout)
        backoff = FIRST_BACKOFF
        tries = 0
        status: Optional[int] = None
        latency: Optional[float] = None
        error = ""
        retriable = False
        stamp = 0
        while tries < MAX_TRIES:
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                break
            tries += 1
            # re-signed per try, each with a later timestamp: a retry is never a byte-for-byte replay
            stamp = max(int(self.wallclock()), stamp + 1)
            headers = {**base_headers, **signing.signed_headers(spec.secret, pending.delivery, stamp, body)}
            sent = time.monotonic()
            try:
                response = self.session.request(
                    spec.method,
                    spec.url,
                    data=body,
                    headers=headers,
                    timeout=(min(remaining, 5.0), remaining),
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                latency = (time.monotonic() - sent) * 1000.0
                status, error, retriable = None, describe_exception(exc), True
            else:
                latency = (time.monotonic() - sent) * 1000.0
                status = response.status_code
                if 200 <= status < 300:
                    error, retriable = "", False
                    break
                # mask, then cut: a secret cut at the 200th character would no longer be recognised
                excerpt = clip(" ".join(scrub(response.text[:EXCERPT_SCAN]).split()), RESPONSE_EXCERPT)
                error = f"HTTP {status} {mask(response.reason or '')}".strip() + (f": {excerpt}" if excerpt else "")
                retriable = status >= 500 or status == 429
                if not retriable:
                    break  # 4xx: the request itself is wrong; repeating it cannot help
            pause = backoff
            backoff *= 2
            if time.monotonic() + pause >= deadline - 0.05:
                break  # no budget left for another try after the pause
            self.sleep(pause)
        ok = status is not None and 200 <= status < 300
        if tries == 0:
            error = error or "no time budget left to send the request"
        return evolve(
            pending,
            ok=ok,
            status_code=status,
            latency_ms=round(latency, 1) if latency is not None else None,
            error="" if ok else mask(error),
            tries=tries,
            duration_ms=round((time.monotonic() - start) * 1000.0, 1),
            retried=retriable and not ok,
        )


def describe_exception(exc: requests.RequestException) -> str:
    """A short reason without the URL (its path or query may carry a token)."""
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        for needle, reason in (
            ("Connection refused", "connection refused"),
            ("Name or service not known", "name not resolved"),
            ("nodename nor servname", "name not resolved"),
            ("Temporary failure in name resolution", "name not resolved"),
            ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
            ("Connection reset", "connection reset"),
            ("RemoteDisconnected", "connection closed without a response"),
        ):
            if needle in text:
                return reason
        return "connection failed"
    return type(exc).__name__
