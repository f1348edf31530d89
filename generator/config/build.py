"""From a composed ``monitors.yaml`` to :class:`generator.models.Config`, collecting every problem.

The file has four top-level keys (plus any ``x-...`` keys, ignored, handy for YAML anchors)::

    site:       title, description, base_url, timezone, language (en|zh), repository (owner/name), logo
    settings:   concurrency, retention (90d, or a number of days), degraded_counts_as_up,
                flap_window, canary {type: tcp|http, target, timeout}, quorum, regions
    defaults:   timeout, retries, retry_backoff, failure_threshold, success_threshold, labels,
                notify, regions, restart {...any restart key...}, and for http monitors
                expect {...}, headers, follow_redirects, verify_tls
    monitors:   a list; each has id (slug, unique), name, group, description, type
                (http | tcp | tls | dns, default http), the options above, and per type:
        http:   url, method, headers, body, follow_redirects, verify_tls, ca_bundle,
                expect {status, body_contains, body_not_contains, body_regex,
                        json: [{path, equals | exists}], degraded_after}
        tcp:    host, port
        tls:    host, port (443), server_name, ca_bundle, degraded_days (14), down_days (3)
        dns:    host (the name to query), record_type (A AAAA CNAME MX TXT), resolver
                (host or host:port), expect (a value or a list), match (any | all)
        restart: {url, method, headers, body, secret, timeout, after_failures, cooldown,
                  max_attempts, verify_every, verify_for}
        notify: a list of Apprise URLs or {url, severities, events}

Merging with ``defaults``: a monitor's own value wins; ``headers``, ``expect`` and
``restart`` merge key by key (a monitor gets a restart only when it has a ``restart`` block).
Durations are ``250ms``, ``30s``, ``5m``, ``1h``, ``2d`` or a number of seconds.
``${NAME}`` in a text value is read from the environment.
"""

from __future__ import annotations

from typing import Any, Optional

from yaml.nodes import MappingNode, Node, ScalarNode

from generator.models import (
    Canary,
    Config,
    DnsSpec,
    HttpExpect,
    HttpSpec,
    JsonAssertion,
    Monitor,
    NotifyTarget,
    RestartSpec,
    Settings,
    Site,
    TcpSpec,
    TlsSpec,
    TransitionKind,
)

from . import validators as v
from .reader import Reader
from .yamlsource import Entry, describe, line_col

TYPES = ("http", "tcp", "tls", "dns")
TOP_KEYS = ("site", "settings", "defaults", "monitors")
SITE_KEYS = ("title", "description", "base_url", "timezone", "language", "repository", "logo")
SETTINGS_KEYS = ("concurrency", "retention", "degraded_counts_as_up", "flap_window", "canary", "quorum", "regions")
CANARY_KEYS = ("type", "target", "timeout")
# options a monitor may set and ``defaults`` may set for every monitor
OPTION_KEYS = ("timeout", "retries", "retry_backoff", "failure_threshold", "success_threshold", "labels",
               "notify", "restart", "regions")
HTTP_DEFAULT_KEYS = ("expect", "headers", "follow_redirects", "verify_tls")
DEFAULTS_KEYS = OPTION_KEYS + HTTP_DEFAULT_KEYS
BASE_KEYS = ("id", "name", "group", "description", "type") + OPTION_KEYS
TYPE_KEYS = {
    "http": ("url", "method", "headers", "body", "follow_redirects", "verify_tls", "ca_bundle", "expect"),
    "tcp": ("host", "port"),
    "tls": ("host", "port", "server_name", "ca_bundle", "degraded_days", "down_days"),
    "dns": ("host", "record_type", "resolver", "expect", "match"),
}
EXPECT_KEYS = ("status", "body_contains", "body_not_contains", "body_regex", "json", "degraded_after")
JSON_KEYS = ("path", "equals", "exists")
RESTART_KEYS = ("url", "method", "headers", "body", "secret", "timeout", "after_failures", "cooldown",
                "max_attempts", "verify_every", "verify_for")
NOTIFY_KEYS = ("url", "severities", "events")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT")
SEVERITIES = ("critical", "warning")
EVENTS = tuple(kind.value for kind in TransitionKind)
MAX_ID = 64
NULL_TAG = "tag:yaml.org,2002:null"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


