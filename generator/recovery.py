"""Restart webhooks: when a monitor's incident is open, ask the service to restart, then watch it.

One run calls, per monitor with a ``restart`` block and an open incident::

    recovery = Recovery(history)
    if recovery.due(monitor, state, now):
        attempt = recovery.attempt(monitor, state, check, incident_key, now)
        tracker.comment(key, recovery.timeline_entry(attempt))
        if attempt.ok:
            checks = recovery.verify(monitor, probe, needed=monitor.success_threshold)

Attempts are recorded in the History cache (``restarts.json``) *before* the
request goes out, so the cooldown and the attempt limit hold across runs even
when a run dies mid-request: a crash can cost an attempt, never cause a storm.
"""

from __future__ import annotations

import json
import logging
import string
import threading
import time
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

import requests
from jinja2 import StrictUndefined
from jinja2 import TemplateError as JinjaError
from jinja2.sandbox import SandboxedEnvironment

from generator import __version__, signing
from generator.history.ledger import Ledger
from generator.incidents.text import md_escape, utc_time
from generator.models import Check, CheckStatus, Monitor, MonitorState, RestartSpec, TimelineEntry
from generator.secrets import clip, mask, mask_logs, scrub
from generator.timeutil import parse_iso, to_iso, utcnow

log = logging.getLogger("statusgen.recovery")
# urllib3 logs request lines with the full path and query, where hook tokens live
mask_logs("urllib3.connectionpool", "urllib3.util.retry")

CACHE_NAME = "restarts"
LOG_KEEP = 20  # attempts kept per monitor in the cache, for the record
MAX_TRIES = 6  # hard bound on HTTP tries per attempt, whatever the clock says
FIRST_BACKOFF = 0.5
RESPONSE_EXCERPT = 200
EXCERPT_SCAN = 8192  # characters of the body masked before the excerpt is cut from them


class TemplateError(ValueError):
    """A restart body template that cannot be rendered (message names the problem, not the secret)."""


@dataclass(frozen=True)
class RestartAttempt:
    """One restart request as sent (after its in-budget retries) and what came back."""

    monitor_id: str
    attempt: int
    max_attempts: int
    time: datetime  # when the first try was sent (UTC)
    incident_started: str  # ISO, the incident this attempt belongs to
    incident_key: Optional[str]
    delivery: str
    idempotency_key: str
    ok: bool = False
    status_code: Optional[int] = None
    latency_ms: Optional[float] = None  # of the last try
    error: str = ""  # masked; empty when ok
    tries: int = 0
    duration_ms: Optional[float] = None  # first try sent to last answer
    target: str = ""  # scheme://host of the hook, never the path or query (they hold tokens)
    retried: bool = False  # whether the final failure was a retriable one

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = to_iso(self.time)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RestartAttempt:
        values = dict(data)
        values["time"] = parse_iso(values["time"])
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in values.items() if k in known})


# --------------------------------------------------------------------------- bodies


def _target(url: str) -> str:
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


def event_values(
    monitor: Monitor,
    check: Optional[Check],
    *,
    attempt: int,
    max_attempts: int,
    incident_key: Optional[str],
    incident_started: str,
    delivery: str,
    now: datetime,
) -> dict[str, Any]:
    """The flat values a body template may use (also the source of the standard body)."""
    return {
        "event": "restart",
        "delivery": delivery,
        "attempt": attempt,
        "max_attempts": max_attempts,
        "time": to_iso(now),
        "monitor_id": monitor.id,
        "monitor_name": monitor.name,
        "monitor_type": monitor.type,
        "incident_key": incident_key or "",
        "incident_started": incident_started,
        "status": check.status.value if check else "",
        "code": check.code if check and check.code is not None else "",
        "latency_ms": round(check.latency_ms, 1) if check and check.latency_ms is not None else "",
        "error": mask(check.error) if check else "",
        "check_time": to_iso(check.time) if check else "",
    }


