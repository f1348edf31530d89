"""``agent.yaml``: which command restarts which monitor, and the key that signs the requests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from generator import signing
from generator.secrets import MissingSecret, resolve
from generator.timeutil import parse_duration

DEFAULT_MAX_BODY = 65536
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class AgentCommand:
    monitor_id: str
    command: tuple[str, ...]
    cwd: Optional[str] = None
    timeout: float = DEFAULT_TIMEOUT
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AgentConfig:
    secret: str
    monitors: dict[str, AgentCommand] = field(default_factory=dict)
    max_body: int = DEFAULT_MAX_BODY
    path: str = "agent.yaml"
    max_age: float = signing.MAX_AGE
    max_future: float = signing.MAX_FUTURE


class AgentConfigError(Exception):
    """Every problem found in an agent configuration, one ``file:line:col: key: message`` per line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _index_marks(node: Any, prefix: str, marks: dict[str, tuple[int, int]]) -> None:
    """Remember where each key path starts, for messages that name the line."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            marks[path] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _index_marks(value_node, path, marks)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = f"{prefix}[{index}]"
            marks[path] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _index_marks(item, path, marks)


def load_agent_config(path: str | os.PathLike, *, environ: Optional[dict[str, str]] = None) -> AgentConfig:
    """Read and validate ``agent.yaml``; raise :class:`AgentConfigError` naming file, line and key."""
    file = Path(path)
    name = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AgentConfigError([f"{name}: cannot read: {exc.strerror or exc}"]) from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise AgentConfigError([f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}"]) from None
    marks: dict[str, tuple[int, int]] = {}
    _index_marks(root, "", marks)
    problems: list[str] = []

    def problem(key: str, message: str) -> None:
        line, col = marks.get(key, (1, 1))
        problems.append(f"{name}:{line}:{col}: {key}: {message}")

    if not isinstance(data, dict):
        raise AgentConfigError([f"{name}:1:1: (top level): must be a mapping with secret and monitors"])
    for key in data:
        if key not in ("secret", "monitors", "max_body", "max_age", "max_future"):
            problem(str(key), "unknown key (expected secret, monitors, max_body)")

    secret = ""
    raw_secret = data.get("secret")
    if not isinstance(raw_secret, str) or not raw_secret.strip():
        problem("secret", "required: the HMAC key shared with monitors.yaml, e.g. secret: ${AGENT_SECRET}")
    else:
        try:
            secret = resolve(raw_secret, environ)
        except MissingSecret as exc:
            problem("secret", f"environment variable {exc.name} is not set")
        else:
            if len(secret) < 16:
                problem("secret", "too short: use at least 16 random characters (e.g. openssl rand -hex 32)")

    max_body = data.get("max_body", DEFAULT_MAX_BODY)
    if isinstance(max_body, bool) or not isinstance(max_body, int) or not 256 <= max_body <= 10 * 1024 * 1024:
        problem("max_body", "must be a whole number of bytes between 256 and 10485760")
        max_body = DEFAULT_MAX_BODY

    windows = {}
    for key, default in (("max_age", signing.MAX_AGE), ("max_future", signing.MAX_FUTURE)):
        try:
            windows[key] = parse_duration(data.get(key, default))
        except ValueError as exc:
            problem(key, str(exc))
            windows[key] = default

    monitors: dict[str, AgentCommand] = {}
    raw_monitors = data.get("monitors")
    if not isinstance(raw_monitors, dict) or not raw_monitors:
        problem("monitors", "required: a mapping of monitor id to {command: [argv...]}")
        raw_monitors = {}
    for monitor_id, entry in raw_monitors.items():
        key = f"monitors.{monitor_id}"
        if not isinstance(entry, dict):
            problem(key, "must be a mapping with command (a list of arguments)")
            continue
        for extra in entry:
            if extra not in ("command", "cwd", "timeout", "env"):
                problem(f"{key}.{extra}", "unknown key (expected command, cwd, timeout, env)")
        command = entry.get("command")
        if (
            not isinstance(command, list)
            or not command
            or not all(isinstance(arg, (str, int, float)) and not isinstance(arg, bool) for arg in command)
        ):
            problem(f"{key}.command", "must be a non-empty list of arguments, e.g. [systemctl, restart, web] (no shell)")
            continue
        cwd = entry.get("cwd")
        if cwd is not None:
            if not isinstance(cwd, str):
                problem(f"{key}.cwd", "must be a directory path")
                cwd = None
            else:
                cwd_path = Path(cwd) if Path(cwd).is_absolute() else file.parent / cwd
                if not cwd_path.is_dir():
                    problem(f"{key}.cwd", f"directory {cwd} does not exist")
                cwd = str(cwd_path.resolve())
        try:
            timeout = parse_duration(entry.get("timeout", DEFAULT_TIMEOUT))
            if timeout <= 0:
                raise ValueError("must be more than 0s")
        except ValueError as exc:
            problem(f"{key}.timeout", str(exc))
            timeout = DEFAULT_TIMEOUT
        env_pairs: list[tuple[str, str]] = []
        raw_env = entry.get("env") or {}
        if not isinstance(raw_env, dict):
            problem(f"{key}.env", "must be a mapping of NAME: value")
            raw_env = {}
        for env_name, env_value in raw_env.items():
            try:
                env_pairs.append((str(env_name), resolve(str(env_value), environ)))
            except MissingSecret as exc:
                problem(f"{key}.env.{env_name}", f"environment variable {exc.name} is not set")
        monitors[str(monitor_id)] = AgentCommand(
            monitor_id=str(monitor_id),
            command=tuple(str(arg) for arg in command),
            cwd=cwd,
            timeout=timeout,
            env=tuple(env_pairs),
        )
    if problems:
        raise AgentConfigError(problems)
    return AgentConfig(
        secret=secret,
        monitors=monitors,
        max_body=max_body,
        path=name,
        max_age=windows["max_age"],
        max_future=windows["max_future"],
    )
