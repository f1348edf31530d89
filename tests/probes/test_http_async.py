"""The async HTTP probe: every blocking-probe test again, through ``probe_async``; the environment read once.

The tests of :mod:`tests.probes.test_http` are collected here a second time with
their ``run`` helper pointed at the async probe (on one event loop with a run's
clients, as the runner calls it), so both probes keep the same semantics and the
same error texts. Below them, what only the async client has: the environment
read once per run (proxies, ``no_proxy``, CA bundle) and honoured.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

import pytest

from generator.models import Check, CheckStatus
from generator.probes import http as http_probe
from generator.probes.base import RUN_CLIENTS, RunClients
from generator.probes.http_client import HttpEnvironment
from generator.probes.http_spec import HttpExpect
from tests.probes import test_http as blocking
from tests.probes.test_http import *  # noqa: F403 - the same tests, collected again for the async probe
from tests.probes.test_http import http_monitor


def run_async(url: str, timeout: float = 3.0, **spec: Any) -> Check:
    async def one() -> Check:
        clients = RunClients()
        RUN_CLIENTS.set(clients)
        try:
            return await http_probe.probe_async(http_monitor(url, timeout, **spec), timeout)
        finally:
            await clients.aclose()

    return asyncio.run(one())


@pytest.fixture(autouse=True)
def through_async_probe(monkeypatch):
    monkeypatch.setattr(blocking, "run", run_async)


def test_async_probe_outside_a_run_makes_and_closes_its_own_client(server):
    check = asyncio.run(http_probe.probe_async(http_monitor(server.url("/ok")), 2.0))
    assert (check.status, check.code) == (CheckStatus.UP, 200)


def test_redirect_target_reported_only_after_a_redirect(server):
    assert "final_url" not in run_async(server.url("/ok")).details
    assert run_async(server.url("/redirect?to=/ok")).details["final_url"] == server.url("/ok")


def test_cookies_stay_within_one_check(server):
    server.route("/set-cookie", 302, headers=[("Set-Cookie", "session=abc; Path=/"), ("Location", "/headers")])
    followed = run_async(server.url("/set-cookie"), expect=HttpExpect(body_contains=("session=abc",)))
    assert followed.status is CheckStatus.UP, followed.error  # kept along the redirect chain, like requests
    later = run_async(server.url("/headers"), expect=HttpExpect(body_not_contains=("session=abc",)))
    assert later.status is CheckStatus.UP, later.error  # and not carried into the next check


def test_too_many_redirects_reads_as_before(server):
    server.route("/loop", 302, headers=[("Location", "/loop")])
    check = run_async(server.url("/loop"))
    blocking_check = blocking.PROBES["http"](http_monitor(server.url("/loop")), 3.0)
    assert check.status is CheckStatus.DOWN
    assert check.error == blocking_check.error == "TooManyRedirects: Exceeded 10 redirects."


# --------------------------------------------------------------------------- the environment, read once


class _ForwardProxy(BaseHTTPRequestHandler):
    """A plain HTTP proxy: answers absolute-form requests itself, saying which URL it was asked for."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        body = f"via proxy: {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def proxy():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ForwardProxy)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _env(monkeypatch, **values: Optional[str]) -> None:
    for key in [k for k in os.environ if k.lower().endswith("_proxy") or k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")]:
        monkeypatch.delenv(key)
    for key, value in values.items():
        if value is not None:
            monkeypatch.setenv(key, value)


def test_proxy_variables_are_honoured(monkeypatch, proxy, server):
    _env(monkeypatch, http_proxy=f"127.0.0.1:{proxy.server_port}")
    target = "http://status.example.invalid/health"
    check = run_async(target, expect=HttpExpect(body_contains=(f"via proxy: {target}",)))
    assert check.status is CheckStatus.UP, check.error
    assert proxy.seen == [target]


def test_no_proxy_bypasses_the_proxy(monkeypatch, proxy, server):
    _env(monkeypatch, HTTP_PROXY=f"http://127.0.0.1:{proxy.server_port}", NO_PROXY="localhost,127.0.0.0/8")
    check = run_async(server.url("/ok"), expect=HttpExpect(body_contains=("ok",)))
    assert check.status is CheckStatus.UP, check.error
    assert proxy.seen == []  # loopback is in no_proxy: straight to the server


def test_environment_is_read_once_per_run(monkeypatch, proxy, server):
    _env(monkeypatch, http_proxy=f"http://127.0.0.1:{proxy.server_port}")
    reads: list[HttpEnvironment] = []
    real_read = HttpEnvironment.read.__func__  # type: ignore[attr-defined]

    def counting(cls: type[HttpEnvironment], environ: Any = None) -> HttpEnvironment:
        reads.append(real_read(cls, environ))
        return reads[-1]

    monkeypatch.setattr(HttpEnvironment, "read", classmethod(counting))

    async def many() -> list[Check]:
        clients = RunClients()
        RUN_CLIENTS.set(clients)
        try:
            monitors = [http_monitor(f"http://svc-{i}.example.invalid/") for i in range(20)]
            checks = await asyncio.gather(*(http_probe.probe_async(m, 2.0) for m in monitors))
            monkeypatch.delenv("http_proxy")  # read once: a change mid-run is not seen by this run
            checks.append(await http_probe.probe_async(http_monitor("http://late.example.invalid/"), 2.0))
            return checks
        finally:
            await clients.aclose()

    checks = asyncio.run(many())
    assert all(c.status is CheckStatus.UP for c in checks), [c.error for c in checks if c.error]
    assert len(reads) == 1
    assert len(proxy.seen) == 21


def test_environment_answers_like_requests():
    env = HttpEnvironment.read({"HTTPS_PROXY": "proxy:3128", "all_proxy": "socks5://s:1080", "no_proxy": ".internal,10.0.0.0/8"})
    assert env.proxy_for("https://api.example.com/") == "http://proxy:3128"
    assert env.proxy_for("http://api.example.com/") == "socks5://s:1080"  # all_proxy for the rest
    assert env.proxy_for("https://db.internal/") is None
    assert env.proxy_for("http://10.1.2.3:8080/") is None
    assert env.blocking_only("http://api.example.com/")  # SOCKS: left to requests
    assert not env.blocking_only("https://api.example.com/")
    assert HttpEnvironment.read({"no_proxy": "*", "http_proxy": "p:1"}).proxy_for("http://x/") is None
    assert HttpEnvironment.read({}).proxy_for("http://x/") is None


def test_env_ca_bundle_is_used_for_verification(monkeypatch, https):
    srv, certs = https
    _env(monkeypatch, REQUESTS_CA_BUNDLE=certs.ca_path)
    assert run_async(srv.url("/ok")).status is CheckStatus.UP


def test_missing_ca_bundle_reads_as_requests_says_it(https):
    srv, _ = https
    check = run_async(srv.url("/ok"), ca_bundle="/nonexistent/ca.pem")
    blocking_check = blocking.PROBES["http"](http_monitor(srv.url("/ok"), ca_bundle="/nonexistent/ca.pem"), 3.0)
    assert check.status is CheckStatus.DOWN
    assert check.error == blocking_check.error


class _KeepAliveCounter:
    """Answers every request on a kept-alive connection and counts the connections it accepted."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.sock.settimeout(0.05)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        held = []
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            held.append(conn)
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()
        for conn in held:
            conn.close()

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            while not self.stop.is_set() and conn.recv(65536):
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok")
        except OSError:
            pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def test_every_check_opens_its_own_connection():
    counter = _KeepAliveCounter()
    try:

        async def three() -> list[Check]:
            clients = RunClients()
            RUN_CLIENTS.set(clients)
            try:
                url = f"http://127.0.0.1:{counter.port}/"
                return [await http_probe.probe_async(http_monitor(url), 2.0) for _ in range(3)]
            finally:
                await clients.aclose()

        checks = asyncio.run(three())
    finally:
        counter.close()
    assert [c.status for c in checks] == [CheckStatus.UP] * 3
    assert counter.accepted == 3  # the server would keep a connection alive; the client never reuses one
