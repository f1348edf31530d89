"""From a composed ``monitors.yaml`` to :class:`generator.models.Config`, collecting every problem.

The file has four top-level keys (plus any ``x-...`` keys, ignored, handy for YAML anchors)::

    site:       title, description, base_url, timezone, language (en|zh), repository (owner/name), logo, collapse_groups_from
    settings:   concurrency, retention (90d, or a number of days), degraded_counts_as_up,
                flap_window, canary {type: tcp|http, target, timeout}, quorum, regions, stale_after,
                notify_every, interval (default 60s, at least 10s: every monitor's, for statusgen watch),
                publish_every (default 5m: statusgen watch rebuilds the site at least this often)
    defaults:   interval, timeout, retries, retry_backoff, failure_threshold, success_threshold, labels,
                notify, regions, restart {...any restart key...}, and the keys a probe type lets
                defaults set (for http monitors: expect {...}, headers, follow_redirects, verify_tls)
    monitors:   a list; each has id (slug, unique), name, group, description, type (one of the
                probe types in generator.probes.registry, default http), the options above, and
                the keys of its type (each type's module lists them with their docs), plus
        restart: {url, method, headers, body, secret, timeout, after_failures, cooldown,
                  max_attempts, verify_every, verify_for}
        notify: a list of Apprise URLs or {url, severities, events}

Merging with ``defaults``: a monitor's own value wins; ``headers``, ``expect`` and
``restart`` merge key by key (a monitor gets a restart only when it has a ``restart`` block).
Durations are ``250ms``, ``30s``, ``5m``, ``1h``, ``2d`` or a number of seconds.
``${NAME}`` in a text value is read from the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from yaml.nodes import MappingNode, Node, ScalarNode

from generator.models import (
    Config,
    Monitor,
    NotifyTarget,
    RestartSpec,
    Settings,
    TransitionKind,
)

from . import validators as v
from .keys import Key, SpecContext, merge_headers
from .reader import MAX_DURATION, Reader
from .sections import read_interval, read_settings, read_site
from .yamlsource import Entry, describe, line_col

if TYPE_CHECKING:
    from generator.probes.probetype import ProbeType

TOP_KEYS = ("site", "settings", "defaults", "monitors")
# options a monitor may set and ``defaults`` may set for every monitor
OPTION_KEYS = ("interval", "timeout", "retries", "retry_backoff", "failure_threshold", "success_threshold", "labels",
               "notify", "restart", "regions")
BASE_KEYS = ("id", "name", "group", "description", "type") + OPTION_KEYS
RESTART_KEYS = ("url", "method", "headers", "body", "secret", "timeout", "after_failures", "cooldown",
                "max_attempts", "verify_every", "verify_for")
NOTIFY_KEYS = ("url", "severities", "events")
SEVERITIES = ("critical", "warning")
EVENTS = tuple(kind.value for kind in TransitionKind)
MAX_ID = 64
MAX_TIMEOUT = 3600.0  # seconds: a check or a webhook that needs longer is not one a status page can wait for
NULL_TAG = "tag:yaml.org,2002:null"


def probe_types() -> Mapping[str, ProbeType]:
    """The registered probe types by name, in the registry's order.

    Imported on first use, not at the top: the probe modules declare their keys with this package's
    Reader and keys, so this package has to load completely before the registry can.
    """
    from generator.probes.registry import BY_NAME

    return BY_NAME


def default_type() -> str:
    """The type of a monitor without ``type:`` (imported on first use, as in probe_types)."""
    from generator.probes.registry import DEFAULT

    return DEFAULT


def inherited_keys() -> dict[str, Key]:
    """The probe types' keys that ``defaults`` may set for every monitor of the type that has them."""
    return {key.name: key for probe_type in probe_types().values() for key in probe_type.keys if key.inherit}


def defaults_keys() -> tuple[str, ...]:
    return OPTION_KEYS + tuple(inherited_keys())


def _all_type_keys() -> tuple[str, ...]:
    return tuple(dict.fromkeys(key for probe_type in probe_types().values() for key in probe_type.key_names))


