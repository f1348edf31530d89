"""Moving in from a peer: ``statusgen import upptime .upptimerc.yml`` / ``statusgen import gatus config.yaml``.

Each peer's format is one module with ``NAME`` and ``convert(document, name) -> str`` (the parsed
YAML, with line numbers, to monitors.yaml text), listed in :data:`IMPORTERS`. :func:`convert` reads
the file and raises :class:`ImportProblem` with a sentence naming the file for anything it cannot use.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator.importers import gatus, upptime
from generator.importers.common import ImportProblem, read_yaml

__all__ = ["IMPORTERS", "ImportProblem", "convert", "print_converted"]

MAX_BYTES = 5 * 1024 * 1024

IMPORTERS: dict[str, Callable[[Any, str], str]] = {
    upptime.NAME: upptime.convert,
    gatus.NAME: gatus.convert,
}


def convert(kind: str, path: str | os.PathLike[str]) -> str:
    """The monitors.yaml text equivalent to the peer's configuration at ``path``."""
    importer = IMPORTERS.get(kind)
    if importer is None:
        raise ImportProblem(f'cannot import "{kind}": choose one of {", ".join(IMPORTERS)}')
    name = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ImportProblem(f"{name}: file not found") from None
    except IsADirectoryError:
        raise ImportProblem(f"{name}: is a directory, not a file") from None
    except OSError as error:
        raise ImportProblem(f"{name}: cannot be read: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise ImportProblem(f"{name}: larger than 5 MB, not a configuration file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportProblem(f"{name}: not UTF-8 text") from None
    try:
        return importer(read_yaml(text, name), Path(name).name)
    except ImportProblem:
        raise
    except (RecursionError, ValueError, TypeError, KeyError, AttributeError) as error:
        # a shape the converter did not foresee: a sentence, never a traceback
        raise ImportProblem(f"{name}: cannot convert ({type(error).__name__}: {error})") from None


def print_converted(kind: str, path: str | os.PathLike[str]) -> None:
    """``statusgen import KIND FILE``: the converted monitors.yaml on stdout (redirect it to a file)."""
    sys.stdout.write(convert(kind, path))
