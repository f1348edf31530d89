"""WebSocket probe (the ``websockets`` library): the handshake succeeds, and optionally a message sent
is answered by one that meets ``expect``.

ws:// or wss:// (verified against the system CAs, or only ``ca_bundle``). The opening handshake is
bounded by the timeout, and so is the wait for a matching message; messages that do not match
(a server's greeting, a heartbeat) are skipped until one does.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
)
from websockets.sync.client import connect

from generator.config.keys import CaBundle, Checked, Headers, Key, Text, with_refs
from generator.models import Check, CheckStatus, Monitor
from generator.probes.base import Deadline, describe_error, make_check, now, short
from generator.probes.probetype import ProbeType
from generator.probes.reply import ReplyExpect, expect_block, shown, unmet

MAX_MESSAGES = 100  # skipped before giving up: a chatty server cannot keep a check busy
MAX_SIZE = 1 << 20
URL_PATTERN = r"^[Ww][Ss][Ss]?://[^\s/?#]+([/?#]\S*)?$"


@dataclass(frozen=True)
class WebsocketSpec:
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    send: str | None = None
    expect: ReplyExpect = field(default_factory=ReplyExpect)
    ca_bundle: str | None = None


def ws_url(value: str) -> str | None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as error:
        return f'"{value}" is not a valid URL ({error})'
    if parts.scheme.lower() not in ("ws", "wss") or not parts.hostname or any(ch.isspace() for ch in value):
        return f'"{value}" is not a WebSocket URL (ws://host/path or wss://host/path)'
    return None


KEYS: tuple[Key, ...] = (
    Checked("url", "the ws:// or wss:// URL to connect to", check=ws_url, pattern=with_refs(URL_PATTERN), required=True,
            good=("wss://example.com/socket", "ws://127.0.0.1:8080/"), bad=("https://example.com/", "wss://", 5)),
    Headers("headers", "HTTP headers sent with the opening handshake"),
    Text("send", "a text message to send once connected", allow_empty=True),
    expect_block("websocketExpect", "a message that must arrive within the timeout (after send, if any)",
                 with_json=True),
    CaBundle("ca_bundle", "a CA bundle file (PEM) to verify a wss:// server against; relative to the monitors "
                          "file's folder"),
)


def _context(spec: WebsocketSpec) -> ssl.SSLContext | None:
    if urlsplit(spec.url).scheme.lower() != "wss":
        return None
    return ssl.create_default_context(cafile=spec.ca_bundle) if spec.ca_bundle else ssl.create_default_context()


def _error(exc: BaseException, deadline: Deadline, timeout: float) -> tuple[str, int | None]:
    if isinstance(exc, InvalidStatus):
        return f"handshake refused: HTTP {exc.response.status_code}", exc.response.status_code
    if isinstance(exc, ConnectionClosed):
        frame = exc.rcvd
        why = f" ({frame.code} {frame.reason})".rstrip() if frame else ""
        return f"connection closed by the server{why}".replace(" )", ")"), None
    if isinstance(exc, InvalidURI):
        return f"bad URL: {exc}", None
    if isinstance(exc, (TimeoutError, OSError, ssl.SSLError)) or deadline.expired:
        return (deadline.timed_out() if deadline.expired else describe_error(exc, timeout)), None
    if isinstance(exc, InvalidHandshake):
        return f"WebSocket handshake failed: {exc}", None
    return describe_error(exc, timeout), None


def probe(monitor: Monitor, timeout: float) -> Check:
    spec = monitor.spec
    if not isinstance(spec, WebsocketSpec):
        raise TypeError(f"monitor {monitor.id}: websocket probe needs a WebsocketSpec")
    started = now()
    deadline = Deadline(timeout)
    details: dict[str, Any] = {}

    def down(error: str, code: int | None = None) -> Check:
        return make_check(monitor, started, CheckStatus.DOWN, latency_ms=deadline.elapsed_ms(), code=code,
                          error=error, details=details)

    try:
        context = _context(spec)
    except (OSError, ssl.SSLError) as exc:
        return down(f"cannot load ca_bundle: {getattr(exc, 'strerror', None) or exc}")
    try:
        with connect(spec.url, ssl=context, additional_headers=list(spec.headers), proxy=None,
                     open_timeout=max(deadline.remaining(), 0.001), close_timeout=1.0, ping_interval=None,
                     max_size=MAX_SIZE, user_agent_header="statusgen") as socket:
            details["handshake_ms"] = round(deadline.elapsed_ms(), 1)
            if spec.send is not None:
                socket.send(spec.send)
            if spec.expect.wanted:
                failure = _await(socket, spec.expect, deadline, details)
                if failure:
                    return down(failure)
    except Exception as exc:  # noqa: BLE001 - every failure (library, TLS, socket) becomes a short reason
        error, code = _error(exc, deadline, timeout)
        return down(error, code)
    finally:
        deadline.close()
    return make_check(monitor, started, CheckStatus.UP, latency_ms=deadline.elapsed_ms(), details=details)


def _await(socket: Any, expect: ReplyExpect, deadline: Deadline, details: dict[str, Any]) -> str:
    """"" once a message meets ``expect``; else why not, within the deadline."""
    failure = ""
    for _ in range(MAX_MESSAGES):
        remaining = deadline.remaining()
        if remaining <= 0:
            break
        try:
            message = socket.recv(timeout=remaining)
        except TimeoutError:
            break
        details["message"] = shown(message)
        failure = unmet(expect, message)
        if not failure:
            details["round_trip_ms"] = round(deadline.elapsed_ms() - details["handshake_ms"], 1)
            return ""
    within = deadline.timed_out().removeprefix("timed out after ")
    return short(f"no matching message within {within}: {failure}" if failure else f"no message within {within}")


TYPE = ProbeType(name="websocket", doc="a WebSocket handshake succeeds and, optionally, a reply arrives",
                 spec=WebsocketSpec, keys=KEYS, probe=probe)
