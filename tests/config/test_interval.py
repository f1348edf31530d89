"""The watch-mode keys: a monitor's ``interval`` (from ``defaults``, else ``settings.interval``, else
60s; at least 10s) and ``settings.publish_every``, with file:line:col problems."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from generator.config import ConfigError, format_problems, load_config
from generator.run.schedule import interval_of


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitors.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_interval_defaults_and_inheritance(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """\
        monitors:
          - {id: a, url: "http://127.0.0.1:1/"}
        """), environ={})
    assert config.settings.interval is None and config.settings.publish_every == 300.0
    assert config.monitors[0].interval is None  # not set: settings.interval, else 60 s (the watch's default)
    assert interval_of(config.monitors[0].interval, config.settings.interval) == 60.0

    config = load_config(write(tmp_path, """\
        settings: {interval: 2m, publish_every: 10m}
        defaults: {interval: 30s}
        monitors:
          - {id: a, url: "http://127.0.0.1:1/"}
          - {id: b, url: "http://127.0.0.1:1/", interval: 15s}
        """), environ={})
    assert config.settings.interval == 120.0 and config.settings.publish_every == 600.0
    assert [m.interval for m in config.monitors] == [30.0, 15.0]

    config = load_config(write(tmp_path, """\
        settings: {interval: 20s}
        monitors:
          - {id: a, url: "http://127.0.0.1:1/"}
        """), environ={})
    assert config.monitors[0].interval is None
    assert interval_of(config.monitors[0].interval, config.settings.interval) == 20.0


@pytest.mark.parametrize(("text", "where", "message"), [
    ("settings: {interval: 5s}\nmonitors:\n  - {id: a, url: 'http://127.0.0.1:1/'}\n",
     "monitors.yaml:1:22: settings.interval", "must be at least 10s, got 5s"),
    ("monitors:\n  - id: a\n    url: http://127.0.0.1:1/\n    interval: 1s\n",
     "monitors.yaml:4:15: monitors[0].interval", "must be at least 10s, got 1s"),
    ("settings:\n  publish_every: soon\nmonitors:\n  - {id: a, url: 'http://127.0.0.1:1/'}\n",
     "monitors.yaml:2:18: settings.publish_every", "is not a duration"),
    ("defaults: {interval: 2d}\nmonitors:\n  - {id: a, url: 'http://127.0.0.1:1/'}\n",
     "monitors.yaml:1:22: defaults.interval", "must be at most 1d"),
])
def test_interval_problems_name_file_line_and_key(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = tmp_path / "monitors.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})
    printed = format_problems(raised.value.problems)
    assert where in printed.replace(str(tmp_path) + "/", "") and message in printed, printed


def test_the_test_only_floor_lowers_the_minimum(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        monitors:
          - {id: a, url: "http://127.0.0.1:1/", interval: 1s}
        """)
    config = load_config(path, environ={"STATUSGEN_TEST_MIN_INTERVAL": "1"})
    assert config.monitors[0].interval == 1.0
    with pytest.raises(ConfigError):
        load_config(path, environ={"STATUSGEN_TEST_MIN_INTERVAL": "60"})  # it never raises the floor above 10s
