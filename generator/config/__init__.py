"""Loading and validating ``monitors.yaml`` into :class:`generator.models.Config`.

Every problem is reported at once, each with file, line, column and key path::

    monitors.yaml:12:5: monitors[3].expect.status: "abc" is not a status code or range (e.g. 200, 200-299, 2xx)

The file's keys are described in :mod:`generator.config.build` and in the JSON Schema
``generator/config/monitors.schema.json`` (editors pick it up from a
``# yaml-language-server: $schema=...`` comment).

- :func:`load_config` for a run: returns a Config or raises :class:`ConfigError`; ``${NAME}``
  references are resolved from the environment (and registered for masking).
- :func:`validate_file` for ``statusgen check``: returns ``(config or None, problems)``;
  by default it only checks the references' syntax, since pull requests have no secrets.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Mapping, Optional, Union

from generator.models import Config

from .build import build_config, probe_types
from .problems import ConfigError, Problem, format_problems
from .reader import Reader
from .yamlsource import Source

__all__ = ["ConfigError", "Problem", "format_problems", "load_config", "validate_file", "summary", "SCHEMA_PATH"]

SCHEMA_PATH = Path(__file__).with_name("monitors.schema.json")
MAX_BYTES = 5 * 1024 * 1024  # a monitors.yaml is a few kilobytes; refuse to chew on anything absurd

PathLike = Union[str, "os.PathLike[str]"]


def load_config(path: PathLike, *, environ: Optional[Mapping[str, str]] = None,
                resolve_secrets: bool = True) -> Config:
    """The configuration, or :class:`ConfigError` listing every problem.

    ``resolve_secrets=False`` leaves ``${NAME}`` references in the text (their syntax is still checked).
    """
    config, problems = _validate(path, environ=environ, resolve_secrets=resolve_secrets)
    if problems or config is None:
        raise ConfigError(problems or [Problem(str(path), 0, 0, "", "cannot be read")])
    return config


def validate_file(path: PathLike, *, environ: Optional[Mapping[str, str]] = None,
                  check_secrets: bool = False) -> tuple[Optional[Config], list[Problem]]:
    """``(config, [])`` when the file is valid, else ``(None, problems)``; never raises for bad input.

    ``check_secrets=True`` also requires every ``${NAME}`` to be set in ``environ`` (default: the
    process environment) and resolves them.
    """
    return _validate(path, environ=environ, resolve_secrets=check_secrets)


def summary(config: Config) -> str:
    """One line for ``statusgen check``: ``monitors.yaml: 5 monitors (3 http, 1 tcp, 1 dns) in 2 groups, valid``."""
    count = len(config.monitors)
    kinds = Counter(monitor.type for monitor in config.monitors)
    order = list(probe_types()) + sorted(set(kinds) - set(probe_types()))
    parts = ", ".join(f"{kinds[kind]} {kind}" for kind in order if kinds[kind])
    groups = len({monitor.group for monitor in config.monitors if monitor.group})
    text = f"{config.path}: {count} monitor{'s' if count != 1 else ''}"
    if parts:
        text += f" ({parts})"
    if groups:
        text += f" in {groups} group{'s' if groups != 1 else ''}"
    return text + ", valid"


def _validate(path: PathLike, *, environ: Optional[Mapping[str, str]],
              resolve_secrets: bool) -> tuple[Optional[Config], list[Problem]]:
    name = str(path)
    text, problem = _read(path)
    if problem is not None:
        return None, [problem]
    try:
        source = Source(name, text)
        if source.problems:
            return None, sorted(source.problems)
        if source.root is None:
            return None, [Problem(name, 1, 1, "", "the file is empty: it needs at least a monitors: list")]
        reader = Reader(source, environ=environ, resolve_secrets=resolve_secrets)
        config = build_config(reader, source.root, name)
        problems = sorted(set(source.problems))
    except RecursionError:
        return None, [Problem(name, 1, 1, "", "the file is nested too deeply to read")]
    except Exception as error:  # a safety net: a bug here must still not print a traceback at the user
        return None, [Problem(name, 1, 1, "", f"internal error while reading the file "
                                              f"({type(error).__name__}: {error}); please report it")]
    if problems or config is None:
        return None, problems
    return config, []


def _read(path: PathLike) -> tuple[str, Optional[Problem]]:
    name = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return "", Problem(name, 0, 0, "", "file not found")
    except IsADirectoryError:
        return "", Problem(name, 0, 0, "", "is a directory, not a file")
    except OSError as error:
        return "", Problem(name, 0, 0, "", f"cannot be read: {error.strerror or error}")
    if len(data) > MAX_BYTES:
        return "", Problem(name, 0, 0, "", f"is larger than {MAX_BYTES // (1024 * 1024)} MB; "
                                           f"this is not a monitors file")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        before = data[:error.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        return "", Problem(name, line, col, "", "the file is not UTF-8 text")
