"""Command probe: run a check program under the Nagios plugin contract (Monitoring Plugins, Icinga, Naemon).

Exit 0 OK is up, 1 WARNING degraded, 2 CRITICAL down, 3 UNKNOWN a failed check (``on_unknown``). The
first line of output is the message; performance data after ``|`` is parsed by
:mod:`generator.probes.perfdata`. The program runs without a shell, in its own process group (killed
whole at the deadline), with only the declared environment plus ``PATH``, in the folder of
``monitors.yaml``; at most ``KEEP_BYTES`` of its output are kept, masked. See docs/probe-scripts.md.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from generator.config.keys import Choice, Key
from generator.config.process_keys import Arguments, Environment
from generator.config.reader import Reader
from generator.config.yamlsource import Entry
from generator.models import Check, CheckStatus, Monitor
from generator.probes.base import Deadline, make_check, now
from generator.probes.perfdata import latency_ms, parse_output
from generator.probes.probetype import ProbeType
from generator.secrets import mask

KEEP_BYTES = 4096  # of stdout (and of stderr) kept: a plugin's message is a line, its long output a screen
EXIT_GRACE = 0.2  # seconds to drain output after the program exits (a background child may hold the pipe)
# where distributions install the Monitoring Plugins: not on PATH, but where people expect check_http
PLUGIN_DIRS = ("/usr/lib/nagios/plugins", "/usr/lib/monitoring-plugins", "/usr/lib64/nagios/plugins",
               "/usr/local/nagios/libexec")
STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}
STATUS_OF = {0: CheckStatus.UP, 1: CheckStatus.DEGRADED, 2: CheckStatus.DOWN}


@dataclass(frozen=True)
class CommandLine:
    argv: tuple[str, ...]
    folder: str = ""  # the folder of monitors.yaml: relative script paths and the working directory


@dataclass(frozen=True)
class CommandSpec:
    command: CommandLine
    env: tuple[tuple[str, str], ...] = ()
    on_unknown: str = "down"  # what exit 3 (UNKNOWN) and out-of-range exit codes count as


@dataclass(frozen=True, kw_only=True)
class CommandKey(Arguments):
    """The argument list, with a script path relative to ``monitors.yaml`` found relative to it."""

    def read(self, reader: Reader, entry: Entry) -> Any:
        argv = super().read(reader, entry)
        if argv is None:
            return None
        folder = str(Path(reader.source.file).resolve().parent)
        program = argv[0]
        if "/" in program and not os.path.isabs(program) and not reader.unresolved(program):
            script = Path(folder, program)
            if not script.is_file():
                reader.problem(entry.node, entry.path, f'"{program}" is not a file (looked for {script}, '
                                                       f"relative to the folder of {Path(reader.source.file).name})")
                return None
        return CommandLine(argv=argv, folder=folder)


KEYS: tuple[Key, ...] = (
    CommandKey("command", "the check program and its arguments, as a list: [check_http, -H, example.com]; "
                          "a path with / is relative to monitors.yaml; ${NAME} allowed", required=True),
    Environment("env", "environment variables for the program (it inherits only these and PATH); ${NAME} allowed"),
    Choice("on_unknown", "what exit 3 (UNKNOWN: the plugin could not tell) counts as: down (default) or degraded",
           choices=("down", "degraded")),
)


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    """What came back from one run of the program."""

    stdout: bytes = b""
    stderr: bytes = b""
    stdout_size: int = 0
    returncode: int | None = None
    timed_out: bool = False
    wall_ms: float = 0.0


def locate(argv0: str, folder: str, path: str) -> str | None:
    """The program to run: a path (relative to ``folder``) as given, a bare name from PATH or the plugin folders."""
    if "/" in argv0:
        program = argv0 if os.path.isabs(argv0) else os.path.join(folder or ".", argv0)
        return program if os.path.exists(program) else None
    return shutil.which(argv0, path=os.pathsep.join([path, *PLUGIN_DIRS]))


def environment(declared: tuple[tuple[str, str], ...]) -> dict[str, str]:
    # LC_NUMERIC=C as Icinga does: performance data must use a dot for decimals
    return {"PATH": os.environ.get("PATH", os.defpath), "LC_NUMERIC": "C", **dict(declared)}


def _exited(pid: int) -> bool:
    """True once the program has exited, without reaping it: its pid keeps naming the process group
    until we reap it, so killing the group afterwards cannot hit an unrelated process."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)  # readable at exit: no polling (Linux 5.3+)
    except (AttributeError, OSError):
        return None


