"""The JSON Schema of ``monitors.yaml``, written out to ``monitors.schema.json``.

Draft-07 on purpose: editors (yaml-language-server, VS Code) only understand draft-07, and
without ``unevaluatedProperties`` each monitor type lists every key it allows. The schema
describes the same file as the loader (tests check they agree); the loader says more
(duplicate ids, backwards ranges, unknown time zones, missing secrets) with line numbers.

Regenerate after changing a key: ``python -m generator.config.schema``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from generator.fsutil import atomic_write_text
from generator.probes.probetype import ProbeType

from .build import EVENTS, SEVERITIES, default_type, inherited_keys, probe_types
from .keys import one_of_words, ref, with_refs
from .sections import NOTIFY_EVERY, STALE_AFTER
from .validators import HTTP_METHODS

SCHEMA_FILE = Path(__file__).with_name("monitors.schema.json")

DURATION = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*$"
POSITIVE_DURATION = r"^\s*(?=[^1-9]*[1-9])\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*$"


def _d(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {**schema, "description": description, **extra}


DEFINITIONS: dict[str, Any] = {
    "text": {"type": "string", "pattern": r"\S"},
    "duration": {
        "description": "250ms, 30s, 5m, 1h, 2d, or a number of seconds",
        "oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": DURATION}],
    },
    "positiveDuration": {
        "description": "250ms, 30s, 5m, 1h, 2d, or a number of seconds; more than 0",
        "oneOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "pattern": POSITIVE_DURATION}],
    },
    "httpUrl": {
        "type": "string",
        "description": "an http:// or https:// URL with a host; may hold ${NAME} references",
        "pattern": with_refs(r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+([/?#]\S*)?$"),
    },
    "appriseUrl": {
        "type": "string",
        "description": "an Apprise notification URL (json://..., mailto://..., tgram://..., slack://...)",
        "pattern": with_refs(r"^[A-Za-z][A-Za-z0-9+.-]*://\S*$"),
    },
    "host": {
        "type": "string",
        "description": "a DNS name or an IP address",
        "pattern": with_refs(r"^(\[?[0-9A-Fa-f:.]+\]?|[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*\.?)$"),
    },
    "hostPort": {
        "type": "string",
        "description": "host:port",
        "pattern": with_refs(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}$"),
    },
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "strings": {
        "description": "a string or a list of strings",
        "oneOf": [ref("text"), {"type": "array", "items": ref("text")}],
    },
    "names": {
        "description": "a name or a list of distinct names",
        "oneOf": [ref("text"), {"type": "array", "items": ref("text"), "uniqueItems": True}],
    },
    "labels": {
        "description": "extra GitHub labels for this monitor's incidents (at most 50 characters each)",
        "oneOf": [
            {"type": "string", "pattern": r"\S", "maxLength": 50},
            {"type": "array", "uniqueItems": True, "items": {"type": "string", "pattern": r"\S", "maxLength": 50}},
        ],
    },
    "headers": {
        "type": "object",
        "description": "HTTP request headers: name -> value (values may hold ${NAME})",
        "propertyNames": {"pattern": r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"},
        "additionalProperties": {"type": "string", "pattern": r"^[^\r\n]*$"},
    },
    "notifyTarget": {
        "oneOf": [
            ref("appriseUrl"),
            {
                "type": "object",
                "required": ["url"],
                "additionalProperties": False,
                "properties": {
                    "url": ref("appriseUrl"),
                    "severities": _d({"oneOf": [{"enum": list(SEVERITIES)},
                                                {"type": "array", "minItems": 1, "uniqueItems": True,
                                                 "items": {"enum": list(SEVERITIES)}}]},
                                     "only these severities (default: critical and warning)"),
                    "events": _d({"oneOf": [{"enum": list(EVENTS)},
                                            {"type": "array", "minItems": 1, "uniqueItems": True,
                                             "items": {"enum": list(EVENTS)}}]},
                                 "only these events (default: opened, escalated, resolved)"),
                },
            },
        ],
    },
    "notify": {
        "description": "where to send notifications: Apprise URLs, or {url, severities, events}",
        "oneOf": [ref("appriseUrl"), {"type": "array", "items": ref("notifyTarget")}],
    },
}

RESTART_PROPERTIES: dict[str, Any] = {
    "url": _d(ref("httpUrl"), "the webhook that restarts the service"),
    "method": _d({"type": "string", "pattern": one_of_words(HTTP_METHODS)}, "HTTP method (default POST)",
                 default="POST"),
    "headers": ref("headers"),
    "body": _d({"type": "string"}, "request body template (default: a JSON description of the event)"),
    "secret": _d(ref("text"), "HMAC-SHA256 signing key, normally ${NAME} from a repository secret"),
    "timeout": _d(ref("positiveDuration"), "how long to wait for the webhook (default 10s)", default="10s"),
    "after_failures": _d({"type": "integer", "minimum": 1, "maximum": 1000},
                         "consecutive failed runs before restarting (default 1)", default=1),
    "cooldown": _d(ref("duration"), "least time between two restarts (default 10m)", default="10m"),
    "max_attempts": _d({"type": "integer", "minimum": 1, "maximum": 100},
                       "restarts per incident before giving up (default 3)", default=3),
    "verify_every": _d(ref("positiveDuration"), "probe this often after a restart (default 5s)", default="5s"),
    "verify_for": _d(ref("duration"), "keep verifying this long after a restart (default 1m)", default="1m"),
}
DEFINITIONS["restartDefaults"] = {
    "type": "object", "additionalProperties": False, "properties": RESTART_PROPERTIES,
    "description": "restart settings shared by every monitor's restart block",
}

OPTION_PROPERTIES: dict[str, Any] = {
    "interval": _d(ref("positiveDuration"), "statusgen watch checks the monitor this often: at least 10s, at most "
                                            "1d (default: settings.interval, 60s)", default="60s"),
    "timeout": _d(ref("positiveDuration"), "give up on one attempt after this long (default 10s)", default="10s"),
    "retries": _d({"type": "integer", "minimum": 0, "maximum": 10},
                  "attempts after the first within one run (default 2)", default=2),
    "retry_backoff": _d(ref("duration"), "wait before the first retry, doubling after each (default 500ms)",
                        default="500ms"),
    "failure_threshold": _d({"type": "integer", "minimum": 1, "maximum": 1000},
                            "failed runs in a row before an incident opens (default 1)", default=1),
    "success_threshold": _d({"type": "integer", "minimum": 1, "maximum": 1000},
                            "good runs in a row before an incident resolves (default 1)", default=1),
    "labels": ref("labels"),
    "notify": ref("notify"),
    "regions": _d(ref("names"), "regions that probe this monitor (from settings.regions)"),
}

MONITOR_BASE: dict[str, Any] = {
    "id": _d({"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "maxLength": 64},
             "unique slug: lowercase letters, digits and -; names files, labels and URLs"),
    "name": _d(ref("text"), "display name (default: the id)"),
    "group": _d(ref("text"), "the group it is shown under on the page"),
    "description": _d({"type": "string"}, "a line shown under the name"),
    **OPTION_PROPERTIES,
    # not ref("restart"): the url may come from defaults.restart (the loader checks that one is given)
    "restart": _d(ref("restartDefaults"), "ask the service to restart itself through a webhook while it is down"),
}


SITE: dict[str, Any] = {
    "type": ["object", "null"],
    "description": "how the status page presents itself",
    "additionalProperties": False,
    "properties": {
        "title": _d(ref("text"), "page title", default="Status"),
        "description": _d({"type": "string"}, "a line under the title"),
        "base_url": _d({"type": "string", "pattern": with_refs(r"^(\s*|[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+"
                                                                r"([/?#]\S*)?)$")},
                       "where the site is published, e.g. https://acme.github.io/status/ "
                       "(empty: relative links)"),
        "timezone": _d({"type": "string", "pattern": r"^[A-Za-z0-9_+\-/]+$"},
                       "IANA time zone for displayed times (stored times are UTC)", default="UTC"),
        "language": _d({"enum": ["en", "zh"]}, "page language", default="en"),
        "repository": _d({"type": "string", "pattern": with_refs(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")},
                         "owner/name of the GitHub repository, for links to incidents"),
        "logo": _d(ref("text"), "path or URL of a logo image"),
        "collapse_groups_from": _d({"type": "integer", "minimum": 1},
                                   "from this many monitors on, the home page folds each group (worst status "
                                   "and counts) and each group gets a page of its own (default 200)", default=200),
    },
}

SETTINGS: dict[str, Any] = {
    "type": ["object", "null"],
    "description": "how runs behave",
    "additionalProperties": False,
    "properties": {
        "concurrency": _d({"type": "integer", "minimum": 1, "maximum": 1024},
                          "monitors probed at the same time (default 32)", default=32),
        "retention": _d({"oneOf": [{"type": "integer", "minimum": 1},
                                   {"type": "string", "pattern": POSITIVE_DURATION}]},
                        "how long raw checks are kept: 90d, or a number of days (default 90d)", default="90d"),
        "degraded_counts_as_up": _d({"type": "boolean"}, "degraded time counts as uptime (default true)",
                                    default=True),
        "flap_window": _d(ref("duration"),
                          "a monitor failing again this soon after recovering reopens its incident "
                          "(default 15m)", default="15m"),
        "canary": {
            "type": "object",
            "description": "a target that must answer, or the run's failures count as no data",
            "additionalProperties": False,
            "required": ["target"],
            "properties": {
                "type": _d({"enum": ["tcp", "http"]}, "tcp (default) or http", default="tcp"),
                "target": _d({"type": "string", "pattern": r"\S"}, "host:port for tcp, a URL for http"),
                "timeout": _d(ref("positiveDuration"), "default 3s", default="3s"),
            },
            "allOf": [
                {"if": {"properties": {"type": {"const": "http"}}, "required": ["type"]},
                 "then": {"properties": {"target": ref("httpUrl")}},
                 "else": {"properties": {"target": ref("hostPort")}}},
            ],
        },
        "quorum": _d({"type": "integer", "minimum": 1},
                     "regions that must see a monitor down (default 1)", default=1),
        "regions": _d(ref("names"), "names of the regions that run probes"),
        STALE_AFTER.name: STALE_AFTER.schema(),
        NOTIFY_EVERY.name: NOTIFY_EVERY.schema(default="30m"),
        "interval": _d(ref("positiveDuration"), "statusgen watch: how often each monitor is checked unless it "
                                                "sets its own interval; at least 10s (default 60s)", default="60s"),
        "publish_every": _d(ref("positiveDuration"), "statusgen watch: rebuild the site at least this often, and "
                                                     "soon after any transition; at least 10s (default 5m)",
                            default="5m"),
    },
}


def _type_property() -> dict[str, Any]:
    return _d({"enum": list(probe_types())}, f"what kind of check (default {default_type()})",
              default=default_type())


def _monitor_definitions() -> dict[str, Any]:
    """``<type>Monitor`` for each probe type, the pieces its keys refer to, and ``monitor`` choosing by type."""
    found: dict[str, Any] = {}
    for probe_type in probe_types().values():
        found.update(probe_type.definitions())
        found[f"{probe_type.name}Monitor"] = {
            "type": "object",
            "description": f"{probe_type.name} monitor: {probe_type.doc}",
            "additionalProperties": False,
            "required": ["id", *probe_type.required],
            "properties": {**MONITOR_BASE, "type": _type_property(), **probe_type.properties()},
        }
    found["monitor"] = {
        "type": "object",
        "description": "one service to watch",
        "required": ["id"],
        "properties": {"type": _type_property()},
        "allOf": [
            {"if": {"properties": {"type": {"const": default_type()}}}, "then": ref(f"{default_type()}Monitor")},
            *({"if": {"required": ["type"], "properties": {"type": {"const": name}}}, "then": ref(f"{name}Monitor")}
              for name in probe_types() if name != default_type()),
        ],
    }
    return found


def _inherited_properties() -> dict[str, Any]:
    """The probe types' keys that ``defaults`` may set, described as they are there."""
    owners: dict[str, ProbeType] = {key.name: probe_type for probe_type in probe_types().values()
                                    for key in probe_type.keys if key.inherit}
    return {name: key.schema(doc=key.defaults_doc, default=owners[name].default(key))
            for name, key in inherited_keys().items()}


