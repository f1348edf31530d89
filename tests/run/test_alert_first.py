"""Issue 12, item 4: the opening notification leaves before the restart request, not after the verify loop.

A real run (``statusgen run``'s job) against loopback parts: a service that stays down, a restart
hook that answers 202 without fixing anything, and an Apprise ``json://`` receiver. Both receivers
write into one arrival log, so the order and the delay are what the wire saw.
"""

from __future__ import annotations

import http.server
import json
import textwrap
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from generator.run import main_job
from generator.run.options import Options
from tests.support.switch import switchable_service

VERIFY_FOR = 3.0  # seconds the run watches the restarted service (the run took ~57 s with 60 s)


@contextmanager
def arrivals() -> Iterator[tuple[str, list[tuple[str, float]]]]:
    """One loopback server: POST /notify (Apprise json://) and POST /restart (the hook) log their arrival."""
    log: list[tuple[str, float]] = []
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                log.append((self.path.strip("/"), time.monotonic()))
            if self.path.startswith("/notify"):
                json.loads(body)  # Apprise's json:// payload
            self.send_response(202 if self.path.startswith("/restart") else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()


def test_the_opening_notification_precedes_the_restart_request(tmp_path: Path) -> None:
    with switchable_service() as service, arrivals() as (address, log):
        service.mode = "error"
        (tmp_path / "monitors.yaml").write_text(textwrap.dedent(f"""\
            monitors:
              - id: shop
                name: Shop
                url: {service.url}
                timeout: 2s
                retries: 0
                notify: json://{address}/notify
                restart:
                  url: http://{address}/restart
                  secret: ${{HOOK_SECRET}}
                  verify_every: 500ms
                  verify_for: {VERIFY_FOR:g}s
            """))
        options = Options(config_path=tmp_path / "monitors.yaml", data_dir=tmp_path / "data",
                          incidents_dir=tmp_path / "incidents", site_dir=tmp_path / "_site", tracker="files",
                          build=False, environ={"HOOK_SECRET": "s3cret-hook-key"})
        started = time.monotonic()
        main_job.run(options)
        finished = time.monotonic()

    kinds = [kind for kind, _ in log]
    assert kinds[:2] == ["notify", "restart"], kinds  # the alert first, then the action
    notified = log[0][1] - started
    restarted = log[1][1]
    assert log[0][1] <= restarted
    # it left while the run was still probing and acting, not after the verify loop (which took VERIFY_FOR)
    assert notified < VERIFY_FOR / 2, notified
    assert finished - started >= VERIFY_FOR - 0.5  # the service stayed down: the run verified to the end
