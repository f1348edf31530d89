"""``agent.yaml``: which command restarts which monitor, and the key that signs the requests.

Read through the monitors.yaml loader's :class:`~generator.config.yamlsource.Source` and
:class:`~generator.config.reader.Reader`, so a problem prints the same way in both files
(``agent.yaml:4:14: monitors.web.command: must be a non-empty list ...``), unknown keys
get a did-you-mean, and every problem is reported in one pass.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator import secrets, signing
from generator.config.problems import ConfigError, Problem
from generator.config.reader import Reader
from generator.config.yamlsource import Entry, Source, describe
from generator.errors import ConfigInvalid

DEFAULT_MAX_BODY = 65536
DEFAULT_TIMEOUT = 60.0
DEFAULT_REQUEST_TIMEOUT = 10.0  # headers and body of one request, in total: a trickling client is cut off
DEFAULT_MAX_CONNECTIONS = 16  # handler threads; one more connection is answered 503
MAX_CONNECTIONS_RANGE = (1, 1024)
STATE_SUFFIX = ".state.json"  # agent.yaml -> agent.state.json beside it, unless state: says where
MAX_BODY_RANGE = (256, 10 * 1024 * 1024)
MAX_BYTES = 1024 * 1024  # an agent.yaml is a few hundred bytes; refuse to chew on anything absurd
TOP_KEYS = ("secret", "monitors", "max_body", "max_age", "max_future", "state", "request_timeout",
            "max_connections")
MONITOR_KEYS = ("command", "cwd", "timeout", "env")
# keys people reach for in the file that are command-line options instead
OPTIONS = {"listen": "is not read from agent.yaml: pass --listen host:port to statusgen agent"}
NULL_TAG = "tag:yaml.org,2002:null"

SECRET_REQUIRED = "required: the HMAC key shared with monitors.yaml, e.g. secret: ${AGENT_SECRET}"
MONITORS_REQUIRED = "required: a mapping of monitor id to {command: [argv...]}"
COMMAND_SHAPE = "must be a non-empty list of arguments, e.g. [systemctl, restart, web] (no shell)"


@dataclass(frozen=True)
class AgentCommand:
    monitor_id: str
    command: tuple[str, ...]
    cwd: str | None = None
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
    state: str | None = None  # the replay window's file (None: accept only requests signed after start)
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS


class AgentConfigError(ConfigError, ConfigInvalid):
    """Every problem found in an agent configuration: a ConfigError like monitors.yaml's, and
    ConfigInvalid, the family the CLI maps to exit 2."""


def load_agent_config(path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None) -> AgentConfig:
    """Read and validate ``agent.yaml``; raise :class:`AgentConfigError` listing every problem.

    ``${NAME}`` in ``secret`` and ``env`` values is read from ``environ`` (default: the process
    environment) and registered for masking.
    """
    name = str(path)
    source = Source(name, _read(path, name))
    if source.problems:
        raise AgentConfigError(sorted(source.problems))
    if source.root is None:
        raise AgentConfigError([Problem(name, 1, 1, "", "the file is empty: it needs secret and monitors")])
    reader = Reader(source, environ=environ, resolve_secrets=True)
    config = _build(reader, source.root, name, Path(path).parent)
    problems = sorted(set(source.problems))
    if problems or config is None:
        raise AgentConfigError(problems)
    return config


def _read(path: str | os.PathLike[str], name: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise AgentConfigError([Problem(name, 0, 0, "", f"cannot read: {exc.strerror or exc}")]) from None
    if len(data) > MAX_BYTES:
        raise AgentConfigError([Problem(name, 0, 0, "", "is larger than 1 MB; this is not an agent.yaml")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AgentConfigError([Problem(name, 0, 0, "", "the file is not UTF-8 text")]) from None


def _given(entries: dict[str, Entry], key: str) -> Entry | None:
    """The entry, unless it is absent or left empty (``cwd:`` means no cwd, as it always did)."""
    entry = entries.get(key)
    if entry is None or (isinstance(entry.node, ScalarNode) and entry.node.tag == NULL_TAG):
        return None
    return entry


def _build(reader: Reader, root: Node, name: str, folder: Path) -> AgentConfig | None:
    if not isinstance(root, MappingNode):
        reader.problem(root, "", f"the top level must be a mapping with secret and monitors, got {describe(root)}")
        return None
    top = reader.mapping(root, "", TOP_KEYS, elsewhere=OPTIONS) or {}
    secret = _secret(reader, top, root)
    max_body = DEFAULT_MAX_BODY
    if "max_body" in top:
        low, high = MAX_BODY_RANGE
        entry = top["max_body"]
        max_body = reader.integer(entry.node, entry.path, minimum=low, maximum=high) or DEFAULT_MAX_BODY
    max_connections = DEFAULT_MAX_CONNECTIONS
    if "max_connections" in top:
        low, high = MAX_CONNECTIONS_RANGE
        entry = top["max_connections"]
        max_connections = reader.integer(entry.node, entry.path, minimum=low, maximum=high) or max_connections
    request_timeout = DEFAULT_REQUEST_TIMEOUT
    if "request_timeout" in top:
        entry = top["request_timeout"]
        request_timeout = reader.duration(entry.node, entry.path, positive=True) or request_timeout
    if len(secret) >= 16:
        secrets.register(secret)  # a (valid) secret written literally is masked in the logs too
    return AgentConfig(secret=secret, monitors=_monitors(reader, top, root, folder), max_body=max_body, path=name,
                       max_age=_window(reader, top.get("max_age"), signing.MAX_AGE),
                       max_future=_window(reader, top.get("max_future"), signing.MAX_FUTURE),
                       state=_state(reader, _given(top, "state"), name, folder),
                       request_timeout=request_timeout, max_connections=max_connections)


def _state(reader: Reader, entry: Entry | None, name: str, folder: Path) -> str:
    """Where the replay window is kept: ``state:`` (relative to agent.yaml's folder), else beside agent.yaml."""
    if entry is None:
        return str(folder / (Path(name).stem + STATE_SUFFIX))
    text = reader.text(entry.node, entry.path, secret_ok=False)
    if not text:
        return str(folder / (Path(name).stem + STATE_SUFFIX))
    return str(Path(text) if Path(text).is_absolute() else folder / text)


def _window(reader: Reader, entry: Entry | None, default: float) -> float:
    """How old (or how far ahead) a signed timestamp may be; the signing module's default when not given."""
    if entry is None:
        return default
    seconds = reader.duration(entry.node, entry.path)
    return default if seconds is None else seconds


def _secret(reader: Reader, top: dict[str, Entry], root: Node) -> str:
    entry = _given(top, "secret")
    if entry is None:
        reader.problem(top["secret"].node if "secret" in top else root, "secret", SECRET_REQUIRED)
        return ""
    secret = reader.text(entry.node, entry.path)
    if secret is not None and len(secret) < 16:
        reader.problem(entry.node, entry.path,
                       "too short: use at least 16 random characters (e.g. openssl rand -hex 32)")
    return secret or ""


def _monitors(reader: Reader, top: dict[str, Entry], root: Node, folder: Path) -> dict[str, AgentCommand]:
    entry = top.get("monitors")
    if entry is None:
        reader.problem(root, "monitors", MONITORS_REQUIRED)
        return {}
    if not isinstance(entry.node, MappingNode) or not entry.node.value:
        reader.problem(entry.node, entry.path, MONITORS_REQUIRED)
        return {}
    monitors: dict[str, AgentCommand] = {}
    for monitor_id, item in reader.source.entries(entry.node, entry.path).items():
        command = _command(reader, item, folder)
        if command is not None:
            monitors[monitor_id] = command
    return monitors


def _command(reader: Reader, item: Entry, folder: Path) -> AgentCommand | None:
    entries = reader.mapping(item.node, item.path, MONITOR_KEYS, what=" with command (a list of arguments)")
    if entries is None:
        return None
    argv = _argv(reader, entries.get("command"), item)
    if argv is None:
        return None
    timeout = DEFAULT_TIMEOUT
    if "timeout" in entries:
        entry = entries["timeout"]
        timeout = reader.duration(entry.node, entry.path, positive=True) or DEFAULT_TIMEOUT
    return AgentCommand(monitor_id=item.key, command=argv, cwd=_cwd(reader, _given(entries, "cwd"), folder),
                        timeout=timeout, env=_env(reader, _given(entries, "env")))


def _argv(reader: Reader, entry: Entry | None, item: Entry) -> tuple[str, ...] | None:
    """The argument list, taken as written: no ``${NAME}`` and no shell, so nothing is interpreted."""
    path = f"{item.path}.command"
    if entry is None:
        reader.problem(item.node, path, COMMAND_SHAPE)
        return None
    node = entry.node
    if not isinstance(node, SequenceNode) or not node.value or \
            not all(isinstance(arg, ScalarNode) for arg in node.value):
        reader.problem(node, path, COMMAND_SHAPE)
        return None
    argv: list[str] = []
    for index, arg in enumerate(node.value):
        ok, value = reader.value(arg, f"{path}[{index}]", "an argument")
        if not ok:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            reader.problem(node, path, COMMAND_SHAPE)
            return None
        argv.append(str(value))
    return tuple(argv)


def _cwd(reader: Reader, entry: Entry | None, folder: Path) -> str | None:
    """An existing directory; a relative one is taken from agent.yaml's folder."""
    if entry is None:
        return None
    cwd = reader.text(entry.node, entry.path, allow_empty=True, secret_ok=False)
    if cwd is None:
        return None
    path = Path(cwd) if Path(cwd).is_absolute() else folder / cwd
    if not path.is_dir():
        reader.problem(entry.node, entry.path, f"directory {cwd} does not exist")
    return str(path.resolve())


def _env(reader: Reader, entry: Entry | None) -> tuple[tuple[str, str], ...]:
    """Extra environment for the command; text values may hold ``${NAME}``, numbers are taken as written."""
    if entry is None:
        return ()
    if not isinstance(entry.node, MappingNode):
        reader.problem(entry.node, entry.path, "must be a mapping of NAME: value")
        return ()
    pairs: list[tuple[str, str]] = []
    for env_name, sub in reader.source.entries(entry.node, entry.path).items():
        ok, value = reader.value(sub.node, sub.path, "a string or a number")
        if not ok:
            continue
        text = reader.text(sub.node, sub.path, allow_empty=True) if isinstance(value, str) else str(value)
        if text is not None:
            pairs.append((env_name, text))
    return tuple(pairs)
