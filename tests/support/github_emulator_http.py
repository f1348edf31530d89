"""The GitHub emulator's HTTP layer: one request in, faults applied, the emulator's answer out."""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

from tests.support.github_emulator_model import DOCS, Fault, HttpError, Record

if TYPE_CHECKING:
    from tests.support.github_emulator import GitHubEmulator


# --------------------------------------------------------------------------- HTTP layer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall
    emulator: GitHubEmulator
    server_version = "GitHubEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the emulator keeps its own log
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _handle(self) -> None:
        emu = self.emulator
        parsed = urlparse(self.path)
        path = parsed.path.rstrip("/") or "/"
        query = {key: values[-1] for key, values in parse_qs(parsed.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        method = self.command
        user = emu.authenticate(self.headers.get("Authorization"))
        login = user.login if user else None
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = "<invalid json>"
        record = Record(method, path, query, None, None, user=login, request_body=payload)

        fault = emu._next_fault(method, path)
        if fault is not None and fault.kind == "reset":
            record.fault = "reset"
            emu._record(record)
            self._reset()
            return
        with emu.lock:
            rate, exhausted = emu._rate_headers(login)
        headers = dict(rate)
        if fault is not None and fault.kind in ("status", "rate_limit", "retry_after", "secondary"):
            record.fault = fault.kind
            status, body, extra = self._fault_response(fault, rate)
            headers.update(extra)
        elif user is None:
            status, body = 401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}
        elif exhausted:
            status, body = 403, {"message": f"API rate limit exceeded for user ID {user.id}.", "documentation_url": DOCS}
        else:
            try:
                status, body, extra = emu.route(method, path, query, payload, user)
                headers.update(extra)
            except HttpError as error:
                status = error.status
                body = {"message": error.message, "documentation_url": DOCS, **error.extra}
                headers.update(error.headers)
                if status >= 400:
                    body.setdefault("status", str(status))
            if method == "GET" and status == 200:
                # GitHub's conditional requests: an ETag on every answer; a match is a 304 without a body,
                # which does not count against the primary rate limit
                etag = 'W/"' + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest() + '"'
                headers["ETag"] = etag
                if self.headers.get("If-None-Match") == etag:
                    status, body = 304, None
                    headers.update(emu._refund(login))
        record.status, record.body, record.headers = status, body, headers
        if fault is not None and fault.kind in ("slow", "reset_after"):
            record.fault = fault.kind
        emu._record(record)
        if fault is not None and fault.kind == "reset_after":
            self._reset()  # the work is done; the answer is lost
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)  # the work is done; the answer comes too late
        self._send(status, body, headers)

    def _reset(self) -> None:
        # SO_LINGER 0: close() sends a RST, the client sees "connection reset by peer".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _fault_response(self, fault: Fault, rate: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if fault.kind == "rate_limit":
            reset = int(time.time() + fault.reset_in + 0.999)
            return 403, {"message": "API rate limit exceeded for user ID 1.", "documentation_url": DOCS}, {
                "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset),
                "X-RateLimit-Used": rate["X-RateLimit-Limit"]}
        if fault.kind == "secondary":
            return fault.status, {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
                           "again. If you reach out to GitHub Support for help, please include the request ID "
                           "0000:1111:2222:3333:44444444.",
                "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}, {}
        if fault.kind == "retry_after":
            return fault.status, {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                "documentation_url": DOCS}, {"Retry-After": str(int(fault.retry_after))}
        if fault.status == 503:
            return 503, {"code": "unavailable", "message": "Service unavailable", "documentation_url": DOCS}, {}
        return fault.status, {"message": "Server Error" if fault.status == 500 else "Bad Gateway", "documentation_url": DOCS}, {}

    def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
        data = b"" if body is None else json.dumps(body).encode("utf-8")
        try:
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a slow fault): nothing to answer

