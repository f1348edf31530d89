"""The TLS probe against real handshakes with trustme certificates."""

from __future__ import annotations

import time

import pytest

from generator.models import CheckStatus, Monitor
from generator.probes import PROBES
from generator.probes.tls import TlsSpec
from tests.support.servers import Certs, HangingServer, TlsServer, closed_port


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(tmp_path_factory.mktemp("tls"))


def tls(port: int, ca: str | None, *, host: str = "127.0.0.1", server_name: str | None = None, timeout: float = 3.0):
    spec = TlsSpec(host=host, port=port, server_name=server_name, ca_bundle=ca, degraded_days=14, down_days=3)
    return PROBES["tls"](Monitor(id="cert", name="Cert", type="tls", spec=spec, timeout=timeout), timeout)


def test_valid_certificate_reports_days_left(certs):
    with TlsServer(certs.server_context(days=90)) as server:
        check = tls(server.port, certs.ca_path)
    assert check.status is CheckStatus.UP, check.error
    assert check.details["days_left"] in (89, 90)
    assert check.details["not_after"].endswith("Z")


def test_expiring_soon_is_degraded(certs):
    with TlsServer(certs.server_context(days=10.5)) as server:
        check = tls(server.port, certs.ca_path)
    assert check.status is CheckStatus.DEGRADED
    assert check.details["days_left"] == 10
    assert check.error.startswith("certificate expires in 10 days")


def test_nearly_expired_is_down(certs):
    with TlsServer(certs.server_context(days=1.5)) as server:
        check = tls(server.port, certs.ca_path)
    assert check.status is CheckStatus.DOWN
    assert check.details["days_left"] == 1


def test_expired_is_down_with_reason(certs):
    with TlsServer(certs.server_context(expired=True)) as server:
        check = tls(server.port, certs.ca_path)
    assert check.status is CheckStatus.DOWN
    assert check.error == "certificate invalid: certificate has expired"


def test_wrong_host_is_down(certs):
    with TlsServer(certs.server_context(("other.example",))) as server:
        check = tls(server.port, certs.ca_path, server_name="localhost")
    assert check.status is CheckStatus.DOWN
    assert check.error.startswith("certificate invalid: Hostname mismatch")


def test_server_name_overrides_host(certs):
    with TlsServer(certs.server_context(("status.example",), days=60)) as server:
        check = tls(server.port, certs.ca_path, server_name="status.example")
    assert check.status is CheckStatus.UP, check.error
    assert check.details["server_name"] == "status.example"


def test_untrusted_without_bundle_is_down(certs):
    with TlsServer(certs.server_context(days=90)) as server:
        check = tls(server.port, None)
    assert check.status is CheckStatus.DOWN
    assert check.error.startswith("certificate invalid:")


def test_missing_ca_bundle_and_refused(certs, tmp_path):
    check = tls(closed_port(), str(tmp_path / "nope.pem"))
    assert check.status is CheckStatus.DOWN and check.error.startswith("cannot load ca_bundle")
    check = tls(closed_port(), certs.ca_path)
    assert check.error == "connection refused"


def test_server_that_never_handshakes_is_bounded(certs):
    with HangingServer() as hang:
        start = time.monotonic()
        check = tls(hang.port, certs.ca_path, timeout=0.4)
        took = time.monotonic() - start
    assert check.status is CheckStatus.DOWN
    assert check.error == "timed out after 0.4s"
    assert took < 1.0