def standard_body(values: dict[str, Any]) -> bytes:
    """The default JSON event (what the restart agent expects)."""
    document = {
        "event": "restart",
        "delivery": values["delivery"],
        "attempt": values["attempt"],
        "max_attempts": values["max_attempts"],
        "time": values["time"],
        "monitor": {"id": values["monitor_id"], "name": values["monitor_name"], "type": values["monitor_type"]},
        "incident": {"key": values["incident_key"] or None, "started": values["incident_started"]},
        "check": {
            "status": values["status"] or None,
            "code": values["code"] if values["code"] != "" else None,
            "latency_ms": values["latency_ms"] if values["latency_ms"] != "" else None,
            "error": values["error"],
            "time": values["check_time"] or None,
        },
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def render_body(template: str, values: dict[str, Any]) -> bytes:
    """Render a user body template: Jinja (sandboxed) when it has ``{{``/``{%``, else ``$name``.

    In ``$name`` templates whose text is JSON (starts with ``{`` or ``[``) string
    values are JSON-escaped, so an error message with a quote cannot break the body.
    ``${NAME}`` was resolved from the environment by config before we get here,
    which is why the placeholders are ``$monitor_id``, not ``${monitor_id}``.
    """
    if "{{" in template or "{%" in template:
        env = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)
        try:
            return env.from_string(template).render(**values).encode("utf-8")
        except JinjaError as exc:
            raise TemplateError(f"restart.body template: {mask(exc)}") from None
    json_like = template.lstrip()[:1] in ("{", "[")
    prepared = {
        key: (json.dumps(str(value))[1:-1] if json_like and isinstance(value, str) else str(value))
        for key, value in values.items()
    }
    try:
        return string.Template(template).substitute(prepared).encode("utf-8")
    except KeyError as exc:
        raise TemplateError(f"restart.body template: unknown placeholder ${exc.args[0]}") from None
    except ValueError as exc:
        raise TemplateError(f"restart.body template: {mask(exc)} (write $$ for a literal $)") from None


# --------------------------------------------------------------------------- the step


