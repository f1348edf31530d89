"""The restart agent: a small HTTP server on the service's host that runs a configured command.

``statusgen agent --config agent.yaml --listen 127.0.0.1:9090``. It accepts only
signed restart webhooks (see :mod:`generator.signing`), looks the monitor up in
its *own* configuration and runs that monitor's command as an argument list --
nothing from the request reaches argv, and no shell is involved. Request details
travel to the command in ``STATUSGEN_*`` environment variables.

Answers: 202 accepted (or a duplicate of a running/finished delivery), 400
malformed, 401 bad signature or stale timestamp, 404 unknown monitor or path,
405 wrong method, 411 no length, 413 body too large, 429 another restart of the
same monitor is running.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

import yaml

from generator import __version__, signing
from generator.secrets import MissingSecret, mask, resolve
from generator.timeutil import parse_duration, to_iso, utcnow

log = logging.getLogger("statusgen.agent")

DEFAULT_LISTEN = "127.0.0.1:9090"
DEFAULT_MAX_BODY = 65536
DEFAULT_TIMEOUT = 60.0
PATHS = ("/", "/restart")
DONE_KEEP = 512  # finished idempotency keys remembered (replays are rejected after 5 minutes anyway)
ENV_VALUE = re.compile(r"[^\x20-\x7e]")
TOKEN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


# --------------------------------------------------------------------------- configuration


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


# --------------------------------------------------------------------------- restarts


@dataclass
class Run:
    monitor_id: str
    delivery: str
    key: str
    started: float
    finished: Optional[float] = None
    returncode: Optional[int] = None
    output: str = ""


class AgentState:
    """Who is restarting what: one run at a time per monitor, finished keys remembered."""

    def __init__(self, config: AgentConfig):
        self.config = config
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.running: dict[str, Run] = {}
        self.done: OrderedDict[str, Run] = OrderedDict()
        # signature -> key of the run it started: the delivery and key headers are not signed, so a
        # replayed signed request (inside its freshness window) must map back to its first run
        self.signed: OrderedDict[str, str] = OrderedDict()
        self.history: list[Run] = []  # finished runs, newest last (bounded), for tests and status

    def claim(self, monitor_id: str, key: str, delivery: str, signature: str = "") -> tuple[int, str, Run]:
        """Decide under the lock: (202 "started" | 202 "running"/"done" duplicate | 429 busy, run)."""
        with self.lock:
            key = self.signed.get(signature, key) if signature else key
            previous = self.done.get(key)
            if previous is not None and previous.monitor_id == monitor_id:
                return 202, "done", previous
            current = self.running.get(monitor_id)
            if current is not None:
                if current.key == key:
                    return 202, "running", current
                return 429, "busy", current
            run = Run(monitor_id=monitor_id, delivery=delivery, key=key, started=time.monotonic())
            self.running[monitor_id] = run
            if signature:
                self.signed[signature] = key
                while len(self.signed) > DONE_KEEP:
                    self.signed.popitem(last=False)
            return 202, "started", run

    def finish(self, run: Run) -> None:
        with self.lock:
            run.finished = time.monotonic()
            self.running.pop(run.monitor_id, None)
            self.done[run.key] = run
            while len(self.done) > DONE_KEEP:
                self.done.popitem(last=False)
            self.history = (self.history + [run])[-DONE_KEEP:]
            self.idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no restart is running (for tests and a clean shutdown)."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.idle.wait(remaining)
            return True


def _child_env(config: AgentConfig, command: AgentCommand, values: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if v != config.secret}  # the agent's key stays with the agent
    env.update(dict(command.env))
    for name, value in values.items():
        env[name] = ENV_VALUE.sub("", str(value))[:200]
    return env


def run_command(config: AgentConfig, command: AgentCommand, run: Run, values: dict[str, str]) -> None:
    """Run the monitor's command; output goes to a file, not a pipe, so a daemon it spawns cannot hold us."""
    began = time.monotonic()
    with tempfile.TemporaryFile() as output:
        try:
            process = subprocess.Popen(  # noqa: S603 - argv comes from the agent's own config only
                list(command.command),
                cwd=command.cwd,
                env=_child_env(config, command, values),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a timeout can stop all of it
                shell=False,
            )
        except OSError as exc:
            run.returncode = 127
            run.output = f"cannot start {command.command[0]}: {exc.strerror or exc}"
        else:
            try:
                run.returncode = process.wait(timeout=command.timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except OSError:
                    pass
                process.wait()
                run.returncode = -9
                run.output = f"timed out after {command.timeout:g}s and was killed; "
            output.seek(0)
            tail = output.read()[-400:].decode("utf-8", "replace")
            run.output += " ".join(tail.split())
    log.info(
        "%s",
        mask(
            f"restart finished monitor={run.monitor_id} delivery={run.delivery} exit={run.returncode} "
            f"seconds={time.monotonic() - began:.2f} output={run.output[-200:]!r}"
        ),
    )


# --------------------------------------------------------------------------- HTTP


class AgentServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, config: AgentConfig, address: tuple[str, int]):
        self.config = config
        self.agent = AgentState(config)
        super().__init__(address, AgentHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/restart"


class AgentHandler(BaseHTTPRequestHandler):
    server: AgentServer
    server_version = f"statusgen-agent/{__version__}"
    sys_version = ""
    timeout = 15  # a slow client cannot hold a thread forever
    protocol_version = "HTTP/1.1"

    # -- plumbing

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - we log our own line instead
        pass

    def _answer(self, code: int, payload: dict[str, Any], *, monitor: str = "-", delivery: str = "-",
                reason: str = "", headers: Optional[dict[str, str]] = None) -> None:
        body = json.dumps(payload, sort_keys=True).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if code >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        client = self.client_address[0] if self.client_address else "-"
        line = (
            f"{to_iso(utcnow())} {client} {self.command} {self.path.split('?')[0][:100]} {code} "
            f"monitor={monitor} delivery={delivery}" + (f" reason={reason!r}" if reason else "")
        )
        log.info("%s", mask(line))

    def _discard(self, count: int) -> None:
        try:
            while count > 0:
                chunk = self.rfile.read(min(count, 65536))
                if not chunk:
                    break
                count -= len(chunk)
        except OSError:
            pass

    def _refuse_method(self) -> None:
        if self.command == "GET" and self.path.split("?")[0] == "/healthz":
            self._answer(200, {"ok": True, "monitors": len(self.server.config.monitors)})
            return
        self._answer(405, {"error": "method not allowed: send POST"}, reason="method", headers={"Allow": "POST"})

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _refuse_method  # noqa: N815

    # -- the restart request

    def do_POST(self) -> None:  # noqa: N802
        config = self.server.config
        if self.path.split("?")[0] not in PATHS:
            self._answer(404, {"error": "not found: POST to /restart"}, reason="path")
            return
        length_text = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked" or length_text is None:
            self._answer(411, {"error": "Content-Length required"}, reason="no length")
            return
        try:
            length = int(length_text)
            if length < 0:
                raise ValueError
        except ValueError:
            self._answer(400, {"error": "bad Content-Length"}, reason="bad length")
            return
        if length > config.max_body:
            # never buffered: discard a bounded amount in chunks so the client can read our answer
            self._discard(min(length, 1024 * 1024))
            self._answer(413, {"error": f"body larger than {config.max_body} bytes"}, reason=f"length {length}")
            return
        body = self.rfile.read(length)
        if len(body) != length:
            self._answer(400, {"error": "body shorter than Content-Length"}, reason="short body")
            return
        try:
            signing.verify(
                config.secret,
                body,
                self.headers.get(signing.SIGNATURE_HEADER),
                self.headers.get(signing.TIMESTAMP_HEADER),
                now=time.time(),
                max_age=config.max_age,
                max_future=config.max_future,
            )
        except signing.SignatureError as exc:
            self._answer(401, {"error": f"unauthorized: {exc}"}, reason=str(exc))
            return
        try:
            document = json.loads(body)
            if not isinstance(document, dict) or document.get("event") != "restart":
                raise ValueError("event is not restart")
            monitor = document.get("monitor") or {}
            monitor_id = monitor.get("id") if isinstance(monitor, dict) else None
            if not isinstance(monitor_id, str) or not monitor_id:
                raise ValueError("monitor.id missing")
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            self._answer(400, {"error": "body must be the statusgen restart event (leave restart.body unset)"},
                         reason=str(exc)[:80])
            return
        command = config.monitors.get(monitor_id)
        shown = monitor_id if TOKEN.match(monitor_id) else "?"
        if command is None:
            self._answer(404, {"error": "unknown monitor", "monitor": shown}, monitor=shown, reason="unknown monitor")
            return
        delivery = self.headers.get(signing.DELIVERY_HEADER, "")
        try:
            delivery = str(uuid.UUID(delivery))
        except ValueError:
            delivery = str(uuid.uuid4())
        key = self.headers.get(signing.IDEMPOTENCY_HEADER) or delivery
        if not TOKEN.match(key):
            self._answer(400, {"error": "bad Idempotency-Key"}, monitor=monitor_id, reason="bad key")
            return
        signature = (self.headers.get(signing.SIGNATURE_HEADER) or "").strip()  # verified above
        code, status, run = self.server.agent.claim(monitor_id, key, delivery, signature)
        if code == 429:
            self._answer(429, {"error": "a restart of this monitor is in progress", "monitor": monitor_id,
                               "delivery": run.delivery, "status": status},
                         monitor=monitor_id, delivery=delivery, reason="in progress", headers={"Retry-After": "10"})
            return
        if status == "started":
            incident = document.get("incident") if isinstance(document.get("incident"), dict) else {}
            values = {
                "STATUSGEN_DELIVERY": delivery,
                "STATUSGEN_MONITOR": monitor_id,
                "STATUSGEN_IDEMPOTENCY_KEY": key,
                "STATUSGEN_INCIDENT": str(incident.get("key") or ""),
                "STATUSGEN_INCIDENT_STARTED": str(incident.get("started") or ""),
                "STATUSGEN_ATTEMPT": str(document.get("attempt") or ""),
            }

            def work() -> None:
                try:
                    run_command(config, command, run, values)
                finally:
                    self.server.agent.finish(run)

            threading.Thread(target=work, name=f"restart-{monitor_id}", daemon=True).start()
        self._answer(202, {"delivery": run.delivery, "monitor": monitor_id, "status": status},
                     monitor=monitor_id, delivery=run.delivery, reason="" if status == "started" else f"duplicate {status}")


# --------------------------------------------------------------------------- entry points


def serve(config: AgentConfig, host: str = "127.0.0.1", port: int = 9090, *, background: bool = False) -> AgentServer:
    """Bind the agent; with ``background`` it also serves from a daemon thread (tests, embedding).

    Without it the caller runs ``server.serve_forever()``; ``server.shutdown()`` stops it.
    """
    server = AgentServer(config, (host, port))
    if background:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="statusgen-agent", daemon=True).start()
    return server


