"""The restart agent over real HTTP on loopback: every security answer, the lock, the command's inputs."""

from __future__ import annotations

import json
import logging
import socket
import sys
import textwrap
import threading
import time
import uuid

import pytest
import requests

from generator import signing
from generator.agent import (
    AgentConfigError,
    load_agent_config,
    main,
    parse_listen,
    serve,
)
from generator.config import ConfigError

SECRET = "agent-test-secret-0123456789abcdef"

# a restart command that records its argv and STATUSGEN_* environment, and can be held open
RECORDER = textwrap.dedent(
    """
    import json, os, sys, time
    out, hold = sys.argv[1], sys.argv[2]
    deadline = time.time() + 10
    while os.path.exists(hold) and time.time() < deadline:
        time.sleep(0.02)
    env = {k: v for k, v in os.environ.items() if k.startswith("STATUSGEN_") or k == "AGENT_SECRET"}
    with open(out, "a") as handle:
        handle.write(json.dumps({"argv": sys.argv[1:], "env": env, "cwd": os.getcwd()}) + "\\n")
    """
)


@pytest.fixture
def agent(tmp_path, monkeypatch):
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER)
    runs = tmp_path / "runs.jsonl"
    hold = tmp_path / "hold"
    (tmp_path / "work").mkdir()
    config_file = tmp_path / "agent.yaml"
    config_file.write_text(
        textwrap.dedent(
            f"""
            secret: ${{AGENT_SECRET}}
            max_body: 4096
            monitors:
              web:
                command: [{json.dumps(sys.executable)}, {json.dumps(str(script))}, {json.dumps(str(runs))}, {json.dumps(str(hold))}]
                cwd: work
                timeout: 20s
            """
        )
    )
    monkeypatch.setenv("AGENT_SECRET", SECRET)
    config = load_agent_config(config_file)
    server = serve(config, "127.0.0.1", 0, background=True)
    server.runs_file = runs
    server.hold_file = hold
    server.work_dir = tmp_path / "work"
    yield server
    hold.unlink(missing_ok=True)
    server.agent.wait_idle(10)
    server.shutdown()
    server.server_close()


def event(monitor_id="web", attempt=1, **extra) -> bytes:
    document = {
        "event": "restart",
        "delivery": str(uuid.uuid4()),
        "attempt": attempt,
        "monitor": {"id": monitor_id, "name": "Web"},
        "incident": {"key": "7", "started": "2026-11-24T21:00:00Z"},
        "check": {"status": "down"},
    }
    document.update(extra)
    return json.dumps(document).encode()


def post(server, body: bytes, *, secret=SECRET, stamp=None, key=None, delivery=None, sign=True, headers=None):
    stamp = int(time.time()) if stamp is None else stamp
    sent = {
        signing.TIMESTAMP_HEADER: str(stamp),
        signing.DELIVERY_HEADER: delivery or str(uuid.uuid4()),
        signing.IDEMPOTENCY_HEADER: key or uuid.uuid4().hex,
        "Content-Type": "application/json",
    }
    if sign:
        sent[signing.SIGNATURE_HEADER] = signing.sign(secret, stamp, body)
    sent.update(headers or {})
    return requests.post(server.url, data=body, headers=sent, timeout=10)


def runs(server) -> list[dict]:
    if not server.runs_file.exists():
        return []
    return [json.loads(line) for line in server.runs_file.read_text().splitlines()]


def test_signed_request_runs_the_configured_command_with_details_in_env(agent):
    body = event(incident={"key": "7; rm -rf /", "started": "2026-11-24T21:00:00Z"})
    response = post(agent, body, key="idem-1", delivery="0b3c7a52-8f7e-4c55-9a4e-2f0d2d5f7f11")
    assert response.status_code == 202
    assert response.json() == {"delivery": "0b3c7a52-8f7e-4c55-9a4e-2f0d2d5f7f11", "monitor": "web", "status": "started"}
    assert agent.agent.wait_idle(10)
    [run] = runs(agent)
    # argv is exactly the configured list: nothing from the request
    assert run["argv"] == [str(agent.runs_file), str(agent.hold_file)]
    assert run["cwd"] == str(agent.work_dir.resolve())
    assert run["env"]["STATUSGEN_DELIVERY"] == "0b3c7a52-8f7e-4c55-9a4e-2f0d2d5f7f11"
    assert run["env"]["STATUSGEN_MONITOR"] == "web"
    assert run["env"]["STATUSGEN_IDEMPOTENCY_KEY"] == "idem-1"
    assert run["env"]["STATUSGEN_INCIDENT"] == "7; rm -rf /"  # data in env, never a shell
    assert run["env"]["STATUSGEN_ATTEMPT"] == "1"
    assert "AGENT_SECRET" not in run["env"]  # the key is not handed to the command
    assert agent.agent.history[-1].returncode == 0


@pytest.mark.parametrize(
    "case",
    ["wrong secret", "no signature", "tampered body", "stale", "future", "no timestamp", "garbage signature"],
)
def test_unauthenticated_requests_get_401_and_run_nothing(agent, case):
    body = event()
    now = int(time.time())
    if case == "wrong secret":
        response = post(agent, body, secret="not-the-agent-secret-at-all")
    elif case == "no signature":
        response = post(agent, body, sign=False)
    elif case == "tampered body":
        stamp = now
        signature = signing.sign(SECRET, stamp, body)
        response = post(agent, body.replace(b'"web"', b'"web" '), sign=False, stamp=stamp,
                        headers={signing.SIGNATURE_HEADER: signature})
    elif case == "stale":
        response = post(agent, body, stamp=now - 301)  # validly signed, replayed 5 minutes later
    elif case == "future":
        response = post(agent, body, stamp=now + 120)
    elif case == "no timestamp":
        response = requests.post(agent.url, data=body, headers={signing.SIGNATURE_HEADER: signing.sign(SECRET, now, body)}, timeout=10)
    else:
        response = post(agent, body, sign=False, headers={signing.SIGNATURE_HEADER: "sha256=" + "0" * 64})
    assert response.status_code == 401, response.text
    assert "unauthorized" in response.json()["error"]
    assert agent.agent.wait_idle(5) and runs(agent) == []


