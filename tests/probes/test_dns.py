"""The DNS probe against a real UDP responder on loopback."""

from __future__ import annotations

import time

import pytest

from generator.models import CheckStatus, Monitor
from generator.probes import PROBES
from generator.probes.dns import DnsSpec, parse_resolver
from tests.support.servers import DnsServer

ZONE = [
    ("www.test.", "A", "192.0.2.10"),
    ("www.test.", "A", "192.0.2.11"),
    ("www.test.", "AAAA", "2001:db8::1"),
    ("alias.test.", "CNAME", "www.test."),
    ("test.", "MX", "10 mail.test."),
    ("test.", "TXT", '"v=spf1 -all"'),
]


@pytest.fixture(scope="module")
def server():
    with DnsServer(ZONE, drop=["slow.test."]) as srv:
        yield srv


def dns(server, name, record_type="A", expect=(), match="any", timeout=2.0):
    spec = DnsSpec(name=name, record_type=record_type, resolver=server.address, expect=tuple(expect), match=match)
    return PROBES["dns"](Monitor(id="dns", name="DNS", type="dns", spec=spec, timeout=timeout), timeout)


def test_a_records_resolve(server):
    check = dns(server, "www.test")
    assert check.status is CheckStatus.UP, check.error
    assert sorted(check.details["records"]) == ["192.0.2.10", "192.0.2.11"]


@pytest.mark.parametrize(
    "rtype,expected",
    [("AAAA", "2001:DB8:0::1"), ("CNAME", "WWW.test"), ("MX", "10 mail.test."), ("MX", "mail.test"), ("TXT", "v=spf1 -all")],
)
def test_each_record_type_matches_normalised(server, rtype, expected):
    name = {"AAAA": "www.test", "CNAME": "alias.test"}.get(rtype, "test")
    check = dns(server, name, rtype, [expected])
    assert check.status is CheckStatus.UP, check.error


def test_match_any_and_all(server):
    assert dns(server, "www.test", expect=["192.0.2.99", "192.0.2.11"]).status is CheckStatus.UP
    check = dns(server, "www.test", expect=["192.0.2.10", "192.0.2.99"], match="all")
    assert check.status is CheckStatus.DOWN
    assert check.error.endswith("expected all of 192.0.2.99")
    assert dns(server, "www.test", expect=["192.0.2.10", "192.0.2.11"], match="all").status is CheckStatus.UP


def test_mismatch_is_down(server):
    check = dns(server, "www.test", expect=["198.51.100.1"])
    assert check.status is CheckStatus.DOWN
    assert "expected any of 198.51.100.1" in check.error


def test_nxdomain_is_down(server):
    check = dns(server, "gone.test")
    assert check.status is CheckStatus.DOWN
    assert check.error.startswith("NXDOMAIN: gone.test does not exist")


def test_no_records_of_type(server):
    check = dns(server, "alias.test", "MX")
    assert check.status is CheckStatus.DOWN
    assert check.error.startswith("no MX records for alias.test")


def test_timeout_is_bounded(server):
    start = time.monotonic()
    check = dns(server, "slow.test", timeout=0.5)
    assert time.monotonic() - start < 1.5
    assert check.status is CheckStatus.DOWN
    assert check.error.startswith("timed out after 0.5s")


def test_parse_resolver():
    assert parse_resolver("1.1.1.1") == ("1.1.1.1", 53)
    assert parse_resolver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_resolver("::1") == ("::1", 53)
    assert parse_resolver("[::1]:5353") == ("::1", 5353)
