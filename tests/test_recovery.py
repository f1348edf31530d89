"""Restart webhooks against a real loopback receiver: body, signature, retries, cooldown, attempt limit."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from generator import __version__, secrets, signing
from generator.history import History
from generator.models import Check, CheckStatus, Impact, Monitor, MonitorState, RestartSpec, State
from generator.probes.tcp import TcpSpec
from generator.recovery import Recovery, RestartAttempt, TemplateError, render_body
from generator.timeutil import UTC


def make_history(path: Path) -> History:
    return History(path)


class Receiver:
    """A loopback HTTP server that records every request and answers from a script of status codes."""

    def __init__(self, codes=(202,)):
        self.codes = list(codes)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    code = outer.codes.pop(0) if len(outer.codes) > 1 else outer.codes[0]
                payload = json.dumps({"code": code}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/restart"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    servers = []

    def start(codes=(202,)):
        server = Receiver(codes)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


NOW = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)


def monitor_with(url: str, **restart) -> Monitor:
    return Monitor(
        id="api",
        name="Public API",
        type="tcp",
        spec=TcpSpec(host="127.0.0.1", port=1),
        restart=RestartSpec(url=url, **restart),
    )


def open_state(started=NOW, failures=3) -> MonitorState:
    return MonitorState(
        monitor_id="api",
        status=State.DOWN,
        since=started,
        consecutive_failures=failures,
        incident_open=True,
        incident_impact=Impact.DOWN,
        incident_started=started,
        incident_key="42",
    )


def failing_check(at=NOW) -> Check:
    return Check(monitor_id="api", time=at, status=CheckStatus.DOWN, latency_ms=12.5, code=503, error='HTTP 503 "busy"')


def no_sleep(seconds: float) -> None:
    pass


def test_standard_body_headers_and_signature(tmp_path, receiver):
    server = receiver([202])
    monitor = monitor_with(server.url, secret="s3cr3t-signing-key")
    recovery = Recovery(make_history(tmp_path), sleep=no_sleep)
    attempt = recovery.attempt(monitor, open_state(), failing_check(), "42", NOW)

    assert attempt.ok and attempt.status_code == 202 and attempt.tries == 1 and attempt.attempt == 1
    [request] = server.requests
    headers, body = request["headers"], request["body"]
    document = json.loads(body)
    assert document["event"] == "restart"
    assert document["monitor"] == {"id": "api", "name": "Public API", "type": "tcp"}
    assert document["incident"] == {"key": "42", "started": "2026-11-24T21:00:00Z"}
    assert document["attempt"] == 1 and document["time"].endswith("Z")
    assert document["check"]["status"] == "down" and document["check"]["code"] == 503
    assert document["check"]["error"] == 'HTTP 503 "busy"'
    assert headers["User-Agent"] == f"statusgen/{__version__}"
    assert headers["Content-Type"] == "application/json"
    assert headers[signing.DELIVERY_HEADER] == attempt.delivery == document["delivery"]
    assert headers[signing.IDEMPOTENCY_HEADER] == signing.idempotency_key("api", "2026-11-24T21:00:00Z", 1)
    # the signature covers the timestamp and the exact body bytes
    verified = signing.verify(
        "s3cr3t-signing-key",
        body,
        headers[signing.SIGNATURE_HEADER],
        headers[signing.TIMESTAMP_HEADER],
        now=float(headers[signing.TIMESTAMP_HEADER]),
    )
    assert verified.timestamp == int(headers[signing.TIMESTAMP_HEADER])
    with pytest.raises(signing.SignatureError):
        signing.verify("other-key", body, headers[signing.SIGNATURE_HEADER], headers[signing.TIMESTAMP_HEADER],
                       now=float(headers[signing.TIMESTAMP_HEADER]))


def test_no_secret_means_no_signature_header_and_user_headers_win(tmp_path, receiver):
    server = receiver([200])
    monitor = monitor_with(server.url, headers=(("Authorization", "Bearer tok-123456"), ("Content-Type", "application/vnd.api+json")))
    attempt = Recovery(make_history(tmp_path), sleep=no_sleep).attempt(monitor, open_state(), failing_check(), "42", NOW)
    assert attempt.ok
    headers = server.requests[0]["headers"]
    assert signing.SIGNATURE_HEADER not in headers
    assert headers["Authorization"] == "Bearer tok-123456"
    assert headers["Content-Type"] == "application/vnd.api+json"


def test_5xx_is_retried_with_backoff_then_succeeds_with_a_fresh_signature(tmp_path, receiver):
    server = receiver([503, 500, 202])
    slept: list[float] = []
    monitor = monitor_with(server.url, secret="k" * 20, timeout=10.0)
    attempt = Recovery(make_history(tmp_path), sleep=slept.append).attempt(monitor, open_state(), failing_check(), "42", NOW)
    assert attempt.ok and attempt.tries == 3 and attempt.status_code == 202
    assert slept == [0.5, 1.0]
    keys = {r["headers"][signing.IDEMPOTENCY_HEADER] for r in server.requests}
    deliveries = {r["headers"][signing.DELIVERY_HEADER] for r in server.requests}
    assert len(keys) == 1 and len(deliveries) == 1  # retries are the same delivery, recognisably
    for request in server.requests:
        signing.verify("k" * 20, request["body"], request["headers"][signing.SIGNATURE_HEADER],
                       request["headers"][signing.TIMESTAMP_HEADER], now=float(request["headers"][signing.TIMESTAMP_HEADER]))


def test_4xx_is_not_retried_and_is_reported(tmp_path, receiver):
    server = receiver([403])
    monitor = monitor_with(server.url)
    recovery = Recovery(make_history(tmp_path), sleep=no_sleep)
    attempt = recovery.attempt(monitor, open_state(), failing_check(), "42", NOW)
    assert not attempt.ok and attempt.tries == 1 and attempt.status_code == 403
    assert "HTTP 403" in attempt.error and not attempt.retried
    assert len(server.requests) == 1
    text = recovery.timeline_text(attempt)
    assert "Restart request failed" in text and "HTTP 403" in text and "2026-11-24 21:00:00 UTC" in text


def test_connection_refused_is_retried_within_budget_and_bounded(tmp_path, receiver):
    server = receiver([202])
    url = server.url
    server.close()  # nothing listens there now
    monitor = monitor_with(url, timeout=3.0)
    slept: list[float] = []
    attempt = Recovery(make_history(tmp_path), sleep=slept.append).attempt(monitor, open_state(), failing_check(), "42", NOW)
    assert not attempt.ok and attempt.status_code is None
    assert attempt.error == "connection refused" and attempt.retried
    assert 2 <= attempt.tries <= 6
    assert "connection refused" in Recovery.timeline_text(attempt)


def test_no_restart_storm_across_many_runs(tmp_path, receiver):
    """300 simulated runs, 1 minute apart, each a new process (new Recovery, new History)."""
    server = receiver([202])
    monitor = monitor_with(server.url, cooldown=600.0, max_attempts=3, after_failures=2)
    started = NOW
    sent_at: list[datetime] = []
    for run in range(300):
        now = started + timedelta(minutes=run)
        # the second incident opens at run 150, after the first one resolved
        incident_start = started if run < 150 else started + timedelta(minutes=150)
        failures = run + 1 if run < 150 else run - 149
        recovery = Recovery(make_history(tmp_path), clock=lambda: now, sleep=no_sleep)
        state = open_state(started=incident_start, failures=failures)
        if recovery.due(monitor, state, now):
            attempt = recovery.attempt(monitor, state, failing_check(now), "42", now)
            assert attempt.ok
            sent_at.append(now)

    # first incident: after_failures=2 delays the first attempt to run 1; 3 attempts, 10 minutes apart
    first = [t for t in sent_at if t < started + timedelta(minutes=150)]
    second = [t for t in sent_at if t >= started + timedelta(minutes=150)]
    assert [int((t - started).total_seconds() // 60) for t in first] == [1, 11, 21]
    assert [int((t - started).total_seconds() // 60) for t in second] == [151, 161, 171]
    assert len(server.requests) == 6
    bodies = [json.loads(r["body"]) for r in server.requests]
    assert [b["attempt"] for b in bodies] == [1, 2, 3, 1, 2, 3]
    assert len({r["headers"][signing.IDEMPOTENCY_HEADER] for r in server.requests}) == 6
    history = Recovery(make_history(tmp_path)).attempts_for("api")
    assert [a.attempt for a in history] == [1, 2, 3, 1, 2, 3]


def test_cooldown_spans_incidents_so_a_flapping_service_is_not_restarted_each_flap(tmp_path, receiver):
    server = receiver([202])
    monitor = monitor_with(server.url, cooldown=600.0, max_attempts=5)
    recovery = Recovery(make_history(tmp_path), sleep=no_sleep)
    recovery.attempt(monitor, open_state(started=NOW), failing_check(), "42", NOW)
    later = NOW + timedelta(minutes=3)
    assert not recovery.due(monitor, open_state(started=later), later)
    assert recovery.due(monitor, open_state(started=later), NOW + timedelta(minutes=10))


def test_due_needs_an_open_incident_and_enough_failures(tmp_path):
    monitor = monitor_with("http://127.0.0.1:9/x", after_failures=3)
    recovery = Recovery(make_history(tmp_path))
    assert not recovery.due(monitor, open_state(failures=2), NOW)
    assert recovery.due(monitor, open_state(failures=3), NOW)
    assert not recovery.due(monitor, open_state().evolve(incident_open=False), NOW)
    no_restart = Monitor(id="api", name="x", type="tcp", spec=TcpSpec("127.0.0.1", 1))
    assert not recovery.due(no_restart, open_state(), NOW)


def test_a_run_killed_mid_request_still_uses_up_the_attempt(tmp_path):
    class Dying:
        def request(self, *args, **kwargs):
            raise KeyboardInterrupt  # the process is being killed

    monitor = monitor_with("http://127.0.0.1:9/x", max_attempts=1)
    recovery = Recovery(make_history(tmp_path), session=Dying(), sleep=no_sleep)
    with pytest.raises(KeyboardInterrupt):
        recovery.attempt(monitor, open_state(), failing_check(), "42", NOW)
    fresh = Recovery(make_history(tmp_path))
    assert not fresh.due(monitor, open_state(), NOW + timedelta(hours=2))  # attempt limit reached
    assert fresh.attempts_for("api")[0].error == "pending"


def test_templates_dollar_style_escapes_json_and_jinja_is_sandboxed(tmp_path, receiver):
    values = {"monitor_id": "api", "error": 'bad "quote"\n', "attempt": 2}
    body = render_body('{"service": "$monitor_id", "why": "$error", "n": $attempt}', values)
    assert json.loads(body) == {"service": "api", "why": 'bad "quote"\n', "n": 2}
    assert render_body("restart $monitor_id now", values) == b"restart api now"
    assert render_body('{"m": {{ monitor_id | tojson }}, "n": {{ attempt }}}', values) == b'{"m": "api", "n": 2}'
    with pytest.raises(TemplateError, match="unknown placeholder"):
        render_body("$nope", values)
    with pytest.raises(TemplateError):
        render_body("{{ monitor_id.__class__.__mro__[1].__subclasses__() }}", values)

    server = receiver([204])
    monitor = monitor_with(server.url, body='{"svc": "$monitor_id", "attempt": $attempt}')
    attempt = Recovery(make_history(tmp_path), sleep=no_sleep).attempt(monitor, open_state(), failing_check(), "42", NOW)
    assert attempt.ok and json.loads(server.requests[0]["body"]) == {"svc": "api", "attempt": 1}

    broken = monitor_with(server.url, body="{{ nope }}")
    failed = Recovery(make_history(tmp_path / "b"), sleep=no_sleep).attempt(broken, open_state(), failing_check(), "42", NOW)
    assert not failed.ok and "template" in failed.error and len(server.requests) == 1


def test_secrets_never_reach_logs_or_timeline(tmp_path, receiver, caplog):
    token = "tok-SUPERSECRET-998877"
    secrets.register(token)
    try:
        server = receiver([401])
        monitor = monitor_with(server.url + f"?key={token}", headers=(("Authorization", f"Bearer {token}"),), secret=token)
        check = Check(monitor_id="api", time=NOW, status=CheckStatus.DOWN, error=f"refused for {token}")
        caplog.set_level(logging.DEBUG)
        recovery = Recovery(make_history(tmp_path), sleep=no_sleep)
        attempt = recovery.attempt(monitor, open_state(), check, "42", NOW)
        assert not attempt.ok
        assert token not in caplog.text and token not in recovery.timeline_text(attempt)
        assert token not in json.dumps(attempt.to_dict())
        assert token not in server.requests[0]["body"].decode()  # the check's error is masked in the body too
        cache = (tmp_path / "cache").rglob("*")
        assert all(token not in p.read_text() for p in cache if p.is_file())
    finally:
        secrets.clear()


def test_verify_stops_at_needed_consecutive_ups_and_is_bounded(tmp_path):
    monitor = monitor_with("http://127.0.0.1:9/x", verify_every=5.0, verify_for=60.0)
    statuses = iter([CheckStatus.DOWN, CheckStatus.UP, CheckStatus.DOWN, CheckStatus.UP, CheckStatus.UP, CheckStatus.UP])
    slept: list[float] = []

    def probe(m):
        return Check(monitor_id=m.id, time=NOW, status=next(statuses), latency_ms=3.0, code=200)

    recovery = Recovery(make_history(tmp_path), sleep=slept.append)
    checks = recovery.verify(monitor, probe, needed=2)
    assert [c.status for c in checks] == [CheckStatus.DOWN, CheckStatus.UP, CheckStatus.DOWN, CheckStatus.UP, CheckStatus.UP]
    assert len(slept) == 4 and all(4.0 < s <= 5.0 for s in slept)
    assert "Recovered after restart" in Recovery.verification_text(checks, needed=2)

    calls = []

    def never(m):
        calls.append(1)
        return Check(monitor_id=m.id, time=NOW, status=CheckStatus.DOWN, error="connection refused")

    checks = Recovery(make_history(tmp_path), sleep=no_sleep).verify(monitor, never, needed=1)
    assert len(checks) == len(calls) == 13  # one at once, then every 5 s for 60 s
    assert "Still failing after restart" in Recovery.verification_text(checks)


def test_timeline_text_of_a_success_and_attempt_round_trip(tmp_path, receiver):
    server = receiver([202])
    recovery = Recovery(make_history(tmp_path), sleep=no_sleep)
    attempt = recovery.attempt(monitor_with(server.url), open_state(), failing_check(), "42", NOW)
    text = recovery.timeline_text(attempt)
    assert text.startswith("**Restart requested** (attempt 1 of 3) at 2026-11-24 21:00:00 UTC: HTTP 202 in ")
    assert " ms." in text
    assert RestartAttempt.from_dict(attempt.to_dict()) == attempt
    entry = recovery.timeline_entry(attempt)
    assert entry.kind == "restart" and entry.time == NOW