def build_config(reader: Reader, root: Node, path: str) -> Config | None:
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
    site = read_site(reader, _present(top.get("site")))
    settings = read_settings(reader, _present(top.get("settings")))
    defaults = _defaults(reader, _present(top.get("defaults")), settings)
    monitors: tuple[Monitor, ...] = ()
    monitors_entry = top.get("monitors")
    if monitors_entry is None:
        reader.problem(root, "monitors", 'missing required key "monitors" (the list of services to watch)')
    else:
        monitors = _monitors(reader, monitors_entry, defaults, settings)
    return Config(site=site, settings=settings, monitors=monitors, path=path)


def _present(entry: Entry | None) -> Entry | None:
    if entry is not None and isinstance(entry.node, ScalarNode) and entry.node.tag == NULL_TAG:
        return None
    return entry


# --------------------------------------------------------------------------- defaults and options


def _defaults(reader: Reader, entry: Entry | None, settings: Settings) -> dict[str, Any]:
    """Parsed defaults: option values, plus the probe types' inherited keys (partial ``expect``,
    ``headers``, ...) and a partial ``restart``, to merge into each monitor."""
    if entry is None:
        return {}
    allowed = defaults_keys()
    entries = reader.mapping(entry.node, entry.path, allowed,
                             elsewhere={key: "is set per monitor, not in defaults"
                                        for key in BASE_KEYS + _all_type_keys() if key not in allowed})
    if not entries:
        return {}
    result = _options(reader, entries, settings.regions)
    if "restart" in entries:  # partial: merged into each monitor's own restart block
        fields = _restart_fields(reader, entries["restart"])
        result["restart"] = None if fields is None else {k: value for k, value in fields.items() if value is not None}
    for name, key in inherited_keys().items():
        if name in entries:
            result[name] = key.read(reader, entries[name])
    return {key: value for key, value in result.items() if value is not None}


def _options(reader: Reader, entries: dict[str, Entry], settings_regions: tuple[str, ...] | None) -> dict[str, Any]:
    """The options shared by ``defaults`` and monitors, for the keys present (``restart`` is read apart)."""
    result: dict[str, Any] = {}
    if "interval" in entries:
        result["interval"] = read_interval(reader, entries["interval"])
    if "timeout" in entries:
        result["timeout"] = reader.duration(entries["timeout"].node, entries["timeout"].path, positive=True,
                                            maximum=MAX_TIMEOUT)
    if "retries" in entries:
        result["retries"] = reader.integer(entries["retries"].node, entries["retries"].path, minimum=0, maximum=10)
    if "retry_backoff" in entries:
        result["retry_backoff"] = reader.duration(entries["retry_backoff"].node, entries["retry_backoff"].path)
    for key in ("failure_threshold", "success_threshold"):
        if key in entries:
            result[key] = reader.integer(entries[key].node, entries[key].path, minimum=1, maximum=1000)
    if "labels" in entries:
        result["labels"] = reader.unique(entries["labels"], reader.texts(
            entries["labels"], check=lambda text: None if len(text) <= 50 else
            f"{v.quote(text)} is longer than 50 characters (GitHub's limit for a label)"))
    if "notify" in entries:
        result["notify"] = _notify(reader, entries["notify"])
    if "regions" in entries:
        regions = reader.unique(entries["regions"], reader.texts(entries["regions"]))
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


# --------------------------------------------------------------------------- restart and notify


def _restart_fields(reader: Reader, entry: Entry) -> dict[str, Any] | None:
    entries = reader.mapping(entry.node, entry.path, RESTART_KEYS, what=" (restart webhook)")
    if entries is None:
        return None
    result: dict[str, Any] = {}
    if "url" in entries:
        result["url"] = reader.checked_text(entries["url"], v.http_url)
    if "method" in entries:
        result["method"] = reader.enum(entries["method"].node, entries["method"].path, v.HTTP_METHODS, fold=True)
    if "headers" in entries:
        result["headers"] = reader.headers(entries["headers"])
    for key in ("body", "secret"):
        if key in entries:
            result[key] = reader.text(entries[key].node, entries[key].path, allow_empty=key == "body")
    for key in ("timeout", "verify_every"):
        if key in entries:
            result[key] = reader.duration(entries[key].node, entries[key].path, positive=True,
                                          maximum=MAX_TIMEOUT if key == "timeout" else MAX_DURATION)
    for key in ("cooldown", "verify_for"):
        if key in entries:
            result[key] = reader.duration(entries[key].node, entries[key].path)
    for key, (low, high) in {"after_failures": (1, 1000), "max_attempts": (1, 100)}.items():
        if key in entries:
            result[key] = reader.integer(entries[key].node, entries[key].path, minimum=low, maximum=high)
    return result  # None values mark keys that had a problem (already reported)