def build_config(reader: Reader, root: Node, path: str) -> Optional[Config]:
    """The whole file; ``None`` when the top level cannot even be read (the problem is recorded)."""
    if not isinstance(root, MappingNode):
        reader.problem(root, "", f"the top level must be a mapping with site, settings, defaults and monitors "
                                 f"keys, got {describe(root)}")
        return None
    top = reader.source.entries(root, "")
    for key, entry in top.items():
        if key not in TOP_KEYS and not key.startswith("x-"):
            reader.problem(entry.key_node, key, f'unknown key "{key}"{v.did_you_mean(key, TOP_KEYS)} '
                                                f'(top-level keys: site, settings, defaults, monitors; '
                                                f'x-... keys are ignored)')
    # an empty section (every line commented out) reads as null: the same as leaving it out
    site = _site(reader, _present(top.get("site")))
    settings = _settings(reader, _present(top.get("settings")))
    defaults = _defaults(reader, _present(top.get("defaults")), settings)
    monitors: tuple[Monitor, ...] = ()
    entry = top.get("monitors")
    if entry is None:
        reader.problem(root, "monitors", 'missing required key "monitors" (the list of services to watch)')
    else:
        monitors = _monitors(reader, entry, defaults, settings)
    return Config(site=site, settings=settings, monitors=monitors, path=path)


def _present(entry: Optional[Entry]) -> Optional[Entry]:
    if entry is not None and isinstance(entry.node, ScalarNode) and entry.node.tag == NULL_TAG:
        return None
    return entry


# --------------------------------------------------------------------------- site and settings


def _site(reader: Reader, entry: Optional[Entry]) -> Site:
    if entry is None:
        return Site()
    entries = reader.mapping(entry.node, entry.path, SITE_KEYS)
    if not entries:
        return Site()
    fields: dict[str, Any] = {}
    for key in ("title", "description", "logo"):
        if key in entries:
            fields[key] = reader.text(entries[key].node, entries[key].path, allow_empty=key == "description")
    if "base_url" in entries:
        value = reader.checked_text(entries["base_url"], lambda text: v.http_url(text) if text.strip() else None,
                                    allow_empty=True)
        if value is not None and value.strip():
            fields["base_url"] = value if value.endswith("/") else value + "/"
    if "timezone" in entries:
        fields["timezone"] = reader.checked_text(entries["timezone"], v.timezone, secret_ok=False)
    if "language" in entries:
        fields["language"] = reader.enum(entries["language"].node, entries["language"].path, ("en", "zh"))
    if "repository" in entries:
        fields["repository"] = reader.checked_text(
            entries["repository"],
            lambda text: None if v.REPOSITORY.match(text) else f"{v.quote(text)} is not owner/name")
    return Site(**{key: value for key, value in fields.items() if value is not None})


def _settings(reader: Reader, entry: Optional[Entry]) -> Settings:
    if entry is None:
        return Settings()
    entries = reader.mapping(entry.node, entry.path, SETTINGS_KEYS)
    if not entries:
        return Settings()
    fields: dict[str, Any] = {}
    if "concurrency" in entries:
        fields["concurrency"] = _int(reader, entries["concurrency"], 1, 1024)
    if "retention" in entries:
        fields["retention_days"] = _retention(reader, entries["retention"])
    if "degraded_counts_as_up" in entries:
        fields["degraded_counts_as_up"] = reader.boolean(entries["degraded_counts_as_up"].node,
                                                         entries["degraded_counts_as_up"].path)
    if "flap_window" in entries:
        fields["flap_window"] = reader.duration(entries["flap_window"].node, entries["flap_window"].path)
    if "canary" in entries:
        fields["canary"] = _canary(reader, entries["canary"])
    if "regions" in entries:
        fields["regions"] = _unique(reader, entries["regions"], reader.texts(entries["regions"]))
    if "quorum" in entries:
        quorum = fields["quorum"] = _int(reader, entries["quorum"], 1, None)
        regions = fields.get("regions") or ()
        if quorum is not None and quorum > max(1, len(regions)):
            reader.problem(entries["quorum"].node, entries["quorum"].path,
                           f"quorum {quorum} needs settings.regions to list at least {quorum} regions "
                           f"(it lists {len(regions)})")
    return Settings(**{key: value for key, value in fields.items() if value is not None})


