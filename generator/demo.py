"""``statusgen demo``: the bundled monitors.yaml made real on a machine with no network.

Starts small services on loopback (a healthy site and API on 8711, a slow search
on 8712, a payments service on 8713 that is down at first), then makes a few
real runs of the main job against them. Payments comes back before the last run,
so the demo leaves behind a real history, a resolved incident, an open
"degraded" one, and a built site.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

from generator.errors import BadInput, Outcome
from generator.run.main_job import run
from generator.run.options import Options

HOST = "127.0.0.1"
SITE_PORT, SLOW_PORT, PAYMENTS_PORT = 8711, 8712, 8713
SLOW_SECONDS = 1.5


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

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the run prints its own table
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


def demo(options: Options, *, runs: int = 3, serve: bool = False) -> Outcome:
    if options.incidents_dir == Path("incidents"):
        # Keep the repository's own incidents/ clean: demo incidents live beside the demo history.
        options = replace(options, incidents_dir=options.data_dir / "demo-incidents")
    options = replace(options, tracker=options.tracker or "files")
    outcome = Outcome()
    with ExitStack() as stack:
        stack.enter_context(service(SITE_PORT))
        stack.enter_context(service(SLOW_PORT, _SlowHandler))
        for number in range(1, runs + 1):
            if number == runs and runs > 1:
                print("demo: payments comes back on 127.0.0.1:8713 before the last run", flush=True)
                stack.enter_context(service(PAYMENTS_PORT))
            print(f"\n== demo run {number} of {runs}", flush=True)
            outcome = run(options)
            if not outcome.ok:
                return outcome
        print(f"\ndemo: history in {options.data_dir}/, incidents in {options.incidents_dir}/, "
              f"site in {options.site_dir}/ (open {options.site_dir}/index.html)")
        if serve:
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
