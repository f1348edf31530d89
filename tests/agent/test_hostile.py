"""Issue 17, the restart agent: each attack as the red team ran it, against a real agent process."""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

import pytest

from generator import signing

from .live import SECRET, LiveAgent, post, restart_body, signed

TRACEBACK = "Traceback (most recent call last)"


def recorder(folder: Path) -> list[str]:
    """A command that appends one line per run, so runs can be counted."""
    script = folder / "record.py"
    script.write_text("import sys\nopen(sys.argv[1], 'a').write('ran\\n')\n")
    return [sys.executable, str(script), str(folder / "runs.txt")]


def runs(folder: Path, expected: int, wait: float = 10.0) -> int:
    deadline = time.monotonic() + wait
    count = 0
    while time.monotonic() < deadline:
        path = folder / "runs.txt"
        count = len(path.read_text().splitlines()) if path.exists() else 0
        if count >= expected:
            break
        time.sleep(0.05)
    return count


@pytest.fixture
def live(tmp_path):
    agents: list[LiveAgent] = []

    def make(command: list[str] | None = None, **kwargs) -> LiveAgent:
        agent = LiveAgent(tmp_path, command or recorder(tmp_path), **kwargs)
        agents.append(agent)
        return agent.start()

    yield make
    for agent in agents:
        agent.stop()


def raw(port: int, data: bytes, *, wait: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionError):
            pass
        return answer


def test_a_superscript_timestamp_is_a_400_not_a_dropped_connection_with_a_traceback(live):
    agent = live()
    body = restart_body()
    for name in (signing.WEBHOOK_TIMESTAMP, signing.TIMESTAMP_HEADER):
        headers = {**signed(body), name: "²"}
        response = post(agent.url, body, headers)
        assert response.status_code == 400 and "timestamp" in response.json()["error"]
    assert TRACEBACK not in agent.text()


def test_a_request_replayed_after_the_agent_restarts_does_not_run_again(live, tmp_path):
    first = live()
    body = restart_body()
    headers = signed(body)
    assert post(first.url, body, headers).status_code == 202
    assert runs(tmp_path, 1) == 1
    first.stop()
    second = live()  # a new process, a new port: only the state file remembers
    replay = post(second.url, body, headers)
    assert replay.status_code == 409
    legacy = {k: v for k, v in headers.items() if not k.startswith("webhook-")}
    assert post(second.url, body, legacy).status_code == 409  # the deprecated headers are remembered too
    time.sleep(0.5)
    assert runs(tmp_path, 2, wait=0.5) == 1
    fresh = restart_body()
    assert post(second.url, fresh, signed(fresh)).status_code == 202  # new deliveries still work
    assert runs(tmp_path, 2) == 2


def test_without_a_usable_state_file_requests_signed_before_the_start_are_refused(live, tmp_path):
    (tmp_path / "agent.state.json").write_text("{not json")
    agent = live()
    body = restart_body()
    stale = post(agent.url, body, signed(body, stamp=int(time.time()) - 30))
    assert stale.status_code == 409
    assert post(agent.url, body, signed(body)).status_code == 202
    assert "replay state" in agent.text() and TRACEBACK not in agent.text()


def test_a_command_printing_hundreds_of_megabytes_does_not_grow_the_agent(live, tmp_path):
    noisy = [sys.executable, "-c",
             "import sys\nblock = b'x' * (1 << 20)\nfor _ in range(300): sys.stdout.buffer.write(block)\n"
             "sys.stdout.buffer.write(b'the end')"]
    agent = live(noisy)
    before = agent.peak_rss_kb()
    body = restart_body()
    assert post(agent.url, body, signed(body)).status_code == 202
    deadline = time.monotonic() + 60
    while "restart finished" not in agent.text() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "the end" in agent.text()  # the tail is still logged
    assert agent.peak_rss_kb() - before < 50_000  # kB; reading all 300 MB back took 300+ MB
    assert not list(tmp_path.glob("tmp*"))


