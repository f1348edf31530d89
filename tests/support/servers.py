"""Real servers on 127.0.0.1 with ephemeral ports, for tests and benchmarks.

Every server is a context manager: it is listening when ``with`` enters and is
shut down (threads told to stop, sockets closed) when it leaves, even on error.
Nothing here reaches beyond loopback, and every wait is bounded.

- :class:`HttpServer`: threaded HTTP(S) with routes for status codes, slow,
  hanging and trickling answers, bodies, JSON, redirects, header echo and a
  "flaky" route that fails the first N requests.
- :class:`HangingServer`: accepts connections and never answers.
- :class:`TcpListener`: accepts and closes; :func:`closed_port`: a port nobody listens on.
- :class:`TlsServer` + :class:`Certs`: TLS handshakes with trustme certificates
  (valid, expiring in N days, expired, wrong host).
- :class:`DnsServer`: a UDP responder for a small test zone.
"""

from __future__ import annotations

import json
import select
import socket
import ssl
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterable, Optional
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"
MAX_WAIT = 30.0  # no handler waits longer than this, even if a test forgets to stop it

DEFAULT_JSON = {"status": "ok", "data": {"id": 7, "name": "api", "items": [{"ok": True}, {"ok": False}], "none": None}}
DEFAULT_TEXT = "Welcome to the statusgen test server"


