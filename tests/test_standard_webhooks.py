"""Restart hooks are Standard Webhooks: receivers using the maintained ``standardwebhooks`` libraries
(PyPI in this process, npm through ``node``) accept our requests and reject tampered, stale and
replayed ones; ``statusgen agent`` does the same, and still accepts the deprecated headers."""

# ruff: noqa: F811 (pytest fixtures are imported, then named as parameters)
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from standardwebhooks import Webhook

from generator import signing
from generator.recovery import Recovery
from generator.timeutil import utcnow
from tests.agent.test_server import SECRET, agent, event  # noqa: F401 (fixture)
from tests.test_recovery import (
    Receiver,
    failing_check,
    make_history,
    monitor_with,
    no_sleep,
    open_state,
)

ROOT = Path(__file__).resolve().parents[1]
NODE_RECEIVER = ROOT / "tests" / "support" / "standardwebhooks_receiver.js"
RAW_SECRET = "s3cr3t-signing-key-0123"
WHSEC = "whsec_" + base64.b64encode(b"\x00\x01binary key bytes\xff").decode()


def sent(secret: str, *, clock: Callable[[], float] = time.time) -> dict:
    """One restart request as Recovery really sends it: {"headers", "body"}."""
    server = Receiver([202])
    try:
        with tempfile.TemporaryDirectory() as data:
            recovery = Recovery(make_history(Path(data)), sleep=no_sleep, wallclock=clock)
            recovery.attempt(monitor_with(server.url, secret=secret), open_state(), failing_check(), "42", utcnow())
        [request] = server.requests
        return {"headers": {k.lower(): v for k, v in request["headers"].items()}, "body": request["body"]}
    finally:
        server.close()


def cases(secret: str) -> list[dict]:
    """Ours, ours tampered, ours stale (signed ten minutes ago), ours again (a replay)."""
    ours = sent(secret)
    tampered = {"headers": ours["headers"], "body": ours["body"].replace(b'"attempt":1', b'"attempt":2')}
    assert tampered["body"] != ours["body"]
    stale = sent(secret, clock=lambda: time.time() - 600)
    return [ours, tampered, stale, ours]


def python_receiver(secret: str, requests_: list[dict]) -> list[str]:
    hook = Webhook(secret)
    seen: set[str] = set()
    verdicts = []
    for request in requests_:
        try:
            hook.verify(request["body"], request["headers"])
        except Exception as error:  # noqa: BLE001 (any refusal)
            verdicts.append(f"rejected: {error}")
            continue
        if request["headers"]["webhook-id"] in seen:
            verdicts.append("rejected: replayed webhook-id")
            continue
        seen.add(request["headers"]["webhook-id"])
        verdicts.append("accepted")
    return verdicts


