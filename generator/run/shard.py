"""Splitting one run across several runners, and putting the pieces back together.

Two independent axes:

* **Shards** split the monitors: ``statusgen probe --shard K/N`` probes only the
  monitors whose id hashes to shard K (1-based). Every monitor lands in exactly
  one shard, and the choice depends only on its id, so it is the same in every
  run, on every machine and in every Python process (no ``hash()``, which is
  salted per process).
* **Regions** probe the same monitors from several places:
  ``statusgen probe --region eu``. A monitor is declared down only when at least
  ``quorum`` regions see it down, so one runner with a bad network path does not
  open an incident.

Each runner writes a *partial* (a small JSON file, see :func:`write_partial`);
:func:`merge` combines any mix of shard and region partials into one check per
monitor, in configuration order, exactly what an unsharded, single-region run
would have produced for the same probe results.

Merge rule for a monitor seen by several regions (``q`` = the quorum, capped at
the number of regions that returned data, so a region that lost its own network
cannot hide an outage the others all see):

1. regions whose check is ``no_data`` (or ``maintenance``) are ignored;
   if every region is ignored the result is ``no_data``;
2. at least ``q`` regions ``down``              -> ``down``, with those regions' errors;
3. else at least ``q`` regions down or degraded -> ``degraded``, with their errors;
4. else                                         -> ``up``, with the median latency of
   the regions that saw it up.

A monitor in the configuration that no partial mentions (a shard job that
failed or never uploaded) is ``no_data``: a missed run is never "up".
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from generator.fsutil import atomic_write_json
from generator.models import Check, CheckStatus, Monitor
from generator.secrets import mask
from generator.timeutil import parse_iso, to_iso

PARTIAL_VERSION = 1
PARTIAL_KIND = "statusgen-partial"

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardError(ValueError):
    """A bad ``--shard`` value, a malformed partial file, or partials that contradict each other."""


# --------------------------------------------------------------------------- shards


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> ``(2, 4)``; K is 1-based and must be within 1..N."""
    match = _SHARD.match(str(text))
    if not match:
        raise ShardError(f"--shard {text!r}: expected K/N, e.g. 1/4 (shard K of N, counting from 1)")
    index, total = int(match.group(1)), int(match.group(2))
    if total < 1:
        raise ShardError(f"--shard {text!r}: N must be at least 1")
    if not 1 <= index <= total:
        raise ShardError(f"--shard {text!r}: K must be between 1 and {total}")
    return index, total


