"""``${NAME}`` references resolved from the environment, and masking of every resolved value."""

from __future__ import annotations

import os
import re
import threading
from typing import Mapping

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
MASK = "***"

_lock = threading.Lock()
_secrets: set[str] = set()


class MissingSecret(KeyError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def register(value: str) -> None:
    """Remember a secret value so that :func:`mask` hides it everywhere."""
    if value and len(value) >= 3:
        with _lock:
            _secrets.add(value)


def clear() -> None:
    with _lock:
        _secrets.clear()


def mask(text: object) -> str:
    """Replace every registered secret value in ``text`` with ``***`` (longest first)."""
    result = "" if text is None else str(text)
    with _lock:
        values = sorted(_secrets, key=len, reverse=True)
    for value in values:
        if value in result:
            result = result.replace(value, MASK)
    return result


def references(text: str) -> list[str]:
    return REFERENCE.findall(text)


def resolve(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Substitute ``${NAME}`` from the environment, registering each value; raises MissingSecret."""
    env = os.environ if environ is None else environ

    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in env:
            raise MissingSecret(name)
        value = env[name]
        register(value)
        return value

    return REFERENCE.sub(substitute, text)