def node_receiver(secret: str, requests_: list[dict]) -> list[str]:
    node = shutil.which("node")
    assert node, "node is needed for the npm standardwebhooks receiver (make npm-deps installs the package)"
    assert (ROOT / "node_modules" / "standardwebhooks").is_dir(), "npm package standardwebhooks missing: make npm-deps"
    stdin = json.dumps({"secret": secret, "requests": [
        {"headers": r["headers"], "body": base64.b64encode(r["body"]).decode()} for r in requests_]})
    done = subprocess.run([node, str(NODE_RECEIVER)], input=stdin, capture_output=True, text=True, cwd=ROOT,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("secret", [RAW_SECRET, WHSEC], ids=["plain-secret", "whsec-secret"])
@pytest.mark.parametrize("receiver", [python_receiver, node_receiver], ids=["pypi", "npm"])
def test_standardwebhooks_libraries_accept_ours_and_reject_tampered_stale_replayed(secret, receiver):
    verdicts = receiver(signing.standard_secret(secret), cases(secret))
    assert verdicts[0] == "accepted"
    assert verdicts[1].startswith("rejected") and "signature" in verdicts[1].lower()
    assert verdicts[2].startswith("rejected") and "old" in verdicts[2].lower()
    assert verdicts[3] == "rejected: replayed webhook-id"


def test_headers_follow_the_spec_and_keep_the_deprecated_pair():
    request = sent(RAW_SECRET)
    headers, body = request["headers"], request["body"]
    assert headers["webhook-id"] == headers[signing.DELIVERY_HEADER.lower()]
    stamp = headers["webhook-timestamp"]
    assert stamp == headers[signing.TIMESTAMP_HEADER.lower()] and stamp.isdigit()
    version, _, signature = headers["webhook-signature"].partition(",")
    assert version == "v1" and len(base64.b64decode(signature)) == 32
    assert signing.verify(RAW_SECRET, body, headers[signing.SIGNATURE_HEADER.lower()], stamp, now=float(stamp))
    assert signing.standard_secret(RAW_SECRET) == "whsec_" + base64.b64encode(RAW_SECRET.encode()).decode()
    assert signing.standard_secret(WHSEC) == WHSEC
    with pytest.raises(ValueError, match="base64"):
        signing.key_of("whsec_not base64!")


def standard_post(server, body: bytes, *, stamp: int | None = None, msg_id: str = "msg_1",
                  secret: str = SECRET) -> requests.Response:
    stamp = int(time.time()) if stamp is None else stamp
    headers = {signing.WEBHOOK_ID: msg_id, signing.WEBHOOK_TIMESTAMP: str(stamp),
               signing.WEBHOOK_SIGNATURE: signing.standard_signature(secret, msg_id, stamp, body),
               signing.IDEMPOTENCY_HEADER: msg_id, "Content-Type": "application/json"}
    return requests.post(server.url, data=body, headers=headers, timeout=10)


def test_the_agent_verifies_standard_webhooks_and_refuses_replays(agent):
    body = event()
    first = standard_post(agent, body, msg_id="msg_a")
    assert first.status_code == 202 and first.json()["status"] == "started"
    replay = requests.post(agent.url, data=body, headers=dict(first.request.headers), timeout=10)
    assert replay.status_code == 409 and "replayed" in replay.json()["error"]
    retry = standard_post(agent, body, msg_id="msg_a", stamp=int(time.time()) + 1)  # our sender's retry
    assert retry.status_code == 202 and retry.json()["status"] in ("running", "done")
    tampered = standard_post(agent, body, msg_id="msg_b")
    forged = requests.post(agent.url, data=body.replace(b"restart", b"restart "), timeout=10,
                           headers=dict(tampered.request.headers))
    assert forged.status_code == 401
    stale = standard_post(agent, event(), msg_id="msg_c", stamp=int(time.time()) - 400)
    assert stale.status_code == 401 and "old" in stale.json()["error"]
    wrong = standard_post(agent, event(), msg_id="msg_d", secret="another-secret-0123456789")
    assert wrong.status_code == 401


def test_the_agent_accepts_what_recovery_sends_with_only_the_standard_headers(agent):
    server_secret = SECRET
    request = sent(server_secret)
    body = request["body"].replace(b'"id":"api"', b'"id":"web"')  # a monitor the agent knows
    stamp = int(time.time())
    headers = signing.signed_headers(server_secret, "msg_e", stamp, body)
    for legacy in (signing.SIGNATURE_HEADER, signing.TIMESTAMP_HEADER):
        del headers[legacy]
    answer = requests.post(agent.url, data=body, headers={**headers, "Content-Type": "application/json"},
                           timeout=10)
    assert answer.status_code == 202, answer.text


@pytest.mark.parametrize("stamp", ["²", "１７００", "1700.0", "-1700", "1" * 13])
def test_signing_verify_refuses_timestamps_that_are_not_ascii_unix_seconds(stamp):
    """Every caller of signing.verify, not only the agent, gets a SignatureError, never a ValueError."""
    with pytest.raises(signing.SignatureError, match="not unix seconds"):
        signing.verify("a-long-enough-secret", b"{}", "sha256=00", stamp, now=time.time())
