"""The one error the history room raises: a file it cannot read, named in the message."""

from __future__ import annotations


class HistoryError(Exception):
    """A history file is unreadable; the message names the file and what is wrong.

    Raised instead of discarding the file, so that recorded history is never lost
    by a run that would otherwise overwrite it.
    """
