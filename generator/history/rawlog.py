"""Raw checks as tab-separated text: one line per check, appended, readable and diffable.

A line has exactly six tab-separated columns::

    2026-11-24T22:00:00.123Z  up  84.2  200  <error>  <extra>

time (UTC, ISO 8601 with Z, millisecond precision), status (a CheckStatus value),
latency in ms (0.1 ms precision, empty when unknown), HTTP status code (empty when
none), the error text (backslash-escaped so tabs, newlines and backslashes cannot
break the line), and ``extra``: empty, or compact JSON with whatever differs from
the defaults (``attempts`` when not 1, ``region``, ``details``). A new file starts
with a ``#`` header line naming the columns.

Readers skip a last line without its newline (a write torn by a killed run), and
any line that does not parse; the fixed column count means a torn prefix never
passes for a whole check. A writer that finds a torn tail first ends it with a
newline, so the fragment stays on its own (skipped) line.
"""

from __future__ import annotations

import json
import math
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Optional

from generator.fsutil import append_line
from generator.models import Check, CheckStatus
from generator.secrets import mask
from generator.timeutil import to_iso

COLUMNS = ("time", "status", "latency_ms", "code", "error", "extra")
HEADER = "# " + "\t".join(COLUMNS)
MAX_ERROR = 500  # characters kept of an error message: "short" by contract, bounded here

_ESCAPE_CHARS = re.compile(r"[\\\x00-\x1f\x7f\x85\u2028\u2029]")
_NAMED = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNESCAPE = re.compile(r"\\(\\|t|n|r|x[0-9a-f]{2}|u[0-9a-f]{4})")
_NAMED_BACK = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def escape(text: str) -> str:
    """Backslash-escape what would break a line (tab, newline, other controls, line separators)."""

    def one(match: re.Match) -> str:
        char = match.group(0)
        if char in _NAMED:
            return _NAMED[char]
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _ESCAPE_CHARS.sub(one, text)


def unescape(text: str) -> str:
    if "\\" not in text:
        return text

    def one(match: re.Match) -> str:
        token = match.group(1)
        if token in _NAMED_BACK:
            return _NAMED_BACK[token]
        return chr(int(token[1:], 16))

    return _UNESCAPE.sub(one, text)


def round_latency(value: Optional[float]) -> Optional[float]:
    """The precision stored on disk (0.1 ms); NaN and infinities are stored as unknown."""
    if value is None:
        return None
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return None
    return round(value, 1)


def _number(value: Optional[float]) -> str:
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else repr(value)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {str(k): _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in value]
    return value


def format_line(check: Check) -> str:
    error = mask(check.error or "")[:MAX_ERROR]
    extra: dict[str, Any] = {}
    if check.attempts != 1:
        extra["attempts"] = check.attempts
    if check.region is not None:
        extra["region"] = mask(check.region)
    if check.details:
        extra["details"] = _masked(check.details)
    # ASCII JSON: every control or separator character is already escaped, so no tab or newline
    extra_text = json.dumps(extra, separators=(",", ":"), sort_keys=True, default=str) if extra else ""
    return "\t".join(
        (
            to_iso(check.time),
            CheckStatus(check.status).value,
            _number(round_latency(check.latency_ms)),
            "" if check.code is None else str(int(check.code)),
            escape(error),
            extra_text,
        )
    )


_STATUS = {status.value: status for status in CheckStatus}  # a dict lookup is ~4x cheaper than CheckStatus(...)
_STATUS_BYTES = {status.value.encode("ascii"): status.value for status in CheckStatus}


def parse_line(monitor_id: str, line: str) -> Optional[Check]:
    """One line back into a Check, or None when the line is a header or does not parse."""
    if not line or line.startswith("#"):
        return None
    parts = line.split("\t")
    if len(parts) != len(COLUMNS):
        return None
    stamp, status, latency, code, error, extra_text = parts
    try:
        if not stamp.endswith("Z"):
            return None
        moment = datetime.fromisoformat(stamp[:-1] + "+00:00")  # Python 3.10 does not read "Z"
        if moment.tzinfo is None or moment.utcoffset():
            return None
        extra = json.loads(extra_text) if extra_text else {}
        if not isinstance(extra, dict):
            return None
        details = extra.get("details") or {}
        return Check(
            monitor_id=monitor_id,
            time=moment,
            status=_STATUS[status],
            latency_ms=float(latency) if latency else None,
            code=int(code) if code else None,
            error=unescape(error) if error else "",
            attempts=int(extra.get("attempts", 1)),
            details=details if isinstance(details, dict) else {},
            region=extra.get("region"),
        )
    except (ValueError, TypeError, KeyError):
        return None