def build_schema() -> dict[str, Any]:
    """The whole schema, from the declarations (read when called: see build.py about the registry)."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://statusgen.invalid/monitors.schema.json",
        "title": "statusgen monitors.yaml",
        "description": "What statusgen watches, how the status page looks, and how incidents are handled. "
                       "Durations: 250ms, 30s, 5m, 1h, 2d or seconds. ${NAME} in a text value is read from the "
                       "environment. Top-level x-... keys are ignored (use them for YAML anchors).",
        "type": "object",
        "required": ["monitors"],
        "additionalProperties": False,
        "patternProperties": {"^x-": {"description": "ignored: a place for YAML anchors"}},
        "properties": {
            "site": SITE,
            "settings": SETTINGS,
            "defaults": {
                "type": ["object", "null"],
                "description": "values every monitor gets unless it sets its own; headers, expect and restart merge "
                               "key by key",
                "additionalProperties": False,
                "properties": {
                    **OPTION_PROPERTIES,
                    "restart": ref("restartDefaults"),
                    **_inherited_properties(),
                },
            },
            "monitors": {
                "type": "array",
                "description": "the services to watch",
                "minItems": 1,
                "items": ref("monitor"),
            },
        },
        "definitions": {**DEFINITIONS, **_monitor_definitions()},
    }


def render() -> str:
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    atomic_write_text(SCHEMA_FILE, render())
    print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
