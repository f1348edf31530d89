"""What the importers share: YAML read with line numbers, ids from names, secrets rewritten, and the
monitors.yaml text written with comments for what has no equivalent."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator.config import aliases
from generator.errors import BadInput

MAX_ID = 64
_DOLLAR_NAME = re.compile(r"\$(?!\{)([A-Za-z_][A-Za-z0-9_]*)")


class ImportProblem(BadInput):
    """A file that cannot be converted at all, with the reason (and where, when known); the CLI exits 2."""


class Located(dict):  # type: ignore[type-arg]
    """A mapping that remembers its own line and each key's line (1-based)."""

    line: int = 0
    lines: dict[str, int]


def located(node: Node) -> Any:
    """Plain Python data from a composed YAML node; mappings are :class:`Located`."""
    if isinstance(node, MappingNode):
        result = Located()
        result.line = node.start_mark.line + 1
        result.lines = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else str(located(key_node))
            result[key] = located(value_node)
            result.lines[key] = key_node.start_mark.line + 1
        return result
    if isinstance(node, SequenceNode):
        return [located(item) for item in node.value]
    return yaml.SafeLoader("").construct_object(node) if isinstance(node, ScalarNode) else None


def read_yaml(text: str, name: str) -> Any:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        aliases.check(root)  # located() copies what aliases repeat: refuse an alias bomb first
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ImportProblem(f"{name}{where}: not valid YAML ({problem})") from None
    return None if root is None else located(root)


def line_of(mapping: Any, key: str) -> int:
    return mapping.lines.get(key, mapping.line) if isinstance(mapping, Located) else 0


def env_refs(text: Any) -> Any:
    """``$NAME`` (Upptime's and Go's form) -> ``${NAME}``; other values unchanged."""
    return _DOLLAR_NAME.sub(r"${\1}", text) if isinstance(text, str) else text


class Ids:
    """Unique monitor ids from names: lowercase, digits and -."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, *names: Any) -> str:
        base = re.sub(r"[^a-z0-9]+", "-", "-".join(str(name) for name in names if name).lower()).strip("-")
        base = (base or "monitor")[:MAX_ID - 4].strip("-")
        candidate, number = base, 2
        while candidate in self.used:
            candidate, number = f"{base}-{number}", number + 1
        self.used.add(candidate)
        return candidate


@dataclass
class Converted:
    """A monitors.yaml in the making: site keys, monitors, and notes (global and per monitor)."""

    source: str  # "Upptime's .upptimerc.yml"
    command: str  # "statusgen import upptime"
    site: dict[str, Any] = field(default_factory=dict)
    monitors: list[tuple[dict[str, Any], list[str]]] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)

    def note(self, line: int, text: str) -> None:
        self.notes.append((line, f"line {line}: {text}" if line else text))

    def render(self) -> str:
        out = [f"# Converted from {self.source} by `{self.command}`.",
               "# Check it with `statusgen check`; the notes say what has no equivalent in statusgen."]
        if self.notes:
            out += ["#", "# Not converted:"] + [f"#   {note}" for _, note in sorted(self.notes)]
        if self.site:
            out += ["", _dump({"site": self.site}).rstrip()]
        out += ["", "monitors:"]
        if not self.monitors:
            out.append("  []  # nothing could be converted: add monitors here")
        for monitor, notes in self.monitors:
            out += [f"  # {note}" for note in notes]
            out += ["  " + line for line in _dump([monitor]).rstrip().splitlines()]
        return "\n".join(out) + "\n"


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)
