"""tls with starttls: small servers on 127.0.0.1 speak just enough SMTP, IMAP, POP3, FTP and PostgreSQL
to upgrade, then hand the socket to a real TLS handshake with a trustme certificate."""

from __future__ import annotations

import socket
import ssl
import time

import pytest

from generator.models import CheckStatus, Monitor
from generator.probes import PROBES
from generator.probes.tls import TlsSpec
from tests.probes.loopback import TcpServer, read_line
from tests.support.servers import Certs


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(tmp_path_factory.mktemp("starttls"))


def handshake(conn: socket.socket, context: ssl.SSLContext) -> None:
    with context.wrap_socket(conn, server_side=True) as tls:
        tls.recv(1)  # until the probe hangs up


def smtp(context: ssl.SSLContext, *, offer: bool = True):
    def handler(conn: socket.socket) -> None:
        conn.sendall(b"220-mail.example ESMTP statusgen test\r\n220 no spam please\r\n")
        assert read_line(conn).startswith(b"EHLO ")
        conn.sendall(b"250-mail.example\r\n250-SIZE 10240000\r\n" + (b"250-STARTTLS\r\n" if offer else b"")
                     + b"250 8BITMIME\r\n")
        if read_line(conn) == b"STARTTLS\r\n":
            conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
            handshake(conn, context)
    return handler


def imap(context: ssl.SSLContext):
    def handler(conn: socket.socket) -> None:
        conn.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
        assert read_line(conn) == b"a1 STARTTLS\r\n"
        conn.sendall(b"a1 OK Begin TLS negotiation now\r\n")
        handshake(conn, context)
    return handler


def pop3(context: ssl.SSLContext):
    def handler(conn: socket.socket) -> None:
        conn.sendall(b"+OK POP3 ready\r\n")
        assert read_line(conn) == b"STLS\r\n"
        conn.sendall(b"+OK Begin TLS negotiation\r\n")
        handshake(conn, context)
    return handler


def ftp(context: ssl.SSLContext):
    def handler(conn: socket.socket) -> None:
        conn.sendall(b"220 FTP ready\r\n")
        assert read_line(conn) == b"AUTH TLS\r\n"
        conn.sendall(b"234 AUTH TLS successful\r\n")
        handshake(conn, context)
    return handler


def postgres(context: ssl.SSLContext, *, accept: bool = True):
    def handler(conn: socket.socket) -> None:
        request = conn.recv(8)
        assert request == bytes.fromhex("0000000804d2162f")
        conn.sendall(b"S" if accept else b"N")
        if accept:
            handshake(conn, context)
    return handler


def tls(port: int, protocol: str, ca: str, timeout: float = 3.0):
    spec = TlsSpec(host="127.0.0.1", port=port, ca_bundle=ca, starttls=protocol)
    return PROBES["tls"](Monitor(id="mail", name="Mail", type="tls", spec=spec, timeout=timeout), timeout)


@pytest.mark.parametrize("protocol", ["smtp", "imap", "pop3", "ftp", "postgres"])
def test_upgrade_then_certificate_checks(certs, protocol):
    handler = {"smtp": smtp, "imap": imap, "pop3": pop3, "ftp": ftp, "postgres": postgres}[protocol]
    with TcpServer(handler(certs.server_context(days=10.5))) as server:
        check = tls(server.port, protocol, certs.ca_path)
    assert not server.errors
    assert check.status is CheckStatus.DEGRADED, check.error  # 10 days left: the usual tls verdicts apply
    assert check.details["days_left"] == 10 and check.details["starttls"] == protocol


def test_an_expired_mail_certificate_is_down(certs):
    with TcpServer(smtp(certs.server_context(expired=True))) as server:
        check = tls(server.port, "smtp", certs.ca_path)
    assert check.status is CheckStatus.DOWN
    assert check.error == "certificate invalid: certificate has expired"


def test_a_server_that_does_not_offer_it(certs):
    with TcpServer(smtp(certs.server_context(days=90), offer=False)) as server:
        check = tls(server.port, "smtp", certs.ca_path)
    assert check.status is CheckStatus.DOWN
    assert check.error == "STARTTLS (smtp): the server does not offer STARTTLS"
    with TcpServer(postgres(certs.server_context(days=90), accept=False)) as server:
        check = tls(server.port, "postgres", certs.ca_path)
    assert check.error == "STARTTLS (postgres): the server does not accept TLS"


def test_the_wrong_protocol_and_a_silent_server_are_bounded(certs):
    with TcpServer(pop3(certs.server_context(days=90))) as server:
        check = tls(server.port, "imap", certs.ca_path, timeout=1.0)
    assert check.error == "STARTTLS (imap): greeting: +OK POP3 ready"

    def silent(conn: socket.socket) -> None:
        conn.recv(1)

    with TcpServer(silent) as server:
        started = time.monotonic()
        check = tls(server.port, "smtp", certs.ca_path, timeout=0.4)
        took = time.monotonic() - started
    assert check.status is CheckStatus.DOWN and check.error == "timed out after 0.4s"
    assert took < 1.5


def test_default_ports_follow_the_protocol():
    assert TlsSpec(host="mail.example", starttls="smtp").port == 587
    assert TlsSpec(host="mail.example", starttls="imap").port == 143
    assert TlsSpec(host="example.com").port == 443
    assert TlsSpec(host="mail.example", port=25, starttls="smtp").port == 25
