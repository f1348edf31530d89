"""What a restart request carries: the standard JSON event, or the user's body template."""

from __future__ import annotations

import json
import string
from datetime import datetime
from typing import Any, Optional
from urllib.parse import urlsplit

from jinja2 import StrictUndefined
from jinja2 import TemplateError as JinjaError
from jinja2.sandbox import SandboxedEnvironment

from generator.models import Check, Monitor
from generator.secrets import mask
from generator.timeutil import to_iso


class TemplateError(ValueError):
    """A restart body template that cannot be rendered (message names the problem, not the secret)."""


def target_of(url: str) -> str:
    """``scheme://host[:port]`` of a hook: never its path or query, where tokens live."""
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
