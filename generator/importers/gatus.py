"""Gatus' ``config.yaml`` -> monitors.yaml.

Each endpoint becomes a monitor of the type its URL names (http(s), tcp, udp, tls, starttls, ssh,
ws(s), a DNS server with ``dns:``). Conditions with an equivalent carry over: ``[STATUS]``,
``[RESPONSE_TIME]`` (-> ``degraded_after``: Gatus fails a slow check, statusgen degrades it),
``[BODY]`` JSON paths and patterns, ``has(...)``, ``[CERTIFICATE_EXPIRATION]`` (a ``tls`` check;
for an https endpoint, a second monitor); the rest is listed with its line number.
"""

from __future__ import annotations

import fnmatch
import math
import re
from typing import Any
from urllib.parse import urlsplit

from generator.importers.common import (
    Converted,
    Ids,
    ImportProblem,
    Located,
    env_refs,
    line_of,
)
from generator.timeutil import parse_duration

NAME = "gatus"
CONDITION = re.compile(r"^\s*(?P<func>len|has)?\(?\[(?P<what>[A-Z_]+)\](?P<path>[^\s)]*)\)?\s*"
                       r"(?P<op>==|!=|<=|>=|<|>)\s*(?P<value>.*?)\s*$")
ENDPOINT_KEYS = ("name", "group", "url", "method", "headers", "body", "conditions", "client", "dns", "enabled", "ssh")
SCHEMES = {"http": "http", "https": "http", "tcp": "tcp", "udp": "udp", "tls": "tls", "starttls": "tls",
           "ssh": "ssh", "ws": "websocket", "wss": "websocket"}
TOP = {"alerting": "alerting providers (use notify: with Apprise URLs)", "storage": "storage (history is files "
       "on a branch)", "web": "the web server (the site is static)", "metrics": "Prometheus metrics",
       "maintenance": "maintenance windows (declare them as incidents with the maintenance label)",
       "security": "access control (the site is public)", "external-endpoints": "pushed results",
       "connectivity": "a connectivity checker (use settings.canary)", "remote": "remote instances"}


def convert(document: Any, name: str) -> str:
    if not isinstance(document, Located) or not isinstance(document.get("endpoints"), list):
        raise ImportProblem(f"{name}: not a Gatus configuration (expected a mapping with an endpoints: list)")
    result = Converted(source=f"Gatus' {name}", command=f"statusgen import gatus {name}")
    ui = document.get("ui")
    if isinstance(ui, Located):
        for key, target in (("title", "title"), ("description", "description"), ("logo", "logo")):
            if ui.get(key):
                result.site[target] = str(ui[key])
    for key in document:
        if key in TOP:
            result.note(line_of(document, key), f"{key}: {TOP[key]}")
        elif key not in ("endpoints", "ui"):
            result.note(line_of(document, key), f"{key}: no equivalent")
    ids = Ids()
    for index, endpoint in enumerate(document["endpoints"]):
        if not isinstance(endpoint, Located) or not endpoint.get("url"):
            result.note(getattr(endpoint, "line", 0), f"endpoints[{index}]: no url, skipped")
        elif endpoint.get("enabled") is False:
            result.note(endpoint.line, f"endpoints[{index}] ({endpoint.get('name')}): disabled, skipped")
        else:
            Endpoint(endpoint, ids, result).convert()
    return result.render()


