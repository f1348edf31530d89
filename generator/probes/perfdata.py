"""A plugin's output read per the Monitoring Plugins development guidelines.

Output is ``TEXT | PERFDATA`` on the first line, optionally followed by long text whose first ``|``
starts more performance data (to the end). Performance data is a space-separated list of
``'label'=value[UOM];[warn];[crit];[min];[max]``: labels quoted when they hold spaces, ``''`` for a
quote, ``U`` for a value the plugin could not measure. An item that does not parse is skipped: a
plugin's slightly-off perfdata must not cost the check its message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_ITEMS = 50
MAX_LABEL = 80
MAX_MESSAGE = 300
_ITEM = re.compile(r"\s*('(?:[^']|'')*'|[^'=\s][^=\s]*)=(\S*)")
_VALUE = re.compile(r"^(U|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)([A-Za-z%]*)$")
_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
_TIME_UNITS = {"": 1000.0, "s": 1000.0, "ms": 1.0, "us": 0.001}


@dataclass(frozen=True)
class Output:
    message: str = ""  # the first line, before any ``|``
    long_text: str = ""  # the lines after it, without their performance data
    perfdata: dict[str, dict[str, Any]] = field(default_factory=dict)


def parse_output(text: str) -> Output:
    first, _, rest = text.partition("\n")
    message, _, perf_first = first.partition("|")
    long_text, _, perf_rest = rest.partition("|")
    return Output(message=message.strip()[:MAX_MESSAGE], long_text=long_text.strip(),
                  perfdata=parse_perfdata(f"{perf_first} {perf_rest}"))


def _number(text: str) -> float | None:
    return float(text) if _NUMBER.match(text) else None


def parse_perfdata(text: str) -> dict[str, dict[str, Any]]:
    """``time=0.002s;2;5;0 size=612B;;;0`` -> ``{"time": {"value": 0.002, "unit": "s", "warn": "2", ...}}``."""
    found: dict[str, dict[str, Any]] = {}
    position = 0
    text = " ".join(text.split())
    while position < len(text) and len(found) < MAX_ITEMS:
        match = _ITEM.match(text, position)
        if not match:
            space = text.find(" ", position + 1)
            if space < 0:
                break
            position = space  # skip a malformed word
            continue
        position = match.end()
        label = match.group(1)
        if label.startswith("'"):
            label = label[1:-1].replace("''", "'")
        item = _item(match.group(2))
        if item is not None and label and len(label) <= MAX_LABEL:
            found[label] = item
    return found


def _item(text: str) -> dict[str, Any] | None:
    parts = text.split(";")
    value = _VALUE.match(parts[0])
    if not value:
        return None
    item: dict[str, Any] = {"value": None if value.group(1) == "U" else float(value.group(1))}
    if value.group(2):
        item["unit"] = value.group(2)
    # warn and crit are ranges ("10", "10:20", "@~:5"), kept as written; min and max are numbers
    for name, part in zip(("warn", "crit", "min", "max"), parts[1:5]):
        if not part:
            continue
        if name in ("min", "max"):
            number = _number(part)
            if number is not None:
                item[name] = number
        else:
            item[name] = part
    return item


def latency_ms(perfdata: dict[str, dict[str, Any]], wall_ms: float) -> float:
    """The plugin's own ``time`` (seconds unless it says ms or us), else the measured wall time."""
    item = perfdata.get("time")
    if item and isinstance(item.get("value"), float) and item.get("unit", "") in _TIME_UNITS:
        return item["value"] * _TIME_UNITS[item.get("unit", "")]
    return wall_ms
