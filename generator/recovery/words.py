"""What a restart attempt and its verification say: a log line and incident timeline Markdown."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from generator.incidents.text import md_escape, utc_time
from generator.models import Check, CheckStatus
from generator.recovery.attempts import RestartAttempt
from generator.secrets import mask


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

def verification_text(checks: list[Check], *, needed: int = 1, since: Optional[datetime] = None) -> str:
    """Markdown: recovered (first UP time, status, latency, seconds after ``since``) or not."""
    ups = [c for c in checks if c.status is CheckStatus.UP]
    recovered = bool(checks) and trailing_ups(checks) >= max(1, needed)
    if recovered:
        first = checks[len(checks) - trailing_ups(checks)]
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


def trailing_ups(checks: list[Check]) -> int:
    count = 0
    for check in reversed(checks):
        if check.status is not CheckStatus.UP:
            break
        count += 1
    return count