class Endpoint:
    """One endpoint, turned into one monitor (two for an https endpoint with a certificate condition)."""

    def __init__(self, endpoint: Located, ids: Ids, result: Converted) -> None:
        self.endpoint = endpoint
        self.result = result
        self.ids = ids
        self.notes: list[str] = [f"from line {endpoint.line}"]
        self.monitor: dict[str, Any] = {}
        self.expect: dict[str, Any] = {}
        self.cert_days: int | None = None
        self.status = [100, 599]

    def note(self, key: str, text: str) -> None:
        self.notes.append(f"line {line_of(self.endpoint, key)}: {text}")

    def convert(self) -> None:
        endpoint = self.endpoint
        name = str(endpoint.get("name") or endpoint["url"])
        self.monitor.update(id=self.ids.make(endpoint.get("group"), name), name=name)
        if endpoint.get("group"):
            self.monitor["group"] = str(endpoint["group"])
        kind = self._target(env_refs(str(endpoint["url"])))
        if kind is None:
            for note in self.notes[1:]:  # nothing to convert: its notes go to the top
                self.result.notes.append((self.endpoint.line, note))
            return
        self._client()
        for key in endpoint:
            if key not in ENDPOINT_KEYS:
                self.note(key, f"{key}: no equivalent" + (" (the workflow's schedule decides)" if key == "interval"
                                                          else ""))
        conditions = endpoint.get("conditions") or []
        for condition in conditions if isinstance(conditions, list) else []:
            self._condition(str(condition), kind)
        self._finish(kind)

    # ------------------------------------------------------------------ what and how

    def _target(self, url: str) -> str | None:
        endpoint, monitor = self.endpoint, self.monitor
        if isinstance(endpoint.get("dns"), Located):
            dns = endpoint["dns"]
            monitor.update(type="dns", host=str(dns.get("query-name", "")).rstrip("."),
                           record_type=str(dns.get("query-type", "A")).upper(), resolver=url.split("://")[-1])
            return "dns"
        parts = urlsplit(url)
        kind = SCHEMES.get(parts.scheme.lower())
        if kind is None:
            self.note("url", f"url {url}: {parts.scheme or 'such'} checks have no equivalent here; skipped")
            return None
        if kind in ("http", "websocket"):
            if kind == "websocket":
                monitor.update(type="websocket", url=url)
                if endpoint.get("body") is not None:
                    monitor["send"] = env_refs(str(endpoint["body"]))
            else:
                monitor["url"] = url
                self._http()
            return kind
        monitor.update(type=kind, host=parts.hostname or "")
        if parts.port:
            monitor["port"] = parts.port
        if parts.scheme.lower() == "starttls":
            monitor["starttls"] = "smtp"  # Gatus' starttls is SMTP's
        if kind == "udp" and endpoint.get("body") is not None:
            monitor["send"] = env_refs(str(endpoint["body"]))
        if kind == "ssh" and endpoint.get("ssh"):
            self.note("ssh", "ssh: statusgen reads the server's identification and never logs in")
        return kind

    def _http(self) -> None:
        endpoint, monitor = self.endpoint, self.monitor
        if endpoint.get("method"):
            monitor["method"] = str(endpoint["method"]).upper()
        if isinstance(endpoint.get("headers"), dict):
            monitor["headers"] = {str(key): env_refs(str(value)) for key, value in endpoint["headers"].items()}
        if endpoint.get("body") is not None:
            monitor["body"] = env_refs(str(endpoint["body"]))

    def _client(self) -> None:
        client = self.endpoint.get("client")
        if not isinstance(client, Located):
            return
        for key, value in client.items():
            if key == "insecure" and value is True and self.monitor.get("url", "").startswith("https"):
                self.monitor["verify_tls"] = False
            elif key == "timeout":
                self.monitor["timeout"] = str(value)
            else:
                self.notes.append(f"line {line_of(client, key)}: client.{key}: no equivalent")

    # ------------------------------------------------------------------ conditions

    def _condition(self, text: str, kind: str) -> None:
        match = CONDITION.match(text)
        handled = bool(match) and self._known(match.groupdict(), kind)  # type: ignore[union-attr]
        if not handled:
            self.note("conditions", f"condition {text!r}: no equivalent")

    def _known(self, parts: dict[str, str], kind: str) -> bool:
        what, path, op, value, func = parts["what"], parts["path"], parts["op"], parts["value"], parts["func"]
        if what == "CONNECTED" or (what == "DNS_RCODE" and op == "==" and value == "NOERROR"):
            return op == "==" and value in ("true", "NOERROR")  # what every check asks anyway
        if what == "STATUS" and not func and kind == "http":
            return self._status(op, value)
        if what == "RESPONSE_TIME" and op in ("<", "<=") and value.isdigit() and kind == "http":
            self.expect["degraded_after"] = f"{value}ms"
            self.notes.append(f"line {line_of(self.endpoint, 'conditions')}: [RESPONSE_TIME] {op} {value}: "
                              f"a slower answer is degraded here, not down")
            return True
        if what == "CERTIFICATE_EXPIRATION" and op in (">", ">=") and kind in ("http", "tls"):
            try:
                self.cert_days = math.ceil(parse_duration(value) / 86400)
            except ValueError:
                return False
            return self.monitor.get("url", "https").startswith("https") or kind == "tls"
        if what == "BODY":
            return self._body(path.lstrip("."), op, value, func, kind)
        return False

    def _status(self, op: str, value: str) -> bool:
        if op == "==" and value.startswith("any(") and value.endswith(")"):
            codes = [code.strip() for code in value[4:-1].split(",")]
            if all(code.isdigit() for code in codes):
                self.expect["status"] = [int(code) for code in codes]
                return True
            return False
        if not value.isdigit():
            return False
        code = int(value)
        bounds = {"==": (code, code), "<": (100, code - 1), "<=": (100, code), ">": (code + 1, 599),
                  ">=": (code, 599)}.get(op)
        if bounds is None:
            return False
        self.status = [max(self.status[0], bounds[0]), min(self.status[1], bounds[1])]
        low, high = self.status
        self.expect["status"] = low if low == high else f"{low}-{high}"
        return True

    def _body(self, path: str, op: str, value: str, func: str | None, kind: str) -> bool:
        if func == "has" and path and op == "==" and value in ("true", "false") and kind == "http":
            self.expect.setdefault("json", []).append({"path": path, "exists": value == "true"})
            return True
        if func or op != "==" or value.startswith(("any(", "len(")):
            return False
        pattern = value[4:-1] if value.startswith("pat(") and value.endswith(")") else None
        if kind == "dns":
            if path or pattern is not None:
                return False
            self.monitor.setdefault("expect", []).append(value)
            return True
        if path:
            if pattern is not None or kind not in ("http", "websocket"):
                return False
            self.expect.setdefault("json", []).append({"path": path, "equals": _typed(value)})
            return True
        contains = "body_contains" if kind == "http" else "contains"
        if pattern is not None and pattern.strip("*") and "*" not in pattern.strip("*") and "?" not in pattern:
            self.expect.setdefault(contains, []).append(pattern.strip("*"))
        elif pattern is not None:
            self.expect["body_regex" if kind == "http" else "regex"] = fnmatch.translate(pattern)
        else:
            self.expect["body_regex" if kind == "http" else "regex"] = f"^{re.escape(value)}$"
        return kind in ("http", "websocket", "udp")

    def _finish(self, kind: str) -> None:
        if self.expect and kind in ("http", "websocket", "udp"):
            self.monitor["expect"] = self.expect
        self.result.monitors.append((self.monitor, self.notes))
        if self.cert_days is None:
            return
        if kind == "tls":
            self.monitor.update(down_days=self.cert_days, degraded_days=max(14, self.cert_days))
            return
        host = urlsplit(self.monitor["url"]).hostname or ""
        port = urlsplit(self.monitor["url"]).port
        certificate = {"id": self.ids.make(self.monitor["id"], "certificate"),
                       "name": f"{self.monitor['name']} certificate", "type": "tls", "host": host,
                       **({"port": port} if port else {}), "down_days": self.cert_days,
                       "degraded_days": max(14, self.cert_days)}
        if "group" in self.monitor:
            certificate["group"] = self.monitor["group"]
        self.result.monitors.append((certificate, [f"from line {self.endpoint.line}: its [CERTIFICATE_EXPIRATION]"]))


def _typed(value: str) -> Any:
    """A condition's right side as JSON would hold it: true/false, numbers, else the text."""
    if value in ("true", "false"):
        return value == "true"
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    if re.fullmatch(r"-?\d+\.\d+", value):
        return float(value)
    return value
