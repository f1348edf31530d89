"""Step 3, record: checks inside a maintenance window are marked, then appended to the history."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Sequence

from generator.errors import DataError
from generator.history import History, HistoryError
from generator.models import Check, CheckStatus, Maintenance


def mark_maintenance(checks: Sequence[Check], windows: Sequence[Maintenance]) -> list[Check]:
    """A check inside a maintenance window is neither up nor down: record it as maintenance."""
    marked = []
    for check in checks:
        if any(w.covers(check.monitor_id, check.time) for w in windows) and check.status is not CheckStatus.NO_DATA:
            details = dict(check.details)
            details["observed"] = check.status.value
            check = replace(check, status=CheckStatus.MAINTENANCE, details=details)
        marked.append(check)
    return marked


def record(history: History, checks: Sequence[Check], data_dir: Path) -> None:
    """Append the checks (the source of truth); a failure to write ends the command with exit 4."""
    try:
        history.record(checks)
    except (OSError, HistoryError) as error:
        raise DataError(f"{data_dir}: cannot write history: {error}") from None


def prune(history: History, now: datetime, data_dir: Path) -> None:
    """Drop raw checks past the retention period (their daily roll-ups stay)."""
    try:
        history.prune(now)
    except (OSError, HistoryError) as error:
        raise DataError(f"{data_dir}: cannot write history: {error}") from None
