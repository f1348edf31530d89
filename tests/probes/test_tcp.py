"""The TCP probe against a real listener and a closed port."""

from __future__ import annotations

import socket
import time

from generator.models import CheckStatus, Monitor
from generator.probes import PROBES
from generator.probes.tcp import TcpSpec
from tests.support.servers import TcpListener, closed_port


def tcp(host: str, port: int, timeout: float = 2.0):
    monitor = Monitor(id="db", name="DB", type="tcp", spec=TcpSpec(host=host, port=port), timeout=timeout)
    return PROBES["tcp"](monitor, timeout)


def test_open_port_is_up():
    with TcpListener() as listener:
        check = tcp(listener.host, listener.port)
    assert check.status is CheckStatus.UP
    assert check.latency_ms is not None and check.latency_ms < 1000
    assert check.code is None


def test_closed_port_is_refused():
    check = tcp("127.0.0.1", closed_port())
    assert check.status is CheckStatus.DOWN
    assert check.error == "connection refused"


def test_connect_that_never_completes_is_bounded_by_timeout():
    # a listener that never accepts, its backlog already full: the next SYN is dropped
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            start = time.monotonic()
            check = tcp("127.0.0.1", port, timeout=0.3)
            took = time.monotonic() - start
    assert check.status is CheckStatus.DOWN
    assert check.error == "timed out after 0.3s"
    assert 0.25 <= took < 1.0


def test_unresolvable_host():
    check = tcp("no-such-host.invalid", 80, timeout=1.0)
    assert check.status is CheckStatus.DOWN
    assert check.error.startswith("cannot resolve host")
