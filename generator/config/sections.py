"""The ``site`` and ``settings`` sections of ``monitors.yaml``: how the page looks and how runs behave."""

from __future__ import annotations

import os
from typing import Any

from generator.models import Canary, Settings, Site

from . import keys as k
from . import validators as v
from .reader import Reader
from .yamlsource import Entry, describe

SITE_KEYS = ("title", "description", "base_url", "timezone", "language", "repository", "logo", "collapse_groups_from")
# settings declared as keys (generator.config.keys): read here, described in the schema from the same object
STALE_AFTER = k.Duration(
    "stale_after", "a monitor whose newest check is older than this shows no data, and the page says monitoring "
    "is delayed (default: three check intervals, at least 15m)", positive=True)
NOTIFY_EVERY = k.Duration(
    "notify_every", "a flapping incident (reopened within flap_window) notifies at most this often, with the "
    "number of flaps (default 30m)")
SETTING_KEYS = {key.name: key for key in (STALE_AFTER, NOTIFY_EVERY)}
SETTINGS_KEYS = ("concurrency", "retention", "degraded_counts_as_up", "flap_window", "canary", "quorum", "regions",
                 *SETTING_KEYS, "interval", "publish_every")
CANARY_KEYS = ("type", "target", "timeout")
MAX_RETENTION_DAYS = 3650  # ten years of raw checks; past that the cut-off date overflows long before disks do
MAX_CANARY_TIMEOUT = 3600.0

MIN_INTERVAL = 10.0  # seconds: the shortest `interval` a monitor may have
# Test-only: a smaller floor (in seconds) for `interval`, so that tests of `statusgen watch` run in
# seconds rather than minutes. Never set it for a real status page (docs/watch.md).
TEST_MIN_INTERVAL_VARIABLE = "STATUSGEN_TEST_MIN_INTERVAL"


def min_interval(reader: Reader) -> float:
    """10 s, unless the test-only variable lowers it (never raises it, never below 0.1 s)."""
    environ = os.environ if reader.environ is None else reader.environ
    text = environ.get(TEST_MIN_INTERVAL_VARIABLE, "")
    try:
        lowered = float(text) if text.strip() else MIN_INTERVAL
    except ValueError:
        lowered = MIN_INTERVAL
    return min(MIN_INTERVAL, max(0.1, lowered))


def read_interval(reader: Reader, entry: Entry) -> float | None:
    """``interval``: a duration of at least 10 s (a check every few seconds is a load test, not monitoring)."""
    seconds = reader.duration(entry.node, entry.path, positive=True)
    if seconds is None:
        return None
    floor = min_interval(reader)
    if seconds < floor:
        reader.problem(entry.node, entry.path, f"must be at least {floor:g}s, got {seconds:g}s")
        return None
    if seconds > 86400:
        reader.problem(entry.node, entry.path, f"must be at most 1d, got {seconds:g}s")
        return None
    return seconds


def read_site(reader: Reader, entry: Entry | None) -> Site:
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
    if "collapse_groups_from" in entries:
        entry = entries["collapse_groups_from"]
        fields["collapse_groups_from"] = reader.integer(entry.node, entry.path, minimum=1)
    return Site(**{key: value for key, value in fields.items() if value is not None})


def read_settings(reader: Reader, entry: Entry | None) -> Settings:
    if entry is None:
        return Settings()
    entries = reader.mapping(entry.node, entry.path, SETTINGS_KEYS)
    if not entries:
        return Settings()
    fields: dict[str, Any] = {}
    if "concurrency" in entries:
        concurrency = entries["concurrency"]
        fields["concurrency"] = reader.integer(concurrency.node, concurrency.path, minimum=1, maximum=1024)
    if "retention" in entries:
        fields["retention_days"] = _retention(reader, entries["retention"])
    if "degraded_counts_as_up" in entries:
        fields["degraded_counts_as_up"] = reader.boolean(entries["degraded_counts_as_up"].node,
                                                         entries["degraded_counts_as_up"].path)
    if "flap_window" in entries:
        fields["flap_window"] = reader.duration(entries["flap_window"].node, entries["flap_window"].path)
    if "canary" in entries:
        fields["canary"] = _canary(reader, entries["canary"])
    for name, key in SETTING_KEYS.items():
        if name in entries:
            fields[key.attr] = key.read(reader, entries[name])
    if "interval" in entries:
        fields["interval"] = read_interval(reader, entries["interval"])
    if "publish_every" in entries:
        fields["publish_every"] = read_interval(reader, entries["publish_every"])
    if "regions" in entries:
        fields["regions"] = reader.unique(entries["regions"], reader.texts(entries["regions"]))
    if "quorum" in entries:
        quorum = fields["quorum"] = reader.integer(entries["quorum"].node, entries["quorum"].path, minimum=1)
        regions = fields.get("regions") or ()
        if quorum is not None and quorum > max(1, len(regions)):
            reader.problem(entries["quorum"].node, entries["quorum"].path,
                           f"quorum {quorum} needs settings.regions to list at least {quorum} regions "
                           f"(it lists {len(regions)})")
    return Settings(**{key: value for key, value in fields.items() if value is not None})


def _retention(reader: Reader, entry: Entry) -> int | None:
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
    if days > MAX_RETENTION_DAYS:
        reader.problem(entry.node, entry.path, f"retention must be at most {MAX_RETENTION_DAYS} days "
                                               f"({MAX_RETENTION_DAYS}d), got {days}")
        return None
    return days


def _canary(reader: Reader, entry: Entry) -> Canary | None:
    entries = reader.mapping(entry.node, entry.path, CANARY_KEYS)
    if entries is None:
        return None
    kind: str | None = "tcp"
    if "type" in entries:
        kind = reader.enum(entries["type"].node, entries["type"].path, ("tcp", "http"))
    target_entry = reader.require(entries, entry.node, entry.path, "target",
                                  " (host:port for a tcp canary, a URL for an http canary)")
    target = None
    if target_entry is not None:
        if kind == "http":
            target = reader.checked_text(target_entry, v.http_url)
        elif kind == "tcp":
            target = reader.checked_text(target_entry, v.host_port_problem)
        else:
            target = reader.text(target_entry.node, target_entry.path)
    fields: dict[str, Any] = {}
    if "timeout" in entries:
        fields["timeout"] = reader.duration(entries["timeout"].node, entries["timeout"].path, positive=True,
                                            maximum=MAX_CANARY_TIMEOUT)
    if kind is None or target is None or any(value is None for value in fields.values()):
        return None
    return Canary(type=kind, target=target, **fields)