def _restart(reader: Reader, defaults: dict[str, Any] | None, own: dict[str, Any] | None,
             entry: Entry) -> RestartSpec | None:
    if own is None:
        return None
    merged = {**(defaults or {}), **own}
    if "url" not in merged:
        reader.problem(entry.node, entry.path, 'missing required key "url" (the restart webhook)')
        return None
    if any(value is None for value in merged.values()):
        return None
    if "headers" in merged:
        merged["headers"] = merge_headers((defaults or {}).get("headers"), own.get("headers"))
    return RestartSpec(**merged)


def _notify(reader: Reader, entry: Entry) -> tuple[NotifyTarget, ...] | None:
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
                    fields[key] = reader.unique(entries[key], reader.texts(entries[key], enum=choices))
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
    _colliding_pages(reader, items, ids)
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


def _colliding_pages(reader: Reader, items: list[tuple[Node, str]], ids: dict[str, list[Node]]) -> None:
    """Different ids that the site would publish in one folder (``api`` and ``api-``)."""
    by_page: dict[str, list[tuple[str, Node]]] = {}
    for monitor_id, nodes in ids.items():
        by_page.setdefault(v.page_slug(monitor_id), []).append((monitor_id, nodes[0]))
    for page, owners in by_page.items():
        if len(owners) < 2:
            continue
        for monitor_id, node in owners:
            others = ", ".join(f'"{other}" (line {line_col(where)[0]})' for other, where in owners
                               if other != monitor_id)
            reader.problem(node, f"monitors[{_index_of(items, node)}].id",
                           f'id "{monitor_id}" gets the same pages as {others}: both would be published '
                           f'under monitors/{page}/; make the ids differ in more than trailing dashes')


def _index_of(items: list[tuple[Node, str]], id_node: Node) -> int:
    for index, (node, _) in enumerate(items):
        if isinstance(node, MappingNode) and any(value is id_node for _, value in node.value):
            return index
    return 0


def _monitor(reader: Reader, node: Node, path: str, defaults: dict[str, Any], settings: Settings,
             ids: dict[str, list[Node]]) -> Monitor | None:
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
    kind: str | None = default_type()
    if "type" in raw:
        kind = reader.enum(raw["type"].node, raw["type"].path, tuple(probe_types()))
    allowed, elsewhere = _monitor_keys(kind)
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
    if kind is not None:
        spec = probe_types()[kind].build(SpecContext(reader, entries, node, path, defaults))

    if len(reader.problems) > problems_before or monitor_id is None or spec is None or kind is None:
        return None
    fields = {key: value for key, value in fields.items() if value is not None}
    fields.setdefault("name", monitor_id)
    return Monitor(id=monitor_id, type=kind, spec=spec, **fields)


def _monitor_keys(kind: str | None) -> tuple[tuple[str, ...], dict[str, str] | None]:
    """The keys a monitor of this type may have, and where each other type's key belongs instead."""
    if kind is None:  # an unknown type (already reported): do not pile on about its keys
        return BASE_KEYS + _all_type_keys(), None
    allowed = BASE_KEYS + probe_types()[kind].key_names
    elsewhere = {}
    for key in _all_type_keys():
        if key not in allowed:
            owners = [probe_type.name for probe_type in probe_types().values() if key in probe_type.key_names]
            elsewhere[key] = f"does not apply to {kind} monitors (it is for {', '.join(owners)})"
    return allowed, elsewhere