def parse_listen(text: str) -> tuple[str, int]:
    """``127.0.0.1:9090``, ``[::1]:9090`` or ``:9090`` (loopback)."""
    value = text.strip()
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]]*):(\d{1,5})", value)
    if not match:
        raise ValueError(f"--listen {text!r}: expected host:port, e.g. 127.0.0.1:9090")
    host = match.group(1) or match.group(3) or "127.0.0.1"
    port = int(match.group(2) or match.group(4))
    if not 0 <= port <= 65535:
        raise ValueError(f"--listen {text!r}: port must be 0..65535")
    return host, port


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="statusgen agent", description="Run restart commands on signed webhooks.")
    parser.add_argument("--config", required=True, help="agent.yaml")
    parser.add_argument("--listen", default=DEFAULT_LISTEN, help=f"host:port (default {DEFAULT_LISTEN})")
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)
    try:
        host, port = parse_listen(args.listen)
        config = load_agent_config(args.config)
    except AgentConfigError as exc:
        print(mask(str(exc)), file=sys.stderr)
        return 2
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        server = serve(config, host, port)
    except OSError as exc:
        print(f"statusgen agent: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    bound_host, bound_port = server.server_address[:2]
    print(f"statusgen agent listening on http://{bound_host}:{bound_port}/restart "
          f"({len(config.monitors)} monitor(s))", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.agent.wait_idle(5.0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