def test_a_timestamp_inside_the_window_is_accepted(agent):
    response = post(agent, event(), stamp=int(time.time()) - 240)
    assert response.status_code == 202


def test_unknown_monitor_is_404(agent):
    response = post(agent, event(monitor_id="db; reboot"))
    assert response.status_code == 404 and response.json()["error"] == "unknown monitor"
    assert runs(agent) == []


def test_oversized_body_is_413_before_the_signature_is_even_checked(agent):
    body = event(padding="x" * 8000)
    response = post(agent, body)
    assert response.status_code == 413
    assert runs(agent) == []


def test_wrong_method_is_405_and_health_is_200(agent):
    response = requests.get(agent.url, timeout=5)
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert requests.put(agent.url, data=b"x", timeout=5).status_code == 405
    assert requests.get(agent.url.replace("/restart", "/healthz"), timeout=5).json() == {"ok": True, "monitors": 1}
    assert requests.post(agent.url.replace("/restart", "/other"), data=b"{}", timeout=5).status_code == 404


def test_malformed_event_is_400(agent):
    assert post(agent, b"not json").status_code == 400
    assert post(agent, json.dumps({"event": "ping"}).encode()).status_code == 400


def test_one_restart_at_a_time_duplicates_share_the_delivery(agent):
    agent.hold_file.write_text("hold")  # the command waits while this file exists
    first = post(agent, event(), key="incident-7-attempt-1", delivery="11111111-1111-4111-8111-111111111111")
    assert first.status_code == 202 and first.json()["status"] == "started"

    # a concurrent retry of the same attempt (same Idempotency-Key, new delivery id): not run twice
    results = []

    def again():
        results.append(post(agent, event(), key="incident-7-attempt-1"))

    threads = [threading.Thread(target=again) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert [r.status_code for r in results] == [202] * 4
    assert {r.json()["delivery"] for r in results} == {"11111111-1111-4111-8111-111111111111"}
    assert {r.json()["status"] for r in results} == {"running"}

    # a different attempt while the first runs: refused
    busy = post(agent, event(attempt=2), key="incident-7-attempt-2")
    assert busy.status_code == 429 and busy.headers["Retry-After"]

    agent.hold_file.unlink()
    assert agent.agent.wait_idle(10)
    assert len(runs(agent)) == 1

    # the same key after it finished: answered, not re-run
    late = post(agent, event(), key="incident-7-attempt-1")
    assert late.status_code == 202 and late.json()["status"] == "done"
    assert late.json()["delivery"] == "11111111-1111-4111-8111-111111111111"
    # a new attempt after it finished runs again
    assert post(agent, event(attempt=2), key="incident-7-attempt-2").json()["status"] == "started"
    assert agent.agent.wait_idle(10) and len(runs(agent)) == 2


def test_every_request_is_logged_on_one_line_without_secrets(agent, caplog):
    caplog.set_level(logging.INFO, logger="statusgen.agent")
    post(agent, event(), key="log-1")
    post(agent, event(), secret="wrong-secret-wrong-secret")
    requests.get(agent.url, timeout=5)
    assert agent.agent.wait_idle(10)
    lines = [r.getMessage() for r in caplog.records if r.name == "statusgen.agent"]
    request_lines = [line for line in lines if " POST " in line or " GET " in line]
    assert len(request_lines) == 3
    assert " 202 monitor=web" in request_lines[0]
    assert " 401 " in request_lines[1] and "signature does not match" in request_lines[1]
    assert " 405 " in request_lines[2]
    assert any(line.startswith("restart finished monitor=web") for line in lines)
    assert all("\n" not in line and SECRET not in line for line in lines)


def test_main_raises_a_config_error_for_a_bad_config_or_argument(tmp_path):
    # main raises, the CLI's one wrapper turns a ConfigError into a message and exit code 2
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="cannot read") as info:
        main(["--config", str(missing)])
    assert isinstance(info.value, AgentConfigError)
    with pytest.raises(AgentConfigError, match="--listen 'nonsense': expected host:port"):
        main(["--config", str(missing), "--listen", "nonsense"])
    with pytest.raises(AgentConfigError, match="--config"):
        main([])


def test_parse_listen():
    assert parse_listen("127.0.0.1:9090") == ("127.0.0.1", 9090)
    assert parse_listen("[::1]:8080") == ("::1", 8080)
    assert parse_listen(":9000") == ("127.0.0.1", 9000)
    with pytest.raises(ValueError):
        parse_listen("localhost")


def test_an_ipv6_listen_address_binds_an_ipv6_socket(tmp_path, monkeypatch):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    config_file = tmp_path / "agent.yaml"
    config_file.write_text("secret: ${AGENT_SECRET}\nmonitors:\n  web: {command: [/bin/true]}\n")
    monkeypatch.setenv("AGENT_SECRET", SECRET)
    try:
        server = serve(load_agent_config(config_file), *parse_listen("[::1]:0"), background=True)
    except OSError as exc:  # a container without an IPv6 loopback
        pytest.skip(f"no IPv6 loopback: {exc}")
    try:
        assert server.url.startswith("http://[::1]:")
        assert requests.get(server.url.replace("/restart", "/healthz"), timeout=5).json() == {"ok": True, "monitors": 1}
    finally:
        server.shutdown()
        server.server_close()

