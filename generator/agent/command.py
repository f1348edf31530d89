"""One restart: who runs what (one run per monitor at a time), and running the monitor's own argv.

The command runs in its own process group, bounded by its timeout, without a shell; the
request's details reach it only as ``STATUSGEN_*`` environment variables.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from generator.secrets import MIN_LENGTH, WINDOW, forms, mask

from .config import AgentCommand, AgentConfig

log = logging.getLogger("statusgen.agent")

DONE_KEEP = 512  # finished idempotency keys remembered (replays are rejected after 5 minutes anyway)
ENV_VALUE = re.compile(r"[^\x20-\x7e]")
OUTPUT_TAIL = 400  # bytes of the command's output kept for the log
OUTPUT_GRACE = 2.0  # seconds to wait for the output's end after the command exits (a daemon may hold it)


@dataclass
class Run:
    monitor_id: str
    delivery: str
    key: str
    started: float
    finished: float | None = None
    returncode: int | None = None
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

    def launch(self, command: AgentCommand, run: Run, values: dict[str, str]) -> None:
        """Run the command on its own thread (the request is answered at once); the run is finished whatever happens."""

        def work() -> None:
            try:
                run_command(self.config, command, run, values)
            finally:
                self.finish(run)

        threading.Thread(target=work, name=f"restart-{run.monitor_id}", daemon=True).start()

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


def restart_env(document: dict[str, Any], *, delivery: str, monitor_id: str, key: str) -> dict[str, str]:
    """The request's details for the command: data in environment variables, never in argv."""
    incident = document.get("incident")
    if not isinstance(incident, dict):
        incident = {}
    return {
        "STATUSGEN_DELIVERY": delivery,
        "STATUSGEN_MONITOR": monitor_id,
        "STATUSGEN_IDEMPOTENCY_KEY": key,
        "STATUSGEN_INCIDENT": str(incident.get("key") or ""),
        "STATUSGEN_INCIDENT_STARTED": str(incident.get("started") or ""),
        "STATUSGEN_ATTEMPT": str(document.get("attempt") or ""),
    }


def carries(value: str, secret: str) -> bool:
    """Whether ``value`` holds ``secret`` in any form :func:`~generator.secrets.mask` hides, whole or in part."""
    if not secret or len(secret) < MIN_LENGTH:
        return False
    whole = forms(secret)
    if any(form in value for form in whole if len(form) >= MIN_LENGTH):
        return True
    if len(secret) < WINDOW:
        return False
    pieces = {form[i:i + WINDOW] for form in whole for i in range(len(form) - WINDOW + 1)}
    return any(value[i:i + WINDOW] in pieces for i in range(len(value) - WINDOW + 1))


def _child_env(config: AgentConfig, command: AgentCommand, values: dict[str, str]) -> dict[str, str]:
    # the agent's key stays with the agent: an inherited variable holding it in any form is dropped
    env: dict[str, str] = {}
    for name, value in os.environ.items():
        if carries(value, config.secret) or carries(name, config.secret):
            log.warning("%s", f"not passing environment variable {mask(name)} to the command: it holds the secret")
            continue
        env[name] = value
    env.update(dict(command.env))
    for name, value in values.items():
        env[name] = ENV_VALUE.sub("", str(value))[:200]
    return env


def run_command(config: AgentConfig, command: AgentCommand, run: Run, values: dict[str, str]) -> None:
    """Run the monitor's command; of its output only the last OUTPUT_TAIL bytes are ever held."""
    began = time.monotonic()
    run.returncode, run.output = _execute(command, _child_env(config, command, values))
    log.info(
        "%s",
        mask(
            f"restart finished monitor={run.monitor_id} delivery={run.delivery} exit={run.returncode} "
            f"seconds={time.monotonic() - began:.2f} output={run.output[-200:]!r}"
        ),
    )


class Tail(threading.Thread):
    """Drains a pipe to its end, keeping only the last ``OUTPUT_TAIL`` bytes (400 MB of output costs nothing).

    A daemon the command starts may keep the pipe open: the run does not wait for it beyond
    ``OUTPUT_GRACE`` and this thread keeps draining (and discarding) so the daemon never blocks.
    """

    def __init__(self, fd: int):
        super().__init__(name="restart-output", daemon=True)
        self.fd = fd
        self.lock = threading.Lock()
        self.data = b""

    def run(self) -> None:
        try:
            while chunk := os.read(self.fd, 65536):
                with self.lock:
                    self.data = (self.data + chunk)[-OUTPUT_TAIL:]
        except OSError:
            pass
        finally:
            os.close(self.fd)

    def text(self) -> str:
        self.join(OUTPUT_GRACE)
        with self.lock:
            return self.data.decode("utf-8", "replace")


def _execute(command: AgentCommand, env: dict[str, str]) -> tuple[int, str]:
    """Exit code and the tail of the output on one line; 127 when it cannot start, -9 when killed on timeout."""
    read_fd, write_fd = os.pipe()
    try:
        process = subprocess.Popen(  # argv comes from the agent's own config only; no shell
            list(command.command),
            cwd=command.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=write_fd,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a timeout can stop all of it
            shell=False,
        )
    except OSError as exc:
        os.close(read_fd)
        return 127, f"cannot start {command.command[0]}: {exc.strerror or exc}"
    finally:
        os.close(write_fd)  # the child holds its own copy; ours would keep the pipe from ever ending
    tail = Tail(read_fd)
    tail.start()
    note = ""
    try:
        returncode = process.wait(timeout=command.timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
        process.wait()
        returncode = -9
        note = f"timed out after {command.timeout:g}s and was killed; "
    return returncode, note + " ".join(tail.text().split())
