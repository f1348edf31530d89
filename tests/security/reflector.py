"""A loopback service that hands back what it receives, transformed the ways real services do.

Echoes come back as written, URL-encoded, base64-encoded and cut short, in JSON values, text
bodies, redirect targets and error bodies; notification payloads are kept for inspection. Every
route is a small function of the request, so a test can say what each monitor exercises.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

FILLER = "x" * 170  # puts an echoed secret across the 200th character of an error body


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


class Reflector:
    """``with Reflector() as service: service.url("/json")``; ``service.payloads`` holds what notifiers sent."""

    def __init__(self) -> None:
        self.payloads: list[bytes] = []
        self.received: list[str] = []  # request lines, to prove the secrets did reach the service
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

            def do_GET(self) -> None:
                owner._handle(self)

            def do_POST(self) -> None:
                owner._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> Reflector:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # ----------------------------------------------------------------- routes

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        auth = handler.headers.get("Authorization", "")
        with self._lock:
            self.received.append(f"{handler.command} {handler.path} {auth}")
        path = parts.path
        if path == "/json":
            self._send(handler, 200, json.dumps({
                "auth": auth, "quoted": quote(auth, safe=""), "b64": _b64(auth), "q": parts.query,
            }).encode(), "application/json")
        elif path == "/basic":
            self._send(handler, 200, json.dumps({"auth": auth}).encode(), "application/json")
        elif path == "/text":
            text = f"quoted={quote(auth, safe='')} plus={quote(auth)} b64={_b64(auth)} cut={auth[:40]}"
            self._send(handler, 200, text.encode())
        elif path == "/redirect-ftp":
            target = f"ftp://127.0.0.1:1/file?q={quote(query.get('t', ''), safe='')}"
            self._send(handler, 302, b"", headers=(("Location", target),))
        elif path == "/redirect":
            token = query.get("t", "")
            target = f"/landing?q={quote(token, safe='')}&b={quote(_b64(token), safe='')}"
            self._send(handler, 302, b"", headers=(("Location", target),))
        elif path == "/landing":
            self._send(handler, 200, b"welcome")
        elif path == "/restart":
            self._restart(handler, query, auth)
        elif path.startswith("/notify"):
            with self._lock:
                self.payloads.append(body)
            self._send(handler, 200, b"{}", "application/json")
        else:
            self._send(handler, 503, b"down")

    def _restart(self, handler: BaseHTTPRequestHandler, query: dict[str, str], auth: str) -> None:
        token = query.get("token", "")
        if query.get("mode") == "cut":  # the secret across the 200th character
            text = FILLER + " " + token + " " + auth
        else:  # transformed echoes, each of which exact masking alone misses
            text = f"bad token {quote(token, safe='')} ({_b64('hook:' + token)}) from {quote(auth)}"
        self._send(handler, 500, text.encode())

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str = "text/plain",
              headers: tuple[tuple[str, str], ...] = ()) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
