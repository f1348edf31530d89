"""The agent's HTTP side: a threaded server that answers signed restart webhooks, and its entry points.

Signatures: Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``),
verified with the ``standardwebhooks`` package; a (webhook-id, timestamp) pair seen before is a
replay and refused with 409. The deprecated ``X-Statusgen-Signature-256`` is still accepted for
one release when a request has no ``webhook-signature`` (logged as deprecated).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
import signal
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from types import FrameType
from typing import Any, NoReturn

from generator import __version__, signing
from generator.config.problems import Problem
from generator.exitcodes import OK
from generator.secrets import mask
from generator.timeutil import to_iso, utcnow

from .command import AgentState, restart_env
from .config import AgentCommand, AgentConfig, AgentConfigError, load_agent_config
from .replay import ReplayWindow, token
from .wire import DeadlineReader, PooledServer, framing, timestamp

log = logging.getLogger("statusgen.agent")

DEFAULT_LISTEN = "127.0.0.1:9090"
PATHS = ("/", "/restart")
TOKEN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
DISCARD_LIMIT = 1024 * 1024  # bytes of an oversized body read and dropped so the client sees our 413
WRITE_TIMEOUT = 5.0  # seconds to hand an answer to a client that stopped reading


class AgentUsageError(AgentConfigError):
    """A bad command line, or an address the agent cannot listen on: bad input, like a bad agent.yaml."""

    def __init__(self, message: str):
        super().__init__([Problem("statusgen agent", 0, 0, "", message)])


# --------------------------------------------------------------------------- HTTP


class AgentServer(PooledServer):
    def __init__(self, config: AgentConfig, address: tuple[str, int]):
        self.config = config
        self.agent = AgentState(config)
        # accepted signatures, on disk while they are valid, so a replay after a restart is refused too
        self.replays = ReplayWindow(config.state, config.max_age + config.max_future)
        # the stdlib server is IPv4 only; --listen [::1]:9090 (documented) needs an IPv6 socket
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, AgentHandler, config.max_connections)

    @property
    def url(self) -> str:
        host, port = _bound(self)
        return f"http://{_url_host(host)}:{port}/restart"


class AgentHandler(BaseHTTPRequestHandler):
    server: AgentServer
    server_version = f"statusgen-agent/{__version__}"
    sys_version = ""
    timeout = 15  # a slow client cannot hold a thread forever
    protocol_version = "HTTP/1.1"

    # -- plumbing

    def log_message(self, format: str, *args: Any) -> None:  # we log one line of our own per request instead
        pass

    def setup(self) -> None:
        super().setup()
        self.reader = DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self.reader)

    def handle_one_request(self) -> None:
        # one total deadline for the request line, the headers and the body, however they trickle in
        self.reader.deadline = time.monotonic() + self.server.config.request_timeout
        super().handle_one_request()

    def _answer(self, code: int, payload: dict[str, Any], *, monitor: str = "-", delivery: str = "-",
                reason: str = "", headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, sort_keys=True).encode("utf-8")
        self.connection.settimeout(WRITE_TIMEOUT)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if code >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        client = self.client_address[0] if self.client_address else "-"
        line = (
            f"{to_iso(utcnow())} {client} {self.command} {self.path.split('?')[0][:100]} {code} "
            f"monitor={monitor} delivery={delivery}" + (f" reason={reason!r}" if reason else "")
        )
        log.info("%s", mask(line))

    def _discard(self, count: int) -> None:
        try:
            while count > 0:
                chunk = self.rfile.read(min(count, 65536))
                if not chunk:
                    break
                count -= len(chunk)
        except OSError:
            pass

    def _refuse_method(self) -> None:
        if self.command == "GET" and self.path.split("?")[0] == "/healthz":
            self._answer(200, {"ok": True, "monitors": len(self.server.config.monitors)})
            return
        self._answer(405, {"error": "method not allowed: send POST"}, reason="method", headers={"Allow": "POST"})

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _refuse_method

    # -- the restart request, checked in order: path, size, signature, event, monitor, ids

    def do_POST(self) -> None:
        if self.path.split("?")[0] not in PATHS:
            self._answer(404, {"error": "not found: POST to /restart"}, reason="path")
            return
        body = self._body()
        if body is None or not self._signed(body):
            return
        event = self._event(body)
        if event is None:
            return
        document, monitor_id = event
        command = self.server.config.monitors.get(monitor_id)
        if command is None:
            shown = monitor_id if TOKEN.match(monitor_id) else "?"
            self._answer(404, {"error": "unknown monitor", "monitor": shown}, monitor=shown, reason="unknown monitor")
            return
        delivery = self.headers.get(signing.DELIVERY_HEADER, "")
        try:
            delivery = str(uuid.UUID(delivery))
        except ValueError:
            delivery = str(uuid.uuid4())
        key = self.headers.get(signing.IDEMPOTENCY_HEADER) or delivery
        if not TOKEN.match(key):
            self._answer(400, {"error": "bad Idempotency-Key"}, monitor=monitor_id, reason="bad key")
            return
        self._restart(command, document, delivery, key)

    def _body(self) -> bytes | None:
        """The whole body, or ``None`` after answering why not; never more than max_body is buffered."""
        max_body = self.server.config.max_body
        length = framing(self.headers)
        if isinstance(length, tuple):
            code, reason = length
            self._answer(code, {"error": reason}, reason=reason)
            return None
        if length > max_body:
            self._discard(min(length, DISCARD_LIMIT))
            self._answer(413, {"error": f"body larger than {max_body} bytes"}, reason=f"length {length}")
            return None
        body = self.rfile.read(length)
        if len(body) != length:
            self._answer(400, {"error": "body shorter than Content-Length"}, reason="short body")
            return None
        return body

    def _signed(self, body: bytes) -> bool:
        config = self.server.config
        standard = self.headers.get(signing.WEBHOOK_SIGNATURE) is not None
        if not all(timestamp(self.headers.get(name)) for name in (signing.WEBHOOK_TIMESTAMP, signing.TIMESTAMP_HEADER)):
            self._answer(400, {"error": "timestamp must be unix seconds in ASCII digits"}, reason="bad timestamp")
            return False
        try:
            if standard:
                signing.verify_standard(config.secret, body, dict(self.headers.items()), now=time.time(),
                                        max_age=config.max_age, max_future=config.max_future)
            else:  # deprecated: X-Statusgen-Signature-256 only (senders before Standard Webhooks)
                signing.verify(
                    config.secret,
                    body,
                    self.headers.get(signing.SIGNATURE_HEADER),
                    self.headers.get(signing.TIMESTAMP_HEADER),
                    now=time.time(),
                    max_age=config.max_age,
                    max_future=config.max_future,
                )
                log.warning("%s", "deprecated X-Statusgen-Signature-256 accepted: sign with Standard Webhooks "
                            "(webhook-signature); the old headers go in the next release")
        except signing.SignatureError as exc:
            self._answer(401, {"error": f"unauthorized: {exc}"}, reason=str(exc))
            return False
        if not self._first_time(standard):
            self._answer(409, {"error": "replayed: this webhook-id and timestamp were already received"},
                         reason="replay")
            return False
        return True

    def _first_time(self, standard: bool) -> bool:
        """A signed request is accepted once, here or before a restart (the window is kept on disk).

        A request carrying both signatures is remembered by both, so stripping one form off a
        captured request does not make it new. A deprecated-only request repeated inside this
        process is answered by the idempotency rules (202, the first run's status) as before.
        """
        legacy = self.headers.get(signing.SIGNATURE_HEADER, "").strip()
        keys = [token("sha256", legacy)] if legacy else []
        if standard:
            stamp = self.headers.get(signing.WEBHOOK_TIMESTAMP, "").strip()
            keys.insert(0, token("v1", self.headers.get(signing.WEBHOOK_ID, ""), stamp))
        else:
            stamp = self.headers.get(signing.TIMESTAMP_HEADER, "").strip()
            if legacy in self.server.agent.signed:
                return True
        return self.server.replays.first_time(keys, int(stamp))

    def _event(self, body: bytes) -> tuple[dict[str, Any], str] | None:
        """The restart event and its monitor id, or ``None`` after a 400."""
        try:
            document = json.loads(body)
            if not isinstance(document, dict) or document.get("event") != "restart":
                raise ValueError("event is not restart")
            monitor = document.get("monitor") or {}
            monitor_id = monitor.get("id") if isinstance(monitor, dict) else None
            if not isinstance(monitor_id, str) or not monitor_id:
                raise ValueError("monitor.id missing")
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError; "[[[[..." recurses
            self._answer(400, {"error": "body must be the statusgen restart event (leave restart.body unset)"},
                         reason=str(exc)[:80])
            return None
        return document, monitor_id

    def _restart(self, command: AgentCommand, document: dict[str, Any], delivery: str, key: str) -> None:
        """Start the restart unless one is running: a duplicate shares the first delivery, another attempt waits."""
        monitor_id = command.monitor_id
        # verified in _signed; a replay of the legacy form is recognised by its signature
        signature = (self.headers.get(signing.WEBHOOK_SIGNATURE) or self.headers.get(signing.SIGNATURE_HEADER)
                     or "").strip()
        agent = self.server.agent
        code, status, run = agent.claim(monitor_id, key, delivery, signature)
        if code == 429:
            self._answer(429, {"error": "a restart of this monitor is in progress", "monitor": monitor_id,
                               "delivery": run.delivery, "status": status},
                         monitor=monitor_id, delivery=delivery, reason="in progress", headers={"Retry-After": "10"})
            return
        if status == "started":
            agent.launch(command, run, restart_env(document, delivery=delivery, monitor_id=monitor_id, key=key))
        self._answer(202, {"delivery": run.delivery, "monitor": monitor_id, "status": status},
                     monitor=monitor_id, delivery=run.delivery,
                     reason="" if status == "started" else f"duplicate {status}")


# --------------------------------------------------------------------------- entry points


def _bound(server: AgentServer) -> tuple[str, int]:
    """The host and port the server really listens on (port 0 asks the system for one)."""
    host, port = server.server_address[:2]
    return (host.decode() if isinstance(host, bytes) else str(host)), int(port)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def serve(config: AgentConfig, host: str = "127.0.0.1", port: int = 9090, *, background: bool = False) -> AgentServer:
    """Bind the agent; with ``background`` it also serves from a daemon thread (tests, embedding).

    Without it the caller runs ``server.serve_forever()``; ``server.shutdown()`` stops it.
    """
    server = AgentServer(config, (host, port))
    if background:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="statusgen-agent",
                         daemon=True).start()
    return server


def parse_listen(text: str) -> tuple[str, int]:
    """``127.0.0.1:9090``, ``[::1]:9090`` or ``:9090`` (loopback)."""
    value = text.strip()
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]]*):(\d{1,5})", value)
    if not match:
        raise ValueError(f"--listen {text!r}: expected host:port, e.g. 127.0.0.1:9090")
    host = match.group(1) or match.group(3) or "127.0.0.1"
    port = int(match.group(2) or match.group(4))
    if not 0 <= port <= 65535:
        raise ValueError(f"--listen {text!r}: port must be 0..65535")
    return host, port


class _Arguments(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so the CLI's one wrapper chooses the exit code."""

    def error(self, message: str) -> NoReturn:
        raise AgentUsageError(f"{message} (see statusgen agent --help)")


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or Ctrl-C; a bad agent.yaml, argument or address raises :class:`AgentConfigError`."""
    parser = _Arguments(prog="statusgen agent", description="Run restart commands on signed webhooks.")
    parser.add_argument("--config", required=True, help="agent.yaml")
    parser.add_argument("--listen", default=DEFAULT_LISTEN, help=f"host:port (default {DEFAULT_LISTEN})")
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)
    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        raise AgentUsageError(str(exc)) from None
    config = load_agent_config(args.config)
    try:
        server = serve(config, host, port)
    except OSError as exc:
        raise AgentUsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    _serve_until_stopped(server)
    return OK


def _serve_until_stopped(server: AgentServer) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return, so it cannot run on the serving thread itself
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    host, port = _bound(server)
    print(f"statusgen agent listening on http://{_url_host(host)}:{port}/restart "
          f"({len(server.config.monitors)} monitor(s))", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.agent.wait_idle(5.0)
