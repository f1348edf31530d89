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

from .build import EVENTS, HTTP_METHODS, RECORD_TYPES, SEVERITIES, TYPES

SCHEMA_FILE = Path(__file__).with_name("monitors.schema.json")

REF = r"\$\{[A-Za-z_][A-Za-z0-9_]*\}"
DURATION = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*$"
POSITIVE_DURATION = r"^\s*(?=[^1-9]*[1-9])\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/definitions/{name}"}


def _d(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {**schema, "description": description, **extra}


def _one_of_words(words: Any) -> str:
    """A case-insensitive pattern without ``(?i)``, which editors' (ECMAScript) regexes lack."""
    spelled = ("".join(f"[{ch.upper()}{ch.lower()}]" if ch.isalpha() else ch for ch in word) for word in words)
    return "^(" + "|".join(spelled) + ")$"


def _with_refs(pattern: str) -> str:
    """A pattern that also accepts any text holding a ``${NAME}`` reference (checked once resolved)."""
    return f"(?:{pattern})|^.*{REF}.*$"


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
        "pattern": _with_refs(r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+([/?#]\S*)?$"),
    },
    "appriseUrl": {
        "type": "string",
        "description": "an Apprise notification URL (json://..., mailto://..., tgram://..., slack://...)",
        "pattern": _with_refs(r"^[A-Za-z][A-Za-z0-9+.-]*://\S*$"),
    },
    "host": {
        "type": "string",
        "description": "a DNS name or an IP address",
        "pattern": _with_refs(r"^(\[?[0-9A-Fa-f:.]+\]?|[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*\.?)$"),
    },
    "hostPort": {
        "type": "string",
        "description": "host:port",
        "pattern": _with_refs(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}$"),
    },
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "strings": {
        "description": "a string or a list of strings",
        "oneOf": [_ref("text"), {"type": "array", "items": _ref("text")}],
    },
    "names": {
        "description": "a name or a list of distinct names",
        "oneOf": [_ref("text"), {"type": "array", "items": _ref("text"), "uniqueItems": True}],
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
    "statusItem": {
        "oneOf": [
            {"type": "integer", "minimum": 100, "maximum": 599},
            {"type": "string", "pattern": r"^\s*([1-5][0-9]{2}(\s*-\s*[1-5][0-9]{2})?|[1-5][xX][xX])\s*$"},
        ],
    },
    "jsonAssertion": {
        "type": "object",
        "description": "an assertion on the JSON response body; a path alone asserts that it exists",
        "required": ["path"],
        "additionalProperties": False,
        "not": {"required": ["equals", "exists"]},
        "properties": {
            "path": _d({"type": "string", "pattern": r"^([^.\[\]\s]+|\[\d+\])(\[\d+\])*(\.[^.\[\]\s]+(\[\d+\])*)*$"},
                       "where in the body: status, data.items[0].ok"),
            "equals": {"description": "the value found there must equal this (any JSON value)"},
            "exists": _d({"type": "boolean"}, "true: the path must be there; false: it must not"),
        },
    },
    "httpExpect": {
        "type": "object",
        "description": "what a healthy response looks like",
        "additionalProperties": False,
        "properties": {
            "status": _d({"oneOf": [_ref("statusItem"), {"type": "array", "minItems": 1, "items": _ref("statusItem")}]},
                         "accepted status codes: 200, \"200-299\", \"2xx\", or a list of them (default 200-399)"),
            "body_contains": _d(_ref("strings"), "text (or texts) the body must contain"),
            "body_not_contains": _d(_ref("strings"), "text (or texts) the body must not contain"),
            "body_regex": _d({"type": "string", "pattern": r"\S"}, "a regular expression the body must match"),
            "json": _d({"type": "array", "items": _ref("jsonAssertion")},
                       "assertions on the JSON body, e.g. [{path: status, equals: ok}]"),
            "degraded_after": _d(_ref("positiveDuration"), "a slower answer counts as degraded (e.g. 2s)"),
        },
    },
    "notifyTarget": {
        "oneOf": [
            _ref("appriseUrl"),
            {
                "type": "object",
                "required": ["url"],
                "additionalProperties": False,
                "properties": {
                    "url": _ref("appriseUrl"),
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
        "oneOf": [_ref("appriseUrl"), {"type": "array", "items": _ref("notifyTarget")}],
    },
}

RESTART_PROPERTIES: dict[str, Any] = {
    "url": _d(_ref("httpUrl"), "the webhook that restarts the service"),
    "method": _d({"type": "string", "pattern": _one_of_words(HTTP_METHODS)}, "HTTP method (default POST)",
                 default="POST"),
    "headers": _ref("headers"),
    "body": _d({"type": "string"}, "request body template (default: a JSON description of the event)"),
    "secret": _d(_ref("text"), "HMAC-SHA256 signing key, normally ${NAME} from a repository secret"),
    "timeout": _d(_ref("positiveDuration"), "how long to wait for the webhook (default 10s)", default="10s"),
    "after_failures": _d({"type": "integer", "minimum": 1, "maximum": 1000},
                         "consecutive failed runs before restarting (default 1)", default=1),
    "cooldown": _d(_ref("duration"), "least time between two restarts (default 10m)", default="10m"),
    "max_attempts": _d({"type": "integer", "minimum": 1, "maximum": 100},
                       "restarts per incident before giving up (default 3)", default=3),
    "verify_every": _d(_ref("positiveDuration"), "probe this often after a restart (default 5s)", default="5s"),
    "verify_for": _d(_ref("duration"), "keep verifying this long after a restart (default 1m)", default="1m"),
}
DEFINITIONS["restartDefaults"] = {
    "type": "object", "additionalProperties": False, "properties": RESTART_PROPERTIES,
    "description": "restart settings shared by every monitor's restart block",
}

OPTION_PROPERTIES: dict[str, Any] = {
    "timeout": _d(_ref("positiveDuration"), "give up on one attempt after this long (default 10s)", default="10s"),
    "retries": _d({"type": "integer", "minimum": 0, "maximum": 10},
                  "attempts after the first within one run (default 2)", default=2),
    "retry_backoff": _d(_ref("duration"), "wait before the first retry, doubling after each (default 500ms)",
                        default="500ms"),
    "failure_threshold": _d({"type": "integer", "minimum": 1, "maximum": 1000},
                            "failed runs in a row before an incident opens (default 1)", default=1),
    "success_threshold": _d({"type": "integer", "minimum": 1, "maximum": 1000},
                            "good runs in a row before an incident resolves (default 1)", default=1),
    "labels": _ref("labels"),
    "notify": _ref("notify"),
    "regions": _d(_ref("names"), "regions that probe this monitor (from settings.regions)"),
}

MONITOR_BASE: dict[str, Any] = {
    "id": _d({"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "maxLength": 64},
             "unique slug: lowercase letters, digits and -; names files, labels and URLs"),
    "name": _d(_ref("text"), "display name (default: the id)"),
    "group": _d(_ref("text"), "the group it is shown under on the page"),
    "description": _d({"type": "string"}, "a line shown under the name"),
    "type": _d({"enum": list(TYPES)}, "what kind of check (default http)", default="http"),
    **OPTION_PROPERTIES,
    # not _ref("restart"): the url may come from defaults.restart (the loader checks that one is given)
    "restart": _d(_ref("restartDefaults"), "ask the service to restart itself through a webhook while it is down"),
}

TYPE_PROPERTIES: dict[str, dict[str, Any]] = {
    "http": {
        "url": _d(_ref("httpUrl"), "the URL to request"),
        "method": _d({"type": "string", "pattern": _one_of_words(HTTP_METHODS)},
                     "HTTP method (default GET)", default="GET"),
        "headers": _ref("headers"),
        "body": _d({"type": "string"}, "request body"),
        "follow_redirects": _d({"type": "boolean"}, "follow redirects (default true)", default=True),
        "verify_tls": _d({"type": "boolean"}, "verify the certificate (default true; false is an explicit opt-out)",
                         default=True),
        "ca_bundle": _d(_ref("text"), "a CA bundle file to verify against"),
        "expect": _ref("httpExpect"),
    },
    "tcp": {
        "host": _d(_ref("host"), "host to connect to"),
        "port": _d(_ref("port"), "TCP port"),
    },
    "tls": {
        "host": _d(_ref("host"), "host whose certificate is checked"),
        "port": _d(_ref("port"), "TLS port (default 443)", default=443),
        "server_name": _d(_ref("host"), "name to send (SNI) and verify (default: host)"),
        "ca_bundle": _d(_ref("text"), "a CA bundle file to verify against"),
        "degraded_days": _d({"type": "integer", "minimum": 0, "maximum": 3650},
                            "fewer days left than this: degraded (default 14)", default=14),
        "down_days": _d({"type": "integer", "minimum": 0, "maximum": 3650},
                        "fewer days left than this, or an invalid certificate: down (default 3)", default=3),
    },
    "dns": {
        "host": _d(_ref("host"), "the DNS name to look up"),
        "record_type": _d({"type": "string", "pattern": _one_of_words(RECORD_TYPES)},
                          "record type: " + ", ".join(RECORD_TYPES) + " (default A)", default="A"),
        "resolver": _d({"type": "string", "pattern": _with_refs(r"^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+|"
                                                                 r"[A-Za-z0-9_.-]+)(:[0-9]{1,5})?$")},
                       "resolver to ask: host or host:port (default: the system's)"),
        "expect": _d(_ref("strings"), "the answer must contain this value (or these values)"),
        "match": _d({"enum": ["any", "all"]}, "any: one expected value is enough; all: every one (default any)",
                    default="any"),
    },
}
REQUIRED = {"http": ["url"], "tcp": ["host", "port"], "tls": ["host"], "dns": ["host"]}

for _kind in TYPES:
    DEFINITIONS[f"{_kind}Monitor"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id"] + REQUIRED[_kind],
        "properties": {**MONITOR_BASE, **TYPE_PROPERTIES[_kind]},
    }

DEFINITIONS["monitor"] = {
    "type": "object",
    "description": "one service to watch",
    "required": ["id"],
    "properties": {"type": MONITOR_BASE["type"]},
    "allOf": [
        {"if": {"properties": {"type": {"const": "http"}}}, "then": _ref("httpMonitor")},
        *({"if": {"required": ["type"], "properties": {"type": {"const": kind}}}, "then": _ref(f"{kind}Monitor")}
          for kind in TYPES if kind != "http"),
    ],
}

SCHEMA: dict[str, Any] = {
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
        "site": {
            "type": ["object", "null"],
            "description": "how the status page presents itself",
            "additionalProperties": False,
            "properties": {
                "title": _d(_ref("text"), "page title", default="Status"),
                "description": _d({"type": "string"}, "a line under the title"),
                "base_url": _d({"type": "string", "pattern": _with_refs(r"^(\s*|[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+"
                                                                        r"([/?#]\S*)?)$")},
                               "where the site is published, e.g. https://acme.github.io/status/ "
                               "(empty: relative links)"),
                "timezone": _d({"type": "string", "pattern": r"^[A-Za-z0-9_+\-/]+$"},
                               "IANA time zone for displayed times (stored times are UTC)", default="UTC"),
                "language": _d({"enum": ["en", "zh"]}, "page language", default="en"),
                "repository": _d({"type": "string", "pattern": _with_refs(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")},
                                 "owner/name of the GitHub repository, for links to incidents"),
                "logo": _d(_ref("text"), "path or URL of a logo image"),
            },
        },
        "settings": {
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
                "flap_window": _d(_ref("duration"),
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
                        "timeout": _d(_ref("positiveDuration"), "default 3s", default="3s"),
                    },
                    "allOf": [
                        {"if": {"properties": {"type": {"const": "http"}}, "required": ["type"]},
                         "then": {"properties": {"target": _ref("httpUrl")}},
                         "else": {"properties": {"target": _ref("hostPort")}}},
                    ],
                },
                "quorum": _d({"type": "integer", "minimum": 1},
                             "regions that must see a monitor down (default 1)", default=1),
                "regions": _d(_ref("names"), "names of the regions that run probes"),
            },
        },
        "defaults": {
            "type": ["object", "null"],
            "description": "values every monitor gets unless it sets its own; headers, expect and restart merge "
                           "key by key",
            "additionalProperties": False,
            "properties": {
                **OPTION_PROPERTIES,
                "restart": _ref("restartDefaults"),
                "expect": _d(_ref("httpExpect"), "default expectations of http monitors"),
                "headers": _d(_ref("headers"), "headers sent by every http monitor"),
                "follow_redirects": TYPE_PROPERTIES["http"]["follow_redirects"],
                "verify_tls": TYPE_PROPERTIES["http"]["verify_tls"],
            },
        },
        "monitors": {
            "type": "array",
            "description": "the services to watch",
            "minItems": 1,
            "items": _ref("monitor"),
        },
    },
    "definitions": DEFINITIONS,
}


def render() -> str:
    return json.dumps(SCHEMA, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    from generator.fsutil import atomic_write_text

    atomic_write_text(SCHEMA_FILE, render())
    print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
