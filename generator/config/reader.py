"""Typed, located getters over YAML nodes: each reads one value, or records a Problem and returns None.

Nothing here stops at the first problem: a getter that fails returns ``None`` and the
caller carries on with a default, so one pass reports everything wrong with the file.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import replace
from typing import Any, Callable, Iterable, Mapping, Optional

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator import secrets
from generator.timeutil import format_duration, parse_duration

from .validators import did_you_mean, quote
from .yamlsource import Entry, Source, describe

_DOLLAR_BRACE = re.compile(r"\$\{[^}]{0,40}\}?")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# no duration in this file means more than ten years; past that, timers and dates overflow
MAX_DURATION = 3650 * 86400.0


class Reader:
    """Reads values out of a :class:`Source`, resolving ``${NAME}`` in text values.

    ``resolve_secrets=True`` replaces every reference from ``environ`` (a missing variable is a
    problem); ``False`` only checks the references' syntax and leaves them in the text, for
    pull requests where secrets are absent.
    """

    def __init__(self, source: Source, *, environ: Optional[Mapping[str, str]], resolve_secrets: bool):
        self.source = source
        self.environ = environ
        self.resolve_secrets = resolve_secrets
        self.monitor: Optional[str] = None  # id of the monitor being read, named in secret problems

    # ----------------------------------------------------------------- problems

    def problem(self, where: Any, key: str, message: str) -> None:
        self.source.problem(where, key, message)

    @property
    def problems(self):
        return self.source.problems

    # ----------------------------------------------------------------- structure

    def mapping(self, node: Optional[Node], path: str, allowed: Iterable[str], *,
                elsewhere: Optional[Mapping[str, str]] = None, what: str = "") -> Optional[dict[str, Entry]]:
        """A mapping's entries, reporting unknown keys (with a close match when there is one).

        ``elsewhere`` names keys that are valid in another context (``url`` on a tcp monitor) so
        the message can say where they belong instead of guessing a spelling.
        """
        if node is None:
            return None
        if not isinstance(node, MappingNode):
            self.problem(node, path, f"expected a mapping{what}, got {describe(node)}")
            return None
        entries = self.source.entries(node, path)
        allowed = set(allowed)
        for key, entry in list(entries.items()):
            if key in allowed:
                continue
            del entries[key]
            if elsewhere and key in elsewhere:
                self.problem(entry.key_node, entry.path, f'"{key}" {elsewhere[key]}')
            else:
                self.problem(entry.key_node, entry.path, f'unknown key "{key}"{did_you_mean(key, allowed)}')
        return entries

    def require(self, entries: dict[str, Entry], node: Node, path: str, key: str, hint: str = "") -> Optional[Entry]:
        entry = entries.get(key)
        if entry is None:
            self.problem(node, path, f'missing required key "{key}"{hint}')
        return entry

    def items(self, entry: Entry, *, single: bool = True) -> Optional[list[tuple[Node, str]]]:
        """A list's items with their paths; a lone value counts as a list of one when ``single``."""
        node = entry.node
        if isinstance(node, SequenceNode):
            return [(item, f"{entry.path}[{index}]") for index, item in enumerate(node.value)]
        if single and not isinstance(node, MappingNode) and not self._is_null(node):
            return [(node, entry.path)]
        self.problem(node, entry.path, f"expected a list, got {describe(node)}")
        return None

    # ----------------------------------------------------------------- scalars

    def value(self, node: Node, path: str, kind: str) -> tuple[bool, Any]:
        """A scalar's Python value; a mapping or list where a scalar belongs is a problem."""
        if not isinstance(node, ScalarNode):
            self.problem(node, path, f"expected {kind}, got {describe(node)}")
            return False, None
        ok, value = self.source.scalar(node)
        if not ok:
            # the source recorded the problem without a key path: give it one
            self.problems.append(replace(self.problems.pop(), key=path))
        return ok, value

    def _is_null(self, node: Node) -> bool:
        return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"

    def text(self, node: Node, path: str, *, allow_empty: bool = False, secret_ok: bool = True) -> Optional[str]:
        """A string; ``${NAME}`` references resolved (or syntax-checked when secrets are not resolved)."""
        ok, value = self.value(node, path, "a string")
        if not ok:
            return None
        if not isinstance(value, str):
            hint = f' (quote it: "{node.value}")' if isinstance(node, ScalarNode) and node.value and \
                not self._is_null(node) else ""
            self.problem(node, path, f"expected a string, got {describe(node)}{hint}")
            return None
        if not value.strip() and not allow_empty:
            self.problem(node, path, "must not be empty")
            return None
        if not secret_ok or "${" not in value:
            return value
        return self._references(node, path, value)

    def _references(self, node: Node, path: str, value: str) -> Optional[str]:
        bad = [m.group(0) for m in _DOLLAR_BRACE.finditer(value) if not secrets.REFERENCE.fullmatch(m.group(0))]
        for text in bad:
            self.problem(node, path, f"{quote(text)} is not a valid reference: write ${{NAME}} with letters, "
                                     f"digits and _ (not starting with a digit)")
        if bad:
            return None
        if not self.resolve_secrets:
            return value
        env = os.environ if self.environ is None else self.environ
        missing = [name for name in dict.fromkeys(secrets.references(value)) if name not in env]
        for name in missing:
            owner = f' (monitor "{self.monitor}")' if self.monitor else ""
            self.problem(node, path, f"environment variable {name} is not set{owner}")
        if missing:
            return None
        return secrets.resolve(value, env)

    def unresolved(self, value: str) -> bool:
        """True when ``value`` still holds references (not resolving secrets), so checks on it must wait."""
        return not self.resolve_secrets and bool(secrets.REFERENCE.search(value))

    def enum(self, node: Node, path: str, choices: Iterable[str], *, fold: bool = False) -> Optional[str]:
        choices = list(choices)
        ok, value = self.value(node, path, "one of " + ", ".join(choices))
        if not ok:
            return None
        if isinstance(value, str):
            found = value.upper() if fold else value
            if found in choices:
                return found
        listed = ", ".join(choices)
        self.problem(node, path, f"{quote(node.value)} is not one of: {listed}"
                     + (did_you_mean(str(value), choices) if isinstance(value, str) else ""))
        return None

    def boolean(self, node: Node, path: str) -> Optional[bool]:
        ok, value = self.value(node, path, "true or false")
        if not ok:
            return None
        if not isinstance(value, bool):
            self.problem(node, path, f"expected true or false, got {describe(node)}")
            return None
        return value

    def integer(self, node: Node, path: str, *, minimum: Optional[int] = None,
                maximum: Optional[int] = None) -> Optional[int]:
        ok, value = self.value(node, path, "a whole number")
        if not ok:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(node, path, f"expected a whole number, got {describe(node)}")
            return None
        if minimum is not None and value < minimum:
            self.problem(node, path, f"must be at least {minimum}, got {value}")
            return None
        if maximum is not None and value > maximum:
            self.problem(node, path, f"must be at most {maximum}, got {value}")
            return None
        return value

    def duration(self, node: Node, path: str, *, positive: bool = False,
                 maximum: float = MAX_DURATION) -> Optional[float]:
        """Seconds from ``30s``, ``5m``, ``1h``, ``2d``, ``250ms`` or a number of seconds, at most ``maximum``."""
        ok, value = self.value(node, path, "a duration")
        if not ok:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.problem(node, path, f"expected a duration (e.g. 30s, 5m, 1h), got {describe(node)}")
            return None
        try:
            seconds = parse_duration(value)
        except ValueError:
            self.problem(node, path, f"{quote(node.value)} is not a duration (e.g. 30s, 5m, 1h, 250ms)")
            return None
        if math.isnan(seconds) or math.isinf(seconds):
            self.problem(node, path, f"{quote(node.value)} is not a duration (e.g. 30s, 5m, 1h, 250ms)")
            return None
        if positive and seconds <= 0:
            self.problem(node, path, "must be longer than 0s")
            return None
        if seconds > maximum:
            self.problem(node, path, f"{quote(node.value)} is too long: at most {format_duration(maximum)}")
            return None
        return seconds

    def texts(self, entry: Entry, *, check: Optional[Callable[[str], Optional[str]]] = None,
              enum: Optional[Iterable[str]] = None) -> Optional[tuple[str, ...]]:
        """A list of strings (or one string); each checked by ``check`` or against ``enum``."""
        items = self.items(entry)
        if items is None:
            return None
        result = []
        failed = False
        for node, path in items:
            value = self.enum(node, path, enum) if enum is not None else self.text(node, path)
            if value is not None and check is not None and not self.unresolved(value):
                message = check(value)
                if message:
                    self.problem(node, path, message)
                    value = None
            if value is None:
                failed = True
            else:
                result.append(value)
        return None if failed else tuple(result)

    def checked_text(self, entry: Entry, check: Callable[[str], Optional[str]], **kwargs: Any) -> Optional[str]:
        """A string that must also pass ``check`` (skipped while it still holds unresolved references)."""
        value = self.text(entry.node, entry.path, **kwargs)
        if value is None or self.unresolved(value):
            return value
        message = check(value)
        if message:
            self.problem(entry.node, entry.path, message)
            return None
        return value

    def headers(self, entry: Entry) -> Optional[tuple[tuple[str, str], ...]]:
        """A mapping of header names to string values."""
        node = entry.node
        if not isinstance(node, MappingNode):
            self.problem(node, entry.path, f"expected a mapping of header names to values, got {describe(node)}")
            return None
        result = []
        failed = False
        seen: dict[str, Entry] = {}  # by lower-case name: HTTP header names ignore case
        for name, sub in self.source.entries(node, entry.path).items():
            if not _HEADER_NAME.fullmatch(name):
                self.problem(sub.key_node, sub.path, f"{quote(name)} is not a valid HTTP header name")
                failed = True
                continue
            first = seen.setdefault(name.lower(), sub)
            if first is not sub:
                line = first.key_node.start_mark.line + 1
                self.problem(sub.key_node, sub.path, f"{quote(name)} is the header {quote(first.key)} again "
                                                     f"(line {line}): header names ignore case, give it once")
                failed = True
                continue
            value = self.text(sub.node, sub.path, allow_empty=True)
            if value is None or not self._header_value(sub, value):
                failed = True
            else:
                result.append((name, value))
        return None if failed else tuple(result)

    def _header_value(self, sub: Entry, value: str) -> bool:
        if "\n" in value or "\r" in value:
            self.problem(sub.node, sub.path, "a header value must be on one line")
            return False
        try:
            value.encode("latin-1")
        except UnicodeEncodeError as error:
            # name the character unless it may have come from a secret
            where = "" if "${" in getattr(sub.node, "value", "") else f" ({value[error.start]!r} is U+{ord(value[error.start]):04X})"
            self.problem(sub.node, sub.path, f"a header value must be Latin-1 (ISO-8859-1) text{where}: "
                                             f"percent-encode or drop other characters")
            return False
        return True

    def unique(self, entry: Entry, values: Optional[tuple[str, ...]]) -> Optional[tuple[str, ...]]:
        """``values`` (read from ``entry``) when none is listed twice."""
        if values is None:
            return None
        seen: set[str] = set()
        for value in values:
            if value in seen:
                self.problem(entry.node, entry.path, f"{quote(value)} is listed twice")
                return None
            seen.add(value)
        return values

    def plain(self, node: Node, path: str) -> tuple[bool, Any]:
        ok, value = self.source.plain(node)
        if not ok:
            self.problems.append(replace(self.problems.pop(), key=path))
        return ok, value
