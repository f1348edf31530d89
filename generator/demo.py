"""``statusgen demo``: the system statusgen models, on one machine, with no network and no token.

Small services start on loopback: a healthy site and API, a slow search, and "payments", a service
process of its own (a stand-in for the Mockoon service of the original scenario). A real
``statusgen agent`` knows how to start payments again. Then ``statusgen watch`` runs against the
bundled monitors.yaml (made faster: every monitor each 10 s, payments with a restart hook through
the agent) while the demo kills payments: the check fails, the CRITICAL incident opens in
``data/demo-incidents/``, the restart hook reaches the agent, payments comes back, the incident is
resolved and the site in ``_site/`` shows it, all within the minute.

Ports: ``--port P`` uses P, P+1 and P+2 (default 8711-8713); when one is taken, free ports are used
instead. ``python -m generator.demo start-payments --port P --pids FILE`` is the agent's restart
command (it starts payments detached and returns once it answers).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator, Optional

import yaml

from generator.config.sections import TEST_MIN_INTERVAL_VARIABLE
from generator.errors import BadInput, Outcome
from generator.run.options import Options
from generator.run.watch_job import watch
from generator.run.watchlog import stamp

HOST = "127.0.0.1"
SITE_PORT, SLOW_PORT, PAYMENTS_PORT = 8711, 8712, 8713
DEFAULT_PORTS = (SITE_PORT, SLOW_PORT, PAYMENTS_PORT)
SLOW_SECONDS = 1.5
INTERVAL = 10.0  # seconds: the shortest interval a monitor may have
CRASH_AFTER = 12.0  # seconds into the watch: every monitor has been checked at least once
WATCH_SECONDS = 34.0  # enough for the crash, detection (<= 10 s), restart, verification and a publish
SECRET_VARIABLE = "DEMO_AGENT_SECRET"


class _DemoHandler(http.server.BaseHTTPRequestHandler):
    delay = 0.0
    server_version = "statusgen-demo"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.delay:
            time.sleep(self.delay)
        if self.path.startswith("/health"):
            body, kind = json.dumps({"status": "ok"}).encode(), "application/json"
        else:
            body, kind = b"<!doctype html><title>Acme</title><h1>Welcome to Acme</h1>", "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the watcher prints its own log
        pass


class _SlowHandler(_DemoHandler):
    delay = SLOW_SECONDS


@contextmanager
def service(port: int, handler: type[_DemoHandler] = _DemoHandler) -> Iterator[http.server.ThreadingHTTPServer]:
    try:
        server = http.server.ThreadingHTTPServer((HOST, port), handler)
    except OSError as error:
        raise BadInput(f"demo: cannot listen on {HOST}:{port} ({error.strerror}); is another demo running?") from None
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- ports


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _ephemeral() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def choose_ports(first: Optional[int]) -> tuple[int, int, int]:
    """P, P+1, P+2 (default 8711-8713) when all three are free, else three free ports."""
    start = SITE_PORT if first is None else first
    wanted = (start, start + 1, start + 2)
    if all(0 < port < 65536 and _free(port) for port in wanted):
        return wanted
    chosen = (_ephemeral(), _ephemeral(), _ephemeral())
    while len(set(chosen)) < 3:
        chosen = (_ephemeral(), _ephemeral(), _ephemeral())
    print(f"demo: ports {wanted[0]}-{wanted[2]} are taken; using {', '.join(map(str, chosen))}", flush=True)
    return chosen


# --------------------------------------------------------------------------- payments, its own process


def serve_payments(port: int) -> None:
    """The payments service (runs until killed)."""
    with service(port):
        signal.sigwait({signal.SIGTERM, signal.SIGINT})


def start_payments(port: int, pids: Path) -> int:
    """Start payments detached and return once it answers (the agent's restart command)."""
    process = subprocess.Popen([sys.executable, "-m", "generator.demo", "serve-payments", "--port", str(port)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True, close_fds=True)
    with pids.open("a", encoding="utf-8") as handle:
        handle.write(f"{process.pid}\n")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if _answers(f"http://{HOST}:{port}/health"):
            return 0
        time.sleep(0.05)
    return 1


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _kill_all(pids: Path) -> None:
    if not pids.exists():
        return
    for line in pids.read_text(encoding="utf-8").split():
        try:
            os.killpg(int(line), signal.SIGKILL)
        except (ProcessLookupError, PermissionError, ValueError):
            pass


# --------------------------------------------------------------------------- the scenario


def _scale(environ: dict[str, str]) -> float:
    """1, or less under the test-only interval floor (tests run the demo in seconds, not a minute)."""
    try:
        floor = float(environ.get(TEST_MIN_INTERVAL_VARIABLE, "") or INTERVAL)
    except ValueError:
        floor = INTERVAL
    return min(1.0, max(0.1, floor / INTERVAL))


def _demo_config(source: Path, ports: tuple[int, int, int], agent_port: int, target: Path, scale: float) -> None:
    """The bundled monitors.yaml, on the chosen ports, checked every 10 s, payments with its restart hook."""
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise BadInput(f"demo: cannot read {source}: {error}") from None
    text = json.dumps(data)
    for default, port in zip(DEFAULT_PORTS, ports):
        text = text.replace(f"{HOST}:{default}", f"{HOST}:{port}").replace(f'"port": {default}', f'"port": {port}')
    data = json.loads(text)
    settings = data.setdefault("settings", {}) or {}
    settings.update({"interval": f"{INTERVAL * scale:g}s", "publish_every": f"{INTERVAL * scale:g}s"})
    data["settings"] = settings
    for monitor in data.get("monitors") or []:
        if monitor.get("id") == "payments":
            monitor["restart"] = {"url": f"http://{HOST}:{agent_port}/restart", "secret": f"${{{SECRET_VARIABLE}}}",
                                  "verify_every": "1s", "verify_for": "20s"}
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("# written by statusgen demo from " + str(source) + "\n" + yaml.safe_dump(data, sort_keys=False),
                      encoding="utf-8")


@contextmanager
def _agent(folder: Path, port: int, payments_port: int, pids: Path, env: dict[str, str]) -> Iterator[None]:
    config = folder / "demo-agent.yaml"
    command = [sys.executable, "-m", "generator.demo", "start-payments", "--port", str(payments_port), "--pids", str(pids)]
    config.write_text(f"secret: ${{{SECRET_VARIABLE}}}\nmonitors:\n  payments:\n    command: {json.dumps(command)}\n"
                      "    timeout: 20s\n", encoding="utf-8")
    log = (folder / "demo-agent.log").open("ab")
    agent = subprocess.Popen([sys.executable, "-m", "generator", "agent", "--config", str(config), "--listen",
                              f"{HOST}:{port}"], env=env, stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while not _answers(f"http://{HOST}:{port}/healthz"):
            if agent.poll() is not None or time.monotonic() > deadline:
                raise BadInput(f"demo: the restart agent did not start (see {folder / 'demo-agent.log'})")
            time.sleep(0.05)
        yield
    finally:
        agent.terminate()
        try:
            agent.wait(10)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait(5)
        log.close()


def _crash_later(pids: Path, port: int, delay: float, stop: threading.Event) -> None:
    if stop.wait(delay):
        return
    _kill_all(pids)
    pids.write_text("", encoding="utf-8")
    print(f"{stamp()}  demo: payments (127.0.0.1:{port}) crashed: killed with SIGKILL", flush=True)


def demo(options: Options, *, port: Optional[int] = None, serve: bool = False) -> Outcome:
    if options.incidents_dir == Path("incidents"):
        # Keep the repository's own incidents/ clean: demo incidents live beside the demo history.
        options = replace(options, incidents_dir=options.data_dir / "demo-incidents")
    ports = choose_ports(port)
    agent_port = _ephemeral()
    secret = secrets.token_hex(16)
    environ = {**options.environ, SECRET_VARIABLE: secret}
    config = options.data_dir / "demo-monitors.yaml"
    scale = _scale(environ)
    _demo_config(options.config_path, ports, agent_port, config, scale)
    options = replace(options, tracker="files", config_path=config, environ=environ)
    pids = options.data_dir / "demo-payments.pids"
    stop = threading.Event()
    with ExitStack() as stack:
        stack.enter_context(service(ports[0]))
        stack.enter_context(service(ports[1], _SlowHandler))
        stack.callback(_kill_all, pids)
        if start_payments(ports[2], pids) != 0:
            raise BadInput(f"demo: payments did not start on {HOST}:{ports[2]}")
        stack.enter_context(_agent(options.data_dir, agent_port, ports[2], pids, {**os.environ, **environ}))
        print(f"demo: services on {HOST}:{ports[0]}-{ports[2]}, restart agent on {HOST}:{agent_port}; "
              f"payments will crash {CRASH_AFTER * scale:g}s into the watch", flush=True)
        crasher = threading.Thread(target=_crash_later, args=(pids, ports[2], CRASH_AFTER * scale, stop), daemon=True)
        crasher.start()
        try:
            outcome = watch(options, duration=max(WATCH_SECONDS * scale, 15.0), debounce=2.0 * scale)
        finally:
            stop.set()
        print(f"\ndemo: history in {options.data_dir}/, incidents in {options.incidents_dir}/, "
              f"site in {options.site_dir}/ (open {options.site_dir}/index.html)", flush=True)
        if serve and outcome.ok:
            _serve_directory(options.site_dir)
    return outcome


def _serve_directory(directory: Path, port: int = 8000) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    with http.server.ThreadingHTTPServer((HOST, port), handler) as server:
        print(f"demo: serving the site on http://{HOST}:{port}/ (Ctrl-C to stop)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def _main(argv: Optional[list[str]] = None) -> int:
    """``python -m generator.demo start-payments|serve-payments --port P [--pids FILE]``."""
    parser = argparse.ArgumentParser(prog="python -m generator.demo")
    parser.add_argument("action", choices=("start-payments", "serve-payments"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pids", default=os.devnull)
    args = parser.parse_args(argv)
    if args.action == "serve-payments":
        serve_payments(args.port)
        return 0
    return start_payments(args.port, Path(args.pids))


if __name__ == "__main__":
    raise SystemExit(_main())
