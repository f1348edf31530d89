"""The websocket probe against a real ``websockets`` server on 127.0.0.1 (ws and wss)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from websockets.datastructures import Headers
from websockets.http11 import Response
from websockets.sync.server import ServerConnection, serve

from generator.models import CheckStatus, Monitor
from generator.probes import PROBES
from generator.probes.http_spec import JsonAssertion
from generator.probes.reply import ReplyExpect
from generator.probes.websocket import WebsocketSpec
from tests.support.servers import Certs, HangingServer, closed_port


def handler(connection: ServerConnection) -> None:
    """Greets, then answers: "ping" -> "pong", "status" -> JSON, "quiet" -> nothing, "bye" -> close 1011."""
    path = connection.request.path if connection.request else "/"
    if path == "/greet":
        connection.send("welcome")
    for message in connection:
        if message == "ping":
            connection.send("heartbeat")  # not the answer: the probe skips it
            connection.send("pong " + connection.request.headers.get("X-Probe", "-"))
        elif message == "status":
            connection.send(json.dumps({"status": "ok", "clients": 3}))
        elif message == "bye":
            connection.close(1011, "going away")
            return


def refuse_private(connection: ServerConnection, request) -> Response | None:
    if request.path == "/private":
        return Response(403, "Forbidden", Headers(), b"no")
    return None


@contextmanager
def ws_server(ssl_context=None) -> Iterator[int]:
    with serve(handler, "127.0.0.1", 0, ssl=ssl_context, process_request=refuse_private) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.socket.getsockname()[1]
        finally:
            server.shutdown()
            thread.join(timeout=5)


def ws(url: str, *, send: str | None = None, expect: ReplyExpect | None = None, timeout: float = 3.0,
       ca: str | None = None, headers=()):
    spec = WebsocketSpec(url=url, headers=headers, send=send, expect=expect or ReplyExpect(), ca_bundle=ca)
    return PROBES["websocket"](Monitor(id="ws", name="WS", type="websocket", spec=spec, timeout=timeout), timeout)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(tmp_path_factory.mktemp("wss"))


def test_handshake_alone_is_up():
    with ws_server() as port:
        check = ws(f"ws://127.0.0.1:{port}/")
    assert check.status is CheckStatus.UP, check.error
    assert check.details["handshake_ms"] < 3000


def test_send_and_expect_skips_messages_that_do_not_match():
    with ws_server() as port:
        check = ws(f"ws://127.0.0.1:{port}/", send="ping", expect=ReplyExpect(contains=("pong",)),
                   headers=(("X-Probe", "statusgen"),))
    assert check.status is CheckStatus.UP, check.error
    assert check.details["message"] == "pong statusgen"
    assert check.details["round_trip_ms"] >= 0


def test_regex_and_json_expectations():
    with ws_server() as port:
        ok = ws(f"ws://127.0.0.1:{port}/", send="status", expect=ReplyExpect(
            regex=r'"clients": \d+', json=(JsonAssertion(path="status", equals="ok", has_equals=True),)))
        wrong = ws(f"ws://127.0.0.1:{port}/", send="status", timeout=0.5, expect=ReplyExpect(
            json=(JsonAssertion(path="clients", equals=5, has_equals=True),)))
    assert ok.status is CheckStatus.UP, ok.error
    assert wrong.status is CheckStatus.DOWN
    assert wrong.error == "no matching message within 0.5s: json path clients: got 3, expected 5"


def test_a_pushed_greeting_without_send():
    with ws_server() as port:
        check = ws(f"ws://127.0.0.1:{port}/greet", expect=ReplyExpect(contains=("welcome",)))
    assert check.status is CheckStatus.UP, check.error


def test_no_reply_is_bounded_by_the_timeout():
    with ws_server() as port:
        started = time.monotonic()
        check = ws(f"ws://127.0.0.1:{port}/", send="quiet", expect=ReplyExpect(contains=("x",)), timeout=0.4)
        took = time.monotonic() - started
    assert check.status is CheckStatus.DOWN
    assert check.error == "no message within 0.4s"
    assert took < 2.0


def test_refused_handshake_closed_connection_and_refused_port():
    with ws_server() as port:
        refused = ws(f"ws://127.0.0.1:{port}/private")
        closed = ws(f"ws://127.0.0.1:{port}/", send="bye", expect=ReplyExpect(contains=("x",)))
    assert refused.status is CheckStatus.DOWN and refused.error == "handshake refused: HTTP 403"
    assert refused.code == 403
    assert closed.error == "connection closed by the server (1011 going away)"
    assert ws(f"ws://127.0.0.1:{closed_port()}/").error == "connection refused"


def test_a_server_that_never_answers_the_handshake():
    with HangingServer() as hang:
        started = time.monotonic()
        check = ws(f"ws://127.0.0.1:{hang.port}/", timeout=0.4)
        took = time.monotonic() - started
    assert check.status is CheckStatus.DOWN
    assert check.error == "timed out after 0.4s"
    assert took < 2.0


def test_wss_verifies_the_certificate(certs):
    with ws_server(certs.server_context(days=60)) as port:
        trusted = ws(f"wss://localhost:{port}/", send="ping", expect=ReplyExpect(contains=("pong",)),
                     ca=certs.ca_path)
        untrusted = ws(f"wss://localhost:{port}/")
    assert trusted.status is CheckStatus.UP, trusted.error
    assert untrusted.status is CheckStatus.DOWN
    assert untrusted.error.startswith("certificate invalid:")
