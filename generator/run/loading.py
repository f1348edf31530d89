"""Step 1, load: the configuration, the history and its states, the tracker, the maintenance notices.

Each step raises a typed failure (``ConfigInvalid``, ``DataError``, ``UsageError``) carrying the
message the command prints; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.config import ConfigError, format_problems, load_config
from generator.errors import BadInput, ConfigInvalid, DataError
from generator.history import History
from generator.incidents.base import Tracker, TrackerError
from generator.incidents.registry import choose_tracker, local_notices
from generator.models import Check, Config, Incident, Maintenance, MonitorState
from generator.run.options import Options
from generator.run.shard import ShardError, read_partial


def load(options: Options) -> Config:
    try:
        return load_config(options.config_path, environ=options.environ)
    except ConfigError as error:
        raise ConfigInvalid(format_problems(error.problems, github=options.on_github_actions)) from None


def open_history(config: Config, options: Options) -> History:
    return History(options.data_dir, retention_days=config.settings.retention_days)


def load_states(history: History, options: Options) -> dict[str, MonitorState]:
    try:
        return history.load_states()
    except Exception as error:  # HistoryError, OSError: never overwrite what we could not read
        raise DataError(f"{options.data_dir}: {error}") from None


def open_tracker(config: Config, options: Options, history: History) -> Tracker:
    return choose_tracker(config, options.tracker, options.environ, history, options.incidents_dir)


@dataclass(frozen=True)
class Notices:
    """What the incident side says before any check: maintenance windows and hand-written incidents."""

    windows: tuple[Maintenance, ...]
    manual_incidents: tuple[Incident, ...]
    tracker_errors: tuple[str, ...] = ()


def load_notices(tracker: Tracker, options: Options) -> Notices:
    """Maintenance first: it decides how this run's checks are recorded."""
    errors: list[str] = []
    windows: list[Maintenance] = []
    try:
        windows = list(tracker.maintenance())
    except TrackerError as error:
        errors.append(str(error))
    manual, local_windows = local_notices(options.incidents_dir, tracker)
    return Notices(tuple(windows + local_windows), tuple(manual), tuple(errors))


def read_checks(path: Path, config: Config, options: Options) -> tuple[list[Check], list[str]]:
    """Merged results from ``statusgen merge`` (instead of probing): the checks of monitors still
    configured, and the ids of those no longer in monitors.yaml (left out: they would grow orphan
    history)."""
    try:
        checks = list(read_partial(path).checks)
    except ShardError as error:
        raise BadInput(str(error)) from None
    unknown = sorted({c.monitor_id for c in checks} - {m.id for m in config.monitors})
    return [c for c in checks if c.monitor_id not in unknown], unknown
