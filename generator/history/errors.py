"""The one error the history room raises: a file it cannot read, named in the message."""

from __future__ import annotations

from typing import Any


class HistoryError(Exception):
    """A history file is unreadable; the message names the file and what is wrong.

    Raised instead of discarding the file, so that recorded history is never lost
    by a run that would otherwise overwrite it.
    """


def refuse_newer(path: Any, document: Any, what: str, known: int) -> None:
    """A file from a newer statusgen is never read (and later rewritten) by this one: rewriting it
    in the older format would drop whatever the newer format added."""
    version = document.get("version") if isinstance(document, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version > known:
        raise HistoryError(f"{path}: {what} were written by a newer statusgen (format version {version}; this one "
                           f"knows up to {known}): upgrade statusgen; the file was left untouched")
