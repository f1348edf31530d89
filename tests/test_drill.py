"""The recovery drill: a real Mockoon dies, one ``statusgen run`` detects it, restarts it through a
real ``statusgen agent`` and resolves the incident in the same run -- with the files tracker and
with GitHub (the loopback emulator).

The :class:`Drill` harness is also what ``bench/recovery_drill.py`` times.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest

REPO = Path(__file__).resolve().parents[1]
MOCKOON_DIR = REPO / "tests" / "data" / "mockoon"
MOCKOON_CLI = REPO / "node_modules" / ".bin" / "mockoon-cli"
PYTHON = sys.executable
SECRET = "drill-secret-5f2a9c1e7b3d4a60"
MONITOR_ID = "mockoon"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_status(url: str, timeout: float = 1.0) -> Optional[int]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class Watcher:
    """Polls the service every 50 ms and notes the first moment it answers 200 after ``arm()``."""

    def __init__(self, url: str):
        self.url = url
        self.armed_at: Optional[float] = None
        self.first_up: Optional[float] = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def arm(self) -> None:
        self.armed_at, self.first_up = time.time(), None
        if not self._thread.is_alive():
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            if self.armed_at is not None and self.first_up is None and http_status(self.url, 0.5) == 200:
                self.first_up = time.time()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


@dataclass
class RunResult:
    code: int
    stdout: str
    stderr: str
    started: float  # wall clock, seconds
    ended: float


@dataclass
class Drill:
    """Mockoon + agent + a monitors.yaml pointing at both, in ``workdir``."""

    workdir: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    restart_extra: str = ""  # extra YAML lines in the restart block (e.g. a faster verify_every)
    service_port: int = 0
    agent_port: int = 0
    agent: Optional[subprocess.Popen] = None
    agent_log: Path = Path()
    killed_at: Optional[float] = None

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.service_port = free_port()
        self.agent_port = free_port()
        self.pids = self.workdir / "mockoon.pids"
        self.agent_log = self.workdir / "agent.log"
        self.data = self.workdir / "data"
        self.incidents = self.workdir / "incidents"
        self.incidents.mkdir(exist_ok=True)
        self.config = self.workdir / "monitors.yaml"
        self.health_url = f"http://127.0.0.1:{self.service_port}/health"

    # ------------------------------------------------------------------ set-up

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
        env.update({"AGENT_SECRET": SECRET, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"})
        env.update(self.env_extra)
        return env

    def restart_command(self) -> list[str]:
        return [PYTHON, str(MOCKOON_DIR / "start_mockoon.py"), "--port", str(self.service_port),
                "--pids", str(self.pids), "--log", str(self.workdir / "mockoon.log")]

    def start_service(self, timeout: float = 30.0) -> None:
        subprocess.run(self.restart_command(), check=True, timeout=30, env=self.env(), capture_output=True)
        if not wait_until(lambda: http_status(self.health_url) == 200, timeout):
            raise RuntimeError(f"Mockoon did not answer on {self.health_url}: {self._tail('mockoon.log')}")

    def start_agent(self, timeout: float = 20.0) -> None:
        agent_yaml = self.workdir / "agent.yaml"
        agent_yaml.write_text(
            "secret: ${AGENT_SECRET}\n"
            "monitors:\n"
            f"  {MONITOR_ID}:\n"
            f"    command: {json.dumps(self.restart_command())}\n"
            "    timeout: 30s\n"
        )
        self._agent_out = open(self.agent_log, "ab")
        self.agent = subprocess.Popen(
            [PYTHON, "-m", "generator", "agent", "--config", str(agent_yaml), "--listen", f"127.0.0.1:{self.agent_port}"],
            cwd=self.workdir, env=self.env(), stdin=subprocess.DEVNULL, stdout=self._agent_out, stderr=subprocess.STDOUT,
        )
        healthy = f"http://127.0.0.1:{self.agent_port}/healthz"
        if not wait_until(lambda: http_status(healthy) == 200 or self.agent.poll() is not None, timeout):
            raise RuntimeError(f"agent did not start: {self._tail('agent.log')}")
        if self.agent.poll() is not None:
            raise RuntimeError(f"agent exited {self.agent.returncode}: {self._tail('agent.log')}")

    def write_config(self) -> None:
        restart_lines = textwrap.indent(self.restart_extra.strip(), "      ") + "\n" if self.restart_extra.strip() else ""
        self.config.write_text(
            "site:\n  title: Drill\n"
            "monitors:\n"
            f"  - id: {MONITOR_ID}\n"
            "    name: Mock API\n"
            f"    url: {self.health_url}\n"
            "    restart:\n"
            f"      url: http://127.0.0.1:{self.agent_port}/restart\n"
            "      secret: ${AGENT_SECRET}\n" + restart_lines
        )

    def start(self) -> Drill:
        self.start_service()
        self.start_agent()
        self.write_config()
        return self

    # ------------------------------------------------------------------ the drill

    def kill_service(self) -> None:
        for pid in self._pids():
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not wait_until(lambda: http_status(self.health_url, 0.3) is None, 10):
            raise RuntimeError("Mockoon still answers after SIGKILL")
        self.killed_at = time.time()

    def run(self, *extra: str, timeout: float = 120.0) -> RunResult:
        started = time.time()
        process = subprocess.run(
            [PYTHON, "-m", "generator", "run", "--config", str(self.config), "--data", str(self.data),
             "--incidents", str(self.incidents), "--no-build", *extra],
            cwd=self.workdir, env=self.env(), capture_output=True, text=True, timeout=timeout,
        )
        return RunResult(process.returncode, process.stdout, process.stderr, started, time.time())

    def restarts(self) -> dict:
        path = self.data / "cache" / "restarts.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def agent_lines(self) -> list[str]:
        return self.agent_log.read_text(errors="replace").splitlines() if self.agent_log.exists() else []

    # ------------------------------------------------------------------ tear-down

    def _pids(self) -> list[int]:
        if not self.pids.exists():
            return []
        return [int(line) for line in self.pids.read_text().split() if line.strip().isdigit()]

    def _tail(self, name: str) -> str:
        path = self.workdir / name
        return path.read_text(errors="replace")[-1500:] if path.exists() else "(no log)"

    def close(self) -> None:
        for pid in self._pids():
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.agent is not None and self.agent.poll() is None:
            self.agent.terminate()
            try:
                self.agent.wait(10)
            except subprocess.TimeoutExpired:
                self.agent.kill()
                self.agent.wait(5)
        if getattr(self, "_agent_out", None):
            self._agent_out.close()


# --------------------------------------------------------------------------- the tests

needs_mockoon = pytest.mark.skipif(not MOCKOON_CLI.exists(), reason="npm tools not installed (npm ci)")


@pytest.fixture
def drill(tmp_path):
    made: list[Drill] = []

    def make(**kwargs) -> Drill:
        instance = Drill(tmp_path / f"drill{len(made)}", **kwargs)
        made.append(instance)
        return instance.start()

    yield make
    for instance in made:
        instance.close()


def _assert_restart_accepted(d: Drill) -> dict:
    ledger = d.restarts()[MONITOR_ID]
    [attempt] = ledger["log"]
    assert attempt["ok"] and attempt["status_code"] == 202 and attempt["attempt"] == 1, attempt
    assert attempt["time"].endswith("Z")
    lines = d.agent_lines()
    # the agent only answers 202 to a request whose signature and timestamp it verified
    accepted = [line for line in lines if f" 202 monitor={MONITOR_ID} delivery={attempt['delivery']}" in line]
    assert len(accepted) == 1, lines
    assert not any(" 401 " in line for line in lines)
    assert any(line.startswith(f"restart finished monitor={MONITOR_ID} delivery={attempt['delivery']} exit=0")
               for line in lines), lines
    assert SECRET not in "\n".join(lines)
    return attempt


@needs_mockoon
def test_drill_files_tracker(drill):
    from generator.incidents.files import FilesTracker

    d = drill()
    d.kill_service()
    result = d.run()
    assert result.code == 0, result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr

    attempt = _assert_restart_accepted(d)
    assert http_status(d.health_url) == 200  # Mockoon answers again

    incidents = FilesTracker(d.incidents).incidents()
    assert len(incidents) == 1, incidents
    [incident] = incidents
    assert incident.monitor_id == MONITOR_ID and incident.impact.value == "down"
    assert {"incident", "down", "critical", "resolved"} <= set(incident.labels), incident.labels
    assert incident.status == "resolved" and incident.resolved is not None
    assert incident.resolved.utcoffset().total_seconds() == 0
    kinds = [entry.kind for entry in incident.timeline]
    for kind in ("detected", "restart", "recovered", "resolved"):
        assert kind in kinds, kinds
    assert kinds.index("detected") < kinds.index("restart") < kinds.index("recovered") <= kinds.index("resolved")
    assert all(entry.time.utcoffset().total_seconds() == 0 for entry in incident.timeline)
    restart = incident.timeline[kinds.index("restart")]
    assert "HTTP 202" in restart.text and " UTC" in restart.text and attempt["delivery"] in restart.text
    assert "Recovered after the restart" in incident.timeline[kinds.index("recovered")].text or \
        "Recovered after restart" in incident.timeline[kinds.index("recovered")].text
    raw = next(d.incidents.glob("*.md")).read_text()
    assert SECRET not in raw

    # the next run, with the service up, changes nothing and sends no restart
    again = d.run()
    assert again.code == 0
    assert len(d.restarts()[MONITOR_ID]["log"]) == 1
    assert len(FilesTracker(d.incidents).incidents()) == 1


@needs_mockoon
def test_drill_github_tracker(drill):
    if not (REPO / "generator" / "incidents" / "github" / "tracker.py").exists():
        pytest.skip("generator/incidents/github/tracker.py is not written yet")
    from tests.support.github_emulator import GitHubEmulator

    with GitHubEmulator() as github:
        d = drill(env_extra={"GITHUB_TOKEN": github.token, "GITHUB_REPOSITORY": github.full_name,
                             "GITHUB_API_URL": github.url})
        d.kill_service()
        result = d.run()
        assert result.code == 0, result.stdout + result.stderr
        attempt = _assert_restart_accepted(d)
        assert http_status(d.health_url) == 200

        assert len(github.issues) == 1, list(github.issues.values())
        [issue] = github.issues.values()
        labels = set(github.issue_labels(issue.number))
        assert {"incident", "down", "critical", "resolved", f"monitor:{MONITOR_ID}"} <= labels, labels
        assert issue.state == "closed" and issue.closed_at is not None
        comments = [github.comments[cid].body for cid in issue.comments]
        text = "\n".join([issue.body or ""] + comments)
        assert "HTTP 202" in text and attempt["delivery"] in text and " UTC" in text
        assert "ecovered after" in text  # "Recovered after the restart" / "Recovered after restart"
        assert github.token not in text and SECRET not in text
        github.assert_valid()


@needs_mockoon
def test_drill_restart_refused_with_a_wrong_secret_is_reported_and_not_retried(drill, tmp_path):
    d = drill()
    d.config.write_text(d.config.read_text().replace("${AGENT_SECRET}", "not-the-agent-secret-1234"))
    d.kill_service()
    result = d.run()
    ledger = d.restarts()[MONITOR_ID]
    [attempt] = ledger["log"]
    assert not attempt["ok"] and attempt["status_code"] == 401 and attempt["tries"] == 1
    assert any(" 401 " in line and "signature does not match" in line for line in d.agent_lines())
    assert http_status(d.health_url) is None  # nobody restarted it
    from generator.incidents.files import FilesTracker

    [incident] = FilesTracker(d.incidents).incidents()
    assert incident.status == "open"
    restart = [e for e in incident.timeline if e.kind == "restart"]
    assert restart and "HTTP 401" in restart[0].text
    assert result.code == 0, result.stdout + result.stderr