def shard_of(monitor_id: str, total: int) -> int:
    """The 1-based shard a monitor id belongs to out of ``total``; a pure function of the id."""
    if total < 1:
        raise ShardError(f"shard count must be at least 1, not {total}")
    digest = hashlib.sha256(monitor_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % total + 1


def select_shard(monitors: Iterable[Monitor], index: int, total: int) -> list[Monitor]:
    """The monitors of shard ``index`` (1-based) out of ``total``, in their original order."""
    if total < 1 or not 1 <= index <= total:
        raise ShardError(f"shard {index}/{total}: K must be between 1 and N, and N at least 1")
    return [monitor for monitor in monitors if shard_of(monitor.id, total) == index]


def select_region(monitors: Iterable[Monitor], region: Optional[str]) -> list[Monitor]:
    """The monitors a runner in ``region`` probes: those without a region list, or listing it."""
    if not region:
        return list(monitors)
    return [monitor for monitor in monitors if not monitor.regions or region in monitor.regions]


# --------------------------------------------------------------------------- partial files


@dataclass(frozen=True)
class Partial:
    """One runner's results: a shard of the monitors, as seen from one region."""

    checks: tuple[Check, ...]
    started: datetime
    finished: datetime
    shard: Optional[str] = None  # "K/N"
    region: Optional[str] = None
    path: Optional[str] = None  # where it was read from, for messages
    meta: dict[str, Any] = field(default_factory=dict)


def check_to_dict(check: Check) -> dict[str, Any]:
    """A check as JSON-ready data: UTC ``Z`` times, masked error text."""
    return {
        "monitor_id": check.monitor_id,
        "time": to_iso(check.time),
        "status": check.status.value,
        "latency_ms": check.latency_ms,
        "code": check.code,
        "error": mask(check.error),
        "attempts": check.attempts,
        "details": check.details,
        "region": check.region,
    }


def check_from_dict(data: Any, where: str) -> Check:
    """The inverse of :func:`check_to_dict`; ``where`` names the file and entry for messages."""
    if not isinstance(data, dict):
        raise ShardError(f"{where}: expected an object, found {type(data).__name__}")
    try:
        monitor_id = data["monitor_id"]
        if not isinstance(monitor_id, str) or not monitor_id:
            raise ShardError(f"{where}.monitor_id: expected a non-empty string")
        status = CheckStatus(data["status"])
        time = parse_iso(data["time"])
        latency = data.get("latency_ms")
        if latency is not None and (isinstance(latency, bool) or not isinstance(latency, (int, float))):
            raise ShardError(f"{where}.latency_ms: expected a number or null")
        code = data.get("code")
        if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
            raise ShardError(f"{where}.code: expected an integer or null")
        details = data.get("details") or {}
        if not isinstance(details, dict):
            raise ShardError(f"{where}.details: expected an object")
        attempts = data.get("attempts", 1)
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
            raise ShardError(f"{where}.attempts: expected a non-negative integer")
        region = data.get("region")
        if region is not None and not isinstance(region, str):
            raise ShardError(f"{where}.region: expected a string or null")
    except KeyError as missing:
        raise ShardError(f"{where}: missing key {missing.args[0]!r}") from None
    except (TypeError, ValueError) as bad:
        if isinstance(bad, ShardError):
            raise
        raise ShardError(f"{where}: {bad}") from None
    return Check(
        monitor_id=monitor_id,
        time=time,
        status=status,
        latency_ms=float(latency) if latency is not None else None,
        code=code,
        error=str(data.get("error") or ""),
        attempts=attempts,
        details=details,
        region=region,
    )


def write_partial(
    path: str | Path,
    checks: Sequence[Check],
    *,
    shard: Optional[str] = None,
    region: Optional[str] = None,
    started: datetime,
    finished: datetime,
) -> None:
    """Write a partial atomically (a killed runner leaves no half file for the merge to trip on)."""
    if shard is not None:
        index, total = parse_shard(shard)
        shard = f"{index}/{total}"
    atomic_write_json(
        path,
        {
            "kind": PARTIAL_KIND,
            "version": PARTIAL_VERSION,
            "shard": shard,
            "region": region,
            "started": to_iso(started),
            "finished": to_iso(finished),
            "checks": [check_to_dict(check) for check in checks],
        },
    )


def read_partial(path: str | Path) -> Partial:
    """Read and validate a partial; every problem is a :class:`ShardError` naming the file."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ShardError(f"{name}: no such partial results file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ShardError(f"{name}: cannot read: {error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ShardError(f"{name}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    if not isinstance(data, dict) or data.get("kind") != PARTIAL_KIND:
        raise ShardError(f"{name}: not a statusgen partial results file (written by `statusgen probe --out`)")
    version = data.get("version")
    if version != PARTIAL_VERSION:
        raise ShardError(f"{name}: partial format version {version!r} is not supported (expected {PARTIAL_VERSION})")
    shard = data.get("shard")
    if shard is not None:
        try:
            index, total = parse_shard(shard)
        except ShardError as error:
            raise ShardError(f"{name}: shard: {error}") from None
        shard = f"{index}/{total}"
    region = data.get("region")
    if region is not None and (not isinstance(region, str) or not region):
        raise ShardError(f"{name}: region: expected a non-empty string or null")
    times = {}
    for key in ("started", "finished"):
        try:
            times[key] = parse_iso(data[key])
        except KeyError:
            raise ShardError(f"{name}: missing key {key!r}") from None
        except (TypeError, ValueError):
            raise ShardError(f"{name}: {key}: {data[key]!r} is not an ISO 8601 time") from None
    raw = data.get("checks")
    if not isinstance(raw, list):
        raise ShardError(f"{name}: checks: expected a list")
    checks = []
    seen: set[str] = set()
    for position, item in enumerate(raw):
        check = check_from_dict(item, f"{name}: checks[{position}]")
        if check.monitor_id in seen:
            raise ShardError(f"{name}: checks[{position}]: monitor {check.monitor_id!r} appears twice")
        seen.add(check.monitor_id)
        if region and check.region is None:
            check = _with_region(check, region)
        checks.append(check)
    return Partial(
        checks=tuple(checks),
        started=times["started"],
        finished=times["finished"],
        shard=shard,
        region=region,
        path=name,
    )


def _with_region(check: Check, region: Optional[str]) -> Check:
    return replace(check, region=region)


# --------------------------------------------------------------------------- merge


def merge(partials: Sequence[Partial], monitors: Sequence[Monitor], *, quorum: int = 1) -> list[Check]:
    """One check per configured monitor, in configuration order (see the module docstring)."""
    if quorum < 1:
        raise ShardError(f"quorum must be at least 1, not {quorum}")
    if not partials:
        raise ShardError("nothing to merge: no partial results files")
    _check_shard_counts(partials)

    # monitor id -> region -> (check, file it came from)
    seen: dict[str, dict[Optional[str], tuple[Check, str]]] = {}
    for number, partial in enumerate(partials):
        source = partial.path or f"partial #{number + 1}"
        for check in partial.checks:
            region = partial.region or check.region
            by_region = seen.setdefault(check.monitor_id, {})
            if region in by_region:
                other = by_region[region][1]
                where = f"region {region!r}" if region else "the same region"
                raise ShardError(
                    f"{source}: monitor {check.monitor_id!r} was already probed from {where} in {other}; "
                    "shards must not overlap (were they made with different --shard N?)"
                )
            by_region[region] = (check, source)

    fallback_time = min(partial.started for partial in partials)
    merged = []
    for monitor in monitors:
        verdicts = seen.get(monitor.id)
        if not verdicts:
            merged.append(
                Check(
                    monitor_id=monitor.id,
                    time=fallback_time,
                    status=CheckStatus.NO_DATA,
                    error="no partial results for this monitor (did a shard job fail?)",
                    attempts=0,
                )
            )
            continue
        merged.append(_combine(monitor.id, {region: check for region, (check, _) in verdicts.items()}, quorum))
    return merged


def _check_shard_counts(partials: Sequence[Partial]) -> None:
    totals: dict[str, str] = {}
    for number, partial in enumerate(partials):
        if partial.shard:
            totals.setdefault(partial.shard.split("/")[1], partial.path or f"partial #{number + 1}")
    if len(totals) > 1:
        listed = ", ".join(f"N={total} in {source}" for total, source in sorted(totals.items()))
        raise ShardError(f"partials were made with different shard counts ({listed})")


def _region_key(region: Optional[str]) -> str:
    return region or ""


def _combine(monitor_id: str, by_region: dict[Optional[str], Check], quorum: int) -> Check:
    if len(by_region) == 1:
        # a single verdict (plain shards, or one region): exactly what the runner saw
        return next(iter(by_region.values()))

    regions = sorted(by_region, key=_region_key)
    summary = {_region_key(region): by_region[region].status.value for region in regions}
    counted = [r for r in regions if by_region[r].status not in (CheckStatus.NO_DATA, CheckStatus.MAINTENANCE)]
    earliest = min(check.time for check in by_region.values())
    attempts = max(check.attempts for check in by_region.values())
    if not counted:
        return Check(
            monitor_id=monitor_id,
            time=earliest,
            status=CheckStatus.NO_DATA,
            error=_errors(by_region, regions),
            attempts=attempts,
            details={"regions": summary},
        )

    needed = min(quorum, len(counted))
    down = [r for r in counted if by_region[r].status is CheckStatus.DOWN]
    failed = [r for r in counted if by_region[r].failed]
    up = [r for r in counted if by_region[r].status is CheckStatus.UP]

    if len(down) >= needed:
        status, chosen = CheckStatus.DOWN, down
    elif len(failed) >= needed:
        status, chosen = CheckStatus.DEGRADED, failed
    else:
        status, chosen = CheckStatus.UP, up

    first = by_region[chosen[0]]
    latencies = [latency for r in chosen if (latency := by_region[r].latency_ms) is not None]
    details: dict[str, Any] = dict(first.details)
    details["regions"] = summary
    details["quorum"] = needed
    return Check(
        monitor_id=monitor_id,
        time=earliest,
        status=status,
        latency_ms=statistics.median(latencies) if latencies else None,
        code=first.code,
        error="" if status is CheckStatus.UP else _errors(by_region, chosen),
        attempts=attempts,
        details=details,
        region=None,
    )


def _errors(by_region: dict[Optional[str], Check], regions: Iterable[Optional[str]]) -> str:
    parts = []
    for region in regions:
        error = by_region[region].error or by_region[region].status.value
        parts.append(f"{region}: {error}" if region else error)
    return "; ".join(parts)


def merge_files(paths: Sequence[str | Path], monitors: Sequence[Monitor], *, quorum: int = 1) -> list[Check]:
    """Read every partial then merge; the command line's ``statusgen merge`` in one call."""
    return merge([read_partial(path) for path in paths], monitors, quorum=quorum)


def write_merged(path: str | Path, checks: Sequence[Check], partials: Sequence[Partial]) -> None:
    """Write merged checks in the partial format (no shard, no region), for ``run --checks``."""
    write_partial(
        path,
        checks,
        started=min(partial.started for partial in partials),
        finished=max(partial.finished for partial in partials),
    )
