"""The udp and ssh probes against small servers on 127.0.0.1 (and ssh against Debian's check_ssh)."""

from __future__ import annotations

import socket
import time

from generator.models import CheckStatus, Monitor
from generator.probes import PROBES
from generator.probes.command import CommandLine, CommandSpec
from generator.probes.reply import ReplyExpect
from generator.probes.ssh import SshSpec
from generator.probes.udp import UdpSpec
from tests.probes.loopback import TcpServer, UdpResponder, read_line
from tests.support.servers import HangingServer, closed_port

A2S_INFO = bytes.fromhex("ff ff ff ff 54") + b"Source Engine Query\x00"
A2S_REPLY = bytes.fromhex("ff ff ff ff 49 11") + b"statusgen arena\x00"


def udp_check(port: int, *, send: str | None = None, send_hex: str | None = None,
              expect: ReplyExpect | None = None, timeout: float = 2.0):
    spec = UdpSpec(host="127.0.0.1", port=port, send=send, send_hex=send_hex, expect=expect or ReplyExpect())
    return PROBES["udp"](Monitor(id="u", name="U", type="udp", spec=spec, timeout=timeout), timeout)


def ssh_check(port: int, version: str | None = None, timeout: float = 2.0):
    spec = SshSpec(host="127.0.0.1", port=port, version=version)
    return PROBES["ssh"](Monitor(id="s", name="S", type="ssh", spec=spec, timeout=timeout), timeout)


# --------------------------------------------------------------------------- udp


def test_udp_text_reply_skips_the_ones_that_do_not_match():
    with UdpResponder({b"ping": [b"busy", b"pong"]}) as server:
        check = udp_check(server.port, send="ping", expect=ReplyExpect(contains=("pong",)))
    assert check.status is CheckStatus.UP, check.error
    assert check.details["reply"] == "pong"


def test_udp_hex_payload_and_hex_expectation():
    with UdpResponder({A2S_INFO: [A2S_REPLY]}) as server:
        check = udp_check(server.port, send_hex=A2S_INFO.hex(" "), expect=ReplyExpect(hex="ff ff ff ff 49"))
        regex = udp_check(server.port, send_hex=A2S_INFO.hex(), expect=ReplyExpect(regex="statusgen arena"))
    assert check.status is CheckStatus.UP, check.error
    assert regex.status is CheckStatus.UP, regex.error
    assert server.received == [A2S_INFO, A2S_INFO]


def test_udp_no_reply_or_the_wrong_one_is_down_within_the_timeout():
    with UdpResponder({b"ping": [b"pang"]}) as server:
        started = time.monotonic()
        silent = udp_check(server.port, send="quiet", expect=ReplyExpect(contains=("pong",)), timeout=0.3)
        took = time.monotonic() - started
        wrong = udp_check(server.port, send="ping", expect=ReplyExpect(contains=("pong",)), timeout=0.3)
    assert silent.status is CheckStatus.DOWN and silent.error == "no reply within 0.3s"
    assert took < 1.5
    assert wrong.error == "no matching reply within 0.3s: reply does not contain 'pong'"
    assert wrong.details["reply"] == "pang"


def test_udp_without_expect_is_up_unless_the_port_is_unreachable():
    with UdpResponder({}) as server:
        silent = udp_check(server.port, send="metric:1|c")
    assert silent.status is CheckStatus.UP, silent.error
    port = closed_port()
    unreachable = udp_check(port, send="metric:1|c")
    assert unreachable.status is CheckStatus.DOWN
    assert unreachable.error == f"port unreachable: nothing listens on udp/{port}"


def test_udp_unresolvable_host():
    spec = UdpSpec(host="no-such-host.invalid", port=53)
    check = PROBES["udp"](Monitor(id="u", name="U", type="udp", spec=spec, timeout=1.0), 1.0)
    assert check.status is CheckStatus.DOWN and check.error.startswith("cannot resolve host")


# --------------------------------------------------------------------------- ssh


def banner_server(*lines: bytes) -> TcpServer:
    def handler(conn: socket.socket) -> None:
        for line in lines:
            conn.sendall(line)
        read_line(conn)  # the client's identification, then hang up
    return TcpServer(handler)


def test_ssh_identification_is_read_after_other_lines():
    with banner_server(b"Welcome to the bastion\r\n", b"SSH-2.0-OpenSSH_9.6p1 Debian-3\r\n") as server:
        check = ssh_check(server.port, version=r"OpenSSH_9\.")
    assert check.status is CheckStatus.UP, check.error
    assert check.details == {"identification": "SSH-2.0-OpenSSH_9.6p1 Debian-3", "software": "OpenSSH_9.6p1"}


def test_ssh_version_mismatch_old_protocol_and_not_ssh():
    with banner_server(b"SSH-2.0-dropbear_2022.83\r\n") as server:
        mismatch = ssh_check(server.port, version="OpenSSH")
    assert mismatch.status is CheckStatus.DOWN
    assert mismatch.error == "identification 'SSH-2.0-dropbear_2022.83' does not match /OpenSSH/"
    with banner_server(b"SSH-1.5-ancient\r\n") as server:
        assert ssh_check(server.port).error == "server speaks SSH protocol 1.5, not 2.0"
    with banner_server(b"220 mail.example ESMTP\r\n") as server:
        not_ssh = ssh_check(server.port, timeout=0.5)
    assert not_ssh.status is CheckStatus.DOWN


def test_ssh_refused_and_silent_server_bounded():
    assert ssh_check(closed_port()).error == "connection refused"
    with HangingServer() as hang:
        started = time.monotonic()
        check = ssh_check(hang.port, timeout=0.4)
        took = time.monotonic() - started
    assert check.error == "timed out after 0.4s"
    assert took < 1.5


def test_debian_check_ssh_agrees_through_a_command_monitor():
    with banner_server(b"SSH-2.0-OpenSSH_9.6p1 Debian-3\r\n") as server:
        spec = CommandSpec(command=CommandLine(argv=("check_ssh", "-H", "127.0.0.1", "-p", str(server.port))))
        check = PROBES["command"](Monitor(id="c", name="C", type="command", spec=spec, timeout=5.0), 5.0)
    assert check.status is CheckStatus.UP, check.error
    assert check.details["message"].startswith("SSH OK - OpenSSH_9.6p1")