class Recovery:
    """Decides when a restart is due, sends it, records it, and watches the service come back."""

    def __init__(
        self,
        history: Ledger,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        wallclock: Callable[[], float] = time.time,
        session: Optional[requests.Session] = None,
    ) -> None:
        self.history = history
        self.clock = clock
        self.sleep = sleep
        self.wallclock = wallclock  # signs X-Statusgen-Timestamp: the receiver compares it with its own clock
        self.session = session or requests.Session()
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- the ledger

    def _ledger(self) -> dict[str, Any]:
        value = self.history.read_json(CACHE_NAME, {})
        return value if isinstance(value, dict) else {}

    @staticmethod
    def _incident_id(state: MonitorState) -> str:
        if state.incident_started is not None:
            return to_iso(state.incident_started)
        return f"key:{state.incident_key}" if state.incident_key else "unknown"

    def attempts_for(self, monitor_id: str) -> list[RestartAttempt]:
        """The recorded attempts of a monitor, oldest first (the last ``LOG_KEEP``)."""
        entry = self._ledger().get(monitor_id) or {}
        result = []
        for item in entry.get("log", []):
            try:
                result.append(RestartAttempt.from_dict(item))
            except (KeyError, TypeError, ValueError):
                continue  # a hand-edited cache must not stop the run
        return result

    def _count_and_last(self, monitor_id: str, incident: str) -> tuple[int, Optional[datetime]]:
        entry = self._ledger().get(monitor_id) or {}
        count = int(entry.get("attempts", 0)) if entry.get("incident") == incident else 0
        last = entry.get("last_attempt")
        try:
            return count, (parse_iso(last) if last else None)
        except ValueError:
            return count, None

    def due(self, monitor: Monitor, state: MonitorState, now: datetime) -> bool:
        """A restart is due: open incident, enough failures, cooldown elapsed, attempts left."""
        spec = monitor.restart
        if spec is None or not state.incident_open:
            return False
        if state.consecutive_failures < max(1, spec.after_failures):
            return False
        count, last = self._count_and_last(monitor.id, self._incident_id(state))
        if count >= spec.max_attempts:
            return False
        # the cooldown spans incidents: a flapping service must not get a restart per flap
        if last is not None and (now - last) < timedelta(seconds=spec.cooldown):
            return False
        return True

    def _record(self, attempt: RestartAttempt, incident: str) -> None:
        with self._lock:
            ledger = self._ledger()
            entry = ledger.get(attempt.monitor_id) or {}
            if entry.get("incident") != incident:
                entry = {"incident": incident, "attempts": 0, "log": entry.get("log", [])}
            entry["attempts"] = max(int(entry.get("attempts", 0)), attempt.attempt)
            entry["last_attempt"] = to_iso(attempt.time)
            log_items = [item for item in entry.get("log", []) if item.get("delivery") != attempt.delivery]
            log_items.append(attempt.to_dict())
            entry["log"] = log_items[-LOG_KEEP:]
            ledger[attempt.monitor_id] = entry
            self.history.write_json(CACHE_NAME, ledger)

    # ---------------------------------------------------------------- sending

    def attempt(
        self,
        monitor: Monitor,
        state: MonitorState,
        check: Optional[Check],
        incident_key: Optional[str],
        now: datetime,
    ) -> RestartAttempt:
        """Send one restart request (retrying connection errors and 5xx inside ``timeout``); record it.

        Never raises for network or template problems: they come back in ``error``.
        """
        spec = monitor.restart
        if spec is None:
            raise ValueError(f"monitor {monitor.id!r} has no restart block")
        incident = self._incident_id(state)
        count, _ = self._count_and_last(monitor.id, incident)
        number = count + 1
        delivery = str(uuid.uuid4())
        started_iso = incident if not incident.startswith(("key:", "unknown")) else to_iso(now)
        pending = RestartAttempt(
            monitor_id=monitor.id,
            attempt=number,
            max_attempts=spec.max_attempts,
            time=now,
            incident_started=started_iso,
            incident_key=incident_key,
            delivery=delivery,
            idempotency_key=signing.idempotency_key(monitor.id, started_iso, number),
            error="pending",
            target=_target(spec.url),
        )
        # record first: a run killed mid-request still used up this attempt and started the cooldown
        self._record(pending, incident)
        values = event_values(
            monitor,
            check,
            attempt=number,
            max_attempts=spec.max_attempts,
            incident_key=incident_key,
            incident_started=started_iso,
            delivery=delivery,
            now=now,
        )
        try:
            body = standard_body(values) if spec.body is None else render_body(spec.body, values)
        except TemplateError as exc:
            result = _evolve(pending, error=str(exc))
        else:
            result = self._send(spec, pending, body)
        self._record(result, incident)
        level = logging.INFO if result.ok else logging.WARNING
        log.log(level, "%s", mask(self.log_line(result)))
        return result

    def _headers(self, spec: RestartSpec, attempt: RestartAttempt, body: bytes) -> dict[str, str]:
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

    def _send(self, spec: RestartSpec, pending: RestartAttempt, body: bytes) -> RestartAttempt:
        base_headers = self._headers(spec, pending, body)
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
                status, error, retriable = None, _describe_exception(exc), True
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
        return _evolve(
            pending,
            ok=ok,
            status_code=status,
            latency_ms=round(latency, 1) if latency is not None else None,
            error="" if ok else mask(error),
            tries=tries,
            duration_ms=round((time.monotonic() - start) * 1000.0, 1),
            retried=retriable and not ok,
        )

    # ---------------------------------------------------------------- verification

    def verify(self, monitor: Monitor, probe: Callable[[Monitor], Check], needed: int = 1) -> list[Check]:
        """Re-probe every ``verify_every`` s for up to ``verify_for`` s until ``needed`` consecutive UPs.

        Returns every check taken (the caller records them in history). Bounded
        twice: by the number of probes the window allows and by the real clock.
        """
        spec = monitor.restart or RestartSpec(url="")
        every = max(0.1, spec.verify_every)
        window = max(0.0, spec.verify_for)
        needed = max(1, needed)
        max_probes = int(window // every) + 1
        start = time.monotonic()
        checks: list[Check] = []
        streak = 0
        for index in range(max_probes):
            began = time.monotonic()
            check = probe(monitor)
            checks.append(check)
            streak = streak + 1 if check.status is CheckStatus.UP else 0
            if streak >= needed:
                break
            if index == max_probes - 1 or time.monotonic() - start + every > window + 0.001:
                break
            self.sleep(max(0.0, every - (time.monotonic() - began)))
        return checks

    # ---------------------------------------------------------------- words

    @staticmethod
    def log_line(attempt: RestartAttempt) -> str:
        outcome = "accepted" if attempt.ok else "failed"
        parts = [
            f"restart {outcome}",
            f"monitor={attempt.monitor_id}",
            f"attempt={attempt.attempt}/{attempt.max_attempts}",
            f"target={attempt.target}",
            f"delivery={attempt.delivery}",
            f"tries={attempt.tries}",
        ]
        if attempt.status_code is not None:
            parts.append(f"status={attempt.status_code}")
        if attempt.latency_ms is not None:
            parts.append(f"latency_ms={attempt.latency_ms:.0f}")
        if attempt.error:
            parts.append(f"error={attempt.error!r}")
        return mask(" ".join(parts))

    @staticmethod
    def timeline_text(attempt: RestartAttempt) -> str:
        """Markdown for the incident comment: time (UTC), HTTP status, latency, or the error."""
        when = utc_time(attempt.time)
        head = f"attempt {attempt.attempt} of {attempt.max_attempts}"
        if attempt.ok:
            latency = f" in {attempt.latency_ms:.0f} ms" if attempt.latency_ms is not None else ""
            text = f"**Restart requested** ({head}) at {when}: HTTP {attempt.status_code}{latency}."
        else:
            detail = attempt.error or "no answer"
            if attempt.status_code is not None and attempt.latency_ms is not None:
                detail += f" in {attempt.latency_ms:.0f} ms"
            tries = f" after {attempt.tries} tries" if attempt.tries > 1 else ""
            text = f"**Restart request failed** ({head}) at {when}: {md_escape(detail)}{tries}."
        return mask(text + f" Delivery `{attempt.delivery}`.")

    def timeline_entry(self, attempt: RestartAttempt) -> TimelineEntry:
        return TimelineEntry(time=attempt.time, kind="restart", text=self.timeline_text(attempt))

    @staticmethod
    def verification_text(checks: list[Check], *, needed: int = 1, since: Optional[datetime] = None) -> str:
        """Markdown: recovered (first UP time, status, latency, seconds after ``since``) or not."""
        ups = [c for c in checks if c.status is CheckStatus.UP]
        recovered = bool(checks) and _trailing_ups(checks) >= max(1, needed)
        if recovered:
            first = checks[len(checks) - _trailing_ups(checks)]
            after = ""
            if since is not None:
                after = f", {(first.time - since).total_seconds():.1f} s after the restart request"
            code = f"HTTP {first.code}, " if first.code is not None else ""
            latency = f"{first.latency_ms:.0f} ms" if first.latency_ms is not None else "up"
            return mask(
                f"**Recovered after restart**: up at {utc_time(first.time)} ({code}{latency}){after}; "
                f"{len(checks)} check(s), {len(ups)} up."
            )
        if not checks:
            return "**Not verified after restart**: no check was taken."
        last = checks[-1]
        detail = last.error or last.status.value
        return mask(
            f"**Still failing after restart**: {len(checks)} check(s) until {utc_time(last.time)}, "
            f"last: {md_escape(detail)}."
        )


def _trailing_ups(checks: list[Check]) -> int:
    count = 0
    for check in reversed(checks):
        if check.status is not CheckStatus.UP:
            break
        count += 1
    return count


def _evolve(attempt: RestartAttempt, **changes: Any) -> RestartAttempt:
    return replace(attempt, **changes)


def _describe_exception(exc: requests.RequestException) -> str:
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
