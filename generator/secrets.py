"""``${NAME}`` references resolved from the environment, and masking of every resolved value."""

from __future__ import annotations

import logging
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


class MaskingFilter(logging.Filter):
    """A logging filter that masks secret values in a record's final message (third-party loggers too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is logging's problem, not ours
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_FILTER = MaskingFilter()


def mask_logs(*names: str) -> None:
    """Attach the masking filter to the named loggers (e.g. ``urllib3.connectionpool``, ``apprise``).

    Logger filters only see records created by that logger itself, which is why
    libraries that log URLs (with tokens in their query) are named one by one.
    """
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
