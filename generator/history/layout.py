"""Where each piece of history lives under ``data_dir`` (one place to change the layout).

::

    data/checks/<monitor>/<YYYY-MM-DD>.tsv   raw checks, one UTC day per file, append-only
    data/daily/<monitor>/<YYYY>.json         closed daily roll-ups, one calendar year per file, kept forever
    data/daily/<monitor>/open.json           the running summary: newest check, open day, raw offsets
    data/state.json                          current state of every monitor
    data/cache/<name>.json                   small caches (e.g. GitHub ETags)

Raw checks are split by *day* rather than by month: a roll-up is recomputed from
exactly one small file (288 lines at a 5-minute cadence) whatever order checks
arrive in, pruning deletes whole files (so raw files are never rewritten), and a
commit on the history branch stores a few-kilobyte blob per monitor instead of a
growing month. Roll-ups are split by year, and a year file is rewritten only when a
day closes; every run rewrites just the small ``open.json`` of each monitor it records.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote, unquote

RAW_SUFFIX = ".tsv"
ROLLUP_SUFFIX = ".json"
SUMMARY_NAME = "open.json"
_DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.tsv$")
_YEAR_FILE = re.compile(r"^(\d{4})\.json$")
_CACHE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def encode_id(monitor_id: str) -> str:
    """A monitor id as one safe path component (ids are slugs in practice; anything else is quoted)."""
    if not monitor_id:
        raise ValueError("empty monitor id")
    encoded = quote(monitor_id, safe="-_.")
    # never a leading dot: no ".", ".." or hidden folder
    return "%2E" + encoded[1:] if encoded.startswith(".") else encoded


def decode_id(component: str) -> str:
    return unquote(component)


class Layout:
    def __init__(self, data_dir: str | Path):
        self.root = Path(data_dir)
        self.checks_dir = self.root / "checks"
        self.daily_dir = self.root / "daily"
        self.cache_dir = self.root / "cache"
        self.state_file = self.root / "state.json"

    def raw_dir(self, monitor_id: str) -> Path:
        return self.checks_dir / encode_id(monitor_id)

    def raw_file(self, monitor_id: str, day: str) -> Path:
        return self.raw_dir(monitor_id) / f"{day}{RAW_SUFFIX}"

    def raw_days(self, monitor_id: str) -> list[str]:
        """Days (``YYYY-MM-DD``, ascending) that have a raw file for this monitor."""
        return _matching(self.raw_dir(monitor_id), _DAY_FILE)

    def raw_sizes(self, monitor_id: str) -> dict[str, int]:
        """Day -> size in bytes of each raw file of this monitor (one directory scan, one stat each)."""
        sizes: dict[str, int] = {}
        try:
            entries = _scandir(self.raw_dir(monitor_id))
        except FileNotFoundError:
            return sizes
        for entry in entries:
            match = _DAY_FILE.match(entry.name)
            if match:
                try:
                    sizes[match.group(1)] = entry.stat().st_size
                except FileNotFoundError:  # pruned meanwhile
                    pass
        return sizes

    def rollup_dir(self, monitor_id: str) -> Path:
        return self.daily_dir / encode_id(monitor_id)

    def rollup_file(self, monitor_id: str, year: str) -> Path:
        return self.rollup_dir(monitor_id) / f"{year}{ROLLUP_SUFFIX}"

    def summary_file(self, monitor_id: str) -> Path:
        return self.rollup_dir(monitor_id) / SUMMARY_NAME

    def rollup_years(self, monitor_id: str) -> list[str]:
        return _matching(self.rollup_dir(monitor_id), _YEAR_FILE)

    def cache_file(self, name: str) -> Path:
        if not _CACHE_NAME.match(name) or ".." in name:
            raise ValueError(f"cache name {name!r}: use letters, digits, '_', '-' and '.' only")
        return self.cache_dir / f"{name}.json"

    def monitor_ids(self) -> list[str]:
        found: set[str] = set()
        for folder in (self.checks_dir, self.daily_dir):
            if folder.is_dir():
                found.update(decode_id(p.name) for p in folder.iterdir() if p.is_dir())
        return sorted(found)


def _matching(folder: Path, pattern: re.Pattern) -> list[str]:
    try:
        names = [entry.name for entry in _scandir(folder)]
    except FileNotFoundError:
        return []
    return sorted(m.group(1) for m in map(pattern.match, names) if m)


def _scandir(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as entries:
        return list(entries)
