"""The HTTP probe against a real threaded server on loopback."""

from __future__ import annotations

import json
import time
import warnings

import pytest

from generator import secrets
from generator.models import CheckStatus, Monitor
from generator.probes import PROBES
from generator.probes.http import parse_path
from generator.probes.http_spec import HttpExpect, HttpSpec, JsonAssertion
from tests.support.servers import Certs, HangingServer, HttpServer, closed_port


def http_monitor(url: str, timeout: float = 3.0, **spec) -> Monitor:
    expect = spec.pop("expect", HttpExpect())
    return Monitor(id="web", name="Web", type="http", spec=HttpSpec(url=url, expect=expect, **spec), timeout=timeout)


def run(url: str, timeout: float = 3.0, **spec):
    return PROBES["http"](http_monitor(url, timeout, **spec), timeout)


@pytest.fixture(scope="module")
def server():
    with HttpServer() as srv:
        yield srv


def test_up_with_code_and_latency(server):
    check = run(server.url("/ok"))
    assert check.status is CheckStatus.UP, check.error
    assert check.code == 200
    assert check.latency_ms is not None and check.latency_ms >= 0
    assert check.monitor_id == "web" and check.time.tzinfo is not None


def test_status_outside_ranges_is_down(server):
    check = run(server.url("/status/503"))
    assert check.status is CheckStatus.DOWN
    assert check.code == 503
    assert check.error == "status 503 not in 200-399"


def test_custom_status_ranges(server):
    expect = HttpExpect(status=((200, 200), (404, 404)))
    assert run(server.url("/status/404"), expect=expect).status is CheckStatus.UP
    check = run(server.url("/status/201"), expect=expect)
    assert check.error == "status 201 not in 200, 404"


def test_connection_refused():
    check = run(f"http://127.0.0.1:{closed_port()}/")
    assert check.status is CheckStatus.DOWN
    assert check.error == "connection refused"


def test_hanging_server_bounded_by_timeout():
    with HangingServer() as hang:
        start = time.monotonic()
        check = run(hang.url("/"), timeout=0.5)
        took = time.monotonic() - start
    assert check.status is CheckStatus.DOWN
    assert check.error == "timed out after 0.5s"
    assert 0.45 <= took < 1.5


def test_trickling_body_cannot_stretch_the_deadline(server):
    # 50 bytes, one every 100 ms = 5 s in all; each read answers well inside a per-read timeout
    start = time.monotonic()
    check = run(server.url("/trickle?bytes=50&interval_ms=100"), timeout=1.0)
    took = time.monotonic() - start
    assert check.status is CheckStatus.DOWN
    assert check.error == "timed out after 1.0s"
    assert took < 1.8


def test_slow_answer_is_degraded_after_threshold(server):
    check = run(server.url("/slow?ms=300"), expect=HttpExpect(degraded_after=0.1))
    assert check.status is CheckStatus.DEGRADED
    assert check.error.startswith("slow: ") and "> 100 ms" in check.error
    assert run(server.url("/ok"), expect=HttpExpect(degraded_after=2.0)).status is CheckStatus.UP


def test_body_contains_and_not_contains(server):
    url = server.url("/body")
    assert run(url, expect=HttpExpect(body_contains=("Welcome",))).status is CheckStatus.UP
    check = run(server.url("/body?text=Maintenance"), expect=HttpExpect(body_contains=("Welcome",)))
    assert check.status is CheckStatus.DOWN
    assert check.error == "body does not contain 'Welcome'"
    check = run(url, expect=HttpExpect(body_not_contains=("statusgen",)))
    assert check.error == "body contains 'statusgen'"
    assert run(url, expect=HttpExpect(body_not_contains=("error",))).status is CheckStatus.UP


def test_body_regex(server):
    url = server.url("/body")
    assert run(url, expect=HttpExpect(body_regex=r"test\s+server$")).status is CheckStatus.UP
    check = run(url, expect=HttpExpect(body_regex=r"^\d+$"))
    assert check.status is CheckStatus.DOWN
    assert check.error == r"body does not match /^\d+$/"


def test_json_path_assertions(server):
    url = server.url("/json")
    passing = (
        JsonAssertion(path="status", equals="ok", has_equals=True),
        JsonAssertion(path="data.items[0].ok", equals=True, has_equals=True),
        JsonAssertion(path="data.id", equals=7, has_equals=True),
        JsonAssertion(path="data.none", equals=None, has_equals=True),
        JsonAssertion(path="data.name", exists=True),
        JsonAssertion(path="data.secret", exists=False),
    )
    assert run(url, expect=HttpExpect(json=passing)).status is CheckStatus.UP
    cases = {
        JsonAssertion(path="data.missing"): "json path data.missing: missing",
        JsonAssertion(path="data.items[5].ok", exists=True): "json path data.items[5].ok: missing",
        JsonAssertion(path="data.items[1].ok", equals=True, has_equals=True): "json path data.items[1].ok: got false, expected true",
        JsonAssertion(path="data.id", equals=True, has_equals=True): "json path data.id: got 7, expected true",
        JsonAssertion(path="data.name", exists=False): "json path data.name: present, expected absent",
    }
    for assertion, error in cases.items():
        check = run(url, expect=HttpExpect(json=(assertion,)))
        assert (check.status, check.error) == (CheckStatus.DOWN, error)