def read_checks(monitor_id: str, path: Path, *, not_before: str = "") -> list[Check]:
    """Every whole, parseable line of a raw file, in file order; [] when the file is missing.

    ``not_before`` (an ISO time) skips, without parsing, lines stamped in an earlier second:
    reading the last 24 hours then parses about half of yesterday's file.
    """
    return read_checks_sized(monitor_id, path, not_before=not_before)[0]


def _whole_lines(path: Path, not_before: str) -> tuple[list[bytes], int]:
    """The file's whole data lines and its size; ([], 0) when it is missing.

    What follows the last newline (empty, or a torn line from a killed write) is
    dropped, and so are header lines and, given ``not_before`` (an ISO time), lines
    stamped in an earlier second: whole seconds compare as text, without parsing.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    lines = data.split(b"\n")
    lines.pop()
    cutoff = not_before[:19].encode("ascii")  # YYYY-MM-DDTHH:MM:SS
    return [raw for raw in lines if not raw.startswith(b"#") and not (cutoff and raw[:19] < cutoff)], len(data)


def read_checks_sized(monitor_id: str, path: Path, *, not_before: str = "") -> tuple[list[Check], int]:
    """The checks of a raw file and the number of bytes they were read from."""
    lines, size = _whole_lines(path, not_before)
    checks = []
    for raw in lines:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        check = parse_line(monitor_id, text)
        if check is not None:
            checks.append(check)
    return checks, size


def read_checks_from(monitor_id: str, path: Path, offset: int) -> tuple[list[Check], int]:
    """The checks of the whole lines after byte ``offset`` (a line boundary), and the offset after the
    last whole line: what was appended since a reader last stopped, without reading what came before."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1  # a torn tail stays for later (the next writer ends it)
    checks = []
    for raw in data[:end].split(b"\n")[:-1]:
        try:
            check = parse_line(monitor_id, raw.decode("utf-8"))
        except UnicodeDecodeError:
            continue
        if check is not None:
            checks.append(check)
    return checks, offset + end


def read_points(path: Path, *, not_before: str = "") -> tuple[list[tuple[float, str, Optional[float]]], str]:
    """(epoch seconds, status value, latency ms) of every whole line, and the last whole line.

    What charts and counts need, without building a Check per line: the site reads a
    day of checks for every monitor, and Check objects were most of that cost.
    """
    points: list[tuple[float, str, Optional[float]]] = []
    last = b""
    parse = datetime.fromisoformat
    for raw in _whole_lines(path, not_before)[0]:
        parts = raw.split(b"\t", 3)
        if len(parts) != 4 or not parts[0].endswith(b"Z"):
            continue
        status = _STATUS_BYTES.get(parts[1])
        if status is None:
            continue
        try:
            moment = parse(parts[0][:-1].decode("ascii") + "+00:00")  # always UTC: the offset is ours
            points.append((moment.timestamp(), status, float(parts[2]) if parts[2] else None))
        except (ValueError, UnicodeDecodeError):
            continue
        last = raw
    return points, last.decode("utf-8", "replace")


def append_checks(path: Path, checks: Iterable[Check]) -> None:
    """Append each check with one write per line (the first write also carries the header)."""
    prefix = _prefix(path)
    for check in checks:
        append_line(path, prefix + format_line(check))
        prefix = ""


def _prefix(path: Path) -> str:
    """A header for a new file; a newline when the last write was torn (so lines never merge)."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return HEADER + "\n"
            handle.seek(size - 1)
            return "" if handle.read(1) == b"\n" else "\n"
    except FileNotFoundError:
        return HEADER + "\n"