def _retention(reader: Reader, entry: Entry) -> Optional[int]:
    """``90d`` (any duration, rounded up to whole days) or a bare number of days."""
    ok, value = reader.value(entry.node, entry.path, "a number of days or a duration like 90d")
    if not ok:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        days = value
    elif isinstance(value, str):
        seconds = reader.duration(entry.node, entry.path)
        if seconds is None:
            return None
        days = -int(-seconds // 86400)
    else:
        reader.problem(entry.node, entry.path, f"expected a number of days (90) or a duration (90d), "
                                               f"got {describe(entry.node)}")
        return None
    if days < 1:
        reader.problem(entry.node, entry.path, "retention must be at least 1 day (e.g. 90d)")
        return None
    return days


def _canary(reader: Reader, entry: Entry) -> Optional[Canary]:
    entries = reader.mapping(entry.node, entry.path, CANARY_KEYS)
    if entries is None:
        return None
    kind: Optional[str] = "tcp"
    if "type" in entries:
        kind = reader.enum(entries["type"].node, entries["type"].path, ("tcp", "http"))
    target_entry = reader.require(entries, entry.node, entry.path, "target",
                                  " (host:port for a tcp canary, a URL for an http canary)")
    target = None
    if target_entry is not None:
        if kind == "http":
            target = reader.checked_text(target_entry, v.http_url)
        elif kind == "tcp":
            target = reader.checked_text(target_entry, lambda text: _message(v.host_port(text)))
        else:
            target = reader.text(target_entry.node, target_entry.path)
    fields: dict[str, Any] = {}
    if "timeout" in entries:
        fields["timeout"] = reader.duration(entries["timeout"].node, entries["timeout"].path, positive=True)
    if kind is None or target is None or any(value is None for value in fields.values()):
        return None
    return Canary(type=kind, target=target, **fields)


def _message(result: Any) -> Optional[str]:
    return result if isinstance(result, str) else None


# --------------------------------------------------------------------------- defaults and options


def _defaults(reader: Reader, entry: Optional[Entry], settings: Settings) -> dict[str, Any]:
    """Parsed defaults: option values, plus partial ``expect`` / ``restart`` / ``headers`` to merge."""
    if entry is None:
        return {}
    entries = reader.mapping(entry.node, entry.path, DEFAULTS_KEYS,
                             elsewhere={key: "is set per monitor, not in defaults"
                                        for key in BASE_KEYS + sum(TYPE_KEYS.values(), ())
                                        if key not in DEFAULTS_KEYS})
    if not entries:
        return {}
    result = _options(reader, entries, settings.regions)
    if "restart" in entries:  # partial: merged into each monitor's own restart block
        fields = _restart_fields(reader, entries["restart"])
        result["restart"] = None if fields is None else {k: value for k, value in fields.items() if value is not None}
    if "expect" in entries:
        result["expect"] = _http_expect(reader, entries["expect"])
    if "headers" in entries:
        result["headers"] = reader.headers(entries["headers"])
    for key in ("follow_redirects", "verify_tls"):
        if key in entries:
            result[key] = reader.boolean(entries[key].node, entries[key].path)
    return {key: value for key, value in result.items() if value is not None}


def _options(reader: Reader, entries: dict[str, Entry], settings_regions: Optional[tuple[str, ...]]) -> dict[str, Any]:
    """The options shared by ``defaults`` and monitors, for the keys present (``restart`` is read apart)."""
    result: dict[str, Any] = {}
    if "timeout" in entries:
        result["timeout"] = reader.duration(entries["timeout"].node, entries["timeout"].path, positive=True)
    if "retries" in entries:
        result["retries"] = _int(reader, entries["retries"], 0, 10)
    if "retry_backoff" in entries:
        result["retry_backoff"] = reader.duration(entries["retry_backoff"].node, entries["retry_backoff"].path)
    for key in ("failure_threshold", "success_threshold"):
        if key in entries:
            result[key] = _int(reader, entries[key], 1, 1000)
    if "labels" in entries:
        result["labels"] = _unique(reader, entries["labels"], reader.texts(
            entries["labels"], check=lambda text: None if len(text) <= 50 else
            f"{v.quote(text)} is longer than 50 characters (GitHub's limit for a label)"))
    if "notify" in entries:
        result["notify"] = _notify(reader, entries["notify"])
    if "regions" in entries:
        regions = _unique(reader, entries["regions"], reader.texts(entries["regions"]))
        result["regions"] = regions
        if regions and settings_regions:
            for index, region in enumerate(regions):
                if region not in settings_regions:
                    node = entries["regions"].node
                    item = node.value[index] if hasattr(node, "value") and isinstance(node.value, list) else node
                    reader.problem(item, entries["regions"].path,
                                   f'region "{region}" is not in settings.regions '
                                   f'({", ".join(settings_regions)}){v.did_you_mean(region, settings_regions)}')
    return result


def _int(reader: Reader, entry: Entry, minimum: Optional[int], maximum: Optional[int]) -> Optional[int]:
    return reader.integer(entry.node, entry.path, minimum=minimum, maximum=maximum)


def _unique(reader: Reader, entry: Entry, values: Optional[tuple[str, ...]]) -> Optional[tuple[str, ...]]:
    if values is None:
        return None
    seen: list[str] = []
    for value in values:
        if value in seen:
            reader.problem(entry.node, entry.path, f"{v.quote(value)} is listed twice")
            return None
        seen.append(value)
    return values


# --------------------------------------------------------------------------- http


def _http_expect(reader: Reader, entry: Entry) -> Optional[dict[str, Any]]:
    entries = reader.mapping(entry.node, entry.path, EXPECT_KEYS, what=" of expectations")
    if entries is None:
        return None
    result: dict[str, Any] = {}
    if "status" in entries:
        result["status"] = _statuses(reader, entries["status"])
    for key in ("body_contains", "body_not_contains"):
        if key in entries:
            result[key] = reader.texts(entries[key])
    if "body_regex" in entries:
        result["body_regex"] = reader.checked_text(entries["body_regex"], v.regex, secret_ok=False)
    if "json" in entries:
        result["json"] = _json_assertions(reader, entries["json"])
    if "degraded_after" in entries:
        result["degraded_after"] = reader.duration(entries["degraded_after"].node, entries["degraded_after"].path,
                                                   positive=True)
    if any(value is None for value in result.values()):
        return None
    return result


def _statuses(reader: Reader, entry: Entry) -> Optional[tuple[tuple[int, int], ...]]:
    items = reader.items(entry)
    if items is None:
        return None
    if not items:
        reader.problem(entry.node, entry.path, "needs at least one status code or range")
        return None
    ranges = []
    failed = False
    for node, path in items:
        ok, value = reader.value(node, path, "a status code or range")
        if not ok:
            failed = True
            continue
        found = v.status_range(value if isinstance(value, (int, str)) else node.value)
        if isinstance(found, str):
            reader.problem(node, path, found)
            failed = True
        else:
            ranges.append(found)
    return None if failed else tuple(ranges)


def _json_assertions(reader: Reader, entry: Entry) -> Optional[tuple[JsonAssertion, ...]]:
    items = reader.items(entry, single=False)
    if items is None:
        return None
    result = []
    failed = False
    for node, path in items:
        entries = reader.mapping(node, path, JSON_KEYS, what=" like {path: status, equals: ok}")
        if entries is None:
            failed = True
            continue
        target = reader.require(entries, node, path, "path")
        json_path = reader.checked_text(target, v.json_path, secret_ok=False) if target else None
        fields: dict[str, Any] = {}
        if "equals" in entries:
            equals_node = entries["equals"].node
            ok, value = reader.plain(equals_node, entries["equals"].path)
            if not ok:
                failed = True
            elif isinstance(equals_node, ScalarNode) and equals_node.tag == TIMESTAMP_TAG:
                value = equals_node.value  # JSON has no dates: compare with the text as written
            fields.update(equals=value, has_equals=True)
        if "exists" in entries:
            exists = reader.boolean(entries["exists"].node, entries["exists"].path)
            if exists is None:
                failed = True
            fields["exists"] = exists
        if "equals" in entries and "exists" in entries:
            reader.problem(entries["exists"].key_node, entries["exists"].path,
                           "use either equals or exists in one assertion, not both")
            failed = True
        if "equals" not in entries and "exists" not in entries:
            fields["exists"] = True  # a path alone asserts that it is there
        if json_path is None:
            failed = True
            continue
        result.append(JsonAssertion(path=json_path, **fields))
    return None if failed else tuple(result)


def _merge_headers(*groups: Optional[tuple[tuple[str, str], ...]]) -> tuple[tuple[str, str], ...]:
    """Later groups win, header names compared without case."""
    merged: dict[str, tuple[str, str]] = {}
    for group in groups:
        for name, value in group or ():
            merged[name.lower()] = (name, value)
    return tuple(merged.values())


# --------------------------------------------------------------------------- restart and notify


def _restart_fields(reader: Reader, entry: Entry) -> Optional[dict[str, Any]]:
    entries = reader.mapping(entry.node, entry.path, RESTART_KEYS, what=" (restart webhook)")
    if entries is None:
        return None
    result: dict[str, Any] = {}
    if "url" in entries:
        result["url"] = reader.checked_text(entries["url"], v.http_url)
    if "method" in entries:
        result["method"] = reader.enum(entries["method"].node, entries["method"].path, HTTP_METHODS, fold=True)
    if "headers" in entries:
        result["headers"] = reader.headers(entries["headers"])
    for key in ("body", "secret"):
        if key in entries:
            result[key] = reader.text(entries[key].node, entries[key].path, allow_empty=key == "body")
    for key in ("timeout", "verify_every"):
        if key in entries:
            result[key] = reader.duration(entries[key].node, entries[key].path, positive=True)
    for key in ("cooldown", "verify_for"):
        if key in entries:
            result[key] = reader.duration(entries[key].node, entries[key].path)
    for key, (low, high) in {"after_failures": (1, 1000), "max_attempts": (1, 100)}.items():
        if key in entries:
            result[key] = _int(reader, entries[key], low, high)
    return result  # None values mark keys that had a problem (already reported)


def _restart(reader: Reader, defaults: Optional[dict[str, Any]], own: Optional[dict[str, Any]],
             entry: Entry) -> Optional[RestartSpec]:
    if own is None:
        return None
    merged = {**(defaults or {}), **own}
    if "url" not in merged:
        reader.problem(entry.node, entry.path, 'missing required key "url" (the restart webhook)')
        return None
    if any(value is None for value in merged.values()):
        return None
    if "headers" in merged:
        merged["headers"] = _merge_headers((defaults or {}).get("headers"), own.get("headers"))
    return RestartSpec(**merged)


def _notify(reader: Reader, entry: Entry) -> Optional[tuple[NotifyTarget, ...]]:
    items = reader.items(entry)
    if items is None:
        return None
    result = []
    failed = False
    for node, path in items:
        if isinstance(node, MappingNode):
            entries = reader.mapping(node, path, NOTIFY_KEYS)
            if entries is None:
                failed = True
                continue
            target = reader.require(entries, node, path, "url", " (an Apprise URL)")
            url = reader.checked_text(target, v.apprise_url) if target else None
            fields: dict[str, Any] = {}
            for key, choices in (("severities", SEVERITIES), ("events", EVENTS)):
                if key in entries:
                    fields[key] = _unique(reader, entries[key], reader.texts(entries[key], enum=choices))
                    if fields[key] == ():
                        reader.problem(entries[key].node, entries[key].path, "must list at least one")
                        fields[key] = None
            if url is None or any(value is None for value in fields.values()):
                failed = True
                continue
            result.append(NotifyTarget(url=url, **fields))
        else:
            url = reader.checked_text(Entry("", node, node, path), v.apprise_url)
            if url is None:
                failed = True
            else:
                result.append(NotifyTarget(url=url))
    return None if failed else tuple(result)


# --------------------------------------------------------------------------- monitors


def _monitors(reader: Reader, entry: Entry, defaults: dict[str, Any], settings: Settings) -> tuple[Monitor, ...]:
    items = reader.items(entry, single=False)
    if items is None:
        return ()
    if not items:
        reader.problem(entry.node, entry.path, "the monitors list is empty: add at least one monitor")
        return ()
    monitors = []
    ids: dict[str, list[Node]] = {}
    for node, path in items:
        monitor = _monitor(reader, node, path, defaults, settings, ids)
        if monitor is not None:
            monitors.append(monitor)
    for monitor_id, nodes in ids.items():
        if len(nodes) > 1:
            lines = [line_col(node)[0] for node in nodes]
            for node in nodes:
                here = line_col(node)[0]
                others = ", ".join(str(line) for line in lines if line != here) or str(here)
                index = _index_of(items, node)
                reader.problem(node, f"monitors[{index}].id",
                               f'duplicate monitor id "{monitor_id}" (also used at line {others})')
    return tuple(monitors)


def _index_of(items: list[tuple[Node, str]], id_node: Node) -> int:
    for index, (node, _) in enumerate(items):
        if isinstance(node, MappingNode) and any(value is id_node for _, value in node.value):
            return index
    return 0


def _monitor(reader: Reader, node: Node, path: str, defaults: dict[str, Any], settings: Settings,
             ids: dict[str, list[Node]]) -> Optional[Monitor]:
    if not isinstance(node, MappingNode):
        reader.problem(node, path, f"expected a monitor (a mapping with id, name, type, ...), got {describe(node)}")
        return None
    raw = reader.source.entries(node, path)  # a first look, for id and type (problems are reported once)
    reader.monitor = None
    problems_before = len(reader.problems)

    # id first: it names the monitor in later messages
    monitor_id = None
    id_entry = reader.require(raw, node, path, "id", " (a slug such as api or web-frontend)")
    if id_entry is not None:
        monitor_id = reader.text(id_entry.node, id_entry.path, secret_ok=False)
        if monitor_id is not None:
            if not v.SLUG.match(monitor_id) or len(monitor_id) > MAX_ID:
                reader.problem(id_entry.node, id_entry.path,
                               f"{v.quote(monitor_id)} is not a valid id: use lowercase letters, digits and -, "
                               f"starting with a letter or digit, at most {MAX_ID} characters")
                monitor_id = None
            else:
                ids.setdefault(monitor_id, []).append(id_entry.node)
                reader.monitor = monitor_id

    # the type decides which keys belong
    kind: Optional[str] = "http"
    if "type" in raw:
        kind = reader.enum(raw["type"].node, raw["type"].path, TYPES)
    if kind is None:
        allowed: tuple[str, ...] = BASE_KEYS + sum(TYPE_KEYS.values(), ())
        elsewhere = None
    else:
        allowed = BASE_KEYS + TYPE_KEYS[kind]
        elsewhere = {}
        for key in sum(TYPE_KEYS.values(), ()):
            if key not in allowed and key not in elsewhere:
                owners = [name for name, names in TYPE_KEYS.items() if key in names]
                elsewhere[key] = f"does not apply to {kind} monitors (it is for {', '.join(owners)})"
    entries = reader.mapping(node, path, allowed, elsewhere=elsewhere) or {}

    fields: dict[str, Any] = {"line": line_col(node)[0]}
    for key in ("name", "group", "description"):
        if key in entries:
            fields[key] = reader.text(entries[key].node, entries[key].path, allow_empty=key == "description")
    options = _options(reader, entries, settings.regions)
    inherited = {key: value for key, value in defaults.items() if key in OPTION_KEYS and key != "restart"}
    fields.update({**inherited, **options})
    if "restart" in entries:
        own = _restart_fields(reader, entries["restart"])
        fields["restart"] = _restart(reader, defaults.get("restart"), own, entries["restart"])

    spec = None
    if kind == "http":
        spec = _http_spec(reader, entries, node, path, defaults)
    elif kind == "tcp":
        spec = _tcp_spec(reader, entries, node, path)
    elif kind == "tls":
        spec = _tls_spec(reader, entries, node, path)
    elif kind == "dns":
        spec = _dns_spec(reader, entries, node, path)

    if len(reader.problems) > problems_before or monitor_id is None or spec is None or kind is None:
        return None
    fields = {key: value for key, value in fields.items() if value is not None}
    fields.setdefault("name", monitor_id)
    return Monitor(id=monitor_id, type=kind, spec=spec, **fields)


def _http_spec(reader: Reader, entries: dict[str, Entry], node: Node, path: str,
               defaults: dict[str, Any]) -> Optional[HttpSpec]:
    url_entry = reader.require(entries, node, path, "url", " (http is the default type; set type: tcp, "
                                                           "tls or dns for other checks)")
    url = reader.checked_text(url_entry, v.http_url) if url_entry else None
    fields: dict[str, Any] = {}
    if "method" in entries:
        fields["method"] = reader.enum(entries["method"].node, entries["method"].path, HTTP_METHODS, fold=True)
    own_headers = reader.headers(entries["headers"]) if "headers" in entries else ()
    if own_headers is None:
        fields["headers"] = None
    elif own_headers or defaults.get("headers"):
        fields["headers"] = _merge_headers(defaults.get("headers"), own_headers)
    if "body" in entries:
        fields["body"] = reader.text(entries["body"].node, entries["body"].path, allow_empty=True)
    for key in ("follow_redirects", "verify_tls"):
        if key in entries:
            fields[key] = reader.boolean(entries[key].node, entries[key].path)
        elif key in defaults:
            fields[key] = defaults[key]
    if "ca_bundle" in entries:
        fields["ca_bundle"] = reader.text(entries["ca_bundle"].node, entries["ca_bundle"].path)
    expect = dict(defaults.get("expect") or {})
    if "expect" in entries:
        own = _http_expect(reader, entries["expect"])
        if own is None:
            fields["expect"] = None
        else:
            expect.update(own)
    if "expect" not in fields:
        fields["expect"] = HttpExpect(**expect)
    if url is None or any(value is None for value in fields.values()):
        return None
    return HttpSpec(url=url, **fields)


def _port(reader: Reader, entries: dict[str, Entry], node: Node, path: str, required: bool) -> Optional[int]:
    if "port" not in entries:
        if required:
            reader.problem(node, path, 'missing required key "port"')
        return None
    return _int(reader, entries["port"], 1, 65535)


def _host(reader: Reader, entries: dict[str, Entry], node: Node, path: str, hint: str = "") -> Optional[str]:
    entry = reader.require(entries, node, path, "host", hint)
    return reader.checked_text(entry, v.hostname) if entry else None


def _tcp_spec(reader: Reader, entries: dict[str, Entry], node: Node, path: str) -> Optional[TcpSpec]:
    host = _host(reader, entries, node, path)
    port = _port(reader, entries, node, path, required=True)
    if host is None or port is None:
        return None
    return TcpSpec(host=host, port=port)


def _tls_spec(reader: Reader, entries: dict[str, Entry], node: Node, path: str) -> Optional[TlsSpec]:
    host = _host(reader, entries, node, path)
    fields: dict[str, Any] = {}
    if "port" in entries:
        fields["port"] = _port(reader, entries, node, path, required=False)
    if "server_name" in entries:
        fields["server_name"] = reader.checked_text(entries["server_name"], v.hostname)
    if "ca_bundle" in entries:
        fields["ca_bundle"] = reader.text(entries["ca_bundle"].node, entries["ca_bundle"].path)
    for key in ("degraded_days", "down_days"):
        if key in entries:
            fields[key] = _int(reader, entries[key], 0, 3650)
    if host is None or any(value is None for value in fields.values()):
        return None
    spec = TlsSpec(host=host, **fields)
    if spec.down_days > spec.degraded_days:
        where = entries.get("down_days") or entries.get("degraded_days")
        reader.problem(where.node if where else node, where.path if where else path,
                       f"down_days ({spec.down_days}) must not be more than degraded_days ({spec.degraded_days})")
        return None
    return spec


def _dns_spec(reader: Reader, entries: dict[str, Entry], node: Node, path: str) -> Optional[DnsSpec]:
    host = _host(reader, entries, node, path, " (the DNS name to look up)")
    fields: dict[str, Any] = {}
    if "record_type" in entries:
        fields["record_type"] = reader.enum(entries["record_type"].node, entries["record_type"].path,
                                            RECORD_TYPES, fold=True)
    if "resolver" in entries:
        fields["resolver"] = reader.checked_text(entries["resolver"],
                                                 lambda text: _message(v.host_port(text, default_port=53)))
    if "expect" in entries:
        fields["expect"] = reader.texts(entries["expect"])
    if "match" in entries:
        fields["match"] = reader.enum(entries["match"].node, entries["match"].path, ("any", "all"))
    if host is None or any(value is None for value in fields.values()):
        return None
    return DnsSpec(name=host, **fields)