def closed_port() -> int:
    """A port with no listener: bind an ephemeral port, then close it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class _Background:
    """Start/stop plumbing shared by the servers."""

    thread: Optional[threading.Thread] = None

    def __init__(self) -> None:
        self.stop_event = threading.Event()

    def _serve(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def start(self):
        self.thread = threading.Thread(target=self._serve, name=type(self).__name__, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "statusgen-test"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet tests
        pass

    def _query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes = b"", content_type: str = "text/plain; charset=utf-8", headers=()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, value: object, status: int = 200) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _dispatch(self) -> None:
        owner: HttpServer = self.server.owner
        path = urlsplit(self.path).path
        query = self._query()
        owner._hit(path)
        stop = owner.stop_event
        if path in owner.routes:
            status, body, headers = owner.routes[path]
            self._send(status, body, headers=headers)
        elif path == "/ok":
            self._send(200, b"ok")
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self._send(code, f"status {code}".encode())
        elif path == "/slow":
            stop.wait(min(float(query.get("ms", "1000")) / 1000.0, MAX_WAIT))
            self._send(200, b"slow ok")
        elif path == "/hang":
            stop.wait(MAX_WAIT)  # accepted, never answered
        elif path == "/trickle":
            # headers at once, then one byte per interval: per-read timeouts never fire
            size = int(query.get("bytes", "100"))
            interval = float(query.get("interval_ms", "200")) / 1000.0
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.flush()
            for _ in range(size):
                if stop.wait(interval):
                    return
                self.wfile.write(b"x")
                self.wfile.flush()
        elif path == "/body":
            self._send(200, query.get("text", DEFAULT_TEXT).encode())
        elif path == "/json":
            document = json.loads(query["doc"]) if "doc" in query else DEFAULT_JSON
            self._json(document)
        elif path == "/big":
            self._send(200, b"a" * int(query.get("bytes", str(2 << 20))))
        elif path == "/redirect":
            self._send(int(query.get("code", "302")), b"", headers=[("Location", query.get("to", "/ok"))])
        elif path == "/headers":
            self._json(dict(self.headers.items()))
        elif path == "/echo":
            body = self._body().decode("utf-8", errors="replace")
            self._json({"method": self.command, "path": self.path, "headers": dict(self.headers.items()), "body": body})
        elif path == "/flaky":
            # fails the first `fail` requests for each `key` with 503, then answers 200
            key = query.get("key", "default")
            count = owner._count_flaky(key)
            if count <= int(query.get("fail", "1")):
                self._send(503, f"attempt {count}: failing".encode())
            else:
                self._send(200, f"attempt {count}: ok".encode())
        else:
            self._send(404, b"not found")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _dispatch


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    owner: HttpServer
    ssl_context: Optional[ssl.SSLContext] = None

    def finish_request(self, request, client_address) -> None:
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        try:
            request.settimeout(5)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that gave up or did not trust us
        try:
            tls.settimeout(None)
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()

    def handle_error(self, request, client_address) -> None:
        pass  # clients that vanish mid-answer are normal here (timeouts under test)


class HttpServer(_Background):
    """``with HttpServer() as server: requests.get(server.url("/status/503"))``."""

    def __init__(self, *, ssl_context: Optional[ssl.SSLContext] = None, request_queue_size: int = 128) -> None:
        super().__init__()
        self.httpd = _HTTPServer((HOST, 0), _Handler, bind_and_activate=False)
        self.httpd.request_queue_size = request_queue_size
        self.httpd.server_bind()
        self.httpd.server_activate()
        self.httpd.owner = self
        self.httpd.ssl_context = ssl_context
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if ssl_context else "http"
        self.routes: dict[str, tuple[int, bytes, list[tuple[str, str]]]] = {}
        self.hits: Counter[str] = Counter()
        self._flaky: Counter[str] = Counter()
        self._lock = threading.Lock()

    def url(self, path: str = "/", host: str = HOST) -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, path: str, status: int = 200, body: str | bytes = b"", headers: Iterable[tuple[str, str]] = ()) -> None:
        """A fixed answer for ``path`` (checked before the built-in routes)."""
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = (status, data, list(headers))

    def _hit(self, path: str) -> None:
        with self._lock:
            self.hits[path] += 1

    def _count_flaky(self, key: str) -> int:
        with self._lock:
            self._flaky[key] += 1
            return self._flaky[key]

    def _serve(self) -> None:
        self.httpd.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)


# --------------------------------------------------------------------------- raw TCP


class _Listener(_Background):
    def __init__(self, backlog: int = 128) -> None:
        super().__init__()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.host = HOST
        self.accepted = 0

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def _serve(self) -> None:
        try:
            while not self.stop_event.is_set():
                readable, _, _ = select.select([self.sock], [], [], 0.05)
                if readable:
                    try:
                        conn, _ = self.sock.accept()
                    except OSError:
                        continue
                    self.accepted += 1
                    self._accepted(conn)
        finally:
            self._cleanup()

    def _accepted(self, conn: socket.socket) -> None:
        conn.close()

    def _cleanup(self) -> None:
        self.sock.close()


class TcpListener(_Listener):
    """Accepts connections and closes them at once."""


class HangingServer(_Listener):
    """Accepts connections and never answers (holds them until stopped)."""

    def __init__(self, backlog: int = 1024) -> None:
        super().__init__(backlog)
        self.held: list[socket.socket] = []

    def url(self, path: str = "/") -> str:
        return f"http://{HOST}:{self.port}{path}"

    def _accepted(self, conn: socket.socket) -> None:
        self.held.append(conn)

    def _cleanup(self) -> None:
        for conn in self.held:
            conn.close()
        self.held.clear()
        self.sock.close()


# --------------------------------------------------------------------------- TLS


class Certs:
    """A trustme CA that writes its certificate to ``ca_path`` and issues leaf certificates."""

    def __init__(self, directory: str | Path) -> None:
        import trustme

        self.ca = trustme.CA()
        self.ca_path = str(Path(directory) / "test-ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_path)

    def server_context(
        self,
        hostnames: Iterable[str] = ("localhost", HOST),
        *,
        days: Optional[float] = None,
        expired: bool = False,
    ) -> ssl.SSLContext:
        """A server context with a leaf for ``hostnames`` valid ``days`` more days (or already expired)."""
        now = datetime.now(timezone.utc)
        not_before = now - timedelta(days=30)
        not_after = None
        if expired:
            not_before, not_after = now - timedelta(days=60), now - timedelta(days=1)
        elif days is not None:
            not_after = now + timedelta(days=days)
        leaf = self.ca.issue_cert(*hostnames, not_before=not_before, not_after=not_after)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)
        return context


class TlsServer(_Listener):
    """Completes a TLS handshake on every connection, then closes it."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__()
        self.context = context
        self.handshakes = 0

    def _accepted(self, conn: socket.socket) -> None:
        threading.Thread(target=self._handshake, args=(conn,), daemon=True).start()

    def _handshake(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            with self.context.wrap_socket(conn, server_side=True) as tls:
                self.handshakes += 1
                tls.settimeout(0.5)
                try:
                    tls.recv(1)  # let the client finish reading before we close
                except (OSError, ssl.SSLError):
                    pass
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()


# --------------------------------------------------------------------------- DNS


class DnsServer(_Background):
    """A UDP responder for ``records`` [(name, type, value), ...]; NXDOMAIN for other names.

    Names in ``drop`` are never answered (the client times out).
    """

    def __init__(self, records: Iterable[tuple[str, str, str]], *, drop: Iterable[str] = ()) -> None:
        super().__init__()
        self.records: dict[tuple[str, str], list[str]] = {}
        for name, rtype, value in records:
            self.records.setdefault((self._key(name), rtype.upper()), []).append(value)
        self.names = {name for name, _ in self.records}
        self.drop = {self._key(name) for name in drop}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.port = self.sock.getsockname()[1]
        self.queries = 0

    @staticmethod
    def _key(name: str) -> str:
        return name.lower().rstrip(".") + "."

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def _serve(self) -> None:
        import dns.message
        import dns.rcode
        import dns.rdatatype
        import dns.rrset

        try:
            while not self.stop_event.is_set():
                readable, _, _ = select.select([self.sock], [], [], 0.05)
                if not readable:
                    continue
                try:
                    data, client = self.sock.recvfrom(4096)
                    query = dns.message.from_wire(data)
                except Exception:
                    continue  # not DNS: ignore, like a real server would
                self.queries += 1
                question = query.question[0]
                name = question.name.to_text().lower()
                if name in self.drop:
                    continue
                response = dns.message.make_response(query)
                rtype = dns.rdatatype.to_text(question.rdtype)
                if name not in self.names:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                elif (name, rtype) in self.records:
                    response.answer.append(dns.rrset.from_text(name, 60, "IN", rtype, *self.records[(name, rtype)]))
                self.sock.sendto(response.to_wire(), client)
        finally:
            self.sock.close()


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until true or ``timeout``: bounded waiting for background effects."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