def test_json_expected_but_body_is_not_json(server):
    check = run(server.url("/body"), expect=HttpExpect(json=(JsonAssertion(path="status"),)))
    assert check.error == "body is not valid JSON"


def test_parse_path():
    assert parse_path("data.items[0].ok") == ["data", "items", 0, "ok"]
    assert parse_path("[2]") == [2]
    with pytest.raises(ValueError):
        parse_path("a[x]")


def test_body_is_read_bounded(server):
    check = run(server.url("/big?bytes=3000000"), expect=HttpExpect(body_contains=("zzz",)))
    assert check.status is CheckStatus.DOWN
    assert check.details.get("body_truncated") is True


def test_method_headers_and_body_are_sent(server):
    check = run(
        server.url("/echo"),
        method="post",
        headers=(("X-Probe", "statusgen"),),
        body='{"ping": 1}',
        expect=HttpExpect(
            json=(
                JsonAssertion(path="method", equals="POST", has_equals=True),
                JsonAssertion(path="headers.X-Probe", equals="statusgen", has_equals=True),
                JsonAssertion(path="body", equals='{"ping": 1}', has_equals=True),
            )
        ),
    )
    assert check.status is CheckStatus.UP, check.error


def test_redirects_followed_or_not(server):
    url = server.url("/redirect?to=/status/500")
    followed = run(url)
    assert (followed.status, followed.code) == (CheckStatus.DOWN, 500)
    assert followed.details["final_url"].endswith("/status/500")
    kept = run(url, follow_redirects=False)
    assert (kept.status, kept.code) == (CheckStatus.UP, 302)


def test_secret_is_masked_in_errors(server):
    secrets.register("hunter2-token")
    try:
        check = run(server.url("/body?text=nope"), expect=HttpExpect(body_contains=("hunter2-token",)))
        assert check.status is CheckStatus.DOWN
        assert "hunter2-token" not in check.error and "***" in check.error
    finally:
        secrets.clear()


@pytest.fixture(scope="module")
def https(tmp_path_factory):
    certs = Certs(tmp_path_factory.mktemp("ca"))
    with HttpServer(ssl_context=certs.server_context()) as srv:
        yield srv, certs


def test_https_with_ca_bundle(https):
    srv, certs = https
    assert run(srv.url("/ok"), ca_bundle=certs.ca_path).status is CheckStatus.UP


def test_https_untrusted_is_down(https):
    srv, _ = https
    check = run(srv.url("/ok"))
    assert check.status is CheckStatus.DOWN
    assert check.error.startswith("certificate invalid:")


def test_https_verify_opt_out_is_up_and_quiet(https):
    srv, _ = https
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check = run(srv.url("/ok"), verify_tls=False)
    assert check.status is CheckStatus.UP, check.error
    assert not [w for w in caught if "Unverified HTTPS" in str(w.message)]


def test_json_doc_query(server):
    doc = json.dumps({"a": [1, {"b": "c"}]})
    expect = HttpExpect(json=(JsonAssertion(path="a[1].b", equals="c", has_equals=True),))
    assert run(server.url(f"/json?doc={doc}"), expect=expect).status is CheckStatus.UP


# --------------------------------------------------------------------------- bounded regular expressions


def test_the_reported_backtracking_regex_answers_at_once():
    from generator.probes.http import evaluate

    started = time.monotonic()
    failure = evaluate(HttpExpect(body_regex="^(a+)+$"), 200, b"a" * 40 + b"!", None, seconds=2.0)
    assert failure == "body does not match /^(a+)+$/"
    assert time.monotonic() - started < 1.0


def test_a_slow_regex_gives_up_when_its_time_is_up():
    from generator.probes.http import evaluate

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        evaluate(HttpExpect(body_regex="(a|aa)+$"), 200, b"a" * 60 + b"!", None, seconds=0.2)
    assert time.monotonic() - started < 30  # the engine checks its clock now and then, not at every step


def test_a_slow_regex_is_a_down_check_not_a_hang(server):
    server.route("/as", body="a" * 60 + "!")
    started = time.monotonic()
    check = run(server.url("/as"), timeout=1.0, expect=HttpExpect(body_regex="(a|aa)+$"))
    assert check.status is CheckStatus.DOWN
    assert check.error == "timed out after 1.0s (matching body_regex)"
    assert time.monotonic() - started < 30
