"""MonitorState to and from JSON: datetimes as ISO 8601 with Z, enums as their values.

Fields are converted by their declared type, so a field added to MonitorState
later is stored without a change here; unknown keys in the file (from a newer
version) are ignored, missing ones take the dataclass default. A file whose ``version`` is
higher than this module's is refused, never rewritten in the older format.
"""

from __future__ import annotations

import json
import typing
from dataclasses import fields
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from generator.fsutil import atomic_write_json
from generator.history.errors import HistoryError, refuse_newer
from generator.models import MonitorState
from generator.timeutil import parse_iso, to_iso

VERSION = 1
_HINTS = typing.get_type_hints(MonitorState)


def _base_type(hint: Any) -> Any:
    """``Optional[X]`` -> ``X``."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if typing.get_origin(hint) is typing.Union and len(args) == 1 else hint


def state_to_json(state: MonitorState) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(MonitorState):
        value = getattr(state, f.name)
        if isinstance(value, datetime):
            value = to_iso(value)
        elif isinstance(value, Enum):
            value = value.value
        out[f.name] = value
    return out


def state_from_json(data: dict[str, Any]) -> MonitorState:
    """Raises ValueError / TypeError naming the field that does not fit its type."""
    values: dict[str, Any] = {}
    for f in fields(MonitorState):
        if f.name not in data:
            continue
        raw = data[f.name]
        value: Any
        kind = _base_type(_HINTS[f.name])
        if raw is None:
            value = None
        elif kind is datetime:
            value = _time(f.name, raw)
        elif isinstance(kind, type) and issubclass(kind, Enum):
            try:
                value = kind(raw)
            except ValueError:
                allowed = ", ".join(m.value for m in kind)
                raise ValueError(f"{f.name}: {raw!r} is not one of {allowed}") from None
        elif kind is bool:
            value = raw if isinstance(raw, bool) else _wrong(f.name, raw, "true or false")
        elif kind is int:
            value = raw if isinstance(raw, int) and not isinstance(raw, bool) else _wrong(f.name, raw, "an integer")
        elif kind is str:
            value = raw if isinstance(raw, str) else _wrong(f.name, raw, "a string")
        else:
            value = raw
        values[f.name] = value
    if not isinstance(values.get("monitor_id"), str):
        raise ValueError("monitor_id: missing")
    return MonitorState(**values)


def _time(name: str, raw: Any) -> datetime:
    if isinstance(raw, str):
        try:
            return parse_iso(raw)
        except ValueError:
            pass
    return _wrong(name, raw, "an ISO 8601 time like 2026-11-24T22:00:00Z")


def _wrong(name: str, raw: Any, expected: str) -> Any:
    raise ValueError(f"{name}: {raw!r} is not {expected}")


def load_states(path: Path) -> dict[str, MonitorState]:
    """Every monitor's state; {} when the file does not exist yet, HistoryError when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise HistoryError(f"{path}: cannot read the monitor states: {error}") from None
    advice = "fix or restore the file (it was left untouched, and nothing was recorded over it)"
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise HistoryError(
            f"{path}: monitor states are not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}); {advice}"
        ) from None
    refuse_newer(path, document, "monitor states", VERSION)
    monitors = document.get("monitors") if isinstance(document, dict) else None
    if not isinstance(monitors, dict):
        raise HistoryError(f'{path}: expected {{"monitors": {{<id>: <state>}}}}; {advice}')
    states: dict[str, MonitorState] = {}
    for monitor_id, data in monitors.items():
        if not isinstance(data, dict):
            raise HistoryError(f"{path}: monitors.{monitor_id}: expected an object; {advice}")
        try:
            state = state_from_json({"monitor_id": monitor_id, **data})
        except (ValueError, TypeError) as error:
            raise HistoryError(f"{path}: monitors.{monitor_id}.{error}; {advice}") from None
        states[monitor_id] = state
    return states


def save_states(path: Path, states: dict[str, MonitorState]) -> None:
    monitors = {}
    for monitor_id in sorted(states):
        data = state_to_json(states[monitor_id])
        monitors[monitor_id] = data
    atomic_write_json(path, {"monitors": monitors, "version": VERSION})