def collect(process: subprocess.Popen[bytes], deadline: Deadline) -> Run:
    """Read both pipes (keeping ``KEEP_BYTES`` of each) until the program is done or the deadline; then
    kill its whole process group and reap it."""
    run = Run()
    pipes: dict[int, IO[bytes]] = {pipe.fileno(): pipe for pipe in (process.stdout, process.stderr) if pipe}
    kept: dict[int, bytearray] = {fd: bytearray() for fd in pipes}
    stdout_fd = process.stdout.fileno() if process.stdout else -1
    stderr_fd = process.stderr.fileno() if process.stderr else -1
    pidfd = _pidfd(process.pid)
    exited_at: float | None = None
    with selectors.DefaultSelector() as selector:
        for pipe in pipes.values():
            selector.register(pipe, selectors.EVENT_READ)
        if pidfd is not None:
            selector.register(pidfd, selectors.EVENT_READ)
        open_pipes = len(pipes)
        while True:
            if exited_at is None and _exited(process.pid):
                exited_at = time.monotonic()
                run.wall_ms = deadline.elapsed_ms()
            if exited_at is not None and (open_pipes == 0 or time.monotonic() - exited_at > EXIT_GRACE):
                break
            remaining = deadline.remaining()
            if remaining <= 0:
                run.timed_out = True
                break
            wait = remaining if pidfd is not None else min(remaining, 0.02)
            if exited_at is not None:
                wait = min(wait, EXIT_GRACE)
            for key, _ in selector.select(timeout=wait):
                if key.fd == pidfd:
                    selector.unregister(pidfd)
                    continue
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_pipes -= 1
                    continue
                if key.fd == stdout_fd:
                    run.stdout_size += len(chunk)
                buffer = kept[key.fd]
                buffer.extend(chunk[: max(0, KEEP_BYTES - len(buffer))])  # the rest is read and dropped
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the program's children too, at the deadline or left behind
    except (ProcessLookupError, PermissionError):
        pass
    run.returncode = process.wait()
    if pidfd is not None:
        os.close(pidfd)
    for pipe in pipes.values():
        pipe.close()
    run.wall_ms = run.wall_ms or deadline.elapsed_ms()
    run.stdout = bytes(kept.get(stdout_fd, b""))
    run.stderr = bytes(kept.get(stderr_fd, b""))
    return run


def _start(program: str, spec: CommandSpec) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [program, *spec.command.argv[1:]], cwd=spec.command.folder or None, env=environment(spec.env),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True,
        start_new_session=True,  # its own process group, killed as one at the deadline
    )


# --------------------------------------------------------------------------- the probe


def _text(data: bytes) -> str:
    # plugins are not bound to UTF-8: undecodable bytes become U+FFFD, secrets are masked before anything else
    return mask(data.decode("utf-8", errors="replace").replace("\r\n", "\n"))


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def probe(monitor: Monitor, timeout: float) -> Check:
    spec = monitor.spec
    if not isinstance(spec, CommandSpec):
        raise TypeError(f"monitor {monitor.id}: command probe needs a CommandSpec")
    started = now()
    deadline = Deadline(timeout)
    name = spec.command.argv[0]

    def down(error: str, details: dict[str, Any] | None = None) -> Check:
        return make_check(monitor, started, CheckStatus.DOWN, latency_ms=deadline.elapsed_ms(), error=error,
                          details=details)

    program = locate(name, spec.command.folder, environment(spec.env)["PATH"])
    if program is None:
        where = "" if "/" in name else " (looked in PATH and " + ", ".join(PLUGIN_DIRS) + ")"
        return down(f"program not found: {name}{where}")
    try:
        process = _start(program, spec)
    except PermissionError:
        return down(f"cannot run {name}: permission denied (is it executable?)")
    except (OSError, ValueError) as exc:  # ENOEXEC (no #! line), a NUL byte in an argument, ...
        return down(f"cannot run {name}: {getattr(exc, 'strerror', None) or exc}")
    try:
        run = collect(process, deadline)
    finally:
        deadline.close()
    return judge(monitor, spec, started, run, deadline.timed_out())


def judge(monitor: Monitor, spec: CommandSpec, started: Any, run: Run, timed_out_text: str) -> Check:
    """The check from what the program printed and how it exited."""
    output = parse_output(_text(run.stdout))
    stderr = _text(run.stderr)
    details: dict[str, Any] = {}
    if output.message:
        details["message"] = output.message
    if output.perfdata:
        details["perfdata"] = output.perfdata
    if run.stdout_size > KEEP_BYTES:
        details.update(output_truncated=True, output_bytes=run.stdout_size)  # only the first KEEP_BYTES were kept
    latency = latency_ms(output.perfdata, run.wall_ms)
    code = run.returncode if run.returncode is not None else -1
    said = output.message or (f"no output; stderr: {_last_line(stderr)}" if _last_line(stderr) else "no output")
    if run.timed_out:
        error = f"{timed_out_text}: the program and its children were killed"
        return make_check(monitor, started, CheckStatus.DOWN, latency_ms=run.wall_ms, error=error, details=details)
    details["exit_code"] = code
    if code < 0:
        details["output"] = output.long_text or stderr
        name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
        return make_check(monitor, started, CheckStatus.DOWN, latency_ms=latency,
                          error=f"the program crashed ({name}): {said}", details=details)
    state = STATES.get(code)
    details["state"] = state or "UNKNOWN"
    if code in STATUS_OF:
        status = STATUS_OF[code]
        if status is not CheckStatus.UP and (output.long_text or stderr):
            details["output"] = output.long_text or stderr  # kept for failures only: history stays small
        error = "" if status is CheckStatus.UP else (output.message or f"{state} (exit {code}): {said}")
        return make_check(monitor, started, status, latency_ms=latency, error=error, details=details)
    # UNKNOWN, or an exit code no plugin should return (a shell's 126/127, a script's 255)
    status = CheckStatus.DEGRADED if spec.on_unknown == "degraded" else CheckStatus.DOWN
    if output.long_text or stderr:
        details["output"] = output.long_text or stderr
    if code == 3:
        error = f"UNKNOWN: the plugin could not tell: {said}"
    else:
        error = f"exit code {code} is not a plugin state (0-3): {said}"
    return make_check(monitor, started, status, latency_ms=latency, error=error, details=details)


TYPE = ProbeType(name="command", doc="a check program (a Nagios/Monitoring Plugins plugin) reports OK",
                 spec=CommandSpec, keys=KEYS, probe=probe)
