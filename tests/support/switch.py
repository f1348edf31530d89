"""A loopback HTTP service that a test turns up, slow or down between runs."""

from __future__ import annotations

import http.server
import json
import threading
import time
from contextlib import contextmanager
from typing import Iterator


class SwitchableService:
    """Answers 200 with JSON when ``mode == "up"``, 503 when "error", after a delay when "slow"."""

    def __init__(self) -> None:
        self.mode = "up"
        self.slow_seconds = 1.2
        self.hits = 0
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                service.hits += 1
                if service.mode == "slow":
                    time.sleep(service.slow_seconds)
                status = 503 if service.mode == "error" else 200
                body = json.dumps({"status": "ok" if status == 200 else "unavailable"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def switchable_service() -> Iterator[SwitchableService]:
    service = SwitchableService()
    try:
        yield service
    finally:
        service.close()
