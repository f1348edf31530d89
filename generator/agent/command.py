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
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import IO, Any

from generator.secrets import mask

from .config import AgentCommand, AgentConfig

log = logging.getLogger("statusgen.agent")

DONE_KEEP = 512  # finished idempotency keys remembered (replays are rejected after 5 minutes anyway)
ENV_VALUE = re.compile(r"[^\x20-\x7e]")
OUTPUT_TAIL = 400  # bytes of the command's output kept for the log


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
        run.returncode, run.output = _execute(command, _child_env(config, command, values), output)
    log.info(
        "%s",
        mask(
            f"restart finished monitor={run.monitor_id} delivery={run.delivery} exit={run.returncode} "
            f"seconds={time.monotonic() - began:.2f} output={run.output[-200:]!r}"
        ),
    )


def _execute(command: AgentCommand, env: dict[str, str], output: IO[bytes]) -> tuple[int, str]:
    """Exit code and the tail of the output on one line; 127 when it cannot start, -9 when killed on timeout."""
    try:
        process = subprocess.Popen(  # argv comes from the agent's own config only; no shell
            list(command.command),
            cwd=command.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a timeout can stop all of it
            shell=False,
        )
    except OSError as exc:
        return 127, f"cannot start {command.command[0]}: {exc.strerror or exc}"
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
    output.seek(0)
    tail = output.read()[-OUTPUT_TAIL:].decode("utf-8", "replace")
    return returncode, note + " ".join(tail.split())