def test_a_trickling_client_is_cut_at_the_deadline_and_the_pool_answers_503(live):
    agent = live(extra="request_timeout: 1s\nmax_connections: 2\n")
    holders = [socket.create_connection(("127.0.0.1", agent.port), timeout=5) for _ in range(2)]
    for sock in holders:
        sock.sendall(b"POST /restart HTTP/1.1\r\n")
    time.sleep(0.2)
    busy = raw(agent.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert busy.startswith(b"HTTP/1.1 503")
    head, _, payload = busy.partition(b"\r\n\r\n")
    assert json.loads(payload) == {"error": "agent is busy"} and b"Content-Length: 27" in head
    began = time.monotonic()
    closed = False
    for line in range(20):  # one header line every 0.3 s, 6 s at most
        try:
            holders[0].sendall(f"X-Slow-{line}: 1\r\n".encode())
            holders[0].settimeout(0.3)
            if holders[0].recv(1024) == b"":
                closed = True
                break
        except TimeoutError:
            continue
        except ConnectionError:
            closed = True
            break
    assert closed and time.monotonic() - began < 3.0
    for sock in holders:
        sock.close()
    time.sleep(0.3)
    assert b" 200 " in raw(agent.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert TRACEBACK not in agent.text()


@pytest.mark.parametrize("framing", [
    {"Transfer-Encoding": "gzip, chunked"},
    {"Transfer-Encoding": "chunked"},
    {"Transfer-Encoding": "identity"},
])
def test_transfer_encoding_next_to_content_length_is_refused(live, tmp_path, framing):
    agent = live()
    body = restart_body()
    headers = {**signed(body), **framing, "Content-Length": str(len(body))}
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    answer = raw(agent.port, f"POST /restart HTTP/1.1\r\nHost: x\r\n{lines}\r\n".encode() + body)
    assert answer.startswith(b"HTTP/1.1 400")
    assert runs(tmp_path, 1, wait=0.3) == 0


@pytest.mark.parametrize("length", ["+12", "\u0661\u0662", "12, 12", "0x10", "-1"])
def test_a_content_length_that_is_not_ascii_digits_is_400(live, length):
    agent = live()
    answer = raw(agent.port, f"POST /restart HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 400")
    assert TRACEBACK not in agent.text()


def test_clients_that_hang_up_leave_no_broken_pipe_traceback(live):
    agent = live()
    body = restart_body()
    request = b"POST /restart HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 65536
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", agent.port), timeout=5) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            try:
                sock.sendall(request)
            except ConnectionError:
                pass
    assert post(agent.url, body, signed(body)).status_code == 202
    console = agent.text()
    assert TRACEBACK not in console and "BrokenPipe" not in console.replace("disconnected (BrokenPipeError)", "")


def test_an_environment_variable_holding_the_secret_inside_a_longer_value_is_not_passed(live, tmp_path):
    dump = tmp_path / "env.json"
    command = [sys.executable, "-c", f"import json, os; json.dump(dict(os.environ), open({str(dump)!r}, 'w'))"]
    agent = live(command, env={"DATABASE_URL": f"postgres://app:{SECRET}@db/app", "WRAPPED": f"x{SECRET[3:20]}y",
                               "KEEP_ME": "harmless"})
    body = restart_body()
    assert post(agent.url, body, signed(body)).status_code == 202
    deadline = time.monotonic() + 10
    while not dump.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    child = json.loads(dump.read_text())
    assert child["KEEP_ME"] == "harmless"
    assert "DATABASE_URL" not in child and "WRAPPED" not in child and "AGENT_SECRET" not in child
    assert not any(SECRET[:8] in value for value in child.values())
    console = agent.text()
    assert "not passing environment variable DATABASE_URL" in console and SECRET not in console


def hostile_requests(body: bytes) -> list[bytes]:
    good = signed(body)
    lines = "".join(f"{k}: {v}\r\n" for k, v in good.items())
    cases = [
        b"", b"\r\n\r\n", b"GET\r\n\r\n", b"POST / HTTP/9.9\r\n\r\n", b"\x00\xff\xfe garbage\r\n\r\n",
        b"POST /restart HTTP/1.1\r\n" + b"X: " + b"a" * 70000 + b"\r\n\r\n",
        b"POST /restart HTTP/1.1\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(200)) + b"\r\n",
        b"POST /restart HTTP/1.1\r\nContent-Length: 5\r\n\r\n[[[[[",
        b"POST /restart HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        b"POST /restart HTTP/1.1\r\nContent-Length: 10\r\nContent-Length: 11\r\n\r\n0123456789",
        b"POST /restart HTTP/1.1\r\nContent-Length: \xc2\xb2\r\n\r\n",
        b"POST /restart HTTP/1.1\r\nwebhook-signature: v1,\xff\r\nwebhook-id: \xc3\x28\r\n"
        b"webhook-timestamp: 1\r\nContent-Length: 2\r\n\r\n{}",
        b"POST /restart HTTP/1.1\r\nX-Statusgen-Signature-256: sha256=\xe2\x82\xac\r\n"
        b"X-Statusgen-Timestamp: 123\r\nContent-Length: 2\r\n\r\n{}",
        b"POST /restart?%zz HTTP/1.1\r\nwebhook-timestamp: \xd9\xa3\r\nContent-Length: 2\r\n\r\n{}",
        f"POST /restart HTTP/1.1\r\n{lines}Content-Length: {len(body)}\r\n\r\n".encode() + body[:10],
        b"OPTIONS * HTTP/1.1\r\n\r\n", b"HEAD /healthz HTTP/1.1\r\n\r\n", b"GET /" + b"%" * 5000 + b" HTTP/1.1\r\n\r\n",
    ]
    nested = b"[" * 100000
    cases.append(f"POST /restart HTTP/1.1\r\n{''.join(f'{k}: {v}' + chr(13) + chr(10) for k, v in signed(nested).items())}"
                 f"Content-Length: {len(nested)}\r\n\r\n".encode() + nested)
    return cases


def test_no_hostile_request_prints_a_traceback(live, tmp_path):
    agent = live(extra="request_timeout: 1s\nmax_body: 200000\n")
    rng = __import__("random").Random(17)
    cases = hostile_requests(restart_body())
    cases += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))) for _ in range(12)]
    for case in cases:  # bounded: each connection ends by itself within the 1 s deadline
        raw(agent.port, case, wait=3.0)
    answer = raw(agent.port, b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert b" 200 " in answer.split(b"\r\n")[0]
    assert TRACEBACK not in agent.text()
    assert runs(tmp_path, 1, wait=0.2) == 0
